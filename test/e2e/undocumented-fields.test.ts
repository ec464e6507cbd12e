import { fixtureJson } from "../helpers/fixtures";
import { json } from "../helpers/fake-upstream";
import { aepsInput, cibilInput, GENERATE_CIBIL_OTP, RESEND_AEPS_OTP, resultOf } from "../helpers/operations";
import { stackOnFakeUpstream } from "../helpers/stack";

const LINE = "upstream answer has undocumented fields";

/**
 * The "undocumented fields" line is how operators learn AOPay's real shapes; if AOPay always adds a key, a line per
 * answer doubled the log (a twin of every access line). A shape gets its line once, then every 10 minutes with how
 * many answers had it (src/aopay/undocumented-fields.ts). Real server, scripted upstream.
 */
describe("undocumented fields in AOPay's answers: one line per shape, not per answer", () => {
  const { upstream, t } = stackOnFakeUpstream();

  const lines = () =>
    t.logs
      .records()
      .filter((r) => r.msg === LINE)
      .map((r) => r.upstream as { endpoint: string; unknownKeys: string[]; repeats: number });

  it("the same extra keys in every answer: one line for the first, none for the next answers", async () => {
    upstream.respond(json(200, { ...fixtureJson("aeps/resend-otp.success"), traceTag: "x", region: "IN" }));
    for (let i = 0; i < 6; i++) {
      const res = await t.gql(RESEND_AEPS_OTP, aepsInput());
      expect(resultOf(res.body, "resendAepsOtp")).toMatchObject({ __typename: "AepsOtpResent" });
    }
    expect(upstream.calls).toHaveLength(6);
    expect(lines()).toEqual([{ endpoint: "aeps.resendOtp", unknownKeys: ["traceTag", "region"], repeats: 0 }]);
    // Every answer still has its access line: only the twin went.
    expect(t.logs.records().filter((r) => r.msg === "request completed")).toHaveLength(6);
  });

  it("a new shape, on the same endpoint or another, gets its own line at once", async () => {
    upstream.respond(json(200, { ...fixtureJson("aeps/resend-otp.success"), traceTag: "x" }));
    await t.gql(RESEND_AEPS_OTP, aepsInput());
    const cibil = fixtureJson("cibil/generate-otp.success");
    upstream.respond(json(200, { ...cibil, result: { ...(cibil.result as object), score_hint: 1 } }));
    const res = await t.gql(GENERATE_CIBIL_OTP, cibilInput());
    expect(resultOf(res.body, "generateCibilOtp")).toMatchObject({ __typename: "CibilOtpChallenge" });
    expect(lines().slice(-2)).toEqual([
      { endpoint: "aeps.resendOtp", unknownKeys: ["traceTag"], repeats: 0 },
      { endpoint: "cibil.generateOtp", unknownKeys: ["result.score_hint"], repeats: 0 },
    ]);
  });

  it("keys that change with every answer are bounded: 10 lines, the rest counted", async () => {
    const before = lines().length;
    for (let i = 0; i < 14; i++) {
      upstream.respond(json(200, { ...fixtureJson("aeps/resend-otp.success"), [`k${i}`]: 1 }));
      await t.gql(RESEND_AEPS_OTP, aepsInput());
    }
    // Three lines of this 10 s interval went to the tests before (7 of these 14 logged), or a new interval began
    // on a slow machine (10 logged): never all 14.
    const logged = lines().slice(before);
    expect(logged.length).toBeGreaterThanOrEqual(7);
    expect(logged.length).toBeLessThanOrEqual(10);
  });
});
