import { JSONObjectResolver } from "graphql-scalars";
import { Field, ObjectType } from "type-graphql";
import type { CibilCreditHistoryAnswer } from "../../aopay/endpoints/cibil-credit-history";

@ObjectType({
  description:
    "AOPay answered GetCreditHistory. `report` is AOPay's payload as received (its shape is not documented by AOPay); " +
    "typed fields exist only where AOPay's documentation names a key. Served only to the client that verified the " +
    "customer's OTP within the consent window, with `Cache-Control: no-store`; never logged or stored by this service.",
})
export class CibilCreditHistory implements CibilCreditHistoryAnswer {
  @Field({ description: "The customer's CIBIL id the history was read for (digits, e.g. 102277100)." })
  cibilId!: string;

  @Field({ description: "Our client_order_id for this request, for support." })
  orderId!: string;

  @Field(() => JSONObjectResolver, {
    nullable: true,
    description:
      "AOPay's payload as received; its shape is not documented by AOPay. AOPay's `result` object, unchanged: its " +
      "keys, values and nesting are AOPay's, but for a number AOPay masked in part (a mobile as 98765****), which " +
      "shows no digit in any string value (*********). Null when AOPay's answer carried no `result` object. " +
      "From the built-in simulator it is a labelled sample (`simulated: true`) whose every field is the simulator's " +
      "invention.",
  })
  report!: Record<string, unknown> | null;

  @Field(() => String, {
    nullable: true,
    description:
      "`cibil_score_fetch_date` from the report, when AOPay sends one (the key is documented on SubmitOTP; its format " +
      "is not, so it is passed on as text). Null when absent.",
  })
  scoreFetchDate!: string | null;

  @Field({
    description: "Whether AOPay's answer carried a `result` object.",
    deprecationReason: "Use `report`: it is null exactly when this is false.",
  })
  payloadReceived!: boolean;

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

  static from(history: CibilCreditHistoryAnswer): CibilCreditHistory {
    return Object.assign(new CibilCreditHistory(), history, { payloadReceived: history.report !== null });
  }
}
