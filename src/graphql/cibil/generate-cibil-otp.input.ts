import { Field, InputType } from "type-graphql";
import { MatchesRule } from "../validation/decorators";

/** Shared id/token rules for the CIBIL family. */
export const CIBIL_ID = /^[0-9]{1,15}$/;
export const CIBIL_ID_RULE = "must be 1 to 15 digits";
// Token-ish characters only (base64/base64url/JWT/hex): no spaces, quotes, CR/LF or JSON punctuation (docs/security-requirements.md C3).
export const ACCESS_TOKEN = /^[A-Za-z0-9._~+/=-]{4,512}$/;
export const ACCESS_TOKEN_RULE = "must be 4 to 512 characters of letters, digits and . _ ~ + / = -";

@InputType({ description: "Asks AOPay to send a CIBIL consent OTP to the customer's registered mobile." })
export class GenerateCibilOtpInput {
  @Field({ description: "The customer's CIBIL id, digits only (AOPay documents it as an integer)." })
  @MatchesRule(CIBIL_ID, CIBIL_ID_RULE)
  cibilId!: string;

  @Field({ description: "The customer's CIBIL access token, as issued upstream. Never logged or returned." })
  @MatchesRule(ACCESS_TOKEN, ACCESS_TOKEN_RULE)
  accessToken!: string;
}
