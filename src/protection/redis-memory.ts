import type { Logger } from "../logging/logger";
import { summaryLines } from "../logging/summarised";
import type { InfoReader, RedisServerCheck } from "./redis";

/** What one `INFO memory` of the stores' Redis said (observer.ts redisMemory, the aopay_redis_memory_* gauges). */
export interface RedisMemoryReading {
  /** `used_memory`: bytes Redis's allocator holds for its data and itself. */
  usedBytes: number;
  /** `maxmemory`: the limit, 0 for none (Redis grows until the host refuses it). */
  maxBytes: number;
}

/** How the poll is run (protection/index.ts, from REDIS_MEMORY_POLL_SECONDS). */
export interface RedisMemoryPollOptions {
  /** REDIS_MEMORY_POLL_SECONDS in ms (default DEFAULT_REDIS_MEMORY_POLL_SECONDS, 15 s; 0: no reader is attached). */
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
 * Reads `INFO memory` of the stores' own connection (redis.ts createRedis): how full Redis is, so that an operator is
 * paged before the first write is refused (with `noeviction`, at `maxmemory` every new Idempotency-Key is answered
 * PROTECTION_UNAVAILABLE and sends fail closed: docs/deploying.md "Redis"). The policy itself is judged apart (redis.ts
 * RedisServerCheck, aopay_redis_unsafe), from the same reads: this sends none of its own. It is the check's reader
 * (attach): each of the check's answers (INFO at each connection, `INFO memory` every interval, the shorter of
 * REDIS_POLICY_CHECK_SECONDS and REDIS_MEMORY_POLL_SECONDS) is read here for the bytes, and each failure (refused,
 * timed out, or due while the connection is not ready) is a failed read. Before, it read `INFO memory` on a timer of
 * its own beside the check's: the same command twice per interval on the same connection.
 *
 * The check sends one read at a time, the next when the last has answered or failed, on an unref'd timer; stop() (the
 * stores' close, before the connection's QUIT) detaches this reader, and an answer after it is dropped.
 */
export class RedisMemoryPoll implements InfoReader {
  #stopped = false;
  #failing = false;
  #detach: (() => void) | undefined;
  readonly #warnings;

  constructor(
    private readonly check: Pick<RedisServerCheck, "attach">,
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

  /** REDIS_MEMORY_POLL_SECONDS in ms: the check reads at least this often while this reader is attached. */
  get intervalMs(): number {
    return this.options.intervalMs;
  }

  /**
   * Attaches to the check: the first reading is its connection's first answer (at start it is still connecting: read
   * then, it would fail and warn at every start), or a failed read if it is not ready one interval on (2 s at least:
   * the connection attempt's timeout); then one per interval. Until a read answers, `onRead(undefined)`: not read.
   */
  start(): void {
    // Nothing read yet: said at once (aopay_redis_memory_read_ok 0, no bytes), not left off the page until a read.
    this.options.onRead(undefined);
    this.#detach = this.check.attach(this);
  }

  /** Stops the reading (at the stores' close, before the connection is closed); writes the failed reads' summary. */
  stop(): void {
    this.#stopped = true;
    this.#detach?.();
    this.#warnings.flush();
  }

  answered(info: string): void {
    if (this.#stopped) return;
    const reading = memoryReading(info);
    if (reading === undefined) return this.failed(new Error("INFO memory names no used_memory or maxmemory"));
    this.options.onRead(reading);
    if (this.#failing) this.log.info("redis memory read again");
    this.#failing = false;
  }

  failed(error: Error): void {
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
