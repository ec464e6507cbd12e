import { BoundedTable, type Capacity, SWEEP_STEP, type Sweepable } from "./bounded-table";
import { ProtectionStoreError } from "./errors";

/**
 * Fixed-window counters in this process's memory, with rate-limiter-flexible's semantics (what the Redis store's
 * script does per key with REDIS_URL, redis-budgets.ts): the first consume of a key opens a window of `durationMs`;
 * every consume, refused ones included, adds one; a consume is allowed while the count is at most `points`;
 * `msBeforeNext` is the time left in the window; `reward` takes one back. MemoryCounter: one budget, one entry per key,
 * `{ consumed, expiresAt }`, in a BoundedTable (prefix, IP, client, global, verify). DestinationCounters: a
 * destination's cooldown, window and daily budgets under one entry. No timer, no promise, no closure per key (the
 * memory per destination is measured in test/unit/protection/memory-footprint.test.ts and docs/security.md).
 */

export interface CounterOutcome {
  allowed: boolean;
  /** Points left in the window after this consume (0 when refused). */
  remainingPoints: number;
  /** Time until the window resets. */
  msBeforeNext: number;
}

/**
 * Counters whose points can be given back: one budget's, or a destination's (`budgets`: a bit per budget, all if
 * omitted). `takenAt` is the clock reading of the consume being given back: only a window that was already open then
 * gets its point back. A later window (the charged one ended while the call waited, and another send opened a new
 * one) never does: that point was the other send's, and giving it back would let a third send through inside the
 * new window's cooldown (a second SMS within the cooldown, found by an audit with a send held past the cooldown).
 *
 * A window left with no point by a give-back ends there: it holds no send, and the next send opens a window of its own.
 * Kept open, as rate-limiter-flexible keeps it, a window opened by a refused attempt shortened the cooldown of the next
 * send: an attempt refused by the 10-minute window 59.999 s before that window's end opened a cooldown window, empty
 * after the refusal's give-back, that ended 1 ms after the send the new 10-minute window let through; a second send
 * 1 ms later went out too (two SMS 1 ms apart under a 60 s cooldown; test/unit/protection/otp-throttle.test.ts, and
 * redis-budgets.ts does the same in Redis).
 */
export interface Refundable {
  reward(key: string, takenAt: number, budgets?: number): void;
}

/** A key's current window. */
export interface Window {
  consumed: number;
  expiresAt: number;
}

/** The in-memory tables are full: a new key cannot be counted, so the send is refused (fail closed). */
export class MemoryStoreFullError extends ProtectionStoreError {
  constructor(what: string) {
    super(what, new Error("in-memory table full"));
    this.name = "MemoryStoreFullError";
  }
}

export class MemoryCounter {
  readonly #table: BoundedTable<Window>;

  constructor(
    private readonly points: number,
    private readonly durationMs: number,
    private readonly capacity: Capacity,
  ) {
    this.#table = new BoundedTable<Window>(capacity);
  }

  consume(key: string): CounterOutcome {
    const now = this.capacity.now();
    const window = this.take(key, now);
    return {
      allowed: window.consumed <= this.points,
      remainingPoints: Math.max(0, this.points - window.consumed),
      msBeforeNext: window.expiresAt - now,
    };
  }

