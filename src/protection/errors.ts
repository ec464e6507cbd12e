/**
 * The shared state behind throttling or idempotency could not be read or written (Redis down, timed out). OTP sends
 * are then refused: without the store we cannot prove a send is within limits (fail closed).
 */
export class ProtectionStoreError extends Error {
  constructor(what: string, cause: unknown) {
    super(`${what}: shared state unavailable`, { cause });
    this.name = "ProtectionStoreError";
  }
}

/**
 * Redis refused a write for want of memory (`OOM command not allowed when used memory > 'maxmemory'`: maxmemory
 * reached under maxmemory-policy noeviction, docs/deploying.md "Redis"), after reading what it was asked to read.
 * A full Redis still answers reads: an Idempotency-Key's claim refused so (idempotency-store.ts
 * RedisIdempotencyStore.begin) has read the key's record and found none, so no request under the key was ever
 * recorded, and none sent: the request is answered PROTECTION_UNAVAILABLE ("nothing was sent; retry with the same
 * key"), not OUTCOME_UNKNOWN, the answer for a record that could not be read (send-guard.ts #answerUnread).
 */
export class ProtectionStoreFullError extends ProtectionStoreError {
  constructor(what: string, cause: unknown) {
    super(what, cause);
    this.name = "ProtectionStoreFullError";
  }
}

/** Whether Redis refused a command for want of memory (maxmemory reached, noeviction), as Redis words it. */
export function isRedisOom(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith("OOM ");
}

/**
 * Bytes no version writes where a record is kept: a key of another Redis type than a string (a hash, list, set, sorted
 * set, stream) at a registered mobile's record (`regmobiles:`, `regmobile:`), a token's link (`regtoken:`) or a PAN's
 * link (`regpan:`, where a string that is no record key is such bytes too). The cause of a ProtectionStoreError, as a
 * SealError is for a string there that does not open: the request is refused PROTECTION_UNAVAILABLE (nothing sent), the
 * store-failure error line naming the kind of key, never the key (an HMAC) nor its value. Read as no record, as it was,
 * a send went out with the id's registered mobiles unbudgeted (none read), and a registration as a first one (no
 * MOBILE_LIMIT_REACHED, no OTP_SEND_IN_PROGRESS), while a string there that did not open refused both
 * (docs/operations.md "A stored record that does not open" lists such keys).
 */
export class ForeignRecordError extends Error {
  constructor(readonly kind: "regmobiles:" | "regmobile:" | "regtoken:" | "regpan:") {
    super(`stored value is no record this service writes: another Redis type or shape at a ${kind} key`);
    this.name = "ForeignRecordError";
  }
}

/**
 * Why a protection rule refused a request although every store answered: a decision, not a failure. The names are the
 * client-facing codes (graphql/failures/failure-code.enum.ts), as ThrottleCode's are.
 * - OTP_SEND_IN_PROGRESS: a registration of a PAN whose CIBIL id has an OTP send under way (registered-mobiles.ts
 *   RegistrationRaceError): it may go once that send has ended.
 * - MOBILE_LIMIT_REACHED: a registration that would give its CIBIL id one mobile more than MAX_MOBILES_PER_ID within
 *   the record's TTL (registered-mobiles.ts RegisteredMobilesFullError).
 * - REGISTRATION_IN_PROGRESS: a registration whose mobile could not be added to its CIBIL id's record because other
 *   registrations of that id kept changing it meanwhile (registered-mobiles.ts RegisteredMobilesBusyError): contention
 *   between requests, every store answering; it may go again after a short wait.
 */
export type RefusalCode = "OTP_SEND_IN_PROGRESS" | "MOBILE_LIMIT_REACHED" | "REGISTRATION_IN_PROGRESS";
/** Every RefusalCode (metrics.ts counts each from 0 at startup); a Record, so that a code missing here fails tsc. */
const REFUSALS: Record<RefusalCode, true> = {
  OTP_SEND_IN_PROGRESS: true,
  MOBILE_LIMIT_REACHED: true,
  REGISTRATION_IN_PROGRESS: true,
};
export const REFUSAL_CODES = Object.freeze(Object.keys(REFUSALS)) as readonly RefusalCode[];

/**
 * A protection rule said no, with its stores working: the request is refused before anything is sent, and answered
 * with its own code. Never a ProtectionStoreError: that one is logged as a store failure, counted in
 * aopay_protection_unavailable_total (which pages operators) and answered PROTECTION_UNAVAILABLE, which tells the
 * client that a retry will do once the store is back. Reported both ways, a client could not tell a policy from an
 * outage, and an operator got "store unavailable" lines and alerts with Redis healthy.
 */
export class ProtectionRefusal extends Error {
  constructor(
    readonly code: RefusalCode,
    message: string,
    /**
     * How long from now the refusal still holds, in ms, as the store that refused knows it (the client's
     * `retryAfterSeconds`, rounded up); undefined for a refusal no wait ends (MOBILE_LIMIT_REACHED).
     */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = "ProtectionRefusal";
  }
}
