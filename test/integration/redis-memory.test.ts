import type { ChildProcess } from "node:child_process";
import type Redis from "ioredis";
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue } from "prom-client";
import { loadConfig } from "../../src/config";
import { createLogger } from "../../src/logging/logger";
import { Metrics } from "../../src/observability/metrics";
import { createProtection, type RequestObserver } from "../../src/protection";
import { createRedis } from "../../src/protection/redis";
import { memoryReading, type RedisMemoryReading, RedisMemoryPoll } from "../../src/protection/redis-memory";
import { freePort } from "../helpers/free-port";
import { LogCapture } from "../helpers/log-capture";
import { recordCommands } from "../helpers/redis";
import {
  connectPrivateRedis,
  describeWithPrivateRedis,
  startRedis,
  stopRedis,
  waitFor,
} from "../helpers/private-redis";

/**
 * The poll of Redis's memory (src/protection/redis-memory.ts) through a real redis-server of the test's own: the
 * aopay_redis_memory_* gauges on a real Metrics page move as keys are written under a CONFIG SET maxmemory, the ratio
 * RedisMemoryFilling reads crosses 0.9, and with Redis stopped the bytes leave the page (no stale figure) while
 * aopay_redis_memory_read_ok says 0, in one warn line and its summary, naming no key.
 */

describe("memoryReading (INFO memory)", () => {
  it("reads used_memory and maxmemory, CRLF or LF, not used_memory_rss and the like", () => {
    const info = "# Memory\r\nused_memory:1048576\r\nused_memory_rss:9999999\r\nmaxmemory:4194304\r\n";
    expect(memoryReading(info)).toEqual({ usedBytes: 1_048_576, maxBytes: 4_194_304 });
    expect(memoryReading("used_memory:10\nmaxmemory:0\n")).toEqual({ usedBytes: 10, maxBytes: 0 });
    expect(memoryReading("used_memory : 10 \nmaxmemory: 20\n")).toEqual({ usedBytes: 10, maxBytes: 20 });
  });

  it("reads nothing from an INFO without both figures, or with figures that are not byte counts", () => {
    expect(memoryReading("# Memory\r\nused_memory_rss:10\r\n")).toBeUndefined();
    expect(memoryReading("used_memory:10\r\n")).toBeUndefined();
    expect(memoryReading("used_memory:-1\r\nmaxmemory:20\r\n")).toBeUndefined();
    expect(memoryReading("used_memory:1.5\r\nmaxmemory:20\r\n")).toBeUndefined();
    expect(memoryReading("")).toBeUndefined();
  });

  it("takes the fullest server of a proxy's several, one without a limit last", () => {
    const info = "used_memory:10\nmaxmemory:0\nused_memory:50\nmaxmemory:100\nused_memory:90\nmaxmemory:1000\n";
    expect(memoryReading(info)).toEqual({ usedBytes: 50, maxBytes: 100 });
  });
});

/** The page's samples of the aopay_redis_memory_* gauges, by name. */
async function gauges(metrics: Metrics): Promise<Record<string, number>> {
  const text = await metrics.registry.metrics();
  return Object.fromEntries(
    [...text.matchAll(/^(aopay_redis_memory_\w+) (\S+)$/gm)].map(([, name, value]) => [name, Number(value)]),
  );
}

/** Calls of INFO the server has answered (INFO commandstats), as a count of the poll's reads. */
async function infoCalls(admin: Redis): Promise<number> {
  const stats = await admin.info("commandstats");
  return Number(/^cmdstat_info:calls=(\d+)/m.exec(stats)?.[1] ?? 0);
}

/** A key name no log line or label may show. */
const KEY_MARKER = "memtest-customer-9876543210";

/**
 * A private redis-server (noeviction; DEBUG SLEEP, a server held busy, needs the command enabled since Redis 7), with
 * a log capture and a Metrics page for the poll a test opens on it.
 */
async function privateServer(): Promise<{
  port: number;
  server: ChildProcess;
  admin: Redis;
  logs: LogCapture;
  metrics: Metrics;
}> {
  const port = await freePort();
  const server = startRedis(port, ["--maxmemory-policy", "noeviction", "--enable-debug-command", "yes"]);
  const logs = new LogCapture();
  const metrics = new Metrics(() => ({ inFlight: 0, queued: 0 }));
  return { port, server, admin: await connectPrivateRedis(port), logs, metrics };
}

