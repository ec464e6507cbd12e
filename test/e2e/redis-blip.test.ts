import { randomUUID } from "node:crypto";
import Redis from "ioredis";
import { type FakeUpstream, startFakeUpstream, upstreamEnv } from "../helpers/fake-upstream";
import { holdingUpstream, until } from "../helpers/holding-upstream";
import { nextAadhaar, nextMobile } from "../helpers/identifiers";
import { aepsInput, RESEND_AEPS_OTP, resultOf } from "../helpers/operations";
import { describeWithRedis, dumpKeys, deleteKeys, REDIS_URL, uniquePrefix } from "../helpers/redis";
import { type RedisProxy, startRedisProxy } from "../helpers/redis-proxy";
import { type GqlResponse, startTestStack, type TestStack } from "../helpers/stack";

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
  const base = uniquePrefix();
  let prefix = base;
  let tests = 0;
  const redis = new Redis(REDIS_URL as string, { lazyConnect: true });

  beforeEach(async () => {
    upstream = await startFakeUpstream();
    proxy = await startRedisProxy(REDIS_URL as string);
    // A prefix per test: the second test reads the records its own server wrote.
    prefix = `${base}${++tests}:`;
    t = await startTestStack({
      ...upstreamEnv(upstream),
      REDIS_URL: proxy.url,
      REDIS_KEY_PREFIX: prefix,
      HMAC_SECRET: "h".repeat(32),
    });
  });
  afterEach(async () => {
    await t?.stop();
    await proxy.close();
    await upstream.close();
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
    const input = aepsInput(nextMobile(), { aadhaar: nextAadhaar() });
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

  it("is stored by the drain when Redis comes back during it (SIGTERM right after the answer)", async () => {
    const key = randomUUID();
    const first = await sendAcrossACut(key, aepsInput(nextMobile(), { aadhaar: nextAadhaar() }));
    expect(resultOf(first.body, "resendAepsOtp").__typename).toBe("AepsOtpResent");
    const stopped = (t as TestStack).stop();
    setTimeout(() => proxy.restore(), 500);
    await stopped;
    t = undefined;

    const records = (await dumpKeys(redis, `${prefix}idem:`)).map((r) => JSON.parse(r.value) as { state: string });
    expect(records.map((r) => r.state)).toEqual(["done"]);
  }, 20_000);
});
