import { Field, Int, ObjectType, registerEnumType } from "type-graphql";
import type {
  CibilAnswerChoice as AnswerChoice,
  CibilGenerateOtpAnswer,
  CibilQuestion,
} from "../../aopay/endpoints/cibil-generate-otp";
import { RESEND_AVAILABLE_DESCRIPTION, secondsUntil } from "../resend-countdown";

export enum CibilStatus {
  PENDING = "PENDING",
  SUCCESS = "SUCCESS",
  UNRECOGNIZED = "UNRECOGNIZED",
}
registerEnumType(CibilStatus, {
  name: "CibilStatus",
  description: 'AOPay\'s `cibil_status`. Only "Pending" and "Success" are documented; anything else is UNRECOGNIZED.',
  valuesConfig: {
    PENDING: {
      description:
        "AOPay's \"Pending\": the OTP was sent and the customer has not answered yet (generateCibilOtp's usual status).",
    },
    SUCCESS: {
      description: "AOPay's \"Success\": the customer answered with the right OTP (submitCibilOtp's usual status).",
    },
    UNRECOGNIZED: {
      description: "A status AOPay does not document; read the failure or message fields, and report it to support.",
    },
  },
});

export enum CibilNextStep {
  VERIFY_ANSWERS = "VERIFY_ANSWERS",
  UNRECOGNIZED = "UNRECOGNIZED",
}
registerEnumType(CibilNextStep, {
  name: "CibilNextStep",
  description: "AOPay's `next_api_call`: `cibil-verify-answers` is VERIFY_ANSWERS; any other name is UNRECOGNIZED.",
  valuesConfig: {
    VERIFY_ANSWERS: { description: "Answer the question with the OTP: call submitCibilOtp." },
    UNRECOGNIZED: { description: "A next step AOPay does not document; nextStepName has its name as AOPay sent it." },
  },
});

@ObjectType({ description: "One answer the customer can give to the challenge question." })
export class CibilAnswerChoice implements AnswerChoice {
  @Field({ description: "AOPay's AnswerChoiceId for this choice, as sent (an opaque string)." })
  id!: string;

  @Field({
    description:
      "The key to send as submitCibilOtp's answerKey, e.g. USER_TO_INPUT_ANSWER: the customer types the OTP.",
  })
  key!: string;

  @Field({
    description:
      "AOPay's AnswerChoiceText, to show to the customer (any Aadhaar or mobile number masked to its last four " +
      "digits at most; a number AOPay masked in part, e.g. 94138****, shows no digit: *********).",
  })
  text!: string;
}

@ObjectType({ description: "The authentication question AOPay asks after sending the OTP." })
export class CibilOtpQuestion implements CibilQuestion {
  @Field(() => String, { nullable: true, description: "The question's key, needed to answer it." })
  key!: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      'Full question text, e.g. "The One Time Password is sent to *********...". AOPay writes the registered ' +
      "mobile's first five digits (94138****): a number AOPay masked in part shows no digit here, as we show at most " +
      "the last four digits of any number (maskedMobile: XXXXXX3210).",
  })
  text!: string | null;

  @Field(() => Boolean, {
    nullable: true,
    description: "Whether this is the last chance to answer. Null when AOPay did not say.",
  })
  lastChance!: boolean | null;

  @Field(() => Boolean, {
    nullable: true,
    description: "Whether the question may be skipped. Null when AOPay did not say.",
  })
  skipEligible!: boolean | null;

  @Field(() => Boolean, { nullable: true, description: "Whether the OTP may be resent. Null when AOPay did not say." })
  resendEligible!: boolean | null;

  @Field(() => [CibilAnswerChoice], { description: "Answer choices; AOPay's example has exactly one." })
  answerChoices!: CibilAnswerChoice[];
}

@ObjectType({ description: "AOPay sent the OTP and returned the question to answer with it." })
export class CibilOtpChallenge implements CibilGenerateOtpAnswer {
  @Field({
    description:
      "The customer's CIBIL id (digits, e.g. 102277100): AOPay's answer, or the one sent when AOPay's answer has none. Use it with submitCibilOtp.",
  })
  cibilId!: string;

  @Field(() => CibilStatus, { description: "PENDING once the OTP is on its way; the customer has not answered yet." })
  status!: CibilStatus;

  @Field(() => CibilOtpQuestion, {
    nullable: true,
    description:
      "The question to answer with the OTP: its key and answer choice go to submitCibilOtp. Null when AOPay's answer has no question.",
  })
  question!: CibilOtpQuestion | null;

  @Field(() => CibilNextStep, { nullable: true, description: "The next call AOPay names, typed." })
  nextStep!: CibilNextStep | null;

  @Field(() => String, { nullable: true, description: 'The next call as AOPay names it, e.g. "cibil-verify-answers".' })
  nextStepName!: string | null;

  @Field(() => String, { nullable: true, description: "AOPay's merchant transaction id, for support requests." })
  merchantTransactionId!: string | null;

  /** Epoch ms when the CIBIL id takes another send (protection/send-guard.ts SendInfo). Kept for idempotent replays; not in the schema. */
  resendAvailableAt!: number;

  @Field(() => Int, { description: RESEND_AVAILABLE_DESCRIPTION })
  get resendAvailableInSeconds(): number {
    return secondsUntil(this.resendAvailableAt);
  }

  /**
   * The challenge as GraphQL's result: each field written in place on the new instance, whose class fields (declared
   * above, in this order) already exist, so the own keys and their order are as Object.assign left them. Object.assign
   * of the answer and a second literal copied them key by key in V8's SetDataProperties builtin: 1,865 instructions per
   * call under callgrind, 263 this way (docs/performance-runs.md, round 6d7a247). The answer (cibil-generate-otp.ts
   * fromWire) has exactly these fields; test/unit/graphql/cibil-otp-challenge-equivalence.test.ts holds it to that
   * Object.assign.
   */
  static from(challenge: CibilGenerateOtpAnswer, resendAvailableAt: number): CibilOtpChallenge {
    const out = new CibilOtpChallenge();
    out.cibilId = challenge.cibilId;
    out.status = CibilStatus[challenge.status];
    out.question = challenge.question;
    out.nextStep = challenge.nextStep === null ? null : CibilNextStep[challenge.nextStep];
    out.nextStepName = challenge.nextStepName;
    out.merchantTransactionId = challenge.merchantTransactionId;
    out.resendAvailableAt = resendAvailableAt;
    return out;
  }
}