/** The stores' connection to `url` (its policy judged at connection) and its memory poll, 100 ms apart, to `metrics`. */
function pollOn(url: string, logs: LogCapture, metrics: Metrics) {
  const log = createLogger({ level: "info", destination: logs });
  const created = createRedis(url, log, {
    evictingPolicy: "refuse",
    checkIntervalMs: 3_600_000,
    onJudged: (judged) => metrics.redisServer(judged),
  });
  const poll = new RedisMemoryPoll(created.check, log, { intervalMs: 100, onRead: (r) => metrics.redisMemory(r) });
  poll.start();
  return { ...created, poll };
}

describeWithPrivateRedis("the memory poll through a private Redis", () => {
  let port: number;
  let server: ChildProcess | undefined;
  let admin: Redis | undefined;
  let redis: Redis | undefined;
  let poll: RedisMemoryPoll | undefined;
  let check: { stop(): void } | undefined;
  let metrics: Metrics;
  let logs: LogCapture;

  beforeEach(async () => {
    ({ port, server, admin, logs, metrics } = await privateServer());
    const created = pollOn(`redis://127.0.0.1:${port}`, logs, metrics);
    redis = created.redis;
    check = created.check;
    poll = created.poll;
  });

  afterEach(async () => {
    poll?.stop();
    check?.stop();
    redis?.disconnect();
    await admin?.quit().catch(() => undefined);
    await stopRedis(server);
    metrics.close();
  });

  it("shows used and max bytes, and the ratio crosses 0.9 as keys are written under a maxmemory", async () => {
    expect(await waitFor(async () => (await gauges(metrics)).aopay_redis_memory_read_ok === 1, 5_000)).toBe(true);
    const unlimited = await gauges(metrics);
    expect(unlimited.aopay_redis_memory_max_bytes).toBe(0);
    expect(unlimited.aopay_redis_memory_used_bytes).toBeGreaterThan(0);

    const used = memoryReading(await admin!.info("memory"))!.usedBytes;
    const max = used + 2 * 1024 * 1024;
    await admin!.config("SET", "maxmemory", String(max));
    expect(await waitFor(async () => (await gauges(metrics)).aopay_redis_memory_max_bytes === max, 5_000)).toBe(true);
    const before = await gauges(metrics);
    expect(before.aopay_redis_memory_used_bytes / before.aopay_redis_memory_max_bytes).toBeLessThan(0.9);

    // 64 kB values until Redis refuses (noeviction at maxmemory: OOM), as the stores' writes would be.
    const value = "x".repeat(64 * 1024);
    let refused: Error | undefined;
    for (let i = 0; i < 200 && refused === undefined; i++)
      await admin!.set(`${KEY_MARKER}:${i}`, value).catch((error: Error) => (refused = error));
    expect(refused?.message).toMatch(/^OOM/);
    const crossed = async () => {
      const g = await gauges(metrics);
      return g.aopay_redis_memory_used_bytes / g.aopay_redis_memory_max_bytes > 0.9;
    };
    expect(await waitFor(crossed, 5_000)).toBe(true);
    expect((await gauges(metrics)).aopay_redis_memory_used_bytes).toBeGreaterThan(before.aopay_redis_memory_used_bytes);
    expect(logs.text()).not.toContain(KEY_MARKER);
    expect(await metrics.registry.metrics()).not.toContain(KEY_MARKER);
  });

  it("with Redis stopped: read_ok 0, the bytes off the page, one warn line and one summary; back when it is", async () => {
    expect(await waitFor(async () => (await gauges(metrics)).aopay_redis_memory_read_ok === 1, 5_000)).toBe(true);
    await admin!.quit();
    admin = undefined;
    await stopRedis(server);
    expect(await waitFor(async () => (await gauges(metrics)).aopay_redis_memory_read_ok === 0, 5_000)).toBe(true);
    // No sample of the bytes at all: not the last figures (stale), not 0 ("empty", "no limit").
    expect(await gauges(metrics)).toEqual({ aopay_redis_memory_read_ok: 0 });
    const page = await metrics.registry.metrics();
    expect(page).toContain("# TYPE aopay_redis_memory_used_bytes gauge");
    // Ten more failed reads at least (100 ms apart), still one line.
    await new Promise((r) => setTimeout(r, 1_000));
    const notRead = () => logs.records().filter((r) => /^redis memory not read/.test(String(r.msg)));
    expect(notRead()).toHaveLength(1);
    expect(notRead()[0]).toMatchObject({ level: "warn", redisMemory: { read: false } });

    server = startRedis(port, ["--maxmemory-policy", "noeviction", "--maxmemory", "64mb"]);
    const back = async () => (await gauges(metrics)).aopay_redis_memory_max_bytes === 64 * 1024 * 1024;
    expect(await waitFor(back, 10_000)).toBe(true);
    expect((await gauges(metrics)).aopay_redis_memory_read_ok).toBe(1);
    expect(logs.records().filter((r) => r.msg === "redis memory read again")).toHaveLength(1);
    // The stop writes the interval's summary: the failed reads not logged one by one, counted.
    poll!.stop();
    const summary = notRead().slice(1);
    expect(summary).toHaveLength(1);
    expect(summary[0]).toMatchObject({ redisMemory: { read: false } });
    expect(summary[0].suppressed as number).toBeGreaterThanOrEqual(5);
  }, 20_000);

  it("reads no more once stopped, and never two at once", async () => {
    expect(await waitFor(async () => (await gauges(metrics)).aopay_redis_memory_read_ok === 1, 5_000)).toBe(true);
    // The server held busy 600 ms (DEBUG SLEEP): reads wait for it, none more is sent meanwhile (one at a time).
    // Connected first: ioredis's ready check is an INFO of its own.
    const sleeper = await connectPrivateRedis(port);
    const start = await infoCalls(admin!);
    await sleeper.call("DEBUG", "SLEEP", "0.6");
    await sleeper.quit();
    const afterSleep = (await infoCalls(admin!)) - start;
    // Our own INFO commandstats counts 1; the poll, 100 ms apart, had 6 intervals but read at most once or twice.
    expect(afterSleep).toBeLessThanOrEqual(3);
    poll!.stop();
    // A read sent just before the stop (on another connection than ours) lands first.
    await new Promise((r) => setTimeout(r, 100));
    const stopped = await infoCalls(admin!);
    await new Promise((r) => setTimeout(r, 500));
    // Only our own INFO since.
    expect(await infoCalls(admin!)).toBe(stopped + 1);
  });
});

