import type Redis from "ioredis";
import { BoundedTable, Capacity } from "./bounded-table";
import { ProtectionStoreError } from "./errors";
import { DEFAULT_MEMORY_CONSENT_MAX_KEYS, MAX_CIBIL_CONSENT_TTL_SECONDS } from "./protection.settings";
import { MemoryStoreFullError } from "./memory-counters";
import { type ScriptCommand, scriptCommand } from "./redis";
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

/** What a grant writes at a consent's key (with PX, the consent's TTL): every version writes exactly this. */
const CONSENT_VALUE = "1";

/**
 * How far above the longest grant (MAX_CIBIL_CONSENT_TTL_SECONDS, 24 h) a consent's PTTL may read and still be one:
 * 60 s.
 * PTTL is the key's expiry, an instant of Redis's clock, less Redis's now: a clock stepped back by NTP after a grant of
 * 24 h (or a failover to a replica whose clock runs behind) reads it above 24 h by the step, and with no tolerance the
 * customer's consent was none (CONSENT_REQUIRED) from a 1 ms step on. The bound is there to refuse a TTL no version
 * writes (years, none: bytes not ours), not a step of the clock; NTP slews steps under 128 ms and steps larger ones,
 * seldom beyond seconds. A minute covers them, and keeps the most a consent can outlive its grant to a minute of 24 h.
 */
export const CONSENT_TTL_TOLERANCE_MS = 60_000;

/**
 * Whether KEYS[1] holds a consent as a grant writes one: the string CONSENT_VALUE (ARGV[1]) with a TTL no longer than
 * any replica gives one (ARGV[2]: CIBIL_CONSENT_TTL_SECONDS at its most, 24 h, and CONSENT_TTL_TOLERANCE_MS, a clock's
 * step). Anything else at the key is bytes no version writes (another Redis type, other text, no TTL, a TTL of years)
 * and is no consent: the read is refused CONSENT_REQUIRED, as without one, until the client verifies the customer's OTP
 * again (its grant's SET writes over it). Asked with EXISTS, any of them was a consent: a hash planted at the key
 * opened the customer's credit report to the client, and a `1` without a TTL opened it for good
 * (test/integration/redis-stores.test.ts). GET by pcall: another type answers an error, not a consent, and not the
 * store failing. One round trip, as EXISTS was.
 */
const HAS_CONSENT = `
if redis.pcall('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local left = redis.call('PTTL', KEYS[1])
if left <= 0 or left > tonumber(ARGV[2]) then return 0 end
return 1`;

export class RedisConsentStore implements ConsentStore {
  readonly #has: ScriptCommand<number>;

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {
    this.#has = scriptCommand(redis, "aopayConsentHas", HAS_CONSENT, 1);
  }

  async grant(key: string, ttlMs: number): Promise<void> {
    try {
      await this.redis.set(`${this.keyPrefix}consent:${key}`, CONSENT_VALUE, "PX", ttlMs);
    } catch (error) {
      throw new ProtectionStoreError("consent", error);
    }
  }

  async has(key: string): Promise<boolean> {
    try {
      const found = await this.#has(
        `${this.keyPrefix}consent:${key}`,
        CONSENT_VALUE,
        String(MAX_CIBIL_CONSENT_TTL_SECONDS * 1000 + CONSENT_TTL_TOLERANCE_MS),
      );
      return found === 1;
    } catch (error) {
      throw new ProtectionStoreError("consent", error);
    }
  }
}
