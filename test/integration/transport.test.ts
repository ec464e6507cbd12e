import { AopayError } from "../../src/aopay/errors";
import { AopayTransport, type TransportOptions } from "../../src/aopay/transport";
import { monotonicNow } from "../../src/util/clock";
import { freePort } from "../helpers/free-port";
import { otpSend, testTransportOptions } from "../helpers/transport";
import {
  blackHole,
  delayed,
  type FakeHandler,
  type FakeUpstream,
  json,
  raw,
  resetAfterRequest,
  startFakeUpstream,
} from "../helpers/fake-upstream";

async function failure(promise: Promise<unknown>): Promise<AopayError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof AopayError) return e;
    throw e;
  }
  throw new Error("expected the call to fail");
}

describe("AopayTransport: the one HTTP choke point", () => {
  let upstream: FakeUpstream;
  let transport: AopayTransport;

  const open = async (overrides: Partial<TransportOptions> = {}) => {
    transport = new AopayTransport(testTransportOptions(upstream.url, overrides));
    return transport;
  };

  beforeEach(async () => {
    upstream = await startFakeUpstream();
  });
  afterEach(async () => {
    await transport?.close().catch(() => undefined);
    await upstream.close();
  });

  it("sends GET with a JSON body, as AOPay's CIBIL pages document (undici can, fetch cannot)", async () => {
    upstream.respond(json(200, { status: "SUCCESS" }));
    const res = await (await open()).send(otpSend);
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body.toString())).toEqual({ status: "SUCCESS" });
    expect(upstream.calls).toHaveLength(1);
    expect(upstream.calls[0]).toMatchObject({ method: "GET", path: "/api/AOP/CibilScore/GenerateOTP" });
    expect(upstream.calls[0].headers["content-type"]).toBe("application/json");
    expect(JSON.parse(upstream.calls[0].body)).toEqual(otpSend.body);
  });

  it("keeps the connection alive after a GET with a body (undici would close it), and sends each body whole", async () => {
    upstream.respond(json(200, { status: "SUCCESS" }));
    await open();
    for (let i = 0; i < 10; i++) await transport.send({ ...otpSend, body: { ...(otpSend.body as object), n: i } });
    // Back-to-back calls may catch the first socket just before undici frees it, so the pool can open a second one;
    // without keep-alive it would be ten.
    expect(upstream.connections).toBeLessThanOrEqual(2);
    expect(upstream.calls.map((c) => JSON.parse(c.body).n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("AOPAY_GET_BODY_KEEP_ALIVE=false restores undici's one-connection-per-GET-with-body", async () => {
    upstream.respond(json(200, { status: "SUCCESS" }));
    await open({ getBodyKeepAlive: false });
    for (let i = 0; i < 3; i++) await transport.send(otpSend);
    expect(upstream.connections).toBe(3);
  });

  it("keeps a base path of the base URL in front of the prefix", async () => {
    transport = new AopayTransport(testTransportOptions(`${upstream.url}/gateway/`, { apiPrefix: "/api/BOS" }));
    await transport.send(otpSend);
    expect(upstream.calls[0].path).toBe("/gateway/api/BOS/CibilScore/GenerateOTP");
  });

  it("resolves with any complete answer, whatever its status: interpretation happens elsewhere", async () => {
    upstream.respond(raw(503, "text/html", "<h1>down</h1>", { "retry-after": "5" }));
    const res = await (await open()).send(otpSend);
    expect(res.statusCode).toBe(503);
    expect(res.headers["retry-after"]).toBe("5");
  });

  it("never follows a redirect: the trap host gets no call", async () => {
    const trap = await startFakeUpstream();
    try {
      upstream.respond(raw(307, "text/plain", "", { location: `${trap.url}/steal` }));
      const res = await (await open()).send(otpSend);
      expect(res.statusCode).toBe(307);
      expect(trap.calls).toHaveLength(0);
      expect(upstream.calls).toHaveLength(1);
    } finally {
      await trap.close();
    }
  });

  it("no answer after sending is OUTCOME_UNKNOWN at the deadline, with exactly one call", async () => {
    upstream.respond(blackHole);
    const started = Date.now();
    const error = await failure((await open({ deadlineMs: 400 })).send(otpSend));
    const elapsed = Date.now() - started;
    expect(error).toMatchObject({ code: "OUTCOME_UNKNOWN", sent: true, retryable: false });
    expect(elapsed).toBeGreaterThanOrEqual(380);
    expect(elapsed).toBeLessThan(1500);
    expect(upstream.calls).toHaveLength(1);
  });

  it("undici's headers timeout after sending is OUTCOME_UNKNOWN too", async () => {
    upstream.respond(blackHole);
    const error = await failure((await open({ headersTimeoutMs: 200 })).send(otpSend));
    expect(error).toMatchObject({ code: "OUTCOME_UNKNOWN", sent: true });
    expect((error.cause as { code?: string }).code).toBe("UND_ERR_HEADERS_TIMEOUT");
    expect(upstream.calls).toHaveLength(1);
  });

  it("a reset after the request was read is OUTCOME_UNKNOWN and is not retried", async () => {
    upstream.respond(resetAfterRequest);
    const error = await failure((await open()).send(otpSend));
    expect(error).toMatchObject({ code: "OUTCOME_UNKNOWN", sent: true });
    await new Promise((r) => setTimeout(r, 100));
    expect(upstream.calls).toHaveLength(1);
  });

  it("the same faults on a call without side effects are plain UPSTREAM_UNAVAILABLE", async () => {
    upstream.respond(resetAfterRequest);
    const error = await failure((await open()).send({ ...otpSend, sideEffect: false }));
    expect(error).toMatchObject({ code: "UPSTREAM_UNAVAILABLE", sent: true, retryable: true });
  });

  it("a refused connection is UPSTREAM_UNAVAILABLE and provably never sent", async () => {
    const port = await freePort();
    transport = new AopayTransport(testTransportOptions(`http://127.0.0.1:${port}`));
    const error = await failure(transport.send(otpSend));
    expect(error).toMatchObject({ code: "UPSTREAM_UNAVAILABLE", sent: false, retryable: true });
    expect((error.cause as { code?: string }).code).toBe("ECONNREFUSED");
  });

  it("a deadline that passes while the request waits for a socket is UPSTREAM_TIMEOUT, and the request never goes out", async () => {
    // One connection, held by a first call that the upstream answers only after 600 ms.
    upstream.respond(delayed(600, json(200, { status: true })));
    await open({ connections: 1 });
    const first = transport.send(otpSend);
    await new Promise((r) => setTimeout(r, 50));
    const queued = failure(transport.send({ ...otpSend, deadlineAt: monotonicNow() + 150 }));
    const error = await queued;
    expect(error).toMatchObject({ code: "UPSTREAM_TIMEOUT", sent: false, retryable: true });
    await first;
    // The socket is free again; undici dispatches the queued request, our handler aborts it before the write.
    await new Promise((r) => setTimeout(r, 200));
    expect(upstream.calls).toHaveLength(1);
  });

  it("an oversized body (declared) ends as OUTCOME_UNKNOWN without buffering it", async () => {
    upstream.respond(raw(200, "application/json", "x".repeat(200 * 1024)));
    const error = await failure((await open()).send(otpSend));
    expect(error).toMatchObject({ code: "OUTCOME_UNKNOWN", sent: true });
    expect((error.cause as { code?: string }).code).toMatch(/RESPONSE_TOO_LARGE|UND_ERR_RES_EXCEEDED_MAX_SIZE/);
  });

  it.each<[string, FakeHandler]>([
    ["declared", raw(200, "application/json", "x".repeat(200 * 1024))],
    [
      "chunked",
      (_call, res) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end("z".repeat(200 * 1024));
      },
    ],
  ])(
    "an oversized answer to a read (%s: a thick credit report) is UPSTREAM_BAD_RESPONSE, not UNAVAILABLE: it says nothing about AOPay's health",
    async (_kind, handler) => {
      upstream.respond(handler);
      const error = await failure(
        (await open()).send({
          ...otpSend,
          endpoint: "cibil.creditHistory",
          path: "/CibilScore/GetCreditHistory",
          sideEffect: false,
        }),
      );
      expect(error).toMatchObject({ code: "UPSTREAM_BAD_RESPONSE", sent: true, retryable: false });
      expect(error.message).toContain("AOPAY_MAX_RESPONSE_BYTES");
    },
  );

  it("an oversized chunked body (no Content-Length) is cut off at the limit", async () => {
    upstream.respond((_call, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      const chunk = "y".repeat(16 * 1024);
      let sent = 0;
      const pump = () => {
        while (sent < 64 && res.write(chunk)) sent++;
        if (sent < 64 && !res.destroyed) res.once("drain", pump);
        else res.end();
      };
      pump();
    });
    const error = await failure((await open()).send(otpSend));
    expect(error).toMatchObject({ code: "OUTCOME_UNKNOWN" });
  });

  it("a body that stalls beyond the body timeout is OUTCOME_UNKNOWN", async () => {
    upstream.respond((_call, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-length": "100" });
      res.write('{"status":');
    });
    const error = await failure((await open({ bodyTimeoutMs: 200 })).send(otpSend));
    expect(error).toMatchObject({ code: "OUTCOME_UNKNOWN", sent: true });
  });

  it.each([
    // 503 says the request was not carried out: unavailable, retryable.
    [503, "UPSTREAM_UNAVAILABLE"],
    // 502 comes from a gateway that passed the send on: the OTP may have gone (outcome.ts NOT_HANDLED_5XX).
    [502, "OUTCOME_UNKNOWN"],
  ])("a %i cut off mid-body to a send means what its status says: %s", async (status, code) => {
    upstream.respond((_call, res) => {
      res.writeHead(status, { "content-type": "text/html", "content-length": "1000" });
      res.write("<html>", () => res.destroy());
    });
    const error = await failure((await open()).send(otpSend));
    expect(error).toMatchObject({ code, sent: true, httpStatus: status });
  });

  it("a closed transport refuses calls without sending", async () => {
    await (await open()).close();
    const error = await failure(transport.send(otpSend));
    expect(error).toMatchObject({ code: "UPSTREAM_UNAVAILABLE", sent: false });
    expect(upstream.calls).toHaveLength(0);
  });

  describe("close called again while it closes (index.ts: a stop signal during the drain cuts it short)", () => {
    /** A send the upstream never answers, running (the upstream has it) when this resolves. */
    const heldSend = async (): Promise<{ call: Promise<AopayError> }> => {
      upstream.respond(blackHole);
      const call = failure((await open({ deadlineMs: 20_000, headersTimeoutMs: 20_000 })).send(otpSend));
      while (upstream.calls.length === 0) await new Promise((r) => setTimeout(r, 5));
      return { call };
    };

    it.each<[string, number, number]>([
      ["first without a bound, then 0", Infinity, 0],
      ["first with 10 s, then 100 ms", 10_000, 100],
      ["first 0, then without a bound", 0, Infinity],
    ])("%s: the shorter grace holds, the send aborted as OUTCOME_UNKNOWN, never retried", async (_n, first, then) => {
      const { call } = await heldSend();
      const started = monotonicNow();
      const closes = [transport.close(first), transport.close(then)];
      const error = await call;
      await Promise.all(closes);
      // Before, the second call returned at once and the first's grace held: the send ran to its 20 s deadline.
      expect(monotonicNow() - started).toBeLessThan(Math.min(first, then) + 1_000);
      expect(error).toMatchObject({ code: "OUTCOME_UNKNOWN", sent: true, retryable: false });
      expect(upstream.calls).toHaveLength(1);
    });

    it("a longer grace later never lengthens it, and a close with nothing running ends at once", async () => {
      const { call } = await heldSend();
      const started = monotonicNow();
      const closes = [transport.close(100), transport.close(10_000), transport.close()];
      await call;
      await Promise.all(closes);
      expect(monotonicNow() - started).toBeLessThan(1_100);
      // Closed already: at once, whatever the grace (its timer cleared, nothing keeps Jest up).
      const again = monotonicNow();
      await transport.close(60_000);
      expect(monotonicNow() - again).toBeLessThan(100);
      await (await open()).close(60_000);
    });
  });
});
