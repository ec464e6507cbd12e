import { createHash } from "node:crypto";
import Redis from "ioredis";
import { request } from "undici";
import { hashApiKey } from "../../src/auth/authenticator";
import { byPath, type FakeHandler, type FakeUpstream, json } from "../helpers/fake-upstream";
import { fixtureJson } from "../helpers/fixtures";
import { cibilInput, GENERATE_CIBIL_OTP, resultOf } from "../helpers/operations";
import { deleteKeys, dumpKeys, itWithRedis, REDIS_URL, uniquePrefix } from "../helpers/redis";
import { stackOnFakeUpstream, startStackOnFakeUpstream } from "../helpers/stack";

/**
 * The credit report (`CibilCreditHistory.report`): AOPay's GetCreditHistory `result`, handed over unchanged, and only
 * to the client that verified the customer's OTP. A scripted AOPay (fake upstream: the documented GenerateOTP and
 * SubmitOTP examples, then a report full of canaries) lets the test place canaries where a leak would hide: values,
 * a key name, an array, deep nesting. Every canary must reach the consenting client, and nothing else: not a log
 * line at debug level, not another client (another API key, after the first verified the customer), not Redis
 * (every key and value the server wrote under its prefix, with REDIS_URL), not the metrics.
 */
const CANARY = {
  keyName: "CANARYKEY_report_7731",
  holder: "Canary Reportholder 5519",
  account: "CANARYACCT009177331",
  deep: "canary-deep-value-0042",
  address: "12 Canary Lane, Pune 411001",
};
const REPORT = {
  [CANARY.keyName]: "a key name that is itself an identifier",
  cibil_score_fetch_date: "2024-01-31",
  holder: { name: CANARY.holder, addresses: [CANARY.address] },
  accounts: [{ number: CANARY.account, balance: 12_500, history: [0, 0, 30] }],
  deep: { a: { b: { c: { d: { e: CANARY.deep } } } } },
  score: 742,
  empty: {},
};
const CIBIL_ID = "9362678";
const VERIFY = {
  cibilId: CIBIL_ID,
  accessToken: "tok-report-0001",
  otp: "123456",
  questionKey: "1423489238",
  answerKey: "USER_TO_INPUT_ANSWER",
};

const HISTORY = `__typename ... on CibilCreditHistory { cibilId orderId report scoreFetchDate upstreamMessage merchantTransactionId }
  ... on Failure { code message retryable }`;
const SUBMIT = `mutation($input: SubmitCibilOtpInput!) { submitCibilOtp(input: $input) {
  __typename ... on CibilOtpVerified { status creditHistory { ${HISTORY} } } ... on Failure { code } } }`;
const HISTORY_QUERY = `query History($cibilId: String!) { cibilCreditHistory(cibilId: $cibilId) { ${HISTORY} } }`;

const KEY_A = "aopk_report_client_a_0123456789abcdefghij";
const KEY_B = "aopk_report_client_b_0123456789abcdefghij";
const A = { "x-api-key": KEY_A };
const B = { "x-api-key": KEY_B };

/** AOPay as its docs show it: each documented example at its path; GetCreditHistory answers `history`. */
function scriptedAopay(history: FakeHandler): FakeHandler {
  return byPath({
    "/CibilScore/GenerateOTP": json(200, fixtureJson("cibil/generate-otp.success")),
    "/CibilScore/SubmitOTP": json(200, fixtureJson("cibil/submit-otp.success")),
    "/CibilScore/GetCreditHistory": history,
  });
}
const historyCalls = (upstream: FakeUpstream) =>
  upstream.calls.filter((c) => c.path.endsWith("/GetCreditHistory")).length;

