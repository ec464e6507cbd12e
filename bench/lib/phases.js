// @ts-check
"use strict";
/**
 * Phases A (saturation, a fixed number of requests), B (fixed rate) and C (unloaded latency, paired), for each
 * mutation, each interleaving the systems over the rounds: round 1 runs every mutation on every system, then round 2,
 * and so on, so a slow minute of the machine hits every system alike. Within a round the systems run in the order of
 * `--systems` rotated by the round (round 2 starts with the second system), so no system always runs first, or always
 * right after the same neighbour.
 */
const { drive } = require("./load");
const { interleaved } = require("./sequential");
const { bodyFactory, MUTATIONS } = require("./mutations");
const { withSystem, withSystems, cpuWindow, selfCpuMicros } = require("./harness");
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

/** The systems of `keys` in the order a round runs them: rotated left by `round - 1`. @param {string[]} keys @param {number} round */
const roundOrder = (keys, round) => keys.map((_, i) => keys[(i + round - 1) % keys.length]);

/** @param {Options} o */
const runOptions = (o) => ({ cpuProf: o.cpuProf, keepLogs: o.keepLogs, redisUrl: o.redisUrl });

/**
 * Phase A: per round and mutation, every system up at once, each warmed by `o.warmupRequests` answers at
 * `o.connections` closed-loop connections; then `o.slices` turns, in each of which every system in turn (the order
 * rotated by the turn) gets `o.sliceRewarm` answers untimed and then a window of `o.requests / o.slices` answers,
 * the server's CPU time over it measured. A system's figures for the round are over all its windows together.
 *
 * Why slices: timed one system after another, each for its whole 10,000 requests, two copies of the same code differed
 * by 0.66× to 1.10× in CPU per request between rounds (docs/performance.md, "Round a6d9cff"): the host's speed moves
 * over the minutes a round takes. In turns of a second or so per system, every system sees the same minutes.
 * @param {Options} o @param {Defs} defs @param {import("./proc").Started} up @param {any} report
 */
async function phaseA(o, defs, up, report) {
  const per = Math.ceil(o.requests / o.slices);
  log(
    `\nphase A — saturation: ${o.connections} connections, every system up at once; CPU over ${o.slices} windows of ${fmt(per)} requests each, ` +
      `taken in turns (${fmt(o.sliceRewarm)} untimed before each), after ${fmt(o.warmupRequests)} warm-up; ${o.rounds} round(s)`,
  );
  for (let round = 1; round <= o.rounds; round++) {
    /** @type {Record<string, Record<string, any>>} */
    const row = {};
    for (const mk of o.mutations) {
      const m = MUTATIONS[mk];
      const systems = roundOrder(o.systems, round).map((k) => defs[k]);
      row[mk] = await withSystems(systems, up, m, `A-r${round}-${mk}`, runOptions(o), async (runs) => {
        /** @type {Record<string, import("./load").DriveResult>} */
        const warm = {};
        /** @type {Record<string, any[]>} */
        const slices = {};
        for (const run of runs) {
          warm[run.sys.key] = await drive({
            url: run.started.url,
            ...traffic(run.sys, m),
            connections: o.connections,
            warmupRequests: 0,
            measureRequests: o.warmupRequests,
          });
          slices[run.sys.key] = [];
        }
        for (let turn = 0; turn < o.slices; turn++) {
          for (let j = 0; j < runs.length; j++) {
            const run = runs[(turn + j) % runs.length];
            const w = cpuWindow(run.started, run.tree, up);
            const d = await drive({
              url: run.started.url,
              ...traffic(run.sys, m),
              connections: o.connections,
              warmupRequests: o.sliceRewarm,
              measureRequests: per,
              onWindowStart: w.start,
              onWindowEnd: w.end,
            });
            slices[run.sys.key].push({ ...d, ...w.result(d.completed, d.windowSec) });
          }
        }
        return Object.fromEntries(
          runs.map((run) => {
            const k = run.sys.key;
            const okIds = [warm[k].okIds, ...slices[k].map((x) => x.okIds)].flat();
            return [k, { ...combineSlices(slices[k]), warm: { run: warm[k].run }, okIds }];
          }),
        );
      });
      for (const key of o.systems) {
        const r = row[mk][key];
        r.errorTotal = runErrors(r, [r.warm, ...r.slices]);
        log(
          `  round ${round} ${mk.padEnd(5)} ${defs[key].label.padEnd(11)} ${fmt(r.okPerSec, 0).padStart(6)} req/s  cpu ${fmt(r.cpuUsPerRequest, 0).padStart(5)} µs/req (main ${fmt(r.mainThreadCpuUsPerRequest, 0)}; windows ${r.slices.map((/** @type {any} */ x) => fmt(x.cpuUsPerRequest, 0)).join("/")})` +
            `  p50 ${fmt(r.latencyUs.p50 / 1000, 2)} ms p99 ${fmt(r.latencyUs.p99 / 1000, 2)} ms  rss ${mb(r.peakRss)} MB  errors ${r.errorTotal}` +
            `  upstream ${r.hits.pass ? "✓" : "MISMATCH"}  (others ${fmt(r.otherCores, 2)} cores, canary ${fmt(r.canaryMs, 1)} ms)`,
        );
      }
    }
    report.phaseA.push(row);
  }
}

