import { Field, ObjectType } from "type-graphql";
import type { CibilOtpVerification } from "../../aopay/endpoints/cibil-submit-otp";
import { CibilStatus } from "./cibil-otp-challenge.type";

@ObjectType({ description: "AOPay accepted the OTP. The customer's credit report can be read (field creditHistory), by this client only." })
export class CibilOtpVerified {
  @Field(() => String, { nullable: true, description: "The CIBIL id as AOPay returns it (masked in its example, e.g. 93626**)." })
  cibilId!: string | null;

  @Field(() => CibilStatus, { description: "SUCCESS when the customer is verified." })
  status!: CibilStatus;

  @Field(() => Boolean, { nullable: true, description: "AOPay's is_returning_customer; null when absent." })
  returningCustomer!: boolean | null;

  @Field(() => String, { nullable: true, description: "AOPay's cibil_score_fetch_date, as sent (format undocumented)." })
  scoreFetchDate!: string | null;

  @Field(() => String, { nullable: true })
  merchantTransactionId!: string | null;

  /** The id the customer verified (from the request, unmasked): what creditHistory is read with. Not in the schema. */
  verifiedCibilId!: string;

  static from(verification: CibilOtpVerification): CibilOtpVerified {
    const { cibilIdMasked, cibilId, ...rest } = verification;
    return Object.assign(new CibilOtpVerified(), rest, {
      cibilId: cibilIdMasked,
      status: CibilStatus[verification.status],
      verifiedCibilId: cibilId,
    });
  }
}
