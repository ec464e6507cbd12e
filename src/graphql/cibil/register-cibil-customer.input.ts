import { IsEmail, IsOptional, MaxLength } from "class-validator";
import { Field, InputType } from "type-graphql";
import { IsIndianMobile, IsPan, IsPastIsoDate, MatchesRule } from "../validation/decorators";

// Letters of any script, then letters, spaces, dots, apostrophes or hyphens; at most 50 characters.
const NAME = /^\p{L}[\p{L}\p{M} .'-]{0,49}$/u;
const NAME_RULE = "must be 1 to 50 letters (spaces, dots, apostrophes and hyphens allowed after the first)";

@InputType({ description: "Registers a customer for CIBIL score and report checks (once per customer)." })
export class RegisterCibilCustomerInput {
  @Field({ description: "Given name as on the PAN card, e.g. Asha: 1 to 50 letters of any script (spaces, dots, apostrophes, hyphens after the first)." })
  @MatchesRule(NAME, NAME_RULE)
  firstName!: string;

  @Field(() => String, { nullable: true, description: "Middle name, if any (same rules as firstName). Optional, as on AOPay's page." })
  @IsOptional()
  @MatchesRule(NAME, NAME_RULE)
  middleName?: string | null;

  @Field({ description: "Family name as on the PAN card, e.g. Kulkarni (same rules as firstName)." })
  @MatchesRule(NAME, NAME_RULE)
  lastName!: string;

  @Field({ description: "PAN, e.g. ABCPE1234F (either case). Returned masked only." })
  @IsPan()
  pan!: string;

  @Field({ description: "Date of birth, YYYY-MM-DD. Sent to AOPay as AOPAY_DOB_FORMAT (default DD/MM/YYYY); never returned." })
  @IsPastIsoDate()
  dateOfBirth!: string;

  @Field({ description: "E-mail address, e.g. asha@example.com. Returned masked only (a***@example.com)." })
  @MaxLength(254, { message: "must be at most 254 characters" })
  @IsEmail({}, { message: "must be an e-mail address" })
  email!: string;

  @Field({ description: "10 digits starting 6-9, without +91 or 0. Returned masked only." })
  @IsIndianMobile()
  mobile!: string;
}
