import { Capacity } from "../../../src/protection/bounded-table";
import { hashKey, KeyIndex, MAX_KEY_CHARS } from "../../../src/protection/key-index";
import { DestinationCounters, MemoryStoreFullError } from "../../../src/protection/memory-counters";
import { PAGE_SLOTS } from "../../../src/protection/paged";
import { keysOfEveryLength, seededBelow as prng } from "../../helpers/throttle";

/** `count` keys whose home place in an index of `size` places is `home`. */
function keysAt(home: number, size: number, count: number, prefix: string): string[] {
  const keys: string[] = [];
  for (let i = 0; keys.length < count; i++)
    if ((hashKey(`${prefix}${i}`) & (size - 1)) === home) keys.push(`${prefix}${i}`);
  return keys;
}

/** Adds `key` (absent) at `slot`. */
function put(index: KeyIndex, key: string, slot: number): void {
  expect(index.find(key)).toBe(-1);
  index.insert(slot);
}

describe("KeyIndex (DestinationCounters' keys off the heap: a packed key column, an open-addressing index)", () => {
  // 8 slots: an index of 16 places.
  const SLOTS = 8;
  const PLACES = 16;

  it("keys sharing a home place fill one probe run; each is found at its own slot", () => {
    const index = new KeyIndex(SLOTS);
    const keys = keysAt(5, PLACES, SLOTS, "a");
    keys.forEach((key, slot) => put(index, key, slot));
    expect(index.size).toBe(SLOTS);
    keys.forEach((key, slot) => expect(index.find(key)).toBe(slot));
    expect(index.find("absent")).toBe(-1);
  });

  it("a delete in the middle of a probe run shifts the rest back: the later keys stay findable", () => {
    const index = new KeyIndex(SLOTS);
    // A run from place 14 wrapping past the end: two keys at home 14, one at 15, two at 0, one at 1 (by insert order
    // they sit at 14, 15, 0, 1, 2, 3); then the keys from the run's middle are deleted, one by one.
    const [a, b] = keysAt(14, PLACES, 2, "h14-");
    const [c] = keysAt(15, PLACES, 1, "h15-");
    const [d, e] = keysAt(0, PLACES, 2, "h0-");
    const [f] = keysAt(1, PLACES, 1, "h1-");
    const keys = [a, b, c, d, e, f];
    keys.forEach((key, slot) => put(index, key, slot));
    const left = new Map(keys.map((key, slot) => [key, slot]));
    for (const gone of [b, d, a, f, e, c]) {
      index.remove(left.get(gone)!);
      left.delete(gone);
      expect(index.find(gone)).toBe(-1);
      for (const [key, slot] of left) expect(index.find(key)).toBe(slot);
      expect(index.size).toBe(left.size);
    }
  });

  it("a key whose home is after the hole is not moved before its home", () => {
    const index = new KeyIndex(SLOTS);
    // x at 3 (home 3), y at 4 (home 3), z at 5 (home 5): deleting x moves y back to 3, never z (its home is 5).
    const [x, y] = keysAt(3, PLACES, 2, "m3-");
    const [z] = keysAt(5, PLACES, 1, "m5-");
    const [w] = keysAt(4, PLACES, 1, "m4-");
    put(index, x, 0);
    put(index, y, 1);
    put(index, w, 2); // home 4, taken by y: at 5
    put(index, z, 3); // home 5, taken by w: at 6
    index.remove(0);
    expect([y, w, z].map((k) => index.find(k))).toEqual([1, 2, 3]);
    index.remove(2);
    expect([y, z].map((k) => index.find(k))).toEqual([1, 3]);
  });

  it("a freed slot takes another key; the old key is gone, the new one found", () => {
    const index = new KeyIndex(SLOTS);
    const keys = keysAt(9, PLACES, 4, "r");
    keys.forEach((key, slot) => put(index, key, slot));
    index.remove(1);
    expect(index.holds(1)).toBe(false);
    put(index, "fresh", 1);
    expect(index.holds(1)).toBe(true);
    expect(index.find(keys[1])).toBe(-1);
    expect(index.find("fresh")).toBe(1);
    [0, 2, 3].forEach((slot) => expect(index.find(keys[slot])).toBe(slot));
    // Put back at another slot, it is found there.
    index.remove(1);
    put(index, keys[1], 1);
    expect(index.find(keys[1])).toBe(1);
  });

  it("grows by doubling across many sizes: every key found after each rebuild", () => {
    const index = new KeyIndex(2);
    const keys: string[] = [];
    for (let slot = 0; slot < 5_000; slot++) {
      if (slot === index.slots) {
        index.grow(index.slots * 2);
        const lost = keys.filter((key, s) => index.find(key) !== s);
        expect(lost).toEqual([]);
      }
      keys.push(`k${slot}`);
      put(index, keys[slot], slot);
    }
    expect(index.slots).toBe(8_192);
    keys.forEach((key, s) => expect(index.find(key)).toBe(s));
    expect(index.find("k5000")).toBe(-1);
  });

  it("holds keys up to MAX_KEY_CHARS (44) ASCII characters; refuses longer or non-ASCII ones with a RangeError", () => {
    const index = new KeyIndex(SLOTS);
    const long = "x".repeat(MAX_KEY_CHARS - 1);
    // An HMAC-SHA256 in base64url (key-hasher.ts): 43 characters.
    const keys = ["", "\u0000", "a", "a\u0000", `${long}a`, `${long}b`, long, "\u007f"];
    keys.forEach((key, slot) => put(index, key, slot));
    keys.forEach((key, slot) => expect(index.find(key)).toBe(slot));
    expect(() => index.find("y".repeat(MAX_KEY_CHARS + 1))).toThrow(RangeError);
    expect(() => index.find(`${"z".repeat(MAX_KEY_CHARS)}a`)).toThrow(/at most 44 characters/);
    for (const key of ["é", "k\u0080", "\u{1F600}", `${long}\u0100`]) expect(() => index.find(key)).toThrow(/ASCII/);
    // A refused key leaves nothing to insert, and the others as they were.
    expect(() => index.insert(0)).toThrow(/no absent key/);
    keys.forEach((key, slot) => expect(index.find(key)).toBe(slot));
  });

  it("insert adds only a key found absent, once", () => {
    const index = new KeyIndex(SLOTS);
    put(index, "k1", 0);
    expect(() => index.insert(1)).toThrow(/no absent key/);
    expect(index.find("k1")).toBe(0);
    expect(() => index.insert(1)).toThrow(/no absent key/);
    expect(index.size).toBe(1);
  });

  it("spreads similar keys over the places (a mix of every word, not the first word's alone)", () => {
    // 4,096 keys "k0".."k4095" into 4,096 places: a random hash leaves about 1 - 1/e (63%) of the places used; one of
    // the first word alone ("k409" for "k4090".."k4095") would use about 1,110.
    const homes = new Set<number>();
    for (let i = 0; i < 4_096; i++) homes.add(hashKey(`k${i}`) & 4_095);
    expect(homes.size).toBeGreaterThan(0.58 * 4_096);
    // The later words count: keys differing in their last character only.
    const tails = new Set<number>();
    for (let i = 0; i < 64; i++) tails.add(hashKey(`${"q".repeat(42)}${String.fromCharCode(48 + i)}`) & 1_023);
    expect(tails.size).toBeGreaterThan(55);
  });

  /**
   * Random inserts and removes against a Map, every pool key (or a sample, with `every` the steps between full
   * checks) found at its slot or absent at each step, and now and then a fresh index rebuilt from the model (a new
   * history, the same keys). `grow` is the slots a full index of `slots` grows to.
   */
  const against = (o: {
    pool: string[];
    first: number;
    grow: (slots: number, random: (n: number) => number) => number;
    steps: number;
    removeOneIn: number;
    every: number;
    rebuildEvery: number;
  }) => {
    const random = prng(0x5eed);
    const { pool } = o;
    let index = new KeyIndex(o.first);
    const model = new Map<string, number>();
    const free: number[] = [];
    let next = 0;
    for (let step = 0; step < o.steps; step++) {
      const key = pool[random(pool.length)];
      const held = model.get(key);
      if (held === undefined && random(3) !== 0) {
        expect(index.find(key)).toBe(-1);
        let slot = free.pop();
        if (slot === undefined) {
          slot = next++;
          if (slot >= index.slots) index.grow(o.grow(index.slots, random));
        }
        index.insert(slot);
        model.set(key, slot);
      } else if (held !== undefined && random(o.removeOneIn) === 0) {
        index.remove(held);
        model.delete(key);
        free.push(held);
      }
      const sample = step % o.every === 0 ? pool : Array.from({ length: 10 }, () => pool[random(pool.length)]);
      for (const k of sample) {
        const slot = index.find(k);
        if (slot !== (model.get(k) ?? -1)) expect({ step, k, slot }).toEqual({ step, k, slot: model.get(k) ?? -1 });
      }
      if (index.size !== model.size) expect({ step, size: index.size }).toEqual({ step, size: model.size });
      if (step % o.rebuildEvery === o.rebuildEvery - 1) {
        index = new KeyIndex(Math.max(o.first, next));
        for (const [k, slot] of model) put(index, k, slot);
      }
    }
    return next;
  };

  it("randomized against a Map: thousands of inserts, removes and lookups in a small index, compared each step", () => {
    const next = against({
      pool: Array.from({ length: 48 }, (_, i) => (i % 3 === 0 ? `k${i}` : `key-${i}-${"p".repeat(i % 30)}`)),
      first: 4,
      grow: (slots) => slots * 2,
      steps: 6_000,
      removeOneIn: 2,
      every: 1,
      rebuildEvery: 1_500,
    });
    expect(next).toBeGreaterThan(16);
  });

  it("randomized against a Map across pages: 4,000 keys of every length, grown by uneven steps", () => {
    const next = against({
      pool: keysOfEveryLength(4_000, prng(0x1e4)),
      first: 5,
      // Uneven steps (paged.ts): a cut last page filled and replaced, several pages added at once.
      grow: (slots, random) => slots + 1 + random(1_500),
      steps: 12_000,
      removeOneIn: 4,
      every: 1_000,
      rebuildEvery: 6_000,
    });
    expect(next).toBeGreaterThan(2 * PAGE_SLOTS);
  });
});

