#!/usr/bin/env node
// @ts-check
"use strict";
/**
 * Micro-benchmark of the in-memory OTP throttle's send path: `OtpThrottle.reserve(subject, "send")` as an AEPS send
 * makes it (a fresh mobile and Aadhaar each time, so every destination budget opens a window; one IP, one client;
 * destination budgets at their defaults, the IP, client, global and prefix budgets at the bench's 10,000,000 so
 * nothing is refused). The real KeyHasher (HMAC-SHA256) is used unless `--stub-hasher`, which leaves the hashing out
 * to show the store's own cost. Reads the compiled server (`npm run build`), or another build given as the argument
 * (a base copy, to compare two commits interleaved). `--prefill N` first sends to N other fresh destinations on each
 * batch's throttle (not timed): the tables then hold what a server at saturation holds (tens of thousands of
 * destinations, a day's worth of daily windows), so each send's inserts land in large Maps, as in the bench.
 *
 *   node bench/throttle-micro.js [dist dir] [--sends 20000] [--batches 7] [--warm 20000] [--prefill 0] [--stub-hasher]
 *     prints CPU µs per send (process.cpuUsage over each batch; median and every batch)
 *   valgrind --tool=callgrind --separate-threads=yes node --expose-gc bench/throttle-micro.js --batches 1 --cg
 *     main-thread instructions of one batch: the counters are zeroed before it and dumped after it
 *     (callgrind_control), so the thread-1 dump of part 1 holds exactly the batch; divide its summary by --sends
 */
const path = require("node:path");
const { parseArgs } = require("node:util");
const { measureBatches, SHARED_BUDGETS_UNBOUNDED, sendSubjects } = require("./lib/micro");

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    sends: { type: "string", default: "20000" },
    batches: { type: "string", default: "7" },
    warm: { type: "string", default: "20000" },
    prefill: { type: "string", default: "0" },
    "stub-hasher": { type: "boolean", default: false },
    cg: { type: "boolean", default: false },
  },
});
const ROOT = path.join(__dirname, "..");
const dist = path.resolve(positionals[0] ?? path.join(ROOT, "dist"));
require(require.resolve("reflect-metadata", { paths: [dist, ROOT] }));
const { OtpThrottle } = require(path.join(dist, "protection/otp-throttle.js"));
const { KeyHasher } = require(path.join(dist, "protection/key-hasher.js"));
const { loadConfig } = require(path.join(dist, "config.js"));

const config = loadConfig(SHARED_BUDGETS_UNBOUNDED);
// The stub's keys have the length of real ones (43 characters, base64url of 32 bytes).
const pad = "k".repeat(43);
const stub = {
  hash: (/** @type {string} */ d, /** @type {string} */ id) => (d + id + pad).slice(0, 43),
  memoized: (/** @type {string} */ d, /** @type {string} */ id) => (d + id + pad).slice(0, 43),
};
const hasher = values["stub-hasher"] ? stub : new KeyHasher(Buffer.alloc(32, 1));
const N = Number(values.sends);
const B = Number(values.batches);
const W = Number(values.warm);
const P = Number(values.prefill);

/** @param {any} throttle @param {any[]} list */
function run(throttle, list) {
  let allowed = 0;
  for (let i = 0; i < list.length; i++) if (throttle.reserve(list[i], "send").allowed) allowed++;
  if (allowed !== list.length) throw new Error(`refused ${list.length - allowed} sends: the budgets are too low`);
}

async function main() {
  run(new OtpThrottle(config.throttle, hasher, null), sendSubjects(W)); // JIT warm-up, on a throttle of its own
  const measured = await measureBatches({
    batches: B,
    perBatch: N,
    cg: values.cg,
    prepare: () => {
      const throttle = new OtpThrottle(config.throttle, hasher, null);
      if (P > 0) run(throttle, sendSubjects(P));
      return { throttle, list: sendSubjects(N) };
    },
    run: ({ throttle, list }) => run(throttle, list),
  });
  process.stdout.write(
    `${JSON.stringify({
      dist: path.relative(process.cwd(), dist) || ".",
      hasher: values["stub-hasher"] ? "stub" : "real",
      sends: N,
      prefill: P,
      ...measured,
    })}\n`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
