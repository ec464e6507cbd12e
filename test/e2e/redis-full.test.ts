import type { ChildProcess } from "node:child_process";
import type Redis from "ioredis";
import { request } from "undici";
import { SIM_OTP } from "../../src/simulator/state";
import { registrationInput } from "../helpers/identifiers";
import {
  aepsInput,
  CIBIL_CREDIT_HISTORY,
  cibilInput,
  GENERATE_CIBIL_OTP,
  REGISTER_CIBIL_CUSTOMER,
  RESEND_AEPS_OTP,
  type Result,
  resultOf,
  rightAnswer,
  SUBMIT_CIBIL_OTP,
  VERIFY_AEPS_OTP,
  VALID_AADHAAR,
} from "../helpers/operations";
import { freePort } from "../helpers/free-port";
import { connectPrivateRedis, startRedis, stopRedis, waitFor } from "../helpers/private-redis";
import { describeWithPrivateRedis } from "../helpers/private-redis";
import { dumpKeys } from "../helpers/redis";
import { until } from "../helpers/holding-upstream";
import { GUARDED_SAMPLES } from "../helpers/guarded-samples";
import { startTestStack, type TestStack } from "../helpers/stack";

/**
 * A full Redis (maxmemory reached, maxmemory-policy noeviction: docs/deploying.md "Redis"): it refuses every write
 * that may grow it (`OOM command not allowed when used memory > 'maxmemory'`) and still answers reads and PING. What
 * each guarded mutation answers then, with and without an Idempotency-Key, and how many OTPs reach AOPay (the
 * simulator counts its calls): none while full, and one, never two, once there is room and the request is repeated.
 * A private redis-server (test/helpers/private-redis.ts): its maxmemory is set at run time, never the shared one's.
 */

const HMAC_SECRET = "redis-full-secret-0123456789abcdef0123";

interface Case {
  field: string;
  document: string;
  /** The request's variables, made with room in Redis (a CIBIL OTP's challenge first, for submitCibilOtp). */
  variables(t: TestStack, n: number): Promise<Record<string, unknown>>;
  /** The customer's values the request carries: never in Redis, never in a log line. */
  pii(variables: Record<string, unknown>): string[];
}

const input = (variables: Record<string, unknown>) => variables.input as Record<string, string>;

const CASES: Case[] = [
  {
    field: "generateCibilOtp",
    document: GENERATE_CIBIL_OTP,
    variables: async (_t, n) => cibilInput(`9100${n}0101`),
    pii: (v) => [input(v).cibilId, input(v).accessToken],
  },
  {
    field: "submitCibilOtp",
    document: SUBMIT_CIBIL_OTP,
    variables: async (t, n) => {
      const cibilId = `9100${n}0201`;
      const { input: generated } = cibilInput(cibilId);
      const challenge = resultOf((await t.gql(GENERATE_CIBIL_OTP, { input: generated })).body, "generateCibilOtp");
      expect(challenge.__typename).toBe("CibilOtpChallenge");
      return { input: rightAnswer(cibilId, generated.accessToken, challenge) };
    },
    pii: (v) => [input(v).cibilId, input(v).accessToken],
  },
  {
    field: "resendAepsOtp",
    document: RESEND_AEPS_OTP,
    variables: async (_t, n) => aepsInput(`98766${n}0011`),
    pii: (v) => [input(v).mobile, VALID_AADHAAR],
  },
  {
    field: "verifyAepsOtp",
    document: VERIFY_AEPS_OTP,
    variables: async (_t, n) => {
      const aeps = aepsInput(`98766${n}0021`);
      return { input: { ...aeps.input, otp: SIM_OTP } };
    },
    pii: (v) => [input(v).mobile, VALID_AADHAAR],
  },
  {
    field: "registerCibilCustomer",
    document: REGISTER_CIBIL_CUSTOMER,
    variables: async () => ({ input: registrationInput() }),
    pii: (v) => [input(v).mobile, input(v).pan],
  },
];

/**
 * The block on a private Redis of its own, our server on it with `env`: once as deployed, once during a rotation of
 * HMAC_SECRET (HMAC_SECRET_PREVIOUS: a key's claim reads both secrets' records in one script, which a full Redis
 * refuses only at its write, once both reads found nothing).
 */
