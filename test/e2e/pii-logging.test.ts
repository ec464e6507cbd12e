import { SCENARIOS } from "../../src/simulator/scenarios";
import { GENERATE_CIBIL_OTP, RESEND_AEPS_OTP } from "../helpers/operations";
import { startTestStack, type TestStack } from "../helpers/stack";

/**
 * Canary values fed through every path (success, every simulator scenario, validation errors, coercion errors) with
 * LOG_LEVEL=debug. None may appear in any log line, response body or response header (SECURITY.md D1, D3, D4).
 */
const CANARY = {
  aadhaar: "999971658847",
  accessToken: "tokCANARY7f3a9c",
  userKey: "CANARYKEY1",
  primaryKeyId: "PKCANARY42",
  encodeTxnId: "ENCCANARY42",
  registrationId: "CANARY-REG-9931",
  companyCode: "CANARYCO77",
};
const mobileFor = (suffix: string) => `9123456${suffix}`;
const SUFFIXES = SCENARIOS.map((s) => s.suffix ?? "123").filter((s) => s !== "888"); // skip the 2-second slow scenario

describe("no PII or credential leaves the process in clear (LOG_LEVEL=debug)", () => {
  let t: TestStack;
  const responses: string[] = [];
  const mobiles: string[] = [];

  beforeAll(async () => {
    t = await startTestStack({
      LOG_LEVEL: "debug",
      AOPAY_REGISTRATION_ID: CANARY.registrationId,
      AOPAY_COMPANY_CODE: CANARY.companyCode,
      AOPAY_DEADLINE_MS: "400",
    });
    const record = (res: Awaited<ReturnType<TestStack["gql"]>>) => responses.push(res.text, JSON.stringify(res.headers));

    for (const suffix of SUFFIXES) {
      const mobile = mobileFor(suffix);
      mobiles.push(mobile);
      record(await t.gql(GENERATE_CIBIL_OTP, { input: { cibilId: `555000${suffix}`, accessToken: CANARY.accessToken } }));
      record(
        await t.gql(RESEND_AEPS_OTP, {
          input: { userKey: CANARY.userKey, mobile, aadhaar: CANARY.aadhaar, primaryKeyId: CANARY.primaryKeyId, encodeTxnId: CANARY.encodeTxnId },
        }),
      );
    }
    // Validation errors: bad checksum (a canary that is itself an Aadhaar-shaped run), bad mobile, long user key.
    const base = { userKey: CANARY.userKey, mobile: mobileFor("321"), aadhaar: CANARY.aadhaar, primaryKeyId: CANARY.primaryKeyId, encodeTxnId: CANARY.encodeTxnId };
    record(await t.gql(RESEND_AEPS_OTP, { input: { ...base, aadhaar: "999971658848" } }));
    record(await t.gql(RESEND_AEPS_OTP, { input: { ...base, mobile: "5123456321" } }));
    record(await t.gql(RESEND_AEPS_OTP, { input: { ...base, userKey: `${CANARY.userKey}XYZ` } }));
    // Coercion errors: a missing field and a number where a string belongs.
    const { mobile: _m, ...missingMobile } = base;
    record(await t.gql(RESEND_AEPS_OTP, { input: missingMobile }));
    record(await t.gql(RESEND_AEPS_OTP, { input: { ...base, aadhaar: Number(CANARY.aadhaar) } }));
    record(await t.gql(GENERATE_CIBIL_OTP, { input: { cibilId: 5, accessToken: CANARY.accessToken } }));
    mobiles.push(mobileFor("321"));
  });
  afterAll(() => t.stop());

  it("exercised every path (sanity: the log is not empty and has debug lines)", () => {
    const records = t.logs.records();
    expect(records.length).toBeGreaterThan(SUFFIXES.length * 2);
    expect(records.some((r) => r.level === "debug")).toBe(true);
    expect(records.some((r) => (r.upstream as { outcome?: string } | undefined)?.outcome === "OUTCOME_UNKNOWN")).toBe(true);
  });

  // The registration references are returned to the client on success by design (the next call needs them), so
  // for them the rule is "never logged"; for everything else it is "never anywhere".
  const RETURNED_BY_DESIGN = new Set(["primaryKeyId", "encodeTxnId"]);

  it.each(Object.entries(CANARY))("the %s canary appears in no log line", (_name, value) => {
    expect(t.logs.text()).not.toContain(value);
  });

  it.each(Object.entries(CANARY).filter(([name]) => !RETURNED_BY_DESIGN.has(name)))(
    "the %s canary appears in no response body or header",
    (_name, value) => {
      for (const text of responses) expect(text).not.toContain(value);
    },
  );

  it("no canary mobile appears in clear anywhere", () => {
    for (const mobile of mobiles) {
      expect(t.logs.text()).not.toContain(mobile);
      for (const text of responses) expect(text).not.toContain(mobile);
    }
  });

  it("the Aadhaar appears only as XXXX XXXX 8847 in responses", () => {
    const shown = responses.join("\n").match(/XXXX XXXX [0-9]{4}/g) ?? [];
    expect(shown.length).toBeGreaterThan(0);
    expect(new Set(shown)).toEqual(new Set(["XXXX XXXX 8847"]));
  });
});
