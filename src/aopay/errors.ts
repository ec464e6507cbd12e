/**
 * One rooted hierarchy for everything that can go wrong in a call to AOPay (stripe-node's StripeError, undici's
 * error codes). Branch on `code`, never on the message. Messages are for operators' logs: they name the endpoint and
 * the HTTP status but never carry request or response bodies, credentials or customer data.
 */

/** Stable codes of upstream failures. The GraphQL edge maps each to a result member (graphql/failures). */
export type AopayErrorCode =
  /** AOPay answered and declined the request (a failure envelope, often inside HTTP 200). */
  | "UPSTREAM_REJECTED"
  /** AOPay answered 401/403: our partner credentials or request signature were refused. */
  | "UPSTREAM_UNAUTHORIZED"
  /** AOPay could not be reached, or answered 5xx/429. */
  | "UPSTREAM_UNAVAILABLE"
  /** Our circuit breaker for the endpoint family is open (AOPay has been failing): nothing was sent. */
  | "CIRCUIT_OPEN"
  /** The deadline passed before the request was written to a socket: provably never sent. */
  | "UPSTREAM_TIMEOUT"
  /**
   * AOPay answered something we cannot use (a redirect to a read: to a send it is OUTCOME_UNKNOWN; a non-JSON error
   * page; an unrecognised envelope on a read).
   */
  | "UPSTREAM_BAD_RESPONSE"
  /** The request left this process and no usable answer came back: the OTP may or may not have been sent. */
  | "OUTCOME_UNKNOWN"
  /** Our own bulkhead refused the call: every connection busy and the wait queue full. Nothing was sent. */
  | "OVERLOADED"
  /** The GraphQL request's client went away while the call waited for a socket: dropped before the write, nothing sent. */
  | "CLIENT_GONE";

/**
 * Every AopayErrorCode, as a list (metrics.ts counts each endpoint's outcomes from 0 at startup). A Record, so that a
 * code added to the union and not here fails tsc.
 */
const ERROR_CODES: Record<AopayErrorCode, true> = {
  UPSTREAM_REJECTED: true,
  UPSTREAM_UNAUTHORIZED: true,
  UPSTREAM_UNAVAILABLE: true,
  CIRCUIT_OPEN: true,
  UPSTREAM_TIMEOUT: true,
  UPSTREAM_BAD_RESPONSE: true,
  OUTCOME_UNKNOWN: true,
  OVERLOADED: true,
  CLIENT_GONE: true,
};
export const AOPAY_ERROR_CODES = Object.freeze(Object.keys(ERROR_CODES)) as readonly AopayErrorCode[];

export interface AopayErrorDetails {
  /** Endpoint name, e.g. `cibil.generateOtp`. Never a URL. */
  endpoint: string;
  /** Whether any byte of the request may have left the process (see aopay/transport.ts). */
  sent: boolean;
  httpStatus?: number;
  /** The upstream's own code (`code`, `response_code`, `responsecode`, `error_code`), as a string. */
  upstreamCode?: string;
  /** The upstream's own message, already passed through the PII scrubber. */
  upstreamMessage?: string;
  /** From a `Retry-After` header, when AOPay sent one. */
  retryAfterSeconds?: number;
  cause?: unknown;
}

export abstract class AopayError extends Error {
  abstract readonly code: AopayErrorCode;
  /** Whether a client may try again later with the same input. Our server itself never retries a send. */
  abstract readonly retryable: boolean;
  readonly endpoint: string;
  readonly sent: boolean;
  readonly httpStatus?: number;
  readonly upstreamCode?: string;
  readonly upstreamMessage?: string;
  /** Not readonly: waitAtLeast raises it when the circuit this failure opened refuses calls longer. */
  retryAfterSeconds?: number;

