import type { AopayError, AopayErrorCode } from "../../aopay/errors";
import { FailureCode } from "./failure-code.enum";
import type { RefusalCode } from "../../protection/errors";
import type { ThrottleCode, ThrottleScope } from "../../protection/otp-throttle";
import { SEND_IN_PROGRESS_RETRY_MS } from "../../protection/registered-mobiles";
import {
  ConsentRequired,
  IdempotencyConflict,
  OtpThrottled,
  OutcomeUnknown,
  ProtectionUnavailable,
  ReadThrottled,
  RegistrationRefused,
  ThrottleScope as GraphQLThrottleScope,
  type UpstreamFailure,
  UpstreamRejected,
  UpstreamUnauthorized,
  UpstreamUnavailable,
} from "./failure.types";

/**
 * Client-facing messages, one per code. Fixed text: never upstream bodies, URLs, hosts or customer data. Each must be
 * true in every case its code is answered, with any retryAfterSeconds it can carry: a code given a wait of minutes
 * (OTP_SEND_IN_PROGRESS and REGISTRATION_IN_PROGRESS while a mark left to expire lives, registered-mobiles.ts
 * refusalWaitMs; IDEMPOTENCY_IN_FLIGHT until a dead request's pending time ends) promises no "moment", and one answered
 * by reads (PROTECTION_UNAVAILABLE) or by registrations and verifications (OUTCOME_UNKNOWN) speaks of more than OTP
 * sends. A code whose every answer carries retryAfterSeconds (the server's own wait, up to a budget's day) points to it
 * rather than to "later" or "right now" (test/unit/graphql/failures/failure-messages.test.ts).
 */
export const FAILURE_MESSAGES: Record<FailureCode, string> = {
  [FailureCode.UPSTREAM_REJECTED]: "AOPay declined the request.",
  [FailureCode.UPSTREAM_UNAUTHORIZED]:
    "AOPay refused this service's credentials. This is a server configuration problem.",
  [FailureCode.UPSTREAM_UNAVAILABLE]: "AOPay is unavailable right now. Try again later.",
  [FailureCode.UPSTREAM_TIMEOUT]:
    "The request could not be sent to AOPay before its deadline. Nothing was sent; try again.",
  [FailureCode.UPSTREAM_BAD_RESPONSE]: "AOPay answered with something this service cannot read.",
  [FailureCode.OUTCOME_UNKNOWN]:
    "The request, or an earlier one with the same Idempotency-Key, may have reached AOPay, and no usable answer is " +
    "known: it may have taken effect (an OTP sent). Check, e.g. ask the customer, before repeating it: repeated " +
    "with the same Idempotency-Key, it is never sent twice.",
  [FailureCode.OVERLOADED]:
    "Every connection to AOPay is busy and the queue of calls waiting for one is full. Nothing was sent; try again " +
    "after retryAfterSeconds.",
  [FailureCode.OTP_COOLDOWN]:
    "An OTP was sent, or its send attempted, to this destination within its cooldown. Nothing was sent; send " +
    "another after retryAfterSeconds.",
  [FailureCode.OTP_LIMIT_REACHED]:
    "This destination had the most OTP sends allowed in its window or day. Nothing was sent; try again after " +
    "retryAfterSeconds.",
  [FailureCode.RATE_LIMITED]:
    "The OTP requests allowed per window for this number range, network, API client or the whole service (scope " +
    "says which) are used up. Nothing was sent; try again after retryAfterSeconds.",
  [FailureCode.VERIFY_LIMIT_REACHED]:
    "Too many OTP verification attempts for this customer. Nothing was sent; try again after retryAfterSeconds, " +
    "with a new OTP if this one has expired by then.",
  [FailureCode.CONSENT_REQUIRED]: "Verify the customer's OTP first: their credit history is available only after that.",
  [FailureCode.IDEMPOTENCY_IN_FLIGHT]:
    "A request with the same Idempotency-Key has not finished. Ask again with the same key after " +
    "retryAfterSeconds: you get its result, or OUTCOME_UNKNOWN if it ended without one.",
  [FailureCode.PROTECTION_UNAVAILABLE]:
    "A safety service this request needs is unavailable, so AOPay was not asked: nothing was sent or fetched. Try " +
    "again later.",
  [FailureCode.OTP_SEND_IN_PROGRESS]:
    "An OTP send to this customer is under way or its outcome is not known yet. Nothing was sent; try the " +
    "registration again after retryAfterSeconds.",
  [FailureCode.MOBILE_LIMIT_REACHED]:
    "This customer was registered with too many different mobile numbers recently. Nothing was sent; register with a " +
    "mobile number already used for this customer, or contact support.",
  [FailureCode.REGISTRATION_IN_PROGRESS]:
    "Another registration of this customer is under way or its outcome is not known yet. Nothing was sent; try " +
    "again after retryAfterSeconds.",
  [FailureCode.READ_THROTTLED]:
    "The credit-report reads allowed per window (of this customer's report or of reports in all by this API " +
    "client, or asked for from this network: scope says which) are used up. Nothing was fetched; try again after " +
    "retryAfterSeconds.",
};