describe("the credit report reaches the consenting client and nothing else (LOG_LEVEL=debug)", () => {
  let redis: Redis | undefined;
  const prefix = uniquePrefix();
  /** Every response the consenting client got, and every one another client got. */
  const toA: string[] = [];
  const toB: string[] = [];
  const headersOfA: Array<Record<string, unknown>> = [];

  const { upstream, t } = stackOnFakeUpstream({
    answer: scriptedAopay(
      json(200, {
        status: "SUCCESS",
        message: "success",
        error_code: "SPC-200",
        merchant_trans_id: "SPCBL2401311200000000ReportTst",
        result: REPORT,
      }),
    ),
    env: {
      LOG_LEVEL: "debug",
      API_KEYS: `client-a:${hashApiKey(KEY_A)},client-b:${hashApiKey(KEY_B)}`,
      HMAC_SECRET: "report-test-secret-0123456789abcdefghijk",
      ...(REDIS_URL ? { REDIS_URL, REDIS_KEY_PREFIX: prefix } : {}),
    },
  });
  beforeAll(() => {
    if (REDIS_URL) redis = new Redis(REDIS_URL);
  });
  // After the stack's afterAll: its keys are deleted once it has stopped writing them.
  afterAll(async () => {
    if (redis) {
      await deleteKeys(redis, prefix);
      await redis.quit();
    }
  });

  const as = async (
    headers: Record<string, string>,
    sink: string[],
    query: string,
    variables: Record<string, unknown>,
    extra: Record<string, string> = {},
  ) => {
    const res = await t.gql(query, variables, { ...headers, ...extra });
    sink.push(res.text, JSON.stringify(res.headers));
    if (sink === toA) headersOfA.push(res.headers);
    return res;
  };

  it("before any verification, neither client gets a report, and AOPay is not asked", async () => {
    for (const [headers, sink] of [
      [A, toA],
      [B, toB],
    ] as const) {
      const res = await as(headers, sink, HISTORY_QUERY, { cibilId: CIBIL_ID });
      expect(resultOf(res.body, "cibilCreditHistory")).toMatchObject({
        __typename: "ConsentRequired",
        code: "CONSENT_REQUIRED",
      });
      expect(res.headers["cache-control"]).toBe("no-store");
    }
    expect(historyCalls(upstream)).toBe(0);
  });

  it("the client that verifies the OTP gets AOPay's result unchanged, with Cache-Control: no-store", async () => {
    const generate = await as(A, toA, GENERATE_CIBIL_OTP, cibilInput(CIBIL_ID));
    expect(resultOf(generate.body, "generateCibilOtp").__typename).toBe("CibilOtpChallenge");
    const res = await as(A, toA, SUBMIT, { input: VERIFY }, { "idempotency-key": "report-verify-1" });
    const verified = resultOf(res.body, "submitCibilOtp");
    expect(verified.__typename).toBe("CibilOtpVerified");
    expect(verified.creditHistory).toEqual({
      __typename: "CibilCreditHistory",
      cibilId: CIBIL_ID,
      orderId: expect.stringMatching(/^[0-9]{18}$/),
      report: REPORT,
      scoreFetchDate: "2024-01-31",
      upstreamMessage: "success",
      merchantTransactionId: "SPCBL2401311200000000ReportTst",
    });
    // Unchanged down to the key order.
    expect(JSON.stringify((verified.creditHistory as { report: unknown }).report)).toBe(JSON.stringify(REPORT));
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(historyCalls(upstream)).toBe(1);
  });

  it("the same client reads it again, by POST and by GET (a GET is cacheable unless told otherwise): no-store both times", async () => {
    const post = await as(A, toA, HISTORY_QUERY, { cibilId: CIBIL_ID });
    expect(resultOf(post.body, "cibilCreditHistory")).toMatchObject({
      __typename: "CibilCreditHistory",
      report: REPORT,
    });
    expect(post.headers["cache-control"]).toBe("no-store");

    const url = new URL(t.graphqlUrl);
    url.searchParams.set("query", HISTORY_QUERY);
    url.searchParams.set("variables", JSON.stringify({ cibilId: CIBIL_ID }));
    const get = await request(url, { method: "GET", headers: { ...A, "apollo-require-preflight": "true" } });
    const text = await get.body.text();
    toA.push(text, JSON.stringify(get.headers));
    expect(get.statusCode).toBe(200);
    expect(JSON.parse(text).data.cibilCreditHistory).toMatchObject({
      __typename: "CibilCreditHistory",
      report: REPORT,
    });
    expect(get.headers["cache-control"]).toBe("no-store");
    expect(historyCalls(upstream)).toBe(3);
  });

  it("another client (another API key) gets ConsentRequired after the first verified the customer, and AOPay is not asked", async () => {
    const before = historyCalls(upstream);
    const res = await as(B, toB, HISTORY_QUERY, { cibilId: CIBIL_ID });
    expect(resultOf(res.body, "cibilCreditHistory")).toMatchObject({ __typename: "ConsentRequired" });
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(historyCalls(upstream)).toBe(before);
  });

  it("an idempotent replay of the verification reads the report afresh (the stored result never held it)", async () => {
    const before = historyCalls(upstream);
    const res = await as(A, toA, SUBMIT, { input: VERIFY }, { "idempotency-key": "report-verify-1" });
    expect(res.headers["idempotent-replayed"]).toBe("true");
    expect(resultOf(res.body, "submitCibilOtp").creditHistory).toMatchObject({ report: REPORT });
    expect(historyCalls(upstream)).toBe(before + 1);
  });

  it("every canary reached the consenting client (so the checks below could fail)", () => {
    const all = toA.join("\n");
    for (const value of Object.values(CANARY)) expect(all).toContain(value);
  });

  it.each(Object.entries(CANARY))("the %s canary is in no log line, at any level", (_name, value) => {
    const records = t.logs.records();
    expect(records.some((r) => r.level === "debug")).toBe(true);
    expect(t.logs.text()).not.toContain(value);
  });

  it("the undocumented-fields log line names no key inside the report", () => {
    const unknownKeys = t.logs
      .records()
      .flatMap((r) => (r.upstream as { unknownKeys?: string[] } | undefined)?.unknownKeys ?? []);
    expect(unknownKeys.filter((k) => k.startsWith("result."))).toEqual([]);
  });

  it.each(Object.entries(CANARY))("the %s canary reached no other client", (_name, value) => {
    expect(toB.length).toBeGreaterThan(0);
    for (const text of toB) expect(text).not.toContain(value);
  });

  it("no canary is in the metrics", async () => {
    const res = await request(t.stack.app.metricsUrl as string);
    const text = await res.body.text();
    expect(text).toContain("aopay_upstream");
    for (const value of Object.values(CANARY)) expect(text).not.toContain(value);
  });

  itWithRedis(
    "no canary, nor an unsalted hash of one, is in any Redis key or value the server wrote (idempotency store included)",
    async () => {
      const entries = await dumpKeys(redis as Redis, prefix);
      // Positive control: the verification's idempotency record, the consent and the throttle counters are there.
      expect(entries.some((e) => e.key.includes(":idem:"))).toBe(true);
      expect(entries.some((e) => e.key.includes(":consent:"))).toBe(true);
      const stored = entries.map((e) => `${e.key}\n${e.value}`).join("\n");
      for (const value of [...Object.values(CANARY), JSON.stringify(REPORT)]) {
        expect(stored).not.toContain(value);
        for (const algo of ["sha256", "md5"])
          expect(stored).not.toContain(createHash(algo).update(value).digest("hex"));
      }
    },
  );
});

