import type Redis from "ioredis";
import type { Logger } from "../logging/logger";
import { summaryLines } from "../logging/summarised";

/** What one `INFO memory` of the stores' Redis said (observer.ts redisMemory, the aopay_redis_memory_* gauges). */
export interface RedisMemoryReading {
  /** `used_memory`: bytes Redis's allocator holds for its data and itself. */
  usedBytes: number;
  /** `maxmemory`: the limit, 0 for none (Redis grows until the host refuses it). */
  maxBytes: number;
}

/** How the poll is run (protection/index.ts, from REDIS_MEMORY_POLL_SECONDS). */
export interface RedisMemoryPollOptions {
  /** REDIS_MEMORY_POLL_SECONDS in ms (default DEFAULT_REDIS_MEMORY_POLL_SECONDS, 15 s; 0: no poll is made). */
  intervalMs: number;
  /** Each read: the reading, or undefined when it failed (Redis down, INFO refused, a reply without the fields). */
  onRead: (reading: RedisMemoryReading | undefined) => void;
  /** Summarised lines' clock (tests). */
  now?: () => number;
}

/**
 * The interval of the failed-read warning: one line at the first failure, then at most one summary a minute while the
 * reads keep failing (logging/summarised.ts), whatever the poll's interval.
 */
export const MEMORY_READ_WARNING_INTERVAL_MS = 60_000;

/**
 * Polls `INFO memory` on the stores' own connection (redis.ts createRedis): how full Redis is, so that an operator is
 * paged before the first write is refused (with `noeviction`, at `maxmemory` every new Idempotency-Key is answered
 * PROTECTION_UNAVAILABLE and sends fail closed: docs/deploying.md "Redis"). The policy itself is judged apart
 * (redis.ts RedisServerCheck, aopay_redis_unsafe): this reads the bytes only.
 *
 * One read at a time: the next is scheduled when the last has answered (or failed), never on a fixed interval, so a
 * slow Redis cannot pile reads up. The connection fails fast (no offline queue, a 1 s command timeout), so a read
 * while Redis is down fails at once: never waits, and holds no request up (it is one command among the stores' own,
 * as often as the interval says, 15 s by default). The timer is unref'd: it never keeps the process alive; stop()
 * (the stores' close, before the connection's QUIT) ends it, and a read answering after that is dropped.
 */
export class RedisMemoryPoll {
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #failing = false;
  readonly #warnings;

  constructor(
    private readonly redis: Redis,
    private readonly log: Logger,
    private readonly options: RedisMemoryPollOptions,
  ) {
    this.#warnings = summaryLines(log, {
      perInterval: 1,
      intervalMs: MEMORY_READ_WARNING_INTERVAL_MS,
      fields: { redisMemory: { read: false } },
      head: (n) => `redis memory not read ${n} more times`,
      each: "aopay_redis_memory_read_ok says so at each scrape",
      now: options.now,
    });
  }

  /**
   * The first read as soon as the connection is ready (at start it is still connecting: read then, it would fail and
   * warn at every start), or after one interval if it is not ready by then; then one per interval. Until a read
   * answers, `onRead(undefined)`: not read.
   */
  start(): void {
    // Nothing read yet: said at once (aopay_redis_memory_read_ok 0, no bytes), not left off the page until a read.
    this.options.onRead(undefined);
    if (this.redis.status === "ready") return this.#read();
    this.redis.once("ready", this.#firstReady);
    this.#next();
  }

  /** Stops the poll (at the stores' close, before the connection is closed); writes the failed reads' summary. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.redis.off("ready", this.#firstReady);
    this.#warnings.flush();
  }

  readonly #firstReady = (): void => {
    clearTimeout(this.#timer);
    this.#read();
  };

  #read(): void {
    if (this.#stopped) return;
    this.redis.off("ready", this.#firstReady);
    // Not ready (connecting, reconnecting): the command would fail at once (no offline queue); said as a failed read.
    const reply =
      this.redis.status === "ready" ? this.redis.info("memory") : Promise.reject(new Error("connection not ready"));
    reply
      .then((info) => {
        const reading = memoryReading(info);
        if (reading === undefined) throw new Error("INFO memory names no used_memory or maxmemory");
        return reading;
      })
      .then(
        (reading) => {
          if (this.#stopped) return;
          this.options.onRead(reading);
          if (this.#failing) this.log.info("redis memory read again");
          this.#failing = false;
        },
        (error: Error) => {
          if (this.#stopped) return;
          this.options.onRead(undefined);
          this.#failing = true;
          // The error's name and code only: its message may name the host (never a key: INFO names none).
          if (this.#warnings.take("failed"))
            this.log.warn(
              {
                redisMemory: { read: false },
                err: { name: error.name, code: (error as { code?: string }).code },
              },
              "redis memory not read (Redis down, or INFO refused): aopay_redis_memory_used_bytes and " +
                "aopay_redis_memory_max_bytes are left off the page until a read answers",
            );
        },
      )
      .finally(() => this.#next());
  }

  #next(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => this.#read(), this.options.intervalMs);
    this.#timer.unref();
  }
}

/**
 * INFO's `used_memory` and `maxmemory` (CRLF or LF, spaces around the colon tolerated); undefined when either is
 * missing or not a whole number of bytes (an ACL-trimmed INFO, a proxy). A proxy before several servers may list
 * each one's: the fullest (largest used over max, a server without a limit last) is the one that refuses first.
 */
export function memoryReading(info: string): RedisMemoryReading | undefined {
  const used = [...info.matchAll(/^[ \t]*used_memory[ \t]*:[ \t]*(\d+)[ \t]*\r?$/gm)].map((m) => Number(m[1]));
  const max = [...info.matchAll(/^[ \t]*maxmemory[ \t]*:[ \t]*(\d+)[ \t]*\r?$/gm)].map((m) => Number(m[1]));
  if (used.length === 0 || used.length !== max.length) return undefined;
  const readings = used.map((usedBytes, i) => ({ usedBytes, maxBytes: max[i] }));
  const fill = (r: RedisMemoryReading) => (r.maxBytes > 0 ? r.usedBytes / r.maxBytes : -1);
  return readings.reduce((a, b) => (fill(b) > fill(a) ? b : a));
}
