import { BoundedTable, Capacity, FULL_SWEEP_INTERVAL_MS, SWEEP_STEP } from "../../../src/protection/bounded-table";
import type { Logger } from "../../../src/logging/logger";
import { MemoryConsentStore } from "../../../src/protection/consent-store";
import { FULL_WARNING_INTERVAL_MS, fullWarning } from "../../../src/protection/index";
import { DestinationCounters, MemoryCounter, MemoryStoreFullError } from "../../../src/protection/memory-counters";

interface Entry {
  expiresAt: number;
  n?: number;
}

function clock(start = 1_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe("BoundedTable", () => {
  it("an entry is there until its expiry, then gone (moved clock, no timers)", () => {
    const c = clock();
    const table = new BoundedTable<Entry>(10, c.now);
    expect(table.insert("a", { expiresAt: c.t + 1_000, n: 1 })).toBe(true);
    c.t += 999;
    expect(table.get("a")?.n).toBe(1);
    c.t += 1;
    expect(table.get("a")).toBeUndefined();
    // Reading it removed it.
    expect(table.size).toBe(0);
  });

  it("get returns the stored object: updates in place need no second insert", () => {
    const c = clock();
    const table = new BoundedTable<Entry>(10, c.now);
    table.insert("a", { expiresAt: c.t + 1_000, n: 1 });
    table.get("a")!.n = 2;
    expect(table.get("a")?.n).toBe(2);
  });

  it("the hard cap: a new key is refused when full, a live entry is never evicted, and replacing a key always fits", () => {
    const c = clock();
    let full = 0;
    const table = new BoundedTable<Entry>(new Capacity(3, c.now, () => full++));
    for (const k of ["a", "b", "c"]) expect(table.insert(k, { expiresAt: c.t + 60_000 })).toBe(true);
    expect(table.insert("d", { expiresAt: c.t + 60_000 })).toBe(false);
    expect(full).toBe(1);
    expect(table.size).toBe(3);
    for (const k of ["a", "b", "c"]) expect(table.get(k)).toBeDefined();
    expect(table.get("d")).toBeUndefined();
    expect(table.insert("a", { expiresAt: c.t + 120_000, n: 9 })).toBe(true);
    expect(table.get("a")?.n).toBe(9);
  });

  it("when full, expired entries are swept to make room (at most one full sweep per interval)", () => {
    const c = clock();
    const table = new BoundedTable<Entry>(3, c.now);
    table.insert("short1", { expiresAt: c.t + 1_000 });
    table.insert("long", { expiresAt: c.t + 60_000 });
    table.insert("short2", { expiresAt: c.t + 1_000 });
    // Fill attempt before anything expired: refused, and the full sweep ran (and found nothing).
    expect(table.insert("x", { expiresAt: c.t + 60_000 })).toBe(false);
    c.t += 1_000;
    // Expired now, but the last full sweep was less than FULL_SWEEP_INTERVAL_MS ago: still refused...
    expect(FULL_SWEEP_INTERVAL_MS).toBe(1_000);
    c.t -= 1;
    expect(table.insert("x", { expiresAt: c.t + 60_000 })).toBe(false);
    // ...then the sweep frees both expired entries.
    c.t += 1;
    expect(table.insert("x", { expiresAt: c.t + 60_000 })).toBe(true);
    expect(table.get("long")).toBeDefined();
    expect(table.get("x")).toBeDefined();
    expect(table.get("short1")).toBeUndefined();
    expect(table.get("short2")).toBeUndefined();
    expect(table.size).toBe(2);
  });

  it("the incremental sweep removes expired entries nobody reads again, a few per insert", () => {
    const c = clock();
    const table = new BoundedTable<Entry>(1_000, c.now);
    for (let i = 0; i < 100; i++) table.insert(`old${i}`, { expiresAt: c.t + 1_000 });
    c.t += 1_000;
    // Each insert visits SWEEP_STEP entries, from wherever the cursor stands (new entries are visited too): 50 inserts
    // make 200 visits, more than one round of the at most 150 entries, so every old one has been met.
    const inserts = (2 * 100) / SWEEP_STEP;
    for (let i = 0; i < inserts; i++) table.insert(`new${i}`, { expiresAt: c.t + 60_000 });
    expect(table.size).toBe(inserts);
  });

  it("the sweep cursor wraps: round after round, entries that expire later are removed too", () => {
    const c = clock();
    const table = new BoundedTable<Entry>(1_000, c.now);
    for (let i = 0; i < 20; i++) table.insert(`k${i}`, { expiresAt: c.t + (i % 2 ? 60_000 : 1_000) });
    for (let round = 0; round < 3; round++) {
      c.t += 30_000;
      table.sweep(100);
    }
    expect(table.size).toBe(0);
  });

  it("insertAbsent (a key just read as absent): the same sweep and cap as insert, at the caller's `now`", () => {
    const c = clock();
    let full = 0;
    const table = new BoundedTable<Entry>(new Capacity(2, c.now, () => full++));
    table.insert("a", { expiresAt: c.t + 1_000 });
    expect(table.get("b", c.t)).toBeUndefined();
    expect(table.insertAbsent("b", { expiresAt: c.t + 60_000 }, c.t)).toBe(true);
    // Full: refused, nothing stored.
    expect(table.insertAbsent("c", { expiresAt: c.t + 60_000 }, c.t)).toBe(false);
    expect(full).toBe(1);
    expect(table.size).toBe(2);
    // The `now` passed in is the one the table judges by (its clock has not moved): "a" has expired at c.t + 1_000,
    // and the insert's sweep steps remove it before the cap is checked.
    expect(table.get("a", c.t + 999)?.expiresAt).toBe(c.t + 1_000);
    expect(table.insertAbsent("c", { expiresAt: c.t + 61_000 }, c.t + 1_000)).toBe(true);
    expect(table.get("a")).toBeUndefined();
    expect(table.size).toBe(2);
  });

  it("tables sharing a Capacity share one cap, and a full one sweeps the others", () => {
    const c = clock();
    const capacity = new Capacity(4, c.now);
    const a = new BoundedTable<Entry>(capacity);
    const b = new BoundedTable<Entry>(capacity);
    a.insert("1", { expiresAt: c.t + 1_000 });
    a.insert("2", { expiresAt: c.t + 60_000 });
    b.insert("1", { expiresAt: c.t + 60_000 });
    b.insert("2", { expiresAt: c.t + 60_000 });
    expect(capacity.used).toBe(4);
    expect(b.insert("3", { expiresAt: c.t + 60_000 })).toBe(false);
    c.t += FULL_SWEEP_INTERVAL_MS;
    // a's expired entry makes room for b.
    expect(b.insert("3", { expiresAt: c.t + 60_000 })).toBe(true);
    expect(a.size + b.size).toBe(4);
    a.delete("2");
    expect(capacity.used).toBe(3);
  });
});

describe("MemoryCounter (rate-limiter-flexible's fixed-window semantics)", () => {
  it("counts within a window, refuses past the points, resets when the window ends, and rewards", () => {
    const c = clock();
    const counter = new MemoryCounter(2, 10_000, new Capacity(10, c.now));
    expect(counter.consume("k")).toEqual({ allowed: true, remainingPoints: 1, msBeforeNext: 10_000 });
    c.t += 4_000;
    expect(counter.consume("k")).toEqual({ allowed: true, remainingPoints: 0, msBeforeNext: 6_000 });
    expect(counter.consume("k")).toEqual({ allowed: false, remainingPoints: 0, msBeforeNext: 6_000 });
    counter.reward("k", c.t);
    counter.reward("k", c.t);
    expect(counter.consume("k").allowed).toBe(true);
    c.t += 6_000;
    expect(counter.consume("k")).toEqual({ allowed: true, remainingPoints: 1, msBeforeNext: 10_000 });
  });

  it("a reward never takes the count below zero (no credit beyond the budget)", () => {
    const c = clock();
    const counter = new MemoryCounter(1, 10_000, new Capacity(10, c.now));
    counter.consume("k");
    counter.reward("k", c.t);
    counter.reward("k", c.t);
    expect(counter.consume("k").allowed).toBe(true);
    expect(counter.consume("k").allowed).toBe(false);
  });

  it("a reward reaches only the window its consume was counted in, never one opened since", () => {
    const c = clock();
    const counter = new MemoryCounter(1, 10_000, new Capacity(10, c.now));
    const takenAt = c.t;
    counter.take("k", takenAt);
    // The window ends while that send waits; another send opens the next window and is counted there.
    c.t += 10_000;
    expect(counter.consume("k").allowed).toBe(true);
    // The first send is given back late: the new window keeps the second send's point, so a third is refused.
    counter.reward("k", takenAt);
    expect(counter.consume("k").allowed).toBe(false);
    // Given back inside its own window (its last millisecond included), it does return the point.
    const late = clock();
    const other = new MemoryCounter(1, 10_000, new Capacity(10, late.now));
    other.take("k", late.t);
    late.t += 9_999;
    other.reward("k", late.t - 9_999);
    expect(other.consume("k").allowed).toBe(true);
  });

  it("take answers with the key's window at the given `now`, consume with the same numbers as an outcome", () => {
    const c = clock();
    const counter = new MemoryCounter(2, 10_000, new Capacity(10, c.now));
    expect(counter.take("k", c.t + 5)).toEqual({ consumed: 1, expiresAt: c.t + 10_005 });
    expect(counter.take("k", c.t + 10_004)).toEqual({ consumed: 2, expiresAt: c.t + 10_005 });
    // The window's last millisecond has passed: a new one opens.
    expect(counter.take("k", c.t + 10_005)).toEqual({ consumed: 1, expiresAt: c.t + 20_005 });
    c.t += 10_005;
    expect(counter.consume("k")).toEqual({ allowed: true, remainingPoints: 0, msBeforeNext: 10_000 });
    expect(counter.size).toBe(1);
  });

  it("throws MemoryStoreFullError (a ProtectionStoreError: fail closed) for a new key when the cap is reached", () => {
    const c = clock();
    const counter = new MemoryCounter(5, 10_000, new Capacity(1, c.now));
    counter.consume("a");
    expect(() => counter.consume("b")).toThrow(/otp throttle: shared state unavailable/);
    expect(counter.consume("a").allowed).toBe(true);
  });
});

describe("DestinationCounters (a destination's cooldown, window and daily budgets in one entry)", () => {
  const COOLDOWN = 60_000;
  const WINDOW = 600_000;
  const DAY = 86_400_000;
  const counts = (t: DestinationCounters, slot: number) => [0, 1, 2].map((b) => t.count(slot, b));
  const ends = (t: DestinationCounters, slot: number) => [0, 1, 2].map((b) => t.endsAt(slot, b));

  it("each budget is its own fixed window: it resets on its own when it ends, the others keep counting", () => {
    const c = clock();
    const start = c.t;
    const t = new DestinationCounters([COOLDOWN, WINDOW, DAY], new Capacity(10, c.now));
    let slot = t.take("k", c.t);
    expect(counts(t, slot)).toEqual([1, 1, 1]);
    expect(ends(t, slot)).toEqual([start + COOLDOWN, start + WINDOW, start + DAY]);
    // Every consume counts in every open window, refused or not (the caller judges).
    slot = t.take("k", start + COOLDOWN - 1);
    expect(counts(t, slot)).toEqual([2, 2, 2]);
    // The cooldown's last millisecond has passed: it alone reopens.
    slot = t.take("k", start + COOLDOWN);
    expect(counts(t, slot)).toEqual([1, 3, 3]);
    expect(ends(t, slot)).toEqual([start + 2 * COOLDOWN, start + WINDOW, start + DAY]);
    // The window ends: it reopens with the cooldown (which had ended too); the daily keeps its count and end.
    slot = t.take("k", start + WINDOW);
    expect(counts(t, slot)).toEqual([1, 1, 4]);
    expect(ends(t, slot)).toEqual([start + WINDOW + COOLDOWN, start + 2 * WINDOW, start + DAY]);
    slot = t.take("k", start + DAY);
    expect(counts(t, slot)).toEqual([1, 1, 1]);
    expect(ends(t, slot)).toEqual([start + DAY + COOLDOWN, start + DAY + WINDOW, start + 2 * DAY]);
  });

  it("reward gives one point back to the budgets named (all by default), never below zero; keys are separate", () => {
    const c = clock();
    const t = new DestinationCounters([COOLDOWN, WINDOW, DAY], new Capacity(10, c.now));
    t.take("k", c.t);
    const slot = t.take("k", c.t);
    t.take("other", c.t);
    t.reward("k", c.t, 0b010);
    expect(counts(t, slot)).toEqual([2, 1, 2]);
    t.reward("k", c.t);
    t.reward("k", c.t);
    expect(counts(t, slot)).toEqual([0, 0, 0]);
    t.reward("absent", c.t);
    expect(counts(t, t.take("other", c.t))).toEqual([2, 2, 2]);
  });

  it("a reward reaches only the windows its consume was counted in: a budget reopened since keeps its new point", () => {
    const c = clock();
    const start = c.t;
    const t = new DestinationCounters([COOLDOWN, WINDOW, DAY], new Capacity(10, c.now));
    t.take("k", start);
    // The send waited past the cooldown; a second send reopened the cooldown (window and daily count it as their 2nd).
    const slot = t.take("k", start + COOLDOWN);
    expect(counts(t, slot)).toEqual([1, 2, 2]);
    // The first send is given back: its window and daily points return, the new cooldown keeps the second send's.
    t.reward("k", start);
    expect(counts(t, slot)).toEqual([1, 1, 1]);
    // A send given back in the same millisecond its cooldown opened gets that point back.
    t.reward("k", start + COOLDOWN, 0b001);
    expect(counts(t, slot)).toEqual([0, 1, 1]);
    // One consumed at the cooldown's last millisecond is still in that window.
    const u = new DestinationCounters([COOLDOWN, WINDOW, DAY], new Capacity(10, c.now));
    u.take("k", start);
    u.take("k", start + COOLDOWN - 1);
    u.reward("k", start + COOLDOWN - 1);
    expect(counts(u, u.take("k", start + COOLDOWN - 1))).toEqual([2, 2, 2]);
  });

  it("one unit of the shared cap per destination entry: full refuses a new key (fail closed), a live entry is never evicted", () => {
    const c = clock();
    const capacity = new Capacity(3, c.now);
    const shared = new BoundedTable<Entry>(capacity);
    shared.insert("ip", { expiresAt: c.t + DAY });
    const t = new DestinationCounters([COOLDOWN, WINDOW, DAY], capacity);
    t.take("a", c.t);
    t.take("b", c.t);
    expect(capacity.used).toBe(3);
    expect(() => t.take("c", c.t)).toThrow(MemoryStoreFullError);
    // Nothing counted for "c", nothing evicted: "a" and "b" keep their counts.
    expect(t.size).toBe(2);
    expect(counts(t, t.take("a", c.t))).toEqual([2, 2, 2]);
    // Its cooldown and window ended, its daily window live: the entry still holds its unit.
    c.t += WINDOW + FULL_SWEEP_INTERVAL_MS;
    expect(() => t.take("c", c.t)).toThrow(MemoryStoreFullError);
    expect(counts(t, t.take("b", c.t))).toEqual([1, 1, 2]);
  });

  it("the sweeps remove an entry only once all its windows have ended (the latest, usually the daily), freeing its unit", () => {
    const c = clock();
    const start = c.t;
    const capacity = new Capacity(2, c.now);
    const t = new DestinationCounters([COOLDOWN, WINDOW, DAY], capacity);
    t.take("a", start);
    t.take("b", start + 1);
    c.t = start + WINDOW;
    t.sweepAll();
    expect(t.size).toBe(2);
    c.t = start + DAY;
    t.sweepAll();
    // "a"'s daily window has ended, "b"'s has one millisecond left.
    expect(t.size).toBe(1);
    expect(capacity.used).toBe(1);
    // A full table is swept before it refuses: "b" ends and makes room too.
    t.take("c", c.t);
    c.t = start + DAY + 1 + FULL_SWEEP_INTERVAL_MS;
    t.take("d", c.t);
    expect(t.size).toBe(2);
    expect(capacity.used).toBe(2);
  });

  it("a cooldown reopened after the daily window's end keeps the entry until the cooldown ends", () => {
    const c = clock();
    const start = c.t;
    // A cooldown longer than the window (both settings allow it): the entry's expiry is the latest of its windows.
    const t = new DestinationCounters([2 * WINDOW, WINDOW, DAY], new Capacity(5, c.now));
    t.take("k", start);
    t.take("k", start + DAY - WINDOW);
    c.t = start + DAY;
    t.sweepAll();
    expect(t.size).toBe(1);
    c.t = start + DAY + WINDOW;
    t.sweepAll();
    expect(t.size).toBe(0);
  });

  it("the incremental sweep (a few entries per new key) removes ended entries nobody reads again", () => {
    const c = clock();
    const capacity = new Capacity(1_000, c.now);
    const t = new DestinationCounters([COOLDOWN, WINDOW, DAY], capacity);
    for (let i = 0; i < 100; i++) t.take(`old${i}`, c.t);
    c.t += DAY;
    // SWEEP_STEP visits per new key: the cursor finishes its round, then goes through the 100 ended entries.
    const fresh = (2 * 100) / SWEEP_STEP;
    for (let i = 0; i < fresh; i++) t.take(`new${i}`, c.t);
    expect(t.size).toBe(fresh);
    expect(capacity.used).toBe(t.size);
  });

  it("slots are reused and the columns grow past their first size without mixing destinations up", () => {
    const c = clock();
    const start = c.t;
    const t = new DestinationCounters([COOLDOWN, WINDOW, DAY], new Capacity(2_000, c.now));
    // 700 keys (the columns start at 256 slots), each taken i % 5 + 1 times.
    for (let i = 0; i < 700; i++) for (let n = 0; n <= i % 5; n++) t.take(`k${i}`, start + i);
    for (let i = 0; i < 700; i += 37) {
      t.reward(`k${i}`, 0);
      const slot = t.take(`k${i}`, start + i);
      expect(counts(t, slot)).toEqual(Array(3).fill((i % 5) + 2));
      expect(t.endsAt(slot, 2)).toBe(start + i + DAY);
    }
    // k0 to k349 have ended (k349's daily window at its last millisecond), k350 to k699 have not.
    c.t = start + DAY + 349;
    t.sweepAll();
    expect(t.size).toBe(350);
    // New keys take the freed slots: fresh windows, counts from 1.
    for (let i = 0; i < 350; i++) expect(counts(t, t.take(`n${i}`, c.t))).toEqual([1, 1, 1]);
    for (let i = 350; i < 700; i += 50) expect(t.count(t.take(`k${i}`, c.t), 2)).toBe((i % 5) + 2);
  });
});

describe("MemoryConsentStore cap (MEMORY_CONSENT_MAX_KEYS)", () => {
  it("a consent past the cap is not recorded (grant throws: the report stays refused), held ones stay, expiry frees room", async () => {
    const c = clock();
    const store = new MemoryConsentStore({ maxKeys: 1, now: c.now });
    await store.grant("a", 1_000);
    await expect(store.grant("b", 1_000)).rejects.toThrow(/consent: shared state unavailable/);
    expect(await store.has("a")).toBe(true);
    expect(await store.has("b")).toBe(false);
    c.t += 1_000;
    expect(await store.has("a")).toBe(false);
    await store.grant("b", 1_000);
    expect(await store.has("b")).toBe(true);
  });
});

describe("fullWarning: one warn line per interval while a store is full", () => {
  it("logs the first refusal at once, then at most once per FULL_WARNING_INTERVAL_MS, with the count since the last line", () => {
    const c = clock();
    const lines: Array<{ obj: Record<string, unknown>; msg: string }> = [];
    const log = { warn: (obj: Record<string, unknown>, msg: string) => lines.push({ obj, msg }) } as unknown as Logger;
    const warn = fullWarning(log, "otp throttle", "MEMORY_THROTTLE_MAX_KEYS", 10, c.now);
    for (let i = 0; i < 100; i++) warn();
    expect(lines).toHaveLength(1);
    c.t += FULL_WARNING_INTERVAL_MS - 1;
    warn();
    expect(lines).toHaveLength(1);
    c.t += 1;
    warn();
    expect(lines).toHaveLength(2);
    expect(lines[1].obj).toEqual({
      memoryStore: { store: "otp throttle", maxKeys: 10, refused: 101, setting: "MEMORY_THROTTLE_MAX_KEYS" },
    });
    expect(lines[1].msg).toMatch(/raise MEMORY_THROTTLE_MAX_KEYS or set REDIS_URL/);
  });
});
