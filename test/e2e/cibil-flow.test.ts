import { hashApiKey } from "../../src/auth/authenticator";
import { SIM_OTP, SIM_OTP_TTL_MS } from "../../src/simulator/state";
import { registrationInput } from "../helpers/identifiers";
import {
  CIBIL_CREDIT_HISTORY,
  GENERATE_CIBIL_OTP,
  REGISTER_CIBIL_CUSTOMER,
  resultOf,
  SUBMIT_CIBIL_OTP,
  withoutRequestIds,
} from "../helpers/operations";
import { startTestStack, TEST_API_KEY, TEST_API_KEYS_ENTRY, type TestStack } from "../helpers/stack";

// The documents clients send (client/operations/cibil.graphql). SUBMIT_NO_HISTORY is this test's own: a verification
// that does not select the history must read none. Its member fragments sit inside `... on Failure`, so the selection
// fits the union (a member spread directly where the union lacks it is a validation error).
const FAILURE =
  "... on Failure { code message retryable ... on UpstreamRejected { upstreamCode upstreamMessage } ... on OtpThrottled { retryAfterSeconds scope } }";
const REGISTER = REGISTER_CIBIL_CUSTOMER;
const GENERATE = GENERATE_CIBIL_OTP;
const SUBMIT = SUBMIT_CIBIL_OTP;
const SUBMIT_NO_HISTORY = `mutation($input: SubmitCibilOtpInput!) { submitCibilOtp(input: $input) { __typename ... on CibilOtpVerified { status } ${FAILURE} } }`;
const HISTORY_QUERY = CIBIL_CREDIT_HISTORY;

/**
 * Customer `n`: the same PAN and mobile for the same `n` (one test registers one customer twice). The date of birth
 * and e-mail are the ones a test looks for in responses and logs.
 */
const customer = (n: number) =>
  registrationInput({
    pan: `ABCPE${String(1000 + n)}F`,
    dateOfBirth: "1990-04-23",
    email: "asha.kulkarni@example.com",
    mobile: `98765${String(10000 + n).slice(-5)}`,
  });

