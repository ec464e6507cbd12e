import Redis from "ioredis";
import { createLogger } from "../../src/logging/logger";
import { consentKey, hasConsent } from "../../src/protection/consent";
import {
  CONSENT_REVOKE_MS,
  CONSENT_REVOKED,
  type ConsentStore,
  HeldConsentStore,
  RedisConsentStore,
} from "../../src/protection/consent-store";
import { ProtectionStoreError } from "../../src/protection/errors";
import { KeyHasher } from "../../src/protection/key-hasher";
import { REDIS_CLIENT_OPTIONS, timeCommands } from "../../src/protection/redis";
import { LogCapture } from "../helpers/log-capture";
import { refusingFirst } from "../helpers/refusing-consent";
import { REDIS_URL, connectRedis, deleteKeys, describeWithRedis, uniquePrefix } from "../helpers/redis";
import { type RedisProxy, startRedisProxy } from "../helpers/redis-proxy";

/**
 * An operator's revoke of a CIBIL consent: a DEL of its key in Redis (docs/operations.md "Revoking a consent"). What
 * Redis holds is revoked for every replica at once: no process keeps a copy of a consent Redis took. A grant Redis
 * refused is held by the process that verified it (HeldConsentStore) and written again in the background: it is not
 * in Redis, so a DEL does not reach it, and its retry writes it afterwards. The procedure therefore ends the hold first
 * (a restart of that process: close() stops its retry), then deletes. Each step here against the Redis at REDIS_URL.
 */
const TTL_MS = 600_000;

