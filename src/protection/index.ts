import type Redis from "ioredis";
import type { Config } from "../config";
import type { Logger } from "../logging/logger";
import { summaryLines } from "../logging/summarised";
import { type ConsentStore, HeldConsentStore, MemoryConsentStore, RedisConsentStore } from "./consent-store";
import { type IdempotencyStore, MemoryIdempotencyStore, RedisIdempotencyStore } from "./idempotency-store";
import { CustomerRefs } from "./customer-refs";
import { KeyHasher } from "./key-hasher";
import type { SharedTable } from "./memory-counters";
import { MemoryRegisteredMobileStore, RECORDS_PER_CUSTOMER } from "./memory-registered-mobiles";
import { OtpThrottle, type ThrottleCode, type ThrottleScope } from "./otp-throttle";
import type { RequestObserver, RotationStore, SealedStore, SecretRole } from "./observer";
import { createRedis, redisReady, sharedAnswers } from "./redis";
import { RedisMemoryPoll } from "./redis-memory";
import { RedisRegisteredMobileStore } from "./redis-registered-mobiles";
import {
  IDEMPOTENCY_PENDING_MIN_MS,
  outlivingRequestsMs,
  type RegisteredMobileStore,
  sendMarkTtlMs,
} from "./registered-mobiles";
import { StoreSealer } from "./store-sealer";
import { SendGuard } from "./send-guard";
import { StoreFailureLines } from "./store-failure";
import { monotonicNow } from "../util/clock";

export type { RequestObserver } from "./observer";

/** Process-wide protection services, shared by every request. */
export interface Protection {
  /** Every upstream write goes through it: idempotency, throttle, send pass, settle (send-guard.ts). */
  guard: SendGuard;
  /** Who may read which customer's credit history (granted by a verified CIBIL OTP; consent.ts makes the keys). */
  consent: ConsentStore;
  consentTtlMs: number;
  /** Which mobile a CIBIL id's OTPs go to, learnt at registration (registered-mobiles.ts). */
  registeredMobiles: RegisteredMobileStore;
  hasher: KeyHasher;
  /**
   * The secrets a rotation reads under besides HMAC_SECRET, with Redis only (docs/security.md "Rotating the HMAC
   * secret"): HMAC_SECRET_PREVIOUS's, then HMAC_SECRET_NEXT's. The consent check (graphql/loaders.ts) reads under them
   * too. Empty without either setting, and in memory (a change of secret restarts the process, which loses the memory
   * stores anyway): then no store computes a second HMAC nor reads a second key.
   */
  readHashers: readonly KeyHasher[];
  /**
   * Counts a record of `store` found under readHashers[index] and not under HMAC_SECRET (RequestObserver
   * olderSecretRead, by the secret's role); undefined without a rotation setting.
   */
  olderRead: ((store: RotationStore, index: number) => void) | undefined;
  /**
   * Counts a read refused because a protection store failed (RequestObserver protectionUnavailable): the consent
   * check of a credit-report read (graphql/loaders.ts), which the send guard does not see.
   */
  unavailable: (field: string) => void;
  /**
   * Counts a write AOPay accepted whose record could not be kept outside the send guard (RequestObserver unrecorded):
   * a verified CIBIL OTP's consent (graphql/cibil/cibil.resolver.ts).
   */
  unrecorded: (field: string) => void;
  /** The log's customer references (customer-refs.ts): under a key derived from HMAC_SECRET, not `hasher`'s. */
  customerRefs: CustomerRefs;
  /**
   * The credit-report read budgets (OtpThrottle, purpose `read`: per client and CIBIL id, per client), taken by the
   * read itself (graphql/loaders.ts), which the send guard does not see: the same throttle and store as the sends'.
   */
  readBudget: Pick<OtpThrottle, "reserve">;
  /** Counts a read refused by its budget (RequestObserver throttled). */
  throttled: (field: string, code: ThrottleCode, scope: ThrottleScope) => void;
  /** Counts a read refused because its client holds its share of the in-memory throttle table (overShare). */
  overShare: (field: string, table: SharedTable) => void;
  /**
   * The refusals for a failed or full store, summarised for the whole process (store-failure.ts): the send guard's
   * and the credit-report reads' (graphql/loaders.ts). Flushed at close.
   */
  storeLines: StoreFailureLines;
}

