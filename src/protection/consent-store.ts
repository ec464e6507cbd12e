import type Redis from "ioredis";
import type { Logger } from "../logging/logger";
import { BoundedTable, Capacity } from "./bounded-table";
import { ProtectionStoreError } from "./errors";
import { DEFAULT_MEMORY_CONSENT_MAX_KEYS, MAX_CIBIL_CONSENT_TTL_SECONDS } from "./protection.settings";
import { MemoryStoreFullError } from "./memory-counters";
import { type ScriptCommand, scriptCommand } from "./redis";
import { retryStoreWrite, settled } from "./store-failure";
import { type SummarisedLines, summaryLines } from "../logging/summarised";
import { monotonicNow } from "../util/clock";

/**
 * Consent records: "client C verified customer X's CIBIL OTP at time T". AOPay's GetCreditHistory needs only a CIBIL id
 * and our partner credentials, so the OTP the customer typed is the only proof of consent we have; a credit history is
 * served to the client that obtained that proof, for a limited time (docs/security-requirements.md B7, OWASP API1
 * BOLA). Keys are HMACs of (client, CIBIL id); nothing else is stored.
 */
/** What a consent's key holds (ConsentStore.read). */
export type ConsentState = "consent" | "none" | "revoked";

export interface ConsentStore {
  /**
   * Writes a consent at the key, unless an operator's revoke mark stands there (CONSENT_REVOKED, however spelled):
   * then nothing is written and it answers "revoked". Whatever the order a customer's grant and an operator's mark
   * reach Redis in, the mark is what stays: a grant landing after it (sent at the moment of the revoke, delayed,
   * retried) brought the consent back, the revoke silently undone. The mark ends at its PX or at an operator's DEL.
   * `others` (during a rotation of HMAC_SECRET): the same consent's keys under the other secrets the servers read
   * (protection/consent.ts hasConsent), only read: a mark under any of them is a mark here too. Written under its own
   * key alone past a mark under another, the grant became a consent the moment that mark's PX ended, though it was
   * made while revoked.
   */
  grant(key: string, ttlMs: number, others?: readonly string[]): Promise<void | "revoked">;
  has(key: string): Promise<boolean>;
  /** What the key holds: a consent, none, or an operator's revoke mark (CONSENT_REVOKED). Without it, `has`. */
  read?(key: string): Promise<ConsentState>;
  /**
   * A grant written late (HeldConsentStore's retry) that leaves a longer consent at the key as it is: a newer grant of
   * the same key (this replica's or another's) may have landed meanwhile. Nor over an operator's revoke mark
   * (CONSENT_REVOKED), at the key or under any of `others` (as `grant`): not written, it answers "revoked". Without
   * it, `grant` is used.
   */
  grantNoShorter?(key: string, ttlMs: number, others?: readonly string[]): Promise<void | "revoked">;
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

/** What `store` holds at `key`: its `read`, or without one its `has` (a consent or none). */
export async function readConsent(store: ConsentStore, key: string): Promise<ConsentState> {
  if (store.read) return store.read(key);
  return (await store.has(key)) ? "consent" : "none";
}

/** What a grant writes at a consent's key (with PX, the consent's TTL): every version writes exactly this. */
const CONSENT_VALUE = "1";

/**
 * An operator's revoke mark at a consent's key (docs/operations.md "Revoking a consent"), for CONSENT_REVOKE_MS: no
 * consent to any read, and no grant is written over it (GRANT: a new one, the customer verifying an OTP again, nor a
 * held grant's late write), a held grant's hold ended. It ends at its PX or an operator's DEL. The documented
 * spelling; the scripts read any value other than CONSENT_VALUE (and any other Redis type) at the key as a mark, so a
 * mark typed slightly wrong by hand (`Revoked`, a trailing space) fails closed: no version writes anything but
 * CONSENT_VALUE there.
 */
export const CONSENT_REVOKED = "revoked";

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
 * How long a revoke mark stays: the longest consent (MAX_CIBIL_CONSENT_TTL_SECONDS, 24 h) and a clock's step
 * (CONSENT_TTL_TOLERANCE_MS): a grant held before the revoke ends no later than its consent's time, so none outlives
 * the mark.
 */
export const CONSENT_REVOKE_MS = MAX_CIBIL_CONSENT_TTL_SECONDS * 1000 + CONSENT_TTL_TOLERANCE_MS;

/**
 * Whether KEYS[1] holds a consent as a grant writes one: the string CONSENT_VALUE (ARGV[1]) with a TTL no longer than
 * any replica gives one (ARGV[2]: CIBIL_CONSENT_TTL_SECONDS at its most, 24 h, and CONSENT_TTL_TOLERANCE_MS, a clock's
 * step). Anything else at the key is bytes no version writes (another Redis type, other text, no TTL, a TTL of years)
 * and is no consent: the read is refused CONSENT_REQUIRED, as without one; a grant does not write over it either
 * (GRANT: read as an operator's mark), only over a `1` no version writes. Asked with EXISTS, any of them was a
 * consent: a hash planted at the key opened the customer's credit report to the client, and a `1` without a TTL opened
 * it for good
 * (test/integration/redis-stores.test.ts). GET by pcall: another type answers an error, not a consent, and not the
 * store failing. One round trip, as EXISTS was. Anything at the key but CONSENT_VALUE (an operator's revoke mark,
 * CONSENT_REVOKED, however spelled; other text; another type) answers -1: no consent, and a held grant of the key is
 * not one either (HeldConsentStore.has). Nothing there (nil, GET's false in Lua) answers 0: the key a held grant was
 * refused, still unwritten. A `1` with a TTL no version writes answers 0 too: bytes shaped as a grant, not a revoke.
 */
const HAS_CONSENT = `
local value = redis.pcall('GET', KEYS[1])
if not value then return 0 end
if value ~= ARGV[1] then return -1 end
local left = redis.call('PTTL', KEYS[1])
if left <= 0 or left > tonumber(ARGV[2]) then return 0 end
return 1`;

/**
 * Every write of a grant (the first, RedisConsentStore.grant; a held grant's late one, grantNoShorter): SET KEYS[1] to
 * a consent (ARGV[1]) for ARGV[2] ms, never over anything else at the key (an operator's revoke mark, CONSENT_REVOKED
 * however spelled, as HAS_CONSENT reads one: any value but ARGV[1], any other type): -1, not written. Read and written
 * in one script, so no mark lands between: a grant landing after the mark (the customer verifying at the moment of the
 * revoke, a write delayed or retried) must not bring the consent back. A consent already there with at least ARGV[2]
 * ms left and no more than ARGV[3] (as HAS_CONSENT reads one) is left as it is: a held grant written late never
 * shortens a newer consent; a first grant passes 0, always written (as the plain SET it replaces). A `1` with a TTL no
 * version writes (none, years) is written over: its time bounded. Refused at its SET by a full Redis (a script without
 * flags is checked for memory at its first write), after its reads. KEYS[2..] (during a rotation of HMAC_SECRET: the
 * same consent's keys under the other secrets the servers read) are only read: anything but ARGV[1] under one of them
 * is a mark as at KEYS[1] (HAS_CONSENT reads it so), -1, nothing written. Without a rotation there are none: the same
 * script, one key, one round trip as before.
 */
const GRANT = `
for i = 2, #KEYS do
  local other = redis.pcall('GET', KEYS[i])
  if other and other ~= ARGV[1] then return -1 end
end
local value = redis.pcall('GET', KEYS[1])
if value then
  if value ~= ARGV[1] then return -1 end
  local left = redis.call('PTTL', KEYS[1])
  if left >= tonumber(ARGV[2]) and left <= tonumber(ARGV[3]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

export class RedisConsentStore implements ConsentStore {
  readonly #has: ScriptCommand<number>;
  readonly #grant: ScriptCommand<number>;

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {
    this.#has = scriptCommand(redis, "aopayConsentHas", HAS_CONSENT, 1);
    // The number of keys is the call's (KEYS[1] and the rotation's others): passed first, as EVALSHA takes it.
    this.#grant = scriptCommand(redis, "aopayConsentGrantAcross", GRANT);
  }

  grantNoShorter(key: string, ttlMs: number, others: readonly string[] = []): Promise<void | "revoked"> {
    return this.#write(key, ttlMs, MAX_CIBIL_CONSENT_TTL_SECONDS * 1000 + CONSENT_TTL_TOLERANCE_MS, others);
  }

  grant(key: string, ttlMs: number, others: readonly string[] = []): Promise<void | "revoked"> {
    return this.#write(key, ttlMs, 0, others);
  }

  /** GRANT: `keepUpTo` the longest consent left at the key as it is (0: none, always written). */
  async #write(key: string, ttlMs: number, keepUpTo: number, others: readonly string[]): Promise<void | "revoked"> {
    try {
      const written = await this.#grant(
        1 + others.length,
        `${this.keyPrefix}consent:${key}`,
        ...others.map((other) => `${this.keyPrefix}consent:${other}`),
        CONSENT_VALUE,
        String(ttlMs),
        String(keepUpTo),
      );
      if (written === -1) return "revoked";
    } catch (error) {
      throw new ProtectionStoreError("consent", error);
    }
  }

  async has(key: string): Promise<boolean> {
    return (await this.read(key)) === "consent";
  }

  async read(key: string): Promise<ConsentState> {
    try {
      const found = await this.#has(
        `${this.keyPrefix}consent:${key}`,
        CONSENT_VALUE,
        String(MAX_CIBIL_CONSENT_TTL_SECONDS * 1000 + CONSENT_TTL_TOLERANCE_MS),
      );
      return found === 1 ? "consent" : found === -1 ? "revoked" : "none";
    } catch (error) {
      throw new ProtectionStoreError("consent", error);
    }
  }
}

/** Most grants held in this process at once (each a key and a time): beyond, a grant throws as before. */
export const MAX_HELD_GRANTS = 10_000;
/**
 * At most this many lines of each kind (a grant held, written on retry, given up) per 10 s (SUMMARY_INTERVAL_MS), the
 * rest in one summary of that kind: while Redis is full or down every verified CIBIL OTP is held, a line each, then
 * written or given up, a line each again.
 */
export const HELD_CONSENT_LINES_PER_INTERVAL = 10;

export interface HeldConsentOptions {
  /**
   * How long a refused grant is written again in the background (CIBIL_REGISTERED_MOBILE_RETRY_SECONDS, 120 s by
   * default: the same store write after an accepted AOPay call as a registration's mobile), at most the consent's
   * time; 0: not held, the grant throws as before.
   */
  retryMs: number;
  /** Counts a grant given up (aopay_unrecorded_writes_total{operation="submitCibilOtp"}). */
  unrecorded: () => void;
  /** Monotonic ms; default monotonicNow. */
  now?: () => number;
}

/**
 * RedisConsentStore, with a grant Redis refused (full: maxmemory reached under noeviction; unreachable; timed out)
 * held in this process for the consent's time and written again in the background for `retryMs`.
 * The grant follows a verified CIBIL OTP (submitCibilOtp's SUCCESS): the customer's OTP is consumed upstream, and the
 * client is told "verified" whatever the store did. Thrown at once, as it was, the consent was lost for good: the
 * credit report was refused CONSENT_REQUIRED, which sends the client back for another OTP (a second SMS to the
 * customer), on every replica, even once Redis had room again. Held, the report is served by this process from the
 * grant on (its reads' own budgets permitting: a full Redis refuses them PROTECTION_UNAVAILABLE, retryable), and by
 * every replica once the write lands (test/e2e/redis-full.test.ts). It is the consent the customer gave, for no longer
 * than its TTL from the grant asked, held under the same key (an HMAC of client and CIBIL id); written late, it leaves
 * a longer consent at the key as it is (grantNoShorter: a newer grant, this replica's or another's). Held by this
 * process: with WEB_CONCURRENCY above 1 the other workers answer as other replicas do. A write given up (the retry's
 * time over, a shutdown) is logged and counted as unrecorded, as a registration's mobile is: the other replicas answer
 * CONSENT_REQUIRED. Bounded by MAX_HELD_GRANTS; beyond, with retryMs 0, and once closed, grant throws as before (the
 * resolver logs and counts it). A held grant is not in Redis: an operator's DEL of its key (a revoke) does not reach
 * it, and its retry writes it after; an operator's revoke mark at the key (CONSENT_REVOKED) does: the retry does not
 * write over it and `has` ends the hold (docs/operations.md "Revoking a consent";
 * test/integration/redis-consent-revoke.test.ts).
 */
export class HeldConsentStore implements ConsentStore {
  /** Consent key to the monotonic time its consent ends. */
  readonly #held = new Map<string, number>();
  /** The held grants whose write is still tried again: key to the time its consent ends (as #held). */
  readonly #retrying = new Map<string, number>();
  readonly #now: () => number;
  readonly #lines: Record<"held" | "written" | "given up", SummarisedLines>;
  #closed = false;

  constructor(
    private readonly store: ConsentStore,
    private readonly log: Logger,
    private readonly options: HeldConsentOptions,
  ) {
    this.#now = options.now ?? monotonicNow;
    const lines = (level: "info" | "warn" | "error", what: string, each: string) =>
      summaryLines(log, {
        level,
        perInterval: HELD_CONSENT_LINES_PER_INTERVAL,
        head: (n) => `${n} more CIBIL consents ${what}`,
        each,
        fields: { consent: what },
      });
    this.#lines = {
      held: lines("warn", "held", "each held by this process until written or its time ends"),
      written: lines("info", "written on retry", "each written to Redis"),
      "given up": lines(
        "error",
        "not written",
        'each counted in aopay_unrecorded_writes_total{operation="submitCibilOtp"}',
      ),
    };
  }

  async grant(key: string, ttlMs: number, others: readonly string[] = []): Promise<void | "revoked"> {
    // The consent's time runs from the grant asked, not from its refusal: a refusal that took a command timeout (or a
    // reconnect) would otherwise stretch the consent past CIBIL_CONSENT_TTL_SECONDS by that long.
    const asked = this.#now();
    try {
      const written = await this.store.grant(key, ttlMs, others);
      // A newer consent landed: an older grant of the key held here stops (its retry sees it gone), or its write, a
      // shorter time left, would replace this one's (the customer refused CONSENT_REQUIRED before the consent's end).
      // Or a revoke mark stands at the key (not written, "revoked"): an older hold of the key ends at it as well.
      this.#held.delete(key);
      this.#retrying.delete(key);
      return written;
    } catch (error) {
      if (this.#closed || this.options.retryMs <= 0 || !this.#room()) throw error;
      const until = asked + ttlMs;
      // Refused by so slow an answer that nothing of the consent is left.
      if (until <= this.#now()) throw error;
      this.#held.set(key, until);
      if (this.#lines.held.take("held")) {
        this.log.warn(
          { err: error, consent: "held" },
          "consent not written to Redis: held in this process, and written again in the background",
        );
      }
      this.#retrying.set(key, until);
      const retryUntil = Math.min(until, this.#now() + this.options.retryMs);
      void settled(this.#retry(key, until, retryUntil, others), this.log, "consent");
    }
  }

  async has(key: string): Promise<boolean> {
    return (await this.read(key)) === "consent";
  }

  /**
   * A grant held here answers for its consent's time, unless Redis holds an operator's revoke mark at its key
   * (CONSENT_REVOKED): the hold ends then (its retry with it), and the read is refused as on every replica. Asked of
   * Redis each time, as a read not held is. Redis failing to answer (down, cut, or slower than the client's command
   * timeout, 1 s: protection/redis.ts), the read throws as one not held does (PROTECTION_UNAVAILABLE, retryable), the
   * hold and its retry kept: whether a mark stands cannot be known, and a revoke must not be served past. Before, the
   * hold answered then, serving a consent revoked while Redis was away
   * (test/integration/redis-consent-revoke.test.ts).
   * The wait is the command timeout at most, and a disconnected client (no offline queue) fails at once; the read
   * budgets asked before the consent (graphql/loaders.ts) wait and refuse the same way, so no breaker here would
   * shorten a refusal. A grant held while a mark stands (the customer verified again within the mark's time, and Redis
   * refused that write) ends at the mark as well.
   */
  async read(key: string): Promise<ConsentState> {
    const until = this.#held.get(key);
    if (until === undefined || until <= this.#now()) return readConsent(this.store, key);
    if (!this.store.read) return "consent";
    if ((await this.store.read(key)) !== "revoked") return "consent";
    this.#revoked(key, until);
    return "revoked";
  }

  /** The hold of `key` (the one ending at `until`, not a newer grant's taken meanwhile) ends at a revoke mark. */
  #revoked(key: string, until: number): void {
    if (this.#held.get(key) !== until) return;
    this.#release(key, until);
    this.log.info({ consent: "revoked" }, "held consent revoked by an operator's mark in Redis: not written");
  }

  /** Ends the hold of `key` ending at `until` and its retry; a newer grant's hold or retry of the key stays. */
  #release(key: string, until: number): void {
    if (this.#held.get(key) === until) this.#held.delete(key);
    if (this.#retrying.get(key) === until) this.#retrying.delete(key);
  }

  /**
   * Stops the retries (the store's connection is about to close): what is held is dropped with the process. Each grant
   * still being written again is given up here, logged and counted at once: its retry sleeps on an unref'd timer (up
   * to 2 s), which a stopping process does not wait for, so left to the retry the give-up was never logged nor counted.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // One line for them all (up to MAX_HELD_GRANTS), each counted.
    // Written whatever the interval has written: the process's last word on them.
    if (this.#retrying.size > 0) this.#givenUp(this.#retrying.size, false);
    this.#retrying.clear();
    for (const lines of Object.values(this.#lines)) lines.flush();
  }

  /** Whether one more grant may be held: the ones whose consent has ended are dropped first when at the bound. */
  #room(): boolean {
    if (this.#held.size < MAX_HELD_GRANTS) return true;
    const now = this.#now();
    for (const [key, until] of this.#held) if (until <= now) this.#held.delete(key);
    return this.#held.size < MAX_HELD_GRANTS;
  }

  /** `others`: the grant's (`grant`), read again for a mark by each write. */
  async #retry(key: string, until: number, retryUntil: number, others: readonly string[]): Promise<void> {
    let revoked = false;
    const retried = await retryStoreWrite({
      afterWait: () => {
        // Closed: given up by close() already. A later grant of the same key took over (with its own retry, or
        // written).
        if (this.#closed) return "stop";
        if (this.#held.get(key) !== until) {
          if (this.#retrying.get(key) === until) this.#retrying.delete(key);
          return "stop";
        }
        return this.#now() >= retryUntil ? "give up" : "attempt";
      },
      // Never shortening a newer consent at the key: another replica's grant, or this one's racing this write.
      attempt: async () => {
        const left = until - this.#now();
        if (!this.store.grantNoShorter) return this.store.grant(key, left, others);
        revoked = (await this.store.grantNoShorter(key, left, others)) === "revoked";
      },
    });
    if (retried.end === "stopped") return;
    if (retried.end === "written") {
      // Closed while the write was out: close() counted it given up already (a write that lands is no harm).
      if (this.#closed) return;
      // Not written: an operator revoked the consent (its mark at the key) before the write. Not counted unrecorded.
      if (revoked) return this.#revoked(key, until);
      // This hold's only: a newer grant of the key held meanwhile (the customer verified again, Redis refused that
      // too) keeps its hold and its retry, which writes its longer time (grantNoShorter). Dropped with this one, the
      // newer consent ended at this one's shorter time in Redis.
      this.#release(key, until);
      if (this.#lines.written.take("written")) {
        this.log.info({ consent: "written on retry" }, "held consent written to Redis");
      }
      return;
    }
    // Still held by this process until its time ends (#room drops it then); the other replicas do not see it.
    this.#retrying.delete(key);
    this.#givenUp(1);
  }

  /** `count` grants whose write is given up: one line, each counted. */
  #givenUp(count: number, summarised = true): void {
    for (let i = 0; i < count; i++) this.options.unrecorded();
    if (summarised && !this.#lines["given up"].take("given up")) return;
    this.log.error(
      { consent: "not written", ...(count > 1 ? { grants: count } : {}) },
      "could not record CIBIL consent in Redis: held by this process alone, other replicas answer CONSENT_REQUIRED",
    );
  }
}