/** The marks an operator may type (the documented one, spelled otherwise, another type): each fails closed. */
const MARKS: [string, (redis: Redis, key: string) => Promise<unknown>][] = [
  ["revoked", (redis, key) => redis.set(key, CONSENT_REVOKED, "PX", CONSENT_REVOKE_MS)],
  ["Revoked", (redis, key) => redis.set(key, "Revoked", "PX", CONSENT_REVOKE_MS)],
  ["no PX", (redis, key) => redis.set(key, CONSENT_REVOKED)],
  ["a hash", (redis, key) => redis.hset(key, "revoked", "1")],
];

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

  // Before, the new grant's SET wrote over the mark: a grant landing after it (the customer verifying at the moment of
  // the revoke, a delayed write) undid the revoke (test/integration/redis-consent-revoke.test.ts).
  it("a customer who verifies again after a revoke: the mark stands until its PX or an operator's DEL", async () => {
    const here = held(new RedisConsentStore(redis, prefix));
    await redis.set(`${prefix}consent:again`, CONSENT_REVOKED, "PX", CONSENT_REVOKE_MS);
    expect(await here.has("again")).toBe(false);
    expect(await here.grant("again", TTL_MS)).toBe("revoked");
    expect(await here.has("again")).toBe(false);
    expect(await redis.get(`${prefix}consent:again`)).toBe(CONSENT_REVOKED);
    // The operator lifts the revoke: the customer's next verification is consent again.
    expect(await redis.del(`${prefix}consent:again`)).toBe(1);
    expect(await here.grant("again", TTL_MS)).toBeUndefined();
    expect(await here.has("again")).toBe(true);
    here.close();
  });

  // docs/operations.md "Revoking a consent": a DEL lifting the mark. A hold learns of the mark only when it reads it
  // (a credit-report read on its process) or when its retry meets it; a hold whose retry gave up (Redis refused every
  // write for CIBIL_REGISTERED_MOBILE_RETRY_SECONDS: the `could not record CIBIL consent in Redis` line) still answers
  // for its consent's time, and if no read met the mark the DEL gives it back, the customer not having verified again.
  // Hence the documented order: restart the processes that logged that line, then the DEL.
  it("a hold whose retry gave up and that never read the mark: the mark's DEL gives it back; restarted first, not", async () => {
    const store = new RedisConsentStore(redis, prefix);
    const key = `${prefix}consent:given-up`;
    const refusing: ConsentStore = {
      grant: () => Promise.reject(new ProtectionStoreError("consent", new Error("OOM (test)"))),
      grantNoShorter: () => Promise.reject(new ProtectionStoreError("consent", new Error("OOM (test)"))),
      has: (key) => store.has(key),
      read: (key) => store.read(key),
    };
    let unrecorded = 0;
    const options = { retryMs: 300, unrecorded: () => void unrecorded++ };
    const here = new HeldConsentStore(refusing, log, options);
    await here.grant("given-up", TTL_MS);
    await waitUntil(async () => unrecorded === 1);
    await redis.set(key, CONSENT_REVOKED, "PX", CONSENT_REVOKE_MS);
    expect(await redis.del(key)).toBe(1);
    expect(await here.has("given-up")).toBe(true);
    here.close();
    // The documented order: the process restarted (its holds dropped with it), then the mark and its DEL.
    const restarted = new HeldConsentStore(refusing, log, options);
    await redis.set(key, CONSENT_REVOKED, "PX", CONSENT_REVOKE_MS);
    expect(await redis.del(key)).toBe(1);
    expect(await restarted.has("given-up")).toBe(false);
    restarted.close();
  });
  // A revoke mark against every path that writes or reads a grant: a grant's write landing after the mark (the
  // customer verifying at the moment of the revoke, a write delayed or retried), a rotation of HMAC_SECRET (a grant
  // under one secret's key, the mark under another's), and a held grant read while Redis does not answer.
  const at = (key: string) => `${prefix}consent:${key}`;
  const value = (key: string) => redis.get(at(key)).catch(() => "not a string");
  it("a grant's write landing after the mark (RedisConsentStore.grant): not written, the mark stands", async () => {
    const store = new RedisConsentStore(redis, prefix);
    for (const [name, mark] of MARKS) {
      await mark(redis, at(name));
      const before = [await redis.type(at(name)), await value(name)];
      expect([name, await store.grant(name, TTL_MS)]).toEqual([name, "revoked"]);
      expect([name, await redis.type(at(name)), await value(name)]).toEqual([name, ...before]);
      expect([name, await store.read(name)]).toEqual([name, "revoked"]);
    }
  });

  it("a grant through the held store landing after the mark: not written, not held, refused on every replica", async () => {
    const here = held(new RedisConsentStore(redis, prefix));
    const other = held(new RedisConsentStore(redis, prefix));
    for (const [name, mark] of MARKS) {
      await mark(redis, at(name));
      expect([name, await here.grant(name, TTL_MS)]).toEqual([name, "revoked"]);
      expect([name, await here.has(name), await other.has(name)]).toEqual([name, false, false]);
    }
    here.close();
    other.close();
  });

  it("a held grant, then the mark, then the customer's next grant landing: the mark stands, the hold ends", async () => {
    const here = held(refusingFirst(new RedisConsentStore(redis, prefix), 1));
    await here.grant("again", TTL_MS);
    await redis.set(at("again"), CONSENT_REVOKED, "PX", CONSENT_REVOKE_MS);
    expect(await here.grant("again", TTL_MS)).toBe("revoked");
    // Past the first retries (200 ms, then 400 ms): nothing written over the mark.
    await new Promise((r) => setTimeout(r, 800));
    expect(await redis.get(at("again"))).toBe(CONSENT_REVOKED);
    expect(await here.has("again")).toBe(false);
    here.close();
  });

  it("a grant racing the mark (both sent together, either first): the mark is what stays", async () => {
    const store = new RedisConsentStore(redis, prefix);
    const writer = await connectRedis();
    try {
      for (let i = 0; i < 20; i++) {
        const name = `race-${i}`;
        const mark = () => writer.set(at(name), CONSENT_REVOKED, "PX", CONSENT_REVOKE_MS);
        await Promise.all(i % 2 === 0 ? [store.grant(name, TTL_MS), mark()] : [mark(), store.grant(name, TTL_MS)]);
        // Whichever landed first: a grant first is written over by the mark; a grant after it is refused.
        expect([name, await redis.get(at(name)), await store.read(name)]).toEqual([name, CONSENT_REVOKED, "revoked"]);
      }
    } finally {
      await writer.quit();
    }
  });

  describe("during a rotation of HMAC_SECRET", () => {
    const current = new KeyHasher(Buffer.from("consent11-current-secret-0123456789"));
    const previous = new KeyHasher(Buffer.from("consent11-previous-secret-0123456789"));
    const client = "app-1";
    const cibil = "ABCDE1234F";
    const keys = { current: consentKey(current, client, cibil), previous: consentKey(previous, client, cibil) };
    const check = (store: ConsentStore, found?: (index: number) => void) =>
      hasConsent(store, keys.current, [keys.previous], found);

    it("a grant under the previous secret's key, the mark under the current one's: no consent", async () => {
      const store = new RedisConsentStore(redis, prefix);
      await store.grant(keys.previous, TTL_MS);
      await redis.set(at(keys.current), CONSENT_REVOKED, "PX", CONSENT_REVOKE_MS);
      expect(await check(store)).toBe(false);
      expect(await check(held(store))).toBe(false);
    });

    it("a grant under the current secret's key, the mark under the previous one's: no consent", async () => {
      const store = new RedisConsentStore(redis, prefix);
      await store.grant(keys.current, TTL_MS);
      await redis.set(at(keys.previous), CONSENT_REVOKED, "PX", CONSENT_REVOKE_MS);
      expect(await check(store)).toBe(false);
      const here = held(store);
      expect(await check(here)).toBe(false);
      here.close();
    });

    it("a held grant under the current key, the mark under the previous one's: no consent, the hold kept out", async () => {
      const here = held(refusingFirst(new RedisConsentStore(redis, prefix), 1));
      await here.grant(keys.current, TTL_MS);
      expect(await check(here)).toBe(true);
      await redis.set(at(keys.previous), CONSENT_REVOKED, "PX", CONSENT_REVOKE_MS);
      expect(await check(here)).toBe(false);
      here.close();
    });

    // A grant is written under one key (the replica's current secret's) while the mark may stand under another the
    // servers read (previous, next): GRANT reads them all for a mark. Written under its own key alone, the grant
    // became a consent the moment the mark's PX ended, though made while revoked.
    it("the mark under the previous secret's key, a grant under the current one's: not written", async () => {
      const store = new RedisConsentStore(redis, prefix);
      await redis.set(at(keys.previous), CONSENT_REVOKED, "PX", CONSENT_REVOKE_MS);
      expect(await store.grant(keys.current, TTL_MS, [keys.previous])).toBe("revoked");
      expect(await redis.exists(at(keys.current))).toBe(0);
      expect(await store.grantNoShorter(keys.current, TTL_MS, [keys.previous])).toBe("revoked");
      expect(await redis.exists(at(keys.current))).toBe(0);
    });

    it("the mark under the next secret's key, a grant on a replica not yet switched: not written", async () => {
      const store = new RedisConsentStore(redis, prefix);
      // The switched replicas' current key is the one not yet switched's next.
      await redis.set(at(keys.current), CONSENT_REVOKED, "PX", CONSENT_REVOKE_MS);
      expect(await store.grant(keys.previous, TTL_MS, [keys.current])).toBe("revoked");
      expect(await redis.exists(at(keys.previous))).toBe(0);
    });

    it("a held grant whose retry meets a mark under another secret's key: not written, the hold ends", async () => {
      const here = held(refusingFirst(new RedisConsentStore(redis, prefix), 1));
      await here.grant(keys.current, TTL_MS, [keys.previous]);
      await redis.set(at(keys.previous), CONSENT_REVOKED, "PX", CONSENT_REVOKE_MS);
      // Past the first retry (200 ms).
      await new Promise((r) => setTimeout(r, 600));
      expect(await redis.exists(at(keys.current))).toBe(0);
      expect(await here.has(keys.current)).toBe(false);
      here.close();
    });

    it("no mark under any key: the grant is written under its own key alone", async () => {
      const store = new RedisConsentStore(redis, prefix);
      expect(await store.grant(keys.current, TTL_MS, [keys.previous])).toBeUndefined();
      expect([await redis.get(at(keys.current)), await redis.exists(at(keys.previous))]).toEqual(["1", 0]);
    });

    it("no mark: a grant under either key is consent, the previous one's said so", async () => {
      const store = new RedisConsentStore(redis, prefix);
      await store.grant(keys.previous, TTL_MS);
      const found: number[] = [];
      expect(await check(store, (i) => found.push(i))).toBe(true);
      expect(found).toEqual([0]);
      await store.grant(keys.current, TTL_MS);
      expect(await check(store)).toBe(true);
    });
  });

  describe("a held grant read while Redis does not answer", () => {
    let proxy: RedisProxy;
    let through: Redis;
    beforeEach(async () => {
      proxy = await startRedisProxy(REDIS_URL!);
      // As the server connects (protection/redis.ts REDIS_CLIENT_OPTIONS: no offline queue, a socket asked to end
      // destroyed within 100 ms; timeCommands' 1 s timeout), reconnecting sooner once the proxy is restored.
      through = new Redis(proxy.url, { ...REDIS_CLIENT_OPTIONS, retryStrategy: () => 50 });
      timeCommands(through);
      through.on("error", () => undefined);
      await new Promise<void>((resolve) => through.once("ready", () => resolve()));
    });
    afterEach(async () => {
      through.disconnect();
      await proxy.close();
    });

    it("Redis cut after the mark: refused (the mark cannot be asked), not served from the hold", async () => {
      const here = held(refusingFirst(new RedisConsentStore(through, prefix), 1));
      await here.grant("cut", TTL_MS);
      expect(await here.has("cut")).toBe(true);
      await redis.set(at("cut"), CONSENT_REVOKED, "PX", CONSENT_REVOKE_MS);
      proxy.cut();
      await expect(here.has("cut")).rejects.toThrow(ProtectionStoreError);
      // Back: the mark is read, the hold ends.
      proxy.restore();
      await new Promise<void>((resolve) => through.once("ready", () => resolve()));
      expect(await here.has("cut")).toBe(false);
      here.close();
    });

    it("Redis stalled (no answer within the command timeout): refused, not served from the hold", async () => {
      const here = held(refusingFirst(new RedisConsentStore(through, prefix), 1));
      await here.grant("stalled", TTL_MS);
      await redis.set(at("stalled"), CONSENT_REVOKED, "PX", CONSENT_REVOKE_MS);
      proxy.stall();
      await expect(here.has("stalled")).rejects.toThrow(ProtectionStoreError);
      here.close();
    });

    it("a port nothing listens on: a held grant's read is refused", async () => {
      await proxy.close();
      const nowhere = new Redis(proxy.url, {
        ...REDIS_CLIENT_OPTIONS,
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      timeCommands(nowhere);
      nowhere.on("error", () => undefined);
      await nowhere.connect().catch(() => undefined);
      const here = held(new RedisConsentStore(nowhere, prefix));
      await here.grant("nowhere", TTL_MS);
      await expect(here.has("nowhere")).rejects.toThrow(ProtectionStoreError);
      here.close();
      nowhere.disconnect();
    });
  });
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 3_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}
