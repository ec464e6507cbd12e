import { randomUUID } from "node:crypto";
import type Redis from "ioredis";
import { request } from "undici";
import { KeyHasher } from "../../src/protection/key-hasher";
import { deriveStoreKey } from "../../src/protection/protection.settings";
import { CAS_ATTEMPTS_BEFORE_CALL } from "../../src/protection/redis-registered-mobiles";
import { REGISTERED_MOBILE_DIMENSION, REGISTERED_MOBILES_DIMENSION } from "../../src/protection/registered-mobiles";
import { StoreSealer } from "../../src/protection/store-sealer";
import { nextMobile, nextPan, registrationInput } from "../helpers/identifiers";
import {
  aepsInput,
  GENERATE_CIBIL_OTP,
  REGISTER_CIBIL_CUSTOMER,
  RESEND_AEPS_OTP,
  resultOf,
  type Result,
  tally,
} from "../helpers/operations";
import { connectRedis, REDIS_URL, storeBackends } from "../helpers/redis";
import { type RedisProxy, startRedisProxy } from "../helpers/redis-proxy";
import { DEFAULT_THROTTLE, stackPerTest, type TestStack } from "../helpers/stack";

/**
 * Contention between requests is not a store failure. Requests racing on one identifier or one Idempotency-Key, with
 * every store answering, get a typed answer (their result, a throttle, a conflict, or a retryable refusal with a short
 * wait), never ProtectionUnavailable; no "protection store unavailable" line is written and
 * aopay_protection_unavailable_total (the OtpProtectionUnavailable alert, docs/operations.md) stays at zero. Before,
 * 20 parallel registrations of one PAN over its four mobiles had 11 answered PROTECTION_UNAVAILABLE with Redis
 * healthy (the registered-mobile compare-and-set gave up after 5 tries: redis-registered-mobiles.ts).
 */

const SECRET = "c".repeat(32);
const BACKENDS = storeBackends(SECRET);
const REGISTERED = "CibilCustomerRegistered";

/** `text` as a literal inside a RegExp. */
function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** One sample of a counter on the metrics page (0 when absent). */
function sample(metrics: string, name: string, labels: string): number {
  const line = metrics.split("\n").find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? 0 : Number(line.split(" ").pop());
}

