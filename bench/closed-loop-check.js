// @ts-check
"use strict";
/**
 * Checks the overload scenario's two HTTP clients (lib/closed-loop.js: "raw", lib/raw-http.js, and "undici") against
 * each other, then measures what each costs the load generator.
 *
 *   node bench/closed-loop-check.js            # both parts; exit 1 if the clients classify any answer differently
 *   node bench/closed-loop-check.js --no-cpu   # the classification check alone (a few seconds)
 *
 * 1. **Classification.** A scripted `node:http` server (a child process, on loopback, port 0) answers each request by
 * its destination (the AEPS mobile number, modulo the number of cases): a correct 200; a 200 typed OVERLOADED; a 503
 * with `Retry-After: 1` and our error body; a correct 200 with `connection: close`; a 200 with `errors`; a 400; a 200
 * for another destination (wrong); no answer (the client times out after 400 ms); a correct 200 in chunked encoding; a
 * reset without an answer; a 503 with `Retry-After: 2` and `connection: close`. Each client sends every case 8 times
 * over 4 keep-alive connections (so a connection meets every kind of answer, and must reconnect after the closes, the
 * reset and the timeout); the check fails unless, for every case, both clients give the expected class, HTTP status and
 * Retry-After every time. The server counts the connections it accepted: both clients must have reconnected after each
 * close.
 * 2. **CPU per answer** (skipped with --no-cpu). The same server answering every request at once with our 503 refusal
 *    (the overload scenario's commonest answer), 1,500 closed-loop clients of each kind, interleaved (raw, undici, raw,
 *    undici), 1 s ramp + 1 s warm-up + 3 s window each: the generator's CPU µs per answer, answers/s and its
 *    event-loop delay. The server is a separate process, so the figure is the client's alone; on a shared machine the
 *    per-answer CPU is the figure to read, answers/s depends on who else is busy.
 */
const { fork } = require("node:child_process");
const http = require("node:http");
const { once } = require("node:events");
const { closedLoop, exchange, httpClient } = require("./lib/closed-loop");
const { MUTATIONS, bodyFactory } = require("./lib/mutations");
const { fixtures } = require("./lib/aopay-wire");

const m = MUTATIONS.aeps;
const REFUSAL = JSON.stringify({
  errors: [
    {
      message: "The server is overloaded: try again after Retry-After seconds. Nothing was done.",
      extensions: { code: "OVERLOADED", requestId: "5b7e1c52-54c1-4b5a-9a57-0c5f4c1a2b3c" },
    },
  ],
});

/** A correct answer for `mobile`, as our server shapes it (only what `isOk` reads matters). @param {string} mobile */
function okBody(mobile) {
  return JSON.stringify({
    data: {
      resendAepsOtp: {
        __typename: "AepsOtpResent",
        primaryKeyId: String(fixtures.aeps.data.data.primaryKeyId),
        maskedMobile: `XXXXXX${mobile.slice(-4)}`,
      },
    },
  });
}

/**
 * The scripted cases, by destination modulo their number: what the server does, and what both clients must report.
 * @type {{ name: string, expect: { verdict: string, status: number, retryAfter?: string },
 *   answer(res: http.ServerResponse, mobile: string): void }[]}
 */
