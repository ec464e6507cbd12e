import { randomUUID } from "node:crypto";
import Redis from "ioredis";
import { request } from "undici";
import { createLogger } from "../../src/logging/logger";
import { createRedis } from "../../src/protection/redis";
import { type FakeUpstream, json, startFakeUpstream, upstreamEnv } from "../helpers/fake-upstream";
import { fixtureJson } from "../helpers/fixtures";
import { holdingUpstream, until } from "../helpers/holding-upstream";
import { nextAadhaar, nextAepsRegistration, nextMobile } from "../helpers/identifiers";
import { LogCapture } from "../helpers/log-capture";
import { aepsInput, RESEND_AEPS_OTP, resultOf } from "../helpers/operations";
import { deleteKeys, describeWithRedis, REDIS_URL, uniquePrefix } from "../helpers/redis";
import { type RedisProxy, startRedisProxy } from "../helpers/redis-proxy";
import { STALL_MS, stallEventLoop } from "../helpers/stall";
import { DEFAULT_THROTTLE, type GqlResponse, startTestStack, type TestStack } from "../helpers/stack";

/**
 * A network blip between the server and Redis just after Redis ran a command: its reply is lost with the connection
 * (a TCP proxy of the test's own drops it, then cuts and restores the connection at once). ioredis, by default, wrote
 * such a command again once connected (autoResendUnfulfilledCommands), so Redis ran it twice, and no command here may
 * run twice:
 * - an Idempotency-Key's claim met itself: the request was answered IDEMPOTENCY_IN_FLIGHT by its own claim, which no
 *   request held any more; the key answered the same for its pending time (60 s or more), then OUTCOME_UNKNOWN, for a
 *   request that sent nothing;
 * - a send's take was refused by its own first run: OTP_COOLDOWN, "an OTP was just sent to this destination", none was;
 * - a refund (a call that provably never left) was given twice: a point of the IP's, the client's, the range's and the
 *   service's budgets that another send had paid for, and one more SMS than OTP_IP_MAX from one address.
 * Now a command whose reply was lost is never written again: it times out (timeCommands, 1 s), an outcome unknown, as
 * any store failure (src/protection/redis.ts).
 */
/** A script (the throttle's take and give-back): EVAL the first time on a connection, EVALSHA after (ioredis). */
const IS_SCRIPT = (chunk: Buffer) => /\r\neval(?:sha)?\r\n/.test(chunk.toString("latin1"));
const IS_SET = (chunk: Buffer) => chunk.toString("latin1").includes("\r\nset\r\n");

