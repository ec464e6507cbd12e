import { randomUUID } from "node:crypto";
import Redis from "ioredis";
import { type FakeUpstream, startFakeUpstream, upstreamEnv } from "../helpers/fake-upstream";
import { holdingUpstream, until } from "../helpers/holding-upstream";
import { nextAadhaar, nextAepsRegistration, nextMobile } from "../helpers/identifiers";
import { aepsInput, RESEND_AEPS_OTP, resultOf } from "../helpers/operations";
import { describeWithRedis, dumpKeys, deleteKeys, REDIS_URL, uniquePrefix } from "../helpers/redis";
import { type RedisProxy, startRedisProxy } from "../helpers/redis-proxy";
import { startServerProcess } from "../helpers/server-process";
import { type GqlResponse, postGraphQL, startStackOnFakeUpstream, type TestStack } from "../helpers/stack";

/**
 * Redis going away for a moment while an OTP send with an Idempotency-Key is upstream. The send's answer stands, and
 * its result must still end up under the key: left pending, the key answered IDEMPOTENCY_IN_FLIGHT for 60 s (the
 * pending record's life) and then took the same key as new, a second SMS (reproduced against `node dist/index.js` with
 * Redis cut for 3.5 s: two ResendOTP upstream for one key). Redis is cut through a proxy of the test's own.
 */
describeWithRedis("an Idempotency-Key whose result the store missed while the send was upstream", () => {
  let upstream: FakeUpstream;
  let proxy: RedisProxy;
  let t: TestStack | undefined;
  let stop: (() => Promise<void>) | undefined;
  const base = uniquePrefix();
  let prefix = base;
  let tests = 0;
  const redis = new Redis(REDIS_URL as string, { lazyConnect: true });

  // A server and a scripted AOPay per test, the server's Redis behind a proxy of the test's own.
  beforeEach(async () => {
    proxy = await startRedisProxy(REDIS_URL as string);
    // A prefix per test: the second test reads the records its own server wrote.
    prefix = `${base}${++tests}:`;
    ({ upstream, t, stop } = await startStackOnFakeUpstream({
      env: { REDIS_URL: proxy.url, REDIS_KEY_PREFIX: prefix, HMAC_SECRET: "h".repeat(32) },
    }));
  });
  afterEach(async () => {
    await stop?.();
    stop = undefined;
    await proxy.close();
  });
  afterAll(async () => {
    await deleteKeys(redis, base);
    redis.disconnect();
  });

  /** Sends with the key while Redis is reachable, cuts Redis once the call is upstream, then lets AOPay answer. */
  async function sendAcrossACut(key: string, input: ReturnType<typeof aepsInput>): Promise<GqlResponse> {
    const held = holdingUpstream(upstream);
    const first = (t as TestStack).gql(RESEND_AEPS_OTP, input, { "idempotency-key": key });
    await until("the send to reach the upstream", () => held.held.length === 1);
    proxy.cut();
    held.release();
    return first;
  }

  it("is stored once Redis is back: a repeat replays it and AOPay is called once", async () => {
    const key = randomUUID();
    const input = aepsInput(nextMobile(), { ...nextAepsRegistration(), aadhaar: nextAadhaar() });
    const first = await sendAcrossACut(key, input);
    expect(resultOf(first.body, "resendAepsOtp").__typename).toBe("AepsOtpResent");
    proxy.restore();

    // A client does what IdempotencyConflict says: asks again in a moment. Before the fix it met IDEMPOTENCY_IN_FLIGHT
    // until the pending record expired (60 s), and then its repeat went to AOPay.
    let repeat: GqlResponse;
    const end = Date.now() + 8_000;
    do {
      await new Promise((resolve) => setTimeout(resolve, 100));
      repeat = await (t as TestStack).gql(RESEND_AEPS_OTP, input, { "idempotency-key": key });
    } while (repeat.headers["idempotent-replayed"] !== "true" && Date.now() < end);
    expect(resultOf(repeat.body, "resendAepsOtp")).toMatchObject({ __typename: "AepsOtpResent" });
    expect(repeat.headers["idempotent-replayed"]).toBe("true");
    expect(upstream.calls).toHaveLength(1);
  }, 20_000);

  it("a claim timed out in a stalled Redis, run late, is freed: the retry the client was told of sends", async () => {
    // OUTCOME_UNKNOWN (the key's record unread) says to repeat with the same key. Before, the SET that took the key ran
    // once Redis answered again, with no request to own it: the retry with the same key met IDEMPOTENCY_IN_FLIGHT.
    const key = randomUUID();
    const input = aepsInput(nextMobile(), { ...nextAepsRegistration(), aadhaar: nextAadhaar() });
    proxy.stall();
    const refused = await (t as TestStack).gql(RESEND_AEPS_OTP, input, { "idempotency-key": key });
    expect(resultOf(refused.body, "resendAepsOtp").code).toBe("OUTCOME_UNKNOWN");
    proxy.restore();
    let retry: GqlResponse;
    const end = Date.now() + 5_000;
    do {
      await new Promise((resolve) => setTimeout(resolve, 200));
      retry = await (t as TestStack).gql(RESEND_AEPS_OTP, input, { "idempotency-key": key });
    } while (resultOf(retry.body, "resendAepsOtp").code === "OUTCOME_UNKNOWN" && Date.now() < end);
    expect(resultOf(retry.body, "resendAepsOtp").__typename).toBe("AepsOtpResent");
    expect(upstream.calls).toHaveLength(1);
  }, 20_000);

  it("is stored by the drain when Redis comes back during it (SIGTERM right after the answer)", async () => {
    const key = randomUUID();
    const first = await sendAcrossACut(
      key,
      aepsInput(nextMobile(), { ...nextAepsRegistration(), aadhaar: nextAadhaar() }),
    );
    expect(resultOf(first.body, "resendAepsOtp").__typename).toBe("AepsOtpResent");
    const stopped = (t as TestStack).stop();
    setTimeout(() => proxy.restore(), 500);
    await stopped;
    t = undefined;

    const records = (await dumpKeys(redis, `${prefix}idem:`)).map((r) => JSON.parse(r.value) as { state: string });
    expect(records.map((r) => r.state)).toEqual(["done"]);
  }, 20_000);
});

