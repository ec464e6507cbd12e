import type Redis from "ioredis";
import { createLogger } from "../../src/logging/logger";
import {
  CONSENT_REVOKE_MS,
  CONSENT_REVOKED,
  type ConsentStore,
  HeldConsentStore,
  RedisConsentStore,
} from "../../src/protection/consent-store";
import { ProtectionStoreError } from "../../src/protection/errors";
import { LogCapture } from "../helpers/log-capture";
import { connectRedis, deleteKeys, describeWithRedis, uniquePrefix } from "../helpers/redis";

/**
 * An operator's revoke of a CIBIL consent: a DEL of its key in Redis (docs/operations.md "Revoking a consent"). What
 * Redis holds is revoked for every replica at once: no process keeps a copy of a consent Redis took. A grant Redis
 * refused is held by the process that verified it (HeldConsentStore) and written again in the background: it is not
 * in Redis, so a DEL does not reach it, and its retry writes it afterwards. The procedure therefore ends the hold first
 * (a restart of that process: close() stops its retry), then deletes. Each step here against the Redis at REDIS_URL.
 */
const TTL_MS = 600_000;

/** A real RedisConsentStore whose first `refusals` grants are refused, as a full or unreachable Redis refuses them. */
function refusingFirst(store: RedisConsentStore, refusals: number): ConsentStore {
  let left = refusals;
  return {
    grant: (key, ttlMs) => {
      if (left-- > 0) return Promise.reject(new ProtectionStoreError("consent", new Error("OOM (test)")));
      return store.grant(key, ttlMs);
    },
    has: (key) => store.has(key),
    read: (key) => store.read(key),
    grantNoShorter: (key, ttlMs) => store.grantNoShorter(key, ttlMs),
  };
}

