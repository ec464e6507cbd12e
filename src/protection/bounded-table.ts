/**
 * The in-memory stores' table (throttle counters, idempotency records, consent): a Map whose values carry their own
 * expiry, with a hard cap on the number of entries. It replaces rate-limiter-flexible's memory store and lru-cache
 * there, because of what a day of sends costs (docs/security.md "Memory"): rate-limiter-flexible keeps one setTimeout
 * per key (a Timeout object and a closure per budget and destination: 1,374 B per destination after GC for the three
 * destination budgets, 2.4 kB for the whole server), and a least-recently-used cache evicts live entries when full,
 * which for a throttle means forgetting a budget (fail open).
 *
 * - No timers: an entry past its expiry is treated as absent when read, and removed when met.
 * - Incremental sweep: each insert also visits a few entries (SWEEP_STEP) from a cursor that walks the whole table
 *   round after round, deleting the expired ones, so expired entries go without anyone reading them again.
 * - Hard cap: an insert into a full table first sweeps every table sharing the capacity (at most once per
 *   FULL_SWEEP_INTERVAL_MS, so a full table under attack costs one pass per second, not one per request); if there is
 *   still no room, `insert` returns false and the caller refuses (fail closed: PROTECTION_UNAVAILABLE). Live entries
 *   are never evicted: an evicted counter is a forgotten budget.
 * - Synchronous: no promise and no closure per entry; the clock is injected for tests.
 * - Monotonic by default (util/clock.ts): a step of the wall clock neither ends nor stretches an entry's life.
 */

import { monotonicNow } from "../util/clock";

/**
 * What a table holds: anything that knows when it expires (ms on the table's clock, monotonicNow by default), and the
 * owner (a client) it counts for under its capacity's share, if any.
 */
export interface Expiring {
  expiresAt: number;
  owner?: string;
}

/** Entries visited by the incremental sweep on each insert. */
export const SWEEP_STEP = 4;
/** A full table runs a complete sweep at most this often. */
export const FULL_SWEEP_INTERVAL_MS = 1_000;

/** A table that can drop all its expired entries at once (what a full Capacity asks of its members). */
export interface Sweepable {
  sweepAll(): void;
}

/**
 * A count of entries shared by several tables (the throttle's budgets share one cap), with the tables to sweep when it
 * is reached. With a share (`maxPerOwner` below `max`), also the places each owner (a client) holds: its tables'
 * entries (a BoundedTable counts them itself, by their `owner`; DestinationCounters tells `hold` and `release`) and
 * what a store sets aside for it (memory-registered-mobiles.ts `ready`). Callers ask `ownerHasRoom` before an
 * owner's new entry. The one per-owner count of the in-memory tables: the throttle's, the idempotency records' and the
 * registered mobiles' each kept their own until they were made to share this one
 * (test/unit/protection/owner-share.test.ts).
 */
export class Capacity {
  used = 0;
  /**
   * Places set aside (`reserve`) for entries about to be written, until given back (`unreserve`): a reservation keeps
   * them from other reservations, not from inserts (`makeRoom` counts `used` alone), since the one who holds it
   * inserts into it (memory-registered-mobiles.ts: a registration reserves RECORDS_PER_CUSTOMER places, three, before
   * its upstream call, writes its records after, then gives them back).
   */
  reserved = 0;
  #lastFullSweep = Number.NEGATIVE_INFINITY;
  readonly #members: Sweepable[] = [];
  /** Entries held per owner (only owners holding one or more); null without a share. */
  readonly #held: Map<string, number> | null;

  constructor(
    readonly max: number,
    readonly now: () => number = monotonicNow,
    /** Called whenever an insert is refused for want of room (the owner logs it, rate-limited). */
    private readonly onFull?: () => void,
    /** The most entries one owner may hold; default `max`: no share, and no count per owner. */
    readonly maxPerOwner: number = max,
  ) {
    if (!Number.isInteger(max) || max < 1) throw new Error("Capacity max must be a positive integer");
    if (!Number.isInteger(maxPerOwner) || maxPerOwner < 1) throw new Error("Capacity share must be a positive integer");
    this.#held = maxPerOwner < max ? new Map() : null;
  }