  constructor(message: string, details: AopayErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.endpoint = details.endpoint;
    this.sent = details.sent;
    this.httpStatus = details.httpStatus;
    this.upstreamCode = details.upstreamCode;
    this.upstreamMessage = details.upstreamMessage;
    this.retryAfterSeconds = details.retryAfterSeconds;
  }

  /**
   * The wait raised to `ms` (whole seconds, rounded up) when that is longer: a failure that opened its family's
   * circuit told the client AOPay's `Retry-After` (1 s, say) or nothing, and a retry after it met CIRCUIT_OPEN for
   * BREAKER_RESET_MS (30 s by default). 0 or less: unchanged.
   */
  waitAtLeast(ms: number): void {
    if (ms <= 0) return;
    const seconds = Math.ceil(ms / 1000);
    if (this.retryAfterSeconds === undefined || this.retryAfterSeconds < seconds) this.retryAfterSeconds = seconds;
  }
}

/** Raised when AOPay's envelope says the request failed (status false/"False", a 4xx with a JSON failure body). */
export class AopayRejectedError extends AopayError {
  readonly code = "UPSTREAM_REJECTED" as const;
  readonly retryable = false;
}

/** Raised on HTTP 401/403. docs/upstream/aopay-api.md Observation 8: a 401 may also carry a business error; its message is kept. */
export class AopayUnauthorizedError extends AopayError {
  readonly code = "UPSTREAM_UNAUTHORIZED" as const;
  readonly retryable = false;
}

/** Raised when AOPay is unreachable (refused, DNS, TLS, connect timeout) or answers 5xx/429. */
export class AopayUnavailableError extends AopayError {
  readonly code = "UPSTREAM_UNAVAILABLE" as const;
  readonly retryable = true;
}

/**
 * Raised without any network activity while the circuit breaker for the endpoint family is open (AOPay has been
 * failing); `retryAfterSeconds` says when one probe will be let through again. A code of its own, so that retry and
 * metrics tell it from an unreachable AOPay by `code`; the GraphQL edge shows both as UPSTREAM_UNAVAILABLE.
 */
export class AopayCircuitOpenError extends AopayError {
  readonly code = "CIRCUIT_OPEN" as const;
  readonly retryable = true;
}

/** Raised when every upstream connection is busy and the wait queue is full: shed at once, nothing sent. */
export class AopayOverloadedError extends AopayError {
  readonly code = "OVERLOADED" as const;
  readonly retryable = true;
}

/** Raised when our deadline expired while the request was still queued or connecting: it was never written. */
export class AopayTimeoutError extends AopayError {
  readonly code = "UPSTREAM_TIMEOUT" as const;
  readonly retryable = true;
}

/**
 * The request's client went away while the call waited for a socket, so it was dropped before the write: nothing was
 * sent, and nobody is left to tell. A code of its own, so that the circuit breaker (which must not count it: it says
 * nothing about AOPay), retry and metrics tell it by `code`; the GraphQL edge would show it as UPSTREAM_TIMEOUT.
 */
export class AopayClientGoneError extends AopayError {
  readonly code = "CLIENT_GONE" as const;
  readonly retryable = false;
}

/**
 * Raised on an answer we cannot use: a redirect to a read (never followed, docs/security-requirements.md D5; to a send
 * it is OUTCOME_UNKNOWN), a non-JSON error page, an unknown envelope.
 */
export class AopayBadResponseError extends AopayError {
  readonly code = "UPSTREAM_BAD_RESPONSE" as const;
  readonly retryable = false;
}

/**
 * Raised when the request may have reached AOPay but we have no usable answer: a timeout or reset after sending, a
 * truncated or oversized body, or an unreadable 2xx on an endpoint with side effects. The OTP may have been sent,
 * so this is never retried automatically (docs/security-requirements.md E3).
 */
export class AopayOutcomeUnknownError extends AopayError {
  readonly code = "OUTCOME_UNKNOWN" as const;
  readonly retryable = false;
}

export function isAopayError(value: unknown): value is AopayError {
  return value instanceof AopayError;
}
