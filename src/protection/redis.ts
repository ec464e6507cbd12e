import type Redis from "ioredis";
import type { Command, RedisOptions } from "ioredis";
import type { Logger } from "../logging/logger";
import { logThrowOnce } from "../logging/summarised";
import { timeoutAfterIo } from "../util/after-io";
import { ProtectionStoreError } from "./errors";

/** What RedisServerCheck judged of the Redis server (observer.ts redisServer, the aopay_redis_unsafe gauge). */
export interface RedisServerJudgement {
  evictingPolicy: boolean;
  /**
   * The server would not say its policy (INFO refused by an ACL, or no `maxmemory_policy` line: some managed
   * offerings): its writes go on, unjudged. A gauge too, not only the connection's warn line: an operator must learn
   * that the promise the eviction check keeps is not being kept for this server, and a line is easily missed.
   */
  policyUnchecked: boolean;
  tooOld: boolean;
}

/**
 * A reader of the check's INFO answers beside the policy's judgement (redis-memory.ts RedisMemoryPoll: the
 * aopay_redis_memory_* gauges), so that one `INFO memory` per interval serves both: before, each read it on a timer of
 * its own, the same command twice per interval on the same connection.
 */
export interface InfoReader {
  /** How often it wants a read, in ms: the check reads at the shorter of this and its own checkIntervalMs. */
  readonly intervalMs: number;
  /** Each answer: at a connection INFO's default sections (memory among them), after it `INFO memory`. */
  answered(info: string): void;
  /** Each read that failed: refused (NOPERM, BUSY), timed out, or the connection not ready when it was due. */
  failed(error: Error): void;
}

/** What createRedis checks of the server it connects to (RedisServerCheck). */
export interface RedisCheckOptions {
  /** REDIS_EVICTING_POLICY: refuse the stores' writes while the policy evicts (`refuse`), or only say so (`warn`). */
  evictingPolicy: "refuse" | "warn";
  /** REDIS_POLICY_CHECK_SECONDS in ms (default DEFAULT_REDIS_POLICY_CHECK_SECONDS, 30 s). */
  checkIntervalMs: number;
  /** Each judgement (observer.ts redisServer, the aopay_redis_unsafe gauge). */
  onJudged?: (judged: RedisServerJudgement) => void;
}

/** How long a connection attempt may take (ioredis connectTimeout). */
const CONNECT_TIMEOUT_MS = 2_000;

/**
 * How the stores connect (createRedis), exported so that a test connecting to Redis as the server does (through a
 * proxy it cuts) takes these very options and changes only what it must: a copy written out by hand in
 * test/integration/redis-consent-revoke.test.ts left out disconnectTimeout, and each of its clients that lost Redis
 * kept ioredis's 2 s timer running past the suite (jest: "did not exit one second after the test run").
 */
export const REDIS_CLIENT_OPTIONS: Readonly<RedisOptions> = Object.freeze({
  // Commands issued while disconnected fail at once instead of waiting in an offline queue.
  enableOfflineQueue: false,
  // A command written before the connection dropped, whose reply never came, is not written again once it is back
  // (ioredis's default resends it): it may have run already, and no script here may run twice. Run again, an
  // Idempotency-Key's claim met itself (the request answered IDEMPOTENCY_IN_FLIGHT by its own claim, the key held by
  // nobody, then OUTCOME_UNKNOWN for a request that sent nothing), a send's take was refused by its own first run
  // (OTP_COOLDOWN, "an OTP was just sent", none was), a refund was given twice. Left unanswered, the command times
  // out (timeCommands): an outcome unknown, as every store failure is read (test/e2e/redis-lost-reply.test.ts).
  autoResendUnfulfilledCommands: false,
  maxRetriesPerRequest: 1,
  // A plain timer inside ioredis (the socket's setTimeout, cleared at the TCP connect, not at ready): a stall of the
  // event loop past it while a connect is under way destroys a socket that had connected ("connect ETIMEDOUT"),
  // and ioredis connects again after retryStrategy's first 200 ms. Not wrapped: a stall costs a reconnect, commands
  // meanwhile refused as while Redis is away (no offline queue), never a command's outcome misjudged.
  connectTimeout: CONNECT_TIMEOUT_MS,
  // No commandTimeout: each command's timeout is timeCommands' (below; a client made with these options is given
  // it), which does not fire for a reply already read off the socket after a stall of the event loop.
  // How long a socket asked to end (a disconnect: the stop's, after its QUIT failed, or ioredis's own before a
  // reconnect) may stay open before it is destroyed: 100 ms (ioredis's default 2 s). Its timer ends only by that or
  // by the socket's close, and a socket closed already (Redis unreachable: the last attempt's, refused) never closes
  // again: the stop left a timer that held the process 2 s after it (test/e2e/redis-down.test.ts). A Redis that
  // answers closes in well under 100 ms; one that does not is gone or hung, and nothing is waited for from it.
  disconnectTimeout: 100,
  // Reconnect with a capped backoff; readiness reports "not ready" meanwhile.
  retryStrategy: (times: number) => Math.min(times * 200, 2_000),
});

