import { ArgsType, Field } from "type-graphql";
import { MatchesRule } from "../validation/decorators";
import { CIBIL_ID, CIBIL_ID_RULE } from "./generate-cibil-otp.input";

@ArgsType()
export class CibilCreditHistoryArgs {
  @Field({ description: "A customer whose CIBIL OTP this client verified within CIBIL_CONSENT_TTL_SECONDS." })
  @MatchesRule(CIBIL_ID, CIBIL_ID_RULE)
  cibilId!: string;
}
