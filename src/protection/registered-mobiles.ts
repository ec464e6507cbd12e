import type Redis from "ioredis";
import { BoundedTable, Capacity } from "./bounded-table";
import { ProtectionStoreError } from "./errors";
import type { KeyHasher } from "./key-hasher";
import { MemoryStoreFullError } from "./memory-counters";
import type { MaybePromise } from "./otp-throttle";
import {
  DEFAULT_CIBIL_REGISTERED_MOBILE_TTL_SECONDS,
  DEFAULT_MEMORY_REGISTERED_MOBILE_MAX_KEYS,
} from "./protection.settings";
import type { StoreSealer } from "./store-sealer";

/**
 * "The OTPs of CIBIL id X go to mobile M": learnt when registerCibilCustomer succeeds (the registration's input
 * carries the customer's mobile, AOPay answers the CIBIL id), read when generateCibilOtp sends. AOPay's GenerateOTP
 * takes only the CIBIL id and sends the OTP to the customer's REGISTERED mobile (docs/upstream/aopay-api.md §1 flow
 * and §1.2), so without this record a caller could register several PANs with one victim's mobile and send one OTP
 * per CIBIL id to that phone, each CIBIL id a fresh budget: the mobile's cooldown, window, daily cap and prefix
 * budget would never apply (docs/security.md "Which destinations a send counts on"). With it, the send is budgeted on
 * the CIBIL id AND the mobile, the same "mobile" dimension AEPS sends use, so AEPS and CIBIL sends to one phone share
 * its budgets.
 *
 * At rest: the key is the HMAC of the CIBIL id (KeyHasher, dimension "registered-mobile"), never the id; the value is
 * the mobile sealed with AES-256-GCM (StoreSealer), its AAD binding it to that key: a value copied under another
 * CIBIL id's key does not open. A value that does not open (tampered, moved, sealed under a key no longer configured)
 * is a store failure: the send is refused (PROTECTION_UNAVAILABLE), never sent on the CIBIL id's budget alone.
 *
 * A CIBIL id with no record (registered before this store existed, through another system, more than the TTL ago, or
 * in memory before a restart) is budgeted by its CIBIL id only, as before: the record is a best knowledge, not a
 * condition of sending. A later registration of the same CIBIL id replaces the mobile (AOPay keeps the latest).
 *
 * TTL (CIBIL_REGISTERED_MOBILE_TTL_SECONDS, 90 days by default): registration is once per customer (§1.1) and the
 * CIBIL id stays usable afterwards, so a short TTL would only delay the flood (register many PANs today, generate
 * once the records are gone). The record must outlive the time an attacker is willing to stockpile CIBIL ids; 90 days
 * is a quarter of a year of that, for about 240 B of heap per registered customer in memory (measured, Node 24, 200,000
 * records after forced GC; docs/security.md "Memory") and one small key in Redis: with Redis, raising it is cheap.
 */
export interface RegisteredMobileStore {
  /**
   * Before registration's upstream call: throws ProtectionStoreError when a record could not be kept (memory table
   * full, Redis unreachable), so that the registration is refused before AOPay creates a customer whose mobile we
   * would not know (fail closed, as every protection store).
   */
  ready(): MaybePromise<void>;
  /** After a registration AOPay answered with a CIBIL id. Throws ProtectionStoreError. */
  remember(cibilId: string, mobile: string): Promise<void>;
  /** The mobile registered for the CIBIL id, undefined when none is known. Throws ProtectionStoreError. */
  recall(cibilId: string): MaybePromise<string | undefined>;
}

/** The HMAC dimension of the record keys (KeyHasher): the CIBIL id's key here is unlike its throttle key. */
export const REGISTERED_MOBILE_DIMENSION = "registered-mobile";
const STORE = "registered mobile";

/** The record key of a CIBIL id (canonical), and the sealing context bound to it. */
function recordKey(hasher: KeyHasher, cibilId: string): string {
  return hasher.hash(REGISTERED_MOBILE_DIMENSION, cibilId);
}

function sealMobile(sealer: StoreSealer, key: string, mobile: string): string {
  return sealer.seal(mobile, [REGISTERED_MOBILE_DIMENSION, key]);
}

function openMobile(sealer: StoreSealer, key: string, sealed: string): string {
  try {
    return sealer.open(sealed, [REGISTERED_MOBILE_DIMENSION, key]);
  } catch (error) {
    // SealError names what failed, never the value.
    throw new ProtectionStoreError(STORE, error);
  }
}

