import { randomUUID } from "node:crypto";
import type Redis from "ioredis";
import { fixtureJson } from "../helpers/fixtures";
import { type FakeUpstream, json, raw, startFakeUpstream, upstreamEnv } from "../helpers/fake-upstream";
import { cibilInput, GENERATE_CIBIL_OTP, resultOf } from "../helpers/operations";
import { connectRedis, deleteKeys, describeWithRedis, uniquePrefix } from "../helpers/redis";
import { stackPerTest, startTestStack, type TestStack } from "../helpers/stack";

/**
 * A retry hint is the real time until a retry is taken: a client that waits exactly `retryAfterSeconds` is let
 * through, one that comes back a second sooner is refused. Through the server, against a scripted AOPay.
 */
const RESET_MS = 2_500;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("retry hints: the real time until a retry is taken", () => {
  const stacks = stackPerTest(() => ({}));
  let upstream: FakeUpstream;
  beforeEach(async () => {
    upstream = await startFakeUpstream(raw(503, "text/plain", "down", { "retry-after": "1" }));
  });
  afterEach(() => upstream.close());

  const send = async (t: TestStack, cibilId: string) =>
    resultOf((await t.gql(GENERATE_CIBIL_OTP, cibilInput(cibilId))).body, "generateCibilOtp");

  it("the 503 that opens the circuit says the circuit's time, not AOPay's Retry-After: 1 s before it refused, at it sent", async () => {
    const t = await stacks.start({
      ...upstreamEnv(upstream),
      BREAKER_VOLUME_THRESHOLD: "3",
      BREAKER_RESET_MS: String(RESET_MS),
    });
    // The circuit closed: AOPay's own wait (it may take the next call after it).
    for (let i = 0; i < 2; i++)
      expect(await send(t, `15000000${i}`)).toMatchObject({
        __typename: "UpstreamUnavailable",
        retryAfterSeconds: 1,
      });
    // The third opens the circuit for RESET_MS: told AOPay's 1 s before, and refused CIRCUIT_OPEN after it.
    const opening = await send(t, "150000002");
    const toldAt = Date.now();
    expect(opening).toMatchObject({
      __typename: "UpstreamUnavailable",
      retryable: true,
      retryAfterSeconds: Math.ceil(RESET_MS / 1000),
    });
    upstream.respond(json(200, fixtureJson("cibil/generate-otp.success")));
    const hintMs = (opening.retryAfterSeconds as number) * 1000;
    await sleep(toldAt + hintMs - 1_000 - Date.now());
    expect(await send(t, "150000003")).toMatchObject({ __typename: "UpstreamUnavailable", retryAfterSeconds: 1 });
    expect(upstream.calls).toHaveLength(3);
    await sleep(toldAt + hintMs - Date.now());
    expect((await send(t, "150000004")).__typename).toBe("CibilOtpChallenge");
    expect(upstream.calls).toHaveLength(4);
  }, 15_000);
});

/**
 * An Idempotency-Key whose request is gone (its replica died with the record pending): the record answers
 * IDEMPOTENCY_IN_FLIGHT until its pending time ends (60 s with the default deadlines of 10 s), then OUTCOME_UNKNOWN.
 * Told 2 s, a client asked every 2 s for up to a minute and met the same answer each time. The record is planted as
 * such a replica leaves it, over a key sent once; the server reads it with the one command it always sends.
 */
