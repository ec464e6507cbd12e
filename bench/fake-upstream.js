// @ts-check
"use strict";
/**
 * The benchmark's fake AOPay: a node:http server in its own process that answers the two endpoints the bench drives
 * with **exactly the documented success examples** (test/fixtures/aopay/cibil/generate-otp.success.json and
 * aeps/resend-otp.success.json, re-serialised without indentation: same keys, same values, same order), so no system
 * meets an undocumented field:
 *
 *   GET  /api/AOP/CibilScore/GenerateOTP                     (a GET with a JSON body, like the real API)
 *   POST /api/AOP/V1/AEPS/UserRegisterBankWise/ResendOTP
 *
 * - It reads and parses every request body and checks the fields AOPay documents (types, the partner credentials,
 *   the AEPS Pipe/AccessModeType); a malformed request gets a 400 (or 401) and is counted (`bad`).
 * - It records every destination it was asked to send an OTP to (CIBIL: `cibil_id`; AEPS: `Mobile`) and how often,
 *   so the bench can check that every successful answer reached the upstream exactly once and that no destination
 *   was sent an OTP twice (lib/hits.js). {cmd:"ids"} returns them (a Float64Array per endpoint, over an IPC channel
 *   with "advanced" serialisation).
 * - `UPSTREAM_DELAY_MS` (default 0) holds each answer that long: 300 for the overload scenario.
 * - It counts the TCP connections it accepts, so the bench can tell whether a system reuses its upstream sockets,
 *   and requests in flight (received, not yet answered): the peak and the time-weighted average since the last reset.
 *   {cmd:"stats"}, {cmd:"window"} (restart the in-flight statistics) and {cmd:"reset"} (restart everything) over IPC.
 *
 * Env: UPSTREAM_DELAY_MS, UPSTREAM_HOST (127.0.0.1), UPSTREAM_PORT (0: ephemeral).
 * Prints one JSON line {"msg":"fake upstream ready","url":...}.
 */
const http = require("node:http");
const { percentiles } = require("./lib/stats");
const {
  CIBIL_PATH,
  AEPS_PATH,
  REGISTRATION_ID,
  COMPANY_CODE,
  AEPS_PIPE,
  AEPS_ACCESS_MODE_TYPE,
  fixtures,
} = require("./lib/aopay-wire");

const delayMs = Number(process.env.UPSTREAM_DELAY_MS ?? "0");
const host = process.env.UPSTREAM_HOST ?? "127.0.0.1";
const port = Number(process.env.UPSTREAM_PORT ?? "0");
if (!Number.isFinite(delayMs) || delayMs < 0) throw new Error("UPSTREAM_DELAY_MS must be a number >= 0");

const ANSWERS = { cibil: JSON.stringify(fixtures.cibil), aeps: JSON.stringify(fixtures.aeps) };
// Documented 401 schemas and the CIBIL generic error (test/fixtures/aopay/README.md); only malformed requests get them.
const UNAUTHORIZED = JSON.stringify({ responsecode: 401, status: false, message: "Unauthorized" });
const BAD_REQUEST = JSON.stringify({ code: "400", description: "Invalid request", status: "False" });

/** @typedef {"cibil" | "aeps"} EndpointKey */
/** Destination -> number of requests, per endpoint, since the last reset. */
const seen = {
  cibil: /** @type {Map<number, number>} */ (new Map()),
  aeps: /** @type {Map<number, number>} */ (new Map()),
};
let counters = zero();
function zero() {
  return {
    received: 0,
    answered: 0,
    bad: 0,
    connections: 0,
    hits: { cibil: 0, aeps: 0 },
    duplicateHits: { cibil: 0, aeps: 0 },
  };
}

let inFlight = 0;
let peakInFlight = 0;
/**
 * How long each kept-alive socket sat idle between an answer and the next request on it (ms), since the last
 * reset. Under overload the system's queue of calls waiting for a socket is full, so the gap is its own delay: from
 * our answer reaching its socket to its next queued call written on that socket (reading the answer, finishing the
 * call, dispatching the next). The socket's capacity lost to that delay is gap / (delay + gap).
 * @type {number[]}
 */
let idleGapsMs = [];
const ANSWERED_AT = Symbol("answeredAt");
// Time-weighted in-flight: the integral of inFlight over time since the last reset.
let area = 0;
let lastChange = performance.now();
let resetAt = lastChange;

function changeInFlight(/** @type {number} */ delta) {
  const now = performance.now();
  area += inFlight * (now - lastChange);
  lastChange = now;
  inFlight += delta;
  if (inFlight > peakInFlight) peakInFlight = inFlight;
}

function answer(/** @type {http.ServerResponse} */ res, /** @type {number} */ status, /** @type {string} */ body) {
  const send = () => {
    changeInFlight(-1);
    counters.answered += 1;
    res.writeHead(status, {
      "content-type": "application/json; charset=utf-8",
      "content-length": Buffer.byteLength(body),
    });
    res.end(body);
    const socket = /** @type {any} */ (res.socket);
    if (socket) socket[ANSWERED_AT] = performance.now();
  };
  if (delayMs > 0) setTimeout(send, delayMs);
  else send();
}