describe("the whole CIBIL flow through the simulator: register, generate, submit (wrong, right), history", () => {
  let now = Date.now();
  const OTHER_KEY = "aopk_other_flow_client_0123456789abcdef";
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack(
      { API_KEYS: `${TEST_API_KEYS_ENTRY},other:${hashApiKey(OTHER_KEY)}` },
      { simulatorClock: () => now },
    );
  });
  afterAll(() => t?.stop());

  const walkToChallenge = async (n: number) => {
    const reg = resultOf((await t.gql(REGISTER, { input: customer(n) })).body, "registerCibilCustomer");
    expect(reg.__typename).toBe("CibilCustomerRegistered");
    const { cibilId, accessToken } = reg as unknown as { cibilId: string; accessToken: string };
    const challenge = resultOf((await t.gql(GENERATE, { input: { cibilId, accessToken } })).body, "generateCibilOtp");
    expect(challenge.__typename).toBe("CibilOtpChallenge");
    const question = challenge.question as {
      key: string;
      text: string;
      answerChoices: Array<{ key: string; text: string }>;
    };
    return { cibilId, accessToken, questionKey: question.key, answerKey: question.answerChoices[0].key, reg, question };
  };

  it("walks the flow: a wrong OTP tells the attempts left, the right one verifies, the history follows lazily", async () => {
    t.simulator?.resetCalls();
    const { cibilId, accessToken, questionKey, answerKey, reg } = await walkToChallenge(1);
    expect(reg).toMatchObject({ maskedMobile: "XXXXXX0001", maskedPan: "XXXXXX001F", maskedEmail: "a***@example.com" });
    expect(reg.orderId).toMatch(/^[0-9]{18}$/);

    const wrong = resultOf(
      (await t.gql(SUBMIT, { input: { cibilId, accessToken, otp: "000000", questionKey, answerKey } })).body,
      "submitCibilOtp",
    );
    expect(wrong).toMatchObject({
      __typename: "UpstreamRejected",
      code: "UPSTREAM_REJECTED",
      upstreamMessage: "Simulated: invalid OTP, 2 attempts left",
    });

    const right = resultOf(
      (await t.gql(SUBMIT, { input: { cibilId, accessToken, otp: SIM_OTP, questionKey, answerKey } })).body,
      "submitCibilOtp",
    );
    expect(right).toMatchObject({
      __typename: "CibilOtpVerified",
      status: "SUCCESS",
      returningCustomer: false,
      cibilId: `${cibilId.slice(0, 5)}**`,
    });
    expect(right.creditHistory).toMatchObject({
      __typename: "CibilCreditHistory",
      cibilId,
      report: expect.any(Object),
    });
    expect(t.simulator?.calls("cibil.creditHistory")).toBe(1);
    // Both calls bound AOPay's reference to the request's logger: each line holds the key once (the second call's
    // replaces the first's), where the access line held it twice (logging/logger.ts withoutStringBindings).
    const twice = t.logs.lines.filter((line) => line.split('"merchantTransactionId":').length > 2);
    expect(twice).toEqual([]);
    const access = t.logs.records().filter((r) => r.msg === "request completed" && r.operation === "SubmitCibilOtp");
    // The wrong OTP's line and the right one's; the right one's calls (submit, history) each answered a reference.
    expect(access.map((r) => typeof r.merchantTransactionId)).toEqual(["undefined", "string"]);

    // The same client may read it again directly, for the consent's lifetime.
    const again = resultOf((await t.gql(HISTORY_QUERY, { cibilId })).body, "cibilCreditHistory");
    expect(again).toMatchObject({ __typename: "CibilCreditHistory", cibilId });
    // The same customer's report again (only the echoed order id differs); none of its keys is logged, not even by name.
    const first = (right.creditHistory as { report: Record<string, unknown> }).report;
    expect(again.report).toEqual({ ...first, client_order_id: again.orderId });
    expect(t.logs.records().some((r) => JSON.stringify(r.upstream ?? {}).includes("result."))).toBe(false);
  });

  it("every answer about a customer tells that customer's truth: their mobile, masked; their names; their id", async () => {
    const person = { ...customer(12), firstName: "Ravi", middleName: "Kumar", lastName: "Iyer", mobile: "9876543210" };
    const registered = resultOf((await t.gql(REGISTER, { input: person })).body, "registerCibilCustomer");
    const reg = { cibilId: registered.cibilId as string, accessToken: registered.accessToken as string };
    const challenge = resultOf((await t.gql(GENERATE, { input: reg })).body, "generateCibilOtp");
    // The simulator words it as AOPay does, with the mobile's first five digits ("sent to 98765****"); beside our
    // `XXXXXX3210` they showed nine of its ten, so every digit of AOPay's partly masked form is hidden.
    const text = "The One Time Password is sent to *********. Please enter the One Time Password.";
    expect(registered.maskedMobile).toBe("XXXXXX3210");
    expect(challenge).toMatchObject({
      cibilId: reg.cibilId,
      question: { text, answerChoices: [{ key: "USER_TO_INPUT_ANSWER", text }] },
    });
    const { key: questionKey } = challenge.question as { key: string };
    const verified = resultOf(
      (await t.gql(SUBMIT, { input: { ...reg, otp: SIM_OTP, questionKey, answerKey: "USER_TO_INPUT_ANSWER" } })).body,
      "submitCibilOtp",
    );
    // AOPay's SubmitOTP example masks the id to its first five digits; a first verification, no report fetched yet.
    expect(verified).toMatchObject({
      cibilId: `${reg.cibilId.slice(0, 5)}**`,
      returningCustomer: false,
      scoreFetchDate: null,
    });
    const history = verified.creditHistory as {
      orderId: string;
      report: Record<string, unknown>;
      scoreFetchDate: string;
    };
    const today = new Date(now).toISOString().slice(0, 10);
    expect(history.scoreFetchDate).toBe(today);
    expect(history.report).toMatchObject({
      simulated: true,
      notice: expect.stringContaining("simulator's invention"),
      cibil_id: reg.cibilId,
      client_order_id: history.orderId,
      cibil_score_fetch_date: today,
      customer: { first_name: "Ravi", middle_name: "Kumar", last_name: "Iyer", mobile: "*********" },
      score: { value: expect.any(Number), range: "300-900" },
    });
    expect(JSON.stringify(history.report)).not.toContain("9876543210");
    // No answer and no log line shows the mobile's first digits, as AOPay's masks do.
    for (const shown of [registered, challenge, verified, t.logs.records()])
      expect(JSON.stringify(shown)).not.toMatch(/98765|9876 ?5/);

    // The next verification knows the customer: returning, and the date of the report served.
    const again = resultOf((await t.gql(GENERATE, { input: reg })).body, "generateCibilOtp");
    const next = resultOf(
      (
        await t.gql(SUBMIT_NO_HISTORY.replace("{ status }", "{ status returningCustomer scoreFetchDate }"), {
          input: {
            ...reg,
            otp: SIM_OTP,
            questionKey: (again.question as { key: string }).key,
            answerKey: "USER_TO_INPUT_ANSWER",
          },
        })
      ).body,
      "submitCibilOtp",
    );
    expect(next).toMatchObject({ status: "SUCCESS", returningCustomer: true, scoreFetchDate: today });
  });

  it("a CIBIL id never registered (the sandbox shortcut) gets one stand-in profile, shown the same in every answer", async () => {
    const first = resultOf(
      (await t.gql(GENERATE, { input: { cibilId: "102277100", accessToken: "any-token" } })).body,
      "generateCibilOtp",
    );
    expect((first.question as { text: string }).text).toContain("sent to *********.");
    const { key: questionKey } = first.question as { key: string };
    const verified = resultOf(
      (
        await t.gql(SUBMIT, {
          input: { cibilId: "102277100", accessToken: "any-token", otp: SIM_OTP, questionKey, answerKey: "x" },
        })
      ).body,
      "submitCibilOtp",
    );
    expect((verified.creditHistory as { report: unknown }).report).toMatchObject({
      simulated: true,
      customer: { first_name: "Sandbox", last_name: "Customer", mobile: "*********" },
    });
  });

  it("a credit history needs this client's verified OTP: before it, and for another client, ConsentRequired without any upstream call", async () => {
    const { cibilId, accessToken, questionKey, answerKey } = await walkToChallenge(2);
    t.simulator?.resetCalls();
    expect(resultOf((await t.gql(HISTORY_QUERY, { cibilId })).body, "cibilCreditHistory")).toMatchObject({
      __typename: "ConsentRequired",
      code: "CONSENT_REQUIRED",
    });
    await t.gql(SUBMIT_NO_HISTORY, { input: { cibilId, accessToken, otp: SIM_OTP, questionKey, answerKey } });
    const other = resultOf(
      (await t.gql(HISTORY_QUERY, { cibilId }, { "x-api-key": OTHER_KEY })).body,
      "cibilCreditHistory",
    );
    expect(other).toMatchObject({ __typename: "ConsentRequired" });
    expect(t.simulator?.calls("cibil.creditHistory")).toBe(0);
  });

  it("DataLoader: one operation asking for the same history several times, and for several customers, makes one upstream call per distinct key", async () => {
    const a = await walkToChallenge(3);
    const b = await walkToChallenge(4);
    for (const c of [a, b])
      await t.gql(SUBMIT_NO_HISTORY, {
        input: {
          cibilId: c.cibilId,
          accessToken: c.accessToken,
          otp: SIM_OTP,
          questionKey: c.questionKey,
          answerKey: c.answerKey,
        },
      });
    t.simulator?.resetCalls();
    const doc = `query($a: String!, $b: String!) {
      first: cibilCreditHistory(cibilId: $a) { __typename ... on CibilCreditHistory { orderId } }
      second: cibilCreditHistory(cibilId: $a) { __typename ... on CibilCreditHistory { orderId } }
      third: cibilCreditHistory(cibilId: $b) { __typename ... on CibilCreditHistory { orderId } }
    }`;
    const res = await t.gql(doc, { a: a.cibilId, b: b.cibilId });
    const data = res.body.data as Record<string, { __typename: string; orderId: string }>;
    expect(Object.values(data).map((r) => r.__typename)).toEqual([
      "CibilCreditHistory",
      "CibilCreditHistory",
      "CibilCreditHistory",
    ]);
    // Same key, same answer (one call), different key, another call.
    expect(data.first.orderId).toBe(data.second.orderId);
    expect(data.third.orderId).not.toBe(data.first.orderId);
    expect(t.simulator?.calls("cibil.creditHistory")).toBe(2);
  });

  it("the OTP stops working after three wrong attempts", async () => {
    const { cibilId, accessToken, questionKey, answerKey } = await walkToChallenge(5);
    const submit = (otp: string) =>
      t.gql(SUBMIT_NO_HISTORY, { input: { cibilId, accessToken, otp, questionKey, answerKey } });
    await submit("111111");
    await submit("222222");
    expect(resultOf((await submit("333333")).body, "submitCibilOtp")).toMatchObject({
      upstreamMessage: expect.stringContaining("no attempts left"),
    });
    expect(resultOf((await submit(SIM_OTP)).body, "submitCibilOtp")).toMatchObject({
      upstreamMessage: expect.stringContaining("no OTP is pending"),
    });
  });

  it("the OTP expires (the simulator's clock is injected)", async () => {
    const { cibilId, accessToken, questionKey, answerKey } = await walkToChallenge(6);
    now += SIM_OTP_TTL_MS + 1000;
    const late = resultOf(
      (await t.gql(SUBMIT_NO_HISTORY, { input: { cibilId, accessToken, otp: SIM_OTP, questionKey, answerKey } })).body,
      "submitCibilOtp",
    );
    expect(late).toMatchObject({ __typename: "UpstreamRejected", upstreamMessage: expect.stringContaining("expired") });
  });

  it("registration is once per customer: the same PAN gets the same CIBIL id", async () => {
    const first = resultOf((await t.gql(REGISTER, { input: customer(7) })).body, "registerCibilCustomer");
    const again = resultOf((await t.gql(REGISTER, { input: customer(7) })).body, "registerCibilCustomer");
    expect(again.cibilId).toBe(first.cibilId);
  });

  it("a registered customer's token must match", async () => {
    const { cibilId } = await walkToChallenge(8);
    const stolen = resultOf(
      (await t.gql(GENERATE, { input: { cibilId, accessToken: "someone-elses-token" } })).body,
      "generateCibilOtp",
    );
    expect(stolen).toMatchObject({ __typename: "UpstreamRejected", upstreamCode: "403" });
  });

  it.each([
    ["pan", { pan: "FRS23456" }],
    ["dateOfBirth", { dateOfBirth: "2999-01-01" }],
    ["dateOfBirth", { dateOfBirth: "1990-02-30" }],
    ["email", { email: "not-an-email" }],
    ["firstName", { firstName: "<script>" }],
    ["mobile", { mobile: "5876543210" }],
  ])("registration validates %s before any upstream call, without echoing it", async (field, bad) => {
    t.simulator?.resetCalls();
    const res = await t.gql(REGISTER, { input: { ...customer(9), ...bad } });
    expect(res.body.errors?.[0]?.extensions).toMatchObject({
      code: "BAD_USER_INPUT",
      fields: [expect.objectContaining({ field: `input.${field}` })],
    });
    expect(withoutRequestIds(res.text)).not.toContain(Object.values(bad)[0]);
    expect(t.simulator?.calls()).toBe(0);
  });

  it("the response never carries the PAN, e-mail or date of birth in clear", async () => {
    const res = await t.gql(REGISTER, { input: customer(10) });
    // A registration that went through (not a refusal, which would carry nothing to leak anyway), masked.
    expect(resultOf(res.body, "registerCibilCustomer")).toMatchObject({
      __typename: "CibilCustomerRegistered",
      maskedPan: "XXXXXX010F",
    });
    expect(res.text).not.toMatch(/ABCPE1010F|asha\.kulkarni@|1990-04-23|23\/04\/1990/);
    expect(t.logs.text()).not.toMatch(/ABCPE1010F|asha\.kulkarni@|1990-04-23|23\/04\/1990/);
  });

  it("the registeration method can be POST (its cURL sample), and the simulator accepts both", async () => {
    const post = await startTestStack({ AOPAY_CIBIL_REGISTRATION_METHOD: "POST" });
    try {
      const reg = resultOf((await post.gql(REGISTER, { input: customer(11) })).body, "registerCibilCustomer");
      expect(reg.__typename).toBe("CibilCustomerRegistered");
    } finally {
      await post.stop();
    }
  });

  it("API keys are not needed in development; TEST_API_KEY is accepted too", async () => {
    const res = await t.gql(HISTORY_QUERY, { cibilId: "1" }, { "x-api-key": TEST_API_KEY });
    expect(resultOf(res.body, "cibilCreditHistory").__typename).toBe("ConsentRequired");
  });
});

describe("OTP verification attempts are capped by this service (brute-force guard)", () => {
  it("the sixth attempt within the window is VERIFY_LIMIT_REACHED, without reaching AOPay", async () => {
    const t = await startTestStack({ OTP_VERIFY_MAX: "5", OTP_VERIFY_WINDOW_SECONDS: "600" });
    try {
      const input = { cibilId: "555000111", accessToken: "tok-abcd", otp: "000000", questionKey: "k", answerKey: "a" };
      for (let i = 0; i < 5; i++)
        expect(resultOf((await t.gql(SUBMIT_NO_HISTORY, { input })).body, "submitCibilOtp").__typename).toBe(
          "UpstreamRejected",
        );
      t.simulator?.resetCalls();
      const sixth = resultOf((await t.gql(SUBMIT_NO_HISTORY, { input })).body, "submitCibilOtp");
      expect(sixth).toMatchObject({ __typename: "OtpThrottled", code: "VERIFY_LIMIT_REACHED", scope: "DESTINATION" });
      expect(t.simulator?.calls()).toBe(0);
    } finally {
      await t.stop();
    }
  });
});
