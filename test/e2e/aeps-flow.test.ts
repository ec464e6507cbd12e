import { SIM_OTP, SIM_OTP_TTL_MS } from "../../src/simulator/state";
import { aepsInput, RESEND_AEPS_OTP, resultOf, VERIFY_AEPS_OTP, withoutRequestIds } from "../helpers/operations";
import { startTestStack, type TestStack } from "../helpers/stack";

/** Sent as clients send it (client/operations/aeps.graphql). */
const VERIFY = VERIFY_AEPS_OTP;

describe("the whole AEPS flow through the simulator: resend, verify (wrong, right)", () => {
  let now = Date.now();
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack({}, { simulatorClock: () => now });
  });
  afterAll(() => t?.stop());
  const verify = async (mobile: string, otp: string, primaryKeyId = "PK-1") =>
    resultOf(
      (await t.gql(VERIFY, { input: { ...aepsInput(mobile, { primaryKeyId }).input, otp } })).body,
      "verifyAepsOtp",
    );

  it("resend, a wrong OTP (attempts left), the right OTP: the registration is confirmed, masked", async () => {
    t.simulator?.resetCalls();
    expect(
      resultOf((await t.gql(RESEND_AEPS_OTP, aepsInput("9876511001", { primaryKeyId: "PK-1" }))).body, "resendAepsOtp")
        .__typename,
    ).toBe("AepsOtpResent");
    expect(await verify("9876511001", "000000")).toMatchObject({
      __typename: "UpstreamRejected",
      upstreamMessage: "Simulated: invalid OTP, 2 attempts left",
    });
    const ok = await verify("9876511001", SIM_OTP);
    expect(ok).toEqual({
      __typename: "AepsRegistrationVerified",
      upstreamMessage: "Registration verified",
      upstreamResponseCode: 1,
      maskedAadhaar: "XXXX XXXX 2346",
      maskedMobile: "XXXXXX1001",
    });
    expect(t.simulator?.calls("aeps.verifyOtp")).toBe(2);
  });

  it("a verified registration accepts no second verification until a new OTP is sent", async () => {
    expect(await verify("9876511001", SIM_OTP)).toMatchObject({
      upstreamMessage: expect.stringContaining("no OTP is pending"),
    });
  });

  it("three wrong OTPs use up the attempts; ResendOTP issues a fresh OTP that works", async () => {
    for (const otp of ["111111", "222222"]) await verify("9876511002", otp, "PK-2");
    expect(await verify("9876511002", "333333", "PK-2")).toMatchObject({
      upstreamMessage: expect.stringContaining("no attempts left"),
    });
    await t.gql(RESEND_AEPS_OTP, aepsInput("9876511002", { primaryKeyId: "PK-2" }));
    expect((await verify("9876511002", SIM_OTP, "PK-2")).__typename).toBe("AepsRegistrationVerified");
  });

  it("the OTP expires (the simulator's clock is injected)", async () => {
    await t.gql(RESEND_AEPS_OTP, aepsInput("9876511003", { primaryKeyId: "PK-3" }));
    now += SIM_OTP_TTL_MS + 1000;
    expect(await verify("9876511003", SIM_OTP, "PK-3")).toMatchObject({
      upstreamMessage: expect.stringContaining("expired"),
    });
  });

  it.each([
    ["three digits", "123"],
    ["letters", "12a456"],
    ["nine digits", "123456789"],
  ])("rejects an OTP with %s before any upstream call, without echoing it", async (_what, otp) => {
    t.simulator?.resetCalls();
    const res = await t.gql(VERIFY, { input: { ...aepsInput("9876511004").input, otp } });
    expect(res.body.errors?.[0]?.extensions).toMatchObject({
      code: "BAD_USER_INPUT",
      fields: [{ field: "input.otp", problem: "must be 4 to 8 digits" }],
    });
    expect(withoutRequestIds(res.text)).not.toContain(otp);
    expect(t.simulator?.calls()).toBe(0);
  });

  it("the OTP the customer typed appears in no log line", async () => {
    t.logs.clear();
    t.simulator?.resetCalls();
    // The verification really ran (AOPay was asked, and refused the wrong OTP), so its lines were written.
    expect(await verify("9876511005", "918273")).toMatchObject({ __typename: "UpstreamRejected" });
    expect(t.simulator?.calls("aeps.verifyOtp")).toBe(1);
    expect(t.logs.text()).toContain("aeps.verifyOtp");
    expect(t.logs.text()).not.toContain("918273");
  });

  it("a verification is once per document, like a send", async () => {
    const input = { ...aepsInput("9876511006").input, otp: SIM_OTP };
    const doc = `mutation($input: VerifyAepsOtpInput!) { a: verifyAepsOtp(input: $input) { __typename } b: verifyAepsOtp(input: $input) { __typename } }`;
    const res = await t.gql(doc, { input });
    expect(res.body.errors?.[0]?.message).toMatch(/verifyAepsOtp may appear only once per request/);
  });
});
