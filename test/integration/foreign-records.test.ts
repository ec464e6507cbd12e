import type Redis from "ioredis";
import { RedisConsentStore } from "../../src/protection/consent-store";
import { ProtectionStoreError } from "../../src/protection/errors";
import { RedisIdempotencyStore } from "../../src/protection/idempotency-store";
import { KeyHasher } from "../../src/protection/key-hasher";
import { RedisRegisteredMobileStore } from "../../src/protection/redis-registered-mobiles";
import {
  LONGEST_SEND_MARK_TTL_MS,
  recordKey,
  REGISTERED_PAN_DIMENSION,
  tokenLinkKey,
} from "../../src/protection/registered-mobiles";
import { deriveStoreKey, StoreSealer } from "../../src/protection/store-sealer";
import { createLogger } from "../../src/logging/logger";
import { refuseForStoreFailure } from "../../src/protection/store-failure";
import { LogCapture } from "../helpers/log-capture";
import { connectRedis, deleteKeys, describeWithRedis, uniquePrefix } from "../helpers/redis";

/**
 * Every store, every Redis type no version writes where it keeps a record (a hash, a list, a set, a sorted set, a
 * stream), read by its TypeScript path and by its script's: never "no record" where that lets an OTP go out.
 * - Registered mobiles (`regmobiles:`, `regmobile:`, `regtoken:`, `regpan:`): refused, ProtectionStoreError with a
 *   ForeignRecordError naming the kind of key (PROTECTION_UNAVAILABLE, an error line). Before, each read as none: a
 *   send went out with the id's mobiles unbudgeted, a registration went as a first one.
 * - Idempotency (`idem:`): `unreadable` (OUTCOME_UNKNOWN: a record there says a request with the key went ahead).
 * - Consent (`consent:`): no consent (CONSENT_REQUIRED): its absence is the refusal.
 */
const TYPES: Array<[string, (redis: Redis, key: string) => Promise<unknown>]> = [
  ["a hash", (r, k) => r.hset(k, "n", "1")],
  ["a list", (r, k) => r.rpush(k, "1")],
  ["a set", (r, k) => r.sadd(k, "1")],
  ["a sorted set", (r, k) => r.zadd(k, 1, "1")],
  ["a stream", (r, k) => r.xadd(k, "*", "n", "1")],
];

