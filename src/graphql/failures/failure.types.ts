import { Field, Int, InterfaceType, ObjectType, registerEnumType } from "type-graphql";
import { FailureCode } from "./failure-code.enum";

@InterfaceType({ description: "Common shape of every failure result member." })
export abstract class Failure {
  @Field(() => FailureCode, {
    description:
      "What went wrong, as a stable code to branch on (e.g. OTP_COOLDOWN); the FailureCode values say what each means.",
  })
  code!: FailureCode;

  @Field({ description: "Human-readable explanation, safe to show. Never contains customer data." })
  message!: string;

  @Field({
    description:
      "Whether trying again later with the same input can succeed. This service never retries a send itself.",
  })
  retryable!: boolean;
}

@ObjectType({ implements: Failure, description: "AOPay answered and declined the request." })
export class UpstreamRejected extends Failure {
  @Field(() => String, { nullable: true, description: 'AOPay\'s own code, as a string (e.g. "207", "5").' })
  upstreamCode!: string | null;

  @Field(() => String, {
    nullable: true,
    description: "AOPay's own message, with any Aadhaar or mobile number masked.",
  })
  upstreamMessage!: string | null;
}

@ObjectType({ implements: Failure, description: "AOPay refused this service's partner credentials (HTTP 401/403)." })
export class UpstreamUnauthorized extends Failure {
  @Field(() => String, {
    nullable: true,
    description: "AOPay's own code, as a string, for the server's operators. Null when AOPay sent none.",
  })
  upstreamCode!: string | null;

  @Field(() => String, {
    nullable: true,
    description: "AOPay's own message, for the server's operators. Null when AOPay sent none.",
  })
  upstreamMessage!: string | null;
}

@ObjectType({
  implements: Failure,
  description:
    "AOPay could not be reached (or its circuit is open), this service is overloaded, the deadline passed before sending, or AOPay answered unusably.",
})
export class UpstreamUnavailable extends Failure {
  @Field(() => Int, { nullable: true, description: "Seconds to wait before trying again, when known." })
  retryAfterSeconds!: number | null;
}

@ObjectType({
  implements: Failure,
  description:
    "The request may have reached AOPay and no usable answer came back, so it may have taken effect (an OTP sent, a " +
    "registration or verification done). Do not repeat it automatically: ask the customer whether an OTP arrived.",
})
export class OutcomeUnknown extends Failure {}

export enum ThrottleScope {
  DESTINATION = "DESTINATION",
  MOBILE_PREFIX = "MOBILE_PREFIX",
  IP = "IP",
  CLIENT = "CLIENT",
  GLOBAL = "GLOBAL",
}
registerEnumType(ThrottleScope, {
  name: "ThrottleScope",
  description:
    "Which budget refused the send: the destination (the customer or registration the OTP is for), the mobile number's range, the source IP, the API client, or the service. For a credit-report read (ReadThrottled): DESTINATION, CLIENT or IP.",
  valuesConfig: {
    DESTINATION: {
      description:
        "This customer: its mobile, Aadhaar number, CIBIL id or access token, or the AEPS user key or registration reference (whichever the upstream may find the recipient by): the cooldown between sends, or the sends allowed per window or day. For a credit-report read: the reads of this customer's report by your API client per window.",
    },
    MOBILE_PREFIX: {
      description:
        "The range of mobile numbers sharing the first 6 digits, across all callers (a guard against SMS pumping).",
    },
    IP: {
      description:
        "The network address the request came from (an IPv6 address by its /64). For a credit-report read: its read attempts per window, counted with or without consent.",
    },
    CLIENT: { description: "The API client (API key or token) that sent the request." },
    GLOBAL: { description: "The whole service: the sends allowed per window, from everyone, are used up." },
  },
});

@ObjectType({
  implements: Failure,
  description:
    "Refused before reaching AOPay: an OTP limit applies (code OTP_COOLDOWN, OTP_LIMIT_REACHED, RATE_LIMITED or VERIFY_LIMIT_REACHED).",
})
export class OtpThrottled extends Failure {
  // Nullable like UpstreamUnavailable.retryAfterSeconds: GraphQL rejects a selection of both members otherwise
  // (OverlappingFieldsCanBeMerged requires the same shape). Always set on this type.
  @Field(() => Int, { nullable: true, description: "Seconds until a send can be allowed again. Always set." })
  retryAfterSeconds!: number;

  @Field(() => ThrottleScope, {
    description:
      "Which budget was used up: this customer, a number range, your network, your API client or the service.",
  })
  scope!: ThrottleScope;
}

