import { Field, Int, ObjectType } from "type-graphql";
import type { AepsRegistrationVerified as Verified } from "../../aopay/endpoints/aeps-verify-otp";

@ObjectType({
  description:
    "AOPay confirmed the bank-wise registration. (AOPay says it returns a transaction reference; its field name is " +
    "undocumented, so it is not exposed yet.)",
})
export class AepsRegistrationVerified {
  @Field(() => String, { nullable: true })
  upstreamMessage!: string | null;

  @Field(() => Int, { nullable: true })
  upstreamResponseCode!: number | null;

  @Field()
  maskedAadhaar!: string;

  @Field()
  maskedMobile!: string;

  static from(verified: Verified): AepsRegistrationVerified {
    return Object.assign(new AepsRegistrationVerified(), verified);
  }
}
