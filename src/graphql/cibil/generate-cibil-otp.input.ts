import { Field, InputType } from "type-graphql";
import { IsCibilId, MatchesRule } from "../validation/decorators";

// Token-ish characters only (base64/base64url/JWT/hex): no spaces, quotes, CR/LF or JSON punctuation
// (docs/security-requirements.md C3). An opaque secret AOPay issued: sent exactly as written, never canonicalised.
export const ACCESS_TOKEN = /^[A-Za-z0-9._~+/=-]{4,512}$/;
export const ACCESS_TOKEN_RULE = "must be 4 to 512 characters of letters, digits and . _ ~ + / = -";

@InputType({ description: "Asks AOPay to send a CIBIL consent OTP to the customer's registered mobile." })
export class GenerateCibilOtpInput {
  @Field({
    description:
      "The customer's CIBIL id from registerCibilCustomer: 1 to 15 digits, e.g. 102277100 (AOPay documents it as an integer: leading zeros are dropped).",
  })
  @IsCibilId()
  cibilId!: string;

  @Field({
    description:
      "The customer's CIBIL access token from registerCibilCustomer: 4 to 512 characters of letters, digits and . _ ~ + / = -. Never logged or returned.",
  })
  @MatchesRule(ACCESS_TOKEN, ACCESS_TOKEN_RULE)
  accessToken!: string;
}
