import { Field, InputType } from "type-graphql";
import { IsCibilId, MatchesRule } from "../validation/decorators";
import { ACCESS_TOKEN, ACCESS_TOKEN_RULE } from "./generate-cibil-otp.input";

/**
 * AOPay's example OTP has 4 digits; AEPS's has 6. Either, and up to 8, is accepted. An OTP's leading zeros are part of
 * it (`0123` is not `123`): sent as typed.
 */
export const OTP = /^[0-9]{4,8}$/;
export const OTP_RULE = "must be 4 to 8 digits";
// The challenge's own keys, echoed back: AOPay does not say how it compares them, so they are sent exactly as written.
const KEY = /^[A-Za-z0-9_.:-]{1,64}$/;
// AOPay's example answer key is "xyz twp": a space is allowed (inside only: a leading or trailing space would make two
// spellings of one key).
const ANSWER_KEY = /^(?=.{1,64}$)[A-Za-z0-9_.:-]+(?: [A-Za-z0-9_.:-]+)*$/;

@InputType({ description: "Answers the challenge that generateCibilOtp returned, with the OTP the customer received." })
export class SubmitCibilOtpInput {
  @Field({
    description:
      "The customer's CIBIL id, 1 to 15 digits (e.g. 102277100): the one generateCibilOtp was called with (leading zeros are dropped).",
  })
  @IsCibilId()
  cibilId!: string;

  @Field({
    description:
      "The customer's CIBIL access token (from registerCibilCustomer), as sent to generateCibilOtp. Never logged or returned.",
  })
  @MatchesRule(ACCESS_TOKEN, ACCESS_TOKEN_RULE)
  accessToken!: string;

  @Field({
    description:
      "The OTP the customer received by SMS and typed: 4 to 8 digits (the simulator's is always 123456). Never logged, stored or returned.",
  })
  @MatchesRule(OTP, OTP_RULE)
  otp!: string;

  @Field({ description: "`question.key` from the challenge." })
  @MatchesRule(KEY, "must be 1 to 64 letters, digits or _ . : -")
  questionKey!: string;

  @Field({ description: "The chosen answer choice's `key` (e.g. USER_TO_INPUT_ANSWER)." })
  @MatchesRule(ANSWER_KEY, "must be 1 to 64 letters, digits, spaces or _ . : -")
  answerKey!: string;
}
