import { DEFAULT_THROTTLE, startTestStack, type TestStack } from "../helpers/stack";
import {
  SANDBOX_RESULTS,
  SANDBOX_SECTION,
  walkthroughOperations,
  walkthroughSection,
} from "../helpers/walkthrough-page";

/**
 * The documented sample report against the real one: equal values, except `<placeholders>` (checked by the caller),
 * text ending in " …" (a prefix) and lists written as ["…"] (a list).
 */
function expectLikeDocumented(actual: unknown, documented: unknown, path = "report"): void {
  if (typeof documented === "string" && documented.startsWith("<")) return;
  if (typeof documented === "string" && documented.endsWith(" …")) {
    expect(typeof actual === "string" && actual.startsWith(documented.slice(0, -2))).toBe(true);
    return;
  }
  if (Array.isArray(documented) && documented.length === 1 && String(documented[0]).startsWith("…")) {
    expect(Array.isArray(actual) && (actual as unknown[]).length > 0).toBe(true);
    return;
  }
  if (documented !== null && typeof documented === "object" && !Array.isArray(documented)) {
    expect(Object.keys(actual as object).sort()).toEqual(Object.keys(documented).sort());
    for (const [key, value] of Object.entries(documented))
      expectLikeDocumented((actual as Record<string, unknown>)[key], value, `${path}.${key}`);
    return;
  }
  expect({ [path]: actual }).toEqual({ [path]: documented });
}

/**
 * docs/walkthrough.md's "Walk both flows in Apollo Sandbox" section, executed as written against a fresh server with
 * the simulator and the default OTP budgets: every GraphQL block and inline query, in the order they appear, with
 * their `<placeholders>` filled from the previous answers, as a frontend developer would; and the sample report shown
 * there compared with the report the server returns. If the page and the server disagree, this fails.
 */
describe("docs/walkthrough.md (Apollo Sandbox, simulator)", () => {
  let t: TestStack;
  beforeAll(async () => {
    // The walkthrough's step 1 starts from a fresh simulator (ids start at 700000001), with development's OTP and
    // credit-report read budgets (step 4 meets the latter).
    t = await startTestStack({ ...DEFAULT_THROTTLE });
  });
  afterAll(() => t?.stop());

  it("runs every documented operation in order and reaches the end of both flows", async () => {
    const section = walkthroughSection(SANDBOX_SECTION);
    const ops = walkthroughOperations(section);
    expect(ops).toHaveLength(7);
    const filled: Record<string, string> = {};
    const results: Array<Record<string, unknown>> = [];
    // Step 3's prose: a wrong OTP first, and what it answers, as the page quotes it (it left out the simulator's
    // "Simulated: " mark, so a newcomer's answer did not match the page).
    const prose = section.replace(/\s+/g, " ");
    const wrong =
      /Submit a wrong OTP \(you get `UpstreamRejected`, `message` "([^"]+)", `upstreamMessage` "([^"]+)"/.exec(prose);
    expect(wrong).not.toBeNull();
    for (const op of ops) {
      const document = op.replace(/<([^>]+)>/g, (_m, name: string) => {
        if (!(name in filled)) throw new Error(`placeholder <${name}> has no value yet`);
        return filled[name];
      });
      if (document.includes("submitCibilOtp(")) {
        const rejected = await t.gql(document.replace('otp: "123456"', 'otp: "654321"'));
        expect(rejected.body.data).toEqual({
          submitCibilOtp: {
            __typename: "UpstreamRejected",
            code: "UPSTREAM_REJECTED",
            message: wrong![1],
            upstreamMessage: wrong![2],
          },
        });
      }
      const res = await t.gql(document);
      expect(res.body.errors).toBeUndefined();
      const result = Object.values(res.body.data as Record<string, Record<string, unknown>>)[0];
      results.push(result);
      if (result.__typename === "CibilCustomerRegistered") {
        expect(result.cibilId).toBe("700000001");
        filled.accessToken = result.accessToken as string;
      }
      if (result.__typename === "CibilOtpChallenge") {
        filled["question.key"] = (result.question as { key: string }).key;
      }
      if (result.__typename === "CibilOtpVerified") {
        expect(res.headers["cache-control"]).toBe("no-store");
      }
    }
    expect(results.map((r) => r.__typename)).toEqual(SANDBOX_RESULTS);
    // Step 2: Asha's own mobile, masked as AOPay masks it, and the default cooldown as the countdown.
    expect(results[1]).toMatchObject({
      resendAvailableInSeconds: 60,
      question: { text: "The One Time Password is sent to *********. Please enter the One Time Password." },
    });
    // The repeat: refused with the same wait.
    expect(results[2]).toMatchObject({ code: "OTP_COOLDOWN" });
    expect(results[2].retryAfterSeconds).toBeGreaterThanOrEqual(59);
    expect(results[2].retryAfterSeconds).toBeLessThanOrEqual(60);
    // Step 3: the report, as the page shows it.
    const history = (
      results[3] as {
        status: string;
        creditHistory: { __typename: string; orderId: string; scoreFetchDate: string; report: Record<string, unknown> };
      }
    ).creditHistory;
    expect(results[3]).toMatchObject({ status: "SUCCESS", creditHistory: { __typename: "CibilCreditHistory" } });
    const today = new Date().toISOString().slice(0, 10);
    expect(history.scoreFetchDate).toBe(today);
    const shown = /```json\n([\s\S]*?)```/.exec(section);
    expect(shown).not.toBeNull();
    const documented = JSON.parse((shown as RegExpExecArray)[1]) as Record<string, unknown>;
    expectLikeDocumented(history.report, documented);
    expect(history.report).toMatchObject({ client_order_id: history.orderId, cibil_score_fetch_date: today });
    // Step 4: the same client reads the report again.
    expect(results[4]).toMatchObject({ report: { simulated: true, cibil_id: "700000001" } });
    expect(results[5]).toMatchObject({ resendAvailableInSeconds: 60 });
    expect(results[6]).toMatchObject({ maskedAadhaar: "XXXX XXXX 2346", maskedMobile: "XXXXXX3211" });
    // Step 4's budget as the page gives it (it said "at any time": the read budget refused a fifth read): step 4's
    // query, read the times the page allows in all, then once more.
    const times = Number(/up to (\d+) times in the next 30 minutes/.exec(section.replace(/\s+/g, " "))?.[1]);
    expect(times).toBeGreaterThan(1);
    const reads: unknown[] = [];
    for (let i = 1; i <= times; i++) {
      const res = await t.gql(ops[4]);
      reads.push((res.body.data as { cibilCreditHistory: { __typename: string } }).cibilCreditHistory.__typename);
    }
    expect(reads).toEqual([...Array<string>(times - 1).fill("CibilCreditHistory"), "ReadThrottled"]);
  });
});