const CASES = [
  {
    name: "200 correct",
    expect: { verdict: "ok", status: 200 },
    answer: (res, mobile) => json(res, 200, okBody(mobile)),
  },
  {
    name: "200 typed OVERLOADED",
    expect: { verdict: "shed", status: 200 },
    answer: (res) =>
      json(
        res,
        200,
        JSON.stringify({
          data: { resendAepsOtp: { __typename: "Failure", code: "OVERLOADED", message: "m", retryable: true } },
        }),
      ),
  },
  {
    name: "503 Retry-After 1",
    expect: { verdict: "shed", status: 503, retryAfter: "1" },
    answer: (res) => json(res, 503, REFUSAL, { "retry-after": "1" }),
  },
  {
    name: "200 correct, connection: close",
    expect: { verdict: "ok", status: 200 },
    answer: (res, mobile) => json(res, 200, okBody(mobile), { connection: "close" }),
  },
  {
    name: "200 with errors",
    expect: { verdict: "graphqlError", status: 200 },
    answer: (res) => json(res, 200, JSON.stringify({ errors: [{ message: "x" }], data: null })),
  },
  {
    name: "400",
    expect: { verdict: "non2xx", status: 400 },
    answer: (res) => json(res, 400, JSON.stringify({ errors: [{ message: "bad" }] })),
  },
  {
    name: "200 for another destination",
    expect: { verdict: "wrong", status: 200 },
    answer: (res) => json(res, 200, okBody("6000000000")),
  },
  {
    name: "no answer (client timeout)",
    expect: { verdict: "timeout", status: 0 },
    answer: () => undefined,
  },
  {
    name: "200 correct, chunked",
    expect: { verdict: "ok", status: 200 },
    answer: (res, mobile) => {
      const body = okBody(mobile);
      res.writeHead(200, { "content-type": "application/json" });
      res.write(body.slice(0, 20));
      setTimeout(() => res.end(body.slice(20)), 5);
    },
  },
  {
    name: "reset without an answer",
    expect: { verdict: "error", status: 0 },
    answer: (res) => res.socket?.destroy(),
  },
  {
    name: "503 Retry-After 2, connection: close",
    expect: { verdict: "shed", status: 503, retryAfter: "2" },
    answer: (res) => json(res, 503, REFUSAL, { "retry-after": "2", connection: "close" }),
  },
];

/** @param {http.ServerResponse} res @param {number} status @param {string} body @param {Record<string, string>} [extra] */
function json(res, status, body, extra = {}) {
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    ...extra,
  });
  res.end(body);
}

/** The child: the scripted server ("script") or the refusal-only one ("refuse"). Talks to the parent over IPC. */
function serve(/** @type {string} */ mode) {
  let accepted = 0;
  const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    if (mode === "refuse") {
      // Like src/http/admission.ts: answered before the body is read.
      json(res, 503, REFUSAL, { "retry-after": "1", "x-request-id": "5b7e1c52-54c1-4b5a-9a57-0c5f4c1a2b3c" });
      req.resume();
      return;
    }
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const mobile = String(JSON.parse(body).variables.input.mobile);
      CASES[Number(BigInt(mobile) % BigInt(CASES.length))].answer(res, mobile);
    });
  });
  server.on("connection", () => (accepted += 1));
  server.listen(0, "127.0.0.1", () => {
    const addr = /** @type {import("node:net").AddressInfo} */ (server.address());
    process.send?.({ port: addr.port });
  });
  process.on("message", (msg) => {
    if (msg === "accepted") process.send?.({ accepted });
    if (msg === "reset") {
      accepted = 0;
      process.send?.({ accepted });
    }
  });
  process.on("disconnect", () => process.exit(0));
}

/** @param {string} mode @returns {Promise<{ url: string, ask(q: string): Promise<any>, stop(): void }>} */
async function startServer(mode) {
  const child = fork(__filename, ["--serve", mode], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const [{ port }] = await once(child, "message");
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    ask: async (q) => {
      child.send(q);
      const [answer] = await once(child, "message");
      return answer;
    },
    stop: () => child.kill(),
  };
}

const ROUNDS = 8;
const CONNECTIONS = 4;

/**
 * Every case ROUNDS times over CONNECTIONS connections of one client; returns the observations by case.
 * @param {import("./lib/closed-loop").ClientKind} kind @param {string} url
 */
async function classifyAll(kind, url) {
  const client = httpClient(kind, { url, connections: CONNECTIONS, timeoutSec: 0.4 });
  const bodies = bodyFactory(m, "union");
  /** @type {Map<string, Set<string>>} */
  const seen = new Map(CASES.map((c) => [c.name, new Set()]));
  const perConnection = (ROUNDS * CASES.length) / CONNECTIONS;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      const conn = client.connection();
      for (let i = 0; i < perConnection; i++) {
        const { id, body } = bodies.next();
        const r = await exchange(conn, m, id, body);
        seen.get(CASES[id % CASES.length].name)?.add(JSON.stringify([r.verdict, r.status, r.retryAfter ?? null]));
      }
    }),
  );
  await client.close();
  return seen;
}

