import { Field, Int, ObjectType, registerEnumType } from "type-graphql";
import type { CibilOtpChallenge as Challenge } from "../../aopay/endpoints/cibil-generate-otp";
import { RESEND_AVAILABLE_DESCRIPTION, secondsUntil } from "../resend-countdown";

export enum CibilStatus {
  PENDING = "PENDING",
  SUCCESS = "SUCCESS",
  UNRECOGNIZED = "UNRECOGNIZED",
}
registerEnumType(CibilStatus, {
  name: "CibilStatus",
  description: "AOPay's `cibil_status`. Only \"Pending\" and \"Success\" are documented; anything else is UNRECOGNIZED.",
});

export enum CibilNextStep {
  VERIFY_ANSWERS = "VERIFY_ANSWERS",
  UNRECOGNIZED = "UNRECOGNIZED",
}
registerEnumType(CibilNextStep, {
  name: "CibilNextStep",
  description: "AOPay's `next_api_call`: `cibil-verify-answers` is VERIFY_ANSWERS; any other name is UNRECOGNIZED.",
});

@ObjectType({ description: "One answer the customer can give to the challenge question." })
export class CibilAnswerChoice {
  @Field()
  id!: string;

  @Field({ description: "e.g. USER_TO_INPUT_ANSWER: the customer types the OTP." })
  key!: string;

  @Field()
  text!: string;
}

@ObjectType({ description: "The authentication question AOPay asks after sending the OTP." })
export class CibilOtpQuestion {
  @Field(() => String, { nullable: true, description: "The question's key, needed to answer it." })
  key!: string | null;

  @Field(() => String, { nullable: true, description: "Full question text, e.g. \"The One Time Password is sent to 94138****...\"." })
  text!: string | null;

  @Field(() => Boolean, { nullable: true, description: "Whether this is the last chance to answer. Null when AOPay did not say." })
  lastChance!: boolean | null;

  @Field(() => Boolean, { nullable: true, description: "Whether the question may be skipped. Null when AOPay did not say." })
  skipEligible!: boolean | null;

  @Field(() => Boolean, { nullable: true, description: "Whether the OTP may be resent. Null when AOPay did not say." })
  resendEligible!: boolean | null;

  @Field(() => [CibilAnswerChoice], { description: "Answer choices; AOPay's example has exactly one." })
  answerChoices!: CibilAnswerChoice[];
}

@ObjectType({ description: "AOPay sent the OTP and returned the question to answer with it." })
export class CibilOtpChallenge {
  @Field()
  cibilId!: string;

  @Field(() => CibilStatus)
  status!: CibilStatus;

  @Field(() => CibilOtpQuestion, { nullable: true })
  question!: CibilOtpQuestion | null;

  @Field(() => CibilNextStep, { nullable: true, description: "The next call AOPay names, typed." })
  nextStep!: CibilNextStep | null;

  @Field(() => String, { nullable: true, description: "The next call as AOPay names it, e.g. \"cibil-verify-answers\"." })
  nextStepName!: string | null;

  @Field(() => String, { nullable: true, description: "AOPay's merchant transaction id, for support requests." })
  merchantTransactionId!: string | null;

  /** Epoch ms when the CIBIL id takes another send (otp-guard SendInfo). Kept for idempotent replays; not in the schema. */
  resendAvailableAt!: number;

  @Field(() => Int, { description: RESEND_AVAILABLE_DESCRIPTION })
  get resendAvailableInSeconds(): number {
    return secondsUntil(this.resendAvailableAt);
  }

  static from(challenge: Challenge, resendAvailableAt: number): CibilOtpChallenge {
    return Object.assign(new CibilOtpChallenge(), challenge, {
      status: CibilStatus[challenge.status],
      nextStep: challenge.nextStep === null ? null : CibilNextStep[challenge.nextStep],
      resendAvailableAt,
    });
  }
}