describeWithRedis("revoking a consent (DEL of its key)", () => {
  let redis: Redis;
  let prefix: string;
  const log = createLogger({ level: "fatal", destination: new LogCapture() });
  const held = (store: ConsentStore) =>
    new HeldConsentStore(store, log, { retryMs: 60_000, unrecorded: () => undefined });
  beforeAll(async () => {
    redis = await connectRedis();
  });
  beforeEach(() => {
    prefix = uniquePrefix();
  });
  afterEach(async () => deleteKeys(redis, prefix));
  afterAll(async () => redis.quit());

  it("a consent Redis took: revoked at once for this process and every other (none holds a copy)", async () => {
    const here = held(new RedisConsentStore(redis, prefix));
    const other = held(new RedisConsentStore(redis, prefix));
    await here.grant("written", TTL_MS);
    expect([await here.has("written"), await other.has("written")]).toEqual([true, true]);
    expect(await redis.del(`${prefix}consent:written`)).toBe(1);
    expect([await here.has("written"), await other.has("written")]).toEqual([false, false]);
    here.close();
    other.close();
  });

  it("a held grant written on retry: a DEL after it lands revokes it as any other", async () => {
    const here = held(refusingFirst(new RedisConsentStore(redis, prefix), 1));
    await here.grant("late", TTL_MS);
    // The first retry after 200 ms (store-failure.ts STORE_RETRY_FIRST_MS) writes it; the hold is dropped then.
    await waitUntil(async () => (await redis.exists(`${prefix}consent:late`)) === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(await redis.del(`${prefix}consent:late`)).toBe(1);
    expect(await here.has("late")).toBe(false);
    here.close();
  });

  it("a held grant not yet written: a DEL alone does not reach it, its retry writes it after; closed first, it stays revoked", async () => {
    const store = new RedisConsentStore(redis, prefix);
    const here = held(refusingFirst(store, 1));
    await here.grant("held", TTL_MS);
    // The DEL comes before the retry's write: nothing to delete, this process answers from its hold, and the write
    // lands after it.
    expect(await redis.del(`${prefix}consent:held`)).toBe(0);
    expect(await here.has("held")).toBe(true);
    await waitUntil(async () => (await redis.exists(`${prefix}consent:held`)) === 1);
    here.close();
    // The procedure: the hold ended first (the process restarted: close() stops the retry), then the DEL.
    const restarted = held(refusingFirst(store, 1));
    await restarted.grant("held-2", TTL_MS);
    restarted.close();
    expect(await redis.del(`${prefix}consent:held`)).toBe(1);
    await new Promise((r) => setTimeout(r, 600));
    expect(await redis.exists(`${prefix}consent:held-2`, `${prefix}consent:held`)).toBe(0);
    const after = held(store);
    expect([await after.has("held"), await after.has("held-2")]).toEqual([false, false]);
    after.close();
  });

  it("a held grant not yet written: a revoke mark at its key ends the hold, its retry does not write over the mark", async () => {
    const store = new RedisConsentStore(redis, prefix);
    const here = held(refusingFirst(store, 1));
    const other = held(store);
    await here.grant("marked", TTL_MS);
    expect(await here.has("marked")).toBe(true);
    // The operator's revoke (docs/operations.md "Revoking a consent"): the mark, for the longest consent and a minute.
    expect(await redis.set(`${prefix}consent:marked`, CONSENT_REVOKED, "PX", CONSENT_REVOKE_MS)).toBe("OK");
    expect([await here.has("marked"), await other.has("marked")]).toEqual([false, false]);
    // Past the first retries (200 ms, then 400 ms): the mark stands, nothing written over it.
    await new Promise((r) => setTimeout(r, 800));
    expect(await redis.get(`${prefix}consent:marked`)).toBe(CONSENT_REVOKED);
    expect([await here.has("marked"), await other.has("marked")]).toEqual([false, false]);
    here.close();
  });

  it("a held grant whose retry meets the mark first: not written, and its hold ends", async () => {
    const store = new RedisConsentStore(redis, prefix);
    const here = held(refusingFirst(store, 1));
    await here.grant("raced", TTL_MS);
    await redis.set(`${prefix}consent:raced`, CONSENT_REVOKED, "PX", CONSENT_REVOKE_MS);
    await new Promise((r) => setTimeout(r, 600));
    expect(await redis.get(`${prefix}consent:raced`)).toBe(CONSENT_REVOKED);
    // Asked after the retry met the mark: the hold is gone whether or not this read asks Redis.
    expect(await here.has("raced")).toBe(false);
    here.close();
  });

  // A mark written by hand slightly wrong, or anything else no grant writes at a consent's key: the server writes only
  // `1` there, so whatever else an operator (or anyone) put at the key is read as a mark, failing closed. Before, a
  // read not held refused them, but a held grant kept being served and its retry wrote its consent over them.
  it("a mark spelled otherwise (Revoked, a trailing space, no PX, other text, another type): held grants end, none written over", async () => {
    const store = new RedisConsentStore(redis, prefix);
    const key = (name: string) => `${prefix}consent:${name}`;
    const marks: [string, () => Promise<unknown>][] = [
      ["capital", () => redis.set(key("capital"), "Revoked", "PX", CONSENT_REVOKE_MS)],
      ["upper", () => redis.set(key("upper"), "REVOKED", "PX", CONSENT_REVOKE_MS)],
      ["space", () => redis.set(key("space"), "revoked ", "PX", CONSENT_REVOKE_MS)],
      ["no-px", () => redis.set(key("no-px"), CONSENT_REVOKED)],
      ["empty", () => redis.set(key("empty"), "", "PX", CONSENT_REVOKE_MS)],
      ["hash", () => redis.hset(key("hash"), "revoked", "1")],
    ];
    const stores = marks.map(() => held(refusingFirst(store, 1)));
    const other = held(store);
    await Promise.all(marks.map(([name], i) => stores[i].grant(name, TTL_MS)));
    for (const [, mark] of marks) await mark();
    // Read before any retry (the first after 200 ms): each hold ends at what it finds.
    const reads = await Promise.all(marks.map(async ([name], i) => [name, await stores[i].has(name)]));
    expect(reads).toEqual(marks.map(([name]) => [name, false]));
    await new Promise((r) => setTimeout(r, 800));
    for (const [name] of marks) {
      expect([name, await redis.type(key(name)), await redis.get(key(name)).catch(() => "not a string")]).not.toEqual([
        name,
        "string",
        "1",
      ]);
      expect([name, await other.has(name)]).toEqual([name, false]);
    }
    for (const here of [...stores, other]) here.close();
  });

  it("a mark spelled otherwise that a held grant's retry meets first: not written over, the hold ends", async () => {
    const store = new RedisConsentStore(redis, prefix);
    const here = held(refusingFirst(store, 1));
    await here.grant("retried", TTL_MS);
    await redis.set(`${prefix}consent:retried`, "Revoked", "PX", CONSENT_REVOKE_MS);
    await new Promise((r) => setTimeout(r, 600));
    expect(await redis.get(`${prefix}consent:retried`)).toBe("Revoked");
    expect(await here.has("retried")).toBe(false);
    here.close();
  });

  it("a customer who verifies again after a revoke: the new grant writes over the mark", async () => {
    const here = held(new RedisConsentStore(redis, prefix));
    await redis.set(`${prefix}consent:again`, CONSENT_REVOKED, "PX", CONSENT_REVOKE_MS);
    expect(await here.has("again")).toBe(false);
    await here.grant("again", TTL_MS);
    expect(await here.has("again")).toBe(true);
    expect(await redis.get(`${prefix}consent:again`)).toBe("1");
    here.close();
  });
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 3_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}
