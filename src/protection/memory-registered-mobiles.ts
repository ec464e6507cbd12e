import { BoundedTable, Capacity } from "./bounded-table";
import type { KeyHasher } from "./key-hasher";
import { ClientShareFullError, MemoryStoreFullError } from "./memory-counters";
import {
  DEFAULT_CIBIL_REGISTERED_MOBILE_TTL_SECONDS,
  DEFAULT_MEMORY_REGISTERED_MOBILE_MAX_KEYS,
} from "./protection.settings";
import {
  FirstRegistrationPendingError,
  linkedId,
  merged,
  openMobiles,
  panLinkKey,
  recordKey,
  type RegisteredMobileStore,
  type RegisteredPan,
  registeredPan,
  RegistrationRaceError,
  refusalWaitMs,
  SEND_IN_PROGRESS_RETRY_MS,
  SEND_MARK_TTL_MS,
  sealMobiles,
  SendingKeys,
  STORE,
  tokenLinkKey,
  tokenLinkValue,
  withMobile,
} from "./registered-mobiles";
import type { StoreSealer } from "./store-sealer";
import { monotonicNow } from "../util/clock";

/**
 * The holds of PANs whose first registration here is under way (the memory store's; Redis keeps `regfirst:` keys):
 * by PAN link key, the holding registration's token and when the hold ends (monotonic ms). Not in the bounded table:
 * each entry lives at most the store's mark TTL after a registration the registration budgets (REGISTER_*)
 * allowed, and expired ones are dropped as new ones come.
 */
class FirstHolds {
  /** `lingers`: its registration ended with its outcome unknown (`firstEnded`): held until `until`, not released. */
  #holds = new Map<string, { token: string; until: number; lingers?: boolean }>();

  constructor(
    private readonly now: () => number,
    /** How long a hold lasts (FIRST_REGISTRATION_HOLD_MS at least: sendMarkTtlMs). */
    private readonly holdMs: number,
  ) {}

