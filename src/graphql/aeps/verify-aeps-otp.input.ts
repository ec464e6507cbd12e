import { Field, InputType } from "type-graphql";
import { OTP, OTP_RULE } from "../cibil/submit-cibil-otp.input";
import { MatchesRule } from "../validation/decorators";
import { ResendAepsOtpInput } from "./resend-aeps-otp.input";

@InputType({ description: "Verifies the AEPS bank-wise registration OTP the customer received." })
export class VerifyAepsOtpInput extends ResendAepsOtpInput {
  @Field({
    description:
      "The OTP the customer received by SMS and typed: 4 to 8 digits (the simulator's is always 123456). Never logged, stored or returned.",
  })
  @MatchesRule(OTP, OTP_RULE)
  otp!: string;
}