export interface MemoryRegisteredMobileOptions {
  ttlMs?: number;
  maxKeys: number;
  now?: () => number;
  /** Called on each registration refused because the table is full (the owner logs it, rate-limited). */
  onFull?: () => void;
}

/**
 * One process. At most `maxKeys` records (MEMORY_REGISTERED_MOBILE_MAX_KEYS). Full, `ready` throws: the registration
 * is refused (PROTECTION_UNAVAILABLE) before anything is sent. Refusing rather than registering without a record is
 * the fail-closed choice: a full table is what a caller who registers many PANs to one phone produces, and answering
 * then would hand them exactly the unbudgeted CIBIL ids this store exists to prevent. A live record is never
 * evicted for the same reason. Lost on restart: those CIBIL ids are budgeted by id only (set REDIS_URL to keep them).
 */
export class MemoryRegisteredMobileStore implements RegisteredMobileStore {
  readonly #table: BoundedTable<{ sealed: string; expiresAt: number }>;
  readonly #capacity: Capacity;
  readonly #now: () => number;
  readonly #ttlMs: number;

  constructor(
    private readonly hasher: KeyHasher,
    private readonly sealer: StoreSealer,
    options: MemoryRegisteredMobileOptions = { maxKeys: DEFAULT_MEMORY_REGISTERED_MOBILE_MAX_KEYS },
  ) {
    this.#now = options.now ?? Date.now;
    this.#ttlMs = options.ttlMs ?? DEFAULT_CIBIL_REGISTERED_MOBILE_TTL_SECONDS * 1000;
    this.#capacity = new Capacity(options.maxKeys, this.#now, options.onFull);
    this.#table = new BoundedTable(this.#capacity);
  }

  get size(): number {
    return this.#table.size;
  }

  ready(): void {
    // Sweeps expired records first when full (rate-limited), like an insert would.
    if (!this.#capacity.makeRoom()) throw new MemoryStoreFullError(STORE);
  }

  async remember(cibilId: string, mobile: string): Promise<void> {
    const key = recordKey(this.hasher, cibilId);
    const record = { sealed: sealMobile(this.sealer, key, mobile), expiresAt: this.#now() + this.#ttlMs };
    // Full only if other registrations took the room `ready` saw while this one was upstream.
    if (!this.#table.insert(key, record)) throw new MemoryStoreFullError(STORE);
  }

  recall(cibilId: string): string | undefined {
    const key = recordKey(this.hasher, cibilId);
    const record = this.#table.get(key);
    return record === undefined ? undefined : openMobile(this.sealer, key, record.sealed);
  }
}

/** Shared by every replica: `<REDIS_KEY_PREFIX>regmobile:<HMAC of the CIBIL id>` → the sealed mobile, with a TTL. */
export class RedisRegisteredMobileStore implements RegisteredMobileStore {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly hasher: KeyHasher,
    private readonly sealer: StoreSealer,
    private readonly ttlMs: number = DEFAULT_CIBIL_REGISTERED_MOBILE_TTL_SECONDS * 1000,
  ) {}

  /** The Redis key of a CIBIL id's record (for tests). */
  redisKey(cibilId: string): string {
    return this.#redisKey(recordKey(this.hasher, cibilId));
  }

  /** `<REDIS_KEY_PREFIX>regmobile:<record key>`: the one place the record's Redis key is spelled. */
  #redisKey(key: string): string {
    return `${this.keyPrefix}regmobile:${key}`;
  }

  async ready(): Promise<void> {
    // A registration is rare (once per customer): one round trip proves Redis answers before AOPay creates the
    // customer, so an outage refuses the registration instead of creating a CIBIL id whose mobile is unknown.
    try {
      await this.redis.ping();
    } catch (error) {
      throw new ProtectionStoreError(STORE, error);
    }
  }

  async remember(cibilId: string, mobile: string): Promise<void> {
    const key = recordKey(this.hasher, cibilId);
    try {
      await this.redis.set(this.#redisKey(key), sealMobile(this.sealer, key, mobile), "PX", this.ttlMs);
    } catch (error) {
      throw new ProtectionStoreError(STORE, error);
    }
  }

  async recall(cibilId: string): Promise<string | undefined> {
    const key = recordKey(this.hasher, cibilId);
    let sealed: string | null;
    try {
      sealed = await this.redis.get(this.#redisKey(key));
    } catch (error) {
      throw new ProtectionStoreError(STORE, error);
    }
    return sealed === null ? undefined : openMobile(this.sealer, key, sealed);
  }
}