  /**
   * Holds `pan` for `token`, or throws FirstRegistrationPendingError while another token holds it: with the hold's
   * time left when it lingers, the short wait while its registration runs (it ends the hold when answered).
   */
  hold(pan: string, token: string): void {
    const now = this.now();
    const held = this.#holds.get(pan);
    if (held !== undefined && held.until > now && held.token !== token)
      throw new FirstRegistrationPendingError(held.lingers === true ? held.until - now : SEND_IN_PROGRESS_RETRY_MS);
    if (held === undefined && this.#holds.size >= FIRST_HOLDS_SWEEP_AT)
      for (const [key, h] of this.#holds) if (h.until <= now) this.#holds.delete(key);
    this.#holds.set(pan, { token, until: now + this.holdMs });
  }

  /** Drops `token`'s hold of `pan` (not another's); `lingers`: left to expire instead, and known to. */
  release(pan: string, token: string, lingers: boolean): void {
    const held = this.#holds.get(pan);
    if (held?.token !== token) return;
    if (lingers) held.lingers = true;
    else this.#holds.delete(pan);
  }
}
/** Holds kept before expired ones are looked for (each is about 200 B). */
const FIRST_HOLDS_SWEEP_AT = 1_000;

/**
 * The CIBIL ids (by record key) whose send ended with its outcome unknown, and when each stops counting as under way:
 * the store's mark TTL (sendMarkTtlMs) after its send started, as a Redis mark left behind
 * (RegisteredMobileStore.sent). Not in the bounded table: the sends' budgets allowed each, and expired ones are dropped
 * as new ones come.
 */
class LingeringMarks {
  #until = new Map<string, number>();

  constructor(private readonly now: () => number) {}

  keep(key: string, until: number): void {
    const now = this.now();
    if (until <= now || until <= (this.#until.get(key) ?? 0)) return;
    if (this.#until.size >= FIRST_HOLDS_SWEEP_AT) for (const [k, u] of this.#until) if (u <= now) this.#until.delete(k);
    this.#until.set(key, until);
  }

  /** How long `key` still counts as under way, in ms: 0 when it does not. */
  left(key: string): number {
    const until = this.#until.get(key);
    if (until === undefined) return 0;
    const left = until - this.now();
    if (left > 0) return left;
    this.#until.delete(key);
    return 0;
  }
}

/**
 * The in-memory records one registration may write: its CIBIL id's mobiles, its PAN's link and its access token's
 * (none when AOPay answers no token; the room is set aside before the answer, so for all three).
 */
export const RECORDS_PER_CUSTOMER = 3;

export interface MemoryRegisteredMobileOptions {
  ttlMs?: number;
  maxKeys: number;
  now?: () => number;
  /** How long a send's mark left to expire and a first registration's hold live (sendMarkTtlMs; SEND_MARK_TTL_MS). */
  markTtlMs?: number;
  /** Called on each registration refused because the table is full (the owner logs it, rate-limited). */
  onFull?: () => void;
  /**
   * The most records one client's registrations may hold (MEMORY_REGISTERED_MOBILE_CLIENT_SHARE_PERCENT of maxKeys);
   * default maxKeys: no share.
   */
  maxKeysPerOwner?: number;
  /** Called on each registration refused because its client holds its share (logged, rate-limited). */
  onOwnerFull?: () => void;
}

/**
 * One process. At most `maxKeys` records (MEMORY_REGISTERED_MOBILE_MAX_KEYS), RECORDS_PER_CUSTOMER per customer
 * registered here: its CIBIL id's mobiles, its PAN's link and its access token's. Without room for them, `ready`
 * throws: the registration is refused (PROTECTION_UNAVAILABLE) before anything is sent. Refusing rather than
 * registering without a record is the fail-closed choice: a full table is what a caller who registers many PANs to one
 * phone produces, and answering then would hand them exactly the unbudgeted CIBIL ids this store exists to prevent. A
 * live record is never evicted for the same reason. Lost on restart: those CIBIL ids are budgeted by id only (set
 * REDIS_URL to keep them). The table is every client's, and a record lives 90 days: each record counts for the client
 * whose registration wrote it last, and a client whose records hold `maxKeysPerOwner` (half the table by default) is
 * refused new registrations as a full table (PROTECTION_UNAVAILABLE, nothing sent) while the others still register.
 * Without it, one client registering within its budgets (REGISTER_*) for a day or two filled the table for every client
 * for 90 days (test/e2e/shared-tables.test.ts). The room `ready` sets aside counts in its client's share until
 * `released`, so registrations of one client running at once do not pass it either.
 */
export class MemoryRegisteredMobileStore implements RegisteredMobileStore {
  /**
   * `id:<record key>` → the id's mobiles (sealed list); `pan:<HMAC of the PAN>` → that record key;
   * `token:<HMAC of the token>` → that record key and the id, sealed (tokenLinkValue).
   */
  readonly #table: BoundedTable<{ value: string; expiresAt: number; owner?: string }>;
  /**
   * The table's cap, and each owner's share of it: its records (counted by BoundedTable) and the room `ready` sets
   * aside for its registrations still running (`Capacity.reserve`: RECORDS_PER_CUSTOMER places each), until `released`.
   * Without that
   * reservation, parallel registrations all saw the same last room before the call, all reached AOPay, and only the
   * first kept their mobiles: with room for two customers, 5 new registrations at once made 4 AOPay calls, 2 of them
   * unrecorded (their CIBIL ids' sends then budgeted by the id alone), 1 refused (test/e2e/contention.test.ts). Now
   * the others are refused before the call, as a full store.
   */
  readonly #capacity: Capacity;
  readonly #onOwnerFull: (() => void) | undefined;
  readonly #now: () => number;
  readonly #ttlMs: number;
  /**
   * Sends under way (`sending` to `sent`), by CIBIL id and record key. Not in the table: bounded by the requests in
   * flight (admission control), and an entry lives no longer than its request.
   */
  readonly #keys: SendingKeys;
  /** PANs whose first registration here is under way (`registering`, `firstEnded`). */
  readonly #firsts: FirstHolds;
  /** CIBIL ids whose send's outcome is unknown (`sent`): under way for `registering` until their marks expire. */
  readonly #lingering: LingeringMarks;
  readonly #markTtlMs: number;

  constructor(
    private readonly hasher: KeyHasher,
    private readonly sealer: StoreSealer,
    options: MemoryRegisteredMobileOptions = { maxKeys: DEFAULT_MEMORY_REGISTERED_MOBILE_MAX_KEYS },
  ) {
    // A step of the wall clock must not end or stretch a record (util/clock.ts).
    this.#now = options.now ?? monotonicNow;
    this.#ttlMs = options.ttlMs ?? DEFAULT_CIBIL_REGISTERED_MOBILE_TTL_SECONDS * 1000;
    const maxPerOwner = Math.min(options.maxKeys, options.maxKeysPerOwner ?? options.maxKeys);
    this.#capacity = new Capacity(options.maxKeys, this.#now, options.onFull, maxPerOwner);
    this.#onOwnerFull = options.onOwnerFull;
    this.#table = new BoundedTable(this.#capacity);
    this.#keys = new SendingKeys(hasher);
    this.#markTtlMs = options.markTtlMs ?? SEND_MARK_TTL_MS;
    this.#firsts = new FirstHolds(this.#now, this.#markTtlMs);
    this.#lingering = new LingeringMarks(this.#now);
  }

  /**
   * How many places `owner` holds (tests): its registrations' records and the room set aside for those still running
   * (0 without a share: nothing is counted).
   */
  heldBy(owner: string): number {
    return this.#capacity.heldBy(owner);
  }

  get size(): number {
    return this.#table.size;
  }

  ready(owner?: string): void {
    // Room for a new customer's records (its CIBIL id's mobiles, its PAN's link, its token's), first within its
    // client's share, with the room set aside for its registrations still running (its expired records swept first:
    // Capacity.ownerHasRoom). The share before the table's cap, as the other tables ask them: a client at its share
    // is told so, whether or not the table is full too (it was told the table was full).
    if (owner !== undefined && !this.#capacity.ownerHasRoom(owner, RECORDS_PER_CUSTOMER)) {
      this.#onOwnerFull?.();
      throw new ClientShareFullError("registered_mobile");
    }
    // Then the table's, beside the room already set aside: expired records swept first when full (rate-limited), like
    // an insert would.
    if (!this.#capacity.reserve(owner, RECORDS_PER_CUSTOMER)) throw new MemoryStoreFullError(STORE);
  }

  released(owner?: string): void {
    this.#capacity.unreserve(owner, RECORDS_PER_CUSTOMER);
  }

  pan(pan: string): RegisteredPan {
    return registeredPan(this.hasher, pan);
  }

  registering(pan: string | RegisteredPan, mobile: string, first?: string): void {
    const link = panLinkKey(this.hasher, pan);
    const key = this.#table.get(`pan:${link}`)?.value;
    if (key === undefined) {
      if (first !== undefined) this.#firsts.hold(link, first);
      return;
    }
    this.#add(key, mobile, true);
    // Refused with the time the refusal still holds: a lingering mark's time left (or a send's under way, the short
    // wait), so that a client retrying after it is let through.
    const underWay = this.#keys.underWay(key);
    const lingering = this.#lingering.left(key);
    if (underWay || lingering > 0) throw new RegistrationRaceError(refusalWaitMs(lingering, underWay));
  }

  async firstEnded(pan: string | RegisteredPan, first: string, mayStillApply: boolean): Promise<void> {
    this.#firsts.release(panLinkKey(this.hasher, pan), first, mayStillApply);
  }

  sending(cibilId: string, token?: string, marked?: string[]): readonly string[] {
    const entry = this.#keys.started(cibilId);
    const key = entry.key;
    entry.startedAt = this.#now();
    let mobiles: readonly string[];
    let linked: string | undefined;
    try {
      mobiles = this.#recall(key);
      if (token !== undefined) {
        const link = tokenLinkKey(this.hasher, token);
        const value = this.#table.get(`token:${link}`)?.value;
        if (value !== undefined) linked = linkedId(this.sealer, link, value, { key, id: cibilId });
      }
      // The token's own id, marked and recalled as this one (throws having unmarked it).
      if (linked !== undefined) mobiles = merged([mobiles], this.sending(linked));
    } catch (error) {
      // Refused (a record that does not open): not under way. Synchronous, so no registration saw the mark.
      this.#keys.ended(cibilId);
      throw error;
    }
    if (linked !== undefined) marked?.push(linked);
    return mobiles;
  }

  async sent(cibilId: string, mayStillApply = false): Promise<void> {
    const { key, startedAt } = this.#keys.ended(cibilId);
    // Its outcome unknown: counted as under way until its mark would expire in Redis.
    if (mayStillApply && startedAt !== undefined) this.#lingering.keep(key, startedAt + this.#markTtlMs);
  }

  async remember(
    cibilId: string,
    mobile: string,
    pan: string | RegisteredPan,
    owner?: string,
    token?: string,
  ): Promise<void> {
    const key = recordKey(this.hasher, cibilId);
    this.#add(key, mobile, false, owner);
    this.#insert(`pan:${panLinkKey(this.hasher, pan)}`, key, owner);
    if (token === undefined) return;
    const link = tokenLinkKey(this.hasher, token);
    this.#insert(`token:${link}`, tokenLinkValue(this.sealer, link, key, cibilId), owner);
  }

  recall(cibilId: string): readonly string[] {
    return this.#recall(recordKey(this.hasher, cibilId));
  }

  #recall(key: string): readonly string[] {
    const record = this.#table.get(`id:${key}`);
    return record === undefined ? [] : openMobiles(this.sealer, key, record.value);
  }

  /** `owner` undefined (a mobile added before the call, `registering`): the record stays its owner's. */
  #add(key: string, mobile: string, beforeCall: boolean, owner?: string): void {
    const record = this.#table.get(`id:${key}`);
    const mobiles = record === undefined ? [] : openMobiles(this.sealer, key, record.value);
    const sealed = sealMobiles(this.sealer, key, withMobile(mobiles, mobile, beforeCall));
    this.#insert(`id:${key}`, sealed, owner ?? record?.owner);
  }

  #insert(key: string, value: string, owner?: string): void {
    // Full only if this registration's room was given back early, or another record took it (a send cannot: it only
    // reads).
    // A record replaced stops counting for its owner, this one counts for `owner` (BoundedTable).
    if (!this.#table.insert(key, { value, expiresAt: this.#now() + this.#ttlMs, owner }))
      throw new MemoryStoreFullError(STORE);
  }
}
