import { createServer as createHttpServer } from "node:http";
import { createServer, type Server, type Socket } from "node:net";
import { AopayClient } from "../../src/aopay/client";
import { AopayError } from "../../src/aopay/errors";
import { issueSendPass } from "../../src/aopay/send-pass";
import { AopayTransport, type TransportOptions } from "../../src/aopay/transport";
import type { BreakerConfig } from "../../src/config";
import { createLogger } from "../../src/logging/logger";
import { Scrubber } from "../../src/pii/scrub";
import { delayed, type FakeUpstream, json, raw, startFakeUpstream } from "../helpers/fake-upstream";
import { fixtureJson } from "../helpers/fixtures";
import { LogCapture } from "../helpers/log-capture";
import { testTransportOptions } from "../helpers/transport";
import { monotonicNow } from "../../src/util/clock";

const input = { cibilId: "102277100", accessToken: "123456542124" };
const log = createLogger({ level: "debug", destination: new LogCapture() });
/** Calls made here stand for calls the OTP guard admitted: each carries a send pass of its own (aopay/send-pass.ts). */
const guarded = <T extends object>(options: T) => ({ ...options, pass: issueSendPass("test") });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function makeClient(
  url: string,
  overrides: {
    transport?: Partial<TransportOptions>;
    breaker?: Partial<BreakerConfig>;
    retryMax?: number;
    random?: () => number;
  } = {},
) {
  // This client's own bulkhead: 8 sockets, 8 waiting.
  const transport = new AopayTransport(
    testTransportOptions(url, { connections: 8, queueLimit: 8, ...overrides.transport }),
  );
  return new AopayClient({
    transport,
    scrubber: new Scrubber(),
    wire: {
      registrationId: "R",
      companyCode: "C",
      aepsPipe: "bank6",
      aepsAccessModeType: "SITE",
      dobFormat: "DD/MM/YYYY",
    },
    registrationMethod: "GET",
    breaker: {
      errorThresholdPercentage: 50,
      volumeThreshold: 5,
      resetTimeoutMs: 400,
      rollingWindowMs: 10_000,
      slowCallMs: 5_000,
      ...overrides.breaker,
    },
    retry: { maxRetries: overrides.retryMax ?? 2, baseDelayMs: 50, maxDelayMs: 200, minAttemptMs: 50 },
    random: overrides.random ?? (() => 0.5),
  });
}

async function outcome(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "OK";
  } catch (e) {
    if (e instanceof AopayError) return e.code;
    throw e;
  }
}

