import { Field, ObjectType } from "type-graphql";
import type { CibilSubmitOtpAnswer } from "../../aopay/endpoints/cibil-submit-otp";
import { CibilStatus } from "./cibil-otp-challenge.type";

@ObjectType({
  description:
    "AOPay accepted the OTP. The customer's credit report can be read (field creditHistory), by this client only.",
})
/** `cibilId` here is AOPay's masked id (the answer's cibilIdMasked); the verified one is kept out of the schema. */
export class CibilOtpVerified implements Omit<CibilSubmitOtpAnswer, "cibilId" | "cibilIdMasked"> {
  @Field(() => String, {
    nullable: true,
    description: "The CIBIL id as AOPay returns it (masked in its example, e.g. 93626**).",
  })
  cibilId!: string | null;

  @Field(() => CibilStatus, { description: "SUCCESS when the customer is verified." })
  status!: CibilStatus;

  @Field(() => Boolean, {
    nullable: true,
    description:
      "AOPay's is_returning_customer: whether CIBIL already knew this customer. Null when AOPay did not say.",
  })
  returningCustomer!: boolean | null;

  @Field(() => String, {
    nullable: true,
    description: "AOPay's cibil_score_fetch_date, as sent (format undocumented).",
  })
  scoreFetchDate!: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      "AOPay's merchant transaction id (e.g. SPCBL2308181506522334ZiSHM7bAe), for support. Null when AOPay sent none.",
  })
  merchantTransactionId!: string | null;

  /** The id the customer verified (from the request, unmasked): what creditHistory is read with. Not in the schema. */
  verifiedCibilId!: string;

  static from(verification: CibilSubmitOtpAnswer): CibilOtpVerified {
    const { cibilIdMasked, cibilId, ...rest } = verification;
    return Object.assign(new CibilOtpVerified(), rest, {
      cibilId: cibilIdMasked,
      status: CibilStatus[verification.status],
      verifiedCibilId: cibilId,
    });
  }
}
