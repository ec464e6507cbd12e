import { BoundedTable, type Capacity, SWEEP_STEP, type Sweepable } from "./bounded-table";
import { ProtectionStoreError } from "./errors";
import { KeyIndex } from "./key-index";
import { growPages, PAGE_MASK, PAGE_SHIFT, PAGE_SLOTS } from "./paged";

/**
 * The throttle's counters in this process's memory. MemoryCounter: fixed-window counters with rate-limiter-flexible's
 * semantics (what the Redis store's script does per key with REDIS_URL, redis-budgets.ts): the first consume of a key
 * opens a window of `durationMs`; every consume, refused ones included, adds one; a consume is allowed while the count
 * is at most `points`; `msBeforeNext` is the time left in the window; `reward` takes one back. One budget, one entry
 * per key, `{ consumed, expiresAt }`, in a BoundedTable (prefix, IP, client, global, verify). DestinationCounters: a
 * destination's cooldown, window and daily budgets under one entry, as exact sliding windows (the times of its last
 * sends). No timer, no promise, no closure per key (the memory per destination is measured in
 * test/unit/protection/memory-footprint.test.ts and docs/security.md).
 */

export interface CounterOutcome {
  allowed: boolean;
  /** Points left in the window after this consume (0 when refused). */
  remainingPoints: number;
  /** Time until the window resets. */
  msBeforeNext: number;
}

/**
 * Counters whose points can be given back: one budget's (MemoryCounter), or a destination's send (DestinationCounters:
 * `taken` 0 says its consume added nothing, a refusal; it removes the one send time it added, and no other). For a
 * fixed window, `takenAt` is the clock reading of the consume being given back: only a window that was already open then
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
  reward(key: string, takenAt: number, taken?: number): void;
}

/** A key's current window. */
export interface Window {
  consumed: number;
  expiresAt: number;
  /** The client whose send opened it (its capacity's share counts it), or undefined. */
  owner: string | undefined;
}

/** The in-memory tables are full: a new key cannot be counted, so the send is refused (fail closed). */
export class MemoryStoreFullError extends ProtectionStoreError {
  constructor(what: string) {
    super(what, new Error("in-memory table full"));
    this.name = "MemoryStoreFullError";
  }
}

/** The in-memory tables one client can hold a share of (a metric label: fixed values). */
export type SharedTable = "idempotency" | "registered_mobile" | "throttle";

const SHARED_TABLE_NAMES: Readonly<Record<SharedTable, string>> = {
  idempotency: "idempotency",
  registered_mobile: "registered mobile",
  throttle: "otp throttle",
};

/**
 * A client holds its share of an in-memory table every client shares (idempotency-store.ts,
 * memory-registered-mobiles.ts, the throttle's counters here):
 * its request needing a new entry is refused as a full table would refuse it (PROTECTION_UNAVAILABLE, nothing sent),
 * the other clients' are not. Counted apart from the store failing (observer.overShare): it is that client's limit,
 * not an outage, and pages no one.
 */
export class ClientShareFullError extends MemoryStoreFullError {
  constructor(readonly table: SharedTable) {
    super(SHARED_TABLE_NAMES[table]);
    this.name = "ClientShareFullError";
  }
}

export class MemoryCounter {
  readonly #table: BoundedTable<Window>;