/** The client-facing code of each upstream error code: the same name, except that an open circuit is UPSTREAM_UNAVAILABLE. */
const FAILURE_CODE_OF: Record<AopayErrorCode, FailureCode> = {
  UPSTREAM_REJECTED: FailureCode.UPSTREAM_REJECTED,
  UPSTREAM_UNAUTHORIZED: FailureCode.UPSTREAM_UNAUTHORIZED,
  UPSTREAM_UNAVAILABLE: FailureCode.UPSTREAM_UNAVAILABLE,
  CIRCUIT_OPEN: FailureCode.UPSTREAM_UNAVAILABLE,
  UPSTREAM_TIMEOUT: FailureCode.UPSTREAM_TIMEOUT,
  UPSTREAM_BAD_RESPONSE: FailureCode.UPSTREAM_BAD_RESPONSE,
  OUTCOME_UNKNOWN: FailureCode.OUTCOME_UNKNOWN,
  OVERLOADED: FailureCode.OVERLOADED,
  CLIENT_GONE: FailureCode.UPSTREAM_TIMEOUT,
};

/** The single mapping from upstream errors to GraphQL failure members (docs/design/style.md principle 4). */
export function toFailure(error: AopayError): UpstreamFailure {
  const code = FAILURE_CODE_OF[error.code];
  const base = { code, message: FAILURE_MESSAGES[code], retryable: error.retryable };
  switch (error.code) {
    case "UPSTREAM_REJECTED":
      return Object.assign(new UpstreamRejected(), base, upstreamText(error));
    case "UPSTREAM_UNAUTHORIZED":
      return Object.assign(new UpstreamUnauthorized(), base, upstreamText(error));
    case "UPSTREAM_UNAVAILABLE":
    case "CIRCUIT_OPEN":
    case "UPSTREAM_TIMEOUT":
    case "UPSTREAM_BAD_RESPONSE":
    case "OVERLOADED":
    case "CLIENT_GONE":
      return Object.assign(new UpstreamUnavailable(), base, { retryAfterSeconds: error.retryAfterSeconds ?? null });
    case "OUTCOME_UNKNOWN":
      return Object.assign(new OutcomeUnknown(), base);
  }
}

export function throttledFailure(code: ThrottleCode, scope: ThrottleScope, retryAfterSeconds: number): OtpThrottled {
  const failureCode = FailureCode[code];
  return Object.assign(new OtpThrottled(), {
    code: failureCode,
    message: FAILURE_MESSAGES[failureCode],
    retryable: true,
    retryAfterSeconds,
    scope: GraphQLThrottleScope[scope],
  });
}

/** A credit-report read refused by a read budget (protection/otp-throttle.ts purpose `read`): AOPay not called. */
export function readThrottled(scope: ThrottleScope, retryAfterSeconds: number): ReadThrottled {
  const code = FailureCode.READ_THROTTLED;
  return Object.assign(new ReadThrottled(), {
    code,
    message: FAILURE_MESSAGES[code],
    retryable: true,
    retryAfterSeconds,
    scope: GraphQLThrottleScope[scope],
  });
}

