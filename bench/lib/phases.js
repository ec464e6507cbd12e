// @ts-check
"use strict";
/**
 * Phases A (saturation, a fixed number of requests) and B (fixed rate, then unloaded), for each mutation, each
 * interleaving the systems over the rounds: round 1 runs every mutation on every system, then round 2, and so on,
 * so a slow minute of the machine hits every system alike.
 */
const { drive } = require("./load");
const { sequential } = require("./sequential");
const { bodyFactory, MUTATIONS } = require("./mutations");
const { withSystem, cpuWindow, selfCpuMicros } = require("./harness");
const { cpuMicros, machineBusyMicros } = require("./proc");
const { median } = require("./stats");
const { fmt, mb, runErrors } = require("./format");

/** @typedef {import("./options").Options} Options */
/** @typedef {Record<string, import("./systems").SystemDef>} Defs */

const log = (/** @type {string} */ line) => process.stdout.write(`${line}\n`);

/** The request sources and headers of a system for a mutation. @param {import("./systems").SystemDef} sys @param {import("./mutations").Mutation} m */
const traffic = (sys, m) => ({
  mutation: m,
  bodies: bodyFactory(m, sys.flavour),
  headers: sys.headers,
  perRequestHeaders: sys.perRequestHeaders,
});

/** @param {Options} o */
const runOptions = (o) => ({ cpuProf: o.cpuProf, keepLogs: o.keepLogs, redisUrl: o.redisUrl });

/**
 * Phase A: `o.connections` closed-loop connections; after `o.warmupRequests` answers, the server's CPU time over the
 * next `o.requests` answers.
 * @param {Options} o @param {Defs} defs @param {import("./proc").Started} up @param {any} report
 */
async function phaseA(o, defs, up, report) {
  log(
    `\nphase A — saturation: ${o.connections} connections; CPU over ${fmt(o.requests)} requests after ${fmt(o.warmupRequests)} warm-up, ${o.rounds} round(s)`,
  );
  for (let round = 1; round <= o.rounds; round++) {
    /** @type {Record<string, Record<string, any>>} */
    const row = {};
    for (const mk of o.mutations) {
      const m = MUTATIONS[mk];
      row[mk] = {};
      for (const key of o.systems) {
        const sys = defs[key];
        const r = await withSystem(sys, up, m, `A-r${round}-${mk}`, runOptions(o), async (s, tree) => {
          const w = cpuWindow(s, tree, up);
          const d = await drive({
            url: s.url,
            ...traffic(sys, m),
            connections: o.connections,
            warmupRequests: o.warmupRequests,
            measureRequests: o.requests,
            onWindowStart: w.start,
            onWindowEnd: w.end,
          });
          return { ...d, ...w.result(d.completed, d.windowSec) };
        });
        r.errorTotal = runErrors(r, [r]);
        row[mk][key] = r;
        log(
          `  round ${round} ${mk.padEnd(5)} ${sys.label.padEnd(11)} ${fmt(r.okPerSec, 0).padStart(6)} req/s  cpu ${fmt(r.cpuUsPerRequest, 0).padStart(5)} µs/req (main ${fmt(r.mainThreadCpuUsPerRequest, 0)})` +
            `  p50 ${fmt(r.latencyUs.p50 / 1000, 2)} ms p99 ${fmt(r.latencyUs.p99 / 1000, 2)} ms  rss ${mb(r.peakRss)} MB  errors ${r.errorTotal}` +
            `  upstream ${r.hits.pass ? "✓" : "MISMATCH"}  (others ${fmt(r.otherCores, 2)} cores, canary ${fmt(r.canaryMs, 1)} ms)`,
        );
      }
    }
    report.phaseA.push(row);
  }
}

/**
 * Phase B: per mutation, a fixed rate (half the slowest system's median saturation rate), then the sequential client.
 * @param {Options} o @param {Defs} defs @param {import("./proc").Started} up @param {any} report
 */