/**
 * The Redis connection behind the shared throttle and idempotency stores. Configured to fail fast, never to queue:
 * while Redis is down, OTP sends must be refused (fail closed), not held in memory until it returns. With it, the
 * check of what its server is (RedisServerCheck), judged at each connection and every `checkIntervalMs`.
 */
export function createRedis(
  url: string,
  log: Logger,
  options: RedisCheckOptions,
): { redis: Redis; check: RedisServerCheck } {
  // ioredis is required here, at start (protection/index.ts, only with REDIS_URL set), not at this module's import: a
  // server without REDIS_URL never loads it (0.9 MB of live heap after start, its source text and compiled code kept
  // for the process's life; docs/performance-runs.md). require's cache makes later calls a lookup; never per request. A
  // missing or broken ioredis still fails the start of a server that needs it (test/e2e/loaded-modules.test.ts).
  const { default: RedisClient } = require("ioredis") as typeof import("ioredis");
  const redis = new RedisClient(url, REDIS_CLIENT_OPTIONS);
  timeCommands(redis);
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
  const check = new RedisServerCheck(redis, log, options);
  redis.on("ready", () => {
    logged.clear();
    log.info("redis ready");
    check.connected();
  });
  return { redis, check };
}

/** How long a command may go unanswered before it fails "Command timed out" (timeCommands): 1 s. */
export const COMMAND_TIMEOUT_MS = 1_000;

/**
 * Fails each command of `redis` that has no reply `ms` after it was issued, with ioredis's own error ("Command timed
 * out": send-guard.ts reads it), in place of ioredis's `commandTimeout` option, which is not given.
 *
 * ioredis's commandTimeout (Command#setTimeout, armed in Redis#sendCommand) rejects from a plain setTimeout. After a
 * stall of the event loop of `ms` or more (a GC pause, CPU starvation on a shared box, a synchronous burst), Node runs
 * that timer before the poll phase that reads the reply already in the socket: a command Redis answered in 0.1 ms
 * failed, and a budget or claim Redis did record became PROTECTION_UNAVAILABLE, or OUTCOME_UNKNOWN for a request with
 * an Idempotency-Key. Here the verdict waits one check phase more (util/after-io.ts timeoutAfterIo): a reply readable
 * by then resolves the command first. A Redis that does not answer still fails it after about `ms`
 * (test/e2e/redis-lost-reply.test.ts, test/integration/event-loop-stall.test.ts).
 *
 * A wrapper of the instance's sendCommand (every command ioredis issues, scripts' EVALSHA and its handshake's
 * included, goes through it) using only Command's public members (promise, isResolved, reject), rather than a patch of
 * Command#setTimeout, which is ioredis's internals and every client of the process's. With enableOfflineQueue off a
 * command is sent once; one sent again (an offline queue's flush) keeps its first timer.
 */
export function timeCommands(redis: Redis, ms = COMMAND_TIMEOUT_MS): void {
  const send = redis.sendCommand.bind(redis);
  const timed = new WeakSet<Command>();
  redis.sendCommand = (command, stream) => {
    if (!timed.has(command)) {
      timed.add(command);
      const timer = timeoutAfterIo(timeOut, ms, command);
      const settled = () => clearTimeout(timer);
      command.promise.then(settled, settled);
    }
    return send(command, stream);
  };
}

/** A command still unanswered once its timeout fired and the replies readable by then were read. */
function timeOut(command: Command): void {
  if (!command.isResolved) command.reject(new Error("Command timed out"));
}

/** Distinct Redis errors logged between two ready connections. */
const MAX_DISTINCT_ERRORS = 20;

/** The oldest Redis the OTP budgets' scripts run on: PEXPIRETIME (redis-budgets.ts) came with 7.0. */
export const MIN_REDIS_MAJOR = 7;

/** Before a failed judgement is tried again, while the connection has none (a timeout, a dropped reply). */
const UNJUDGED_RETRY_MS = 1_000;

/**
 * The refusals of INFO that pass (a long script, a dataset loading, a replica without its primary): no "will not
 * tell", tried again.
 */
const TRANSIENT_REPLY = /^(BUSY|LOADING|MASTERDOWN|TRYAGAIN)\b/;