/**
 * Attacks on the poll beside the outage above: a server that accepts the command and answers only after the
 * connection's command timeout (DEBUG SLEEP, CLIENT PAUSE), and an ACL user without INFO (NOPERM) reached through a
 * REDIS_URL with a user and password: each read fails as a read, the poll goes on, and no line names the password,
 * the user or the host.
 */
describeWithPrivateRedis("the memory poll against a hung or refusing Redis", () => {
  const PASSWORD = "memtest-Pa55word-0123456789";
  let port: number;
  let server: ChildProcess | undefined;
  let admin: Redis | undefined;
  let created: ReturnType<typeof createRedis> | undefined;
  let poll: RedisMemoryPoll | undefined;
  let metrics: Metrics;
  let logs: LogCapture;

  beforeEach(async () => {
    ({ port, server, admin, logs, metrics } = await privateServer());
  });

  /** The stores' connection as `user` (with PASSWORD) and its poll. */
  function pollAs(user: string): void {
    const opened = pollOn(`redis://${user}:${PASSWORD}@127.0.0.1:${port}`, logs, metrics);
    created = opened;
    poll = opened.poll;
  }

  afterEach(async () => {
    poll?.stop();
    created?.check.stop();
    created?.redis.disconnect();
    await admin?.quit().catch(() => undefined);
    await stopRedis(server);
    metrics.close();
  });

  const readOk = async () => (await gauges(metrics)).aopay_redis_memory_read_ok;
  const noSecretIn = (text: string) => {
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain("memtest-user");
  };

  it("an ACL user without INFO (NOPERM): read_ok 0, no bytes, one warn line naming no password, user or host", async () => {
    await admin!.call("ACL", "SETUSER", "memtest-user", "on", `>${PASSWORD}`, "~*", "&*", "+@all", "-info");
    pollAs("memtest-user");
    const notRead = () => logs.records().filter((r) => /^redis memory not read/.test(String(r.msg)));
    expect(await waitFor(async () => notRead().length > 0, 5_000)).toBe(true);
    // Ten reads more at least (100 ms apart): still refused, still one line.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await gauges(metrics)).toEqual({ aopay_redis_memory_read_ok: 0 });
    expect(notRead()).toHaveLength(1);
    expect(notRead()[0]).toMatchObject({ level: "warn", err: { name: "ReplyError" } });
    // The policy's reading is refused too: RedisPolicyUnchecked's gauge says so (docs/operations.md).
    expect(await metrics.registry.metrics()).toMatch(/^aopay_redis_unsafe\{problem="eviction_policy_unchecked"\} 1$/m);
    poll!.stop();
    noSecretIn(logs.text());
    for (const line of notRead()) expect(JSON.stringify(line)).not.toContain(`127.0.0.1:${port}`);
  });

  it("a Redis that accepts INFO but answers after the command timeout (DEBUG SLEEP 2.5): failed, then read again", async () => {
    await admin!.call("ACL", "SETUSER", "memtest-user", "on", `>${PASSWORD}`, "~*", "&*", "+@all");
    pollAs("memtest-user");
    expect(await waitFor(async () => (await readOk()) === 1, 5_000)).toBe(true);
    const sleeper = await connectPrivateRedis(port);
    const slept = sleeper.call("DEBUG", "SLEEP", "2.5");
    expect(await waitFor(async () => (await readOk()) === 0, 2_000)).toBe(true);
    await slept;
    await sleeper.quit();
    expect(await waitFor(async () => (await readOk()) === 1, 5_000)).toBe(true);
    expect(logs.records().filter((r) => r.msg === "redis memory read again")).toHaveLength(1);
    noSecretIn(logs.text());
  }, 15_000);

  it("CLIENT PAUSE ALL: the read times out as a failed read, and reads resume once the pause ends", async () => {
    await admin!.call("ACL", "SETUSER", "memtest-user", "on", `>${PASSWORD}`, "~*", "&*", "+@all");
    pollAs("memtest-user");
    expect(await waitFor(async () => (await readOk()) === 1, 5_000)).toBe(true);
    await admin!.call("CLIENT", "PAUSE", "2500", "ALL");
    expect(await waitFor(async () => (await readOk()) === 0, 2_000)).toBe(true);
    expect(await waitFor(async () => (await readOk()) === 1, 5_000)).toBe(true);
    noSecretIn(logs.text());
  }, 15_000);
});