  /**
   * `consume` at `now` (the caller reads the clock once per send), answered with the key's window itself, the stored
   * object, instead of a CounterOutcome: allowed while `consumed <= points`, `expiresAt - now` before it resets. Read
   * it before the next call for the same key. Throws MemoryStoreFullError when a new window finds no room.
   */
  take(key: string, now: number): Window {
    let window = this.#table.get(key, now);
    if (window === undefined) {
      window = { consumed: 0, expiresAt: now + this.durationMs };
      // get() just found the key absent (or removed its expired window): no lookup to replace it.
      if (!this.#table.insertAbsent(key, window, now)) throw new MemoryStoreFullError("otp throttle");
    }
    window.consumed++;
    return window;
  }

  /** Gives back one point of the consume made at `takenAt` (Refundable): only to the window that took it. */
  reward(key: string, takenAt: number): void {
    const window = this.#table.get(key);
    // A window opened at `takenAt` or before ends at or before takenAt + durationMs; a later one ends after (integer ms).
    if (window !== undefined && window.consumed > 0 && window.expiresAt <= takenAt + this.durationMs) {
      // Empty, it ends (Refundable): the next send opens its own window.
      if (--window.consumed === 0) this.#table.delete(key);
    }
  }

  get size(): number {
    return this.#table.size;
  }
}

/** Slots the destination columns start with; they double as needed, up to the capacity's max. */
const INITIAL_SLOTS = 256;

/**
 * A destination's budgets (cooldown, window, daily: `durationsMs`, in that order) under ONE key: one table entry per
 * destination, not one per budget and destination. Each budget is still its own fixed window (MemoryCounter's
 * semantics, rate-limiter-flexible's): opened by the first consume after the previous one ended, one point per
 * consume, its own end. The entry lives until the latest of its windows ends; the incremental and full sweeps remove
 * it only then.
 *
 * Layout: the Map holds each key's slot number (a small integer: no object per entry), and the windows live in two
 * typed-array columns, `budgets` numbers per slot: `#ends` (epoch ms) and `#counts`; `#keys` names each slot's key,
 * for the sweep. Freed slots are reused; the columns double when full (never past the capacity's max) and never
 * shrink. Why not one object per entry with a
 * number field per window: heap after forced GC, Node 24, 40,000 43-character keys (each key itself 64 B):
 *   three tables of { consumed, expiresAt } (before)      306 B + key = 370 B per destination (123 B per entry)
 *   one table, daily window alone (most of a day before)   102 B + key = 166 B per destination (and per entry)
 *   one table of an object with 7 number fields           190 B + key = 254 B
 *   one table of slot numbers, columns of 3 x (8 + 4) B    46 B + 36 B + 8 B (#keys) + key = 154 B
 * The cap (MEMORY_THROTTLE_MAX_KEYS) counts one unit per destination entry: as an object (254 B) that would hold up
 * to 1.5 times the memory the same setting held before (166 B per unit at worst); as columns it holds less (154 B).
 * Counted as one unit, a destination also no longer takes 3 units for its first minute and 2 until its window ends.
 */
export class DestinationCounters implements Sweepable {
  readonly #slots = new Map<string, number>();
  readonly #durationsMs: readonly number[];
  readonly #budgets: number;
  readonly #all: number;
  #ends: Float64Array;
  #counts: Int32Array;
  /** Slots freed by deletes, reused first. */
  readonly #free: number[] = [];
  /** Slots ever handed out (the next fresh one). */
  #next = 0;
  /** Each slot's key (undefined while free): the sweep walks the slots, not the Map (no iterator result per visit). */
  readonly #keys: Array<string | undefined> = [];
  /** The incremental sweep's next slot. */
  #sweepAt = 0;

  constructor(
    durationsMs: readonly number[],
    private readonly capacity: Capacity,
  ) {
    this.#durationsMs = [...durationsMs];
    this.#budgets = durationsMs.length;
    this.#all = (1 << this.#budgets) - 1;
    const slots = Math.min(INITIAL_SLOTS, capacity.max);
    this.#ends = new Float64Array(slots * this.#budgets);
    this.#counts = new Int32Array(slots * this.#budgets);
    capacity.join(this);
  }

  /**
   * One consume of every budget of `key` at `now`: a window that has ended opens again (count 0, end now + its
   * duration), then each count goes up by one, refused or not. Answers the key's slot: read `count(slot, b)` and
   * `endsAt(slot, b)` before the next call. A new key takes one unit of the capacity; throws MemoryStoreFullError
   * when there is none (nothing was counted).
   */
  take(key: string, now: number): number {
    const budgets = this.#budgets;
    let slot = this.#slots.get(key);
    if (slot === undefined) {
      this.sweep(SWEEP_STEP, now);
      if (!this.capacity.makeRoom()) throw new MemoryStoreFullError("otp throttle");
      slot = this.#allocate();
      this.#slots.set(key, slot);
      this.#keys[slot] = key;
      this.capacity.used++;
      for (let b = 0, at = slot * budgets; b < budgets; b++, at++) {
        this.#ends[at] = now + this.#durationsMs[b];
        this.#counts[at] = 1;
      }
      return slot;
    }
    for (let b = 0, at = slot * budgets; b < budgets; b++, at++) {
      if (this.#ends[at] <= now) {
        this.#ends[at] = now + this.#durationsMs[b];
        this.#counts[at] = 1;
      } else this.#counts[at]++;
    }
    return slot;
  }