describe("a report larger than AOPAY_MAX_RESPONSE_BYTES", () => {
  it("is UpstreamUnavailable with UPSTREAM_BAD_RESPONSE (not retryable), and leaves the CIBIL circuit closed for OTP sends", async () => {
    const huge = { status: "SUCCESS", message: "success", result: { accounts: "x".repeat(40 * 1024) } };
    const { t, stop } = await startStackOnFakeUpstream({
      answer: scriptedAopay(json(200, huge)),
      env: {
        AOPAY_MAX_RESPONSE_BYTES: String(32 * 1024),
        // The breaker's real volume threshold is 10 calls in its window: more oversized reports than that.
        BREAKER_VOLUME_THRESHOLD: "5",
      },
    });
    try {
      await t.gql(SUBMIT, { input: VERIFY });
      for (let i = 0; i < 8; i++) {
        const res = await t.gql(HISTORY_QUERY, { cibilId: CIBIL_ID });
        expect(resultOf(res.body, "cibilCreditHistory")).toMatchObject({
          __typename: "UpstreamUnavailable",
          code: "UPSTREAM_BAD_RESPONSE",
          retryable: false,
        });
      }
      expect(t.stack.app.aopay.breakers.states()).toEqual({ cibil: "closed", aeps: "closed" });
      expect(
        resultOf((await t.gql(GENERATE_CIBIL_OTP, cibilInput("700000901"))).body, "generateCibilOtp").__typename,
      ).toBe("CibilOtpChallenge");
      // Operators see why, in the call's warning line: the cause (ours or undici's, whichever noticed first) and the setting.
      const warning = t.logs
        .records()
        .find((r) => (r.upstream as { endpoint?: string } | undefined)?.endpoint === "cibil.creditHistory");
      expect(warning).toMatchObject({
        level: "warn",
        msg: expect.stringContaining("AOPAY_MAX_RESPONSE_BYTES"),
        upstream: {
          outcome: "UPSTREAM_BAD_RESPONSE",
          cause: expect.stringMatching(/^(RESPONSE_TOO_LARGE|UND_ERR_RES_EXCEEDED_MAX_SIZE)$/),
        },
      });
    } finally {
      await stop();
    }
  });
});
