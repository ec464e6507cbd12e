import { randomUUID } from "node:crypto";
import { byPath, type FakeUpstream, json } from "../helpers/fake-upstream";
import { fixtureJson } from "../helpers/fixtures";
import { cibilInput, GENERATE_CIBIL_OTP, resultOf, type Result } from "../helpers/operations";
import { connectRedis, deletePrefixes, storeBackends } from "../helpers/redis";
import { startStackOnFakeUpstream, type TestStack } from "../helpers/stack";

/**
 * A replayed submitCibilOtp that selects `creditHistory`. The stored result never holds the report (PII at rest would
 * grow with every verification kept for IDEMPOTENCY_TTL_SECONDS), so the decision is: the replay reads the report
 * afresh, as a `cibilCreditHistory` query would, and under the same rules. It is a read: one GetCreditHistory call and
 * one point of the read budgets (READ_CIBIL_MAX ...), refused ReadThrottled past them; it needs the consent the
 * verification itself granted, and the replay grants none, so once that consent has ended the replay's creditHistory
 * is ConsentRequired (AOPay not asked) while its verification is still replayed. Before the grant moved to
 * GuardedSend.afterSent, each replay granted the consent again and read the report past the consent window.
 * The real server on loopback, a scripted AOPay counting GetCreditHistory calls; memory and Redis.
 */
const HMAC_SECRET = "replay-history-secret-0123456789abcdef";
const HISTORY = `__typename ... on CibilCreditHistory { cibilId } ... on Failure { code } ... on ReadThrottled { scope }`;
const VERIFY = `mutation($input: SubmitCibilOtpInput!) { submitCibilOtp(input: $input) { __typename } }`;
const VERIFY_AND_READ = `mutation($input: SubmitCibilOtpInput!) { submitCibilOtp(input: $input) {
  __typename ... on CibilOtpVerified { status creditHistory { ${HISTORY} } } } }`;

const HISTORY_OK = json(200, {
  status: "SUCCESS",
  message: "success",
  error_code: "SPC-200",
  merchant_trans_id: "SPCBL2401311200000000RplyHst",
  result: { score: 742 },
});

const historyCalls = (upstream: FakeUpstream) =>
  upstream.calls.filter((c) => c.path.endsWith("/GetCreditHistory")).length;

describe.each(storeBackends(HMAC_SECRET))(
  "a replayed submitCibilOtp selecting creditHistory (%s)",
  (name, skip, env) => {
    const maybe = skip === null ? it : it.skip;
    let upstream: FakeUpstream | undefined;
    let stop: (() => Promise<void>) | undefined;
    let prefix: string | undefined;
    let nextId = 0;
    const newId = () => `83${String(Date.now() % 1_000_000).padStart(6, "0")}${String(nextId++).padStart(2, "0")}1`;

    const start = async (extra: Record<string, string>): Promise<TestStack> => {
      const backend = env();
      prefix = backend.REDIS_KEY_PREFIX;
      const started = await startStackOnFakeUpstream({
        answer: byPath({
          "/CibilScore/GenerateOTP": json(200, fixtureJson("cibil/generate-otp.success")),
          "/CibilScore/SubmitOTP": json(200, fixtureJson("cibil/submit-otp.success")),
          "/CibilScore/GetCreditHistory": HISTORY_OK,
        }),
        env: { HMAC_SECRET, ...backend, ...extra },
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

    /** An OTP sent to a new customer; the verification's input and a key of its own, not yet sent. */
    const challenged = async (t: TestStack) => {
      const cibilId = newId();
      const sent = resultOf((await t.gql(GENERATE_CIBIL_OTP, cibilInput(cibilId))).body, "generateCibilOtp");
      expect(sent.__typename).toBe("CibilOtpChallenge");
      const input = {
        cibilId,
        accessToken: cibilInput(cibilId).input.accessToken,
        otp: "123456",
        questionKey: "1423489238",
        answerKey: "USER_TO_INPUT_ANSWER",
      };
      const key = { "idempotency-key": randomUUID() };
      const verify = async (query: string, replayed: boolean): Promise<Result> => {
        const res = await t.gql(query, { input }, key);
        expect(res.body.errors).toBeUndefined();
        expect(res.headers["idempotent-replayed"]).toBe(replayed ? "true" : undefined);
        return resultOf(res.body, "submitCibilOtp");
      };
      return { cibilId, verify };
    };

    maybe("reads the report afresh as a read: one GetCreditHistory call and one read point each", async () => {
      const t = await start({ READ_CIBIL_MAX: "2", READ_CIBIL_WINDOW_SECONDS: "1800" });
      const { verify } = await challenged(t);
      const first = await verify(VERIFY_AND_READ, false);
      expect(first).toMatchObject({ status: "SUCCESS", creditHistory: { __typename: "CibilCreditHistory" } });
      expect(historyCalls(upstream!)).toBe(1);

      // Not selecting it: no read, no point.
      expect(await verify(VERIFY, true)).toEqual({ __typename: "CibilOtpVerified" });
      expect(historyCalls(upstream!)).toBe(1);
      // Selecting it: the second and last read READ_CIBIL_MAX allows, AOPay asked again.
      expect(await verify(VERIFY_AND_READ, true)).toEqual(first);
      expect(historyCalls(upstream!)).toBe(2);
      // The budget spent by the first request and that replay: refused, AOPay not asked, the verification replayed.
      expect(await verify(VERIFY_AND_READ, true)).toMatchObject({
        status: "SUCCESS",
        creditHistory: { __typename: "ReadThrottled", code: "READ_THROTTLED", scope: "DESTINATION" },
      });
      expect(historyCalls(upstream!)).toBe(2);
    });

    if (name === "in Redis")
      maybe("needs the verification's own consent: once it has ended, ConsentRequired, AOPay not asked", async () => {
        const t = await start({});
        const { verify } = await challenged(t);
        expect(await verify(VERIFY, false)).toEqual({ __typename: "CibilOtpVerified" });
        // The consent the verification granted (CIBIL_CONSENT_TTL_SECONDS, at least 60 s) made to end in 300 ms: only
        // this test's prefix is touched.
        const redis = await connectRedis();
        /** The consent keys under this test's prefix (SCAN, never KEYS: the Redis is shared). */
        const consentKeys = async () => {
          const found: string[] = [];
          let cursor = "0";
          do {
            const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}consent:*`, "COUNT", 500);
            cursor = next;
            found.push(...keys);
          } while (cursor !== "0");
          return found;
        };
        try {
          const consents = await consentKeys();
          expect(consents).toHaveLength(1);
          expect(await redis.pexpire(consents[0], 300)).toBe(1);
          await new Promise((resolve) => setTimeout(resolve, 500));
          expect(await redis.exists(consents[0])).toBe(0);

          expect(await verify(VERIFY_AND_READ, true)).toEqual({
            __typename: "CibilOtpVerified",
            status: "SUCCESS",
            creditHistory: { __typename: "ConsentRequired", code: "CONSENT_REQUIRED" },
          });
          expect(historyCalls(upstream!)).toBe(0);
          // And the replay left none behind for a later read.
          expect(await consentKeys()).toEqual([]);
        } finally {
          redis.disconnect();
        }
      });
  },
);