async function checkClassification() {
  const server = await startServer("script");
  let failures = 0;
  try {
    /** @type {Record<string, Map<string, Set<string>>>} */
    const results = {};
    /** @type {Record<string, number>} */
    const accepted = {};
    for (const kind of /** @type {const} */ (["raw", "undici"])) {
      await server.ask("reset");
      results[kind] = await classifyAll(kind, server.url);
      accepted[kind] = (await server.ask("accepted")).accepted;
    }
    for (const c of CASES) {
      const want = JSON.stringify([c.expect.verdict, c.expect.status, c.expect.retryAfter ?? null]);
      const got = Object.entries(results).map(([k, r]) => `${k} ${[...(r.get(c.name) ?? [])].join(" | ")}`);
      const ok = Object.values(results).every((r) => {
        const s = r.get(c.name);
        return s?.size === 1 && s.has(want);
      });
      if (!ok) failures += 1;
      console.log(`${ok ? "  same" : "  DIFF"}  ${c.name.padEnd(38)} expected ${want}; ${got.join("; ")}`);
    }
    // A connection is closed after each 'connection: close' answer, reset and timeout: 4 of the 11 cases, 32
    // requests. Every one but (at most) the last of each connection is followed by a reconnect, so at least 32
    // connections in all (4 at the start + 32 - 4); a client that did not reconnect would fail its next requests.
    const closes = ROUNDS * 4;
    for (const [k, n] of Object.entries(accepted)) {
      const ok = n >= closes;
      if (!ok) failures += 1;
      console.log(`${ok ? "  ok  " : "  LOW "}  ${k}: ${n} connections accepted (at least ${closes} expected)`);
    }
  } finally {
    server.stop();
  }
  return failures;
}

async function measureCpu() {
  const server = await startServer("refuse");
  try {
    console.log("\nload generator CPU per answer: 1,500 closed-loop clients, every answer a 503 refusal");
    for (const kind of /** @type {const} */ (["raw", "undici", "raw", "undici"])) {
      const r = await closedLoop({
        url: server.url,
        mutation: m,
        bodies: bodyFactory(m, "union"),
        clients: 1500,
        rampSec: 1,
        warmupSec: 2,
        measureSec: 3,
        timeoutSec: 10,
        client: kind,
      });
      const lg = r.loadGenerator;
      const answers = Object.values(r.window).reduce((a, b) => a + b, 0);
      console.log(
        `  ${kind.padEnd(6)} ${lg.cpuUsPerAnswer.toFixed(1).padStart(6)} µs CPU per answer, ${Math.round(answers / r.windowSec)} answers/s, ` +
          `${lg.cpuCoresBusy.toFixed(2)} cores, event-loop delay p50/p99 ${lg.eventLoopDelayMs.p50.toFixed(1)}/${lg.eventLoopDelayMs.p99.toFixed(1)} ms, ` +
          `shed p50 ${(r.latencyUs.shed.p50 / 1000).toFixed(1)} ms, not shed ${answers - r.window.shed}`,
      );
    }
  } finally {
    server.stop();
  }
}

async function main() {
  const serveAt = process.argv.indexOf("--serve");
  if (serveAt >= 0) return serve(process.argv[serveAt + 1]);
  console.log(`classification: raw vs undici, ${CASES.length} cases × ${ROUNDS} over ${CONNECTIONS} connections each`);
  const failures = await checkClassification();
  if (failures > 0) {
    console.error(`\n${failures} DIFFERENCE(S): the raw client does not classify like undici`);
    process.exitCode = 1;
    return;
  }
  console.log("every case: both clients agree, and as expected");
  if (!process.argv.includes("--no-cpu")) await measureCpu();
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
