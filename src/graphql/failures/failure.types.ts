import { Field, Int, InterfaceType, ObjectType } from "type-graphql";
import { FailureCode } from "./failure-code.enum";

@InterfaceType({ description: "Common shape of every failure result member." })
export abstract class Failure {
  @Field(() => FailureCode)
  code!: FailureCode;

  @Field({ description: "Human-readable explanation, safe to show. Never contains customer data." })
  message!: string;

  @Field({ description: "Whether trying again later with the same input can succeed. This service never retries a send itself." })
  retryable!: boolean;
}

@ObjectType({ implements: Failure, description: "AOPay answered and declined the request." })
export class UpstreamRejected extends Failure {
  @Field(() => String, { nullable: true, description: "AOPay's own code, as a string (e.g. \"207\", \"5\")." })
  upstreamCode!: string | null;

  @Field(() => String, { nullable: true, description: "AOPay's own message, with any Aadhaar or mobile number masked." })
  upstreamMessage!: string | null;
}

@ObjectType({ implements: Failure, description: "AOPay refused this service's partner credentials (HTTP 401/403)." })
export class UpstreamUnauthorized extends Failure {
  @Field(() => String, { nullable: true })
  upstreamCode!: string | null;

  @Field(() => String, { nullable: true })
  upstreamMessage!: string | null;
}

@ObjectType({
  implements: Failure,
  description: "AOPay could not be reached, timed out before the request was sent, or answered unusably.",
})
export class UpstreamUnavailable extends Failure {
  @Field(() => Int, { nullable: true, description: "Seconds to wait before trying again, when known." })
  retryAfterSeconds!: number | null;
}

@ObjectType({
  implements: Failure,
  description:
    "The request reached AOPay and no usable answer came back, so the OTP may have been sent. Do not resend " +
    "automatically: ask the customer whether it arrived.",
})
export class OutcomeUnknown extends Failure {}

/** Every failure member, for the result unions. */
export const UPSTREAM_FAILURES = [UpstreamRejected, UpstreamUnauthorized, UpstreamUnavailable, OutcomeUnknown] as const;
export type UpstreamFailure = UpstreamRejected | UpstreamUnauthorized | UpstreamUnavailable | OutcomeUnknown;
