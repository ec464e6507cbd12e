import { registrationInput } from "../helpers/identifiers";
import {
  aepsInput,
  cibilInput,
  GENERATE_CIBIL_OTP,
  REGISTER_CIBIL_CUSTOMER,
  RESEND_AEPS_OTP,
  withoutRequestIds,
} from "../helpers/operations";
import { startTestStack, type TestStack } from "../helpers/stack";
import { withoutUuids } from "../helpers/request-id";

/** Digit runs of 9+ digits other than allowed masks: an echoed Aadhaar or mobile would show up as one. */
const LONG_DIGIT_RUN = /[0-9]{9,}/;

describe("input validation happens before any upstream call and never echoes values", () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack();
  });
  afterAll(() => t?.stop());
  beforeEach(() => {
    t.simulator?.resetCalls();
    t.logs.clear();
  });
  afterEach(() => {
    expect(t.simulator?.calls()).toBe(0);
  });

  const expectRejected = (res: Awaited<ReturnType<TestStack["gql"]>>, field: string, secret: string) => {
    expect(res.body.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(res.text).toContain(field);
    expect(withoutRequestIds(res.text)).not.toContain(secret);
    expect(res.text.replace(/"requestId":"[^"]*"/g, "")).not.toMatch(LONG_DIGIT_RUN);
    expect(withoutRequestIds(res.text)).not.toContain("validationErrors");
    expect(withoutRequestIds(res.text)).not.toContain("stacktrace");
    expect(t.logs.text()).not.toContain(secret);
  };

  describe("Aadhaar (docs/security-requirements.md C1)", () => {
    it.each([
      ["234123412347", "has an invalid check digit"],
      ["243123412346", "has an invalid check digit"],
      ["123412341234", "must not start with 0 or 1"],
      ["222222222222", "is not a valid Aadhaar number"],
      ["643343121", "must be 12 digits"],
      ["२३४१२३४१२३४६", "must be 12 digits"],
    ])("rejects %s (%s)", async (aadhaar, problem) => {
      const res = await t.gql(RESEND_AEPS_OTP, aepsInput("9876543210", { aadhaar }));
      expectRejected(res, "input.aadhaar", aadhaar);
      expect(res.body.errors?.[0]?.extensions?.fields).toEqual([
        { field: "input.aadhaar", problem: expect.stringContaining(problem) },
      ]);
    });
  });

  it("a wrong check digit: said to be a typo, with the docs' test number outside production, never the value", async () => {
    const res = await t.gql(RESEND_AEPS_OTP, aepsInput("9876543210", { aadhaar: "2341 2341 2347" }));
    expect(res.body.errors?.[0]?.extensions?.fields).toEqual([
      {
        field: "input.aadhaar",
        problem:
          "has an invalid check digit: probably a typo (its last digit is a Verhoeff checksum of the other eleven); " +
          "for a test, docs/walkthrough.md uses 2341 2341 2346",
      },
    ]);
    expect(withoutUuids(res.text)).not.toContain("2347");
  });

  describe("mobile (docs/security-requirements.md C2)", () => {
    it.each(["5876543210", "987654321", "98765432100", "98765 4321x", "९८७६५४३२१०", "+919876543210"])(
      "rejects %s",
      async (mobile) => {
        const res = await t.gql(RESEND_AEPS_OTP, aepsInput(mobile));
        expectRejected(res, "input.mobile", mobile);
      },
    );
  });

  describe("PAN", () => {
    // The rule's text reaches the client through the scrubber as the message does (error-format.ts scrubbed): an
    // example written as a PAN (`ABCPE1234F`) went out as `such as XXXXXX234F`, a masked value that showed the
    // developer no example at all and read as if the client's own value had been echoed. The shape is said in words
    // instead.
    it.each(["ABCPE1234", "ABCXE1234F", "ABCPE12345"])(
      "rejects %s, the rule said in words, no PAN nor mask",
      async (pan) => {
        const res = await t.gql(REGISTER_CIBIL_CUSTOMER, { input: registrationInput({ pan }) });
        expectRejected(res, "input.pan", pan);
        const fields = res.body.errors?.[0]?.extensions?.fields as { field: string; problem: string }[];
        expect(fields).toEqual([{ field: "input.pan", problem: expect.stringContaining("10-character PAN") }]);
        expect(fields[0].problem).not.toMatch(/X{4}|[A-Z]{5}[0-9]{4}[A-Z]/i);
        expect(fields[0].problem).toMatch(/five letters, four digits and a letter/);
      },
    );
  });

  describe("ids and tokens (docs/security-requirements.md C3)", () => {
    it("rejects an over-long userKey (the page's own 13-character example included)", async () => {
      const res = await t.gql(RESEND_AEPS_OTP, aepsInput("9876543210", { userKey: "AOP554N3XXXXX" }));
      expectRejected(res, "input.userKey", "AOP554N3XXXXX");
    });

    it.each([
      ["a CR/LF", "TEST\r\nX-Injected: 1"],
      ["a NUL", "TE\u0000ST"],
      ["a JSON fragment", '","RegistrationID":"x'],
      ["10 KB", "A".repeat(10_000)],
      ["a confusable", "TЕST"],
    ])("rejects a primaryKeyId with %s", async (_what, primaryKeyId) => {
      const res = await t.gql(RESEND_AEPS_OTP, aepsInput("9876543210", { primaryKeyId }));
      expectRejected(res, "input.primaryKeyId", primaryKeyId);
    });

    it.each([
      ["letters", "abc"],
      ["more than 15 digits", "1234567890123456"],
      ["a sign", "-102277100"],
    ])("rejects a cibilId with %s", async (_what, cibilId) => {
      const res = await t.gql(GENERATE_CIBIL_OTP, cibilInput(cibilId));
      expectRejected(res, "input.cibilId", cibilId);
    });

    it("rejects an access token with spaces or quotes", async () => {
      const res = await t.gql(GENERATE_CIBIL_OTP, { input: { cibilId: "102277100", accessToken: 'tok en"x' } });
      expectRejected(res, "input.accessToken", 'tok en"x');
    });
  });

  it("names every bad field at once", async () => {
    const res = await t.gql(
      RESEND_AEPS_OTP,
      aepsInput("5876543210", { aadhaar: "234123412347", userKey: "AOP554N3XXXXX" }),
    );
    const fields = (res.body.errors?.[0]?.extensions?.fields as Array<{ field: string }>).map((f) => f.field);
    expect(fields.sort()).toEqual(["input.aadhaar", "input.mobile", "input.userKey"]);
  });

  describe("graphql-js coercion errors are rewritten (docs/security-requirements.md A8, four ways)", () => {
    const canary = "999941057058";

    it("a missing field: the whole input object is not echoed", async () => {
      const { mobile: _omitted, ...input } = aepsInput("9876543210", { aadhaar: canary }).input;
      const res = await t.gql(RESEND_AEPS_OTP, { input });
      expect(res.status).toBe(400);
      expect(res.body.errors?.[0]?.message).toBe(
        'Variable "$input" got invalid value; Field "mobile" of required type "String!" was not provided.',
      );
      expectRejected(res, "mobile", canary);
    });

    it("an unknown extra field", async () => {
      const input = { ...aepsInput("9876543210", { aadhaar: canary }).input, registrationId: "x" };
      const res = await t.gql(RESEND_AEPS_OTP, { input });
      expect(res.status).toBe(400);
      expectRejected(res, "registrationId", canary);
    });

    it("a number where a string is expected", async () => {
      const input = { ...aepsInput("9876543210").input, aadhaar: Number(canary) };
      const res = await t.gql(RESEND_AEPS_OTP, { input });
      expect(res.status).toBe(400);
      expect(res.body.errors?.[0]?.message).toBe(
        'Variable "$input" got invalid value at "input.aadhaar"; String cannot represent a non string value.',
      );
      expectRejected(res, "input.aadhaar", canary);
    });

    it("a bad value written inline in the document", async () => {
      const doc = `mutation { resendAepsOtp(input: { userKey: "K", mobile: 9876543210, aadhaar: ${canary}, primaryKeyId: "P", encodeTxnId: "E" }) { __typename } }`;
      const res = await t.gql(doc);
      expect(res.body.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
      expect(withoutRequestIds(res.text)).not.toContain(canary);
      expect(withoutRequestIds(res.text)).not.toContain("9876543210");
    });
  });
});