async function phaseB(o, defs, up, report) {
  /** @type {Record<string, { rate: number, basis: string }>} */
  const rates = {};
  for (const mk of o.mutations) {
    const medianRps = Object.fromEntries(
      o.systems.map((k) => [k, median(report.phaseA.map((/** @type {any} */ row) => row[mk][k].okPerSec))]),
    );
    const slowest = o.systems.reduce((a, b) => (medianRps[a] <= medianRps[b] ? a : b));
    rates[mk] =
      o.rate > 0
        ? { rate: Math.round(o.rate), basis: "--rate" }
        : {
            rate: Math.max(1, Math.floor(medianRps[slowest] / 2)),
            basis: `half of ${slowest}'s median saturation (${fmt(medianRps[slowest], 0)} req/s)`,
          };
  }
  report.fixedRate = rates;
  log(
    `\nphase B — fixed rate (${o.mutations.map((mk) => `${mk} ${rates[mk].rate} req/s`).join(", ")}) for ${o.duration} s; then ${o.seqRequests} sequential requests after ${o.seqWarmup} warm-up`,
  );
  for (let round = 1; round <= o.rounds; round++) {
    /** @type {Record<string, Record<string, any>>} */
    const row = {};
    for (const mk of o.mutations) {
      const m = MUTATIONS[mk];
      row[mk] = {};
      for (const key of o.systems) {
        const sys = defs[key];
        const r = await withSystem(sys, up, m, `B-r${round}-${mk}`, runOptions(o), async (s, tree) => {
          const w = cpuWindow(s, tree, up);
          const { okIds: fixedIds, ...fixed } = await drive({
            url: s.url,
            ...traffic(sys, m),
            rate: rates[mk].rate,
            rateStreams: o.rateStreams,
            warmupSec: o.warmup,
            measureSec: o.duration,
            onWindowStart: w.start,
            onWindowEnd: w.end,
          });
          const fixedCpu = w.result(fixed.completed, fixed.windowSec);
          const edge = () => ({
            t: performance.now(),
            busy: machineBusyMicros(),
            ours: cpuMicros(s.pid) + cpuMicros(up.pid) + selfCpuMicros(),
          });
          const a = edge();
          const { okIds: seqIds, ...seq } = await sequential({
            url: s.url,
            ...traffic(sys, m),
            warmup: o.seqWarmup,
            requests: o.seqRequests,
          });
          const b = edge();
          // Cores kept busy by processes outside the bench while the sequential client ran (warm-up included).
          const otherCores = (b.busy - a.busy - (b.ours - a.ours)) / 1e3 / (b.t - a.t);
          return { fixed: { ...fixed, ...fixedCpu }, seq: { ...seq, otherCores }, okIds: [...fixedIds, ...seqIds] };
        });
        r.errorTotal = runErrors(r, [r.fixed, r.seq]);
        row[mk][key] = r;
        log(
          `  round ${round} ${mk.padEnd(5)} ${sys.label.padEnd(11)} at ${fmt(r.fixed.okPerSec, 0)} req/s p50 ${fmt(r.fixed.latencyUs.p50, 0)} µs p99 ${fmt(r.fixed.latencyUs.p99, 0)} µs` +
            `  unloaded median ${fmt(r.seq.latencyUs.p50, 0)} µs  errors ${r.errorTotal}  upstream ${r.hits.pass ? "✓" : "MISMATCH"}` +
            `  (others ${fmt(r.fixed.otherCores, 2)} cores)`,
        );
      }
    }
    report.phaseB.push(row);
  }
}

/**
 * The fake upstream and this process (autocannon, the checks) start cold: the first measured system would pay for
 * their JIT warm-up. A throwaway floor is driven first with both mutations, unmeasured.
 * @param {Options} o @param {Defs} defs @param {import("./proc").Started} up
 */
async function prime(o, defs, up) {
  log(`\npriming the fake upstream and the load generator against a throwaway floor (not measured)`);
  for (const mk of o.mutations) {
    const m = MUTATIONS[mk];
    await withSystem(defs.floor, up, m, `prime-${mk}`, runOptions(o), async (s) => {
      const d = await drive({
        url: s.url,
        ...traffic(defs.floor, m),
        connections: o.connections,
        warmupRequests: o.warmupRequests,
        measureRequests: o.warmupRequests,
      });
      return { okIds: d.okIds };
    });
  }
}

module.exports = { phaseA, phaseB, prime, traffic, runOptions };
