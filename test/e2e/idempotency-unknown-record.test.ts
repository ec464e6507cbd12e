import { randomUUID } from "node:crypto";
import type Redis from "ioredis";
import { cibilInput, GENERATE_CIBIL_OTP, resultOf } from "../helpers/operations";
import { nextCibilId } from "../helpers/identifiers";
import { connectRedis, deleteKeys, describeWithRedis, uniquePrefix } from "../helpers/redis";
import { startTestStack, type TestStack } from "../helpers/stack";
import { deriveStoreKey, StoreSealer } from "../../src/protection/store-sealer";

/**
 * A rolling update: replicas of two versions share Redis, and one meets an Idempotency-Key's record written by the
 * other in a form it does not know (docs/operations.md "Rolling updates and idempotency records"). The current code
 * must never take such a key as new (a second SMS): the record says its request went ahead. Real server, real Redis
 * (a prefix of its own), records rewritten by hand in forms no version of this code writes today.
 */
const SECRET = "u".repeat(32);

describeWithRedis("an Idempotency-Key record in a form this version does not know (a rolling update)", () => {
  let t: TestStack;
  let redis: Redis;
  const prefix = uniquePrefix();
  // Sealed as the server seals without STORE_ENCRYPTION_KEYS (development: the key derived from HMAC_SECRET).
  const sealer = new StoreSealer([deriveStoreKey(Buffer.from(SECRET, "utf8"))]);

  beforeAll(async () => {
    redis = await connectRedis();
    t = await startTestStack({
      REDIS_URL: process.env.REDIS_URL as string,
      REDIS_KEY_PREFIX: prefix,
      HMAC_SECRET: SECRET,
    });
  });
  afterAll(async () => {
    await t?.stop();
    await deleteKeys(redis, prefix);
    await redis.quit();
  });
  beforeEach(() => t.simulator?.resetCalls());

  /** Sends once under a new key; answers the key, the input, the record's Redis key, and the record as stored. */
  async function sentOnce() {
    const key = randomUUID();
    const variables = cibilInput(nextCibilId());
    const before = new Set(await redis.keys(`${prefix}idem:*`));
    const first = await t.gql(GENERATE_CIBIL_OTP, variables, { "idempotency-key": key });
    expect(resultOf(first.body, "generateCibilOtp").__typename).toBe("CibilOtpChallenge");
    const redisKey = (await redis.keys(`${prefix}idem:*`)).filter((k) => !before.has(k));
    expect(redisKey).toHaveLength(1);
    const record = JSON.parse((await redis.get(redisKey[0])) as string) as Record<string, unknown>;
    expect(record.state).toBe("done");
    return { key, variables, redisKey: redisKey[0], record };
  }
  const repeat = (key: string, variables: ReturnType<typeof cibilInput>) =>
    t.gql(GENERATE_CIBIL_OTP, variables, { "idempotency-key": key });

  it("a result of a type it does not know (another version's member or marker): OUTCOME_UNKNOWN, nothing sent", async () => {
    const { key, variables, redisKey, record } = await sentOnce();
    const hmacKey = redisKey.slice(`${prefix}idem:`.length);
    const fingerprint = record.fingerprint as string;
    // The record opens with the server's key (the test seals as the server does), then holds a type of the future.
    expect(JSON.parse(sealer.open(record.result as string, [hmacKey, fingerprint])).typename).toBe("CibilOtpChallenge");
    const future = { typename: "#kept-v9", data: { note: "written by a newer version" } };
    const rewritten = { ...record, result: sealer.seal(JSON.stringify(future), [hmacKey, fingerprint]) };
    expect(await redis.set(redisKey, JSON.stringify(rewritten), "KEEPTTL")).toBe("OK");

    for (let i = 0; i < 2; i++) {
      const again = await repeat(key, variables);
      expect(resultOf(again.body, "generateCibilOtp")).toMatchObject({
        __typename: "OutcomeUnknown",
        code: "OUTCOME_UNKNOWN",
      });
      expect(again.headers["idempotent-replayed"]).toBe("true");
    }
    expect(t.simulator?.calls()).toBe(1);
    const warned = t.logs
      .records()
      .filter((r) => (r.otpSend as { idempotency?: string } | undefined)?.idempotency === "unknown type");
    expect(warned).toHaveLength(2);
    expect(warned[0]).toMatchObject({ level: "warn", otpSend: { field: "generateCibilOtp", storedType: "#kept-v9" } });
    // The record is left as it is (never freed, never overwritten): a replica of its own version still reads it.
    expect(JSON.parse((await redis.get(redisKey)) as string)).toEqual(rewritten);
  });

  // A record that does not parse (a future encoding, or bytes not ours) is at the key's place all the same: only a
  // request with this key takes it, so its request went ahead, as above. Before, it was a store failure
  // (PROTECTION_UNAVAILABLE: "nothing was sent, try again", a new key a second SMS; OtpProtectionUnavailable paged
  // with Redis healthy, for IDEMPOTENCY_TTL_SECONDS); JSON that is no object (`null`) was a 500.
  it.each([
    ["not JSON (a future encoding)", "v2\u0000binary-record"],
    ["JSON null", "null"],
    ["a JSON array", '["done"]'],
    ["a JSON number", "42"],
  ])("a record that is %s: OUTCOME_UNKNOWN, nothing sent, the record left", async (_what, stored) => {
    const { key, variables, redisKey } = await sentOnce();
    expect(await redis.set(redisKey, stored, "KEEPTTL")).toBe("OK");
    t.logs.clear();
    for (let i = 0; i < 2; i++) {
      const again = await repeat(key, variables);
      expect(again.status).toBe(200);
      expect(resultOf(again.body, "generateCibilOtp")).toMatchObject({
        __typename: "OutcomeUnknown",
        code: "OUTCOME_UNKNOWN",
      });
      expect(again.headers["idempotent-replayed"]).toBe("true");
    }
    expect(t.simulator?.calls()).toBe(1);
    const warned = t.logs.records().filter((r) => r.level === "warn" || r.level === "error");
    expect(
      warned.map((r) => [r.level, r.msg, (r.otpSend as { idempotency?: string } | undefined)?.idempotency]),
    ).toEqual(
      Array(2).fill(["warn", "idempotency record this version cannot read: answered OUTCOME_UNKNOWN", "unreadable"]),
    );
    // Not a line of the record's bytes: they are not ours to log.
    expect(t.logs.text()).not.toContain("binary-record");
    expect(await redis.get(redisKey)).toBe(stored);
  });

  // Each field of a record, in a form no version writes: the record is at the key's place all the same, so its request
  // went ahead, and the repeat is OUTCOME_UNKNOWN, never another answer that invites a send or a wait without end.
  const YEARS_AHEAD = () => Date.now() + 10 * 365 * 86_400_000;
  const without = (record: Record<string, unknown>, field: string) =>
    Object.fromEntries(Object.entries(record).filter(([name]) => name !== field));
  it.each<[string, (record: Record<string, unknown>) => Record<string, unknown>, string]>([
    // Before: IDEMPOTENCY_KEY_REUSED ("other input": a new key for the same input sends again).
    ["a fingerprint that is a number", (r) => ({ ...r, fingerprint: 42 }), "IDEMPOTENCY_KEY_REUSED"],
    ["a fingerprint that is null", (r) => ({ ...r, fingerprint: null }), "IDEMPOTENCY_KEY_REUSED"],
    ["no fingerprint", (r) => without(r, "fingerprint"), "IDEMPOTENCY_KEY_REUSED"],
    // Before: PROTECTION_UNAVAILABLE ("nothing was sent, try again").
    ["a result that is a number", (r) => ({ ...r, result: 42 }), "PROTECTION_UNAVAILABLE"],
    [
      "a result that is an object",
      (r) => ({ ...r, result: { typename: "CibilOtpChallenge" } }),
      "PROTECTION_UNAVAILABLE",
    ],
    // Before: IDEMPOTENCY_IN_FLIGHT, told 2 s for the record's whole life.
    ["`done` and no result", (r) => without(r, "result"), "IDEMPOTENCY_IN_FLIGHT"],
    ["`done` and an empty result", (r) => ({ ...r, result: "" }), "IDEMPOTENCY_IN_FLIGHT"],
    ["`done` and a null result", (r) => ({ ...r, result: null }), "IDEMPOTENCY_IN_FLIGHT"],
    [
      "`pending` until ten years ahead",
      (r) => ({ ...without(r, "result"), state: "pending", pendingUntil: YEARS_AHEAD() }),
      "IDEMPOTENCY_IN_FLIGHT",
    ],
  ])("a record with %s: OUTCOME_UNKNOWN, nothing sent, the record left", async (_what, planted, before) => {
    const { key, variables, redisKey, record } = await sentOnce();
    const stored = JSON.stringify(planted(record));
    expect(await redis.set(redisKey, stored, "KEEPTTL")).toBe("OK");
    const again = await repeat(key, variables);
    // What the old code answered instead, for the commit's record of it.
    expect({ before, answer: resultOf(again.body, "generateCibilOtp") }).toEqual({
      before,
      answer: expect.objectContaining({ __typename: "OutcomeUnknown", code: "OUTCOME_UNKNOWN" }),
    });
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(t.simulator?.calls()).toBe(1);
    expect(await redis.get(redisKey)).toBe(stored);
  });

  // A record that is no string at all (bytes not ours): at the key's place all the same. Before, SET NX GET failed
  // (WRONGTYPE): PROTECTION_UNAVAILABLE, "nothing was sent, try again", for as long as the key lived.
  it.each<[string, (key: string) => Promise<unknown>]>([
    ["a hash", (key) => redis.hset(key, "state", "done")],
    ["a list, ten years to live", (key) => redis.rpush(key, "x").then(() => redis.pexpire(key, 10 * 365 * 86_400_000))],
  ])("a record that is %s: OUTCOME_UNKNOWN, nothing sent, the key left", async (_what, plant) => {
    const { key, variables, redisKey } = await sentOnce();
    await redis.del(redisKey);
    await plant(redisKey);
    const type = await redis.type(redisKey);
    const again = await repeat(key, variables);
    expect(resultOf(again.body, "generateCibilOtp")).toMatchObject({
      __typename: "OutcomeUnknown",
      code: "OUTCOME_UNKNOWN",
    });
    expect(t.simulator?.calls()).toBe(1);
    expect(await redis.type(redisKey)).toBe(type);
    expect(t.logs.text()).toContain("idempotency record this version cannot read");
  });

  it("a record in a state it does not know, without a result: in flight (then OUTCOME_UNKNOWN), nothing sent", async () => {
    const { key, variables, redisKey, record } = await sentOnce();
    const unknownState = { v: 2, state: "kept", fingerprint: record.fingerprint, token: record.token };
    await redis.set(redisKey, JSON.stringify(unknownState), "KEEPTTL");
    const again = await repeat(key, variables);
    expect(resultOf(again.body, "generateCibilOtp")).toMatchObject({ code: "IDEMPOTENCY_IN_FLIGHT" });
    // With a pending time that has passed: abandoned, OUTCOME_UNKNOWN.
    await redis.set(redisKey, JSON.stringify({ ...unknownState, pendingUntil: Date.now() - 1 }), "KEEPTTL");
    const later = await repeat(key, variables);
    expect(resultOf(later.body, "generateCibilOtp")).toMatchObject({ code: "OUTCOME_UNKNOWN" });
    expect(t.simulator?.calls()).toBe(1);
  });

  // The other way: a record in a form every version writes, from a replica whose pending time is longer than this
  // one's (a deploy raising REQUEST_DEADLINE_MS; pending 3 x 120 s) while this one keeps records a short time
  // (IDEMPOTENCY_TTL_SECONDS=60: records live 60 s). Before, its pendingUntil past this replica's own bound (its life
  // plus its pending time, 120 s) read as unreadable: OUTCOME_UNKNOWN for a send under way, which then succeeded.
  it("a pending record of a replica with a longer pending time than this one's life: in flight, then its result", async () => {
    const longer = await startTestStack({
      REDIS_URL: process.env.REDIS_URL as string,
      REDIS_KEY_PREFIX: prefix,
      HMAC_SECRET: SECRET,
      REQUEST_DEADLINE_MS: "120000",
      AOPAY_DEADLINE_MS: "120000",
    });
    const shortLived = await startTestStack({
      REDIS_URL: process.env.REDIS_URL as string,
      REDIS_KEY_PREFIX: prefix,
      HMAC_SECRET: SECRET,
      IDEMPOTENCY_TTL_SECONDS: "60",
    });
    try {
      const key = randomUUID();
      const variables = cibilInput(`${nextCibilId().slice(0, -3)}888`); // the simulator answers after 2 s
      const first = longer.gql(GENERATE_CIBIL_OTP, variables, { "idempotency-key": key });
      // Its record is pending once its call reached the simulator.
      while (longer.simulator?.calls() !== 1) await new Promise((r) => setTimeout(r, 20));
      const during = await shortLived.gql(GENERATE_CIBIL_OTP, variables, { "idempotency-key": key });
      expect(resultOf(during.body, "generateCibilOtp")).toMatchObject({ code: "IDEMPOTENCY_IN_FLIGHT" });
      expect(resultOf((await first).body, "generateCibilOtp").__typename).toBe("CibilOtpChallenge");
      const after = await shortLived.gql(GENERATE_CIBIL_OTP, variables, { "idempotency-key": key });
      expect(resultOf(after.body, "generateCibilOtp").__typename).toBe("CibilOtpChallenge");
      expect(after.headers["idempotent-replayed"]).toBe("true");
      expect([longer.simulator?.calls(), shortLived.simulator?.calls()]).toEqual([1, 0]);
      expect(shortLived.logs.text()).not.toContain("cannot read");
    } finally {
      await shortLived.stop();
      await longer.stop();
    }
  }, 30_000);
});