/** Clients are told to come back after about the time an upstream call takes. */
export function idempotencyConflict(retryAfterSeconds: number): IdempotencyConflict {
  const code = FailureCode.IDEMPOTENCY_IN_FLIGHT;
  return Object.assign(new IdempotencyConflict(), {
    code,
    message: FAILURE_MESSAGES[code],
    retryable: true,
    retryAfterSeconds,
  });
}

export function consentRequired(): ConsentRequired {
  const code = FailureCode.CONSENT_REQUIRED;
  return Object.assign(new ConsentRequired(), { code, message: FAILURE_MESSAGES[code], retryable: false });
}

/**
 * No retryAfterSeconds, on purpose: nothing here knows when the store comes back. Redis is reconnected every 2 s at
 * most (protection/redis.ts), which says when the next try is, not when the outage ends (a restart, a failover, an
 * operator fixing its maxmemory-policy); a full in-memory table frees as its records expire, up to
 * IDEMPOTENCY_TTL_SECONDS (24 h) ahead. A hint of the reconnect's 2 s would have every client resend into the outage
 * every 2 s; `retryable` true and the message's "try again later" leave the backoff to the client.
 */
export function protectionUnavailable(): ProtectionUnavailable {
  const code = FailureCode.PROTECTION_UNAVAILABLE;
  return Object.assign(new ProtectionUnavailable(), { code, message: FAILURE_MESSAGES[code], retryable: true });
}

/**
 * A registration refused by a registered-mobile rule (protection/errors.ts ProtectionRefusal). OTP_SEND_IN_PROGRESS and
 * REGISTRATION_IN_PROGRESS are retryable after `retryAfterSeconds`: what the store says the refusal still holds for
 * (about one upstream call while a send or other registrations of the customer run; the time left of a mark or hold
 * left to expire, minutes, when one's outcome is unknown: registered-mobiles.ts refusalWaitMs). MOBILE_LIMIT_REACHED is
 * not: it holds until the record expires (CIBIL_REGISTERED_MOBILE_TTL_SECONDS after the id's last registration), so no
 * wait is given, and the message says what the customer can do instead.
 */
export function registrationRefused(code: RefusalCode, retryAfterSeconds: number | null): RegistrationRefused {
  const failureCode = FailureCode[code];
  // Both wait for other requests of the same customer (or for their marks to expire).
  const busy = code === "OTP_SEND_IN_PROGRESS" || code === "REGISTRATION_IN_PROGRESS";
  return Object.assign(new RegistrationRefused(), {
    code: failureCode,
    message: FAILURE_MESSAGES[failureCode],
    retryable: busy,
    // A busy refusal always has a wait (its store gives one); the stores' short wait should one lack it.
    retryAfterSeconds: busy ? (retryAfterSeconds ?? SEND_IN_PROGRESS_RETRY_MS / 1000) : null,
  });
}

/**
 * A registration refused by its IP's or client's registration budget (REGISTER_*): RegistrationRefused, code
 * RATE_LIMITED, retryable after the budget's window ends. Its own message: RATE_LIMITED's speaks of OTP requests, and
 * a registration sends none.
 */
export function registrationThrottled(retryAfterSeconds: number): RegistrationRefused {
  return Object.assign(new RegistrationRefused(), {
    code: FailureCode.RATE_LIMITED,
    message: REGISTRATION_RATE_LIMITED_MESSAGE,
    retryable: true,
    retryAfterSeconds,
  });
}

export const REGISTRATION_RATE_LIMITED_MESSAGE =
  "The registrations allowed per window from this network or this API client are used up. Nothing was sent; try " +
  "again after retryAfterSeconds.";

function upstreamText(error: AopayError) {
  return { upstreamCode: error.upstreamCode ?? null, upstreamMessage: error.upstreamMessage ?? null };
}
