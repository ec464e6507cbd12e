import { IsOptional } from "class-validator";
import { Field, InputType } from "type-graphql";
import { IsEmailAddress, IsIndianMobile, IsPan, IsPastIsoDate, IsPersonName } from "../validation/decorators";

@InputType({ description: "Registers a customer for CIBIL score and report checks (once per customer)." })
export class RegisterCibilCustomerInput {
  @Field({
    description:
      "Given name as on the PAN card, e.g. Asha: 1 to 50 letters of any script (dots, apostrophes and hyphens after the first, single spaces between words).",
  })
  @IsPersonName()
  firstName!: string;

  @Field(() => String, {
    nullable: true,
    description: "Middle name, if any (same rules as firstName). Optional, as on AOPay's page.",
  })
  @IsOptional()
  @IsPersonName()
  middleName?: string | null;

  @Field({ description: "Family name as on the PAN card, e.g. Kulkarni (same rules as firstName)." })
  @IsPersonName()
  lastName!: string;

  @Field({ description: "PAN, e.g. ABCPE1234F (either case). Returned masked only." })
  @IsPan()
  pan!: string;

  @Field({
    description: "Date of birth, YYYY-MM-DD. Sent to AOPay as AOPAY_DOB_FORMAT (default DD/MM/YYYY); never returned.",
  })
  @IsPastIsoDate()
  dateOfBirth!: string;

  @Field({
    description:
      "E-mail address, e.g. asha@example.com: ASCII, without quotes; the domain is lower-cased. Returned masked only (a***@example.com).",
  })
  @IsEmailAddress()
  email!: string;

  @Field({ description: "10 digits starting 6-9, without +91 or 0. Returned masked only." })
  @IsIndianMobile()
  mobile!: string;
}
