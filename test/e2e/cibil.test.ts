import { SIM_RETRY_AFTER_SECONDS } from "../../src/simulator/scenarios";
import { cibilInput, GENERATE_CIBIL_OTP, resultOf, withoutRequestIds } from "../helpers/operations";
import { startTestStack, type TestStack } from "../helpers/stack";

describe("generateCibilOtp through the server and the built-in simulator", () => {
  let t: TestStack;
  beforeAll(async () => {
    // A short deadline so the "no answer" scenario ends quickly.
    t = await startTestStack({ AOPAY_DEADLINE_MS: "600" });
  });
  afterAll(() => t?.stop());
  beforeEach(() => t.simulator?.resetCalls());

  const send = async (cibilId: string) => {
    const res = await t.gql(GENERATE_CIBIL_OTP, cibilInput(cibilId));
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    return resultOf(res.body, "generateCibilOtp");
  };

  it("returns the typed challenge on success", async () => {
    const r = await send("102277100");
    expect(r).toMatchObject({
      __typename: "CibilOtpChallenge",
      cibilId: "102277100",
      status: "PENDING",
      nextStep: "VERIFY_ANSWERS",
      nextStepName: "cibil-verify-answers",
      question: { lastChance: false, skipEligible: false, resendEligible: true },
    });
    const question = r.question as { key: string; text: string; answerChoices: Array<{ key: string; id: string }> };
    expect(question.key).toMatch(/^[0-9]+$/);
    expect(question.text).toMatch(/^The One Time Password is sent to \*{9}\./);
    expect(question.answerChoices).toEqual([expect.objectContaining({ key: "USER_TO_INPUT_ANSWER" })]);
    expect(r.merchantTransactionId).toMatch(/^SIMCBL[0-9]+$/);
    expect(t.simulator?.calls("cibil.generateOtp")).toBe(1);
  });

  it.each([
    [
      "207",
      {
        __typename: "UpstreamRejected",
        code: "UPSTREAM_REJECTED",
        retryable: false,
        upstreamCode: "207",
        upstreamMessage: "Amount is Requaired",
      },
    ],
    [
      "401",
      { __typename: "UpstreamUnauthorized", code: "UPSTREAM_UNAUTHORIZED", retryable: false, upstreamCode: "401" },
    ],
    // A 500 to a send does not say the OTP was not sent (outcome.ts NOT_HANDLED_5XX): not a retryable failure.
    ["500", { __typename: "OutcomeUnknown", code: "OUTCOME_UNKNOWN", retryable: false }],
    [
      "503",
      {
        __typename: "UpstreamUnavailable",
        code: "UPSTREAM_UNAVAILABLE",
        retryable: true,
        retryAfterSeconds: SIM_RETRY_AFTER_SECONDS,
      },
    ],
    ["302", { __typename: "OutcomeUnknown", code: "OUTCOME_UNKNOWN", retryable: false }],
    ["299", { __typename: "OutcomeUnknown", code: "OUTCOME_UNKNOWN", retryable: false }],
    ["504", { __typename: "OutcomeUnknown", code: "OUTCOME_UNKNOWN", retryable: false }],
  ])("scenario ...%s gives the typed failure as data, after exactly one upstream call", async (suffix, expected) => {
    const r = await send(`102277${suffix}`);
    expect(r).toMatchObject(expected);
    expect(typeof r.message).toBe("string");
    expect(t.simulator?.calls("cibil.generateOtp")).toBe(1);
  });

  it("never shows the upstream's URL, port or raw body to the client", async () => {
    t.simulator?.resetCalls();
    const res = await t.gql(GENERATE_CIBIL_OTP, cibilInput("102277500"));
    // The call reached the simulator, which failed with an HTML page: the client gets the typed failure instead.
    expect(t.simulator?.calls("cibil.generateOtp")).toBe(1);
    expect(resultOf(res.body, "generateCibilOtp")).toMatchObject({
      __typename: "OutcomeUnknown",
      code: "OUTCOME_UNKNOWN",
    });
    const port = t.simulator?.url.port ?? "none";
    expect(withoutRequestIds(res.text)).not.toContain(port);
    expect(withoutRequestIds(res.text)).not.toContain("127.0.0.1");
    expect(res.text).not.toMatch(/<html|Simulated upstream failure/i);
  });
});
