import type { Socket } from "node:net";
import { request } from "undici";
import { INTROSPECTION } from "../helpers/operations";
import { parseResponse, rawClient } from "../helpers/raw-http";
import { adoptableRequestId } from "../helpers/request-id";
import {
  type ProductionTestStack,
  startProductionStack,
  startTestStack,
  TEST_API_KEY,
  type TestStack,
} from "../helpers/stack";

/**
 * docs/security.md "Slow clients and connection limits": slow requests are cut, and connections that never authenticate are limited per IP. Raw sockets
 * against the real server (production settings, the simulator as AOPay), with short limits so the suite stays
 * quick: HEADERS_TIMEOUT_MS 1 s, REQUEST_TIMEOUT_MS 2 s, RESPONSE_WRITE_TIMEOUT_MS 1 s. Node checks for expired
 * requests every second, so each cut is expected between its limit and the limit plus one second (plus slack for a
 * busy machine).
 */
const HEADERS_MS = 1000;
const REQUEST_MS = 2000;
const CHECK_INTERVAL_MS = 1000;
// 700 ms was too little on a busy machine: one full run with two others beside it (load average 3-4) saw a cut
// at 3,787 ms against 3,700. 1.5 s still fails a server that lets the trickle run to its end: the slowest
// trickle here takes 8 s (40 bytes, one per 200 ms), the headers about 60 s.
const SLACK_MS = 1500;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Asserts a 408 written by our clientError handler: request id header, JSON body with the same id, nothing echoed. */
function expect408(raw: string): string {
  const res = parseResponse(raw);
  expect(res.status).toBe(408);
  expect(res.headers["x-request-id"]).toMatch(UUID);
  expect(res.headers.connection).toBe("close");
  // As every refusal whose same request may succeed later (503 OVERLOADED, SERVICE_UNAVAILABLE): when to send it again.
  expect(res.headers["retry-after"]).toBe("1");
  const body = JSON.parse(res.body) as {
    errors: Array<{ message: string; extensions: { code: string; requestId: string } }>;
  };
  // The wait in the body too, for a client that hands on only the errors (Apollo Client's CombinedGraphQLErrors).
  expect(body.errors[0].extensions).toEqual({
    code: "REQUEST_TIMEOUT",
    requestId: res.headers["x-request-id"],
    retryAfterSeconds: 1,
  });
  // Its type follows Accept, as every refusal's (none sent here: JSON).
  expect({ type: res.headers["content-type"], vary: res.headers.vary }).toEqual({
    type: "application/json; charset=utf-8",
    vary: "Origin, Accept",
  });
  return res.headers["x-request-id"];
}

const port = (url: string) => Number(new URL(url).port);
/** The one browser origin the production stack below allows (CORS_ORIGINS). */
const ALLOWED_ORIGIN = "https://app.example";

