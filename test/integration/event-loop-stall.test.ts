import Redis from "ioredis";
import { AopayError } from "../../src/aopay/errors";
import { AopayTransport } from "../../src/aopay/transport";
import { createLogger } from "../../src/logging/logger";
import { COMMAND_TIMEOUT_MS, createRedis, redisAnswers, timeCommands } from "../../src/protection/redis";
import { blackHole, type FakeHandler, type FakeUpstream, json, startFakeUpstream } from "../helpers/fake-upstream";
import { holdingUpstream, until } from "../helpers/holding-upstream";
import { LogCapture } from "../helpers/log-capture";
import { deleteKeys, describeWithRedis, REDIS_URL, uniquePrefix } from "../helpers/redis";
import { type RedisProxy, startRedisProxy } from "../helpers/redis-proxy";
import { aepsInput, RESEND_AEPS_OTP } from "../helpers/operations";
import { parseResponse, rawClient } from "../helpers/raw-http";
import { startStackOnFakeUpstream } from "../helpers/stack";
import { STALL_MS, stallEventLoop } from "../helpers/stall";
import { otpSend, testTransportOptions } from "../helpers/transport";

/**
 * The event loop stalls (a GC pause, a CPU-starved box, a synchronous burst) for longer than a 1 s timeout right after
 * a request was written and its answer came: the answer sits unread in the socket when the timers phase comes, before
 * the poll phase that reads it. A timeout judged there failed a call its peer had answered in time (a Redis command
 * answered in 0.1 ms: "Command timed out"; an OTP AOPay sent: OUTCOME_UNKNOWN). Now each is judged after the answers
 * readable by then (src/util/after-io.ts), and a peer that truly does not answer still times out at about 1 s.
 */

/** Answers, then holds the loop: the answer is in the transport's socket, unread, past the call's deadline. */
const answerThenStall =
  (inner: FakeHandler): FakeHandler =>
  (call, res, req) => {
    inner(call, res, req);
    stallEventLoop(STALL_MS);
  };

describe("AopayTransport: a call's deadline after a stall of the event loop", () => {
  let upstream: FakeUpstream;
  let transport: AopayTransport;
  beforeEach(async () => {
    upstream = await startFakeUpstream();
    // A 1 s deadline (AOPAY_DEADLINE_MS), headers and body timeouts longer (undici's own: see transport.ts).
    transport = new AopayTransport(testTransportOptions(upstream.url, { deadlineMs: 1_000 }));
  });
  afterEach(async () => {
    await transport.close(0);
    await upstream.close();
  });

  it("an answer AOPay sent in time is the call's result, not a deadline passed", async () => {
    upstream.respond(answerThenStall(json(200, { status: "SUCCESS" })));
    const started = performance.now();
    const res = await transport.send(otpSend);
    expect(performance.now() - started).toBeGreaterThanOrEqual(STALL_MS);
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body.toString())).toEqual({ status: "SUCCESS" });
  });

  it("undici's headers and body timeouts over 1 s outlast a longer stall (its ticking clock)", async () => {
    await transport.close(0);
    transport = new AopayTransport(
      testTransportOptions(upstream.url, { headersTimeoutMs: 1_100, bodyTimeoutMs: 1_100, deadlineMs: 10_000 }),
    );
    upstream.respond((call, res, req) => {
      json(200, { status: "SUCCESS" })(call, res, req);
      stallEventLoop(2_000);
    });
    const res = await transport.send(otpSend);
    expect(res.statusCode).toBe(200);
  });

  it("close's grace period: a call answered during a stall past it ends with its answer, not aborted", async () => {
    const hold = holdingUpstream(upstream);
    const call = transport.send(otpSend).then(
      (res) => res.statusCode,
      (e: unknown) => e,
    );
    await until("the call at the upstream", () => hold.held.length === 1);
    // In a check phase, as a stall in a request's work is: Node runs the timers at the end of that loop turn, before
    // the next turn's poll phase reads the answer (a stall inside a timer is followed by that poll phase first).
    await new Promise((resolve) => setImmediate(resolve));
    const closed = transport.close(200);
    hold.release(); // the answer is in the transport's socket, unread
    stallEventLoop(STALL_MS);
    expect(await call).toBe(200);
    await closed;
  });

  it("close's grace period: a call still unanswered at its end is aborted then, sent (outcome unknown)", async () => {
    upstream.respond(blackHole);
    const call = transport.send(otpSend).then(
      () => undefined,
      (e: unknown) => e,
    );
    await until("the call at the upstream", () => upstream.calls.length === 1);
    const started = performance.now();
    await transport.close(200);
    expect(await call).toMatchObject({ sent: true });
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect(performance.now() - started).toBeLessThan(700);
  });

  it("an upstream that does not answer still fails at its deadline: about 1 s, sent (outcome unknown)", async () => {
    upstream.respond(blackHole);
    const started = performance.now();
    const error = await transport.send(otpSend).then(
      () => undefined,
      (e: unknown) => e,
    );
    const tookMs = performance.now() - started;
    expect(error).toBeInstanceOf(AopayError);
    expect(error).toMatchObject({ sent: true });
    expect(tookMs).toBeGreaterThanOrEqual(990);
    expect(tookMs).toBeLessThan(1_500);
  });
});