/**
 * The processes outside the bench that kept the machine busy over a system's windows, by command: cores averaged
 * over the windows' seconds (lib/proc.js topOthers per window), the top 3.
 * @param {any[]} slices @param {number} seconds
 */
function mergeOthers(slices, seconds) {
  /** @type {Map<string, number>} */
  const coreSeconds = new Map();
  for (const x of slices)
    for (const t of x.topOthers ?? [])
      coreSeconds.set(t.command, (coreSeconds.get(t.command) ?? 0) + t.cores * x.windowSec);
  return [...coreSeconds]
    .map(([command, cs]) => ({ command, cores: cs / seconds }))
    .sort((a, b) => b.cores - a.cores)
    .slice(0, 3);
}

/**
 * One system's windows of a round as one: counts and seconds summed; figures per request weighted by the window's
 * requests, cores by its seconds; latency percentiles the median of the windows' (the maximum for `max`). Each
 * window is kept in `slices` (its ids and autocannon's own summary dropped).
 * @param {any[]} slices
 */
function combineSlices(slices) {
  const sumOf = (/** @type {(x: any) => number} */ f) => slices.reduce((a, x) => a + f(x), 0);
  const requests = sumOf((x) => x.completed);
  const seconds = sumOf((x) => x.windowSec);
  const byRequests = (/** @type {string} */ k) => sumOf((x) => x[k] * x.completed) / requests;
  const bySeconds = (/** @type {string} */ k) => sumOf((x) => x[k] * x.windowSec) / seconds;
  const counts = ["completed", "ok", "shed", "non2xx", "graphqlErrors", "wrong", "errors", "timeouts"];
  const lat = (/** @type {string} */ p) => median(slices.map((x) => x.latencyUs[p]));
  return {
    ...Object.fromEntries(counts.map((k) => [k, sumOf((x) => x[k] ?? 0)])),
    windowSec: seconds,
    okPerSec: sumOf((x) => x.ok) / seconds,
    latencyUs: {
      p50: lat("p50"),
      p90: lat("p90"),
      p99: lat("p99"),
      max: Math.max(...slices.map((x) => x.latencyUs.max)),
      mean: sumOf((x) => x.latencyUs.mean * x.latencyUs.count) / sumOf((x) => x.latencyUs.count),
      count: sumOf((x) => x.latencyUs.count),
    },
    processes: Math.max(...slices.map((x) => x.processes)),
    cpuUsPerRequest: byRequests("cpuUsPerRequest"),
    mainThreadCpuUsPerRequest: byRequests("mainThreadCpuUsPerRequest"),
    upstreamCpuUsPerRequest: byRequests("upstreamCpuUsPerRequest"),
    loadGeneratorCpuUsPerRequest: byRequests("loadGeneratorCpuUsPerRequest"),
    cpuUtilisation: bySeconds("cpuUtilisation"),
    otherCores: bySeconds("otherCores"),
    machineCores: bySeconds("machineCores"),
    topOthers: mergeOthers(slices, seconds),
    tcp: {
      listenOverflows: sumOf((x) => x.tcp.listenOverflows),
      synRetrans: sumOf((x) => x.tcp.synRetrans),
      timeWaitAtStart: slices[0].tcp.timeWaitAtStart,
    },
    slices: slices.map(({ okIds, autocannon, ...x }) => x),
  };
}

