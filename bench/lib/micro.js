// @ts-check
"use strict";
/**
 * What the micro-benchmarks share (throttle-micro.js, redis-take-micro.js, resolver-micro.js): batches of operations
 * measured in this process's CPU time, each alone in a callgrind dump under valgrind; and the throttle benches' sends.
 */
const { execFileSync } = require("node:child_process");

/** callgrind_control on this process: `-z` zeroes the counters, `-d` dumps them (and zeroes them). @param {string} flag */
function callgrindControl(flag) {
  execFileSync("callgrind_control", [flag, String(process.pid)], { stdio: "ignore" });
}

/**
 * `batches` batches, each made by `prepare` (not measured; then a collection where `--expose-gc` allows one), then
 * `run` on it, measured by process.cpuUsage and, with `cg`, alone between callgrind_control `-z` and `-d` (the dump of
 * part N holds batch N). `run` may return a promise (awaited inside the measurement) or nothing (nothing awaited: a
 * synchronous batch is measured without a microtask turn). Returns CPU µs per operation: median, least, every batch.
 * @template T
 * @param {{ batches: number, perBatch: number, cg: boolean, prepare: () => T, run: (batch: T) => unknown }} o
 */
async function measureBatches(o) {
  /** @type {number[]} */
  const perOp = [];
  for (let b = 0; b < o.batches; b++) {
    const batch = o.prepare();
    const gc = /** @type {any} */ (globalThis).gc;
    if (typeof gc === "function") gc();
    if (o.cg) callgrindControl("-z");
    const start = process.cpuUsage();
    const pending = o.run(batch);
    if (pending instanceof Promise) await pending;
    const used = process.cpuUsage(start);
    if (o.cg) callgrindControl("-d");
    perOp.push((used.user + used.system) / o.perBatch);
  }
  const sorted = [...perOp].sort((a, b) => a - b);
  return {
    medianUs: +sorted[Math.floor(o.batches / 2)].toFixed(3),
    minUs: +sorted[0].toFixed(3),
    batchesUs: perOp.map((x) => +x.toFixed(2)),
  };
}

/** The settings of the throttle benches: the IP, client, global and prefix budgets too high to refuse anything. */
const SHARED_BUDGETS_UNBOUNDED = {
  OTP_IP_MAX: "10000000",
  OTP_CLIENT_MAX: "10000000",
  OTP_GLOBAL_MAX: "10000000",
  OTP_PREFIX_MAX: "10000000",
};

let serial = 0;
/**
 * `n` OTP send subjects, each to fresh destinations (so that every destination budget opens a window), from one IP and
 * one client: a mobile and an Aadhaar number, and with `aeps` an AEPS registration's user key, primary key and
 * transaction id too (the five destinations of an AEPS send).
 * @param {number} n @param {boolean} [aeps]
 */
function sendSubjects(n, aeps = false) {
  const out = new Array(n);
  for (let i = 0; i < n; i++, serial++) {
    const destinations = [
      { kind: "mobile", value: String(6_000_000_000 + serial) },
      { kind: "aadhaar", value: String(200_000_000_000 + serial) },
    ];
    if (aeps)
      destinations.push(
        { kind: "aeps-user", value: `USER${serial}` },
        { kind: "aeps-primary-key", value: `PK${serial}` },
        { kind: "aeps-txn", value: `TXN${serial}` },
      );
    out[i] = { destinations, ip: "203.0.113.9", clientId: "bench-client" };
  }
  return out;
}

module.exports = { callgrindControl, measureBatches, SHARED_BUDGETS_UNBOUNDED, sendSubjects };
