import type Redis from "ioredis";
import type { Logger } from "../logging/logger";

/** What checkServer judged of the Redis server at a connection (observer.ts redisServer, the aopay_redis_unsafe gauge). */
export interface RedisServerJudgement {
  evictingPolicy: boolean;
  tooOld: boolean;
}

/**
 * The Redis connection behind the shared throttle and idempotency stores. Configured to fail fast, never to queue:
 * while Redis is down, OTP sends must be refused (fail closed), not held in memory until it returns.
 */
export function createRedis(url: string, log: Logger, onJudged?: (judged: RedisServerJudgement) => void): Redis {
  // ioredis is required here, at start (protection/index.ts, only with REDIS_URL set), not at this module's import: a
  // server without REDIS_URL never loads it (0.9 MB of live heap after start, its source text and compiled code kept
  // for the process's life; docs/performance-runs.md). require's cache makes later calls a lookup; never per request. A
  // missing or broken ioredis still fails the start of a server that needs it (test/e2e/loaded-modules.test.ts).
  const { default: RedisClient } = require("ioredis") as typeof import("ioredis");
  const redis = new RedisClient(url, {
    // Commands issued while disconnected fail at once instead of waiting in an offline queue.
    enableOfflineQueue: false,
    // A command written before the connection dropped, whose reply never came, is not written again once it is back
    // (ioredis's default resends it): it may have run already, and no script here may run twice. Run again, an
    // Idempotency-Key's claim met itself (the request answered IDEMPOTENCY_IN_FLIGHT by its own claim, the key held by
    // nobody, then OUTCOME_UNKNOWN for a request that sent nothing), a send's take was refused by its own first run
    // (OTP_COOLDOWN, "an OTP was just sent", none was), a refund was given twice. Left unanswered, the command times
    // out (commandTimeout): an outcome unknown, as every store failure is read (test/e2e/redis-lost-reply.test.ts).
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: 1_000,
    // Reconnect with a capped backoff; readiness reports "not ready" meanwhile.
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  // ioredis repeats the same connection errors on every retry (and a dropped connection alternates two of them): each
  // distinct one is logged once until the connection is ready again, at most MAX_DISTINCT_ERRORS of them.
  const logged = new Set<string>();
  redis.on("error", (error: Error) => {
    // The message may contain the host but never the URL's password.
    if (!logged.has(error.message) && logged.size < MAX_DISTINCT_ERRORS) {
      logged.add(error.message);
      log.error({ err: { message: error.message, code: (error as { code?: string }).code } }, "redis error");
    }
    // A connection whose SELECT of REDIS_URL's database failed (`ERR DB index is out of range`) is left by ioredis in
    // database 0 and turns ready there: every send went through, its budgets kept beside whatever else lives in
    // database 0 and apart from replicas that did select theirs. Its socket is closed instead, so ioredis connects
    // again after its retryStrategy's delay: sends are refused and /readyz says not ready until the database exists
    // (test/e2e/redis-operations.test.ts).
    if ((error as { command?: { name?: string } }).command?.name === "select") redis.stream?.destroy();
  });
  redis.on("ready", () => {
    logged.clear();
    log.info("redis ready");
    checkServer(redis, log, onJudged);
  });
  return redis;
}

/** Distinct Redis errors logged between two ready connections. */
const MAX_DISTINCT_ERRORS = 20;

/** The oldest Redis the OTP budgets' scripts run on: PEXPIRETIME (redis-budgets.ts) came with 7.0. */
export const MIN_REDIS_MAJOR = 7;

/**
 * Says at each connection, as an error, what on the server breaks a promise the stores make:
 * - a server older than Redis 7.0: the budgets' script would fail on every send, each refused as
 *   PROTECTION_UNAVAILABLE (closed, never open), and this line names the cause;
 * - a `maxmemory-policy` other than `noeviction`: at `maxmemory` Redis deletes keys to make room, and every key here
 *   has a TTL, so the `volatile-*` policies take them as readily as the `allkeys-*` ones: a cooldown, a daily budget
 *   or an idempotency record evicted is a customer sent more OTPs than promised (test/e2e/redis-operations.test.ts:
 *   with allkeys-lru, a second SMS inside the cooldown). With `noeviction` a full Redis refuses the writes, and every
 *   send is refused as PROTECTION_UNAVAILABLE until there is room. Judged at connection only: a CONFIG SET later is
 *   not seen.
 * One INFO with its default sections (server and memory among them). A server that does not answer INFO (an ACL
 * without it) is not judged.
 */
function checkServer(redis: Redis, log: Logger, onJudged?: (judged: RedisServerJudgement) => void): void {
  redis.info().then(
    (info) => {
      const major = tooOldRedis(info);
      if (major !== undefined)
        log.error(
          { redis: { version: major } },
          "redis is older than 7.0: OTP sends will be refused as PROTECTION_UNAVAILABLE (the throttle's script needs PEXPIRETIME)",
        );
      const policy = evictingPolicy(info);
      // Also as a gauge (metrics.ts aopay_redis_unsafe): a line at connection is easily missed, an alert is not.
      onJudged?.({ evictingPolicy: policy !== undefined, tooOld: major !== undefined });
      if (policy !== undefined)
        log.error(
          { redis: { maxmemoryPolicy: policy } },
          `redis maxmemory-policy is ${policy}, not noeviction: at maxmemory Redis may evict OTP budgets, cooldowns and idempotency records, and customers be sent more OTPs than the budgets allow; set maxmemory-policy noeviction`,
        );
    },
    () => undefined,
  );
}

/** The major version INFO's `redis_version` names when it is older than MIN_REDIS_MAJOR; undefined otherwise. */
export function tooOldRedis(info: string): number | undefined {
  const version = /^redis_version:(\d+)\./m.exec(info)?.[1];
  return version !== undefined && Number(version) < MIN_REDIS_MAJOR ? Number(version) : undefined;
}

/**
 * INFO's `maxmemory_policy` when it lets Redis evict keys (anything but `noeviction`); undefined for `noeviction` or
 * when INFO does not name one. Only the policy's own characters are kept: it is written into a log line.
 */
export function evictingPolicy(info: string): string | undefined {
  const policy = /^maxmemory_policy:([a-z-]{1,32})\r?$/m.exec(info)?.[1];
  return policy !== undefined && policy !== "noeviction" ? policy : undefined;
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

/**
 * A Lua script as a command of `redis`, called with its keys then its arguments; resolves to the script's reply. Arrays
 * among the arguments are flattened by ioredis (Command's `args.flat()`): one array of them all will do.
 */
export type ScriptCommand<T> = (...keysThenArgs: Array<string | number | readonly string[]>) => Promise<T>;

/**
 * A Lua script as an ioredis command (defineCommand): EVALSHA, and EVAL once where Redis does not know the script yet
 * (a new or restarted Redis), rather than the script's text with every call (EVAL). Defined once per connection
 * object under `name`, whoever asks first. Without `numberOfKeys`, the call's first argument is the number of keys.
 */
export function scriptCommand<T>(redis: Redis, name: string, lua: string, numberOfKeys?: number): ScriptCommand<T> {
  const commands = redis as unknown as Record<string, ScriptCommand<T> | undefined>;
  if (typeof commands[name] !== "function") redis.defineCommand(name, { lua, numberOfKeys });
  return (commands[name] as ScriptCommand<T>).bind(redis);
}
