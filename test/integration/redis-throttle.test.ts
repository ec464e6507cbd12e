import Redis from "ioredis";
import { RateLimiterRedis, type RateLimiterRes } from "rate-limiter-flexible";
import type { ThrottleConfig } from "../../src/config";
import { ProtectionStoreError } from "../../src/protection/errors";
import { KeyHasher } from "../../src/protection/key-hasher";
import {
  OtpThrottle,
  type OtpSubject,
  type Reservation,
  type Throttled,
  type ThrottlePurpose,
} from "../../src/protection/otp-throttle";
import {
  connectRedis,
  deleteKeys,
  describeWithRedis,
  dumpKeys,
  recordCommands,
  REDIS_URL,
  uniquePrefix,
} from "../helpers/redis";
import { throttleConfig } from "../helpers/throttle";

/**
 * The Redis store of OtpThrottle (src/protection/redis-budgets.ts: one Lua script per send) against a real Redis:
 * the same answers as the in-memory store, one round trip per send, a refusal that leaves nothing behind, keys that
 * replicas of the previous version (rate-limiter-flexible's RateLimiterRedis, one EVALSHA per budget) count the same
 * way, and a refusal while Redis is not connected.
 */
const hasher = new KeyHasher(Buffer.from("t".repeat(32)));

/** Small budgets, so that a short run of sends meets every one of them. */
const SMALL: ThrottleConfig = throttleConfig({
  cooldownSeconds: 30,
  destinationWindow: { points: 2, seconds: 600 },
  destinationDaily: { points: 3, seconds: 86_400 },
  mobilePrefix: { points: 4, seconds: 600 },
  ip: { points: 5, seconds: 60 },
  client: { points: 8, seconds: 120 },
  global: { points: 7, seconds: 300 },
  verify: { points: 2, seconds: 600 },
  verifyIp: { points: 3, seconds: 60 },
  verifyClient: { points: 4, seconds: 90 },
});

const mobile = (value: string, ip = "203.0.113.1", clientId = "app"): OtpSubject => ({
  destinations: [{ kind: "mobile", value }],
  ip,
  clientId,
});
const aeps = (aadhaar: string, value: string, ip = "203.0.113.1"): OtpSubject => ({
  destinations: [
    { kind: "mobile", value },
    { kind: "aadhaar", value: aadhaar },
  ],
  ip,
  clientId: "app",
});

/** An answer as the two stores can agree on it: waits in whole seconds (the clocks differ by the run's milliseconds). */
function comparable(answer: Reservation | Throttled): Record<string, unknown> {
  if (answer.allowed) return { allowed: true, nextSendInS: Math.round(answer.nextSendInMs / 1000) };
  return { allowed: false, code: answer.code, scope: answer.scope, retryAfterSeconds: answer.retryAfterSeconds };
}