/**
 * What the Redis server breaks of the promises the stores make, judged at each connection (INFO, its default sections:
 * server and memory) and every `checkIntervalMs` on a ready connection (INFO memory), so a `CONFIG SET
 * maxmemory-policy` at run time is seen both ways:
 * - a `maxmemory-policy` other than `noeviction`: at `maxmemory` Redis deletes keys to make room, and every key here
 *   has a TTL, so the `volatile-*` policies take them as readily as the `allkeys-*` ones: a cooldown, a daily budget,
 *   an idempotency record or a registered mobile evicted is a customer sent more OTPs than promised
 *   (test/e2e/redis-operations.test.ts: with allkeys-lru, a second SMS inside the cooldown). An error line when it is
 *   seen, and with REDIS_EVICTING_POLICY=refuse (the default) every write the stores promise something for is refused
 *   (assertSafe), before its Idempotency-Key's record is read: PROTECTION_UNAVAILABLE, or OUTCOME_UNKNOWN for a
 *   request with a key (an earlier request under it may have sent: send-guard.ts #answerUnread), and /readyz says
 *   `redis-evicting-policy` (unsafe) until it is `noeviction` again. With `noeviction` a full Redis refuses the writes
 *   instead (OOM), and every send is refused until there is room: PROTECTION_UNAVAILABLE, a request with a key as
 *   well, since a full Redis still answers the read that says no request under the key was recorded
 *   (idempotency-store.ts RedisIdempotencyStore.begin; test/e2e/redis-full.test.ts).
 * - a server older than Redis 7.0 (at connection only): the budgets' script would fail on every send, each refused
 *   (closed, never open: PROTECTION_UNAVAILABLE; OUTCOME_UNKNOWN for a request with an Idempotency-Key, whose claim,
 *   SET NX GET, is 7.0's too and fails unread), and an error line names the cause.
 * Until a connection's first judgement has answered (one round trip after it is ready: INFO is its first command),
 * refuse mode refuses too (`redis-policy-unjudged`): a server not seen yet is not trusted. The start waits for it
 * (judged), so only a reconnect meets that window. A server that answers INFO with an error (an ACL without it) or
 * without a `maxmemory_policy` line (some managed offerings) is not judged, as before: a warn line says so, once per
 * connection, and its writes go on; that is decided by a connection's first answer only: once it has read a policy,
 * a later refusal or silence keeps that judgement (a server seen evicting is not served for falling silent). A
 * judgement that fails otherwise (a timeout; BUSY or LOADING, TRANSIENT_REPLY) keeps the one before it, or, with
 * none on this connection, is tried again after UNJUDGED_RETRY_MS.
 *
 * The same read serves the memory gauges (attach, redis-memory.ts RedisMemoryPoll): one INFO per interval, the
 * shorter of REDIS_POLICY_CHECK_SECONDS and REDIS_MEMORY_POLL_SECONDS (30 s and 15 s by default: 15 s), its answer
 * judged for the policy then read for the bytes. One read at a time: the next is scheduled when the last has answered
 * or failed, never on a fixed interval. While the connection is not ready, a due read is not sent (it would fail at
 * once: no offline queue) and the reader is told it failed. The timer is unref'd (never holds the process); stop() ends
 * it, before the connection's QUIT.
 */
export class RedisServerCheck {
  /** This connection's judgement of the policy: none yet, noeviction, evicting, or not named by the server. */
  #state: "unjudged" | "sound" | "evicting" | "unchecked" = "unjudged";
  /** The evicting policy last judged (for its line and the refusal's cause), kept until a judgement says otherwise. */
  #policy: string | undefined;
  #tooOld = false;
  /** Bumped at each connection: a judgement's answer from an older connection is dropped. */
  #connection = 0;
  /**
   * The socket this connection's judgement belongs to. ioredis serves commands from its status, which turns "ready" a
   * tick before the event (process.nextTick) that calls connected(): until then a new socket is not judged, whatever
   * the old one was (a reconnect may have reached another server).
   */
  #stream: unknown;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** The read in flight (a token of its own), so that a connection's read never starts a second beside it. */
  #inFlight: object | undefined;
  /** Fed each answer and failure (attach): the memory gauges. */
  #reader: InfoReader | undefined;
  /** Waiting for a judgement (judged). */
  #waiters: Array<() => void> = [];
  /** The consumers whose throw was logged (#guarded): once each. */
  readonly #threw = new Set<string>();

  constructor(
    private readonly redis: Redis,
    private readonly log: Logger,
    private readonly options: RedisCheckOptions,
  ) {}

  /** At each ready connection: judged again from nothing (a reconnect may have reached another server). */
  connected(): void {
    this.#connection++;
    this.#stream = this.redis.stream;
    this.#state = "unjudged";
    this.#judge(true);
  }

