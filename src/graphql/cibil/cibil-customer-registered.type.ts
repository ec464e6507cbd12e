import { Field, ObjectType } from "type-graphql";
import type { CibilCustomerRegistration } from "../../aopay/endpoints/cibil-register";
import { maskEmail } from "../../pii/email";
import { maskMobile } from "../../pii/mobile";
import { maskPan } from "../../pii/pan";

@ObjectType({ description: "AOPay registered the customer for CIBIL checks. Next: generateCibilOtp." })
export class CibilCustomerRegistered {
  @Field({ description: "Our reference for this registration (AOPay's order_id), for support." })
  orderId!: string;

  @Field(() => String, { nullable: true, description: "The CIBIL id AOPay assigned, when its answer carries one." })
  cibilId!: string | null;

  @Field(() => String, {
    nullable: true,
    description: "The CIBIL access token AOPay issued, when its answer carries one: a secret, needed by generateCibilOtp and submitCibilOtp.",
  })
  accessToken!: string | null;

  @Field()
  maskedMobile!: string;

  @Field()
  maskedPan!: string;

  @Field()
  maskedEmail!: string;

  @Field(() => String, { nullable: true })
  upstreamMessage!: string | null;

  @Field(() => String, { nullable: true })
  merchantTransactionId!: string | null;

  static from(registration: CibilCustomerRegistration, request: { mobile: string; pan: string; email: string }): CibilCustomerRegistered {
    return Object.assign(new CibilCustomerRegistered(), registration, {
      maskedMobile: maskMobile(request.mobile),
      maskedPan: maskPan(request.pan),
      maskedEmail: maskEmail(request.email),
    });
  }
}