describe("DestinationCounters against a plain model (a Map of each key's send times), randomized", () => {
  it("thousands of random sends, give-backs, sweeps, across growth and an epoch move: the same times each step", () => {
    const random = prng(20_261_204);
    const BUDGETS = [
      { points: 1, durationMs: 40 },
      { points: 3, durationMs: 300 },
      { points: 5, durationMs: 1_500 },
    ];
    const LONGEST = 1_500;
    const DEPTH = 5;
    // Starts 3 s before 2^32 ms: the table moves its epoch during the run (memory-counters.ts #rebase).
    const c = { t: 2 ** 32 - 3_000, now: () => c.t };
    const capacity = new Capacity(100_000, c.now);
    const table = new DestinationCounters(BUDGETS, capacity);
    // FIRST + 200 keys, HMAC-like and short: more than the first page's slots (paged.ts), the columns and index grow.
    const FIRST = PAGE_SLOTS + 200;
    const pool = Array.from({ length: FIRST + 200 }, (_, i) =>
      i % 2 === 0 ? `k${i}` : Buffer.from(`destination ${i}`).toString("base64url").padEnd(43, "A"),
    );
    const model = new Map<string, number[]>();
    const ended = (times: number[]) => times.length === 0 || times[times.length - 1] + LONGEST <= c.t;
    const recentOf = (times: number[], k: number) =>
      k <= times.length ? times[times.length - k] : Number.NEGATIVE_INFINITY;
    // The times still in a span, newest first: those every budget reads. A time out of every span may be another in
    // the table (the epoch move clamps it to the new epoch, #rebase; a give-back then no longer finds it by its time).
    const inSpan = (recent: (k: number) => number) => {
      const times: number[] = [];
      for (let k = 1; k <= DEPTH + 1 && recent(k) + LONGEST > c.t; k++) times.push(recent(k));
      return times;
    };
    let sends = 0;
    let refusals = 0;
    let rewards = 0;
    for (let step = 0; step < 5_000; step++) {
      // The first FIRST steps send to FIRST distinct keys at one time: more live entries than a page's slots.
      const op = step < FIRST ? 14 : random(20);
      if (op < 3) c.t += random(120);
      else if (op < 15) {
        const key = step < FIRST ? pool[step + 200] : pool[random(op < 10 ? 40 : pool.length)];
        const times = model.get(key) ?? [];
        model.set(key, times);
        const slot = table.open(key, c.t);
        const waits = BUDGETS.map((_, b) => table.waitMs(slot, b, c.t));
        const expected = BUDGETS.map((b) => Math.max(0, recentOf(times, b.points) + b.durationMs - c.t));
        if (waits.some((w, b) => w !== expected[b]))
          expect({ step, key, waits }).toEqual({ step, key, waits: expected });
        if (waits.every((w) => w === 0)) {
          table.add(slot, c.t);
          while (times.length > 0 && times[0] + LONGEST <= c.t) times.shift();
          if (times.length === DEPTH) times.shift();
          times.push(c.t);
          sends++;
        } else refusals++;
      } else if (op < 17) {
        const key = pool[random(40)];
        const times = model.get(key);
        const at = times !== undefined && times.length > 0 && random(4) !== 0 ? times[random(times.length)] : c.t - 1;
        table.reward(key, at);
        if (times !== undefined)
          for (let i = times.length - 1; i >= 0 && times[i] >= at; i--)
            if (times[i] === at) {
              times.splice(i, 1);
              rewards++;
              break;
            }
      } else if (op < 19) table.sweep(1 + random(40), c.t);
      else {
        table.sweepAll();
        for (const [key, times] of model) if (ended(times)) model.delete(key);
        expect(table.size).toBe(model.size);
      }
      // Every live destination holds the model's times (open finds it: nothing taken); an ended one may be gone.
      let live = 0;
      for (const [key, times] of model) {
        if (ended(times)) continue;
        live++;
        const used = capacity.used;
        const slot = table.open(key, c.t);
        if (capacity.used !== used) expect(capacity.used).toBe(used);
        const real = inSpan((k) => table.recent(slot, k));
        const expected = inSpan((k) => recentOf(times, k));
        if (real.join() !== expected.join()) expect({ step, key, real }).toEqual({ step, key, real: expected });
      }
      if (table.size < live || table.size > model.size || capacity.used !== table.size)
        expect({ step, size: table.size, used: capacity.used }).toEqual({
          step,
          size: `${live}..${model.size}`,
          used: table.size,
        });
      if (step === FIRST - 1) expect(table.size).toBe(FIRST);
    }
    // The run did what it says: sends, refusals, give-backs, past a page of slots and 2^32 ms.
    expect(sends).toBeGreaterThan(1_000);
    expect(refusals).toBeGreaterThan(100);
    expect(rewards).toBeGreaterThan(50);
    expect(c.t).toBeGreaterThan(2 ** 32);
  });
});