describeWithPrivateRedis("the stores' poll (createProtection, REDIS_MEMORY_POLL_SECONDS)", () => {
  /** The stores over a private Redis with the setting given, each read their observer was told of, and the server. */
  async function stores(pollSeconds: string) {
    const port = await freePort();
    const server = startRedis(port, ["--maxmemory-policy", "noeviction", "--maxmemory", "8mb"]);
    const admin = await connectPrivateRedis(port);
    const reads: Array<RedisMemoryReading | undefined> = [];
    const config = loadConfig({
      NODE_ENV: "test",
      REDIS_URL: `redis://127.0.0.1:${port}`,
      HMAC_SECRET: "redis-memory-test-secret-0123456789abcdef",
      REDIS_MEMORY_POLL_SECONDS: pollSeconds,
    });
    // Only the hook under test: createProtection calls every other one optionally or not before a request.
    const observer = { redisMemory: (reading: RedisMemoryReading | undefined) => reads.push(reading) };
    const protection = createProtection(
      config,
      createLogger({ level: "fatal", destination: new LogCapture() }),
      observer as unknown as RequestObserver,
    );
    expect(await protection.connect(5_000)).toBe(true);
    return { server, admin, reads, protection };
  }

  it("reads on the stores' connection from the start, and not once they are closed", async () => {
    const { server, admin, reads, protection } = await stores("1");
    try {
      expect(await waitFor(async () => reads.some((r) => r !== undefined), 5_000)).toBe(true);
      expect(reads[0]).toBeUndefined();
      expect(reads.find((r) => r !== undefined)).toMatchObject({ maxBytes: 8 * 1024 * 1024 });
      await protection.close();
      const told = reads.length;
      const calls = await infoCalls(admin);
      // Two intervals more: nothing read, nothing told.
      await new Promise((r) => setTimeout(r, 2_200));
      expect(await infoCalls(admin)).toBe(calls + 1);
      expect(reads).toHaveLength(told);
    } finally {
      await admin.quit();
      await stopRedis(server);
    }
  });

  it("REDIS_MEMORY_POLL_SECONDS=0: never read, never told (no gauge on the page)", async () => {
    const { server, admin, reads, protection } = await stores("0");
    try {
      await new Promise((r) => setTimeout(r, 300));
      expect(reads).toEqual([]);
    } finally {
      await protection.close();
      await admin.quit();
      await stopRedis(server);
    }
  });
});

