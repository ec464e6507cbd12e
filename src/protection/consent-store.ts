import type Redis from "ioredis";
import { BoundedTable, Capacity } from "./bounded-table";
import { ProtectionStoreError } from "./errors";
import { DEFAULT_MEMORY_CONSENT_MAX_KEYS } from "./protection.settings";
import { MemoryStoreFullError } from "./memory-counters";
import { monotonicNow } from "../util/clock";

/**
 * Consent records: "client C verified customer X's CIBIL OTP at time T". AOPay's GetCreditHistory needs only a CIBIL
 * id and our partner credentials, so the OTP the customer typed is the only proof of consent we have; a credit
 * history is served to the client that obtained that proof, for a limited time (docs/security-requirements.md B7, OWASP API1 BOLA).
 * Keys are HMACs of (client, CIBIL id); nothing else is stored.
 */
export interface ConsentStore {
  grant(key: string, ttlMs: number): Promise<void>;
  has(key: string): Promise<boolean>;
}

/**
 * One process. At most `maxKeys` records (MEMORY_CONSENT_MAX_KEYS): when full, a new consent is not recorded (grant
 * throws, the verification's answer is unchanged and the credit report is refused with CONSENT_REQUIRED until room
 * frees up): fail closed, never an evicted consent or a report without one.
 */
export class MemoryConsentStore implements ConsentStore {
  readonly #table: BoundedTable<{ expiresAt: number }>;
  readonly #now: () => number;

  constructor(
    options: { maxKeys: number; now?: () => number; onFull?: () => void } = {
      maxKeys: DEFAULT_MEMORY_CONSENT_MAX_KEYS,
    },
  ) {
    // A step of the wall clock must not end or stretch a record (util/clock.ts).
    this.#now = options.now ?? monotonicNow;
    this.#table = new BoundedTable(new Capacity(options.maxKeys, this.#now, options.onFull));
  }

  async grant(key: string, ttlMs: number): Promise<void> {
    if (!this.#table.insert(key, { expiresAt: this.#now() + ttlMs })) throw new MemoryStoreFullError("consent");
  }

  async has(key: string): Promise<boolean> {
    return this.#table.get(key) !== undefined;
  }
}

export class RedisConsentStore implements ConsentStore {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {}

  async grant(key: string, ttlMs: number): Promise<void> {
    try {
      await this.redis.set(`${this.keyPrefix}consent:${key}`, "1", "PX", ttlMs);
    } catch (error) {
      throw new ProtectionStoreError("consent", error);
    }
  }

  async has(key: string): Promise<boolean> {
    try {
      return (await this.redis.exists(`${this.keyPrefix}consent:${key}`)) === 1;
    } catch (error) {
      throw new ProtectionStoreError("consent", error);
    }
  }
}