describe("DestinationCounters' pages (paged.ts): growth adds a page, copies no column", () => {
  // The default budgets' shape: a cooldown, a window, a day; depth 10 (the largest points).
  const BUDGETS = [
    { points: 1, durationMs: 60_000 },
    { points: 3, durationMs: 600_000 },
    { points: 10, durationMs: 86_400_000 },
  ];
  const DEPTH = 10;
  /** Column bytes per slot: the times, their count, the key's words and its length. */
  const SLOT_BYTES = 4 * DEPTH + 2 + 44 + 1;
  // Made before any measure: a Buffer's pool would count among the ArrayBuffers allocated.
  const KEYS = Array.from({ length: 5 * PAGE_SLOTS }, (_, i) =>
    Buffer.from(`destination ${i}`).toString("base64url").padEnd(43, "A"),
  );
  const key = (i: number) => KEYS[i];
  /** Bytes of ArrayBuffers `fn` allocates (none freed in between: it runs synchronously, without a collection). */
  const allocated = (fn: () => void) => {
    const before = process.memoryUsage().arrayBuffers;
    fn();
    return process.memoryUsage().arrayBuffers - before;
  };
  const setup = (max: number) => {
    const c = { t: 1_000_000, now: () => c.t };
    const capacity = new Capacity(max, c.now);
    return { c, capacity, table: new DestinationCounters(BUDGETS, capacity) };
  };

  it("the slot past a full page takes a new page of each column (and the index's rebuild), not a copy of them", () => {
    const { c, table } = setup(1_000_000);
    for (let i = 0; i < PAGE_SLOTS; i++) table.add(table.open(key(i), c.t), c.t);
    // Slot PAGE_SLOTS: a page of every column, and the index (2 places of 4 B a slot) rebuilt at twice its size.
    const bytes = allocated(() => table.add(table.open(key(PAGE_SLOTS), c.t), c.t));
    const index = 4 * 4 * PAGE_SLOTS;
    expect(bytes).toBeGreaterThanOrEqual(PAGE_SLOTS * SLOT_BYTES); // the measure measures something
    // Doubling allocated 2 × PAGE_SLOTS × SLOT_BYTES + the index here (a copy of every column).
    expect(bytes).toBeLessThanOrEqual(PAGE_SLOTS * SLOT_BYTES + index);
    // The fourth page's first slot: that page alone (4 pages fill 2^13 places to half, as 3 did: no index rebuild).
    for (let i = PAGE_SLOTS + 1; i < 3 * PAGE_SLOTS; i++) table.add(table.open(key(i), c.t), c.t);
    expect(allocated(() => table.add(table.open(key(3 * PAGE_SLOTS), c.t), c.t))).toBe(PAGE_SLOTS * SLOT_BYTES);
  });

  it("every page boundary keeps each slot's own times: the last slot of a page and the first of the next", () => {
    const { c, table } = setup(1_000_000);
    const keys = KEYS.slice(0, 3 * PAGE_SLOTS + 5);
    for (const k of keys) table.open(k, c.t);
    // Each slot i gets (i % DEPTH) + 1 sends, 1 s apart, from its own start: neighbours across a page differ.
    for (let n = 0; n < DEPTH; n++) {
      c.t += 1_000;
      keys.forEach((k, i) => {
        if (n <= i % DEPTH) table.add(table.open(k, c.t), c.t + i);
      });
    }
    const end = c.t;
    for (const i of [PAGE_SLOTS - 1, PAGE_SLOTS, 2 * PAGE_SLOTS - 1, 2 * PAGE_SLOTS, 3 * PAGE_SLOTS, keys.length - 1]) {
      const slot = table.open(keys[i], end);
      expect(slot).toBe(i);
      const sends = (i % DEPTH) + 1;
      const times = Array.from({ length: DEPTH + 1 }, (_, k) => table.recent(slot, k + 1));
      const expected = Array.from({ length: DEPTH + 1 }, (_, k) =>
        k < sends ? 1_000_000 + 1_000 * (sends - k) + i : Number.NEGATIVE_INFINITY,
      );
      expect({ i, times }).toEqual({ i, times: expected });
      // A give-back on a page's edge removes that slot's time only.
      table.reward(keys[i], 1_000_000 + 1_000 * sends + i);
      expect(table.recent(slot, sends)).toBe(Number.NEGATIVE_INFINITY);
    }
    // Its neighbour on the next page keeps its newest time.
    const next = PAGE_SLOTS + 1;
    expect(table.recent(table.open(keys[next], end), 1)).toBe(1_000_000 + 1_000 * ((next % DEPTH) + 1) + next);
  });

  it("a sweep walks across pages, and the freed slots are reused: no page added the second time", () => {
    const { c, capacity, table } = setup(1_000_000);
    const count = 2 * PAGE_SLOTS + 100;
    for (let i = 0; i < count; i++) table.add(table.open(key(i), c.t), c.t);
    c.t += 86_400_000 - 1;
    table.sweep(count, c.t);
    expect(table.size).toBe(count); // a send a day old less 1 ms still counts
    c.t += 1;
    // The incremental sweep, 500 slots at a time, across all three pages.
    for (let n = 0; n < Math.ceil(count / 500); n++) table.sweep(500, c.t);
    expect(table.size).toBe(0);
    expect(capacity.used).toBe(0);
    // As many new keys again: every one in a freed slot, nothing allocated.
    expect(
      allocated(() => {
        for (let i = 0; i < count; i++) table.add(table.open(key(count + i), c.t), c.t);
      }),
    ).toBe(0);
    expect(table.size).toBe(count);
    expect(table.recent(table.open(key(count), c.t), 1)).toBe(c.t);
    expect(table.recent(table.open(key(0), c.t), 1)).toBe(Number.NEGATIVE_INFINITY); // gone: a new entry
  });

  it("a cap that is not a whole number of pages: exactly the cap fits, the last page cut to it, then full", () => {
    const CAP = PAGE_SLOTS + PAGE_SLOTS / 2 + 3;
    let table!: DestinationCounters;
    let c!: { t: number };
    const bytes = allocated(() => {
      ({ c, table } = setup(CAP));
      for (let i = 0; i < CAP; i++) table.add(table.open(key(i), c.t), c.t);
    });
    expect(table.size).toBe(CAP);
    expect(() => table.open(key(CAP), c.t)).toThrow(MemoryStoreFullError);
    // The columns hold CAP slots (a page and a cut one), the index 2^12 places after 2^11: no slot past the cap.
    expect(bytes).toBeGreaterThanOrEqual(CAP * SLOT_BYTES);
    expect(bytes).toBeLessThanOrEqual(CAP * SLOT_BYTES + 4 * (2_048 + 4_096) + 1_024);
    // Every key of the cut page is there.
    for (let i = PAGE_SLOTS; i < CAP; i++) expect(table.open(key(i), c.t)).toBe(i);
    // A table whose cap is below a page takes the cap's slots only.
    expect(allocated(() => setup(10))).toBeLessThanOrEqual(10 * SLOT_BYTES + 4 * 32 + 1_024);
  });
});
