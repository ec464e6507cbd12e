import { registerEnumType } from "type-graphql";

/** Stable codes of every failure result member. Clients branch on these, never on messages. */
export enum FailureCode {
  UPSTREAM_REJECTED = "UPSTREAM_REJECTED",
  UPSTREAM_UNAUTHORIZED = "UPSTREAM_UNAUTHORIZED",
  UPSTREAM_UNAVAILABLE = "UPSTREAM_UNAVAILABLE",
  UPSTREAM_TIMEOUT = "UPSTREAM_TIMEOUT",
  UPSTREAM_BAD_RESPONSE = "UPSTREAM_BAD_RESPONSE",
  OUTCOME_UNKNOWN = "OUTCOME_UNKNOWN",
  OVERLOADED = "OVERLOADED",
  OTP_COOLDOWN = "OTP_COOLDOWN",
  OTP_LIMIT_REACHED = "OTP_LIMIT_REACHED",
  RATE_LIMITED = "RATE_LIMITED",
  VERIFY_LIMIT_REACHED = "VERIFY_LIMIT_REACHED",
  CONSENT_REQUIRED = "CONSENT_REQUIRED",
  IDEMPOTENCY_IN_FLIGHT = "IDEMPOTENCY_IN_FLIGHT",
  PROTECTION_UNAVAILABLE = "PROTECTION_UNAVAILABLE",
  OTP_SEND_IN_PROGRESS = "OTP_SEND_IN_PROGRESS",
  MOBILE_LIMIT_REACHED = "MOBILE_LIMIT_REACHED",
  REGISTRATION_IN_PROGRESS = "REGISTRATION_IN_PROGRESS",
  READ_THROTTLED = "READ_THROTTLED",
}

registerEnumType(FailureCode, {
  name: "FailureCode",
  description: "Stable machine-readable code of a failure result.",
  valuesConfig: {
    UPSTREAM_REJECTED: {
      description: "AOPay answered and declined the request; see upstreamCode and upstreamMessage.",
    },
    UPSTREAM_UNAUTHORIZED: {
      description: "AOPay refused this service's partner credentials (a server configuration problem).",
    },
    UPSTREAM_UNAVAILABLE: {
      description: "AOPay could not be reached or answered with a server error. Try again later.",
    },
    UPSTREAM_TIMEOUT: { description: "The deadline passed before the request was sent to AOPay. Nothing was sent." },
    UPSTREAM_BAD_RESPONSE: {
      description: "AOPay answered with something this service cannot read (redirect, error page).",
    },
    OUTCOME_UNKNOWN: {
      description:
        "The request may have reached AOPay and no usable answer came back: it may have taken effect (an OTP sent, a " +
        "registration or verification done). Also an Idempotency-Key's answer once its first request ended without one, " +
        "or while its record cannot be read (this request sent nothing; an earlier one with the key may have).",
    },
    OVERLOADED: { description: "This service is at its limit of calls to AOPay; nothing was sent. Try again shortly." },
    OTP_COOLDOWN: {
      description:
        "An OTP was sent to this destination, or its send attempted, within the cooldown (60 s by default); wait " +
        "retryAfterSeconds before sending another.",
    },
    OTP_LIMIT_REACHED: {
      description:
        "This destination had its maximum number of OTPs in the last window (10 minutes by default) or the last 24 hours; wait retryAfterSeconds.",
    },
    RATE_LIMITED: {
      description:
        "The OTP sends or verifications allowed per window from this network or this API client, to this number " +
        "range or by the whole service are used up (registerCibilCustomer: the registrations allowed per window from " +
        "this network or this API client); scope says which. Wait retryAfterSeconds.",
    },
    VERIFY_LIMIT_REACHED: {
      description: "Too many OTP verification attempts for this customer; wait retryAfterSeconds.",
    },
    CONSENT_REQUIRED: {
      description:
        "This client has not verified the customer's CIBIL OTP recently, so their credit history is not served.",
    },
    IDEMPOTENCY_IN_FLIGHT: {
      description:
        "A request with the same Idempotency-Key has not finished. Asked again after retryAfterSeconds, the key " +
        "answers its result, or OUTCOME_UNKNOWN once it is known to have ended without one (its server stopped).",
    },
    PROTECTION_UNAVAILABLE: {
      description:
        "A store the safety checks need (throttles, idempotency, consent, registered mobiles) is unreachable or full, " +
        "or holds a record that does not open, so AOPay was not asked: no OTP sent, no report read (fail closed).",
    },
    OTP_SEND_IN_PROGRESS: {
      description:
        "registerCibilCustomer: an OTP send to this customer is under way, or its outcome is not known yet (AOPay may " +
        "still send it), so the registration was not sent. Try again after retryAfterSeconds.",
    },
    MOBILE_LIMIT_REACHED: {
      description:
        "registerCibilCustomer: this customer was registered with the most mobile numbers allowed recently, so a new " +
        "one was not sent. Register with a mobile number used before for this customer; a new one is taken once " +
        "none has been registered for CIBIL_REGISTERED_MOBILE_TTL_SECONDS (90 days by default).",
    },
    REGISTRATION_IN_PROGRESS: {
      description:
        "registerCibilCustomer: other registrations of this customer were being recorded at the same moment, or its " +
        "first registration here is still under way or its outcome is not known yet, so this one was not sent. Try " +
        "again after retryAfterSeconds.",
    },
    READ_THROTTLED: {
      description:
        "cibilCreditHistory (and CibilOtpVerified.creditHistory): this API client read this customer's credit report " +
        "as often as allowed per window (5 per 30 minutes by default), or read as many reports as allowed per window " +
        "(300 a minute by default), or this source IP asked for as many reports, consented or not, as allowed per window " +
        "(100 a minute by default, scope IP); scope says which. AOPay was not asked; wait retryAfterSeconds.",
    },
  },
});
