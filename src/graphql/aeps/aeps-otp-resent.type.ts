import { Field, Int, ObjectType } from "type-graphql";
import type { AepsResendOtpAnswer } from "../../aopay/endpoints/aeps-resend-otp";
import { RESEND_AVAILABLE_DESCRIPTION, secondsUntil } from "../resend-countdown";

@ObjectType({ description: "AOPay accepted the resend: the registration step continues with these references." })
export class AepsOtpResent implements AepsResendOtpAnswer {
  // Named upstream* so they never clash with Failure.message/code when a client selects several union members.
  @Field(() => String, { nullable: true, description: 'AOPay\'s message, e.g. "OTP Resend Request Completed".' })
  upstreamMessage!: string | null;

  @Field(() => Int, {
    nullable: true,
    description:
      "AOPay's response_code (1 in its example; other values undocumented), as a number or its digits; null when absent " +
      "or beyond a 32-bit Int.",
  })
  upstreamResponseCode!: number | null;

  @Field(() => String, { nullable: true, description: 'AOPay\'s error_code as a string ("0" in its example).' })
  upstreamErrorCode!: string | null;

  @Field(() => String, { nullable: true, description: "Reference to send with the next resend or verify call." })
  primaryKeyId!: string | null;

  @Field(() => String, { nullable: true, description: "Reference to send with the next resend or verify call." })
  encodeTxnId!: string | null;

  @Field({ description: "The Aadhaar number as `XXXX XXXX 1234`." })
  maskedAadhaar!: string;

  @Field({ description: "The mobile number as `XXXXXX1234`." })
  maskedMobile!: string;

  /**
   * Epoch ms when both destinations (the mobile and the Aadhaar) take another send (protection/send-guard.ts SendInfo). Kept for
   * idempotent replays; not in the schema.
   */
  resendAvailableAt!: number;

  @Field(() => Int, { description: RESEND_AVAILABLE_DESCRIPTION })
  get resendAvailableInSeconds(): number {
    return secondsUntil(this.resendAvailableAt);
  }

  /**
   * The answer as GraphQL's result: each field written in place on the new instance, whose class fields (declared
   * above, in this order) already exist, so the own keys and their order are as Object.assign left them. Object.assign
   * of the answer and a second literal copied them key by key in V8's SetDataProperties builtin on every resend: 1,986
   * instructions per call under callgrind, 443 this way (docs/performance-runs.md; CibilOtpChallenge.from, round
   * 6d7a247). The answer (aeps-resend-otp.ts fromWire) has exactly these fields;
   * test/unit/graphql/aeps-otp-resent-equivalence.test.ts holds it to that Object.assign.
   */
  static from(resent: AepsResendOtpAnswer, resendAvailableAt: number): AepsOtpResent {
    const out = new AepsOtpResent();
    out.upstreamMessage = resent.upstreamMessage;
    out.upstreamResponseCode = resent.upstreamResponseCode;
    out.upstreamErrorCode = resent.upstreamErrorCode;
    out.primaryKeyId = resent.primaryKeyId;
    out.encodeTxnId = resent.encodeTxnId;
    out.maskedAadhaar = resent.maskedAadhaar;
    out.maskedMobile = resent.maskedMobile;
    out.resendAvailableAt = resendAvailableAt;
    return out;
  }
}
