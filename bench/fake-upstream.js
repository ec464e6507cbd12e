// @ts-check
"use strict";
/**
 * The benchmark's fake AOPay: a node:http server in its own process that answers
 * `GET /api/AOP/CibilScore/GenerateOTP` (a GET with a JSON body, like the real API) with the documented success
 * envelope (test/fixtures/aopay/cibil.generate-otp.success.json) padded with plausible fields to about 1 KB.
 *
 * - It reads and parses every request body, checks the fields AOPay documents (`cibil_id` a number, `access_token`,
 *   the partner credentials) and echoes `cibil_id` in the answer, so the bench can check that every answer belongs to
 *   its request. A malformed request gets a 400 and is counted (`bad`).
 * - `UPSTREAM_DELAY_MS` (default 0) holds each answer that long: 300 for the slow-upstream scenario.
 * - It counts the TCP connections it accepts, so the bench can tell whether a system reuses its upstream sockets.
 * - It counts requests in flight (received, not yet answered): the peak and the time-weighted average since the last
 *   reset. The orchestrator asks for them over the IPC channel: {cmd:"stats"} / {cmd:"reset"}.
 *
 * Env: UPSTREAM_DELAY_MS, UPSTREAM_HOST (127.0.0.1), UPSTREAM_PORT (0: ephemeral).
 * Prints one JSON line {"msg":"fake upstream ready","url":...} and sends {type:"ready",url} over IPC.
 */
const http = require("node:http");
const { GENERATE_OTP_PATH, REGISTRATION_ID, COMPANY_CODE } = require("./lib/aopay-wire");

const delayMs = Number(process.env.UPSTREAM_DELAY_MS ?? "0");
const host = process.env.UPSTREAM_HOST ?? "127.0.0.1";
const port = Number(process.env.UPSTREAM_PORT ?? "0");
if (!Number.isFinite(delayMs) || delayMs < 0) throw new Error("UPSTREAM_DELAY_MS must be a number >= 0");

/** The documented success envelope plus plausible padding; `@@ID@@`/`@@TXN@@` are replaced per request. */
const TEMPLATE = JSON.stringify({
  result: {
    cibil_id: "@@ID@@",
    cibil_status: "Pending",
    questions: {
      LastChanceQuestion: "false",
      FullQuestionText: "The One Time Password is sent to 94138****. Please enter the One Time Password.",
      AnswerChoice: {
        AnswerChoiceText: "The One Time Password is sent to 94138****. Please enter the One Time Password.",
        Key: "USER_TO_INPUT_ANSWER",
        AnswerChoiceId: "4220112750",
      },
      Key: "1423489238",
      skipEligible: "false",
      resendEligible: "true",
      QuestionType: "OTP",
      ResendAttemptsLeft: "2",
      ValidityMinutes: "10",
    },
    next_api_call: "cibil-verify-answers",
    bureau: "TransUnion CIBIL",
    product_code: "CIR-CONSUMER-V2",
    consent: { captured: "true", purpose: "Credit assessment", channel: "API", version: "2.1" },
    session: { started_at: "2024-08-18T15:02:43+05:30", expires_at: "2024-08-18T15:12:43+05:30", attempt: "1" },
  },
  status: "SUCCESS",
  message: "success",
  error_code: "SPC-200",
  merchant_trans_id: "@@TXN@@",
  request_ref: "REQ-AOP-2024081815024377",
  partner: { company_code: COMPANY_CODE, environment: "UAT", api_version: "v1" },
  server_time: "2024-08-18T15:02:43.771+05:30",
  remarks: "OTP dispatched to the mobile number registered with the bureau; answer within the validity window.",
});
const [HEAD, REST] = TEMPLATE.split('"@@ID@@"');
const [MID, TAIL] = REST.split('"@@TXN@@"');

const UNAUTHORIZED = JSON.stringify({ responsecode: 401, status: false, message: "Unauthorized" });
const BAD_REQUEST = JSON.stringify({ code: "400", description: "Invalid request", status: "False" });

let inFlight = 0;
let peakInFlight = 0;
let received = 0;
let answered = 0;
let bad = 0;
let connections = 0;
// Time-weighted in-flight: the integral of inFlight over time since the last reset.
let area = 0;
let lastChange = performance.now();
let resetAt = lastChange;
let txn = 0;

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
    answered += 1;
    res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body) });
    res.end(body);
  };
  if (delayMs > 0) setTimeout(send, delayMs);
  else send();
}

const server = http.createServer((req, res) => {
  if (req.url !== GENERATE_OTP_PATH || req.method !== "GET") {
    res.writeHead(404, { "content-type": "application/json" });
    res.end('{"message":"not found"}');
    return;
  }
  received += 1;
  changeInFlight(+1);
  /** @type {Buffer[]} */
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    /** @type {any} */
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      body = null;
    }
    if (!body || typeof body.cibil_id !== "number" || typeof body.access_token !== "string") {
      bad += 1;
      answer(res, 400, BAD_REQUEST);
      return;
    }
    if (body.RegistrationID !== REGISTRATION_ID || body.CompanyCode !== COMPANY_CODE) {
      bad += 1;
      answer(res, 401, UNAUTHORIZED);
      return;
    }
    txn += 1;
    answer(res, 200, `${HEAD}"${body.cibil_id}"${MID}"SPCBL${String(txn).padStart(12, "0")}"${TAIL}`);
  });
});
// TCP connections opened by the system under test: a client that reuses its sockets opens a handful per run; one
// that closes the socket after every call opens one per request.
server.on("connection", () => {
  connections += 1;
});
// Kept-alive sockets from the systems under test stay open between bursts (their own idle timeouts are shorter).
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
server.requestTimeout = 0;

function stats() {
  changeInFlight(0);
  const elapsed = lastChange - resetAt;
  return { inFlight, peakInFlight, avgInFlight: elapsed > 0 ? area / elapsed : 0, received, answered, bad, connections };
}

process.on("message", (/** @type {any} */ msg) => {
  if (msg?.cmd === "stats") process.send?.({ type: "stats", id: msg.id, stats: stats() });
  if (msg?.cmd === "reset") {
    changeInFlight(0);
    area = 0;
    resetAt = lastChange;
    peakInFlight = inFlight;
    received = answered = bad = connections = 0;
    process.send?.({ type: "reset", id: msg.id });
  }
});
// The orchestrator went away (even by SIGKILL): do not outlive it.
process.on("disconnect", () => process.exit(0));

server.listen({ host, port, backlog: 8192 }, () => {
  const addr = /** @type {import("node:net").AddressInfo} */ (server.address());
  const url = `http://${host}:${addr.port}`;
  const sampleBytes = Buffer.byteLength(`${HEAD}"102277100"${MID}"SPCBL000000000001"${TAIL}`);
  process.stdout.write(`${JSON.stringify({ msg: "fake upstream ready", url, delayMs, bodyBytes: sampleBytes })}\n`);
  process.send?.({ type: "ready", url, bodyBytes: sampleBytes });
});