/** The destination of a well-formed request, or a problem. @returns {{ id: number } | { status: number }} */
function check(/** @type {EndpointKey} */ key, /** @type {any} */ b) {
  if (!b || typeof b !== "object") return { status: 400 };
  if (key === "cibil") {
    if (!Number.isSafeInteger(b.cibil_id) || typeof b.access_token !== "string") return { status: 400 };
    if (b.RegistrationID !== REGISTRATION_ID || b.CompanyCode !== COMPANY_CODE) return { status: 401 };
    return { id: b.cibil_id };
  }
  const ok =
    typeof b.Userkey === "string" &&
    Number.isSafeInteger(b.Mobile) &&
    String(b.Mobile).length === 10 &&
    typeof b.AdhaarNumber === "string" &&
    /^[2-9][0-9]{11}$/.test(b.AdhaarNumber) &&
    b.Pipe === AEPS_PIPE &&
    b.AccessModeType === AEPS_ACCESS_MODE_TYPE &&
    typeof b.PrimaryKeyId === "string" &&
    typeof b.EncodeTxnId === "string";
  if (!ok) return { status: 400 };
  if (b.RegistrationID !== REGISTRATION_ID) return { status: 401 };
  return { id: b.Mobile };
}

const server = http.createServer((req, res) => {
  /** @type {EndpointKey | null} */
  const key =
    req.url === CIBIL_PATH && req.method === "GET"
      ? "cibil"
      : req.url === AEPS_PATH && req.method === "POST"
        ? "aeps"
        : null;
  if (key === null) {
    counters.bad += 1;
    res.writeHead(404, { "content-type": "application/json" });
    res.end('{"message":"not found"}');
    return;
  }
  counters.received += 1;
  changeInFlight(+1);
  const answeredAt = /** @type {any} */ (req.socket)[ANSWERED_AT];
  if (answeredAt !== undefined) idleGapsMs.push(performance.now() - answeredAt);
  /** @type {Buffer[]} */
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    /** @type {any} */
    let body = null;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      // stays null: a 400 below
    }
    const verdict = check(key, body);
    if ("status" in verdict) {
      counters.bad += 1;
      answer(res, verdict.status, verdict.status === 401 ? UNAUTHORIZED : BAD_REQUEST);
      return;
    }
    counters.hits[key] += 1;
    const n = (seen[key].get(verdict.id) ?? 0) + 1;
    seen[key].set(verdict.id, n);
    if (n > 1) counters.duplicateHits[key] += 1;
    answer(res, 200, ANSWERS[key]);
  });
});
// TCP connections opened by the system under test: a client that reuses its sockets opens a handful per run; one
// that closes the socket after every call opens one per request.
server.on("connection", () => {
  counters.connections += 1;
});
// Kept-alive sockets from the systems under test stay open between bursts. Node announces this as `Keep-Alive:
// timeout=65`, and undici (ours, minimal Apollo's, RESTDataSource's fetch) keeps an idle socket for the time a server
// announces, less a second or two, over its own keepAliveTimeout: a socket left idle after a burst is closed by its
// client about 63 s later ("close-idle" below).
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
server.requestTimeout = 0;

function stats() {
  changeInFlight(0);
  const elapsed = lastChange - resetAt;
  const destinations = { cibil: seen.cibil.size, aeps: seen.aeps.size };
  return {
    ...counters,
    destinations,
    inFlight,
    peakInFlight,
    avgInFlight: elapsed > 0 ? area / elapsed : 0,
    idleGapMs: percentiles(idleGapsMs),
  };
}

/** Every destination seen since the reset, and the ones seen more than once (at most 20 each). */
function ids() {
  const dup = (/** @type {Map<number, number>} */ m) => [...m].filter(([, n]) => n > 1).slice(0, 20);
  return {
    cibil: Float64Array.from(seen.cibil.keys()),
    aeps: Float64Array.from(seen.aeps.keys()),
    duplicates: { cibil: dup(seen.cibil), aeps: dup(seen.aeps) },
  };
}

process.on("message", (/** @type {any} */ msg) => {
  if (msg?.cmd === "stats") process.send?.({ type: "stats", id: msg.id, stats: stats() });
  if (msg?.cmd === "ids") process.send?.({ type: "ids", id: msg.id, ids: ids() });
  // "close-idle": close every kept-alive socket with no request on it (phase D, after the warm-up at 64 connections
  // left each system with more upstream sockets than its paired rate keeps busy). Without it those sockets were
  // closed by their clients' idle timers about 63 s after the burst: inside phase D's window at 600 req/s each (a
  // 34 s warm-up), and a process's first closed pool socket deoptimised ours' hot path, about 50 functions of
  // node:http, streams and undici ("dependent prototype chain changed"), recompiled within the window.
  if (msg?.cmd === "close-idle") {
    server.closeIdleConnections();
    process.send?.({ type: msg.cmd, id: msg.id });
  }
  // "window": restart the in-flight statistics only (a measured window begins); "reset": everything (a run begins).
  if (msg?.cmd === "window" || msg?.cmd === "reset") {
    changeInFlight(0);
    area = 0;
    resetAt = lastChange;
    peakInFlight = inFlight;
    idleGapsMs = [];
    if (msg.cmd === "reset") {
      counters = zero();
      seen.cibil.clear();
      seen.aeps.clear();
    }
    process.send?.({ type: msg.cmd, id: msg.id });
  }
});
// The orchestrator went away (even by SIGKILL): do not outlive it.
process.on("disconnect", () => process.exit(0));

server.listen({ host, port, backlog: 8192 }, () => {
  const addr = /** @type {import("node:net").AddressInfo} */ (server.address());
  const url = `http://${host}:${addr.port}`;
  const bodyBytes = { cibil: Buffer.byteLength(ANSWERS.cibil), aeps: Buffer.byteLength(ANSWERS.aeps) };
  process.stdout.write(`${JSON.stringify({ msg: "fake upstream ready", url, delayMs, bodyBytes })}\n`);
});