  constructor(
    private readonly points: number,
    private readonly durationMs: number,
    private readonly capacity: Capacity,
  ) {
    // With a share, a window counts for the client that opened it while it is in the table (BoundedTable).
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
   * it before the next call for the same key. Throws MemoryStoreFullError when a new window finds no room, and
   * ClientShareFullError when `owner` (the sending client) holds its share of the capacity: the window is counted
   * for it.
   */
  take(key: string, now: number, owner?: string): Window {
    let window = this.#table.get(key, now);
    if (window === undefined) {
      if (owner !== undefined && !this.capacity.ownerHasRoom(owner)) throw new ClientShareFullError("throttle");
      window = { consumed: 0, expiresAt: now + this.durationMs, owner };
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

/**
 * The longest span a DestinationCounters takes: 2^32 ms less 2^30 (37 days; OTP_WINDOW_SECONDS' limit is 31): at least
 * 12 days between two moves of its epoch.
 */
const MAX_SPAN_MS = 2 ** 32 - 2 ** 30;

/** A destination budget as DestinationCounters judges it: at most `points` sends in any span of `durationMs`. */
export interface SlidingBudget {
  readonly points: number;
  readonly durationMs: number;
}

/**
 * A destination's budgets (cooldown, window, daily) as exact sliding windows, under ONE key: one table entry per
 * destination. The entry holds the times of the destination's last counted sends, and a send is allowed iff, for each
 * budget, fewer than its points of them lie in the span of its length ending now: a send at `t` counts in that span
 * while `now < t + durationMs`, so the budget refuses iff its `points`-th most recent send is that recent, until it
 * leaves the span (docs/security.md "What a window is, and which clock times it"). Fixed windows, as before, bounded
 * only the sends within one window: 5 sends in 4 minutes across a 10-minute window's end under "3 per 10 minutes", 19
 * in 70 minutes across a day's end under "10 per day".
 *
 * Depth: the times of the last N sends, N = the largest budget's points (10 with the defaults; OTP_WINDOW_MAX and
 * OTP_DAILY_MAX are capped at 100 for that reason, otp-throttle.settings.ts). That is enough for every budget: a budget
 * reads its `points`-th most recent send at most. A send is added only when every budget allowed it (judge first,
 * then `add`: a refused attempt writes nothing), and `add` first drops the sends older than the longest span, which
 * count in no budget ever again. Nothing in the span of the longest budget is ever dropped: that budget allowed the
 * send, so its span held fewer than its points (≤ N) sends before it; the depth is never exceeded.
 *
 * A give-back (`reward`: a send that provably never left, or an allowed consume of a send another budget refused)
 * removes the one time it added. Two sends in the same millisecond are the same time and count the same; a time that
 * was dropped is out of every span, and so are all the sends of its millisecond (dropped with it): no give-back ever
 * removes another send that still counts.
 *
 * Layout: every column is a typed array, off the JS heap (nothing per destination for the collector to copy or mark,
 * but the client's name with a share, below). `#keys` (key-index.ts) holds each slot's key, packed 4 characters to a
 * word, and finds a key's slot by an open-addressing hash index over them; the times live in a column, `depth` per
 * slot, oldest first (`#times`), with each slot's number of times in `#lengths`. Freed slots are reused; the columns
 * are pages of 1,024 slots (paged.ts), one added when the slots are all taken (never past the capacity's max), none
 * copied; the key index (8 B a slot) doubles; nothing shrinks. A time is kept as whole milliseconds after the table's
 * `#epoch` (the monotonic clock's epoch ms, src/util/clock.ts, as every caller reads it), in 4 bytes rather than a
 * Float64's 8: 2^32 ms is 49.7 days, and when a time would pass that, every time is moved to a new epoch, the longest
 * span before now (a time older than that counts in no span, and is clamped to it): with spans up to 31 days
 * (OTP_WINDOW_SECONDS' limit) that happens at most once every 18 days, one pass over the columns. Memory per slot with
 * the defaults (depth 10): 40 B of times, 2 B of length, 44 B of key and 1 B of its length, and 8 B of index (two
 * places of 4 B per slot): 95 B; measured 97-98 B of typed arrays and 3 B of heap per entry at the cap, 101-107 B in
 * all, and 107-113 B per destination as the table grows (161-165 B when the columns doubled, the spread being where the
 * last doubling fell; docs/security.md "Memory"). The keys were strings in a Map and an array before: 111-132 B of heap
 * per destination, promoted to the old generation with every new destination and walked by every mark-compact
 * (docs/performance-runs.md, the run at 9aece09). The entry lives until its newest send leaves the longest span; the
 * incremental and full sweeps remove it only then.
 *
 * With a share (MEMORY_THROTTLE_CLIENT_SHARE_PERCENT below 100: the capacity counts entries per client), `#owners`
 * names each slot's client: the one whose send opened it, then the one whose send was last added to it (the send that
 * keeps it alive), 8 B more per destination, on the heap (an array of references: the names are the clients' few
 * shared strings). A client holding its share is refused a new destination
 * (ClientShareFullError); a send to a destination another client keeps is never refused for the share, it only moves
 * the entry to the sender's count.
 */
export class DestinationCounters implements Sweepable, Refundable {
  /** Each slot's key, and the slot of each key (key-index.ts): typed arrays, off the JS heap. */
  readonly #keys: KeyIndex;
  readonly #points: Int32Array;
  readonly #durationsMs: Float64Array;
  /** Times kept per slot: the largest budget's points. */
  readonly #depth: number;
  /** The longest budget's span: a send older than that counts in none. */
  readonly #longestMs: number;
  /** Whole ms after #epoch, `#depth` per slot, in pages (paged.ts). */
  readonly #times: Uint32Array[] = [];
  #epoch = 0;
  /** Each slot's number of times, in pages. */
  readonly #lengths: Uint16Array[] = [];
  /** Slots the pages hold. */
  #slots: number;
  /** Slots freed by deletes, reused first. */
  readonly #free: number[] = [];
  /** Slots ever handed out (the next fresh one). */
  #next = 0;
  /** The incremental sweep's next slot. */
  #sweepAt = 0;
  /** Each slot's client, with a share (null without one: nothing counted per client). */
  readonly #owners: Array<string | undefined> | null;

  constructor(
    budgets: readonly SlidingBudget[],
    private readonly capacity: Capacity,
  ) {
    this.#points = Int32Array.from(budgets, (b) => b.points);
    this.#durationsMs = Float64Array.from(budgets, (b) => b.durationMs);
    this.#depth = Math.max(1, ...this.#points);
    this.#longestMs = Math.max(0, ...this.#durationsMs);
    if (budgets.some((b) => !Number.isInteger(b.points) || b.points < 1) || this.#depth > 0xffff)
      throw new RangeError("DestinationCounters: points must be whole numbers from 1 to 65535");
    if (!(this.#longestMs <= MAX_SPAN_MS)) throw new RangeError("DestinationCounters: spans must be at most 37 days");
    this.#slots = Math.min(PAGE_SLOTS, capacity.max);
    this.#addPages();
    this.#keys = new KeyIndex(this.#slots);
    this.#owners = capacity.shared ? [] : null;
    capacity.join(this);
  }

  /**
   * The slot of `key`'s entry, made (with no send) when there is none: read `recent` and `waitMs`, then `add` if the
   * send is allowed. A new key takes one unit of the capacity; throws MemoryStoreFullError when there is none, and
   * ClientShareFullError when `owner` (the sending client) holds its share of it.
   */
  open(key: string, now: number, owner?: string): number {
    const slot = this.#keys.find(key);
    if (slot !== -1) return slot;
    // The sweeps in between remove keys (KeyIndex's protocol allows it): the key found absent is still absent.
    this.sweep(SWEEP_STEP, now);
    if (owner !== undefined && !this.capacity.ownerHasRoom(owner)) throw new ClientShareFullError("throttle");
    if (!this.capacity.makeRoom()) throw new MemoryStoreFullError("otp throttle");
    const fresh = this.#allocate();
    this.#keys.insert(fresh);
    this.#lengths[fresh >> PAGE_SHIFT][fresh & PAGE_MASK] = 0;
    this.capacity.used++;
    if (this.#owners !== null) {
      this.#owners[fresh] = owner;
      this.capacity.hold(owner);
    }
    return fresh;
  }

  /** The time of the slot's `k`-th most recent send (1: the latest), or -Infinity with fewer than `k`. */
  recent(slot: number, k: number): number {
    const length = this.#lengths[slot >> PAGE_SHIFT][slot & PAGE_MASK];
    return k <= length
      ? this.#epoch + this.#times[slot >> PAGE_SHIFT][(slot & PAGE_MASK) * this.#depth + length - k]
      : Number.NEGATIVE_INFINITY;
  }

  /**
   * Milliseconds until budget `budget` takes one more send, 0 if it takes one now: its `points`-th most recent send
   * leaves the span at that send's time + the span (a send at `t` counts while `now < t + durationMs`).
   */
  waitMs(slot: number, budget: number, now: number): number {
    return Math.max(0, this.recent(slot, this.#points[budget]) + this.#durationsMs[budget] - now);
  }

  /**
   * Counts a send at `now` (every budget allowed it): the sends out of the longest span go first. With a share, the
   * entry now counts for `owner`, whose send keeps it alive.
   */
  add(slot: number, now: number, owner?: string): void {
    const owners = this.#owners;
    if (owners !== null && owner !== undefined && owners[slot] !== owner) {
      this.capacity.release(owners[slot]);
      this.capacity.hold(owner);
      owners[slot] = owner;
    }
    let at = now - this.#epoch;
    if (at < 0 || at > 0xffffffff) at = this.#rebase(now);
    const times = this.#times[slot >> PAGE_SHIFT];
    const lengths = this.#lengths[slot >> PAGE_SHIFT];
    const base = (slot & PAGE_MASK) * this.#depth;
    let length = lengths[slot & PAGE_MASK];
    let stale = 0;
    // Out of the longest span: `time + longest <= now`, in offsets from the epoch.
    const oldest = at - this.#longestMs;
    while (stale < length && times[base + stale] <= oldest) stale++;
    // Never with every budget judged first (the class comment); if it were, the oldest is the one to lose.
    if (length - stale === this.#depth) stale++;
    if (stale > 0) {
      times.copyWithin(base, base + stale, base + length);
      length -= stale;
    }
    times[base + length] = at;
    lengths[slot & PAGE_MASK] = length + 1;
  }

  /**
   * Moves every time to a new epoch, the longest span before `now` (a time before it counts in no span any more: it is
   * clamped to it, which counts in none either), and answers `now`'s offset from it. At most once every 49.7 days less
   * the longest span, on the monotonic clock (which never goes back; another clock's step back is clamped the same way).
   */
  #rebase(now: number): number {
    const epoch = now - this.#longestMs;
    const shift = epoch - this.#epoch;
    for (let slot = 0; slot < this.#next; slot++) {
      const times = this.#times[slot >> PAGE_SHIFT];
      const start = (slot & PAGE_MASK) * this.#depth;
      for (let i = start, end = start + this.#lengths[slot >> PAGE_SHIFT][slot & PAGE_MASK]; i < end; i++)
        times[i] = Math.min(0xffffffff, Math.max(0, times[i] - shift));
    }
    this.#epoch = epoch;
    return now - epoch;
  }

  /**
   * Gives back the send `add` counted at `takenAt` (Refundable): removes one time equal to it, the newest first, and
   * nothing if there is none (dropped: out of every span). `taken` 0: that consume added nothing (it was refused).
   */
  reward(key: string, takenAt: number, taken = 1): void {
    if (taken === 0) return;
    const slot = this.#keys.find(key);
    if (slot === -1) return;
    const times = this.#times[slot >> PAGE_SHIFT];
    const lengths = this.#lengths[slot >> PAGE_SHIFT];
    const base = (slot & PAGE_MASK) * this.#depth;
    const length = lengths[slot & PAGE_MASK];
    for (let i = length - 1; i >= 0; i--) {
      const t = this.#epoch + times[base + i];
      if (t === takenAt) {
        times.copyWithin(base + i, base + i + 1, base + length);
        lengths[slot & PAGE_MASK] = length - 1;
        return;
      }
      // Oldest first: nothing older can equal it.
      if (t < takenAt) return;
    }
  }

  get size(): number {
    return this.#keys.size;
  }

  /**
   * Visits up to `steps` slots from the sweep's position (round after round, as BoundedTable.sweep's cursor), deleting
   * the entries whose sends have all left the longest span. Walking the slots rather than a Map iterator (an iterator
   * result and a [key, slot] pair per visit) measured 0.7k, 1.2k (empty tables) and 3.0k (40,000 destinations) fewer
   * main-thread instructions per AEPS send under callgrind (bench/throttle-micro.js --cg, pairs); whether a slot holds
   * a key is read from the key column (KeyIndex.holds).
   */
  sweep(steps: number, now: number = this.capacity.now()): void {
    let left = Math.min(steps, this.#next);
    while (left-- > 0) {
      if (this.#sweepAt >= this.#next) this.#sweepAt = 0;
      const slot = this.#sweepAt++;
      if (this.#keys.holds(slot) && this.#ended(slot, now)) this.#delete(slot);
    }
  }

  sweepAll(): void {
    const now = this.capacity.now();
    for (let slot = 0; slot < this.#next; slot++)
      if (this.#keys.holds(slot) && this.#ended(slot, now)) this.#delete(slot);
  }

  /** No send of the slot counts in any span any more (or it holds none: a refused attempt's, a refund's). */
  #ended(slot: number, now: number): boolean {
    const length = this.#lengths[slot >> PAGE_SHIFT][slot & PAGE_MASK];
    if (length === 0) return true;
    const last = this.#times[slot >> PAGE_SHIFT][(slot & PAGE_MASK) * this.#depth + length - 1];
    return this.#epoch + last + this.#longestMs <= now;
  }

  #delete(slot: number): void {
    this.#keys.remove(slot);
    this.#lengths[slot >> PAGE_SHIFT][slot & PAGE_MASK] = 0;
    this.#free.push(slot);
    this.capacity.used--;
    if (this.#owners !== null) {
      this.capacity.release(this.#owners[slot]);
      this.#owners[slot] = undefined;
    }
  }

  #allocate(): number {
    const reused = this.#free.pop();
    if (reused !== undefined) return reused;
    const slot = this.#next++;
    if (slot >= this.#slots) {
      // A new slot is only asked for with room in the capacity, so `slot` < max: the columns never pass max slots.
      this.#slots = Math.min(this.#slots + PAGE_SLOTS, this.capacity.max);
      this.#addPages();
      this.#keys.grow(this.#slots);
    }
    return slot;
  }

  /** Pages for `#slots` slots: the ones missing added, none copied (a last page below PAGE_SLOTS is, paged.ts). */
  #addPages(): void {
    growPages(this.#times, this.#depth, this.#slots, (length) => new Uint32Array(length));
    growPages(this.#lengths, 1, this.#slots, (length) => new Uint16Array(length));
  }
}
