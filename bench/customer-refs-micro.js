#!/usr/bin/env node
// @ts-check
"use strict";
/**
 * Micro-benchmark of the access line's customer references (src/protection/customer-refs.ts): what a request pays to
 * name its customers, as guarded-send.ts does it (CustomerRefs.note into the summary's list, one HMAC per identifier),
 * with a fresh customer per request (no value repeats, as in production), for the three shapes the operations have:
 * an AEPS send or verification (mobile, Aadhaar, user key: 3), a CIBIL registration (mobile, PAN, the CIBIL id AOPay
 * answers: 3), a CIBIL send (CIBIL id and the registered mobile: 2), a CIBIL verification or report read (1). Also the
 * bytes the `refs` field adds to an access line of each shape; then what writing those bytes costs: an AEPS access line
 * through the server's logger (logAccess, pino, redaction and the PII scrubber; lines discarded) with and without its
 * three references. Reads the compiled server (`npm run build`), or another build given by `--dist`. A request whose
 * references are not one per identifier, or a logger that wrote nothing, stops the run (exit 1).
 *
 *   node bench/customer-refs-micro.js [--requests 100000] [--batches 7] [--warm 50000] [--dist dir]
 *     prints CPU µs per request for each shape (process.cpuUsage over each batch; median and every batch)
 */
const path = require("node:path");
const { parseArgs } = require("node:util");

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "100000" },
    batches: { type: "string", default: "7" },
    warm: { type: "string", default: "50000" },
    dist: { type: "string" },
  },
});
const ROOT = path.join(__dirname, "..");
const dist = path.resolve(values.dist ?? path.join(ROOT, "dist"));
const { CustomerRefs } = require(path.join(dist, "protection/customer-refs.js"));
const { createLogger } = require(path.join(dist, "logging/logger.js"));
const { logAccess } = require(path.join(dist, "logging/access-log.js"));

const refs = new CustomerRefs(Buffer.from("bench-customer-ref-secret-0123456789abcdef", "utf8"));
const requests = Number(values.requests);
const batches = Number(values.batches);

/** @typedef {import("../src/protection/customer-refs").CustomerRefKind} Kind */
/** @type {Record<string, (i: number) => Array<[Kind, string]>>} */
const SHAPES = {
  "AEPS send/verify (3)": (i) => [
    ["mobile", String(9_000_000_000 + i)],
    ["aadhaar", String(234_100_000_000 + i)],
    ["aeps-user", `AOP${String(i).padStart(9, "0")}`],
  ],
  "CIBIL registration (3)": (i) => [
    ["mobile", String(9_000_000_000 + i)],
    ["pan", `ABCPE${String(i % 10_000).padStart(4, "0")}F`],
    ["cibil", String(100_000_000 + i)],
  ],
  "CIBIL send (2)": (i) => [
    ["cibil", String(100_000_000 + i)],
    ["mobile", String(9_000_000_000 + i)],
  ],
  "CIBIL verify/read (1)": (i) => [["cibil", String(100_000_000 + i)]],
};

/** One request's work: its list, one note per identifier. */
function run(/** @type {Array<[Kind, string]>} */ ids) {
  /** @type {string[]} */
  const list = [];
  for (const [kind, value] of ids) refs.note(list, kind, value);
  return list;
}

/** CPU µs per call of `step` over `requests` calls, per batch (after a warm-up): the median and every batch. */
function time(/** @type {(i: number) => unknown} */ step) {
  for (let i = 0; i < Number(values.warm); i++) step(i);
  /** @type {number[]} */
  const perRequest = [];
  for (let b = 0; b < batches; b++) {
    const before = process.cpuUsage();
    for (let i = 0; i < requests; i++) step(i);
    const used = process.cpuUsage(before);
    perRequest.push((used.user + used.system) / requests);
  }
  const sorted = [...perRequest].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)], perRequest };
}
const shown = (/** @type {{ median: number; perRequest: number[] }} */ t) =>
  `${t.median.toFixed(2)} µs/request [${t.perRequest.map((v) => v.toFixed(2)).join(", ")}]`;

let offset = 0;
for (const [shape, make] of Object.entries(SHAPES)) {
  // Inputs made outside the timed loop: only the references are measured.
  const inputs = Array.from({ length: requests + Number(values.warm) }, (_, i) => make(offset + i));
  offset += inputs.length;
  for (let i = requests; i < inputs.length; i++) run(inputs[i]);
  /** @type {number[]} */
  const perRequest = [];
  let sink = 0;
  for (let b = 0; b < batches; b++) {
    const before = process.cpuUsage();
    for (let i = 0; i < requests; i++) sink += run(inputs[i]).length;
    const used = process.cpuUsage(before);
    perRequest.push((used.user + used.system) / requests);
  }
  // Every identifier is fresh, so every request has one reference per identifier: fewer is a failed or merged note.
  if (sink !== batches * requests * make(0).length) throw new Error(`${shape}: ${sink} references, not one per id`);
  const sorted = [...perRequest].sort((a, b) => a - b);
  const list = run(make(0));
  // The access line's added field, as pino writes it: `,"refs":[...]`.
  const bytes = Buffer.byteLength(`,"refs":${JSON.stringify(list)}`);
  process.stdout.write(
    `${shape.padEnd(24)} ${sorted[Math.floor(sorted.length / 2)].toFixed(2)} µs/request ` +
      `[${perRequest.map((v) => v.toFixed(2)).join(", ")}]  +${bytes} bytes per access line\n`,
  );
}

// The access line's cost with and without its references: an AEPS send's line as the server writes it.
let written = 0;
const log = createLogger({
  level: "info",
  destination: { write: (/** @type {string} */ line) => (written += line.length) },
}).child({ requestId: "6f1c2a4e-8b3d-4e5f-9a7b-1c2d3e4f5a6b", clientId: "mobile-app" });
const upstream = [{ endpoint: "aeps.resendOtp", outcome: "OK", httpStatus: 200, durationMs: 4.4 }];
const aeps = SHAPES["AEPS send/verify (3)"];
const lists = Array.from({ length: 1000 }, (_, i) => run(aeps(offset + i)));
const line = (/** @type {number} */ i, /** @type {boolean} */ withRefs) => {
  /** @type {Record<string, unknown>} */
  const summary = { operation: "ResendAepsOtp", result: "AepsOtpResent" };
  if (withRefs) summary.refs = lists[i % lists.length];
  logAccess(log, undefined, "POST", "/graphql", 200, summary, upstream, 12.3);
};
// Interleaved, twice each, so that a drift of the host falls on both.
const without = [time((i) => line(i, false)), time((i) => line(i, false))];
const withRefs = [time((i) => line(i, true)), time((i) => line(i, true))];
process.stdout.write(`access line without refs   ${shown(without[0])}; again ${shown(without[1])}\n`);
process.stdout.write(`access line with 3 refs    ${shown(withRefs[0])}; again ${shown(withRefs[1])}\n`);
if (written === 0) throw new Error("nothing written");
