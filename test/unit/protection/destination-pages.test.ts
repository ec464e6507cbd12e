import { Capacity } from "../../../src/protection/bounded-table";
import { MAX_KEY_CHARS } from "../../../src/protection/key-index";
import {
  ClientShareFullError,
  DestinationCounters,
  MemoryStoreFullError,
} from "../../../src/protection/memory-counters";
import { PAGE_SLOTS } from "../../../src/protection/paged";
import { keysOfEveryLength, seededBelow as prng } from "../../helpers/throttle";

/**
 * DestinationCounters against a plain model (a Map) across its pages (paged.ts): key-index.test's randomized model ran
 * 600 keys, all on the first page (1,024 slots), so no growth and no page boundary was in it, and no cap. Here: several
 * pages filled, swept on every page and filled again (freed slots reused before a page is added), caps below a page, of
 * one page and not a whole number of pages (the last page cut to the cap), a client share, keys of every length from 0
 * to MAX_KEY_CHARS (the key column's bounds, on every page; KeyIndex alone across pages: key-index.test's randomized
 * model), give-backs before and after sweeps, an epoch move, and the ArrayBuffers allocated: never a slot past the cap.
 */

const BUDGETS = [
  { points: 1, durationMs: 40 },
  { points: 3, durationMs: 300 },
  { points: 5, durationMs: 15_000 },
];
const LONGEST = 15_000;
const DEPTH = 5;
const STEPS = 20_000;
/** Column bytes per slot with these budgets: the times, their count, the key's words and its length. */
const SLOT_BYTES = 4 * DEPTH + 2 + MAX_KEY_CHARS + 1;
/** Bytes of every index a table of `cap` slots builds on its way (2 places of 4 B a slot, 2 at least, doubled). */
function indexBytes(cap: number): number {
  let bytes = 0;
  for (let size = 2; ; size *= 2) {
    if (size >= 2 * Math.min(PAGE_SLOTS, cap)) bytes += 4 * size;
    if (size >= 2 * cap) return bytes;
  }
}