/**
 * One `INFO memory` per interval feeds both readers (redis.ts RedisServerCheck): the policy's judgement
 * (aopay_redis_unsafe) and the memory gauges. Before, the check and the poll each read it on a timer of their own: two
 * identical commands per interval on the same connection. The stores' connection's commands are recorded (its own
 * sendCommand), from after its connection's first judgement.
 */
describeWithPrivateRedis("one INFO memory for the policy and the gauges (createProtection)", () => {
  /** The stores over a private Redis with the settings given; what they read and told, in order. */
  async function stores(policySeconds: string, pollSeconds: string) {
    const port = await freePort();
    const server = startRedis(port, ["--maxmemory-policy", "noeviction", "--maxmemory", "8mb"]);
    const admin = await connectPrivateRedis(port);
    const events: string[] = [];
    const config = loadConfig({
      NODE_ENV: "test",
      REDIS_URL: `redis://127.0.0.1:${port}`,
      HMAC_SECRET: "redis-memory-test-secret-0123456789abcdef",
      REDIS_POLICY_CHECK_SECONDS: policySeconds,
      REDIS_MEMORY_POLL_SECONDS: pollSeconds,
    });
    const observer = {
      redisMemory: (r: RedisMemoryReading | undefined) => events.push(r ? `memory ${r.maxBytes}` : "memory none"),
      redisServer: (j: { evictingPolicy: boolean }) => events.push(j.evictingPolicy ? "evicting" : "sound"),
    };
    const protection = createProtection(
      config,
      createLogger({ level: "fatal", destination: new LogCapture() }),
      observer as unknown as RequestObserver,
    );
    expect(await protection.connect(5_000)).toBe(true);
    const sent = recordCommands(protection.redis!);
    const infos = () => sent.filter((name) => name === "info").length;
    const close = async () => {
      await protection.close();
      await admin.quit();
      await stopRedis(server);
    };
    return { admin, events, infos, close, protection };
  }

  /** `body` over the stores with those settings, closed (and the server stopped) whatever it does. */
  async function withStores(
    policySeconds: string,
    pollSeconds: string,
    body: (s: Awaited<ReturnType<typeof stores>>) => Promise<void>,
  ): Promise<void> {
    const opened = await stores(policySeconds, pollSeconds);
    try {
      await body(opened);
    } finally {
      await opened.close();
    }
  }

  it(
    "both every second: one INFO a second, not two; a CONFIG SET seen by the judgement and the gauges alike",
    () =>
      withStores("1", "1", async ({ admin, events, infos }) => {
        await new Promise((r) => setTimeout(r, 3_500));
        // Three intervals: three reads (two before, the check's and the poll's each).
        expect(infos()).toBeGreaterThanOrEqual(2);
        expect(infos()).toBeLessThanOrEqual(4);
        await admin.config("SET", "maxmemory-policy", "allkeys-lru");
        await admin.config("SET", "maxmemory", "16mb");
        const seen = () => events.includes("evicting") && events.includes(`memory ${16 * 1024 * 1024}`);
        expect(await waitFor(async () => seen(), 3_000)).toBe(true);
        // Each answer feeds both, in the same turn: the judgement, then the reading of the same reply.
        const evicting = events.indexOf("evicting");
        expect(events[evicting + 1]).toBe(`memory ${16 * 1024 * 1024}`);
      }),
    15_000,
  );

  it(
    "REDIS_POLICY_CHECK_SECONDS=3600, REDIS_MEMORY_POLL_SECONDS=1: the policy is judged at each read (1 s)",
    () =>
      withStores("3600", "1", async ({ admin, events, infos }) => {
        await admin.config("SET", "maxmemory-policy", "volatile-lru");
        expect(await waitFor(async () => events.includes("evicting"), 3_000)).toBe(true);
        expect(infos()).toBeLessThanOrEqual(3);
      }),
    15_000,
  );

  /** A reading the gauges were told (not a failed read). */
  const reading = (event: string | undefined) => /^memory \d+$/.test(event ?? "");

  it(
    "two reconnects (CLIENT KILL): each restarts the reads once, one INFO a second after them, not two",
    () =>
      withStores("1", "1", async ({ admin, events, infos, protection }) => {
        for (let i = 0; i < 2; i++) {
          const ready = new Promise((resolve) => protection.redis!.once("ready", resolve));
          await admin.call("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes");
          await ready;
          // The connection's own read: judged, then read for the bytes (ioredis's ready check is an INFO too).
          expect(await waitFor(async () => reading(events.at(-1)), 3_000)).toBe(true);
        }
        const before = infos();
        const told = events.length;
        await new Promise((r) => setTimeout(r, 3_500));
        // Three intervals: three reads, four at most (a second timer left by a reconnect: six or more).
        expect(infos() - before).toBeGreaterThanOrEqual(2);
        expect(infos() - before).toBeLessThanOrEqual(4);
        // Each read told once to each reader: a judgement, then its reading.
        const since = events.slice(told);
        expect(since.filter((e) => e === "sound").length).toBe(since.filter(reading).length);
      }),
    20_000,
  );

  it(
    "closed while a read hangs (CLIENT PAUSE): nothing read or told after the close",
    () =>
      withStores("1", "1", async ({ admin, events, infos, protection }) => {
        await new Promise((r) => setTimeout(r, 1_200));
        await admin.call("CLIENT", "PAUSE", "1500", "ALL");
        // A read sent into the pause, then the close: QUIT waits in the pause too (or times out, then a disconnect).
        await new Promise((r) => setTimeout(r, 1_100));
        await protection.close();
        const sent = infos();
        const told = events.length;
        await new Promise((r) => setTimeout(r, 2_500));
        expect(infos()).toBe(sent);
        expect(events).toHaveLength(told);
        expect(protection.redis!.status).toBe("end");
      }),
    20_000,
  );

  it(
    "REDIS_POLICY_CHECK_SECONDS=1, REDIS_MEMORY_POLL_SECONDS=0: one INFO a second, the gauges never told",
    () =>
      withStores("1", "0", async ({ admin, events, infos }) => {
        await new Promise((r) => setTimeout(r, 2_500));
        expect(infos()).toBeGreaterThanOrEqual(1);
        expect(infos()).toBeLessThanOrEqual(3);
        await admin.config("SET", "maxmemory-policy", "allkeys-random");
        expect(await waitFor(async () => events.includes("evicting"), 3_000)).toBe(true);
        expect(events.filter((e) => e.startsWith("memory"))).toEqual([]);
      }),
    15_000,
  );
});