describe("circuit breaker per endpoint family (opossum 10's rules)", () => {
  let upstream: FakeUpstream;
  let client: AopayClient;
  beforeEach(async () => {
    upstream = await startFakeUpstream();
  });
  afterEach(async () => {
    await client?.close();
    await upstream.close();
  });

  it("opens on 5xx after the volume threshold; then fails fast without reaching AOPay", async () => {
    upstream.respond(raw(503, "text/html", "<h1>down</h1>"));
    client = makeClient(upstream.url);
    const results: string[] = [];
    for (let i = 0; i < 8; i++) results.push(await outcome(client.cibil.generateOtp(input, guarded({ log }))));
    expect(results.slice(0, 5)).toEqual(Array(5).fill("UPSTREAM_UNAVAILABLE"));
    expect(results.slice(5)).toEqual(Array(3).fill("CIRCUIT_OPEN"));
    expect(upstream.calls).toHaveLength(5);
    expect(client.breakers.states()).toEqual({ cibil: "open", aeps: "closed" });
    try {
      await client.cibil.generateOtp(input, guarded({ log }));
    } catch (e) {
      expect(e).toMatchObject({ code: "CIRCUIT_OPEN", sent: false, retryable: true });
      expect((e as AopayError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    }
  });

  it("half-open lets exactly one probe through; its success closes the circuit", async () => {
    upstream.respond(raw(500, "text/plain", "err"));
    client = makeClient(upstream.url);
    for (let i = 0; i < 5; i++) await outcome(client.cibil.generateOtp(input, guarded({ log })));
    expect(client.breakers.states().cibil).toBe("open");
    upstream.respond(delayed(100, json(200, fixtureJson("cibil/generate-otp.success"))));
    await sleep(450);
    const before = upstream.calls.length;
    const burst = await Promise.all(
      Array.from({ length: 5 }, () => outcome(client.cibil.generateOtp(input, guarded({ log })))),
    );
    expect(burst.filter((r) => r === "OK")).toHaveLength(1);
    expect(burst.filter((r) => r === "CIRCUIT_OPEN")).toHaveLength(4);
    expect(upstream.calls.length - before).toBe(1);
    expect(client.breakers.states().cibil).toBe("closed");
  });

  it("a failed probe opens the circuit again", async () => {
    upstream.respond(raw(500, "text/plain", "err"));
    client = makeClient(upstream.url);
    for (let i = 0; i < 5; i++) await outcome(client.cibil.generateOtp(input, guarded({ log })));
    await sleep(450);
    // The probe meets the 500 again: to a send, OUTCOME_UNKNOWN (outcome.ts NOT_HANDLED_5XX), counted as a failure.
    expect(await outcome(client.cibil.generateOtp(input, guarded({ log })))).toBe("OUTCOME_UNKNOWN");
    expect(await outcome(client.cibil.generateOtp(input, guarded({ log })))).toBe("CIRCUIT_OPEN");
  });

  it.each([
    ["business rejections inside HTTP 200", json(200, fixtureJson("cibil/generic-error")), "UPSTREAM_REJECTED"],
    ["401s", json(401, fixtureJson("aeps/resend-otp.error")), "UPSTREAM_UNAUTHORIZED"],
    ["4xx HTML pages", raw(404, "text/html", "<h1>nope</h1>"), "UPSTREAM_BAD_RESPONSE"],
  ])("never opens on %s (AOPay is up and answering)", async (_what, handler, code) => {
    upstream.respond(handler);
    client = makeClient(upstream.url);
    for (let i = 0; i < 30; i++) expect(await outcome(client.cibil.generateOtp(input, guarded({ log })))).toBe(code);
    expect(upstream.calls).toHaveLength(30);
    expect(client.breakers.states().cibil).toBe("closed");
  });

  it("opens on timeouts after sending (they count), and families are independent", async () => {
    upstream.respond(() => undefined);
    client = makeClient(upstream.url, { transport: { deadlineMs: 100 } });
    for (let i = 0; i < 5; i++)
      expect(await outcome(client.cibil.generateOtp(input, guarded({ log })))).toBe("OUTCOME_UNKNOWN");
    expect(await outcome(client.cibil.generateOtp(input, guarded({ log })))).toBe("CIRCUIT_OPEN");
    upstream.respond(json(200, fixtureJson("aeps/resend-otp.success")));
    const aeps = { userKey: "K", mobile: "9876543210", aadhaar: "234123412346", primaryKeyId: "P", encodeTxnId: "E" };
    expect(await outcome(client.aeps.resendOtp(aeps, guarded({ log })))).toBe("OK");
  });

  // Shutdown closes the breakers first, then waits up to the grace period for calls under way: a request still being
  // served may start a call meanwhile (a flow's next step, a retry). Refused with a plain error, it reached the
  // client as INTERNAL_SERVER_ERROR and was logged as a bug.
  it("a call started during shutdown is refused as UPSTREAM_UNAVAILABLE, nothing sent, retryable", async () => {
    upstream.respond(delayed(200, json(200, fixtureJson("cibil/generate-otp.success"))));
    client = makeClient(upstream.url);
    const underWay = client.cibil.generateOtp(input, guarded({ log }));
    await sleep(50);
    const closing = client.close(2_000);
    const late = await client.cibil.generateOtp(input, guarded({ log })).catch((e: unknown) => e);
    expect(late).toBeInstanceOf(AopayError);
    expect(late).toMatchObject({ code: "UPSTREAM_UNAVAILABLE", sent: false, retryable: true });
    expect(await outcome(underWay)).toBe("OK");
    await closing;
    expect(upstream.calls).toHaveLength(1);
  });
});

describe("retries only what provably never left the process", () => {
  let tcp: Server | undefined;
  let client: AopayClient | undefined;
  afterEach(async () => {
    await client?.close();
    await new Promise<void>((r) => (tcp ? tcp.close(() => r()) : r()));
    tcp = undefined;
  });

  it("a reset during the TLS handshake (before the request is written) is retried with backoff, then UPSTREAM_UNAVAILABLE", async () => {
    const connections: Socket[] = [];
    tcp = createServer((socket) => {
      connections.push(socket);
      socket.destroy();
    });
    await new Promise<void>((r) => tcp!.listen(0, "127.0.0.1", r));
    const port = (tcp.address() as { port: number }).port;
    client = makeClient(`https://127.0.0.1:${port}`, { retryMax: 2 });
    const started = Date.now();
    const deadlineAt = monotonicNow() + 2000;
    expect(await outcome(client.cibil.generateOtp(input, guarded({ log, deadlineAt })))).toBe("UPSTREAM_UNAVAILABLE");
    expect(connections).toHaveLength(3);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("a refused connection is retried and succeeds once AOPay is back", async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    client = makeClient(`http://127.0.0.1:${port}`, { retryMax: 3, random: () => 1 });
    // AOPay comes back 30 ms in; the first retry is 50 ms later.
    const late = createHttpServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(fixtureJson("cibil/generate-otp.success")));
    });
    setTimeout(() => late.listen(port, "127.0.0.1"), 30);
    try {
      expect(await outcome(client.cibil.generateOtp(input, guarded({ log, deadlineAt: monotonicNow() + 2000 })))).toBe(
        "OK",
      );
    } finally {
      late.closeAllConnections();
      await new Promise<void>((r) => late.close(() => r()));
    }
  });
});

describe("bulkhead: bounded connections and wait queue (docs/security-requirements.md E6)", () => {
  it("sheds load beyond connections + queue at once with OVERLOADED; AOPay never sees more than `connections` at a time", async () => {
    let concurrent = 0;
    let peak = 0;
    let answered = 0;
    const upstream = await startFakeUpstream((_call, res) => {
      concurrent += 1;
      peak = Math.max(peak, concurrent);
      setTimeout(() => {
        concurrent -= 1;
        answered += 1;
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(fixtureJson("cibil/generate-otp.success")));
      }, 400);
    });
    const client = makeClient(upstream.url, { transport: { connections: 2, queueLimit: 2 } });
    try {
      const settled: Array<{ result: string; upstreamAnswered: number }> = [];
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          const result = await outcome(client.cibil.generateOtp(input, guarded({ log })));
          settled.push({ result, upstreamAnswered: answered });
        }),
      );
      const shed = settled.filter((s) => s.result === "OVERLOADED");
      expect(shed).toHaveLength(6);
      // Shed at once: before AOPay had answered any accepted call (each held 400 ms), not when a place in the queue
      // would have come free. Counted, not timed: a bound in ms (it was 300) fails on a loaded machine whose event
      // loop is late, while a shed that waited for a place always comes after an answer.
      for (const s of shed) expect(s.upstreamAnswered).toBe(0);
      expect(settled.filter((s) => s.result === "OK")).toHaveLength(4);
      expect(peak).toBe(2);
      expect(upstream.calls).toHaveLength(4);
    } finally {
      await client.close();
      await upstream.close();
    }
  });
});
