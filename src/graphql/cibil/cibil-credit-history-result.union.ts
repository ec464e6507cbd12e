import { createUnionType } from "type-graphql";
import { CONSENTED_READ_FAILURES } from "../failures/failure.types";
import { CibilCreditHistory } from "./cibil-credit-history.type";

export const CibilCreditHistoryResult = createUnionType({
  name: "CibilCreditHistoryResult",
  description:
    "The history on success; ConsentRequired when this client has not verified the customer's OTP; or a typed failure.",
  types: () => [CibilCreditHistory, ...CONSENTED_READ_FAILURES] as const,
});
