import { Field, ObjectType } from "type-graphql";
import type { CreditHistory } from "../../aopay/endpoints/cibil-credit-history";

@ObjectType({
  description:
    "AOPay answered GetCreditHistory. Its history payload is undocumented, so only the documented envelope is exposed " +
    "until AOPay publishes the payload's shape.",
})
export class CibilCreditHistory {
  @Field()
  cibilId!: string;

  @Field({ description: "Our client_order_id for this request, for support." })
  orderId!: string;

  @Field({ description: "Whether AOPay's answer carried a history payload (its content is not exposed yet)." })
  payloadReceived!: boolean;

  @Field(() => String, { nullable: true })
  upstreamMessage!: string | null;

  @Field(() => String, { nullable: true })
  merchantTransactionId!: string | null;

  static from(history: CreditHistory): CibilCreditHistory {
    const { hasPayload, ...rest } = history;
    return Object.assign(new CibilCreditHistory(), rest, { payloadReceived: hasPayload });
  }
}
