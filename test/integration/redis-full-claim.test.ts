import type { ChildProcess } from "node:child_process";
import type Redis from "ioredis";
import { ProtectionStoreError, ProtectionStoreFullError } from "../../src/protection/errors";
import { RedisIdempotencyStore } from "../../src/protection/idempotency-store";
import { deriveStoreKey, StoreSealer } from "../../src/protection/store-sealer";
import { freePort } from "../helpers/free-port";
import { connectPrivateRedis, describeWithPrivateRedis, startRedis, stopRedis } from "../helpers/private-redis";

/**
 * RedisIdempotencyStore.begin's claim refused by a private Redis (never the shared one's config): only a claim refused
 * for want of memory (OOM) AND a read that answered "no record" is ProtectionStoreFullError (PROTECTION_UNAVAILABLE,
 * "nothing was sent"); any other refusal of the claim (a read-only replica, a timeout) or a read that fails after the
 * OOM leaves the key's record unread: a plain ProtectionStoreError, answered OUTCOME_UNKNOWN (send-guard.ts
 * #answerUnread), since an earlier request under the key may have sent.
 */
describeWithPrivateRedis("an Idempotency-Key's claim refused by Redis (private redis-server)", () => {
  let server: ChildProcess;
  let redis: Redis;
  const sealer = new StoreSealer([deriveStoreKey(Buffer.from("f".repeat(32)))]);
  let store: RedisIdempotencyStore;
  beforeAll(async () => {
    const port = await freePort();
    server = startRedis(port, ["--maxmemory-policy", "noeviction"]);
    redis = await connectPrivateRedis(port);
    store = new RedisIdempotencyStore(redis, "full-claim:", sealer);
  });
  afterEach(async () => {
    await redis.config("SET", "maxmemory", "0");
    await redis.replicaof("NO", "ONE");
  });
  afterAll(async () => {
    await redis?.quit();
    await stopRedis(server);
  });

  const refusal = (key: string) =>
    store.begin(key, "fp", 60_000).then(
      (outcome) => ({ outcome }),
      (error: unknown) => ({
        full: error instanceof ProtectionStoreFullError,
        store: error instanceof ProtectionStoreError,
      }),
    );

  it("full, no record: ProtectionStoreFullError; full, a record: read and judged (in flight), never refused", async () => {
    expect((await store.begin("taken", "fp", 60_000)).kind).toBe("acquired");
    await redis.config("SET", "maxmemory", "1");
    expect(await refusal("new")).toEqual({ full: true, store: true });
    expect(await refusal("taken")).toEqual({ outcome: expect.objectContaining({ kind: "in-flight" }) });
  });

  it("full, and the read of the record fails too: unread (a plain store error), never 'nothing was sent'", async () => {
    await redis.config("SET", "maxmemory", "1");
    const get = redis.get.bind(redis);
    redis.get = (() => Promise.reject(new Error("Command timed out"))) as typeof redis.get;
    try {
      expect(await refusal("new-unread")).toEqual({ full: false, store: true });
    } finally {
      redis.get = get;
    }
  });

  it("refused for another reason (a read-only replica): unread, never 'nothing was sent'", async () => {
    // A replica of a master that is not there: it answers reads, refuses writes (READONLY).
    await redis.replicaof("127.0.0.1", "1");
    expect(await refusal("new-readonly")).toEqual({ full: false, store: true });
  });
});
