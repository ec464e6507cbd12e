import { Field, InputType } from "type-graphql";
import { IsAadhaar, IsIndianMobile, MatchesRule } from "../validation/decorators";

// The page says "maximum 12 characters" though its own example `AOP554N3XXXXX` has 13 (Observation 11): the rule wins.
export const USER_KEY = /^[A-Za-z0-9]{1,12}$/;
export const USER_KEY_RULE = "must be 1 to 12 letters or digits";
// Undocumented values (examples "TEST" and "DEMO"); a conservative reference-id alphabet.
export const REFERENCE = /^[A-Za-z0-9._=+/-]{1,128}$/;
export const REFERENCE_RULE = "must be 1 to 128 characters of letters, digits and . _ = + / -";

@InputType({ description: "Asks AOPay to resend the AEPS bank-wise registration OTP." })
export class ResendAepsOtpInput {
  @Field({ description: "The agent's AOPay user key from AEPS onboarding (at most 12 characters)." })
  @MatchesRule(USER_KEY, USER_KEY_RULE)
  userKey!: string;

  @Field({ description: "Customer's mobile: 10 digits starting 6-9, without +91 or 0. Returned masked only." })
  @IsIndianMobile()
  mobile!: string;

  @Field({ description: "Customer's Aadhaar: 12 digits, or three groups of four separated by spaces. Returned masked only." })
  @IsAadhaar()
  aadhaar!: string;

  @Field({ description: "The primaryKeyId returned by the registration (send OTP) step." })
  @MatchesRule(REFERENCE, REFERENCE_RULE)
  primaryKeyId!: string;

  @Field({ description: "The encodeTxnId returned by the registration (send OTP) step." })
  @MatchesRule(REFERENCE, REFERENCE_RULE)
  encodeTxnId!: string;
}