  /**
   * Why the server may not be written to now, as /readyz names it; undefined when it may. Always undefined with
   * REDIS_EVICTING_POLICY=warn, and while the connection is not ready (the stores' own failures say so then).
   */
  unsafe(): "redis-evicting-policy" | "redis-policy-unjudged" | undefined {
    if (this.options.evictingPolicy === "warn") return undefined;
    if (this.redis.status === "ready" && this.redis.stream !== this.#stream) return "redis-policy-unjudged";
    if (this.#state === "evicting") return "redis-evicting-policy";
    if (this.#state === "unjudged" && this.redis.status === "ready") return "redis-policy-unjudged";
    return undefined;
  }

  /**
   * Throws ProtectionStoreError while unsafe(): called before anything of a guarded write or a credit-report read is
   * done, so it is refused as a store failure is (protection/store-failure.ts), nothing sent: PROTECTION_UNAVAILABLE,
   * or OUTCOME_UNKNOWN for a write with an Idempotency-Key, whose record is not read (send-guard.ts #answerUnread).
   */
  assertSafe(what: string): void {
    const unsafe = this.unsafe();
    if (unsafe === undefined) return;
    const why =
      unsafe === "redis-evicting-policy"
        ? `redis maxmemory-policy is ${this.#policy}, not noeviction (REDIS_EVICTING_POLICY=refuse)`
        : "redis maxmemory-policy not judged yet on this connection";
    throw new ProtectionStoreError(what, new Error(why));
  }

  /** Resolves once this connection's policy is judged (or not judgeable), or after `timeoutMs`; never rejects. */
  judged(timeoutMs: number): Promise<void> {
    if (this.#state !== "unjudged") return Promise.resolve();
    return new Promise((resolve) => {
      // After the INFO answer readable by then is read (util/after-io.ts): a stall of the loop is not a slow Redis.
      const timer = timeoutAfterIo(resolve, timeoutMs, undefined);
      this.#waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * Feeds `reader` every answer and failure of the check's reads from now on, and reads at the shorter of the two
   * intervals; undone by the function returned (the interval is the check's own again). With the connection ready and
   * judged, a read at once (the reader's first); else the connection's first read (INFO at ready) is its first, and a
   * read due before that is told failed ("connection not ready").
   */
  attach(reader: InfoReader): () => void {
    this.#reader = reader;
    if (this.#connection > 0 && this.redis.status === "ready" && this.#inFlight === undefined) this.#tick();
    else this.#reschedule();
    return () => {
      if (this.#reader !== reader) return;
      this.#reader = undefined;
      this.#reschedule();
    };
  }

  /** Stops the periodic judgement and reads (at shutdown, before the connection is closed). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  /** The interval changed (a reader came or went): the waiting timer restarts with it; a read in flight schedules. */
  #reschedule(): void {
    if (this.#stopped || this.#inFlight !== undefined) return;
    clearTimeout(this.#timer);
    // Before the first connection, with no reader, nothing is due: connected() starts the reads.
    if (this.#connection > 0 || this.#reader !== undefined) this.#next();
  }

  #judge(atConnection: boolean): void {
    clearTimeout(this.#timer);
    if (this.#stopped) return;
    const connection = this.#connection;
    const token = {};
    this.#inFlight = token;
    const settled = () => {
      if (this.#inFlight === token) this.#inFlight = undefined;
    };
    (atConnection ? this.redis.info() : this.redis.info("memory")).then(
      (info) => {
        settled();
        if (connection !== this.#connection || this.#stopped) return;
        this.#guarded("judgement", () => this.#read(info, atConnection));
        // The same answer, judged above, read for the bytes.
        this.#guarded("reader", () => this.#reader?.answered(info));
        this.#next();
      },
      (error: Error) => {
        settled();
        if (connection !== this.#connection || this.#stopped) return;
        this.#guarded("reader", () => this.#reader?.failed(error));
        // The server said no (NOPERM: an ACL without INFO; a proxy without it): it will not tell, so a connection
        // not judged yet, or judged noeviction, is "not checked" (nothing says it is still noeviction: #read). An
        // evicting judgement stands: a server seen evicting is not made sound by falling silent. A passing refusal
        // (TRANSIENT_REPLY: BUSY, LOADING) and anything else (a timeout, the connection gone) say nothing of the
        // server: the judgement before it stands, or, with none, it is tried again after UNJUDGED_RETRY_MS (refused
        // meanwhile).
        if (
          error.name === "ReplyError" &&
          !TRANSIENT_REPLY.test(error.message) &&
          (this.#state === "unjudged" || this.#state === "sound")
        )
          this.#guarded("judgement", () => this.#set("unchecked", undefined));
        this.#next();
      },
    );
  }

  /**
   * The next read: soon while this connection has no judgement, else after the interval (the shorter of the check's
   * and its reader's). Never holds the process.
   */
  #next(): void {
    if (this.#stopped) return;
    // One timer at most: attach() on a socket ready but not yet connected() schedules while one is pending.
    clearTimeout(this.#timer);
    const interval = Math.min(this.options.checkIntervalMs, this.#reader?.intervalMs ?? Infinity);
    // Before the first connection a read is due no sooner than its attempt's timeout: a short interval (a test's
    // 100 ms) told the reader "not read" while the start was still connecting, a warn line at every loaded start.
    const delay =
      this.#connection === 0
        ? Math.max(interval, CONNECT_TIMEOUT_MS)
        : this.#state === "unjudged"
          ? UNJUDGED_RETRY_MS
          : interval;
    this.#timer = setTimeout(() => this.#tick(), delay);
    this.#timer.unref();
  }

  /** A read due: sent on a ready connection; else its reader told it failed, and the next one scheduled. */
  #tick(): void {
    if (this.#stopped) return;
    // A socket ready but not yet connected() (a tick before the event): its own INFO comes then; one now would be a
    // second read in flight beside it.
    if (this.redis.status === "ready" && this.redis.stream !== this.#stream) return this.#next();
    if (this.redis.status === "ready") return this.#judge(this.#state === "unjudged");
    this.#guarded("reader", () => this.#reader?.failed(new Error("connection not ready")));
    this.#next();
  }

  /**
   * Runs a consumer of a read (the judgement with its onJudged and log lines, the reader: the memory gauges) so that
   * its throw neither ends the schedule nor the process: thrown in a promise's callback it was an unhandled rejection
   * (early-faults.ts: the process ends), thrown in the timer's an uncaught exception, and either way the next read was
   * never scheduled (the policy and the gauges frozen at their last value). One error line per consumer, its error's
   * name only (its message is not ours to know), for the process's life: the schedule runs at every interval.
   */
  #guarded(consumer: "judgement" | "reader", run: () => unknown): void {
    try {
      const result = run();
      // A hook that returns a promise (an async one: `() => void` admits it) and rejects is a throw all the same.
      if (result !== null && typeof result === "object" && typeof (result as { then?: unknown }).then === "function")
        (result as PromiseLike<unknown>).then(undefined, (error: unknown) => this.#threwIn(consumer, error));
    } catch (error) {
      this.#threwIn(consumer, error);
    }
  }

  #threwIn(consumer: "judgement" | "reader", error: unknown): void {
    logThrowOnce(
      this.#threw,
      consumer,
      this.log,
      error,
      { redis: { consumer } },
      `redis INFO ${consumer} threw: its reads go on, further throws not logged`,
    );
  }

  #read(info: string, atConnection: boolean): void {
    if (atConnection) {
      const major = tooOldRedis(info);
      this.#tooOld = major !== undefined;
      if (major !== undefined)
        this.log.error(
          { redis: { version: major } },
          // Every budget (send, verify, register, read: otp-throttle.ts reserve) is taken by the one script.
          "redis is older than 7.0: every OTP send, verification, registration and credit-report read will be " +
            "answered PROTECTION_UNAVAILABLE, OUTCOME_UNKNOWN with an Idempotency-Key (the budgets' script needs " +
            "PEXPIRETIME, the key's claim SET NX GET, new in 7.0); upgrade Redis to " +
            "7.0 or later",
        );
    }
    const policy = maxmemoryPolicy(info);
    // An answer naming no policy after one that did, on the same connection (a proxy, an ACL changed): nothing says
    // the policy changed, so an evicting judgement stands (before, a Redis judged evicting was served again); nothing
    // says it is still noeviction either, so a sound one becomes "not checked", as a server that never named one is
    // (its gauge, for RedisUnsafe): kept "sound", the policy could turn evicting behind the silence with no alert for
    // as long as the connection lasted (test/e2e/redis-operations.test.ts).
    if (policy === undefined && this.#state === "evicting") return;
    this.#set(policy === undefined ? "unchecked" : policy === "noeviction" ? "sound" : "evicting", policy);
  }

  /** Takes a judgement: the gauge each time, a line only when it changed (or at a connection's first). */
  #set(state: "sound" | "evicting" | "unchecked", policy: string | undefined): void {
    const before = this.#state;
    const policyBefore = this.#policy;
    this.#state = state;
    if (state === "evicting") this.#policy = policy;
    // Also as a gauge (metrics.ts aopay_redis_unsafe): a line is easily missed, an alert is not.
    // Guarded on its own: the lines below and the waiters (the start's judged()) come whatever the gauge's hook does.
    this.#guarded("judgement", () =>
      this.options.onJudged?.({
        evictingPolicy: state === "evicting",
        policyUnchecked: state === "unchecked",
        tooOld: this.#tooOld,
      }),
    );
    const refuse = this.options.evictingPolicy === "refuse";
    if (state === "evicting" && (before !== "evicting" || policy !== policyBefore))
      this.log.error(
        { redis: { maxmemoryPolicy: policy, evictingPolicy: this.options.evictingPolicy } },
        `redis maxmemory-policy is ${policy}, not noeviction: at maxmemory Redis may evict OTP budgets, cooldowns ` +
          "and idempotency records, and customers be sent more OTPs than the budgets allow; " +
          (refuse
            ? "OTP sends are refused until it is noeviction (PROTECTION_UNAVAILABLE, or OUTCOME_UNKNOWN with an " +
              "Idempotency-Key, whose record is not read): set maxmemory-policy noeviction (or " +
              "REDIS_EVICTING_POLICY=warn to accept the risk)"
            : "sends go on (REDIS_EVICTING_POLICY=warn): set maxmemory-policy noeviction"),
      );
    else if (state !== "evicting" && policyBefore !== undefined) {
      this.#policy = undefined;
      this.log.info(
        { redis: { maxmemoryPolicy: policy ?? null } },
        refuse
          ? "redis maxmemory-policy no longer evicts: OTP sends are served again"
          : "redis maxmemory-policy no longer evicts",
      );
    }
    if (state === "unchecked" && before !== "unchecked")
      this.log.warn(
        "redis maxmemory-policy could not be checked (INFO refused, or it names no policy): make sure it is noeviction",
      );
    for (const waiter of this.#waiters.splice(0)) waiter();
  }
}

/** The major version INFO's `redis_version` names when it is older than MIN_REDIS_MAJOR; undefined otherwise. */
export function tooOldRedis(info: string): number | undefined {
  const version = /^redis_version:(\d+)\./m.exec(info)?.[1];
  return version !== undefined && Number(version) < MIN_REDIS_MAJOR ? Number(version) : undefined;
}

/**
 * INFO's `maxmemory_policy`, read over every such line (a proxy before several servers may list each one's), whatever
 * the case and the spaces around the name, the colon and the value (CRLF or LF): `noeviction` only when every line
 * says exactly that; else the first other value, a policy unknown here (a future one) included, as evicting. Undefined
 * when no line names one. The value goes into a log line: only [a-z0-9_-] of it, 32 at most (`unknown` if none).
 * Before, a line spaced otherwise (`maxmemory_policy:allkeys-lru `) named no policy: not judged, sends went on.
 */
export function maxmemoryPolicy(info: string): string | undefined {
  let policy: string | undefined;
  for (const [, raw] of info.matchAll(/^[ \t]*maxmemory_policy[ \t]*:(.*)$/gim)) {
    const value = raw.trim().toLowerCase();
    if (value === "noeviction") policy = value;
    else return value.replace(/[^a-z0-9_-]/g, "").slice(0, 32) || "unknown";
  }
  return policy;
}

/**
 * INFO's `maxmemory_policy` when it lets Redis evict keys (anything but `noeviction`); undefined for `noeviction` or
 * when INFO does not name one. Only the policy's own characters are kept: it is written into a log line.
 */
export function evictingPolicy(info: string): string | undefined {
  const policy = maxmemoryPolicy(info);
  return policy !== undefined && policy !== "noeviction" ? policy : undefined;
}

/**
 * Readiness probe: PING answered within `timeoutMs`. Its verdict waits for the replies readable when its timer fires
 * (util/after-io.ts): a PONG that came during a stall of the event loop is not "Redis does not answer" (/readyz 503,
 * aopay_redis_up 0, for a Redis that answered in time).
 */
export async function redisAnswers(redis: Redis, timeoutMs = 500): Promise<boolean> {
  if (redis.status !== "ready") return false;
  let timer: NodeJS.Timeout | undefined;
  try {
    const pong = await Promise.race([
      redis.ping(),
      new Promise<string>((resolve) => {
        timer = timeoutAfterIo(resolve, timeoutMs, "timeout");
      }),
    ]);
    return pong === "PONG";
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * redisAnswers shared by its concurrent callers: one PING in flight at most, whose answer every caller waiting
 * meanwhile takes. /readyz (each request) and the metrics page (aopay_redis_up, each scrape) both ask: before, each
 * asker sent a PING of its own, so a burst of probes (several load balancers' health checks, a scrape beside them) was
 * as many identical round trips to the stores' Redis. A caller that joins a PING sent earlier gets its verdict a little
 * sooner than its own `timeoutMs` would have (never later): a Redis that has not answered by then is the same Redis.
 */
export function sharedAnswers(redis: Redis, timeoutMs = 500): () => Promise<boolean> {
  let answering: Promise<boolean> | undefined;
  return () =>
    (answering ??= redisAnswers(redis, timeoutMs).finally(() => {
      answering = undefined;
    }));
}

/**
 * Waits until the connection is ready, up to `timeoutMs`; false if it is not ready by then (never throws). Judged after
 * the replies readable when its timer fires (util/after-io.ts): the handshake's last answer, come during a stall of
 * the event loop, makes it ready first.
 */
export function redisReady(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === "ready") return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      redis.off("ready", onReady);
      resolve(ok);
    };
    const onReady = () => done(true);
    const timer = timeoutAfterIo(done, timeoutMs, false);
    redis.on("ready", onReady);
  });
}

/**
 * A Lua script as a command of `redis`, called with its keys then its arguments; resolves to the script's reply. Arrays
 * among the arguments are flattened by ioredis (Command's `args.flat()`): one array of them all will do.
 */
export type ScriptCommand<T> = (...keysThenArgs: Array<string | number | readonly string[]>) => Promise<T>;

/**
 * Lua for the scripts that meet a sorted-set member scored later than any of ours scores one (bytes not ours, Redis's
 * clock stepped back): `rescoreAhead(key, limit)` scores every member of `key` later than `limit` at `limit`, so that
 * it ends within the span its script allows (redis-budgets.ts TAKE: a destination's send, as sent now;
 * redis-registered-mobiles.ts SENDING: a send mark, at LONGEST_SEND_MARK_TTL_MS).
 */
export const RESCORE_AHEAD = `
local function rescoreAhead(key, limit)
  for _, m in ipairs(redis.call('zrangebyscore', key, '(' .. limit, '+inf')) do redis.call('zadd', key, limit, m) end
end`;

/**
 * Lua for the scripts that meet a sorted set they cannot read (another Redis type at its key: bytes not ours, since no
 * version writes one there): `replaceSet(key, ttl, score, member, ...)` replaces it by one holding those members,
 * living `ttl` ms (redis-budgets.ts TAKE: a destination's key, as one send now; redis-registered-mobiles.ts
 * UNREADABLE_MARKS: send marks, as one send left to expire).
 */
export const REPLACE_SET = `
local function replaceSet(key, ttl, ...)
  redis.call('DEL', key)
  redis.call('ZADD', key, ...)
  redis.call('PEXPIRE', key, ttl)
end`;

/**
 * What no count reaches, in Lua (INCR_OR, COUNT_AT, redis-registered-mobiles.ts SENT): 16 digits, past what Lua's
 * numbers (doubles) hold exactly with room to spare. One bound for all, so that every script reads a count alike:
 * COUNT_AT read 999999999999999 (15 digits) as a count, a send under way to UNDER_WAY, while INCR_OR, raising it to the
 * bound, read it as none and replaced it (a registration refused for as long as the key lived, sends going out).
 */
export const COUNT_BOUND = "1e15";

/**
 * Lua for the counts the scripts keep (redis-budgets.ts TAKE's fixed windows, redis-registered-mobiles.ts SENDING's
 * `regsend:`): `incrOr(key, replacement, ...)` raises the count at `key` by one and answers it; a key holding no
 * count this service writes (text, a fraction, a count below one or one INCR cannot raise, another Redis type: bytes
 * not ours) is set to `replacement` instead (with SET's options `...`: an expiry) and answers that. Found by the error
 * INCR answers (pcall): no command more on the usual path. Before, the script failed at the INCR for as long as the
 * key lived, and a count far below zero let as many sends through. A count raised past 15 digits is none either, as
 * COUNT_AT reads it: Lua's numbers (doubles) do not hold such a count exactly, and one near 2^63 (INCR's limit) came
 * back from the script as -2^63 (a Lua number at 2^63 made an integer reply): TAKE refused and gave every point back,
 * otp-throttle.ts read the count as room, and every send the key counted went out, none counted
 * (test/integration/redis-throttle.test.ts).
 */
export const INCR_OR = `
local function incrOr(key, replacement, ...)
  local n = redis.pcall('INCR', key)
  if type(n) == 'number' and n >= 1 and n < ${COUNT_BOUND} then return n end
  redis.call('SET', key, replacement, ...)
  return replacement
end`;

/**
 * Lua for the scripts that read a count without raising it (redis-budgets.ts GIVE_BACK, redis-registered-mobiles.ts
 * UNDER_WAY): `countAt(key)` answers the count at `key` when it holds one as INCR writes it (digits without a sign,
 * a fraction, spaces or leading zeros) and INCR_OR would raise it (one more stays under COUNT_BOUND), else nil, as
 * for no key: the same counts as INCR_OR's, so that a registration and a send read a key alike. `tonumber` read
 * `1.5`, `1e3`, ` 5` and `0x10` as counts, which DECR then failed on ("not an integer"): GIVE_BACK failed with `1.5`
 * planted in the window it gives back to.
 */
export const COUNT_AT = `
local function countAt(key)
  local v = redis.pcall('GET', key)
  if type(v) == 'string' and #v <= 15 and string.find(v, '^[1-9]%d*$') and tonumber(v) + 1 < ${COUNT_BOUND} then
    return tonumber(v)
  end
  return nil
end`;

/**
 * Lua for the scripts that read a record (a string every version writes with SET): `recordAt(key)` answers its value,
 * false for no key, and 0 (a number, which no GET answers) for a key of another type (WRONGTYPE: bytes not ours), which
 * the caller refuses (errors.ts ForeignRecordError). MGET, read before, answers nil for another type: no record, and a
 * send went out as if the id had no registered mobile. By pcall: no command more on the usual path.
 */
export const RECORD_AT = `
local function recordAt(key)
  local v = redis.pcall('GET', key)
  if type(v) == 'table' then return 0 end
  return v
end`;

/**
 * Lua for the send marks (redis-registered-mobiles.ts UNDER_WAY, MARK_SEND): `unreadableMarks(key, now, furthest)`
 * for a `regsends:` key that is no sorted set (bytes not ours: no version writes another type there), which failed
 * the script, so that the id's every send, or its PAN's every registration, was refused as the store failing for as
 * long as the key lived (for good without an expiry). The marks it held cannot be read, so they count as one send
 * left to expire at `furthest` (LONGEST_SEND_MARK_TTL_MS): a member and its lingering copy, as UNDER_WAY tells them,
 * the key living as long. Found by an error from the first command on the key (pcall): no command more on the usual
 * path. Needs REPLACE_SET before it.
 */
export const UNREADABLE_MARKS = `
local function unreadableMarks(key, now, furthest)
  replaceSet(key, furthest, now + furthest, 'unreadable', now + furthest, 'unreadable!')
end`;

/**
 * Lua for a send's mark (redis-registered-mobiles.ts SENDING, alone; redis-budgets.ts TAKE_AND_MARK, after the
 * send's budgets allowed it, in the same script): `markSend(K, A)` with K = {`regsends:`, `regmobiles:`,
 * `regmobile:`, `regsend:` [, `regtoken:`]} of one record key and A = {mark TTL ms, the entry's member, the furthest
 * any replica marks ahead (LONGEST_SEND_MARK_TTL_MS)}: the member added, scored with the time it stops counting, the
 * `regsend:` count raised for the versions before, then the records (and the token's link) read with recordAt in the
 * same script, so that a registration either is seen by the send or sees its mark. Answers the reads. Needs
 * REPLACE_SET, UNREADABLE_MARKS, RESCORE_AHEAD, INCR_OR and RECORD_AT before it. Why each step is as it is:
 * redis-registered-mobiles.ts SENDING.
 */
export const MARK_SEND = `
local function markSend(K, A)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local ttl = tonumber(A[1])
  local furthest = tonumber(A[3])
  if type(redis.pcall('ZREMRANGEBYSCORE', K[1], '-inf', now)) == 'table' then
    unreadableMarks(K[1], now, furthest)
  end
  redis.call('ZADD', K[1], now + ttl, A[2])
  if redis.call('ZSCORE', K[1], A[2] .. '!') then redis.call('ZADD', K[1], now + ttl, A[2] .. '!') end
  local last = tonumber(redis.call('ZRANGE', K[1], -1, -1, 'WITHSCORES')[2])
  if last > now + furthest then
    rescoreAhead(K[1], now + furthest)
    last = now + furthest
  end
  redis.call('PEXPIRE', K[1], last - now)
  incrOr(K[4], 1)
  local counted = redis.call('PTTL', K[4])
  if counted < 0 then
    redis.call('PEXPIRE', K[4], ttl)
  elseif counted > furthest then
    redis.call('PEXPIRE', K[4], furthest)
  end
  local reads = {recordAt(K[2]), recordAt(K[3])}
  if K[5] then reads[3] = recordAt(K[5]) end
  return reads
end`;

/** What recordAt answers for a key of another type (and READ_RECORDS for it): no GET answers a number. */
export const FOREIGN_TYPE = 0;

/** recordAt over every key (KEYS), as MGET answers them but with FOREIGN_TYPE for a key of another type. */
export const READ_RECORDS = `${RECORD_AT}
local out = {}
for i = 1, #KEYS do out[i] = recordAt(KEYS[i]) end
return out`;

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
