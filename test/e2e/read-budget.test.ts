import { hashApiKey } from "../../src/auth/authenticator";
import { byPath, type FakeHandler, type FakeUpstream, json } from "../helpers/fake-upstream";
import { fixtureJson } from "../helpers/fixtures";
import { cibilInput, GENERATE_CIBIL_OTP, resultOf, type Result } from "../helpers/operations";
import { connectRedis, deletePrefixes, dumpKeys, storeBackends } from "../helpers/redis";
import { startStackOnFakeUpstream, type TestStack } from "../helpers/stack";

/**
 * Credit-report reads have budgets of their own (READ_*): consent says who may read a customer's report, these say
 * how often, since each read is an AOPay GetCreditHistory call, a paid credit-bureau pull. Per (API client, CIBIL id)
 * and per API client, taken after the consent check and before AOPay; per source IP, every attempt, taken before the
 * consent check and kept; a read that never left gives its point back;
 * the request's DataLoader reads an id once per request, and that is one point. The real server on loopback, a
 * scripted AOPay counting the GetCreditHistory calls it receives; memory and Redis (REDIS_URL, a key prefix of its
 * own).
 */
const HMAC_SECRET = "read-budget-secret-0123456789abcdefghijk";
const KEY_A = "aopk_read_budget_client_a_0123456789abcdefgh";
const KEY_B = "aopk_read_budget_client_b_0123456789abcdefgh";
const A = { "x-api-key": KEY_A };
const B = { "x-api-key": KEY_B };
const TWO_CLIENTS = `reader-a:${hashApiKey(KEY_A)},reader-b:${hashApiKey(KEY_B)}`;

const FAILURE = "... on Failure { code message retryable }";
const THROTTLED = "... on ReadThrottled { retryAfterSeconds scope }";
const HISTORY = `__typename ... on CibilCreditHistory { cibilId } ${FAILURE} ${THROTTLED}`;
const READ = `query($cibilId: String!) { cibilCreditHistory(cibilId: $cibilId) { ${HISTORY} } }`;
/** Verifies the OTP without reading the report, so that only the reads under test spend the budget. */
const VERIFY = `mutation($input: SubmitCibilOtpInput!) { submitCibilOtp(input: $input) { __typename } }`;
/** Verifies the OTP and reads the report in the same operation (CibilOtpVerified.creditHistory). */
const VERIFY_AND_READ = `mutation($input: SubmitCibilOtpInput!) { submitCibilOtp(input: $input) {
  __typename ... on CibilOtpVerified { creditHistory { ${HISTORY} } } } }`;

const HISTORY_OK = json(200, {
  status: "SUCCESS",
  message: "success",
  error_code: "SPC-200",
  merchant_trans_id: "SPCBL2401311200000000ReadBdgt",
  result: { score: 742 },
});

/** AOPay's documented GenerateOTP and SubmitOTP examples; GetCreditHistory answers what `history()` says now. */
function scriptedAopay(history: () => FakeHandler): FakeHandler {
  return byPath({
    "/CibilScore/GenerateOTP": json(200, fixtureJson("cibil/generate-otp.success")),
    "/CibilScore/SubmitOTP": json(200, fixtureJson("cibil/submit-otp.success")),
    "/CibilScore/GetCreditHistory": (call, res, req) => history()(call, res, req),
  });
}
const historyCalls = (upstream: FakeUpstream) =>
  upstream.calls.filter((c) => c.path.endsWith("/GetCreditHistory")).length;

