import { randomUUID } from "node:crypto";
import type Redis from "ioredis";
import { LRUCache } from "lru-cache";
import { ProtectionStoreError } from "./errors";

/**
 * Idempotency records (docs/security-requirements.md E4; Stripe's idempotent requests; IETF draft-ietf-httpapi-idempotency-key-header):
 * the first request with a key takes it (`pending`), runs, and stores its result (`done`) for the key's lifetime.
 * A later request with the same key and the same input replays that result; with other input it is a mismatch;
 * while the first still runs it is a conflict. Records hold an input fingerprint (HMAC) and the masked result only.
 */

/** A result as stored: the union member's type name and its fields (already masked, as sent to the client). */
export interface StoredResult {
  typename: string;
  data: Record<string, unknown>;
}

interface IdempotencyRecord {
  state: "pending" | "done";
  fingerprint: string;
  /** Identifies the request that holds a pending record, so only it can complete or release it. */
  token: string;
  result?: StoredResult;
}

export type BeginOutcome =
  | { kind: "acquired"; token: string }
  | { kind: "in-flight" }
  | { kind: "mismatch" }
  | { kind: "replay"; result: StoredResult };

export interface IdempotencyStore {
  begin(key: string, fingerprint: string, pendingTtlMs: number): Promise<BeginOutcome>;
  complete(key: string, token: string, fingerprint: string, result: StoredResult, ttlMs: number): Promise<void>;
  /** Frees the key again (the first request ended without doing anything that must not be repeated). */
  release(key: string, token: string): Promise<void>;
}

function judge(existing: IdempotencyRecord, fingerprint: string): BeginOutcome {
  if (existing.fingerprint !== fingerprint) return { kind: "mismatch" };
  if (existing.state === "pending" || !existing.result) return { kind: "in-flight" };
  return { kind: "replay", result: existing.result };
}

/**
 * One process. lru-cache bounds memory by size (results are about 1 KB): past the bound the least recently used
 * records go first, and a replay would then run again, still subject to the OTP cooldown.
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  readonly #cache = new LRUCache<string, IdempotencyRecord>({
    maxSize: 32 * 1024 * 1024,
    sizeCalculation: (record) => 200 + (record.result ? JSON.stringify(record.result).length : 0),
  });

  async begin(key: string, fingerprint: string, pendingTtlMs: number): Promise<BeginOutcome> {
    const existing = this.#cache.get(key);
    if (existing) return judge(existing, fingerprint);
    const token = randomUUID();
    this.#cache.set(key, { state: "pending", fingerprint, token }, { ttl: pendingTtlMs });
    return { kind: "acquired", token };
  }

  async complete(key: string, token: string, fingerprint: string, result: StoredResult, ttlMs: number): Promise<void> {
    if (this.#cache.get(key)?.token !== token) return;
    this.#cache.set(key, { state: "done", fingerprint, token, result }, { ttl: ttlMs });
  }

  async release(key: string, token: string): Promise<void> {
    if (this.#cache.get(key)?.token === token) this.#cache.delete(key);
  }
}

// Complete or release only the record this request holds (its pending TTL may have run out and another taken it).
const COMPLETE_LUA = `
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
if cjson.decode(current).token ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1`;
const RELEASE_LUA = `
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
if cjson.decode(current).token ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])`;

/** Shared by every replica: SET NX makes "first request takes the key" atomic across processes. */
export class RedisIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {}

  async begin(key: string, fingerprint: string, pendingTtlMs: number): Promise<BeginOutcome> {
    const redisKey = this.#key(key);
    const token = randomUUID();
    const pending: IdempotencyRecord = { state: "pending", fingerprint, token };
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        const set = await this.redis.set(redisKey, JSON.stringify(pending), "PX", pendingTtlMs, "NX");
        if (set === "OK") return { kind: "acquired", token };
        const current = await this.redis.get(redisKey);
        // Expired between SET and GET: try to take it again.
        if (current !== null) return judge(JSON.parse(current) as IdempotencyRecord, fingerprint);
      }
    } catch (error) {
      throw new ProtectionStoreError("idempotency", error);
    }
    throw new ProtectionStoreError("idempotency", new Error("key kept expiring while being taken"));
  }

  async complete(key: string, token: string, fingerprint: string, result: StoredResult, ttlMs: number): Promise<void> {
    const record: IdempotencyRecord = { state: "done", fingerprint, token, result };
    try {
      await this.redis.eval(COMPLETE_LUA, 1, this.#key(key), token, JSON.stringify(record), String(ttlMs));
    } catch (error) {
      throw new ProtectionStoreError("idempotency", error);
    }
  }

  async release(key: string, token: string): Promise<void> {
    try {
      await this.redis.eval(RELEASE_LUA, 1, this.#key(key), token);
    } catch (error) {
      throw new ProtectionStoreError("idempotency", error);
    }
  }

  #key(key: string): string {
    return `${this.keyPrefix}idem:${key}`;
  }
}