describe("The drain's grace period after a stall of the event loop", () => {
  it("a send AOPay answered during a stall past the grace period: its client gets the answer, not a cut", async () => {
    // 1 s: the upstream calls aborted at 750 ms (src/app.ts answerMarginMs), the connections cut at 1 s.
    const { upstream, t, stop } = await startStackOnFakeUpstream({ env: { SHUTDOWN_GRACE_MS: "1000" } });
    const hold = holdingUpstream(upstream);
    try {
      const client = await rawClient(t.baseUrl);
      const body = JSON.stringify({ query: RESEND_AEPS_OTP, variables: aepsInput("9876543210") });
      client.socket.write(
        `POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n` +
          `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      await until("the send at the upstream", () => hold.held.length === 1);
      const stopped = t.stack.app.stop();
      // In a check phase (see close's test above), the stop's timers armed: the answer comes, then a stall past both.
      await new Promise((resolve) => setImmediate(resolve));
      hold.release();
      stallEventLoop(STALL_MS);
      await client.closed;
      await stopped;
      const answer = parseResponse(client.received());
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toMatchObject({ data: { resendAepsOtp: { __typename: "AepsOtpResent" } } });
      expect(upstream.calls).toHaveLength(1);
    } finally {
      hold.release();
      await stop();
    }
  });
});

describeWithRedis("Redis commands after a stall of the event loop", () => {
  const prefix = uniquePrefix();
  const admin = new Redis(REDIS_URL as string, { lazyConnect: true });
  const log = createLogger({ level: "fatal", destination: new LogCapture() });
  let proxy: RedisProxy;
  /** Set by a test: the loop is held right after the proxy hands the server the next reply. */
  let stallAfterNextReply = false;

  beforeEach(async () => {
    stallAfterNextReply = false;
    proxy = await startRedisProxy(REDIS_URL as string, {
      replies: (chunk) => {
        if (stallAfterNextReply) {
          stallAfterNextReply = false;
          // After this callback has written the reply into the server's socket, before the server reads it.
          process.nextTick(stallEventLoop, STALL_MS);
        }
        return chunk;
      },
    });
  });
  afterEach(async () => {
    await proxy.close();
  });
  afterAll(async () => {
    await deleteKeys(admin, prefix);
    admin.disconnect();
  });

  /** A PING to the real Redis, the loop held right after it was written: its reply, or the error it failed with. */
  const pingThroughStall = async (client: Redis): Promise<string> => {
    try {
      await new Promise<void>((resolve) => client.once("ready", () => resolve()));
      const pong = client.ping().then(
        (v) => v,
        (e: Error) => e.message,
      );
      stallEventLoop(STALL_MS);
      return await pong;
    } finally {
      client.disconnect();
    }
  };

  it("ioredis's own commandTimeout failed a command Redis answered (why it is not used)", async () => {
    const plain = new Redis(REDIS_URL as string, { commandTimeout: COMMAND_TIMEOUT_MS, enableOfflineQueue: false });
    expect(await pingThroughStall(plain)).toBe("Command timed out");
  });

  it("timeCommands: the PING answered during the stall is PONG", async () => {
    const client = new Redis(REDIS_URL as string, { enableOfflineQueue: false });
    timeCommands(client);
    expect(await pingThroughStall(client)).toBe("PONG");
  });

  const connected = async () => {
    const created = createRedis(proxy.url, log, { evictingPolicy: "refuse", checkIntervalMs: 30_000 });
    await until("the connection", () => created.redis.status === "ready");
    return created;
  };

  it("createRedis: a command whose reply came during the stall resolves (Redis ran it once)", async () => {
    const { redis, check } = await connected();
    const key = `${prefix}counter`;
    try {
      stallAfterNextReply = true;
      const started = performance.now();
      expect(await redis.incr(key)).toBe(1);
      expect(performance.now() - started).toBeGreaterThanOrEqual(STALL_MS);
      expect(await admin.get(key)).toBe("1");
    } finally {
      check.stop();
      redis.disconnect();
    }
  });

  it("the readiness probe (redisAnswers): a PONG that came during the stall is an answer", async () => {
    const { redis, check } = await connected();
    try {
      stallAfterNextReply = true;
      expect(await redisAnswers(redis, 500)).toBe(true);
      proxy.stall();
      expect(await redisAnswers(redis, 500)).toBe(false);
    } finally {
      proxy.restore();
      check.stop();
      redis.disconnect();
    }
  });

  it("createRedis: a Redis that does not answer still fails the command at about 1 s", async () => {
    const { redis, check } = await connected();
    try {
      proxy.stall();
      const started = performance.now();
      await expect(redis.incr(`${prefix}silent`)).rejects.toThrow("Command timed out");
      const tookMs = performance.now() - started;
      expect(tookMs).toBeGreaterThanOrEqual(COMMAND_TIMEOUT_MS - 10);
      expect(tookMs).toBeLessThan(COMMAND_TIMEOUT_MS + 500);
    } finally {
      proxy.restore();
      check.stop();
      redis.disconnect();
    }
  });
  it("a command timed out whose reply comes later: the next command gets its own reply, not that one", async () => {
    const { redis, check } = await connected();
    const late = `${prefix}late`;
    const next = `${prefix}next`;
    await admin.set(next, "its own");
    try {
      proxy.stall();
      await expect(redis.incr(late)).rejects.toThrow("Command timed out");
      // The INCR reaches Redis now and is answered ("1"): ioredis's reply queue still holds the command given up on,
      // so that reply goes to it (already settled), and the GET written after it gets its own.
      proxy.restore();
      expect(await redis.get(next)).toBe("its own");
      expect(await admin.get(late)).toBe("1");
      expect(await redis.incr(late)).toBe(2);
    } finally {
      proxy.restore();
      check.stop();
      redis.disconnect();
    }
  });
});