function fullRedis(name: string, env: Record<string, string>): void {
  describeWithPrivateRedis(name, () => {
    const s = {} as { redis: Redis; t: TestStack; process: ChildProcess };
    const pii: string[] = [];
    beforeAll(async () => {
      const port = await freePort();
      s.process = startRedis(port, ["--maxmemory-policy", "noeviction"]);
      s.redis = await connectPrivateRedis(port);
      s.t = await startTestStack({ REDIS_URL: `redis://127.0.0.1:${port}`, HMAC_SECRET, ...env });
      const ready = async () => (await (await request(`${s.t.baseUrl}/readyz`)).body.text()).includes("ready");
      if (!(await waitFor(ready, 5_000))) throw new Error("the server never turned ready on its Redis");
    });
    afterAll(async () => {
      await s.t?.stop();
      await s.redis?.quit();
      await stopRedis(s.process);
    });
    /** Full: any write that may grow Redis is refused (1 byte of maxmemory, less than it holds). */
    const fill = () => s.redis.config("SET", "maxmemory", "1");
    /** Room again: no maxmemory. */
    const room = () => s.redis.config("SET", "maxmemory", "0");
    afterEach(room);
    /** The calls of the case's own endpoint (a nested creditHistory of a verification calls another). */
    const calls = (c: Case) => s.t.simulator?.calls(GUARDED_SAMPLES[c.field as keyof typeof GUARDED_SAMPLES].endpoint);
    /**
     * The mutation's result, without the credit report a verification's document reads with it (creditHistory: a read
     * of its own at each request, never part of what a key replays).
     */
    const ask = async (
      c: Case,
      variables: Record<string, unknown>,
      headers: Record<string, string>,
    ): Promise<Result> => {
      const { creditHistory: _read, ...result } = resultOf(
        (await s.t.gql(c.document, variables, headers)).body,
        c.field,
      );
      return result as Result;
    };

    let n = 0;
    for (const c of CASES)
      for (const keyed of [false, true])
        it(`${c.field} ${keyed ? "with" : "without"} an Idempotency-Key: PROTECTION_UNAVAILABLE, nothing sent; once room returns, sent once`, async () => {
          n++;
          const variables = await c.variables(s.t, n);
          pii.push(...c.pii(variables));
          const headers: Record<string, string> = keyed ? { "idempotency-key": `full-${c.field}-${n}` } : {};
          await fill();
          s.t.simulator?.resetCalls();
          const refused = await ask(c, variables, headers);
          expect(refused).toMatchObject({ code: "PROTECTION_UNAVAILABLE", retryable: true });
          expect(calls(c)).toBe(0);
          // Repeated while still full: the same answer, still nothing sent.
          expect(await ask(c, variables, headers)).toMatchObject({ code: "PROTECTION_UNAVAILABLE" });
          expect(calls(c)).toBe(0);

          await room();
          const sent = await ask(c, variables, headers);
          expect(sent.code).toBeUndefined();
          expect(calls(c)).toBe(1);
          if (keyed) {
            // The same key again: its result replayed, never a second send, full or not.
            expect(await ask(c, variables, headers)).toEqual(sent);
            await fill();
            expect(await ask(c, variables, headers)).toEqual(sent);
            expect(calls(c)).toBe(1);
          }
        });

    /**
     * A full Redis answers PING (aopay_redis_up stays 1: RedisUnreachable quiet) and its policy is sound (RedisUnsafe
     * quiet): what pages is OtpProtectionUnavailable, on aopay_protection_unavailable_total, which counts every
     * refusal above (two per case, with and without a key: four per mutation).
     */
    it("every refusal while full is counted for OtpProtectionUnavailable (a page); aopay_redis_up stays 1", async () => {
      const text = await (await request(s.t.stack.app.metricsUrl as string)).body.text();
      const refused = Object.fromEntries(
        [...text.matchAll(/^aopay_protection_unavailable_total\{operation="([A-Za-z]+)"\} ([0-9]+)$/gm)].map((m) => [
          m[1],
          Number(m[2]),
        ]),
      );
      for (const c of CASES) expect(refused[c.field]).toBe(4);
      expect(text).toMatch(/^aopay_redis_up 1$/m);
    });

    it("keeps no customer value in Redis, in clear, nor in any log line", async () => {
      expect(pii.length).toBeGreaterThanOrEqual(10);
      const stored = JSON.stringify(await dumpKeys(s.redis, ""));
      const logged = JSON.stringify(s.t.logs.records());
      for (const value of pii) {
        expect(stored).not.toContain(value);
        expect(logged).not.toContain(value);
      }
    });

    /**
     * Full while the OTP is upstream (the simulator's slow scenario, `888`: 2 s): the send cannot be undone, so its
     * answer is what AOPay answered, and the key's result, not stored yet, is written again in the background
     * (send-guard.ts #settleKey). Meanwhile a repeat of the key is told IDEMPOTENCY_IN_FLIGHT (its pending record, read
     * while full), never sent again; with room, the result lands and is replayed.
     */
    for (const c of [CASES[0], CASES[2]])
      it(`${c.field}: full once its OTP is upstream: its answer stands, a repeat is in flight, then replayed; sent once`, async () => {
        n++;
        const variables =
          c === CASES[0] ? cibilInput(`9100${n}0888`) : aepsInput(`98760${String(n).padStart(2, "0")}888`);
        pii.push(...c.pii(variables));
        const headers = { "idempotency-key": `full-upstream-${c.field}-${n}` };
        s.t.simulator?.resetCalls();
        const first = ask(c, variables, headers);
        await until("the OTP upstream", () => calls(c) === 1);
        await fill();
        const sent = await first;
        expect(sent.code).toBeUndefined();
        expect(sent.__typename).toMatch(/^(CibilOtpChallenge|AepsOtpResent)$/);
        expect(await ask(c, variables, headers)).toMatchObject({ code: "IDEMPOTENCY_IN_FLIGHT", retryable: true });
        expect(calls(c)).toBe(1);
        expect(s.t.logs.records().map((r) => r.msg)).toContain(
          "otp settle step failed: store (trying again in the background)",
        );

        await room();
        // The background write's next try: at most STORE_RETRY_MAX_MS (2 s) apart.
        let replayed: Result | undefined;
        const landed = async () => {
          replayed = await ask(c, variables, headers);
          return replayed.code === undefined;
        };
        expect(await waitFor(landed, 5_000)).toBe(true);
        expect(replayed).toEqual(sent);
        expect(calls(c)).toBe(1);
      });

    /**
     * A verification whose consent grant Redis refuses (full once the OTP is upstream: the slow scenario): the OTP is
     * consumed upstream, and the client told "verified". The grant is held by this process and written again in the
     * background (consent-store.ts HeldConsentStore): the report is refused while full only as any read is then
     * (PROTECTION_UNAVAILABLE, retryable; never CONSENT_REQUIRED, which sends the client back for another OTP), and
     * served once there is room, from Redis, where every replica reads it. Thrown, the consent was lost for good.
     */
    it("submitCibilOtp: full once its OTP is upstream: verified, the consent held and written once there is room", async () => {
      n++;
      const cibilId = `9100${n}0888`;
      const { input: generated } = cibilInput(cibilId);
      pii.push(cibilId, generated.accessToken);
      const challenge = resultOf((await s.t.gql(GENERATE_CIBIL_OTP, { input: generated })).body, "generateCibilOtp");
      const verify = CASES[1];
      // The consents of the verifications before this one.
      const consents = async () => (await s.redis.keys("*consent:*")).length;
      const before = await consents();
      s.t.simulator?.resetCalls();
      const verified = ask(verify, { input: rightAnswer(cibilId, generated.accessToken, challenge) }, {});
      await until("the OTP upstream", () => calls(verify) === 1);
      await fill();
      expect(await verified).toMatchObject({ __typename: "CibilOtpVerified", status: "SUCCESS" });
      const report = async () =>
        resultOf((await s.t.gql(CIBIL_CREDIT_HISTORY, { cibilId })).body, "cibilCreditHistory") as Result;
      expect(await report()).toMatchObject({ code: "PROTECTION_UNAVAILABLE", retryable: true });
      expect(await consents()).toBe(before);

      await room();
      expect(await waitFor(async () => (await consents()) === before + 1, 5_000)).toBe(true);
      expect(await report()).toMatchObject({ __typename: "CibilCreditHistory", cibilId });
      expect(calls(verify)).toBe(1);
      expect(s.t.logs.records().map((r) => r.msg)).toEqual(
        expect.arrayContaining([
          "consent not written to Redis: held in this process, and written again in the background",
          "held consent written to Redis",
        ]),
      );
    });
  });
}

fullRedis("a full Redis (maxmemory reached, noeviction)", {});
fullRedis("a full Redis during a rotation of HMAC_SECRET", {
  HMAC_SECRET_PREVIOUS: "redis-full-previous-0123456789abcdef01",
});