describe("slow clients are cut, production settings", () => {
  let t: ProductionTestStack;
  beforeAll(async () => {
    t = await startProductionStack({
      HEADERS_TIMEOUT_MS: String(HEADERS_MS),
      REQUEST_TIMEOUT_MS: String(REQUEST_MS),
      RESPONSE_WRITE_TIMEOUT_MS: "1000",
      CORS_ORIGINS: ALLOWED_ORIGIN,
    });
  });
  afterAll(async () => {
    await t?.stop();
  });
  beforeEach(() => t.simulator.resetCalls());
  afterEach(() => expect(t.simulator.calls()).toBe(0));

  it("headers that trickle in are answered 408 with a request id and closed within HEADERS_TIMEOUT_MS + 1 s", async () => {
    const c = await rawClient(port(t.baseUrl));
    void c.trickle(
      `POST /graphql HTTP/1.1\r\nHost: x\r\nx-api-key: ${TEST_API_KEY}\r\n${"x-pad: a\r\n".repeat(50)}`,
      100,
    );
    const closedAfter = await c.closed;
    expect(closedAfter).toBeGreaterThanOrEqual(HEADERS_MS - 50);
    expect(closedAfter).toBeLessThan(HEADERS_MS + CHECK_INTERVAL_MS + SLACK_MS);
    process.stdout.write(`trickled headers, HEADERS_TIMEOUT_MS ${HEADERS_MS}: closed after ${closedAfter} ms\n`);
    const id = expect408(c.received());
    expect(t.logs.records().some((l) => l.requestId === id && l.status === 408)).toBe(true);
  });

  it("a connection that sends nothing is answered 408 and closed at HEADERS_TIMEOUT_MS too", async () => {
    const c = await rawClient(port(t.baseUrl));
    const closedAfter = await c.closed;
    expect(closedAfter).toBeLessThan(HEADERS_MS + CHECK_INTERVAL_MS + SLACK_MS);
    expect408(c.received());
  });

  it("ten bodies sent one byte at a time, with a valid API key: each answered 408 (the request's own id) and closed within REQUEST_TIMEOUT_MS + 1 s", async () => {
    const body = JSON.stringify({ query: "{ serviceInfo { upstream } }" });
    const clients = await Promise.all(Array.from({ length: 10 }, () => rawClient(port(t.baseUrl))));
    const sentIds = clients.map(() => adoptableRequestId());
    clients.forEach((c, i) => {
      c.socket.write(
        `POST /graphql HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\nx-api-key: ${TEST_API_KEY}\r\n` +
          `x-request-id: ${sentIds[i]}\r\ncontent-length: ${body.length}\r\n\r\n`,
      );
      void c.trickle(body, 200);
    });
    const times = await Promise.all(clients.map((c) => c.closed));
    for (const ms of times) {
      expect(ms).toBeGreaterThanOrEqual(REQUEST_MS - 50);
      expect(ms).toBeLessThan(REQUEST_MS + CHECK_INTERVAL_MS + SLACK_MS);
    }
    // The figure README.md and docs/security.md quote ("closed at about 3.0 s"); the bound above has slack for a busy
    // machine.
    process.stdout.write(
      `ten trickled bodies, REQUEST_TIMEOUT_MS ${REQUEST_MS}: closed after ${Math.min(...times)}-${Math.max(...times)} ms\n`,
    );
    // Each 408 carries the id the request was given when its headers arrived: the server's own, one per request,
    // never the client's (http/request-id.ts).
    const ids = clients.map((c) => expect408(c.received()));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(sentIds).not.toContain(id);
  });

  it("a body that trickles from a browser page: the 408 carries the CORS headers for an allowed origin (a page reads it), not for another", async () => {
    const body = JSON.stringify({ query: "{ serviceInfo { upstream } }" });
    const origins = [ALLOWED_ORIGIN, "https://elsewhere.example"];
    const clients = await Promise.all(origins.map(() => rawClient(port(t.baseUrl))));
    clients.forEach((c, i) => {
      c.socket.write(
        `POST /graphql HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\nx-api-key: ${TEST_API_KEY}\r\n` +
          `origin: ${origins[i]}\r\ncontent-length: ${body.length}\r\n\r\n`,
      );
      void c.trickle(body, 200);
    });
    await Promise.all(clients.map((c) => c.closed));
    const [allowed, other] = clients.map((c) => parseResponse(c.received()));
    expect408(clients[0].received());
    expect(allowed.headers["access-control-allow-origin"]).toBe(ALLOWED_ORIGIN);
    expect(allowed.headers["access-control-expose-headers"]).toContain("x-request-id");
    expect(allowed.headers.vary).toBe("Origin, Accept");
    expect408(clients[1].received());
    expect(other.headers["access-control-allow-origin"]).toBeUndefined();
    expect(other.headers.vary).toBe("Origin, Accept");
  });

  it("ten bodies sent one byte at a time without an API key: refused 401 at once, and the connection closed with it (its body is never read)", async () => {
    const body = JSON.stringify({ query: "{ serviceInfo { upstream } }" });
    const clients = await Promise.all(Array.from({ length: 10 }, () => rawClient(port(t.baseUrl))));
    for (const c of clients) {
      c.socket.write(
        `POST /graphql HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`,
      );
      void c.trickle(body, 200);
    }
    // Before: kept alive, the body read and dropped to the end (or to REQUEST_TIMEOUT_MS, 2 s here).
    const times = await Promise.all(clients.map((c) => c.closed));
    for (const ms of times) expect(ms).toBeLessThan(REQUEST_MS - 500);
    for (const c of clients) {
      const res = parseResponse(c.received());
      expect(res.status).toBe(401);
      expect(res.headers["x-request-id"]).toMatch(UUID);
      expect(res.headers.connection).toBe("close");
    }
  });

  it("a slow body to a path with no route, and to /healthz, is cut the same way", async () => {
    // Both at once (they were one after the other: twice REQUEST_MS and more), each on its own connection.
    const closed = await Promise.all(
      ["/nowhere", "/healthz"].map(async (path) => {
        const c = await rawClient(port(t.baseUrl));
        c.socket.write(
          `POST ${path} HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n`,
        );
        void c.trickle("{".repeat(100), 200);
        return c.closed;
      }),
    );
    for (const ms of closed) expect(ms).toBeLessThan(REQUEST_MS + CHECK_INTERVAL_MS + SLACK_MS);
  });

  it.each([
    ["a header over MAX_HEADER_BYTES", `GET /healthz HTTP/1.1\r\nHost: x\r\nx-big: ${"q".repeat(17 * 1024)}\r\n\r\n`],
    [
      "too many headers (17 KiB of small ones)",
      `GET /healthz HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 1500 }, (_, i) => `x-h${i}: v\r\n`).join("")}\r\n`,
    ],
    ["a huge URL", `GET /graphql?query=${"q".repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`],
  ])("%s: 431 with a request id, nothing echoed, connection closed", async (_name, request) => {
    const c = await rawClient(port(t.baseUrl));
    c.socket.write(request);
    expect(await c.closed).toBeLessThan(1000);
    const res = parseResponse(c.received());
    expect(res.status).toBe(431);
    expect(res.headers["x-request-id"]).toMatch(UUID);
    expect(JSON.parse(res.body)).toEqual({
      errors: [
        {
          message: "Request headers are too large.",
          extensions: { code: "HEADERS_TOO_LARGE", requestId: res.headers["x-request-id"] },
        },
      ],
    });
    expect(c.received()).not.toContain("qqqq");
  });

  // A page's request the parser refuses (a too long URL, a malformed header) must still be readable by the page: the
  // origin is read from the bytes the parser had (node-limits.ts originInRaw), and echoed only when allowed and whole.
  it.each([
    [
      "an allowed origin, a too long URL",
      `GET /graphql?query=${"q".repeat(20_000)}`,
      `Origin: ${ALLOWED_ORIGIN}\r\n`,
      431,
      ALLOWED_ORIGIN,
    ],
    [
      "the same, the origin in lower case and before a huge header",
      "GET /graphql",
      `origin:  ${ALLOWED_ORIGIN}\r\nx-big: ${"q".repeat(17 * 1024)}\r\n`,
      431,
      ALLOWED_ORIGIN,
    ],
    [
      "an allowed origin after a malformed header",
      "GET /graphql",
      `x bad header\r\nOrigin: ${ALLOWED_ORIGIN}\r\n`,
      400,
      ALLOWED_ORIGIN,
    ],
    [
      "an origin not allowed",
      `GET /graphql?query=${"q".repeat(20_000)}`,
      "Origin: https://elsewhere.example\r\n",
      431,
      undefined,
    ],
    [
      "an allowed origin with a suffix",
      `GET /graphql?query=${"q".repeat(20_000)}`,
      `Origin: ${ALLOWED_ORIGIN}.evil\r\n`,
      431,
      undefined,
    ],
    ["no origin", `GET /graphql?query=${"q".repeat(20_000)}`, "", 431, undefined],
  ])("%s: the refusal carries the CORS headers of that origin", async (_name, line, headers, status, allowOrigin) => {
    const c = await rawClient(port(t.baseUrl));
    c.socket.write(`${line} HTTP/1.1\r\nHost: x\r\n${headers}\r\n`);
    expect(await c.closed).toBeLessThan(1000);
    const res = parseResponse(c.received());
    expect(res.status).toBe(status);
    expect(res.headers["x-request-id"]).toMatch(UUID);
    expect(res.headers["access-control-allow-origin"]).toBe(allowOrigin);
    expect(res.headers.vary).toMatch(/origin/i);
    expect(c.received()).not.toContain("qqqq");
  });

  it("an origin line the parser's chunk cut short is not echoed (it could be a prefix of another origin)", async () => {
    const c = await rawClient(port(t.baseUrl));
    // The overflow comes within the first write, which ends inside the Origin line: what arrived is the allowed origin,
    // what was sent is https://app.example.evil.
    c.socket.write(`GET /graphql HTTP/1.1\r\nHost: x\r\nx-big: ${"q".repeat(17 * 1024)}\r\nOrigin: ${ALLOWED_ORIGIN}`);
    await new Promise((r) => setTimeout(r, 50));
    if (!c.socket.destroyed) c.socket.write(".evil\r\n\r\n");
    expect(await c.closed).toBeLessThan(1000);
    const res = parseResponse(c.received());
    expect(res.status).toBe(431);
    expect(res.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("a malformed request line: 400 with a request id, connection closed", async () => {
    const c = await rawClient(port(t.baseUrl));
    c.socket.write("GARBAGE\r\n\r\n");
    expect(await c.closed).toBeLessThan(1000);
    const res = parseResponse(c.received());
    expect(res.status).toBe(400);
    expect(res.headers["x-request-id"]).toMatch(UUID);
    expect(c.received()).not.toContain("GARBAGE");
  });

  // The metrics listener has the same limits and the same clientError answer (metrics-server.ts). It counted its own
  // refusals (400 without Host, 401, 404, 405), not the parser's: a scraper it could not parse or too slow for its
  // limits showed only as `up` 0. Before: 408 and 431 were not on the page, and the 400 did not move.
  it("the metrics listener counts the parser's refusals: a malformed request line 400, 431, 408, at 0 from the first page", async () => {
    const metricsUrl = t.stack.app.metricsUrl as string;
    const refused = async () => {
      const counts: Record<string, number> = {};
      const text = await (await request(metricsUrl)).body.text();
      for (const m of text.matchAll(/^metrics_requests_refused_total\{status="(\d+)"\} (\d+)$/gm))
        counts[m[1]] = Number(m[2]);
      return counts;
    };
    const before = await refused();
    expect(Object.keys(before).sort()).toEqual(["400", "401", "404", "405", "408", "431"]);
    const answer = async (bytes: string | null) => {
      const c = await rawClient(port(metricsUrl));
      if (bytes !== null) c.socket.write(bytes);
      expect(await c.closed).toBeLessThan(HEADERS_MS + CHECK_INTERVAL_MS + SLACK_MS);
      return parseResponse(c.received());
    };
    expect((await answer("GARBAGE\r\n\r\n")).status).toBe(400);
    expect((await answer(`GET /metrics HTTP/1.1\r\nHost: x\r\nx-big: ${"q".repeat(17 * 1024)}\r\n\r\n`)).status).toBe(
      431,
    );
    // Nothing sent: cut at HEADERS_TIMEOUT_MS.
    expect((await answer(null)).status).toBe(408);
    const after = await refused();
    const moved = Object.fromEntries(Object.keys(after).map((status) => [status, after[status] - before[status]]));
    expect(moved).toEqual({ 400: 1, 401: 0, 404: 0, 405: 0, 408: 1, 431: 1 });
  });
});

describe("unauthenticated connections per IP", () => {
  let t: ProductionTestStack;
  const CAP = 5;
  /** A connection closed as accepted closes within this; one let in stays open to HEADERS_TIMEOUT_MS (5 s below). */
  const CUT_AT_ONCE_MS = 2000;
  beforeAll(async () => {
    t = await startProductionStack({
      MAX_UNAUTHENTICATED_CONNECTIONS_PER_IP: String(CAP),
      HEADERS_TIMEOUT_MS: "5000",
      REQUEST_TIMEOUT_MS: "5000",
    });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it("the connection past the cap is closed as it is accepted; one that authenticates frees its place", async () => {
    const held = await Promise.all(Array.from({ length: CAP }, () => rawClient(port(t.baseUrl))));
    // Let the server accept all of them before the next one arrives.
    await new Promise((r) => setTimeout(r, 100));
    const extra = await rawClient(port(t.baseUrl));
    const extraClosedAfter = await extra.closed;
    // At once: a connection let in would be held to HEADERS_TIMEOUT_MS (5 s). The bound was 300 ms, which a loaded
    // machine's late event loop can pass; CUT_AT_ONCE_MS still fails a connection let in.
    expect(extraClosedAfter).toBeLessThan(CUT_AT_ONCE_MS);
    expect(extra.received()).toBe("");
    expect(
      t.logs
        .records()
        .some((l) => l.msg === "unauthenticated connections over the limit: closed as accepted" && l.cap === "per-ip"),
    ).toBe(true);

    // One held connection carries an authenticated request (keep-alive): it no longer counts, so one more fits.
    held[0].socket.write(
      `GET /graphql?query=%7BserviceInfo%7Bupstream%7D%7D HTTP/1.1\r\nHost: x\r\nx-api-key: ${TEST_API_KEY}\r\napollo-require-preflight: true\r\n\r\n`,
    );
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => held[0].received().includes("\r\n\r\n") && (clearInterval(poll), resolve()), 10);
    });
    expect(parseResponse(held[0].received()).status).toBe(200);
    const next = await rawClient(port(t.baseUrl));
    const outcome = await Promise.race([
      next.closed.then(() => "closed"),
      new Promise((r) => setTimeout(() => r("open"), 300)),
    ]);
    expect(outcome).toBe("open");

    // A request that fails authentication does not free a place: the cap holds again.
    const again = await rawClient(port(t.baseUrl));
    expect(await again.closed).toBeLessThan(CUT_AT_ONCE_MS);
    // Each closed connection counted (before: logged only, one line per 10 s at most), by cap, never by address.
    const metrics = await (await request(t.stack.app.metricsUrl as string)).body.text();
    expect(metrics).toMatch(/^http_connections_refused_total\{listener="api",reason="per_ip"\} 2$/m);
    expect(metrics).not.toContain("127.0.0.1");

    // Closing unauthenticated connections frees their places.
    held[1].socket.destroy();
    await held[1].closed;
    await new Promise((r) => setTimeout(r, 50));
    const afterClose = await rawClient(port(t.baseUrl));
    const afterCloseOutcome = await Promise.race([
      afterClose.closed.then(() => "closed"),
      new Promise((r) => setTimeout(() => r("open"), 300)),
    ]);
    expect(afterCloseOutcome).toBe("open");

    for (const c of [...held, next, afterClose]) c.socket.destroy();
  });
});

describe("a client that does not read its response is cut (RESPONSE_WRITE_TIMEOUT_MS)", () => {
  let t: TestStack;
  beforeAll(async () => {
    // Development settings for introspection: a large response (the whole schema) without extra routes.
    t = await startTestStack({ RESPONSE_WRITE_TIMEOUT_MS: "1000" });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it("pipelined large responses the client never reads: the connection is destroyed, and resuming reads finds it ended short", async () => {
    const query = JSON.stringify({ query: INTROSPECTION });
    const one = await t.gql(INTROSPECTION);
    expect(one.status).toBe(200);
    const size = Buffer.byteLength(one.text);
    // More than loopback's socket buffers hold (about 4 MB were written before the stall when measured).
    const count = Math.ceil((12 * 1024 * 1024) / size);
    const serverSide = new Promise<Socket>((resolve) => t.stack.app.fastify.server.once("connection", resolve));
    const c = await rawClient(port(t.baseUrl));
    c.socket.pause();
    const request = `POST /graphql HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(query)}\r\n\r\n${query}`;
    c.socket.write(request.repeat(count));
    // The server writes until the socket buffers are full, then nothing moves; RESPONSE_WRITE_TIMEOUT_MS later it
    // destroys the socket. Without the limit it would wait for this client forever.
    const socket = await serverSide;
    let lastProgressAt = Date.now();
    let written = 0;
    const progress = setInterval(() => {
      if (socket.bytesWritten !== written) [written, lastProgressAt] = [socket.bytesWritten, Date.now()];
    }, 20);
    await new Promise((r) => socket.once("close", r));
    clearInterval(progress);
    const stalledFor = Date.now() - lastProgressAt;
    expect(stalledFor).toBeGreaterThanOrEqual(900);
    // Measured about 2.0 s: bytesWritten counts bytes as they are handed to the socket, and the kernel still takes
    // some of them for a while after the last one was handed over; the limit counts from the last byte it took.
    expect(stalledFor).toBeLessThan(1000 + 2000);
    // The client, reading again, gets what was in flight and then the end: far fewer responses than it asked for.
    c.socket.resume();
    await c.closed;
    const responses = c.received().split("HTTP/1.1 200 OK").length - 1;
    expect(responses).toBeLessThan(count / 2);
  }, 30_000);
});

/**
 * A body cut at REQUEST_TIMEOUT_MS is one request refused, with one line: the parser's 408 ("request refused by the
 * HTTP parser"). Once the routes logged a client gone before its answer (clientGone), the body's read failing after
 * the 408 made each route write a second line for the same request id, a 400 its client never received.
 */
describe.each([
  ["thin route", true],
  ["Fastify route", false],
])("a body cut by the request timeout has one line (%s)", (_name, thinGraphQLRoute) => {
  let t: ProductionTestStack;
  beforeAll(async () => {
    t = await startProductionStack(
      { HEADERS_TIMEOUT_MS: String(HEADERS_MS), REQUEST_TIMEOUT_MS: String(REQUEST_MS) },
      { thinGraphQLRoute },
    );
  });
  afterAll(async () => {
    await t?.stop();
  });

  it("the parser's 408 only, no access line of a 400 after it", async () => {
    const body = JSON.stringify({ query: "{ serviceInfo { upstream } }" });
    const c = await rawClient(port(t.baseUrl));
    c.socket.write(
      `POST /graphql HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\nx-api-key: ${TEST_API_KEY}\r\n` +
        `content-length: ${body.length}\r\n\r\n`,
    );
    void c.trickle(body, 200);
    await c.closed;
    const id = expect408(c.received());
    // The route's read fails once the socket is gone: give it the time to (wrongly) write its line.
    await new Promise((r) => setTimeout(r, 300));
    const lines = t.logs.records().filter((l) => l.requestId === id && l.status !== undefined);
    expect(lines.map((l) => ({ status: l.status, msg: l.msg }))).toEqual([
      { status: 408, msg: "request refused by the HTTP parser" },
    ]);
    expect(t.simulator.calls()).toBe(0);
  }, 20_000);
});