describeWithRedis("retry hints: an Idempotency-Key whose request is gone (Redis)", () => {
  const prefix = uniquePrefix();
  const PENDING_MS = 60_000;
  let redis: Redis;
  let upstream: FakeUpstream;
  let t: TestStack;
  beforeAll(async () => {
    redis = await connectRedis();
    upstream = await startFakeUpstream(json(200, fixtureJson("cibil/generate-otp.success")));
    t = await startTestStack({
      ...upstreamEnv(upstream),
      REDIS_URL: process.env.REDIS_URL as string,
      REDIS_KEY_PREFIX: prefix,
      HMAC_SECRET: "h".repeat(32),
    });
  });
  afterAll(async () => {
    await t?.stop();
    await upstream?.close();
    await deleteKeys(redis, prefix);
    await redis.quit();
  });

  let cibil = 160_000_000;
  /**
   * A key sent once, its record then rewritten as pending for `pendingForMs` more, under another request's token: a
   * replica's that took it PENDING_MS - pendingForMs ago and died. `repeat` sends the key again.
   */
  async function pendingKey(pendingForMs: number) {
    return plantedKey(String(Date.now() + pendingForMs));
  }

  /** As pendingKey, its record's pendingUntil written as `pendingUntil` (JSON text). */
  async function plantedKey(pendingUntil: string) {
    const key = randomUUID();
    const variables = cibilInput(String(cibil++));
    const repeat = async () =>
      resultOf((await t.gql(GENERATE_CIBIL_OTP, variables, { "idempotency-key": key })).body, "generateCibilOtp");
    const before = new Set(await redis.keys(`${prefix}idem:*`));
    expect((await repeat()).__typename).toBe("CibilOtpChallenge");
    const [redisKey] = (await redis.keys(`${prefix}idem:*`)).filter((k) => !before.has(k));
    const { fingerprint } = JSON.parse((await redis.get(redisKey)) as string) as { fingerprint: string };
    const pending = { state: "pending", fingerprint, token: "a-replica-gone" };
    const text = `${JSON.stringify(pending).slice(0, -1)},"pendingUntil":${pendingUntil}}`;
    expect(await redis.set(redisKey, text, "KEEPTTL")).toBe("OK");
    return repeat;
  }

  it("taken longer ago than a request runs: told the time until it turns (40 s left: 39-40), not 2", async () => {
    const calls = upstream.calls.length;
    const told = await (await pendingKey(40_000))();
    expect(told).toMatchObject({ __typename: "IdempotencyConflict", code: "IDEMPOTENCY_IN_FLIGHT", retryable: true });
    expect(told.retryAfterSeconds).toBeGreaterThanOrEqual(39);
    expect(told.retryAfterSeconds).toBeLessThanOrEqual(40);
    // Taken 5 s ago: its request may still run, and answer any moment: about one upstream call.
    expect(await (await pendingKey(PENDING_MS - 5_000))()).toMatchObject({
      __typename: "IdempotencyConflict",
      retryAfterSeconds: 2,
    });
    // Sent once each, never again.
    expect(upstream.calls.length).toBe(calls + 2);
  });

  it("a pendingUntil that is no finite number (bytes not ours, a future encoding): OUTCOME_UNKNOWN, never a NaN hint", async () => {
    // JSON.parse reads 1e400 as Infinity: told 2 s for the record's whole life (24 h); a string or an object was
    // compared as neither passed nor not, and its hint was NaN (retryAfterSeconds null, or the answer an error).
    const calls = upstream.calls.length;
    for (const pendingUntil of ['"soon"', "{}", "[1]", "1e400", "-1e400", "true", `"${Date.now() + 40_000}"`, "null"]) {
      const answer = await (await plantedKey(pendingUntil))();
      expect({ pendingUntil, answer }).toEqual({
        pendingUntil,
        answer: expect.objectContaining({ __typename: "OutcomeUnknown", code: "OUTCOME_UNKNOWN" }),
      });
    }
    expect(upstream.calls.length).toBe(calls + 8);
  });

  it("a repeat 1 s before the hint is still in flight, one at the hint is answered OUTCOME_UNKNOWN", async () => {
    const calls = upstream.calls.length;
    const repeat = await pendingKey(2_500);
    const told = await repeat();
    const toldAt = Date.now();
    expect(told).toMatchObject({ __typename: "IdempotencyConflict", code: "IDEMPOTENCY_IN_FLIGHT" });
    expect([2, 3]).toContain(told.retryAfterSeconds);
    const hintMs = (told.retryAfterSeconds as number) * 1000;
    await sleep(toldAt + hintMs - 1_000 - Date.now());
    expect(await repeat()).toMatchObject({ __typename: "IdempotencyConflict", retryAfterSeconds: 1 });
    await sleep(toldAt + hintMs - Date.now());
    expect(await repeat()).toMatchObject({ __typename: "OutcomeUnknown", code: "OUTCOME_UNKNOWN" });
    expect(upstream.calls.length).toBe(calls + 1);
  }, 15_000);
});
