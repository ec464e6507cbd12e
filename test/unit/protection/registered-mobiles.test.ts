import Redis from "ioredis";
import { ProtectionStoreError } from "../../../src/protection/errors";
import { KeyHasher } from "../../../src/protection/key-hasher";
import { MemoryStoreFullError } from "../../../src/protection/memory-counters";
import { DEFAULT_CIBIL_REGISTERED_MOBILE_TTL_SECONDS } from "../../../src/protection/protection.settings";
import {
  MemoryRegisteredMobileStore,
  REGISTERED_MOBILE_DIMENSION,
  RedisRegisteredMobileStore,
} from "../../../src/protection/registered-mobiles";
import { deriveStoreKey, StoreSealer } from "../../../src/protection/store-sealer";
import { connectRedis, deleteKeys, describeWithRedis, dumpKeys, uniquePrefix } from "../../helpers/redis";

const hasher = new KeyHasher(Buffer.from("m".repeat(32)));
const sealer = new StoreSealer([deriveStoreKey(Buffer.from("m".repeat(32)))]);
const CIBIL = "760191459";
const MOBILE = "9876512345";
const DAY = 86_400_000;

describe("MemoryRegisteredMobileStore (CIBIL id → the mobile its OTPs go to)", () => {
  function store(options: { maxKeys?: number; ttlMs?: number } = {}) {
    let now = 1_750_000_000_000;
    const full: number[] = [];
    const s = new MemoryRegisteredMobileStore(hasher, sealer, {
      maxKeys: options.maxKeys ?? 10,
      ttlMs: options.ttlMs ?? 90 * DAY,
      now: () => now,
      onFull: () => full.push(now),
    });
    return { s, full, advance: (ms: number) => (now += ms) };
  }

  it("round trip: remembered, recalled; an unknown CIBIL id recalls nothing", async () => {
    const { s } = store();
    await s.remember(CIBIL, MOBILE);
    expect(s.recall(CIBIL)).toBe(MOBILE);
    expect(s.recall("760191460")).toBeUndefined();
  });

  it("a later registration of the same CIBIL id replaces the mobile (one record per id)", async () => {
    const { s } = store();
    await s.remember(CIBIL, MOBILE);
    await s.remember(CIBIL, "9123456780");
    expect(s.recall(CIBIL)).toBe("9123456780");
    expect(s.size).toBe(1);
  });

  it("expires after its TTL (90 days by default)", async () => {
    expect(DEFAULT_CIBIL_REGISTERED_MOBILE_TTL_SECONDS).toBe(90 * 86_400);
    const { s, advance } = store({ ttlMs: 90 * DAY });
    await s.remember(CIBIL, MOBILE);
    advance(90 * DAY - 1);
    expect(s.recall(CIBIL)).toBe(MOBILE);
    advance(1);
    expect(s.recall(CIBIL)).toBeUndefined();
  });

  it("bounded: full, `ready` refuses (the registration is refused before anything is sent) and live records stay", async () => {
    const { s, full, advance } = store({ maxKeys: 2, ttlMs: DAY });
    s.ready();
    await s.remember("1", MOBILE);
    await s.remember("2", MOBILE);
    expect(() => s.ready()).toThrow(MemoryStoreFullError);
    // A record that could not be kept (the table filled while the registration was upstream) is an error.
    await expect(s.remember("3", MOBILE)).rejects.toThrow(MemoryStoreFullError);
    expect(full.length).toBeGreaterThan(0);
    expect(s.recall("1")).toBe(MOBILE);
    expect(s.recall("3")).toBeUndefined();
    // Once records expire there is room again.
    advance(DAY + 2_000);
    expect(() => s.ready()).not.toThrow();
    await s.remember("3", MOBILE);
    expect(s.recall("3")).toBe(MOBILE);
  });
});

describeWithRedis("RedisRegisteredMobileStore (real Redis at REDIS_URL)", () => {
  let redis: Redis;
  const prefix = uniquePrefix();
  beforeAll(async () => {
    redis = await connectRedis();
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    await redis.quit();
  });

  it("round trip; the key is <prefix>regmobile:<HMAC>, the value sealed: neither the id nor the mobile in clear", async () => {
    const s = new RedisRegisteredMobileStore(redis, prefix, hasher, sealer, 90 * DAY);
    await s.ready();
    await s.remember(CIBIL, MOBILE);
    expect(await s.recall(CIBIL)).toBe(MOBILE);
    expect(await s.recall("760191460")).toBeUndefined();
    const rows = await dumpKeys(redis, `${prefix}regmobile:`);
    expect(rows).toHaveLength(1);
    expect(rows[0].key).toBe(`${prefix}regmobile:${hasher.hash(REGISTERED_MOBILE_DIMENSION, CIBIL)}`);
    expect(rows[0].value).toMatch(/^s1\./);
    for (const text of [rows[0].key, rows[0].value]) {
      expect(text).not.toContain(CIBIL);
      expect(text).not.toContain(MOBILE);
    }
    const ttl = await redis.pttl(rows[0].key);
    expect(ttl).toBeGreaterThan(90 * DAY - 60_000);
    expect(ttl).toBeLessThanOrEqual(90 * DAY);
  });

  // What is at rest is what can be tampered with: the in-memory store opens its values through the same function.
  it("a tampered or moved value does not open: a store error (the send is refused), never a wrong or missing mobile", async () => {
    const s = new RedisRegisteredMobileStore(redis, prefix, hasher, sealer, DAY);
    await s.remember("111", MOBILE);
    // Another id's sealed value copied under this id's key: the AAD binds it to its own key.
    await redis.set(s.redisKey("222"), (await redis.get(s.redisKey("111"))) as string);
    await expect(s.recall("222")).rejects.toThrow(ProtectionStoreError);
    // A flipped ciphertext byte.
    await s.remember(CIBIL, MOBILE);
    const sealed = (await redis.get(s.redisKey(CIBIL))) as string;
    const parts = sealed.split(".");
    parts[4] = Buffer.from(Buffer.from(parts[4], "base64url").map((b, i) => (i === 0 ? b ^ 1 : b))).toString(
      "base64url",
    );
    await redis.set(s.redisKey(CIBIL), parts.join("."));
    await expect(s.recall(CIBIL)).rejects.toThrow(/registered mobile: shared state unavailable/);
    // Not sealed at all.
    await redis.set(s.redisKey(CIBIL), MOBILE);
    await expect(s.recall(CIBIL)).rejects.toThrow(ProtectionStoreError);
    // Sealed again as it was: it opens.
    await redis.set(s.redisKey(CIBIL), sealed);
    expect(await s.recall(CIBIL)).toBe(MOBILE);
  });

  it("Redis gone: ready, remember and recall throw ProtectionStoreError (fail closed)", async () => {
    const dead = new Redis({ port: 1, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
    const s = new RedisRegisteredMobileStore(dead, prefix, hasher, sealer, DAY);
    await expect(s.ready()).rejects.toThrow(ProtectionStoreError);
    await expect(s.remember(CIBIL, MOBILE)).rejects.toThrow(ProtectionStoreError);
    await expect(s.recall(CIBIL)).rejects.toThrow(ProtectionStoreError);
    dead.disconnect();
  });
});
