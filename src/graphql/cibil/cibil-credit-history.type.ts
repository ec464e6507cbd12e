import { Field, ObjectType } from "type-graphql";
import type { CreditHistory } from "../../aopay/endpoints/cibil-credit-history";

@ObjectType({
  description:
    "AOPay answered GetCreditHistory. Its history payload is undocumented, so only the documented envelope is exposed " +
    "until AOPay publishes the payload's shape.",
})
export class CibilCreditHistory {
  @Field({ description: "The customer's CIBIL id the history was read for (digits, e.g. 102277100)." })
  cibilId!: string;

  @Field({ description: "Our client_order_id for this request, for support." })
  orderId!: string;

  @Field({ description: "Whether AOPay's answer carried a history payload (its content is not exposed yet)." })
  payloadReceived!: boolean;

  @Field(() => String, { nullable: true, description: "AOPay's message, with any Aadhaar or mobile number masked. Null when AOPay sent none." })
  upstreamMessage!: string | null;

  @Field(() => String, {
    nullable: true,
    description: "AOPay's merchant transaction id (e.g. SPCBL2308181506522334ZiSHM7bAe), for support. Null when AOPay sent none.",
  })
  merchantTransactionId!: string | null;

  static from(history: CreditHistory): CibilCreditHistory {
    const { hasPayload, ...rest } = history;
    return Object.assign(new CibilCreditHistory(), rest, { payloadReceived: hasPayload });
  }
}
