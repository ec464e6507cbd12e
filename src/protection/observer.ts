import type { RefusalCode } from "./errors";
import type { SharedTable } from "./memory-counters";
import type { ThrottleCode, ThrottleScope } from "./otp-throttle";
import type { RedisServerJudgement } from "./redis";
import type { RedisMemoryReading } from "./redis-memory";

/**
 * What protection tells operators about the requests it turns away or replays: counters only, never identifiers.
 * Declared here, where the events happen; observability/metrics.ts implements it.
 */
export interface RequestObserver {
  throttled(field: string, code: ThrottleCode, scope: ThrottleScope): void;
  replayed(field: string): void;
  /** An OTP send refused because the shared store was unreachable (fail closed). */
  protectionUnavailable(field: string): void;
  /**
   * Without Redis, a request refused because its client holds its share of a table every client shares
   * (memory-counters.ts ClientShareFullError): that client's limit, not the store failing (not protectionUnavailable).
   */
  overShare?(field: string, table: SharedTable): void;
  /** A request refused by a protection rule with its stores answering (errors.ts ProtectionRefusal): no failure. */
  refused(field: string, code: RefusalCode): void;
  /**
   * A write that happened upstream whose follow-up record could not be kept (a registration whose CIBIL id's mobile
   * was not remembered: that id's OTP sends are budgeted by the id only; an idempotency result not stored before its
   * key's pending record expired: a repeat of the key may send again).
   */
  unrecorded(field: string): void;
  /**
   * An Idempotency-Key's result over IDEMPOTENCY_MAX_RESULT_BYTES: its key keeps only that it was sent (a repeat is
   * answered OUTCOME_UNKNOWN, nothing sent again).
   */
  unkeptResult?(field: string): void;
  /**
   * What the Redis server connected to breaks (redis.ts RedisServerCheck), judged at each connection and, for the
   * policy, every REDIS_POLICY_CHECK_SECONDS (REDIS_MEMORY_POLL_SECONDS if shorter: the same read): its
   * `maxmemory-policy` evicts keys (budgets and idempotency records with them), or it is older than 7.0.
   */
  redisServer?(judged: RedisServerJudgement): void;
  /**
   * Each read of the Redis server's memory (redis-memory.ts RedisMemoryPoll, the policy check's reads): its
   * used and max bytes, or undefined when the read failed (Redis down, INFO refused). Never called with the poll off
   * (REDIS_MEMORY_POLL_SECONDS=0) or without REDIS_URL.
   */
  redisMemory?(reading: RedisMemoryReading | undefined): void;
  /**
   * During a rotation of HMAC_SECRET: a record found under another secret than HMAC_SECRET, and not under it (an
   * Idempotency-Key's record, a consent, a CIBIL id's registered mobiles: the last copied under HMAC_SECRET as it is
   * read). Falling to zero per store and role is migrate-on-read's progress (docs/security.md "Rotating the HMAC
   * secret"). Never called without a rotation setting.
   */
  olderSecretRead?(store: RotationStore, secret: SecretRole): void;
  /**
   * A stored record opened with a STORE_ENCRYPTION_KEYS key other than the sealing (first) one: still needed by what
   * is stored (docs/security.md "Stored results are encrypted"). Never called with one key configured.
   */
  olderStoreKey?(store: SealedStore): void;
}

/** The stores whose records are sealed (a metric label: fixed values). */
export type SealedStore = "idempotency" | "registered_mobile";

/** The stores that read under other secrets during a rotation (a metric label: fixed values). */
export type RotationStore = "idempotency" | "consent" | "registered_mobile";
/** Which rotation setting a secret comes from: HMAC_SECRET_PREVIOUS, HMAC_SECRET_NEXT, HMAC_SECRET_RETIRED. */
export type SecretRole = "previous" | "next" | "retired";

/** Observes nothing: the default when metrics are off. */
export const NO_OBSERVER: RequestObserver = {
  throttled: () => undefined,
  replayed: () => undefined,
  protectionUnavailable: () => undefined,
  refused: () => undefined,
  unrecorded: () => undefined,
};