describeWithPrivateRedis("the memory reads before a first connection (the check's timer, not yet connected)", () => {
  it("Redis not there at start: a failed read once its connect timeout (2 s) has passed, one warn line; then read", async () => {
    const port = await freePort();
    const logs = new LogCapture();
    const metrics = new Metrics(() => ({ inFlight: 0, queued: 0 }));
    const { redis, check, poll } = pollOn(`redis://127.0.0.1:${port}`, logs, metrics);
    let server: ChildProcess | undefined;
    try {
      const notRead = () => logs.records().filter((r) => /^redis memory not read/.test(String(r.msg)));
      // Not within the first attempt's 2 s (still connecting), then at the interval (100 ms).
      await new Promise((r) => setTimeout(r, 1_500));
      expect(notRead()).toEqual([]);
      expect(await waitFor(async () => notRead().length > 0, 2_000)).toBe(true);
      expect(notRead()).toHaveLength(1);
      expect(await gauges(metrics)).toEqual({ aopay_redis_memory_read_ok: 0 });
      server = startRedis(port, ["--maxmemory-policy", "noeviction", "--maxmemory", "32mb"]);
      const read = async () => (await gauges(metrics)).aopay_redis_memory_max_bytes === 32 * 1024 * 1024;
      expect(await waitFor(read, 10_000)).toBe(true);
      expect(logs.records().filter((r) => r.msg === "redis memory read again")).toHaveLength(1);
    } finally {
      poll.stop();
      check.stop();
      redis.disconnect();
      await stopRedis(server);
      metrics.close();
    }
  }, 20_000);
});

