import { Field, ObjectType } from "type-graphql";
import type { CibilRegisterAnswer, CibilRegistration } from "../../aopay/endpoints/cibil-register";

@ObjectType({ description: "AOPay registered the customer for CIBIL checks. Next: generateCibilOtp." })
export class CibilCustomerRegistered implements CibilRegisterAnswer {
  @Field({
    description:
      "Our reference for this registration, sent to AOPay as order_id: 18 digits (e.g. 179605638931012345). Quote it to support.",
  })
  orderId!: string;

  @Field(() => String, { nullable: true, description: "The CIBIL id AOPay assigned, when its answer carries one." })
  cibilId!: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      "The CIBIL access token AOPay issued, when its answer carries one: a secret, needed by generateCibilOtp and submitCibilOtp.",
  })
  accessToken!: string | null;

  @Field({ description: "The mobile number registered, as `XXXXXX1234` (last four digits only)." })
  maskedMobile!: string;

  @Field({ description: "The PAN registered, as `XXXXXX234F` (last four characters only)." })
  maskedPan!: string;

  @Field({ description: "The e-mail address registered, as `a***@example.com` (first letter and domain only)." })
  maskedEmail!: string;

  @Field(() => String, {
    nullable: true,
    description: "AOPay's message, with any Aadhaar or mobile number masked. Null when AOPay sent none.",
  })
  upstreamMessage!: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      "AOPay's merchant transaction id (e.g. SPCBL2308181506522334ZiSHM7bAe), for support. Null when AOPay sent none.",
  })
  merchantTransactionId!: string | null;

  /**
   * The answer carries the masked identifiers already (aopay/endpoints/cibil-register.ts masks with pii/). The CIBIL
   * id and token as issued (`issuedCibilId`, `issuedAccessToken`, unscrubbed) are left out: they are for remembering
   * the registration's mobile only, never shown, nor stored with the result under an Idempotency-Key.
   */
  static from(registration: CibilRegistration): CibilCustomerRegistered {
    const { issuedCibilId: _issued, issuedAccessToken: _issuedToken, ...shown } = registration;
    return Object.assign(new CibilCustomerRegistered(), shown satisfies CibilRegisterAnswer);
  }
}