export interface ProtectionServices {
  protection: Protection;
  /** Null: in-memory state (one process). */
  redis: Redis | null;
  /**
   * How full the in-memory idempotency table is, 0 to 1 (MemoryIdempotencyStore.fill:
   * aopay_idempotency_memory_fill_ratio); 0 with Redis.
   */
  idempotencyFill(): number;
  /** Whether the shared store can serve (always true in memory). */
  ready(): Promise<boolean>;
  /**
   * Why the Redis server answering may not be written to (REDIS_EVICTING_POLICY=refuse: redis.ts RedisServerCheck
   * unsafe), as /readyz names it; undefined when it may, and always in memory.
   */
  unsafe(): string | undefined;
  /**
   * At startup: give Redis a moment to connect, and its server to be judged, before traffic arrives (non-fatal;
   * readiness tells the truth). False when it did not connect in time.
   */
  connect(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/** Throttle and idempotency over one backend: Redis when REDIS_URL is set, else this process's memory. */
export function createProtection(config: Config, log: Logger, observe?: RequestObserver): ProtectionServices {
  const hasher = new KeyHasher(config.hmacSecret);
  const sealer = new StoreSealer(config.storeKeys);
  // Records opened with a key other than the sealing one, per store (aopay_store_older_key_opens_total): a
  // STORE_ENCRYPTION_KEYS rotation's progress. With one key nothing can count: the shared sealer, no callback.
  const olderKey = observe?.olderStoreKey?.bind(observe);
  const sealerOf = (store: SealedStore) =>
    olderKey && config.storeKeys.length > 1 ? sealer.counting(() => olderKey(store)) : sealer;
  const idempotencySealer = sealerOf("idempotency");
  const registeredSealer = sealerOf("registered_mobile");
  const connection = config.redisUrl
    ? createRedis(config.redisUrl, log.child({ component: "redis" }), {
        evictingPolicy: config.redisEvictingPolicy,
        checkIntervalMs: config.redisPolicyCheckMs,
        onJudged: (judged) => observe?.redisServer?.(judged),
      })
    : null;
  const redis = connection?.redis ?? null;
  // How full Redis is (aopay_redis_memory_*, RedisMemoryFilling): read on the stores' own connection, from the start,
  // from the policy check's own reads (one INFO memory per interval, the shorter of the two settings: redis.ts).
  const memoryPoll =
    connection && config.redisMemoryPollMs > 0
      ? new RedisMemoryPoll(connection.check, log.child({ component: "redis" }), {
          intervalMs: config.redisMemoryPollMs,
          onRead: (reading) => observe?.redisMemory?.(reading),
        })
      : undefined;
  memoryPoll?.start();
  // While the server may evict what the stores keep (REDIS_EVICTING_POLICY=refuse), every guarded write and every
  // credit-report read is refused before anything is done, as a store failure is (redis.ts RedisServerCheck).
  const check = connection?.check;
  const assertSafe = check && ((what: string) => check.assertSafe(what));
  // A rotation (docs/security.md "Rotating the HMAC secret"). The replaced secrets (HMAC_SECRET_PREVIOUS): every store
  // reads under them, the throttle takes under them too (so that replicas not yet switched see the switched ones'
  // sends), and a registered mobile found only under one is copied under HMAC_SECRET. The coming secret
  // (HMAC_SECRET_NEXT): the idempotency, consent and registered-mobile stores read under it, nothing is written under
  // it, and the throttle leaves it alone (the switched replicas still take every budget under this replica's secret).
  const previousHashers = redis ? config.hmacPreviousSecrets.map((secret) => new KeyHasher(secret)) : [];
  const nextHashers = redis && config.hmacNextSecret ? [new KeyHasher(config.hmacNextSecret)] : [];
  const readHashers = nextHashers.length === 0 ? previousHashers : [...previousHashers, ...nextHashers];
  // After HMAC_SECRET_PREVIOUS (HMAC_SECRET_RETIRED): registered mobiles' records only, read and copied under
  // HMAC_SECRET; the throttle and every other store have stopped using the replaced secret.
  const retiredHashers = redis ? config.hmacRetiredSecrets.map((secret) => new KeyHasher(secret)) : [];
  // Migrate-on-read's progress (aopay_rotation_older_secret_reads_total): which setting each read-only secret is from.
  const readRoles: readonly SecretRole[] = [
    ...previousHashers.map(() => "previous" as const),
    ...nextHashers.map(() => "next" as const),
  ];
  const counted = observe?.olderSecretRead?.bind(observe);
  const olderRead =
    counted && readHashers.length > 0
      ? (store: RotationStore, index: number) => counted(store, readRoles[index])
      : undefined;
  const olderMobile = counted && ((role: SecretRole) => counted("registered_mobile", role));
  const limits = config.memoryLimits;
  const storeLines = new StoreFailureLines(log);
  // The in-memory tables' full and share warnings, each summarised (fullWarning), flushed at close with storeLines.
  const tableWarnings: TableWarning[] = [];
  const kept = (warning: TableWarning): TableWarning => {
    tableWarnings.push(warning);
    return warning;
  };
  const idempotency: IdempotencyStore | MemoryIdempotencyStore = redis
    ? new RedisIdempotencyStore(redis, config.redisKeyPrefix, idempotencySealer)
    : new MemoryIdempotencyStore(idempotencySealer, {
        maxKeys: limits.idempotencyMaxKeys,
        maxKeysPerOwner: share(limits.idempotencyMaxKeys, limits.idempotencyClientSharePercent),
        maxBytes: limits.idempotencyMaxBytes,
        maxBytesPerOwner: share(limits.idempotencyMaxBytes, limits.idempotencyClientSharePercent),
        maxResultBytes: config.idempotencyMaxResultBytes,
        onFull: kept(
          fullWarning(
            log,
            "idempotency",
            "MEMORY_IDEMPOTENCY_MAX_KEYS or MEMORY_IDEMPOTENCY_MAX_BYTES",
            limits.idempotencyMaxKeys,
          ),
        ),
        onOwnerFull: kept(shareWarning(log, "idempotency", "MEMORY_IDEMPOTENCY_CLIENT_SHARE_PERCENT")),
      });
  const throttle = new OtpThrottle(
    config.throttle,
    hasher,
    redis ? { redis, keyPrefix: config.redisKeyPrefix, previousHashers } : null,
    {
      maxKeys: limits.throttleMaxKeys,
      maxKeysPerOwner: share(limits.throttleMaxKeys, limits.throttleClientSharePercent),
      onFull: kept(fullWarning(log, "otp throttle", "MEMORY_THROTTLE_MAX_KEYS", limits.throttleMaxKeys)),
      onOwnerFull: kept(shareWarning(log, "otp throttle", "MEMORY_THROTTLE_CLIENT_SHARE_PERCENT")),
    },
  );
  // A grant Redis refuses is held here and written again (HeldConsentStore): the customer's OTP is already consumed.
  const heldConsent = redis
    ? new HeldConsentStore(new RedisConsentStore(redis, config.redisKeyPrefix), log.child({ component: "consent" }), {
        retryMs: config.cibilRegisteredMobileRetrySeconds * 1000,
        // The one operation that grants a consent (graphql/cibil/cibil.resolver.ts), as the resolver counts it.
        unrecorded: () => observe?.unrecorded("submitCibilOtp"),
      })
    : undefined;
  const consent: ConsentStore = heldConsent
    ? heldConsent
    : new MemoryConsentStore({
        maxKeys: limits.consentMaxKeys,
        onFull: kept(fullWarning(log, "consent", "MEMORY_CONSENT_MAX_KEYS", limits.consentMaxKeys)),
      });
  const registeredMobileTtlMs = config.cibilRegisteredMobileTtlSeconds * 1000;
  // The longest a request's upstream attempts may run: REQUEST_DEADLINE_MS, each attempt capped by AOPAY_DEADLINE_MS.
  const longestRequestMs = Math.max(config.aopay.deadlineMs, config.requestDeadlineMs);
  // A send's mark and a first registration's hold, left to expire when the call's outcome is unknown, outlive the
  // request by as much with long deadlines as with short ones (registered-mobiles.ts sendMarkTtlMs).
  const markTtlMs = sendMarkTtlMs(longestRequestMs);
  const registeredMobiles: RegisteredMobileStore = redis
    ? new RedisRegisteredMobileStore(
        redis,
        config.redisKeyPrefix,
        hasher,
        registeredSealer,
        registeredMobileTtlMs,
        previousHashers,
        nextHashers,
        retiredHashers,
        olderMobile,
        markTtlMs,
      )
    : new MemoryRegisteredMobileStore(hasher, registeredSealer, {
        ttlMs: registeredMobileTtlMs,
        markTtlMs,
        maxKeys: limits.registeredMobileMaxKeys,
        maxKeysPerOwner: share(
          limits.registeredMobileMaxKeys,
          limits.registeredMobileClientSharePercent,
          RECORDS_PER_CUSTOMER,
        ),
        onFull: kept(
          fullWarning(log, "registered mobile", "MEMORY_REGISTERED_MOBILE_MAX_KEYS", limits.registeredMobileMaxKeys),
        ),
        onOwnerFull: kept(shareWarning(log, "registered mobile", "MEMORY_REGISTERED_MOBILE_CLIENT_SHARE_PERCENT")),
      });
  return {
    protection: {
      guard: new SendGuard({
        assertSafe,
        throttle,
        idempotency,
        hasher,
        readHashers,
        olderRead,
        observe,
        storeLines,
        idempotencyTtlMs: config.idempotencyTtlSeconds * 1000,
        maxResultBytes: config.idempotencyMaxResultBytes,
        rememberRetryMs: config.cibilRegisteredMobileRetrySeconds * 1000,
        // Longer than any request can run, with margin; after a crash, the key answers OUTCOME_UNKNOWN. A request's
        // upstream attempts run until its deadline (REQUEST_DEADLINE_MS, up to 120 s), each capped by AOPAY_DEADLINE_MS.
        // From AOPAY_DEADLINE_MS alone (60 s with its default), a request allowed 120 s lost its pending record at 60 s
        // when IDEMPOTENCY_TTL_SECONDS was shorter, and a repeat of its key sent a second OTP (the record is kept the
        // longer of the two: idempotency-store.ts); with the 24 h default a repeat was answered OUTCOME_UNKNOWN while
        // the request still ran (test/unit/protection/pending-ttl.test.ts). The send marks' rule (sendMarkTtlMs).
        pendingTtlMs: outlivingRequestsMs(longestRequestMs, IDEMPOTENCY_PENDING_MIN_MS),
        longestRequestMs,
      }),
      consent,
      consentTtlMs: config.cibilConsentTtlSeconds * 1000,
      registeredMobiles,
      hasher,
      readHashers,
      olderRead,
      unavailable: (field) => observe?.protectionUnavailable(field),
      unrecorded: (field) => observe?.unrecorded(field),
      customerRefs: new CustomerRefs(config.hmacSecret),
      // The read's first step (graphql/loaders.ts): refused there, no consent is looked up and nothing is read.
      readBudget: assertSafe
        ? {
            reserve: (subject, purpose, destinationsOnly) => {
              assertSafe("read budget");
              return throttle.reserve(subject, purpose, destinationsOnly);
            },
          }
        : throttle,
      throttled: (field, code, scope) => observe?.throttled(field, code, scope),
      overShare: (field, table) => observe?.overShare?.(field, table),
      storeLines,
    },
    redis,
    idempotencyFill: () => (idempotency instanceof MemoryIdempotencyStore ? idempotency.fill() : 0),
    // One PING in flight at most, shared by /readyz's requests and the page's aopay_redis_up (sharedAnswers).
    ready: redis ? sharedAnswers(redis) : () => Promise.resolve(true),
    unsafe: () => check?.unsafe(),
    async connect(timeoutMs) {
      if (!redis || !check) return true;
      const started = monotonicNow();
      if (!(await redisReady(redis, timeoutMs))) return false;
      // The first judgement of the server too (one INFO), so that traffic does not meet redis-policy-unjudged.
      await check.judged(Math.max(0, timeoutMs - (monotonicNow() - started)));
      return true;
    },
    async close() {
      storeLines.flush();
      for (const warning of tableWarnings) warning.flush();
      check?.stop();
      memoryPoll?.stop();
      heldConsent?.close();
      if (redis) await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** A full in-memory store is logged at most once per this interval, the refusals not logged in a summary at its end. */
export const FULL_WARNING_INTERVAL_MS = 60_000;

/**
 * A client's share of a table of `maxKeys` entries: `percent` of it, at least `least` (what one request needs: a
 * registration keeps two records).
 */
function share(maxKeys: number, percent: number, least = 1): number {
  return Math.max(least, Math.floor((maxKeys * percent) / 100));
}

/** A table's onFull or onOwnerFull (its warning, summarised), and `flush`: the summary of its interval, at close. */
export type TableWarning = (() => void) & { flush(): void };

/**
 * One warn line per interval while clients are refused for holding their share of an in-memory store (no client id:
 * the refused requests' access lines name theirs), not one per refused request.
 */
export function shareWarning(log: Logger, store: string, setting: string, now?: () => number): TableWarning {
  return tableWarning(
    log,
    { store, setting, share: true },
    (n) => `in-memory ${store} store: ${n} more requests refused, their clients at their share`,
    now,
    () =>
      log.warn(
        { memoryStore: { store, setting, share: true } },
        `in-memory ${store} store: a client holds its share (${setting}): its requests that need a new entry are ` +
          "refused (fail closed), the other clients' are not",
      ),
  );
}

/**
 * One warn line per interval while an in-memory store is full, not one per refused request (a flood would otherwise
 * turn into a log flood).
 */
export function fullWarning(
  log: Logger,
  store: string,
  setting: string,
  maxKeys: number,
  now?: () => number,
): TableWarning {
  return tableWarning(
    log,
    { store, maxKeys, setting },
    (n) => `in-memory ${store} store full: ${n} more requests refused`,
    now,
    () =>
      log.warn(
        { memoryStore: { store, maxKeys, setting } },
        `in-memory ${store} store full: requests that need a new entry are refused (fail closed) until entries expire; raise ${setting} or set REDIS_URL`,
      ),
  );
}

/**
 * A refusal's warning: the first of each FULL_WARNING_INTERVAL_MS (a minute) written at once, the interval's others
 * counted in one summary line at its end, `<head> in the last 60 s ...` with `memoryStore`
 * (the store and its setting), `suppressed`, `notLogged` and `overSeconds` (logging/summarised.ts summaryLines).
 */
function tableWarning(
  log: Logger,
  memoryStore: Record<string, unknown>,
  head: (suppressed: number) => string,
  now: (() => number) | undefined,
  warn: () => void,
): TableWarning {
  const lines = summaryLines(log, {
    perInterval: 1,
    intervalMs: FULL_WARNING_INTERVAL_MS,
    fields: { memoryStore },
    head,
    now,
  });
  return Object.assign(
    () => {
      if (lines.take("refused")) warn();
    },
    { flush: () => lines.flush() },
  );
}