describe("DestinationCounters against a Map model across its pages, randomized", () => {
  interface Entry {
    times: number[];
    owner: string | undefined;
  }

  const run = (cap: number, share: number | undefined, seed: number) => {
    const random = prng(seed);
    const owners = share === undefined ? [undefined] : ["client-a", "client-b", "client-c"];
    // Half the sends from client-a: it reaches its share, the others take what it leaves.
    const sender = () => (share === undefined ? undefined : owners[Math.max(0, random(4) - 1)]);
    // More keys than the cap: the table fills, refuses, is swept and fills again.
    const pool = keysOfEveryLength(cap + 700, random);
    // Starts 20 s before 2^32 ms: the table moves its epoch during the run (memory-counters.ts #rebase).
    const c = { t: 2 ** 32 - 20_000, now: () => c.t };
    const capacity = new Capacity(cap, c.now, undefined, share ?? cap);
    const table = new DestinationCounters(BUDGETS, capacity);
    const model = new Map<string, Entry>();
    const ended = (e: Entry) => e.times.length === 0 || e.times[e.times.length - 1] + LONGEST <= c.t;
    const recentOf = (times: number[], k: number) =>
      k <= times.length ? times[times.length - k] : Number.NEGATIVE_INFINITY;
    const inSpan = (recent: (k: number) => number) => {
      const times: number[] = [];
      for (let k = 1; k <= DEPTH + 1 && recent(k) + LONGEST > c.t; k++) times.push(recent(k));
      return times;
    };
    /** Every live entry of the model holds its times in the table, found without taking a place. */
    const check = (step: number, keys: Iterable<string>) => {
      for (const key of keys) {
        const e = model.get(key);
        if (e === undefined || ended(e)) continue;
        const used = capacity.used;
        const slot = table.open(key, c.t, e.owner);
        if (capacity.used !== used) expect({ step, key, used: capacity.used }).toEqual({ step, key, used });
        const real = inSpan((k) => table.recent(slot, k));
        const expected = inSpan((k) => recentOf(e.times, k));
        if (real.join() !== expected.join()) expect({ step, key, real }).toEqual({ step, key, real: expected });
      }
    };
    /** After a full sweep the model holds exactly the table's entries: prune it, compare the counts. */
    const sweepAll = (step: number) => {
      table.sweepAll();
      for (const [key, e] of model) if (ended(e)) model.delete(key);
      const held = owners.map((o) => (o === undefined ? 0 : capacity.heldBy(o)));
      const expected = owners.map((o) =>
        o === undefined ? 0 : [...model.values()].filter((e) => e.owner === o).length,
      );
      if (table.size !== model.size || capacity.used !== model.size || held.join() !== expected.join())
        expect({ step, size: table.size, used: capacity.used, held }).toEqual({
          step,
          size: model.size,
          used: model.size,
          held: expected,
        });
    };
    let sends = 0;
    let refusals = 0;
    let full = 0;
    let shareFull = 0;
    let rewards = 0;
    let peak = 0;
    let walk = 0;
    for (let step = 0; step < STEPS; step++) {
      // Phases of 5,000 steps, a few ms apart within one, up to 1.3 spans between two: entries on every page end
      // together or some live on, the sweeps free slots on several pages, and the next phase fills them and grows.
      if (step % 5_000 === 4_999) c.t += random(LONGEST * 1.3);
      const op = random(40);
      if (op < 3) c.t += random(30);
      else if (op < 30) {
        // Mostly keys not yet held (growth: the pool walked in turn), some held ones (budgets, refusals).
        const key =
          op < 8 && model.size > 0
            ? [...model.keys()][random(model.size)]
            : op < 24
              ? pool[walk++ % pool.length]
              : pool[random(pool.length)];
        const owner = sender();
        // A full sweep first, now and then: then whether the key's entry fits is known exactly.
        const exact = !model.has(key) && random(3) === 0;
        if (exact) sweepAll(step);
        const e = model.get(key);
        const expectedError =
          !exact || e !== undefined
            ? null
            : owner !== undefined && capacity.heldBy(owner) >= (share ?? cap)
              ? ClientShareFullError
              : model.size >= cap
                ? MemoryStoreFullError
                : null;
        let slot: number;
        try {
          slot = table.open(key, c.t, owner);
        } catch (error) {
          if (!(error instanceof MemoryStoreFullError)) throw error;
          if (error instanceof ClientShareFullError) {
            shareFull++;
            expect(owner !== undefined && capacity.heldBy(owner) >= (share ?? cap)).toBe(true);
          } else {
            full++;
            expect(capacity.used).toBe(cap);
          }
          if (exact && !(error instanceof (expectedError ?? Object)))
            expect({ step, key, error: error.name }).toEqual({ step, key, error: expectedError?.name });
          // Refused: the model's entry, if it thought one was held, was an ended one swept away.
          if (e !== undefined) {
            expect(ended(e)).toBe(true);
            model.delete(key);
          }
          continue;
        }
        if (exact && expectedError !== null)
          expect({ step, key, error: "none" }).toEqual({ step, key, error: expectedError.name });
        // An ended entry the table may have swept and opened again: its owner is the next send's (every budget
        // allows it), as is a live one's.
        const entry = e ?? { times: [], owner };
        model.set(key, entry);
        const waits = BUDGETS.map((_, b) => table.waitMs(slot, b, c.t));
        const expected = BUDGETS.map((b) => Math.max(0, recentOf(entry.times, b.points) + b.durationMs - c.t));
        if (waits.some((w, b) => w !== expected[b]))
          expect({ step, key, waits }).toEqual({ step, key, waits: expected });
        if (waits.every((w) => w === 0)) {
          table.add(slot, c.t, owner);
          while (entry.times.length > 0 && entry.times[0] + LONGEST <= c.t) entry.times.shift();
          if (entry.times.length === DEPTH) entry.times.shift();
          entry.times.push(c.t);
          if (owner !== undefined) entry.owner = owner;
          sends++;
        } else refusals++;
      } else if (op < 34) {
        // A give-back: of a held time (before or after a sweep), or of a time never counted.
        const key = model.size > 0 ? [...model.keys()][random(model.size)] : pool[0];
        const e = model.get(key);
        const at = e !== undefined && e.times.length > 0 && random(4) !== 0 ? e.times[random(e.times.length)] : c.t - 1;
        table.reward(key, at);
        if (e !== undefined)
          for (let i = e.times.length - 1; i >= 0 && e.times[i] >= at; i--)
            if (e.times[i] === at) {
              e.times.splice(i, 1);
              rewards++;
              break;
            }
      } else if (op < 38) table.sweep(1 + random(600), c.t);
      else sweepAll(step);
      peak = Math.max(peak, table.size);
      if (capacity.used !== table.size || table.size > cap)
        expect({ step, used: capacity.used, size: table.size }).toEqual({ step, used: table.size, size: "<= cap" });
      // A sample each step, every entry now and then.
      if (step % 500 === 499) check(step, model.keys());
      else
        check(
          step,
          Array.from({ length: 20 }, () => pool[random(pool.length)]),
        );
    }
    sweepAll(STEPS);
    check(STEPS, model.keys());
    return { sends, refusals, full, shareFull, rewards, peak, t: c.t };
  };

  it.each([
    ["below a page", 700],
    ["exactly a page", PAGE_SLOTS],
    ["two pages and a cut one", 2 * PAGE_SLOTS + 517],
    ["three pages", 3 * PAGE_SLOTS],
  ])("cap %s (%i): the model's times, counts and refusals at each step", (_name, cap) => {
    const r = run(cap, undefined, 0x9a9e + cap);
    // The run did what it says: filled to the cap (past the first page where there is one), refused, gave back.
    expect(r.peak).toBe(cap);
    expect(r.full).toBeGreaterThan(10);
    expect(r.sends).toBeGreaterThan(2_000);
    expect(r.refusals).toBeGreaterThan(100);
    expect(r.rewards).toBeGreaterThan(50);
    expect(r.t).toBeGreaterThan(2 ** 32);
  });

  it("with a client share (a cap of 2,600, 1,000 a client): each client's count after every full sweep", () => {
    const r = run(2_600, 1_000, 0x5a4e);
    expect(r.peak).toBeGreaterThan(PAGE_SLOTS * 2);
    expect(r.shareFull).toBeGreaterThan(10);
    expect(r.sends).toBeGreaterThan(2_000);
  });
});