describeWithRedis("a Redis reply lost with its connection: the command is not run again", () => {
  let upstream: FakeUpstream;
  let proxy: RedisProxy;
  let t: TestStack | undefined;
  const prefixes: string[] = [];
  const redis = new Redis(REDIS_URL as string, { lazyConnect: true });

  /** While true, the event loop is held after AOPay's answer and after every reply the proxy hands the server. */
  let stalling = false;
  let stalls = 0;

  beforeEach(async () => {
    stalling = false;
    stalls = 0;
    const resent = json(200, fixtureJson("aeps/resend-otp.success"));
    upstream = await startFakeUpstream((call, res, req) => {
      resent(call, res, req);
      // AOPay's answer is in the server's socket, unread, past the call's 1 s deadline.
      if (stalling) stallEventLoop(STALL_MS);
    });
    proxy = await startRedisProxy(REDIS_URL as string, {
      replies: (chunk) => {
        if (stalling) {
          stalls += 1;
          // Once this callback has written the reply into the server's socket, before the server reads it.
          process.nextTick(stallEventLoop, STALL_MS);
        }
        return chunk;
      },
    });
  });
  afterEach(async () => {
    stalling = false;
    await t?.stop();
    t = undefined;
    await proxy.close();
    await upstream.close();
  });
  afterAll(async () => {
    for (const prefix of prefixes) await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  const start = async (env: Record<string, string> = {}): Promise<TestStack> => {
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    t = await startTestStack({
      ...DEFAULT_THROTTLE,
      ...upstreamEnv(upstream),
      REDIS_URL: proxy.url,
      REDIS_KEY_PREFIX: prefix,
      HMAC_SECRET: "l".repeat(32),
      ...env,
    });
    return t;
  };

  /**
   * The reply of the first command `match` finds in what the server sends from now on is lost: the connection is cut
   * once that command has run (its reply held back by the proxy), and restored at once, well within commandTimeout
   * (1 s): ioredis is connected again after its first retry delay (200 ms).
   */
  const loseReplyOf = async (match: (chunk: Buffer) => boolean): Promise<void> => {
    let matched = false;
    proxy.loseRepliesFrom((chunk) => (matched = match(chunk)));
    await until("the command to reach Redis", () => matched);
    await new Promise((resolve) => setTimeout(resolve, 150));
    proxy.cut();
    proxy.restore();
  };

  /** Until the server's Redis connection serves again (its readiness answers 200). */
  const ready = async (stack: TestStack) => {
    const end = Date.now() + 10_000;
    for (;;) {
      const res = await request(`${stack.baseUrl}/readyz`);
      await res.body.dump();
      if (res.statusCode === 200) return;
      if (Date.now() > end) throw new Error("Redis never served again");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  const fresh = () => aepsInput(nextMobile(), { ...nextAepsRegistration(), aadhaar: nextAadhaar() });
  const typename = (res: GqlResponse) => resultOf(res.body, "resendAepsOtp").__typename;

  it("a command's reply lost: Redis ran it once (createRedis, through the proxy)", async () => {
    const { redis: client, check } = createRedis(
      proxy.url,
      createLogger({ level: "fatal", destination: new LogCapture() }),
      { evictingPolicy: "refuse", checkIntervalMs: 30_000 },
    );
    const key = `${uniquePrefix()}counter`;
    prefixes.push(key);
    try {
      await until("the connection", () => client.status === "ready");
      const lost = loseReplyOf((chunk) => chunk.toString("latin1").includes(key));
      await expect(client.incr(key)).rejects.toThrow("Command timed out");
      await lost;
      await until("the connection again", () => client.status === "ready");
      // Enough for a resent INCR to have run (it ran on the new connection's first round trip before).
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await redis.get(key)).toBe("1");
    } finally {
      check.stop();
      client.disconnect();
    }
  });

  it("a claim: OUTCOME_UNKNOWN (its record unread), and the key, freed, sends on the next try: one call", async () => {
    const stack = await start();
    await ready(stack);
    const key = randomUUID();
    const input = fresh();
    const lost = loseReplyOf(IS_SET);
    const first = await stack.gql(RESEND_AEPS_OTP, input, { "idempotency-key": key });
    await lost;
    // Before: IdempotencyConflict, answered by the request's own claim run a second time.
    // Its record unread (an earlier request with the key may have sent): OUTCOME_UNKNOWN, never "nothing was sent".
    expect(resultOf(first.body, "resendAepsOtp")).toMatchObject({
      __typename: "OutcomeUnknown",
      code: "OUTCOME_UNKNOWN",
    });
    expect(upstream.calls).toHaveLength(0);
    await ready(stack);
    // A client does what OUTCOME_UNKNOWN says: repeats with the same key. Before, the key answered
    // IDEMPOTENCY_IN_FLIGHT for its pending time (60 s), then OUTCOME_UNKNOWN, though nothing had been sent.
    let again: GqlResponse;
    const end = Date.now() + 5_000;
    do {
      await new Promise((resolve) => setTimeout(resolve, 100));
      again = await stack.gql(RESEND_AEPS_OTP, input, { "idempotency-key": key });
    } while (typename(again) !== "AepsOtpResent" && Date.now() < end);
    expect(typename(again)).toBe("AepsOtpResent");
    expect(upstream.calls).toHaveLength(1);
    const replay = await stack.gql(RESEND_AEPS_OTP, input, { "idempotency-key": key });
    expect(replay.headers["idempotent-replayed"]).toBe("true");
    expect(upstream.calls).toHaveLength(1);
  }, 20_000);

  it("a send's take: PROTECTION_UNAVAILABLE, never OTP_COOLDOWN for an OTP that was not sent", async () => {
    const stack = await start();
    await ready(stack);
    const lost = loseReplyOf(IS_SCRIPT);
    const first = await stack.gql(RESEND_AEPS_OTP, fresh());
    await lost;
    // Before: OtpThrottled OTP_COOLDOWN ("An OTP was just sent to this destination"), refused by its own take.
    expect(resultOf(first.body, "resendAepsOtp")).toMatchObject({
      __typename: "ProtectionUnavailable",
      code: "PROTECTION_UNAVAILABLE",
    });
    expect(upstream.calls).toHaveLength(0);
  }, 20_000);

  it("a refund's give-back: given once, so one address still gets OTP_IP_MAX sends, not one more", async () => {
    // One upstream socket and no queue: a second send while one is held is refused OVERLOADED by the transport before
    // it is written, so its points are given back (SendGuard: a call that provably never left). Admission's own cap
    // (from those two by default) is raised so that the request reaches the transport.
    const stack = await start({
      OTP_IP_MAX: "2",
      TRUSTED_PROXIES: "127.0.0.1",
      AOPAY_CONNECTIONS: "1",
      AOPAY_QUEUE_LIMIT: "0",
      ADMISSION_MAX_IN_FLIGHT: "8",
      ADMISSION_MAX_IN_FLIGHT_PER_CLIENT: "0",
    });
    await ready(stack);
    const from = (ip: string) => ({ "x-forwarded-for": ip });
    const ip = "198.51.100.7";
    expect(typename(await stack.gql(RESEND_AEPS_OTP, fresh(), from(ip)))).toBe("AepsOtpResent");

    // Another address's send holds the only socket.
    const held = holdingUpstream(upstream);
    const holder = stack.gql(RESEND_AEPS_OTP, fresh(), from("203.0.113.9"));
    await until("the held send to reach the upstream", () => held.held.length === 1);

    // The address's second send: its take (the first script), OVERLOADED, its give-back (the second), whose reply is
    // lost. Before, Redis ran the give-back again: the IP's window lost the point of the first send too.
    let scripts = 0;
    const lost = loseReplyOf((chunk) => IS_SCRIPT(chunk) && ++scripts === 2);
    const overloaded = await stack.gql(RESEND_AEPS_OTP, fresh(), from(ip));
    await lost;
    expect(resultOf(overloaded.body, "resendAepsOtp")).toMatchObject({ __typename: "UpstreamUnavailable" });
    held.release();
    expect(typename(await holder)).toBe("AepsOtpResent");
    await ready(stack);
    const calls = upstream.calls.length;

    // One send of the address counted: one more is allowed, then OTP_IP_MAX (2) refuses.
    expect(typename(await stack.gql(RESEND_AEPS_OTP, fresh(), from(ip)))).toBe("AepsOtpResent");
    expect(resultOf((await stack.gql(RESEND_AEPS_OTP, fresh(), from(ip))).body, "resendAepsOtp")).toMatchObject({
      __typename: "OtpThrottled",
      code: "RATE_LIMITED",
      scope: "IP",
    });
    expect(upstream.calls.length - calls).toBe(1);
  }, 20_000);

  /*
   * The event loop held for 1.2 s (a GC pause, a CPU-starved CI box) right after each reply of Redis reached the
   * server's socket, and after AOPay's answer reached it: every 1 s timeout those answers race (the Redis commands'
   * own, a 1 s AOPay deadline) was due before the answer was read. Before, the send was refused PROTECTION_UNAVAILABLE
   * (the take's reply judged "Command timed out"), or, with an Idempotency-Key, answered OUTCOME_UNKNOWN, though Redis
   * had recorded the budget and the claim in 0.1 ms (test/e2e/registered-mobile-issued-id.test.ts failed so in CI).
   * Now the answer that came is the answer (src/util/after-io.ts); test/integration/event-loop-stall.test.ts has each
   * timeout on its own, and a silent peer.
   */
  const stalled = async (headers: Record<string, string> = {}, input = fresh()) => {
    const stack = await start({
      AOPAY_DEADLINE_MS: "1000",
      // The stalls add up (one per Redis round trip): the request's own deadline is not what is tested here.
      REQUEST_DEADLINE_MS: "60000",
    });
    await ready(stack);
    stalling = true;
    const res = await stack.gql(RESEND_AEPS_OTP, input, headers);
    stalling = false;
    expect(stalls).toBeGreaterThan(0);
    return { stack, res };
  };

  it("a stall past 1 s after each answer: the OTP is resent, not PROTECTION_UNAVAILABLE", async () => {
    const { res } = await stalled();
    expect(typename(res)).toBe("AepsOtpResent");
    expect(upstream.calls).toHaveLength(1);
  }, 60_000);

  it("the same with an Idempotency-Key: resent and recorded, not OUTCOME_UNKNOWN", async () => {
    const key = randomUUID();
    const input = fresh();
    const { stack, res } = await stalled({ "idempotency-key": key }, input);
    expect(typename(res)).toBe("AepsOtpResent");
    expect(upstream.calls).toHaveLength(1);
    // Its record was written: the same key replays it, nothing sent again.
    const replay = await stack.gql(RESEND_AEPS_OTP, input, { "idempotency-key": key });
    expect(replay.headers["idempotent-replayed"]).toBe("true");
    expect(upstream.calls).toHaveLength(1);
  }, 60_000);
});