describe.each(BACKENDS)("contention between requests is not a store failure (%s)", (name, skip, backendEnv) => {
  const maybe = skip === null ? it : it.skip;
  const redisOnly = skip === null && name === "in Redis" ? it : it.skip;
  const { start, env, stop } = stackPerTest(backendEnv);
  const register = async (s: TestStack, pan: string, mobile: string): Promise<Result> => {
    const input = registrationInput({ pan, mobile });
    return resultOf((await s.gql(REGISTER_CIBIL_CUSTOMER, { input })).body, "registerCibilCustomer");
  };
  /**
   * `fn` on a stack that reaches Redis through a proxy (`proxy.intercept` runs another client's commands between two of
   * the server's), with `replica`, a connection of the test's own playing another replica; then the stack is stopped
   * before the proxy closes.
   */
  async function behindProxy(
    extra: Record<string, string>,
    fn: (s: TestStack, proxy: RedisProxy, replica: Redis) => Promise<void>,
  ): Promise<void> {
    const proxy = await startRedisProxy(REDIS_URL as string);
    const replica = await connectRedis();
    try {
      await fn(await start({ ...extra, REDIS_URL: proxy.url }), proxy, replica);
    } finally {
      await stop();
      await replica.quit();
      await proxy.close();
    }
  }
  const metricsOf = async (s: TestStack) => (await request(s.stack.app.metricsUrl as string)).body.text();

  /** No store failure anywhere: no such answer, no such line, no error line, the paging counter at zero. */
  async function expectNoStoreFailure(s: TestStack, results: Result[]): Promise<string> {
    expect(results.filter((r) => r.__typename === "ProtectionUnavailable")).toEqual([]);
    expect(s.logs.text()).not.toMatch(
      /protection store unavailable|shared state unavailable|kept changing|kept expiring/,
    );
    expect(s.logs.records().filter((r) => Number(r.level) >= 50 || r.level === "error")).toEqual([]);
    const metrics = await metricsOf(s);
    expect(metrics).not.toMatch(/^aopay_protection_unavailable_total\{[^}]*\} [1-9]/m);
    return metrics;
  }

  /** A PAN registered here with four mobiles, one after the other: its CIBIL id's record is full. */
  async function customerWithFourMobiles(s: TestStack) {
    const pan = nextPan();
    const mobiles = [nextMobile(), nextMobile(), nextMobile(), nextMobile()];
    let customer: Result | undefined;
    for (const m of mobiles) {
      customer = await register(s, pan, m);
      expect(customer.__typename).toBe(REGISTERED);
    }
    s.simulator?.resetCalls();
    s.logs.clear();
    return { pan, mobiles, cibilId: String(customer?.cibilId), accessToken: String(customer?.accessToken) };
  }

  maybe(
    "20 parallel registrations of one PAN over its four mobiles: each registered (or refused, retryable), none a store failure",
    async () => {
      const s = await start();
      const { pan, mobiles } = await customerWithFourMobiles(s);
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => register(s, pan, mobiles[i % 4])));
      // Each compare-and-set lost is another registration's success; with a short wait between tries all of them have
      // landed in every run so far (up to 8 tries of 12). One that lost every try would be refused, retryable.
      const answers = tally(results);
      const refused = answers["RegistrationRefused:REGISTRATION_IN_PROGRESS"] ?? 0;
      expect(Object.keys(answers).filter((k) => k !== `${REGISTERED}:`)).toEqual(
        refused > 0 ? ["RegistrationRefused:REGISTRATION_IN_PROGRESS"] : [],
      );
      expect(s.simulator?.calls("cibil.register")).toBe(20 - refused);
      const metrics = await expectNoStoreFailure(s, results);
      const code = 'code="REGISTRATION_IN_PROGRESS"';
      expect(sample(metrics, "aopay_protection_refusals_total", `operation="registerCibilCustomer",${code}`)).toBe(
        refused,
      );
      expect(sample(metrics, "aopay_unrecorded_writes_total", 'operation="registerCibilCustomer"')).toBe(0);
    },
  );

  maybe(
    "20 parallel generateCibilOtp to one CIBIL id while its PAN is registered 20 times: one SMS, every answer typed",
    async () => {
      const s = await start(DEFAULT_THROTTLE);
      const { pan, mobiles, cibilId, accessToken } = await customerWithFourMobiles(s);
      const sends = Array.from({ length: 20 }, () =>
        s
          .gql(GENERATE_CIBIL_OTP, { input: { cibilId, accessToken } })
          .then((r) => resultOf(r.body, "generateCibilOtp")),
      );
      const registrations = Array.from({ length: 20 }, (_, i) => register(s, pan, mobiles[i % 4]));
      const sent = await Promise.all(sends);
      const registered = await Promise.all(registrations);
      expect(sent.filter((r) => r.__typename === "CibilOtpChallenge")).toHaveLength(1);
      for (const r of sent.filter((x) => x.__typename !== "CibilOtpChallenge"))
        expect(r).toMatchObject({ __typename: "OtpThrottled", code: "OTP_COOLDOWN", retryable: true });
      expect(s.simulator?.calls("cibil.generateOtp")).toBe(1);
      // A registration meets the send under way (refused, retryable), or goes; none is a store failure.
      for (const r of registered.filter((x) => x.__typename !== REGISTERED))
        expect(r).toMatchObject({
          __typename: "RegistrationRefused",
          code: expect.stringMatching(/^(OTP_SEND_IN_PROGRESS|REGISTRATION_IN_PROGRESS)$/),
          retryable: true,
          retryAfterSeconds: 2,
        });
      const went = registered.filter((x) => x.__typename === REGISTERED).length;
      expect(s.simulator?.calls("cibil.register")).toBe(went);
      const metrics = await expectNoStoreFailure(s, [...sent, ...registered]);
      for (const code of ["OTP_SEND_IN_PROGRESS", "REGISTRATION_IN_PROGRESS"])
        expect(
          sample(metrics, "aopay_protection_refusals_total", `operation="registerCibilCustomer",code="${code}"`),
        ).toBe(registered.filter((r) => r.code === code).length);
    },
  );

  maybe("20 parallel resendAepsOtp to one mobile: one SMS, 19 OTP_COOLDOWN", async () => {
    const s = await start(DEFAULT_THROTTLE);
    const { input } = aepsInput(nextMobile());
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        s.gql(RESEND_AEPS_OTP, { input }).then((r) => resultOf(r.body, "resendAepsOtp")),
      ),
    );
    expect(tally(results)).toEqual({ "AepsOtpResent:": 1, "OtpThrottled:OTP_COOLDOWN": 19 });
    expect(s.simulator?.calls("aeps.resendOtp")).toBe(1);
    await expectNoStoreFailure(s, results);
  });

  maybe(
    "20 parallel resendAepsOtp with one Idempotency-Key, in five waves: one SMS, the rest a conflict or the replay",
    async () => {
      const s = await start(DEFAULT_THROTTLE);
      const { input } = aepsInput(nextMobile());
      const key = randomUUID();
      const results: Result[] = [];
      for (let wave = 0; wave < 5; wave++)
        results.push(
          ...(await Promise.all(
            Array.from({ length: 20 }, () =>
              s
                .gql(RESEND_AEPS_OTP, { input }, { "idempotency-key": key })
                .then((r) => resultOf(r.body, "resendAepsOtp")),
            ),
          )),
        );
      const answers = tally(results);
      // The first wave has the send (or its replay) and conflicts; later waves the replay (AepsOtpResent) only.
      expect(
        Object.keys(answers).filter((k) => !/^(AepsOtpResent:|IdempotencyConflict:IDEMPOTENCY_IN_FLIGHT)$/.test(k)),
      ).toEqual([]);
      expect(answers["AepsOtpResent:"]).toBeGreaterThanOrEqual(81);
      expect(s.simulator?.calls("aeps.resendOtp")).toBe(1);
      await expectNoStoreFailure(s, results);
    },
  );

  const memoryOnly = skip === null && name === "in memory" ? it : it.skip;
  memoryOnly(
    "5 new customers registered at once with room for two: two reach AOPay and keep their mobiles, three refused before it",
    async () => {
      // Room for two customers (three records each). Before, all five saw the same room before the call: four reached
      // AOPay, two of them without their mobile kept (aopay_unrecorded_writes_total 2), one refused.
      // One client: the table's room alone (its share per client: test/e2e/shared-tables.test.ts).
      const s = await start({
        MEMORY_REGISTERED_MOBILE_MAX_KEYS: "6",
        MEMORY_REGISTERED_MOBILE_CLIENT_SHARE_PERCENT: "100",
      });
      const results = await Promise.all(Array.from({ length: 5 }, () => register(s, nextPan(), nextMobile())));
      expect(tally(results)).toEqual({ [`${REGISTERED}:`]: 2, "ProtectionUnavailable:PROTECTION_UNAVAILABLE": 3 });
      expect(s.simulator?.calls("cibil.register")).toBe(2);
      const metrics = await metricsOf(s);
      expect(sample(metrics, "aopay_unrecorded_writes_total", 'operation="registerCibilCustomer"')).toBe(0);
      // A full store, said as such (a warning a minute), never "sent, but ... not stored".
      expect(s.logs.text()).not.toMatch(/sent, but what it needs remembered was not stored/);
      expect(s.logs.text()).toMatch(/in-memory registered mobile store full/);
    },
  );

  memoryOnly(
    "room for two customers, registered one after another: the room each set aside is given back",
    async () => {
      // Each registration sets room for its three records aside before the call (RegisteredMobileStore.ready) and gives
      // it back once its guard is done (guarded-send.ts). Kept set aside, the first registration's room and records
      // would fill the table: the second would be refused PROTECTION_UNAVAILABLE before it reached AOPay.
      const s = await start({
        MEMORY_REGISTERED_MOBILE_MAX_KEYS: "6",
        MEMORY_REGISTERED_MOBILE_CLIENT_SHARE_PERCENT: "100",
      });
      const results: Result[] = [];
      for (let i = 0; i < 2; i += 1) results.push(await register(s, nextPan(), nextMobile()));
      expect(tally(results)).toEqual({ [`${REGISTERED}:`]: 2 });
      expect(s.simulator?.calls("cibil.register")).toBe(2);
      // The table is full now: a third is refused before AOPay, as the test above's three are.
      expect(tally([await register(s, nextPan(), nextMobile())])).toEqual({
        "ProtectionUnavailable:PROTECTION_UNAVAILABLE": 1,
      });
      expect(s.simulator?.calls("cibil.register")).toBe(2);
    },
  );

  redisOnly(
    "another replica taking and freeing the Idempotency-Key around each command: IdempotencyConflict, nothing sent",
    async () => {
      // This server reaches Redis through a proxy: before each of its commands on the key's record, another replica's
      // request with the same key and input takes the key (before a SET) or frees it (before anything else: a
      // release, or its pending time ending). Redis answers every command.
      await behindProxy(DEFAULT_THROTTLE, async (s, proxy, replica) => {
        const { input } = aepsInput(nextMobile());
        let steps = 0;
        proxy.intercept(async (chunk) => {
          const text = chunk.toString("latin1");
          const redisKey = new RegExp(`${escape(env().REDIS_KEY_PREFIX)}idem:[A-Za-z0-9_-]+`).exec(text)?.[0];
          if (redisKey === undefined) return;
          steps += 1;
          // The server's own pending record, under another request's token.
          const record = /\{"state":"pending"[^\r\n]*\}/.exec(text)?.[0];
          if (/^\*\d+\r\n\$3\r\nset\r\n/i.test(text) && record !== undefined)
            await replica.set(redisKey, record.replace(/"token":"[^"]+"/, '"token":"theirs"'), "PX", 60_000);
          else await replica.del(redisKey);
        });
        const result = resultOf(
          (await s.gql(RESEND_AEPS_OTP, { input }, { "idempotency-key": randomUUID() })).body,
          "resendAepsOtp",
        );
        proxy.intercept(null);
        expect(steps).toBeGreaterThan(0);
        expect(result).toMatchObject({
          __typename: "IdempotencyConflict",
          code: "IDEMPOTENCY_IN_FLIGHT",
          retryable: true,
          retryAfterSeconds: 2,
        });
        expect(s.simulator?.calls("aeps.resendOtp")).toBe(0);
        await expectNoStoreFailure(s, [result]);
      });
    },
    20_000,
  );

  redisOnly(
    "another replica rewriting the CIBIL id's record before each compare-and-set: the registration is refused REGISTRATION_IN_PROGRESS, nothing sent",
    async () => {
      // This server reaches Redis through a proxy: before each of its compare-and-sets on the CIBIL id's record, another
      // replica's registration of the same id writes the list again (sealed anew), so every attempt loses, Redis
      // answering every command.
      await behindProxy({}, async (s, proxy, replica) => {
        const { pan, mobiles, cibilId } = await customerWithFourMobiles(s);
        const hasher = new KeyHasher(Buffer.from(SECRET));
        const sealer = new StoreSealer([deriveStoreKey(Buffer.from(SECRET))]);
        const key = hasher.hash(REGISTERED_MOBILE_DIMENSION, cibilId);
        const redisKey = `${env().REDIS_KEY_PREFIX}regmobiles:${key}`;
        const list = JSON.stringify(mobiles);
        let rewrites = 0;
        proxy.intercept(async (chunk) => {
          const text = chunk.toString("latin1");
          // The compare-and-set only, not the record's read before it (READ_RECORDS: its sha, 1 and the key, `*4`).
          if (!/evalsha/i.test(text) || !text.includes(redisKey) || text.startsWith("*4\r\n")) return;
          rewrites += 1;
          await replica.set(redisKey, sealer.seal(list, [REGISTERED_MOBILES_DIMENSION, key]), "PX", 60_000);
        });
        // The first mobile, not the latest: the list must change, so it needs the compare-and-set.
        const result = await register(s, pan, mobiles[0]);
        proxy.intercept(null);
        expect(result).toEqual({
          __typename: "RegistrationRefused",
          code: "REGISTRATION_IN_PROGRESS",
          message: expect.any(String),
          retryable: true,
          retryAfterSeconds: 2,
        });
        expect(rewrites).toBe(CAS_ATTEMPTS_BEFORE_CALL);
        expect(s.simulator?.calls("cibil.register")).toBe(0);
        const metrics = await expectNoStoreFailure(s, [result]);
        expect(
          sample(
            metrics,
            "aopay_protection_refusals_total",
            'operation="registerCibilCustomer",code="REGISTRATION_IN_PROGRESS"',
          ),
        ).toBe(1);
        // Logged as what it is: the access line names the code, and no line of its own.
        expect(s.logs.records().filter((r) => String(r.result ?? "").includes("REGISTRATION_IN_PROGRESS"))).toEqual([
          expect.objectContaining({ msg: "request completed" }),
        ]);
        for (const value of [pan, ...mobiles, cibilId]) expect(s.logs.text()).not.toContain(value);
        // Once the other replica stops, the same registration goes.
        expect((await register(s, pan, mobiles[0])).__typename).toBe(REGISTERED);
      });
    },
    20_000,
  );
});
