import { randomUUID } from "node:crypto";
import Redis from "ioredis";

/** Redis-backed tests run only when REDIS_URL is set (`.ci/run` sets it); the rest of the suite never needs Redis. */
export const REDIS_URL = process.env.REDIS_URL;
export const describeWithRedis = REDIS_URL ? describe : describe.skip;

/** A key prefix of its own per test file, so parallel suites and earlier runs never meet. */
export function uniquePrefix(): string {
  return `aopay-gql-test:${randomUUID()}:`;
}

/** Every key (and its value) under `prefix`. */
export async function dumpKeys(redis: Redis, prefix: string): Promise<Array<{ key: string; value: string }>> {
  const out: Array<{ key: string; value: string }> = [];
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
    cursor = next;
    for (const key of keys) {
      const type = await redis.type(key);
      const value = type === "string" ? ((await redis.get(key)) ?? "") : JSON.stringify(await redis.hgetall(key));
      out.push({ key, value });
    }
  } while (cursor !== "0");
  return out;
}

export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  const keys = (await dumpKeys(redis, prefix)).map((k) => k.key);
  if (keys.length > 0) await redis.del(...keys);
}