  /** Whether entries are counted per owner (a share below the whole). */
  get shared(): boolean {
    return this.#held !== null;
  }

  /**
   * Whether `owner` may take one more entry. At its share, the members' expired entries are swept first (at most once
   * per FULL_SWEEP_INTERVAL_MS, with makeRoom's: a client refused again and again costs one pass a second, not one per
   * request), so that it is refused no longer than its entries live.
   */
  ownerHasRoom(owner: string, places = 1): boolean {
    const held = this.#held;
    if (held === null || (held.get(owner) ?? 0) + places <= this.maxPerOwner) return true;
    const now = this.now();
    if (now - this.#lastFullSweep < FULL_SWEEP_INTERVAL_MS) return false;
    this.#lastFullSweep = now;
    for (const table of this.#members) table.sweepAll();
    return (held.get(owner) ?? 0) + places <= this.maxPerOwner;
  }

  /** How many places `owner` holds (0 without a share: nothing is counted). */
  heldBy(owner: string): number {
    return this.#held?.get(owner) ?? 0;
  }

  /** `places` more counted for `owner` (nothing without a share). */
  hold(owner: string | undefined, places = 1): void {
    const held = this.#held;
    if (held !== null && owner !== undefined) held.set(owner, (held.get(owner) ?? 0) + places);
  }

  /** `places` counted for `owner` given back (nothing without a share). */
  release(owner: string | undefined, places = 1): void {
    const held = this.#held;
    if (held === null || owner === undefined) return;
    const left = (held.get(owner) ?? 0) - places;
    if (left > 0) held.set(owner, left);
    else held.delete(owner);
  }

  join(table: Sweepable): void {
    this.#members.push(table);
  }

  /** Room for one more entry, sweeping the members once if full (rate-limited). */
  makeRoom(): boolean {
    return this.#room(1);
  }

  /**
   * Sets aside `places` for `owner` (counted in its share too, as its entries are: `hold`): false, with nothing set
   * aside, when the entries and the reservations already made leave less room than that, after a sweep of the members
   * (rate-limited, as makeRoom's). The owner's share is the caller's to ask first (`ownerHasRoom`).
   */
  reserve(owner: string | undefined, places: number): boolean {
    if (!this.#room(this.reserved + places)) return false;
    this.reserved += places;
    this.hold(owner, places);
    return true;
  }

  /** Gives back `places` that `reserve` set aside for `owner`. */
  unreserve(owner: string | undefined, places: number): void {
    this.reserved = Math.max(0, this.reserved - places);
    this.release(owner, places);
  }

  /** Whether `needed` more places fit beside the entries, sweeping the members once if not (rate-limited). */
  #room(needed: number): boolean {
    if (this.used + needed <= this.max) return true;
    const now = this.now();
    if (now - this.#lastFullSweep < FULL_SWEEP_INTERVAL_MS) {
      this.onFull?.();
      return false;
    }
    this.#lastFullSweep = now;
    for (const table of this.#members) table.sweepAll();
    if (this.used + needed <= this.max) return true;
    this.onFull?.();
    return false;
  }
}

export class BoundedTable<V extends Expiring> implements Sweepable {
  readonly #map = new Map<string, V>();
  readonly #capacity: Capacity;
  #cursor: MapIterator<[string, V]> | null = null;

  /** Whether entries count for their owner (the capacity has a share): looked up as they leave or are replaced. */
  readonly #owned: boolean;
  /** Called with each entry that leaves (deleted, expired, replaced): a table that counts more than entries. */
  readonly #onLeave: ((value: V) => void) | undefined;
  /** Whether a leaving entry must be looked up (#owned, or #onLeave set). */
  readonly #lookUp: boolean;

  /**
   * `capacity`: a number for a table of its own, or a Capacity shared with other tables (and their clock). With a
   * share, each entry counts for its `owner` while it is in the table: from its insert until it is deleted, expires or
   * is replaced (then the new entry counts for its own owner: a key taken again is counted once).
   */
  constructor(capacity: number | Capacity, now?: () => number, onLeave?: (value: V) => void) {
    this.#capacity = typeof capacity === "number" ? new Capacity(capacity, now) : capacity;
    this.#capacity.join(this);
    this.#owned = this.#capacity.shared;
    this.#onLeave = onLeave;
    this.#lookUp = this.#owned || onLeave !== undefined;
  }

  get size(): number {
    return this.#map.size;
  }

  /**
   * The live entry, or undefined (an expired one is removed). The value is the stored object: mutate it in place.
   * `now` (default: the capacity's clock) lets a caller that makes several calls for one request read the clock once.
   */
  get(key: string, now: number = this.#capacity.now()): V | undefined {
    const value = this.#map.get(key);
    if (value === undefined) return undefined;
    if (value.expiresAt <= now) {
      this.#delete(key);
      return undefined;
    }
    return value;
  }

  /**
   * Stores `value` under `key` (replacing any entry; a replaced entry moves to the end, which keeps insertion order
   * close to expiry order for the sweep). False when the table is full and the key is new: nothing was stored.
   */
  insert(key: string, value: V, now: number = this.#capacity.now()): boolean {
    this.sweep(SWEEP_STEP, now);
    const replaced = this.#lookUp ? this.#map.get(key) : undefined;
    if (this.#map.delete(key)) {
      this.#map.set(key, value);
      if (replaced !== undefined && this.#owned) {
        this.#capacity.release(replaced.owner);
        this.#capacity.hold(value.owner);
      }
      if (replaced !== undefined) this.#onLeave?.(replaced);
      return true;
    }
    return this.#add(key, value);
  }

  /**
   * `insert` for a key the caller has just seen absent (`get` returned undefined, and nothing ran in between): the
   * same sweep and cap, without looking the key up to replace it. False when the table is full.
   */
  insertAbsent(key: string, value: V, now: number): boolean {
    this.sweep(SWEEP_STEP, now);
    return this.#add(key, value);
  }

  #add(key: string, value: V): boolean {
    if (!this.#capacity.makeRoom()) return false;
    this.#map.set(key, value);
    this.#capacity.used++;
    if (this.#owned) this.#capacity.hold(value.owner);
    return true;
  }

  delete(key: string): boolean {
    return this.#delete(key);
  }

  /** Visits up to `steps` entries from the sweep cursor, deleting expired ones; the cursor wraps at the end. */
  sweep(steps: number, now: number = this.#capacity.now()): void {
    let left = Math.min(steps, this.#map.size);
    while (left-- > 0) {
      this.#cursor ??= this.#map.entries();
      const next = this.#cursor.next();
      if (next.done) {
        this.#cursor = null;
        continue;
      }
      // Deleting the entry the iterator just returned is safe: Map iterators step over deleted entries.
      if (next.value[1].expiresAt <= now) this.#delete(next.value[0]);
    }
  }

  /** Deletes every expired entry (one pass over the table). */
  sweepAll(): void {
    const now = this.#capacity.now();
    for (const [key, value] of this.#map) if (value.expiresAt <= now) this.#delete(key);
    this.#cursor = null;
  }

  #delete(key: string): boolean {
    const value = this.#lookUp ? this.#map.get(key) : undefined;
    if (!this.#map.delete(key)) return false;
    this.#capacity.used--;
    if (value !== undefined) {
      if (this.#owned) this.#capacity.release(value.owner);
      this.#onLeave?.(value);
    }
    return true;
  }
}
