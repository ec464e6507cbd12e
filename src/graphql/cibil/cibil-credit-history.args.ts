import { ArgsType, Field } from "type-graphql";
import { IsCibilId } from "../validation/decorators";

@ArgsType()
export class CibilCreditHistoryArgs {
  @Field({ description: "A customer whose CIBIL OTP this client verified within CIBIL_CONSENT_TTL_SECONDS." })
  @IsCibilId()
  cibilId!: string;
}
