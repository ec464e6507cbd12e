import "reflect-metadata";
import { IsString, ValidateNested, validateSync } from "class-validator";
import { type GraphQLInputObjectType, isInputObjectType } from "graphql";
import { ResendAepsOtpInput } from "../../../../src/graphql/aeps/resend-aeps-otp.input";
import { VerifyAepsOtpInput } from "../../../../src/graphql/aeps/verify-aeps-otp.input";
import { CibilCreditHistoryArgs } from "../../../../src/graphql/cibil/cibil-credit-history.args";
import { GenerateCibilOtpInput } from "../../../../src/graphql/cibil/generate-cibil-otp.input";
import { RegisterCibilCustomerInput } from "../../../../src/graphql/cibil/register-cibil-customer.input";
import { SubmitCibilOtpInput } from "../../../../src/graphql/cibil/submit-cibil-otp.input";
import { createSchema } from "../../../../src/graphql/schema";
import { validityCheckOf } from "../../../../src/graphql/validation/compiled-check";
import { VALIDATOR_OPTIONS } from "../../../../src/graphql/validation/validate-input";

/**
 * The compiled check must give validateSync's verdict on every input: it decides alone when an input is valid (the
 * resolver runs on its word), so a "yes" where validateSync says "no" would let a bad value through. Compared here on
 * every input class of the schema, field by field, over valid values, near misses, other fields' values and non-strings.
 */
const VALID: Array<[Function, Record<string, unknown>]> = [
  [
    ResendAepsOtpInput,
    {
      userKey: "AOP554N3XXXX",
      mobile: "9876543210",
      aadhaar: "2341 2341 2346",
      primaryKeyId: "TEST",
      encodeTxnId: "DEMO",
    },
  ],
  [
    VerifyAepsOtpInput,
    {
      userKey: "AOP554N3XXXX",
      mobile: "9876543210",
      aadhaar: "234123412346",
      primaryKeyId: "TEST",
      encodeTxnId: "DEMO",
      otp: "123456",
    },
  ],
  [GenerateCibilOtpInput, { cibilId: "0760191459", accessToken: "abcd1234" }],
  [
    SubmitCibilOtpInput,
    {
      cibilId: "760191459",
      accessToken: "abcd1234",
      otp: "123456",
      questionKey: "Q_1:a",
      answerKey: "ANSWER ONE",
    },
  ],
  [CibilCreditHistoryArgs, { cibilId: "102277100" }],
  [
    RegisterCibilCustomerInput,
    {
      firstName: "Asha",
      middleName: null,
      lastName: "Kulkarni",
      pan: "abcpe1234f",
      dateOfBirth: "1990-04-23",
      email: "Asha@EXAMPLE.com",
      mobile: "9876543210",
    },
  ],
];

const STRINGS = [
  "",
  " ",
  "0",
  "000",
  "00000",
  "x",
  "a b",
  "a  b",
  "<script>",
  "\u0000",
  "١٢٣",
  "１２３",
  "Zoe\u0308",
  " Asha",
  "Asha ",
  "Jean-Luc O'Neil",
  "9876543210",
  "5876543210",
  "+919876543210",
  "09876543210",
  "987654321",
  "98765432101",
  "2341 2341 2346",
  "234123412346",
  "234123412345",
  "2341  2341 2346",
  "2341-2341-2346",
  "ABCPE1234F",
  "abcpe1234f",
  "ABCXE1234F",
  "ABCPE12345",
  "1990-04-23",
  "1990-02-30",
  "1899-12-31",
  "1900-01-01",
  "2990-01-01",
  "1990-4-23",
  "a@b.co",
  "a@b",
  "a@localhost",
  '"a"@b.com',
  "ä@b.com",
  "Asha@EXAMPLE.com",
  `${"a".repeat(250)}@x.com`,
  "TEST",
  "DEMO",
  "ab+/=.-_",
  "x".repeat(128),
  "x".repeat(129),
  "AOP554N3XXXX",
  "AOP554N3XXXXX",
  "012345",
  "12345",
  "1234567",
  "12345a",
  "760191459",
  "0760191459",
  "000000000760191",
  "0000000000000000",
  "1234567890123456",
  "abcd1234",
  "Q_1:a",
  "ANSWER ONE",
  "ANSWER  ONE",
  " ANSWER",
  "A".repeat(64),
  "A".repeat(65),
];
const OTHERS: unknown[] = [null, undefined, 123, 0, true, {}, [], ["9876543210"]];

function verdicts(ctor: Function, values: Record<string, unknown>): [boolean, boolean] {
  const make = (): object => Object.assign(Object.create(ctor.prototype as object) as object, values);
  const check = validityCheckOf(ctor);
  if (!check) throw new Error(`${ctor.name} has no compiled check`);
  return [check(make()), validateSync(make(), VALIDATOR_OPTIONS).length === 0];
}

describe("the compiled validity check gives validateSync's verdict", () => {
  it("covers every input class of the schema", async () => {
    const schema = await createSchema();
    const inputs = Object.values(schema.getTypeMap())
      .filter((t): t is GraphQLInputObjectType => isInputObjectType(t))
      .map((t) => t.name)
      .sort();
    expect(inputs).toEqual(
      VALID.map(([c]) => c.name)
        .filter((n) => n !== "CibilCreditHistoryArgs")
        .sort(),
    );
  });

  it.each(VALID.map(([ctor, values]) => [ctor.name, ctor, values] as const))(
    "%s: the valid sample, then each field set to each value and left out",
    (_name, ctor, sample) => {
      expect(verdicts(ctor, sample)).toEqual([true, true]);
      let valid = 0;
      let invalid = 0;
      for (const field of Object.keys(sample)) {
        for (const value of [...STRINGS, ...OTHERS]) {
          const [compiled, reference] = verdicts(ctor, { ...sample, [field]: value });
          // The field and value are in the failure message, so a mismatch says which.
          expect({ field, value, compiled }).toEqual({ field, value, compiled: reference });
          if (reference) valid++;
          else invalid++;
        }
        const { [field]: _dropped, ...without } = sample;
        const [compiled, reference] = verdicts(ctor, without);
        expect({ field, missing: true, compiled }).toEqual({ field, missing: true, compiled: reference });
      }
      // Both verdicts occur for this class, so the comparison is not vacuous.
      expect(valid).toBeGreaterThan(0);
      expect(invalid).toBeGreaterThan(0);
    },
  );

  it("every field wrong at once is refused by both", () => {
    for (const [ctor, sample] of VALID) {
      const bad = Object.fromEntries(Object.keys(sample).map((k) => [k, "\u0000"]));
      expect([ctor.name, ...verdicts(ctor, bad)]).toEqual([ctor.name, false, false]);
    }
  });

  it("leaves a class with rules it cannot compile to validateSync", () => {
    class Inner {
      @IsString()
      name!: string;
    }
    class Outer {
      @ValidateNested()
      inner!: Inner;
    }
    class NoRules {
      name!: string;
    }
    expect(validityCheckOf(Outer)).toBeNull();
    expect(validityCheckOf(NoRules)).toBeNull();
    expect(validityCheckOf(Inner)).not.toBeNull();
  });
});