describeWithRedis("OtpThrottle in Redis: one script per send (real Redis at REDIS_URL)", () => {
  let redis: Redis;
  const prefixes: string[] = [];
  const fresh = () => {
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    return prefix;
  };
  beforeAll(async () => {
    redis = await connectRedis();
  });
  afterAll(async () => {
    for (const prefix of prefixes) await deleteKeys(redis, prefix);
    await redis.quit();
  });

  it("answers every send as the in-memory store does: codes, scopes, waits, the next send, refunds", async () => {
    const memory = new OtpThrottle(SMALL, hasher, null);
    const shared = new OtpThrottle(SMALL, hasher, { redis, keyPrefix: fresh() });
    // [purpose, subject, refund the send if it was allowed]
    const steps: Array<[ThrottlePurpose, OtpSubject, boolean?]> = [
      ["send", mobile("9876500001")],
      ["send", mobile("9876500001")], // cooldown
      ["send", mobile("9876500002"), true], // allowed, then refunded: the destination is free again
      ["send", mobile("9876500002")],
      ["send", aeps("999971658847", "9876500003")],
      ["send", aeps("999971658847", "9876500004")], // the Aadhaar's cooldown
      ["send", mobile("9876500005")], // the prefix's 4th point
      ["send", mobile("9876500006", "203.0.113.2")], // the prefix's 5th: refused (prefix)
      ["send", mobile("9123400001", "203.0.113.1")], // the IP's 5th point (refused sends gave theirs back)
      ["send", mobile("9123400002", "203.0.113.1")], // the IP's 6th: refused
      ["send", mobile("9123400003", "203.0.113.3", "other")],
      ["send", mobile("9123400004", "203.0.113.4", "other")], // the global budget's 7th point
      ["send", mobile("9123400005", "203.0.113.5", "third")], // its 8th: refused
      ["verify", mobile("9876500001")],
      ["verify", mobile("9876500001")],
      ["verify", mobile("9876500001")], // the third check: refused
      ["verify", aeps("999971658847", "9876500001")], // the mobile's verification budget refuses both
      ["verify", mobile("9876500010")], // the IP's 3rd verification (the refused ones gave theirs back)
      ["verify", mobile("9876500011")], // its 4th: refused (IP), another customer though
      ["verify", mobile("9876500012", "203.0.113.9")], // the client's 4th verification
      ["verify", mobile("9876500013", "203.0.113.8")], // its 5th: refused (CLIENT)
    ];
    const answers: Array<[unknown, unknown]> = [];
    for (const [purpose, subject, refund] of steps) {
      const a = await memory.reserve(subject, purpose);
      const b = await shared.reserve(subject, purpose);
      answers.push([comparable(a), comparable(b)]);
      if (refund && a.allowed && b.allowed) {
        await a.refund();
        await b.refund();
      }
    }
    expect(answers.map(([, b]) => b)).toEqual(answers.map(([a]) => a));
    // The run met every kind of answer (a scenario that only ever allowed would prove little).
    // Guesses at other customers meet the IP's and then the client's verification budget.
    expect(answers.slice(-4).map(([a]) => a)).toEqual([
      { allowed: true, nextSendInS: 0 },
      { allowed: false, code: "RATE_LIMITED", scope: "IP", retryAfterSeconds: 60 },
      { allowed: true, nextSendInS: 0 },
      { allowed: false, code: "RATE_LIMITED", scope: "CLIENT", retryAfterSeconds: 90 },
    ]);
    const codes = new Set(answers.map(([a]) => (a as { code?: string }).code ?? "allowed"));
    expect([...codes].sort()).toEqual(["OTP_COOLDOWN", "RATE_LIMITED", "VERIFY_LIMIT_REACHED", "allowed"].sort());
    const scopes = new Set(answers.map(([a]) => (a as { scope?: string }).scope).filter(Boolean));
    expect([...scopes].sort()).toEqual(["CLIENT", "DESTINATION", "GLOBAL", "IP", "MOBILE_PREFIX"]);
  });

  it("answers OTP_LIMIT_REACHED with the window's wait, and the next send's wait, as in memory", async () => {
    const config = { ...SMALL, cooldownSeconds: 0 };
    const memory = new OtpThrottle(config, hasher, null);
    const shared = new OtpThrottle(config, hasher, { redis, keyPrefix: fresh() });
    const answers: Array<[unknown, unknown]> = [];
    for (let i = 0; i < 3; i++) {
      answers.push([
        comparable(await memory.reserve(mobile("9000000001"))),
        comparable(await shared.reserve(mobile("9000000001"))),
      ]);
    }
    expect(answers.map(([, b]) => b)).toEqual(answers.map(([a]) => a));
    expect(answers.map(([a]) => a)).toEqual([
      { allowed: true, nextSendInS: 0 },
      // The window's second point was its last: no send before it ends.
      { allowed: true, nextSendInS: 600 },
      { allowed: false, code: "OTP_LIMIT_REACHED", scope: "DESTINATION", retryAfterSeconds: 600 },
    ]);
  });

  it("one round trip per send, allowed or refused, and one per refund", async () => {
    const own = await connectRedis();
    try {
      const throttle = new OtpThrottle(SMALL, hasher, { redis: own, keyPrefix: fresh() });
      // The first calls load the scripts (EVALSHA answered NOSCRIPT on a Redis that never saw them, then EVAL).
      await ((await throttle.reserve(mobile("9555500000"))) as Reservation).refund();
      const sent = recordCommands(own);
      const allowed = await throttle.reserve(aeps("999941057058", "9555500001"));
      expect(allowed.allowed).toBe(true);
      expect(sent).toEqual(["evalsha"]);
      expect(await throttle.reserve(aeps("999941057058", "9555500002"))).toMatchObject({ code: "OTP_COOLDOWN" });
      expect(sent).toEqual(["evalsha", "evalsha"]);
      await (allowed as Reservation).refund();
      expect(sent).toEqual(["evalsha", "evalsha", "evalsha"]);
    } finally {
      own.disconnect();
    }
  });

  it("a refund reaches only the windows its send was counted in: not a cooldown opened since, not an expired key", async () => {
    const prefix = fresh();
    // Redis windows are whole seconds (SET EX): a 1 s cooldown, waited out for real.
    const throttle = new OtpThrottle({ ...SMALL, cooldownSeconds: 1 }, hasher, { redis, keyPrefix: prefix });
    const held = await throttle.reserve(mobile("9666600001"));
    if (!held.allowed) throw new Error("expected allowed");
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    // The cooldown ended while the first call waited; a second send opens the next one.
    expect((await throttle.reserve(mobile("9666600001"))).allowed).toBe(true);
    await held.refund();
    // rate-limiter-flexible's reward (this script until the fix) took the new cooldown's point: a third SMS went out.
    expect(await throttle.reserve(mobile("9666600001"))).toMatchObject({ code: "OTP_COOLDOWN", scope: "DESTINATION" });
    // Its own 10-minute window did get the point back: it counts the second send alone.
    const windowKey = `${prefix}otp:window:${hasher.hash("destination:mobile", "9666600001")}`;
    expect(await redis.get(windowKey)).toBe("1");

    // A refund after the key expired, with no send since, leaves no key (the old reward made one holding -1: a free send).
    const lone = await throttle.reserve(mobile("9666600002"));
    if (!lone.allowed) throw new Error("expected allowed");
    const cooldownKey = `${prefix}otp:cooldown:${hasher.hash("destination:mobile", "9666600002")}`;
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await redis.exists(cooldownKey)).toBe(0);
    await lone.refund();
    expect(await redis.exists(cooldownKey)).toBe(0);
    expect((await throttle.reserve(mobile("9666600002"))).allowed).toBe(true);
    expect(await throttle.reserve(mobile("9666600002"))).toMatchObject({ code: "OTP_COOLDOWN" });
  });

  it("a refused send leaves every key as it found it, and an allowed one takes a point from each of its ten", async () => {
    const prefix = fresh();
    const throttle = new OtpThrottle(SMALL, hasher, { redis, keyPrefix: prefix });
    const subject = aeps("999971658847", "9444400001");
    expect((await throttle.reserve(subject)).allowed).toBe(true);
    const after = await dumpKeys(redis, prefix);
    // Mobile and Aadhaar: cooldown, window and daily each; the prefix, the IP, the client, the global budget.
    expect(after).toHaveLength(10);
    expect(new Set(after.map((e) => e.value))).toEqual(new Set(["1"]));
    expect(await throttle.reserve(subject)).toMatchObject({ code: "OTP_COOLDOWN" });
    expect((await dumpKeys(redis, prefix)).sort((a, b) => a.key.localeCompare(b.key))).toEqual(
      after.sort((a, b) => a.key.localeCompare(b.key)),
    );
  });

  it("counts the keys the previous version counted (rate-limiter-flexible's RateLimiterRedis), both ways, during a rolling update", async () => {
    const prefix = fresh();
    const throttle = new OtpThrottle(SMALL, hasher, { redis, keyPrefix: prefix });
    // The previous version's limiters, as it made them (its otp-throttle.ts).
    const old = (name: string, points: number, duration: number) =>
      new RateLimiterRedis({
        points,
        duration,
        keyPrefix: `${prefix}otp:${name}`,
        storeClient: redis,
        rejectIfRedisNotReady: true,
      });
    const cooldown = old("cooldown", 1, SMALL.cooldownSeconds);
    const window = old("window", SMALL.destinationWindow.points, SMALL.destinationWindow.seconds);
    // An old replica sent to this mobile: the new one sees its cooldown.
    const first = "9333300001";
    await cooldown.consume(hasher.hash("destination:mobile", first));
    const refused = (await throttle.reserve(mobile(first))) as Throttled;
    expect(refused).toMatchObject({ allowed: false, code: "OTP_COOLDOWN", scope: "DESTINATION" });
    expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(SMALL.cooldownSeconds - 1);
    // The new one sent to another: the old one counts that send in the same keys.
    const second = "9333300002";
    expect((await throttle.reserve(mobile(second))).allowed).toBe(true);
    const key = hasher.hash("destination:mobile", second);
    const counted = (await window.get(key)) as RateLimiterRes;
    expect(counted.consumedPoints).toBe(1);
    expect(counted.msBeforeNext).toBeGreaterThan((SMALL.destinationWindow.seconds - 5) * 1000);
    await expect(cooldown.consume(key)).rejects.toMatchObject({ consumedPoints: 2 });
  });

  it("a Redis that forgot its scripts (SCRIPT FLUSH, as after a restart) is sent the script again, and the send counts", async () => {
    const own = await connectRedis();
    try {
      const prefix = fresh();
      const throttle = new OtpThrottle(SMALL, hasher, { redis: own, keyPrefix: prefix });
      expect((await throttle.reserve(mobile("9111100001"))).allowed).toBe(true);
      await own.script("FLUSH");
      const sent = recordCommands(own);
      expect((await throttle.reserve(mobile("9111100002"))).allowed).toBe(true);
      // EVALSHA answered NOSCRIPT (it ran nothing); ioredis sent it again, as EVAL with the script's text (its
      // Script.execute: the resend is turned into an EVAL on the wire), and the send was counted once.
      expect(sent).toEqual(["evalsha", "evalsha"]);
      const key = `${prefix}otp:cooldown:${hasher.hash("destination:mobile", "9111100002")}`;
      expect(await own.get(key)).toBe("1");
    } finally {
      own.disconnect();
    }
  });

  it("refuses at once, as a store failure, while Redis is not connected (fail closed)", async () => {
    const down = new Redis(REDIS_URL as string, { lazyConnect: true, enableOfflineQueue: false });
    try {
      const throttle = new OtpThrottle(SMALL, hasher, { redis: down, keyPrefix: fresh() });
      await expect(throttle.reserve(mobile("9222200001"))).rejects.toBeInstanceOf(ProtectionStoreError);
    } finally {
      down.disconnect();
    }
  });
});