describeWithRedis("bytes of another type where a record is kept, every store (real Redis at REDIS_URL)", () => {
  let redis: Redis;
  const prefix = uniquePrefix();
  const [current, previous] = [new KeyHasher(Buffer.from("c".repeat(32))), new KeyHasher(Buffer.from("p".repeat(32)))];
  const sealer = new StoreSealer([deriveStoreKey(Buffer.from("c".repeat(32)))]);
  const MOBILE = "9123400501";
  let n = 0;
  /** A CIBIL id and a PAN of their own per test. */
  const fresh = () => {
    n++;
    return { id: `70000005${String(n).padStart(2, "0")}`, pan: `ABCPE${String(5000 + n)}F` };
  };
  const store = (previousHashers: KeyHasher[] = []) =>
    new RedisRegisteredMobileStore(redis, prefix, current, sealer, 60_000, previousHashers);
  const foreign = (kind: string) => ({ cause: { name: "ForeignRecordError", kind } });
  beforeAll(async () => {
    redis = await connectRedis();
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    await redis.quit();
  });

  describe.each(TYPES)("%s", (_, plant) => {
    it("at a CIBIL id's record (regmobiles:): refused by recall (TS), a send (SENDING) and a registration (TS)", async () => {
      const { id, pan } = fresh();
      const s = store();
      await s.remember(id, MOBILE, pan);
      await redis.del(s.redisKey(id));
      await plant(redis, s.redisKey(id));
      await expect(s.recall(id)).rejects.toMatchObject(foreign("regmobiles:"));
      await expect(s.sending(id)).rejects.toMatchObject(foreign("regmobiles:"));
      await expect(s.registering(pan, "9123400502")).rejects.toMatchObject(foreign("regmobiles:"));
      // The refused send left no mark (its registrations are not held up by it).
      expect(await redis.exists(`${prefix}regsends:${recordKey(current, id)}`)).toBe(0);
    });

    it("at an earlier version's record (regmobile:): refused by recall (TS) and a send (SENDING)", async () => {
      const { id, pan } = fresh();
      const s = store();
      await s.remember(id, MOBILE, pan);
      await plant(redis, s.legacyRedisKey(id));
      await expect(s.recall(id)).rejects.toMatchObject(foreign("regmobile:"));
      await expect(s.sending(id)).rejects.toMatchObject(foreign("regmobile:"));
    });

    it("at the record under a previous secret: refused by recall and a send (TS, READ_RECORDS)", async () => {
      const { id } = fresh();
      const old = new RedisRegisteredMobileStore(redis, prefix, previous, sealer, 60_000);
      await plant(redis, old.redisKey(id));
      const s = store([previous]);
      await expect(s.recall(id)).rejects.toMatchObject(foreign("regmobiles:"));
      await expect(s.sending(id)).rejects.toMatchObject(foreign("regmobiles:"));
    });

    it("at a token's link (regtoken:): refused by a send naming the token, current secret (SENDING) or previous (TS)", async () => {
      const { id, pan } = fresh();
      const s = store();
      await s.remember(id, MOBILE, pan);
      await plant(redis, `${prefix}regtoken:${tokenLinkKey(current, `tok-${id}`)}`);
      await expect(s.sending(id, `tok-${id}`)).rejects.toMatchObject(foreign("regtoken:"));
      await plant(redis, `${prefix}regtoken:${tokenLinkKey(previous, `tok-old-${id}`)}`);
      await expect(store([previous]).sending(id, `tok-old-${id}`)).rejects.toMatchObject(foreign("regtoken:"));
      // Without the token, the send reads the id's record only: it goes.
      expect(await s.sending(id)).toEqual([MOBILE]);
      await s.sent(id);
    });

    it("at a PAN's link (regpan:): refused by a registration (TS) and by HOLD_FIRST (Lua)", async () => {
      const { pan } = fresh();
      const s = store();
      const link = `${prefix}regpan:${current.hash(REGISTERED_PAN_DIMENSION, pan)}`;
      await plant(redis, link);
      await expect(s.registering(pan, MOBILE, "first")).rejects.toMatchObject(foreign("regpan:"));
      await expect(s.registering(pan, MOBILE)).rejects.toThrow(ProtectionStoreError);
      const hold = `${prefix}regfirst:${current.hash(REGISTERED_PAN_DIMENSION, pan)}`;
      const holdFirst = (redis as unknown as Record<string, (...a: unknown[]) => Promise<unknown[]>>)
        .aopayRegisteredMobilesHoldFirst;
      expect(await holdFirst.call(redis, 2, link, hold, "first", 60_000, LONGEST_SEND_MARK_TTL_MS)).toEqual([3, ""]);
      expect(await redis.exists(hold)).toBe(0);
    });

    it("at an idempotency record (idem:): unreadable, by SET NX GET (TS) and across secrets (BEGIN_ACROSS_LUA)", async () => {
      const s = new RedisIdempotencyStore(redis, prefix, sealer);
      const key = `k-${n++}`;
      await plant(redis, `${prefix}idem:${key}`);
      expect(await s.begin(key, "fp", 60_000)).toEqual({ kind: "unreadable" });
      expect(await s.begin(`${key}-new`, "fp", 60_000, 60_000, undefined, [{ key, fingerprint: "fp" }])).toEqual({
        kind: "unreadable",
      });
      // Completing or releasing another's record changes nothing (HOLDER_LUA: '' is another's).
      expect(await s.complete(key, "tok", "fp", { typename: "T", data: {} }, 60_000)).toBe("superseded");
      await s.release(key, "tok");
      expect(await redis.exists(`${prefix}idem:${key}`)).toBe(1);
    });

    it("at a consent (consent:): no consent (HAS_CONSENT), the credit report refused", async () => {
      const s = new RedisConsentStore(redis, prefix);
      const key = `c-${n++}`;
      await plant(redis, `${prefix}consent:${key}`);
      expect(await s.has(key)).toBe(false);
    });
  });

  // An empty string at a record: refused by a send as by `recall` (a record that does not open). Before, the send's
  // `sealed[0] || null` read it as none, and the send went out with the id's mobiles unbudgeted.
  it("an empty string at a CIBIL id's record or a token's link: refused by a send as by recall", async () => {
    const { id, pan } = fresh();
    const s = store();
    await s.remember(id, MOBILE, pan, undefined, `tok-${id}`);
    await redis.set(`${prefix}regtoken:${tokenLinkKey(current, `tok-${id}`)}`, "");
    await expect(s.sending(id, `tok-${id}`)).rejects.toThrow(ProtectionStoreError);
    await redis.set(s.redisKey(id), "");
    await expect(s.recall(id)).rejects.toThrow(ProtectionStoreError);
    await expect(s.sending(id)).rejects.toThrow(ProtectionStoreError);
  });

  // The operator's line: the store-failure error line (send-guard.ts, through refuseForStoreFailure) says which kind of
  // key holds bytes not ours, and names neither the key (an HMAC of the CIBIL id) nor the id, the PAN or the value.
  it("the refusal's error line names the kind of key, never the key, the id or the value", async () => {
    const { id, pan } = fresh();
    const s = store();
    await s.remember(id, MOBILE, pan);
    await redis.del(s.redisKey(id));
    await redis.hset(s.redisKey(id), "mobile", MOBILE);
    const error = await s.sending(id).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ProtectionStoreError);
    const capture = new LogCapture();
    const log = createLogger({ level: "info", destination: capture });
    const kind = refuseForStoreFailure(error as ProtectionStoreError, {
      field: "generateCibilOtp",
      reason: "otp send",
      log,
      message: "otp send refused: protection store unavailable",
    });
    expect(kind).toBe("unavailable");
    const [line] = capture.records();
    expect((line.err as { message: string }).message).toBe(
      "registered mobile: shared state unavailable: stored value is no record this service writes: another Redis " +
        "type or shape at a regmobiles: key",
    );
    const text = capture.raw();
    for (const secret of [id, pan, MOBILE, recordKey(current, id)]) expect(text).not.toContain(secret);
  });
});