/**
 * The same class of defect on the readiness side: /readyz (each request) and aopay_redis_up (each scrape) ask
 * protection.ready(), a PING; concurrent askers share the one in flight (redis.ts sharedAnswers), not one each.
 */
describeWithPrivateRedis("one PING for concurrent readiness askers (createProtection ready)", () => {
  it("ten askers while a PING is in flight: one PING, ten answers; the next asker after it a PING of its own", async () => {
    const port = await freePort();
    const server = startRedis(port, ["--maxmemory-policy", "noeviction", "--enable-debug-command", "yes"]);
    const admin = await connectPrivateRedis(port);
    const config = loadConfig({
      NODE_ENV: "test",
      REDIS_URL: `redis://127.0.0.1:${port}`,
      HMAC_SECRET: "redis-memory-test-secret-0123456789abcdef",
      REDIS_MEMORY_POLL_SECONDS: "0",
    });
    const protection = createProtection(config, createLogger({ level: "fatal", destination: new LogCapture() }));
    try {
      expect(await protection.connect(5_000)).toBe(true);
      const sent = recordCommands(protection.redis!);
      const pings = () => sent.filter((name) => name === "ping").length;
      // The server held 200 ms (within the PING's 500 ms), so that the askers meet one in flight.
      const slept = admin.call("DEBUG", "SLEEP", "0.2");
      const answers = await Promise.all(Array.from({ length: 10 }, () => protection.ready()));
      await slept;
      expect(answers).toEqual(Array(10).fill(true));
      expect(pings()).toBe(1);
      expect(await protection.ready()).toBe(true);
      expect(pings()).toBe(2);
    } finally {
      await protection.close();
      await admin.quit();
      await stopRedis(server);
    }
  });
});

describe("WEB_CONCURRENCY > 1: the primary's page (cluster.ts aggregation)", () => {
  /** One worker's page as the primary receives it. */
  async function worker(reading: { usedBytes: number; maxBytes: number } | undefined) {
    const metrics = new Metrics(() => ({ inFlight: 0, queued: 0 }));
    metrics.redisMemory(reading);
    const json = (await metrics.registry.getMetricsAsJSON()) as Array<MetricObjectWithValues<MetricValue<string>>>;
    metrics.close();
    return json.filter((m) => m.name.startsWith("aopay_redis_memory_"));
  }

  it("shows the one server's figures once (the largest worker's, never a sum) and the worst read_ok", async () => {
    const workers = await Promise.all([
      worker({ usedBytes: 900, maxBytes: 1000 }),
      worker({ usedBytes: 920, maxBytes: 1000 }),
      worker(undefined),
    ]);
    const page = await AggregatorRegistry.aggregate(workers).metrics();
    const samples = Object.fromEntries(
      [...page.matchAll(/^(aopay_redis_memory_\w+) (\S+)$/gm)].map(([, name, value]) => [name, Number(value)]),
    );
    expect(samples).toEqual({
      aopay_redis_memory_read_ok: 0,
      aopay_redis_memory_used_bytes: 920,
      aopay_redis_memory_max_bytes: 1000,
    });
  });
});
