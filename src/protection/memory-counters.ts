import { BoundedTable, type Capacity } from "./bounded-table";
import { ProtectionStoreError } from "./errors";

/**
 * Fixed-window counters in this process's memory, with rate-limiter-flexible's semantics (what RateLimiterRedis
 * keeps doing with REDIS_URL): the first consume of a key opens a window of `durationMs`; every consume, refused ones
 * included, adds one; a consume is allowed while the count is at most `points`; `msBeforeNext` is the time left in
 * the window; `reward` takes one back. One entry per key and budget, `{ consumed, expiresAt }`, in a BoundedTable: no
 * timer, no promise, no closure per key (the memory per destination is measured in
 * test/unit/protection/memory-footprint.test.ts and docs/security.md).
 */

export interface CounterOutcome {
  allowed: boolean;
  /** Points left in the window after this consume (0 when refused). */
  remainingPoints: number;
  /** Time until the window resets. */
  msBeforeNext: number;
}

/** One budget's counters, in memory or Redis. `consume` throws ProtectionStoreError when the store cannot answer. */
export interface BudgetCounter {
  consume(key: string): CounterOutcome | Promise<CounterOutcome>;
  reward(key: string): void | Promise<void>;
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

export class MemoryCounter implements BudgetCounter {
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

  reward(key: string): void {
    const window = this.#table.get(key);
    if (window !== undefined && window.consumed > 0) window.consumed--;
  }

  get size(): number {
    return this.#table.size;
  }
}
