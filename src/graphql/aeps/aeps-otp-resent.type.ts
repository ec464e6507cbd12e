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
    description: "AOPay's response_code (1 in its example; other values undocumented).",
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

  static from(resent: AepsResendOtpAnswer, resendAvailableAt: number): AepsOtpResent {
    return Object.assign(new AepsOtpResent(), resent, { resendAvailableAt });
  }
}
