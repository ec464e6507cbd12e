import { Field, Int, ObjectType } from "type-graphql";
import type { AepsVerifyOtpAnswer } from "../../aopay/endpoints/aeps-verify-otp";

@ObjectType({
  description:
    "AOPay confirmed the bank-wise registration. (AOPay says it returns a transaction reference; its field name is " +
    "undocumented, so it is not exposed yet.)",
})
export class AepsRegistrationVerified implements AepsVerifyOtpAnswer {
  @Field(() => String, {
    nullable: true,
    description:
      "AOPay's message about the verification, with any Aadhaar or mobile number masked. Null when AOPay sent none.",
  })
  upstreamMessage!: string | null;

  @Field(() => Int, {
    nullable: true,
    description:
      "AOPay's response_code: 1 on success in its examples; other values are undocumented. Null when AOPay sent none " +
      "or a value beyond a 32-bit Int.",
  })
  upstreamResponseCode!: number | null;

  @Field({ description: "The Aadhaar number that was verified, as `XXXX XXXX 1234` (last four digits only)." })
  maskedAadhaar!: string;

  @Field({ description: "The mobile number that was verified, as `XXXXXX1234` (last four digits only)." })
  maskedMobile!: string;

  static from(verified: AepsVerifyOtpAnswer): AepsRegistrationVerified {
    return Object.assign(new AepsRegistrationVerified(), verified);
  }
}
