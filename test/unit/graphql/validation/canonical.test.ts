import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { type GraphQLInputObjectType, isInputObjectType, type GraphQLSchema } from "graphql";
import { ResendAepsOtpInput } from "../../../../src/graphql/aeps/resend-aeps-otp.input";
import { VerifyAepsOtpInput } from "../../../../src/graphql/aeps/verify-aeps-otp.input";
import { CibilCreditHistoryArgs } from "../../../../src/graphql/cibil/cibil-credit-history.args";
import { GenerateCibilOtpInput } from "../../../../src/graphql/cibil/generate-cibil-otp.input";
import { RegisterCibilCustomerInput } from "../../../../src/graphql/cibil/register-cibil-customer.input";
import { SubmitCibilOtpInput } from "../../../../src/graphql/cibil/submit-cibil-otp.input";
import { createSchema } from "../../../../src/graphql/schema";
import { canonicalFieldsOf } from "../../../../src/graphql/validation/canonical";
import { InputValidationError, validateInput } from "../../../../src/graphql/validation/validate-input";
import { canonicalCibilId } from "../../../../src/pii/cibil-id";
import { canonicalEmail, isAsciiEmailSpelling } from "../../../../src/pii/email";
import { canonicalPersonName } from "../../../../src/pii/person-name";

/** validateInput is synchronous (validate-input.ts): its refusals are thrown, never a rejected promise. */
const run = (value: object, args: Record<string, unknown> = { input: { ...value } }): void => {
  const returned = validateInput(value, Object, { args, context: {}, info: {} as never, root: undefined });
  if (returned instanceof Promise) throw new Error("validateInput returned a promise: it must stay synchronous");
};

describe("canonical forms (one spelling per identifier)", () => {
  it.each([
    ["760191459", "760191459"],
    ["0760191459", "760191459"],
    ["000000000760191", "760191"],
    ["0", "0"],
    ["000", "0"],
  ])("CIBIL id %s is %s", (raw, canonical) => {
    expect(canonicalCibilId(raw)).toBe(canonical);
  });

  it.each(["", "0000000000000000", " 1", "1 ", "+1", "-1", "1e3", "0x1F", "١٢٣", "１２３"])(
    "CIBIL id %j is refused",
    (raw) => {
      expect(canonicalCibilId(raw)).toBeNull();
    },
  );

  it("e-mail: domain lower-cased, local part kept; quotes, white space and non-ASCII refused", () => {
    expect(canonicalEmail("Asha.K@Example.CO.IN")).toBe("Asha.K@example.co.in");
    expect(canonicalEmail("we@ird@Example.com")).toBe("we@ird@example.com");
    for (const bad of ['"a"@b.com', "a b@c.com", "ä@b.com", "a@bü.com", "a@b.com "])
      expect(isAsciiEmailSpelling(bad)).toBe(false);
  });

  it("names: NFC, and only single inner spaces", () => {
    expect(canonicalPersonName("Zoe\u0308")).toBe("Zo\u00eb");
    expect(canonicalPersonName("Jean-Luc O'Neil")).toBe("Jean-Luc O'Neil");
    expect(canonicalPersonName("ज़ोया")).toBe("ज़ोया".normalize("NFC"));
    for (const bad of [" Asha", "Asha ", "Van  Dyke", "1Asha", "A".repeat(51), ""])
      expect(canonicalPersonName(bad)).toBeNull();
  });
});

