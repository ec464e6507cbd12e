import type Redis from "ioredis";
import { LRUCache } from "lru-cache";
import { ProtectionStoreError } from "./errors";

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

export class MemoryConsentStore implements ConsentStore {
  readonly #cache = new LRUCache<string, true>({ max: 100_000 });

  async grant(key: string, ttlMs: number): Promise<void> {
    this.#cache.set(key, true, { ttl: ttlMs });
  }

  async has(key: string): Promise<boolean> {
    return this.#cache.get(key) === true;
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
