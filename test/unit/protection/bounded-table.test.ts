import { BoundedTable, Capacity, FULL_SWEEP_INTERVAL_MS, SWEEP_STEP } from "../../../src/protection/bounded-table";
import type { Logger } from "../../../src/logging/logger";
import { MemoryConsentStore } from "../../../src/protection/consent-store";
import { FULL_WARNING_INTERVAL_MS, fullWarning } from "../../../src/protection/index";
import { DestinationCounters, MemoryCounter, MemoryStoreFullError } from "../../../src/protection/memory-counters";
import { PAGE_SLOTS } from "../../../src/protection/paged";

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

describe("DestinationCounters (a destination's cooldown, window and daily budgets in one entry, sliding)", () => {
  const COOLDOWN = 60_000;
  const WINDOW = 600_000;
  const DAY = 86_400_000;
  const BUDGETS = [
    { points: 1, durationMs: COOLDOWN },
    { points: 3, durationMs: WINDOW },
    { points: 10, durationMs: DAY },
  ];
  const waits = (t: DestinationCounters, slot: number, now: number, budgets = 3) =>
    Array.from({ length: budgets }, (_, b) => t.waitMs(slot, b, now));
  /** A send at `now`, added when no budget refuses (as OtpThrottle does): the budgets' waits before it. */
  const send = (t: DestinationCounters, key: string, now: number, budgets = 3) => {
    const slot = t.open(key, now);
    const before = waits(t, slot, now, budgets);
    if (before.every((w) => w === 0)) t.add(slot, now);
    return before;
  };

  it("each budget reads its points-th most recent send: it refuses until that send leaves the span", () => {
    const c = clock();
    const start = c.t;
    const t = new DestinationCounters(BUDGETS, new Capacity(10, c.now));
    expect(send(t, "k", start)).toEqual([0, 0, 0]);
    const slot = t.open("k", start);
    expect(t.recent(slot, 1)).toBe(start);
    expect(t.recent(slot, 2)).toBe(Number.NEGATIVE_INFINITY);
    // The cooldown until its last millisecond, not after.
    expect(send(t, "k", start + COOLDOWN - 1)).toEqual([1, 0, 0]);
    expect(send(t, "k", start + COOLDOWN)).toEqual([0, 0, 0]);
    expect(send(t, "k", start + 2 * COOLDOWN)).toEqual([0, 0, 0]);
    // Three sends in the window: the fourth waits for the first to be ten minutes old, whatever the cooldown says.
    expect(send(t, "k", start + 3 * COOLDOWN)).toEqual([0, WINDOW - 3 * COOLDOWN, 0]);
    expect(send(t, "k", start + WINDOW)).toEqual([0, 0, 0]);
    // The window now holds 60 s, 120 s and 600 s: the next send waits for 60 s's to leave it, as the cooldown does.
    expect(waits(t, slot, start + WINDOW + COOLDOWN - 1)).toEqual([1, 1, 0]);
    expect(waits(t, slot, start + WINDOW + COOLDOWN)).toEqual([0, 0, 0]);
  });

  it("add keeps the last sends within the longest span only; the entry ends when its newest leaves it", () => {
    const c = clock();
    const start = c.t;
    const capacity = new Capacity(10, c.now);
    const t = new DestinationCounters([{ points: 2, durationMs: 1_000 }], capacity);
    for (const at of [0, 1_000, 2_000, 2_600]) expect(send(t, "k", start + at, 1)).toEqual([0]);
    const slot = t.open("k", start + 2_600);
    // 2,000 and 2,600 count; 0 and 1,000 left the span (at 1,000 and 2,000) and were dropped by the adds.
    expect([t.recent(slot, 1), t.recent(slot, 2), t.recent(slot, 3)]).toEqual([
      start + 2_600,
      start + 2_000,
      Number.NEGATIVE_INFINITY,
    ]);
    c.t = start + 3_599;
    t.sweepAll();
    expect(t.size).toBe(1);
    c.t = start + 3_600;
    t.sweepAll();
    expect(t.size).toBe(0);
    expect(capacity.used).toBe(0);
  });

  it("reward removes the one send it names, the newest of that millisecond; nothing for a refused one or an absent key", () => {
    const c = clock();
    const start = c.t;
    const t = new DestinationCounters([{ points: 5, durationMs: WINDOW }], new Capacity(10, c.now));
    for (const at of [0, 0, 10, 20]) send(t, "k", start + at, 1);
    send(t, "other", start, 1);
    const slot = t.open("k", start);
    t.reward("k", start + 10);
    expect([1, 2, 3, 4].map((k) => t.recent(slot, k))).toEqual([start + 20, start, start, Number.NEGATIVE_INFINITY]);
    t.reward("k", start + 5);
    t.reward("k", start, 0);
    t.reward("absent", start);
    expect([1, 2, 3].map((k) => t.recent(slot, k))).toEqual([start + 20, start, start]);
    t.reward("k", start);
    expect([1, 2, 3].map((k) => t.recent(slot, k))).toEqual([start + 20, start, Number.NEGATIVE_INFINITY]);
    expect(t.recent(t.open("other", start), 1)).toBe(start);
  });

  it("times past 2^32 ms from the table's epoch (49.7 days) move to a new one: kept sends keep their exact times", () => {
    const c = clock(0);
    const t = new DestinationCounters(BUDGETS, new Capacity(10, c.now));
    const early = 2 ** 32 - 10;
    send(t, "old", early - DAY + 5);
    send(t, "k", early);
    const later = 2 ** 32 + 10;
    expect(send(t, "k", later)).toEqual([COOLDOWN - 20, 0, 0]);
    // Past 2^32 ms: every time moves to the epoch `now - DAY`; the send a minute ago keeps its time, the day-old one
    // is clamped to the epoch (out of every span, as it was).
    const moved = early + COOLDOWN;
    expect(send(t, "k", moved)).toEqual([0, 0, 0]);
    const slot = t.open("k", moved);
    expect([t.recent(slot, 1), t.recent(slot, 2)]).toEqual([moved, early]);
    expect(t.recent(t.open("old", moved), 1)).toBe(moved - DAY);
    expect(t.waitMs(t.open("old", moved), 0, moved)).toBe(0);
    t.reward("k", early);
    expect([t.recent(slot, 1), t.recent(slot, 2)]).toEqual([moved, Number.NEGATIVE_INFINITY]);
    c.t = moved;
    t.sweepAll();
    expect(t.size).toBe(1);
  });

  it("one unit of the shared cap per destination entry: full refuses a new key (fail closed), a live entry is never evicted", () => {
    const c = clock();
    const capacity = new Capacity(3, c.now);
    const shared = new BoundedTable<Entry>(capacity);
    shared.insert("ip", { expiresAt: c.t + DAY });
    const t = new DestinationCounters(BUDGETS, capacity);
    send(t, "a", c.t);
    send(t, "b", c.t);
    expect(capacity.used).toBe(3);
    expect(() => t.open("c", c.t)).toThrow(MemoryStoreFullError);
    // Nothing counted for "c", nothing evicted: "a" and "b" keep their sends.
    expect(t.size).toBe(2);
    expect(send(t, "a", c.t)).toEqual([COOLDOWN, 0, 0]);
    // Its cooldown and window passed, its day not: the entry still holds its unit.
    c.t += WINDOW + FULL_SWEEP_INTERVAL_MS;
    expect(() => t.open("c", c.t)).toThrow(MemoryStoreFullError);
    expect(send(t, "b", c.t)).toEqual([0, 0, 0]);
  });

  it("the sweeps remove an entry only once its newest send has left the longest span (usually the day), freeing its unit", () => {
    const c = clock();
    const start = c.t;
    const capacity = new Capacity(2, c.now);
    const t = new DestinationCounters(BUDGETS, capacity);
    send(t, "a", start);
    send(t, "b", start + 1);
    c.t = start + WINDOW;
    t.sweepAll();
    expect(t.size).toBe(2);
    c.t = start + DAY;
    t.sweepAll();
    // "a"'s send has left the day, "b"'s has one millisecond left.
    expect(t.size).toBe(1);
    expect(capacity.used).toBe(1);
    // A full table is swept before it refuses: "b" ends and makes room too.
    send(t, "c", c.t);
    c.t = start + DAY + 1 + FULL_SWEEP_INTERVAL_MS;
    send(t, "d", c.t);
    expect(t.size).toBe(2);
    expect(capacity.used).toBe(2);
  });

  it("an entry left with no send (a refused attempt's, a refund's) is swept at once", () => {
    const c = clock();
    const capacity = new Capacity(5, c.now);
    const t = new DestinationCounters(BUDGETS, capacity);
    t.open("refused", c.t);
    send(t, "refunded", c.t);
    t.reward("refunded", c.t);
    t.sweepAll();
    expect(t.size).toBe(0);
    expect(capacity.used).toBe(0);
  });

  it("a cooldown longer than the day keeps the entry until the cooldown ends", () => {
    const c = clock();
    const start = c.t;
    // A cooldown longer than the window (both settings allow it): the entry lives for the longest span.
    const t = new DestinationCounters(
      [{ points: 1, durationMs: 2 * DAY }, ...BUDGETS.slice(1)],
      new Capacity(5, c.now),
    );
    send(t, "k", start);
    c.t = start + DAY;
    t.sweepAll();
    expect(t.size).toBe(1);
    c.t = start + 2 * DAY;
    t.sweepAll();
    expect(t.size).toBe(0);
  });

  it("the incremental sweep (a few entries per new key) removes ended entries nobody reads again", () => {
    const c = clock();
    const capacity = new Capacity(1_000, c.now);
    const t = new DestinationCounters(BUDGETS, capacity);
    for (let i = 0; i < 100; i++) send(t, `old${i}`, c.t);
    c.t += DAY;
    // SWEEP_STEP visits per new key: the cursor finishes its round, then goes through the 100 ended entries.
    const fresh = (2 * 100) / SWEEP_STEP;
    for (let i = 0; i < fresh; i++) send(t, `new${i}`, c.t);
    expect(t.size).toBe(fresh);
    expect(capacity.used).toBe(t.size);
  });

  it("slots are reused and the columns grow past their first size without mixing destinations up", () => {
    const c = clock();
    const start = c.t;
    const t = new DestinationCounters([{ points: 10, durationMs: DAY }], new Capacity(2_000, c.now));
    // N keys: the columns start at a page of slots (paged.ts) and take a second. Each sent to i % 5 + 1 times, a
    // millisecond apart.
    const N = PAGE_SLOTS + 700;
    for (let i = 0; i < N; i++) for (let n = 0; n <= i % 5; n++) send(t, `k${i}`, start + i + n, 1);
    for (let i = 0; i < N; i += 37) {
      const slot = t.open(`k${i}`, c.t);
      expect(t.recent(slot, 1)).toBe(start + i + (i % 5));
      expect(t.recent(slot, (i % 5) + 1)).toBe(start + i);
      expect(t.recent(slot, (i % 5) + 2)).toBe(Number.NEGATIVE_INFINITY);
    }
    // k0 to k345 have ended (their newest sends have left the day), k350 to the last have not.
    c.t = start + DAY + 349;
    t.sweepAll();
    expect(t.size).toBeGreaterThanOrEqual(N - 350);
    expect(t.size).toBeLessThan(N - 345);
    // New keys take the freed slots, empty.
    for (let i = 0; i < 340; i++) expect(t.recent(t.open(`n${i}`, c.t), 1)).toBe(Number.NEGATIVE_INFINITY);
    for (let i = 350; i < N; i += 50) expect(t.recent(t.open(`k${i}`, c.t), 1)).toBe(start + i + (i % 5));
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
  it("logs the first refusal at once, then at most once per FULL_WARNING_INTERVAL_MS, the others in a summary", () => {
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
    // The last interval's summary (the 100 not written), then this interval's first line.
    expect(lines).toHaveLength(3);
    expect(lines[1].obj).toEqual({
      memoryStore: { store: "otp throttle", maxKeys: 10, setting: "MEMORY_THROTTLE_MAX_KEYS" },
      suppressed: 100,
      notLogged: { refused: 100 },
      overSeconds: 60,
    });
    expect(lines[1].msg).toMatch(/^in-memory otp throttle store full: 100 more requests refused in the last 60 s/);
    expect(lines[2].obj).toEqual({
      memoryStore: { store: "otp throttle", maxKeys: 10, setting: "MEMORY_THROTTLE_MAX_KEYS" },
    });
    expect(lines[2].msg).toMatch(/raise MEMORY_THROTTLE_MAX_KEYS or set REDIS_URL/);
    warn.flush();
  });
});

describe("Capacity.reserve: places set aside beside the entries (memory-registered-mobiles.ts `ready`)", () => {
  it("keeps room from other reservations, not from inserts; counts in the owner's share; given back never below 0", () => {
    const c = clock();
    let full = 0;
    const capacity = new Capacity(4, c.now, () => full++, 3);
    const table = new BoundedTable<Entry & { owner?: string }>(capacity);
    expect(capacity.reserve("A", 2)).toBe(true);
    expect(capacity.heldBy("A")).toBe(2);
    expect(capacity.ownerHasRoom("A", 2)).toBe(false);
    expect(capacity.reserve("B", 2)).toBe(true);
    // Entries and reservations fill it: a third reservation is refused, and told.
    expect(capacity.reserve("C", 1)).toBe(false);
    expect(full).toBe(1);
    // The reservation's holder inserts into it: the entries are not refused for the room set aside.
    expect(table.insert("a1", { expiresAt: c.t + 1_000, owner: "A" })).toBe(true);
    expect(table.insert("a2", { expiresAt: c.t + 1_000, owner: "A" })).toBe(true);
    expect([capacity.used, capacity.reserved, capacity.heldBy("A")]).toEqual([2, 4, 4]);
    capacity.unreserve("A", 2);
    capacity.unreserve("B", 2);
    expect([capacity.reserved, capacity.heldBy("A"), capacity.heldBy("B")]).toEqual([0, 2, 0]);
    capacity.unreserve("B", 2);
    expect(capacity.reserved).toBe(0);
    // Expired entries are swept to make room for a reservation (at most once per FULL_SWEEP_INTERVAL_MS).
    expect(capacity.reserve("B", 2)).toBe(true);
    c.t += 1_000 + FULL_SWEEP_INTERVAL_MS;
    expect(capacity.reserve("C", 2)).toBe(true);
    expect([capacity.used, capacity.reserved, table.size]).toEqual([0, 4, 0]);
  });
});