/**
 * Phase B: per mutation, a fixed rate (half the slowest system's median saturation rate).
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
    `\nphase B — fixed rate (${o.mutations.map((mk) => `${mk} ${rates[mk].rate} req/s`).join(", ")}) for ${o.duration} s`,
  );
  for (let round = 1; round <= o.rounds; round++) {
    /** @type {Record<string, Record<string, any>>} */
    const row = {};
    for (const mk of o.mutations) {
      const m = MUTATIONS[mk];
      row[mk] = {};
      for (const key of roundOrder(o.systems, round)) {
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
          return { fixed: { ...fixed, ...w.result(fixed.completed, fixed.windowSec) }, okIds: fixedIds };
        });
        r.errorTotal = runErrors(r, [r.fixed]);
        row[mk][key] = r;
        log(
          `  round ${round} ${mk.padEnd(5)} ${sys.label.padEnd(11)} at ${fmt(r.fixed.okPerSec, 0)} req/s p50 ${fmt(r.fixed.latencyUs.p50, 0)} µs p99 ${fmt(r.fixed.latencyUs.p99, 0)} µs` +
            `  errors ${r.errorTotal}  upstream ${r.hits.pass ? "✓" : "MISMATCH"}` +
            `  (others ${fmt(r.fixed.otherCores, 2)} cores)`,
        );
      }
    }
    report.phaseB.push(row);
  }
}

/**
 * Phase C: per round and mutation, every system up at once; each warmed by `o.warmupRequests` answers at
 * `o.connections` connections (the JIT state phase A measures in), then `o.seqRequests` sequential requests to each
 * system after `o.seqWarmup` untimed ones, in blocks of `o.seqBlock` to one system after another (lib/sequential.js
 * says why paired, and why blocks).
 * @param {Options} o @param {Defs} defs @param {import("./proc").Started} up @param {any} report
 */
async function phaseC(o, defs, up, report) {
  log(
    `\nphase C — unloaded latency, paired: every system up at once, each warmed by ${fmt(o.warmupRequests)} answers at ${o.connections} connections; ` +
      `then ${fmt(o.seqRequests)} sequential requests to each (after ${fmt(o.seqWarmup)} untimed), in blocks of ${o.seqBlock} (the first ${o.seqRewarm} of a block untimed) to one system after another`,
  );
  for (let round = 1; round <= o.rounds; round++) {
    /** @type {Record<string, Record<string, any>>} */
    const row = {};
    for (const mk of o.mutations) {
      const m = MUTATIONS[mk];
      const systems = roundOrder(o.systems, round).map((k) => defs[k]);
      row[mk] = await withSystems(systems, up, m, `C-r${round}-${mk}`, runOptions(o), async (runs) => {
        /** @type {Record<string, import("./load").DriveResult>} */
        const warm = {};
        for (const run of runs) {
          const d = await drive({
            url: run.started.url,
            ...traffic(run.sys, m),
            connections: o.connections,
            warmupRequests: 0,
            measureRequests: o.warmupRequests,
          });
          warm[run.sys.key] = d;
        }
        const edge = () => ({
          t: performance.now(),
          busy: machineBusyMicros(),
          ours: runs.reduce((a, r) => a + cpuMicros(r.started.pid), 0) + cpuMicros(up.pid) + selfCpuMicros(),
        });
        const a = edge();
        const seq = await interleaved({
          targets: runs.map((r) => ({ key: r.sys.key, url: r.started.url, ...traffic(r.sys, m) })),
          warmup: o.seqWarmup,
          requests: o.seqRequests,
          block: o.seqBlock,
          rewarm: o.seqRewarm,
        });
        const b = edge();
        // Cores kept busy by processes outside the bench while the paired client ran (warm-up turns included).
        const otherCores = (b.busy - a.busy - (b.ours - a.ours)) / 1e3 / (b.t - a.t);
        return Object.fromEntries(
          runs.map((r) => {
            const { okIds, ...rest } = seq[r.sys.key];
            const w = warm[r.sys.key];
            return [r.sys.key, { warm: { run: w.run }, seq: { ...rest, otherCores }, okIds: [...w.okIds, ...okIds] }];
          }),
        );
      });
      for (const key of o.systems) {
        const r = row[mk][key];
        r.errorTotal = runErrors(r, [r.warm, r.seq]);
        const added =
          key === "floor" || !row[mk].floor
            ? ""
            : `  added ${fmt(r.seq.latencyUs.p50 - row[mk].floor.seq.latencyUs.p50, 0)} µs`;
        log(
          `  round ${round} ${mk.padEnd(5)} ${defs[key].label.padEnd(11)} unloaded median ${fmt(r.seq.latencyUs.p50, 0)} µs p99 ${fmt(r.seq.latencyUs.p99, 0)} µs${added}` +
            `  errors ${r.errorTotal}  upstream ${r.hits.pass ? "✓" : "MISMATCH"}  (others ${fmt(r.seq.otherCores, 2)} cores)`,
        );
      }
    }
    report.phaseC.push(row);
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

module.exports = { phaseA, phaseB, phaseC, prime, traffic, runOptions };