describe("validateInput canonicalises in place, once, after the rules pass", () => {
  it("rewrites own and inherited fields of the object the resolver receives", () => {
    const input = Object.assign(new VerifyAepsOtpInput(), {
      userKey: "AOP554N3XXXX",
      mobile: "9876543210",
      aadhaar: "2341 2341 2346",
      primaryKeyId: "TEST",
      encodeTxnId: "DEMO",
      otp: "012345",
    });
    run(input);
    expect(input).toMatchObject({ aadhaar: "234123412346", userKey: "AOP554N3XXXX", otp: "012345" });
  });

  it("rewrites registration fields", () => {
    const input = Object.assign(new RegisterCibilCustomerInput(), {
      firstName: "Zoe\u0308",
      lastName: "Kulkarni",
      pan: "abcpe1234f",
      dateOfBirth: "1990-04-23",
      email: "Asha@EXAMPLE.com",
      mobile: "9876543210",
    });
    run(input);
    expect(input).toMatchObject({ firstName: "Zo\u00eb", pan: "ABCPE1234F", email: "Asha@example.com" });
  });

  it("an @Args class has no argument prefix, and its id is canonical too", () => {
    const args = Object.assign(new CibilCreditHistoryArgs(), { cibilId: "00102277100" });
    run(args, { cibilId: "00102277100" });
    expect(args.cibilId).toBe("102277100");
    const bad = Object.assign(new CibilCreditHistoryArgs(), { cibilId: "x" });
    expect(() => run(bad, { cibilId: "x" })).toThrow(InputValidationError);
    try {
      run(bad, { cibilId: "x" });
    } catch (error) {
      expect((error as InputValidationError).problems).toEqual([
        { field: "cibilId", problem: "must be 1 to 15 digits" },
      ]);
    }
  });

  it("leaves an invalid input untouched (the canonicaliser never sees an invalid value)", () => {
    const input = Object.assign(new GenerateCibilOtpInput(), { cibilId: "0012x", accessToken: "abcd" });
    expect(() => run(input)).toThrow(InputValidationError);
    expect(input.cibilId).toBe("0012x");
  });

  it("declares a canonical form exactly where an identifier has several accepted spellings", () => {
    expect(canonicalFieldsOf(GenerateCibilOtpInput)).toEqual(["cibilId"]);
    expect(canonicalFieldsOf(SubmitCibilOtpInput)).toEqual(["cibilId"]);
    expect(canonicalFieldsOf(CibilCreditHistoryArgs)).toEqual(["cibilId"]);
    expect(canonicalFieldsOf(ResendAepsOtpInput)).toEqual(["aadhaar"]);
    expect(canonicalFieldsOf(VerifyAepsOtpInput)).toEqual(["aadhaar"]);
    expect(canonicalFieldsOf(RegisterCibilCustomerInput).sort()).toEqual([
      "email",
      "firstName",
      "lastName",
      "middleName",
      "pan",
    ]);
  });
});

describe("nobody canonicalises after validation", () => {
  /** The pii canonicalisers may be called by the validation decorators only (and by pii/ itself). */
  const CANONICALISERS = /\bcanonical(Aadhaar|Pan|CibilId|Email|PersonName)\b/;
  // guarded-send.ts: the CIBIL id AOPay's registration ANSWERS (an identifier entering from upstream, never validated
  // client input), canonicalised once so the registered-mobile record is found by generateCibilOtp's canonical input.
  const ALLOWED = new Set(["src/graphql/validation/decorators.ts", "src/graphql/guarded-send.ts"]);
  const root = join(__dirname, "../../../..");
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
    );

  it("no resolver, guard, loader or endpoint calls a canonicaliser", () => {
    const offenders = files(join(root, "src"))
      .map((f) => relative(root, f))
      .filter((f) => !f.startsWith("src/pii/") && !ALLOWED.has(f))
      .filter((f) => CANONICALISERS.test(readFileSync(join(root, f), "utf8")));
    expect(offenders).toEqual([]);
  });

  it("every input field of the schema that holds a CIBIL id, Aadhaar, PAN or e-mail is canonicalised", async () => {
    const schema: GraphQLSchema = await createSchema();
    const classes = new Map<string, Function>([
      ["GenerateCibilOtpInput", GenerateCibilOtpInput],
      ["SubmitCibilOtpInput", SubmitCibilOtpInput],
      ["ResendAepsOtpInput", ResendAepsOtpInput],
      ["VerifyAepsOtpInput", VerifyAepsOtpInput],
      ["RegisterCibilCustomerInput", RegisterCibilCustomerInput],
    ]);
    const inputTypes = Object.values(schema.getTypeMap()).filter((t): t is GraphQLInputObjectType =>
      isInputObjectType(t),
    );
    expect(inputTypes.map((t) => t.name).sort()).toEqual([...classes.keys()].sort());
    for (const type of inputTypes) {
      const canonical = canonicalFieldsOf(classes.get(type.name) as Function);
      for (const field of Object.keys(type.getFields())) {
        if (/^(cibilId|aadhaar|pan|email)$/.test(field))
          expect([type.name, canonical.includes(field)]).toEqual([type.name, true]);
      }
    }
  });
});
