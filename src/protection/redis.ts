import Redis from "ioredis";
import type { Logger } from "../logging/logger";

/**
 * The Redis connection behind the shared throttle and idempotency stores. Configured to fail fast, never to queue:
 * while Redis is down, OTP sends must be refused (fail closed), not held in memory until it returns.
 */
export function createRedis(url: string, log: Logger): Redis {
  const redis = new Redis(url, {
    // Commands issued while disconnected fail at once instead of waiting in an offline queue.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: 1_000,
    // Reconnect with a capped backoff; readiness reports "not ready" meanwhile.
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  let lastError = "";
  redis.on("error", (error: Error) => {
    // ioredis repeats the same connection error on every retry; log each distinct one once. The message may contain
    // the host but never the URL's password.
    if (error.message !== lastError)
      log.error({ err: { message: error.message, code: (error as { code?: string }).code } }, "redis error");
    lastError = error.message;
  });
  redis.on("ready", () => {
    lastError = "";
    log.info("redis ready");
  });
  return redis;
}

/** Readiness probe: PING answered within `timeoutMs`. */
export async function redisAnswers(redis: Redis, timeoutMs = 500): Promise<boolean> {
  if (redis.status !== "ready") return false;
  let timer: NodeJS.Timeout | undefined;
  try {
    const pong = await Promise.race([
      redis.ping(),
      new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve("timeout"), timeoutMs);
      }),
    ]);
    return pong === "PONG";
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until the connection is ready, up to `timeoutMs`; false if it is not ready by then (never throws). */
export function redisReady(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === "ready") return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      redis.off("ready", onReady);
      resolve(ok);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    redis.on("ready", onReady);
  });
}