  /** Points consumed in budget `budget`'s current window of the slot `take` answered. */
  count(slot: number, budget: number): number {
    return this.#counts[slot * this.#budgets + budget];
  }

  /** When that window ends (epoch ms). */
  endsAt(slot: number, budget: number): number {
    return this.#ends[slot * this.#budgets + budget];
  }

  /**
   * Gives one point back to each budget named in `budgets` (bit b for budget b; all by default), never below zero,
   * and only to a window that was open at `takenAt`, the consume's clock reading (Refundable): a window opened since
   * holds another send's point. A window that has ended meanwhile is reset by its next consume anyway. A window left
   * empty ends (Refundable).
   */
  reward(key: string, takenAt: number, budgets: number = this.#all): void {
    const slot = this.#slots.get(key);
    if (slot === undefined) return;
    for (let b = 0, at = slot * this.#budgets; b < this.#budgets; b++, at++)
      if (
        (budgets & (1 << b)) !== 0 &&
        this.#counts[at] > 0 &&
        // Opened at takenAt or before: it ends at or before takenAt + its duration (integer ms, so exact).
        this.#ends[at] <= takenAt + this.#durationsMs[b] &&
        // Empty, it ends (Refundable): the next send opens its own window. The entry goes once all its windows have.
        --this.#counts[at] === 0
      )
        this.#ends[at] = Number.NEGATIVE_INFINITY;
  }

  get size(): number {
    return this.#slots.size;
  }

  /**
   * Visits up to `steps` slots from the sweep's position (round after round, as BoundedTable.sweep's cursor), deleting
   * the entries whose windows have all ended. Walking the slots rather than a Map iterator (an iterator result and a
   * [key, slot] pair per visit) measured 0.7k, 1.2k (empty tables) and 3.0k (40,000 destinations) fewer main-thread
   * instructions per AEPS send under callgrind (bench/throttle-micro.js --cg, pairs), for 8 B more per destination.
   */
  sweep(steps: number, now: number = this.capacity.now()): void {
    let left = Math.min(steps, this.#next);
    while (left-- > 0) {
      if (this.#sweepAt >= this.#next) this.#sweepAt = 0;
      const slot = this.#sweepAt++;
      const key = this.#keys[slot];
      if (key !== undefined && this.#ended(slot, now)) this.#delete(key, slot);
    }
  }

  sweepAll(): void {
    const now = this.capacity.now();
    for (let slot = 0; slot < this.#next; slot++) {
      const key = this.#keys[slot];
      if (key !== undefined && this.#ended(slot, now)) this.#delete(key, slot);
    }
  }

  /** Every window of the slot has ended: the entry's expiry is the latest of its windows'. */
  #ended(slot: number, now: number): boolean {
    for (let b = 0, at = slot * this.#budgets; b < this.#budgets; b++, at++) if (this.#ends[at] > now) return false;
    return true;
  }

  #delete(key: string, slot: number): void {
    this.#slots.delete(key);
    this.#keys[slot] = undefined;
    this.#free.push(slot);
    this.capacity.used--;
  }

  #allocate(): number {
    const reused = this.#free.pop();
    if (reused !== undefined) return reused;
    const slot = this.#next++;
    if (slot * this.#budgets >= this.#ends.length) {
      // A new slot is only asked for with room in the capacity, so `slot` < max: the columns never pass max slots.
      const slots = Math.min(Math.max(1, (this.#ends.length / this.#budgets) * 2), this.capacity.max);
      const ends = new Float64Array(slots * this.#budgets);
      const counts = new Int32Array(slots * this.#budgets);
      ends.set(this.#ends);
      counts.set(this.#counts);
      this.#ends = ends;
      this.#counts = counts;
    }
    return slot;
  }
}