@ObjectType({
  implements: Failure,
  description:
    "A request with the same Idempotency-Key has not finished. Ask again after retryAfterSeconds: its result, or " +
    "OutcomeUnknown once it is known to have ended without one (its server stopped).",
})
export class IdempotencyConflict extends Failure {
  @Field(() => Int, { nullable: true, description: "Seconds to wait before asking again. Always set." })
  retryAfterSeconds!: number;
}

@ObjectType({
  implements: Failure,
  description:
    "A store the safety checks need is unreachable or full, or holds a record that does not open, so AOPay was not " +
    "asked: no OTP sent, no report read (fail closed).",
})
export class ProtectionUnavailable extends Failure {}

@ObjectType({
  implements: Failure,
  description:
    "registerCibilCustomer refused before reaching AOPay by a rule about this customer's registered mobiles, with " +
    "every store working (code OTP_SEND_IN_PROGRESS, MOBILE_LIMIT_REACHED or REGISTRATION_IN_PROGRESS), or by " +
    "the registrations allowed per network or per API client (code RATE_LIMITED). Nothing was sent.",
})
export class RegistrationRefused extends Failure {
  // Nullable like the other members' retryAfterSeconds: a selection of several members must merge (see OtpThrottled).
  @Field(() => Int, {
    nullable: true,
    description:
      "Seconds to wait before trying again, rounded up: a retry after them is not refused for the same reason. Set " +
      "for OTP_SEND_IN_PROGRESS and REGISTRATION_IN_PROGRESS (2 while the send or registration waited for runs; the " +
      "time left, up to a few minutes, when its outcome is unknown) and for RATE_LIMITED (until the window ends); null " +
      "for MOBILE_LIMIT_REACHED, which a wait of seconds does not lift.",
  })
  retryAfterSeconds!: number | null;
}

@ObjectType({
  implements: Failure,
  description:
    "The customer's consent is not on record for this client: verify their CIBIL OTP (submitCibilOtp) first. Nothing was fetched.",
})
export class ConsentRequired extends Failure {}

@ObjectType({
  implements: Failure,
  description:
    "A credit-report read refused before reaching AOPay (code READ_THROTTLED): this API client read this customer's " +
    "report, or reports in all, as often as allowed per window, or this source IP asked for reports as often as allowed " +
    "(scope IP). Each read is an AOPay GetCreditHistory call, a credit-bureau pull (what AOPay charges for it, its docs " +
    "do not say). Added after release 0.1.0.",
})
export class ReadThrottled extends Failure {
  // Nullable as OtpThrottled.retryAfterSeconds, for the same reason: it shares its union with
  // UpstreamUnavailable.retryAfterSeconds (Int), and GraphQL refuses a selection of both if one were Int!
  // (OverlappingFieldsCanBeMerged; FailureFields selects every failure type's fields). Always set on this type.
  @Field(() => Int, { nullable: true, description: "Seconds until the budget takes another read. Always set." })
  retryAfterSeconds!: number;

  @Field(() => ThrottleScope, {
    description:
      "Which budget was used up: this customer's reads by your API client (DESTINATION), or your API client's (CLIENT).",
  })
  scope!: ThrottleScope;
}

/** Failures an upstream call can end in. */
export const UPSTREAM_FAILURES = [UpstreamRejected, UpstreamUnauthorized, UpstreamUnavailable, OutcomeUnknown] as const;
export type UpstreamFailure = UpstreamRejected | UpstreamUnauthorized | UpstreamUnavailable | OutcomeUnknown;

/** Every failure member of an OTP-sending or OTP-verifying mutation: upstream failures plus our own guards. */
export const OTP_SEND_FAILURES = [
  ...UPSTREAM_FAILURES,
  OtpThrottled,
  IdempotencyConflict,
  ProtectionUnavailable,
] as const;
export type OtpSendFailure = UpstreamFailure | OtpThrottled | IdempotencyConflict | ProtectionUnavailable;

/**
 * Failures of a write that sends no OTP (registration): no OTP budget applies, but the registered-mobile rules do
 * (RegistrationRefused: added after release 0.1.0, an additive change; docs/clients.md says how an older client
 * sees it).
 */
export const WRITE_FAILURES = [
  ...UPSTREAM_FAILURES,
  IdempotencyConflict,
  ProtectionUnavailable,
  RegistrationRefused,
] as const;

/** What a guarded write can answer besides its success member. */
export type GuardedFailure = OtpSendFailure | RegistrationRefused;

/**
 * Failures of a consent-gated read (credit history). ReadThrottled: added after release 0.1.0, an additive change
 * (docs/clients.md says how an older client sees it).
 */
export const CONSENTED_READ_FAILURES = [
  ...UPSTREAM_FAILURES,
  ConsentRequired,
  ProtectionUnavailable,
  ReadThrottled,
] as const;
