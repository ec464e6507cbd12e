import { aepsInput, RESEND_AEPS_OTP, resultOf } from "../helpers/operations";
import { startTestStack, type TestStack } from "../helpers/stack";

describe("resendAepsOtp through the server and the built-in simulator", () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack({ AOPAY_DEADLINE_MS: "600" });
  });
  afterAll(() => t?.stop());
  beforeEach(() => t.simulator?.resetCalls());

  const send = async (mobile: string, overrides: Record<string, string> = {}) => {
    const res = await t.gql(RESEND_AEPS_OTP, aepsInput(mobile, overrides));
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    return { r: resultOf(res.body, "resendAepsOtp"), text: res.text };
  };

  it("returns the registration step with references and masked Aadhaar and mobile only", async () => {
    const { r, text } = await send("9876543210", {
      aadhaar: "2341 2341 2346",
      primaryKeyId: "PK-77",
      encodeTxnId: "ENC/77=",
    });
    expect(r).toEqual({
      __typename: "AepsOtpResent",
      upstreamMessage: "OTP Resend Request Completed",
      upstreamResponseCode: 1,
      upstreamErrorCode: "0",
      primaryKeyId: "PK-77",
      encodeTxnId: "ENC/77=",
      maskedAadhaar: "XXXX XXXX 2346",
      maskedMobile: "XXXXXX3210",
      // The test stack's budgets are lenient (no cooldown): nothing gates the next send.
      resendAvailableInSeconds: 0,
    });
    expect(text).not.toContain("234123412346");
    expect(text).not.toContain("9876543210");
    expect(t.simulator?.calls("aeps.resendOtp")).toBe(1);
  });

  it.each([
    ["9876543207", { __typename: "UpstreamRejected", code: "UPSTREAM_REJECTED", upstreamCode: "0" }],
    [
      "9876543401",
      {
        __typename: "UpstreamUnauthorized",
        code: "UPSTREAM_UNAUTHORIZED",
        upstreamCode: "5",
        upstreamMessage: "Invalid signature encoding",
      },
    ],
    ["9876543500", { __typename: "OutcomeUnknown", code: "OUTCOME_UNKNOWN", retryable: false }],
    ["9876543299", { __typename: "OutcomeUnknown", code: "OUTCOME_UNKNOWN" }],
    ["9876543504", { __typename: "OutcomeUnknown", code: "OUTCOME_UNKNOWN" }],
  ])("mobile %s gives %p after exactly one upstream call", async (mobile, expected) => {
    const { r } = await send(mobile);
    expect(r).toMatchObject(expected);
    expect(t.simulator?.calls("aeps.resendOtp")).toBe(1);
  });
});