/**
 * A server SIGKILLed (OOM, a node lost) while a send with an Idempotency-Key is upstream leaves the key's record
 * pending. Once its pending time (max(60 s, 3 x AOPAY_DEADLINE_MS)) has passed, a repeat of the key on the restarted
 * server must be told the outcome is unknown, not be sent again: before, the record expired with that time and the
 * repeat reached AOPay (reproduced with node dist/index.js: the same key 70 s after the kill, two ResendOTP).
 */
describeWithRedis("an Idempotency-Key whose server died with the send upstream", () => {
  const prefix = uniquePrefix();
  const redis = new Redis(REDIS_URL as string, { lazyConnect: true });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  /**
   * What 61 s do to the key's records, without waiting them: a record that would have expired by then is deleted (the
   * pending record of the old code, kept for the pending time only), and a pending one's pendingUntil is passed.
   */
  async function letThePendingTimePass(): Promise<void> {
    for (const { key, value } of await dumpKeys(redis, `${prefix}idem:`)) {
      if ((await redis.pttl(key)) <= 61_000) await redis.del(key);
      else {
        const record = JSON.parse(value) as Record<string, unknown>;
        if (record.pendingUntil !== undefined) record.pendingUntil = Date.now() - 1;
        await redis.set(key, JSON.stringify(record), "KEEPTTL");
      }
    }
  }

  it("answers a repeat OutcomeUnknown after the pending time, and sends nothing again", async () => {
    // Not startStackOnFakeUpstream (test/helpers/stack.ts): two server processes in turn, the first killed while its
    // send is upstream, against one scripted AOPay.
    const upstream = await startFakeUpstream();
    const env = {
      ...upstreamEnv(upstream),
      REDIS_URL: REDIS_URL as string,
      REDIS_KEY_PREFIX: prefix,
      HMAC_SECRET: "k".repeat(32),
      // Budgets out of the way: the key alone must stop the second send (with the default 60 s cooldown it would
      // also be refused as OTP_COOLDOWN once; after 60 s real seconds, not).
      OTP_COOLDOWN_SECONDS: "0",
    };
    const first = startServerProcess(env);
    let second: ReturnType<typeof startServerProcess> | undefined;
    try {
      const held = holdingUpstream(upstream);
      const key = randomUUID();
      const input = aepsInput(nextMobile(), { ...nextAepsRegistration(), aadhaar: nextAadhaar() });
      const url = `${await first.ready}/graphql`;
      const lost = postGraphQL(url, { query: RESEND_AEPS_OTP, variables: input }, { "idempotency-key": key }).catch(
        (error: unknown) => error,
      );
      await until("the send to reach the upstream", () => held.held.length === 1);
      await first.kill();
      expect(await lost).toBeInstanceOf(Error);
      held.release();

      second = startServerProcess(env);
      const url2 = `${await second.ready}/graphql`;
      const ask = async () =>
        resultOf(
          (await postGraphQL(url2, { query: RESEND_AEPS_OTP, variables: input }, { "idempotency-key": key })).body,
          "resendAepsOtp",
        );
      expect(await ask()).toMatchObject({ code: "IDEMPOTENCY_IN_FLIGHT" });
      await letThePendingTimePass();
      expect(await ask()).toMatchObject({ __typename: "OutcomeUnknown", code: "OUTCOME_UNKNOWN" });
      expect(upstream.calls).toHaveLength(1);
    } finally {
      await first.kill();
      await second?.kill();
      await upstream.close();
    }
  }, 30_000);
});
