import { Field, InputType } from "type-graphql";
import { IsAadhaar, IsIndianMobile, MatchesRule } from "../validation/decorators";

// The page says "maximum 12 characters" though its own example `AOP554N3XXXXX` has 13 (docs/upstream/aopay-api.md
// Observation 11): the rule wins. Whether AOPay compares user keys case-insensitively is undocumented (§2.1), so no
// equivalence is assumed: the key is sent exactly as written, and `AOP554N3XXXX` and `aop554n3xxxx` are two keys.
export const USER_KEY = /^[A-Za-z0-9]{1,12}$/;
export const USER_KEY_RULE = "must be 1 to 12 letters or digits";
// Undocumented values (examples "TEST" and "DEMO"); a conservative reference-id alphabet. Opaque references AOPay issued
// (their case and padding may be significant: base64 is case-sensitive): sent exactly as written, never canonicalised.
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

  @Field({
    description: "Customer's Aadhaar: 12 digits, or three groups of four separated by spaces. Returned masked only.",
  })
  @IsAadhaar()
  aadhaar!: string;

  @Field({ description: "The primaryKeyId returned by the registration (send OTP) step." })
  @MatchesRule(REFERENCE, REFERENCE_RULE)
  primaryKeyId!: string;

  @Field({ description: "The encodeTxnId returned by the registration (send OTP) step." })
  @MatchesRule(REFERENCE, REFERENCE_RULE)
  encodeTxnId!: string;
}