describe.each(storeBackends(HMAC_SECRET))("credit-report read budgets (%s)", (name, skip, backendEnv) => {
  const maybe = skip === null ? it : it.skip;
  let upstream: FakeUpstream | undefined;
  let stop: (() => Promise<void>) | undefined;
  let prefix: string | undefined;
  let history: FakeHandler = HISTORY_OK;
  let nextId = 0;
  /** A CIBIL id of this test run's own (scenario-free last digits), distinct per call. */
  const newId = () => `81${String(Date.now() % 1_000_000).padStart(6, "0")}${String(nextId++).padStart(2, "0")}1`;

  const start = async (env: Record<string, string>) => {
    history = HISTORY_OK;
    const backend = backendEnv();
    prefix = backend.REDIS_KEY_PREFIX;
    const started = await startStackOnFakeUpstream({
      answer: scriptedAopay(() => history),
      env: { HMAC_SECRET, API_KEYS: TWO_CLIENTS, ...backend, ...env },
    });
    ({ upstream, stop } = started);
    return started.t;
  };
  afterEach(async () => {
    await stop?.();
    stop = undefined;
    upstream = undefined;
    if (prefix) await deletePrefixes([prefix]);
  });

  /** The client's consent for the customer: an OTP sent and verified, no report read. */
  const consent = async (s: TestStack, headers: Record<string, string>, cibilId: string, query = VERIFY) => {
    const sent = resultOf((await s.gql(GENERATE_CIBIL_OTP, cibilInput(cibilId), headers)).body, "generateCibilOtp");
    expect(sent.__typename).toBe("CibilOtpChallenge");
    const input = {
      cibilId,
      accessToken: cibilInput(cibilId).input.accessToken,
      otp: "123456",
      questionKey: "1423489238",
      answerKey: "USER_TO_INPUT_ANSWER",
    };
    const verified = resultOf((await s.gql(query, { input }, headers)).body, "submitCibilOtp");
    expect(verified.__typename).toBe("CibilOtpVerified");
    return verified;
  };
  const read = async (s: TestStack, headers: Record<string, string>, cibilId: string): Promise<Result> => {
    const res = await s.gql(READ, { cibilId }, headers);
    // A refusal is a result member, never a GraphQL error.
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    return resultOf(res.body, "cibilCreditHistory");
  };
  const metricsPage = async (s: TestStack) => (await fetch(s.stack.app.metricsUrl as string)).text();

  maybe(
    "reads of one customer up to READ_CIBIL_MAX are served, the next is ReadThrottled; others unaffected",
    async () => {
      const s = await start({ READ_CIBIL_MAX: "3", READ_CIBIL_WINDOW_SECONDS: "1800" });
      const [id, other] = [newId(), newId()];
      await consent(s, A, id);
      await consent(s, A, other);
      await consent(s, B, id);
      expect(historyCalls(upstream!)).toBe(0);
      for (let i = 0; i < 3; i++) expect(await read(s, A, id)).toMatchObject({ __typename: "CibilCreditHistory" });
      s.logs.clear();
      const refused = await read(s, A, id);
      expect(refused).toMatchObject({
        __typename: "ReadThrottled",
        code: "READ_THROTTLED",
        retryable: true,
        scope: "DESTINATION",
      });
      expect(refused.retryAfterSeconds).toBeGreaterThan(1700);
      expect(refused.retryAfterSeconds).toBeLessThanOrEqual(1800);
      // AOPay saw the three served reads only.
      expect(historyCalls(upstream!)).toBe(3);
      // The refusal's access line: the result's code (READ_THROTTLED: ReadThrottled's alone) and the budget's scope,
      // no line of its own, and neither id in it.
      expect(s.logs.records()).toEqual([
        expect.objectContaining({ msg: "request completed", result: "READ_THROTTLED", throttled: "DESTINATION" }),
      ]);
      expect(s.logs.text()).not.toContain(id);
      // Another customer of the same client, and the same customer read by another client, have budgets of their own.
      expect(await read(s, A, other)).toMatchObject({ __typename: "CibilCreditHistory" });
      expect(await read(s, B, id)).toMatchObject({ __typename: "CibilCreditHistory" });
      expect(historyCalls(upstream!)).toBe(5);
      // Counted in the throttle family, beside the client scope's series at 0.
      const page = await metricsPage(s);
      expect(page).toMatch(
        /aopay_otp_throttled_total\{operation="cibilCreditHistory",code="READ_THROTTLED",scope="DESTINATION"\} 1\b/,
      );
      expect(page).toMatch(
        /aopay_otp_throttled_total\{operation="cibilCreditHistory",code="READ_THROTTLED",scope="CLIENT"\} 0\b/,
      );
    },
  );

  maybe("the read made with the verification counts too: the same budget, then ReadThrottled", async () => {
    const s = await start({ READ_CIBIL_MAX: "2" });
    const id = newId();
    const verified = await consent(s, A, id, VERIFY_AND_READ);
    expect(verified.creditHistory).toMatchObject({ __typename: "CibilCreditHistory" });
    expect(await read(s, A, id)).toMatchObject({ __typename: "CibilCreditHistory" });
    expect(await read(s, A, id)).toMatchObject({ __typename: "ReadThrottled", scope: "DESTINATION" });
    expect(historyCalls(upstream!)).toBe(2);
  });

  maybe(
    "one client's reads across customers stop at READ_CLIENT_MAX (scope CLIENT); another client reads",
    async () => {
      const s = await start({ READ_CLIENT_MAX: "2", READ_CLIENT_WINDOW_SECONDS: "600" });
      const ids = [newId(), newId(), newId()];
      for (const id of ids) await consent(s, A, id);
      await consent(s, B, ids[2]);
      expect(await read(s, A, ids[0])).toMatchObject({ __typename: "CibilCreditHistory" });
      expect(await read(s, A, ids[1])).toMatchObject({ __typename: "CibilCreditHistory" });
      const refused = await read(s, A, ids[2]);
      expect(refused).toMatchObject({ __typename: "ReadThrottled", code: "READ_THROTTLED", scope: "CLIENT" });
      expect(refused.retryAfterSeconds).toBeGreaterThan(500);
      expect(refused.retryAfterSeconds).toBeLessThanOrEqual(600);
      expect(await read(s, B, ids[2])).toMatchObject({ __typename: "CibilCreditHistory" });
      expect(historyCalls(upstream!)).toBe(3);
      expect(await metricsPage(s)).toMatch(
        /aopay_otp_throttled_total\{operation="cibilCreditHistory",code="READ_THROTTLED",scope="CLIENT"\} 1\b/,
      );
    },
  );

  maybe("the same customer twice in one request is one upstream call and one point", async () => {
    const s = await start({ READ_CIBIL_MAX: "2" });
    const id = newId();
    await consent(s, A, id);
    const both = await s.gql(
      `query($cibilId: String!) { a: cibilCreditHistory(cibilId: $cibilId) { ${HISTORY} }
        b: cibilCreditHistory(cibilId: $cibilId) { ${HISTORY} } }`,
      { cibilId: id },
      A,
    );
    expect(both.body.errors).toBeUndefined();
    expect(resultOf(both.body, "a")).toMatchObject({ __typename: "CibilCreditHistory" });
    expect(resultOf(both.body, "b")).toMatchObject({ __typename: "CibilCreditHistory" });
    expect(historyCalls(upstream!)).toBe(1);
    // One point left of two.
    expect(await read(s, A, id)).toMatchObject({ __typename: "CibilCreditHistory" });
    expect(await read(s, A, id)).toMatchObject({ __typename: "ReadThrottled" });
    expect(historyCalls(upstream!)).toBe(2);
  });

  maybe(
    "a read AOPay answered (503) keeps its cost; one that never left (AOPay unreachable) gives it back",
    async () => {
      const s = await start({ READ_CIBIL_MAX: "2", BREAKER_VOLUME_THRESHOLD: "100000" });
      const [reached, unreached] = [newId(), newId()];
      await consent(s, A, reached);
      await consent(s, A, unreached);
      // Reached AOPay: a pull may have been made (and billed), so each counts.
      history = json(503, { status: "FAILURE", message: "busy" });
      expect(await read(s, A, reached)).toMatchObject({ __typename: "UpstreamUnavailable" });
      expect(await read(s, A, reached)).toMatchObject({ __typename: "UpstreamUnavailable" });
      expect(await read(s, A, reached)).toMatchObject({ __typename: "ReadThrottled" });
      expect(historyCalls(upstream!)).toBe(2);
      // Never left: AOPay gone (connection refused), so nothing was pulled and nothing is spent.
      await upstream!.close();
      for (let i = 0; i < 3; i++)
        expect(await read(s, A, unreached)).toMatchObject({
          __typename: "UpstreamUnavailable",
          code: "UPSTREAM_UNAVAILABLE",
        });
    },
  );

  maybe(
    "read attempts from one IP stop at READ_IP_MAX, consented or not (scope IP): CIBIL ids cannot be probed for free",
    async () => {
      // One API key shared by every install of an app (its client id names no user), each install on its own IP. An
      // attack review probed ids from one IP: ConsentRequired cost nothing, so it could find the customers the
      // client verified lately and pull their reports up to the client's whole read budget.
      const s = await start({ READ_IP_MAX: "4", READ_IP_WINDOW_SECONDS: "600", TRUSTED_PROXIES: "127.0.0.1" });
      const from = (ip: string) => ({ ...A, "x-forwarded-for": ip });
      const [verified, ...probed] = [newId(), newId(), newId(), newId(), newId()];
      await consent(s, from("198.51.100.1"), verified);
      const attacker = from("203.0.113.9");
      // Three probes in one request (the alias limit), three distinct ids: three attempts.
      const probes = await s.gql(
        `query($a: String!, $b: String!, $c: String!) { a: cibilCreditHistory(cibilId: $a) { ${HISTORY} }
          b: cibilCreditHistory(cibilId: $b) { ${HISTORY} } c: cibilCreditHistory(cibilId: $c) { ${HISTORY} } }`,
        { a: probed[0], b: probed[1], c: probed[2] },
        attacker,
      );
      for (const alias of ["a", "b", "c"])
        expect(resultOf(probes.body, alias)).toMatchObject({ __typename: "ConsentRequired" });
      // The fourth attempt finds the consented customer and is served (AOPay called once) ...
      expect(await read(s, attacker, verified)).toMatchObject({ __typename: "CibilCreditHistory" });
      // ... and the IP's budget is spent: consented or not, nothing more is looked up or pulled from it.
      s.logs.clear();
      for (const id of [verified, probed[3]]) {
        const refused = await read(s, attacker, id);
        expect(refused).toMatchObject({ __typename: "ReadThrottled", code: "READ_THROTTLED", scope: "IP" });
        expect(refused.retryAfterSeconds).toBeGreaterThan(500);
        expect(refused.retryAfterSeconds).toBeLessThanOrEqual(600);
      }
      expect(historyCalls(upstream!)).toBe(1);
      expect(s.logs.records()).toEqual([
        expect.objectContaining({ msg: "request completed", result: "READ_THROTTLED", throttled: "IP" }),
        expect.objectContaining({ msg: "request completed", result: "READ_THROTTLED", throttled: "IP" }),
      ]);
      // Another install of the same client, on its own IP, reads as before.
      expect(await read(s, from("198.51.100.1"), verified)).toMatchObject({ __typename: "CibilCreditHistory" });
      expect(historyCalls(upstream!)).toBe(2);
      expect(await metricsPage(s)).toMatch(
        /aopay_otp_throttled_total\{operation="cibilCreditHistory",code="READ_THROTTLED",scope="IP"\} 2\b/,
      );
    },
  );

  maybe("no read is refused without consent, and a refusal for consent spends no budget", async () => {
    const s = await start({ READ_CIBIL_MAX: "1" });
    const id = newId();
    for (let i = 0; i < 3; i++) expect(await read(s, A, id)).toMatchObject({ __typename: "ConsentRequired" });
    await consent(s, A, id);
    expect(await read(s, A, id)).toMatchObject({ __typename: "CibilCreditHistory" });
    expect(historyCalls(upstream!)).toBe(1);
  });

  if (name === "in Redis")
    maybe("the budgets' Redis keys hold neither the CIBIL id nor the client id in clear", async () => {
      const s = await start({ READ_CIBIL_MAX: "1" });
      const id = newId();
      await consent(s, A, id);
      expect(await read(s, A, id)).toMatchObject({ __typename: "CibilCreditHistory" });
      expect(await read(s, A, id)).toMatchObject({ __typename: "ReadThrottled" });
      const redis = await connectRedis();
      try {
        const entries = await dumpKeys(redis, prefix!);
        const reads = entries.filter((e) => /otp:read-(cibil|client):/.test(e.key));
        // One key per budget: the (client, id) pair's and the client's, each an HMAC.
        expect(reads.map((e) => e.key.slice(prefix!.length).replace(/:[^:]+$/, ":<hmac>")).sort()).toEqual([
          "otp:read-cibil:<hmac>",
          "otp:read-client:<hmac>",
        ]);
        for (const { key, value } of entries)
          for (const secret of [id, "reader-a", KEY_A]) {
            expect(key).not.toContain(secret);
            expect(value).not.toContain(secret);
          }
      } finally {
        await redis.quit();
      }
    });
});