describe("DestinationCounters' memory at caps of every shape: never a slot past the cap, none added twice", () => {
  const random = prng(0xca9);
  // Made before any measure: a Buffer's pool would count among the ArrayBuffers allocated.
  const KEYS = keysOfEveryLength(2 * (3 * PAGE_SLOTS + 1), random);
  /** Bytes of ArrayBuffers `fn` allocates (synchronously, short: no collection frees one in between). */
  const allocated = (fn: () => void) => {
    const before = process.memoryUsage().arrayBuffers;
    fn();
    return process.memoryUsage().arrayBuffers - before;
  };

  it.each([1, 2, 700, PAGE_SLOTS - 1, PAGE_SLOTS, PAGE_SLOTS + 1, 2 * PAGE_SLOTS, 3 * PAGE_SLOTS, 3 * PAGE_SLOTS + 1])(
    "cap %i: filled to the cap, the columns hold the cap's slots; swept and filled again, nothing allocated",
    (cap) => {
      const c = { t: 1_000_000, now: () => c.t };
      let capacity!: Capacity;
      let table!: DestinationCounters;
      const bytes = allocated(() => {
        capacity = new Capacity(cap, c.now);
        table = new DestinationCounters(BUDGETS, capacity);
        for (let i = 0; i < cap; i++) table.add(table.open(KEYS[i], c.t), c.t);
      });
      expect(table.size).toBe(cap);
      expect(() => table.open(KEYS[cap], c.t)).toThrow(MemoryStoreFullError);
      // The columns of `cap` slots (each page cut to it) and the indexes built on the way, nothing more.
      // (V8 keeps a typed array of 64 B or less on the heap: not among the ArrayBuffers counted.)
      if (cap >= 64) expect(bytes).toBeGreaterThanOrEqual(cap * SLOT_BYTES);
      expect(bytes).toBeLessThanOrEqual(cap * SLOT_BYTES + indexBytes(cap) + 1_024);
      // Every entry ends: the full sweep frees every slot, on every page; as many new keys take them, nothing allocated
      // (at most: a collection in between may free an earlier test's columns).
      c.t += LONGEST;
      expect(
        allocated(() => {
          for (let i = 0; i < cap; i++) table.add(table.open(KEYS[KEYS.length - 1 - i], c.t), c.t);
        }),
      ).toBeLessThanOrEqual(0);
      expect([table.size, capacity.used]).toEqual([cap, cap]);
      expect(table.recent(table.open(KEYS[KEYS.length - cap], c.t), 1)).toBe(c.t);
      expect(() => table.open(KEYS[0], c.t)).toThrow(MemoryStoreFullError);
    },
  );
});
