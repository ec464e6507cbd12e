// @ts-check
"use strict";
/**
 * Phases A (saturation, a fixed number of requests), B (fixed rate), C (unloaded latency, paired) and D (CPU per
 * request, paired), for each mutation, each interleaving the systems over the rounds: round 1 runs every mutation on
 * every system, then round 2, and so on, so a slow minute of the machine hits every system alike. Within a round the
 * systems run in an order that changes with the round (lib/sequential.js `balancedOrder`), so no system always runs
 * first, or always right after the same neighbour.
 */
const { drive } = require("./load");
const { interleaved, balancedOrder } = require("./sequential");
const { bodyFactory, MUTATIONS } = require("./mutations");
const { withSystem, withSystems, cpuWindow, selfCpuMicros } = require("./harness");
const { ask, cpuMicros, machineBusyMicros } = require("./proc");
const { setTimeout: sleep } = require("node:timers/promises");
const { median } = require("./stats");
const { fmt, mb, runErrors } = require("./format");
const { gcWindow, withGcTrace } = require("./gc-trace");

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

/**
 * The systems of `keys` in the order a round runs them (lib/sequential.js `balancedOrder`).
 * @param {string[]} keys @param {number} round
 */
const roundOrder = (keys, round) => balancedOrder(keys.length, round - 1).map((i) => keys[i]);

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
      for (const key of roundOrder(o.systems, round)) {
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
        const warm = await warmEach(o, runs, m);
        const a = busyEdge(runs, up);
        const seq = await interleaved({
          targets: runs.map((r) => ({ key: r.sys.key, url: r.started.url, ...traffic(r.sys, m) })),
          warmup: o.seqWarmup,
          requests: o.seqRequests,
          block: o.seqBlock,
          rewarm: o.seqRewarm,
        });
        // Cores kept busy by processes outside the bench while the paired client ran (warm-up turns included).
        const otherCores = othersBetween(a, busyEdge(runs, up));
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
 * Phase D: CPU per request, paired. Per round and mutation every system is up at once and, after the same warm-up as
 * phase C, every system is driven **at the same time**, each at `o.pairedRate` requests/s, for `o.pairedWarmup` seconds
 * and then a window of `o.pairedDuration` seconds; each system's CPU per request is its CPU time in that window over
 * its answers in it. The paired warm-up (by default the time 20,000 requests take at the rate: lib/options.js) outlasts
 * the start-up transients, which come after a count of requests: V8 tiers every system's hot path up to TurboFan in a
 * burst about 7,000 requests into this drive, and ours runs its first mark-compact since start-up by about 15,000
 * (CIBIL). Phase A measures one system at a time, so a slow stretch of the host (minutes long here) lands on whichever
 * system is running: identical code measured 0.65× to 1.23× itself by round. Here a slow stretch lands on every system
 * alike. The rate is the same for every system and low enough for all of them at once on two cores (the run is flagged
 * when one falls short of it), so this is the CPU of a request at a moderate load, where the costs every request pays
 * whatever the server (a loop turn, a socket read and write, the kernel's loopback) weigh more than at saturation:
 * ratios come out closer to 1 than phase A's.
 * @param {Options} o @param {Defs} defs @param {import("./proc").Started} up @param {any} report
 */
async function phaseD(o, defs, up, report) {
  log(phaseDHeader(o));
  for (let round = 1; round <= o.rounds; round++) {
    /** @type {Record<string, Record<string, any>>} */
    const row = {};
    for (const mk of o.mutations) {
      const m = MUTATIONS[mk];
      // --gc-trace: every system alike under V8's GC trace, read over the same window as the CPU (lib/gc-trace.js).
      const systems = roundOrder(o.systems, round).map((k) => (o.gcTrace ? withGcTrace(defs[k]) : defs[k]));
      row[mk] = await withSystems(systems, up, m, `D-r${round}-${mk}`, runOptions(o), async (runs) => {
        const warm = await warmEach(o, runs, m);
        // Every system's idle upstream sockets closed now, by the upstream, so that each meets its first closed pool
        // socket (a one-time deoptimisation of its HTTP path) in the paired warm-up, not in the window
        // (fake-upstream.js, "close-idle"); then a moment for the systems to read the closes.
        await ask(up.child, "close-idle");
        await sleep(500);
        const a = busyEdge(runs, up);
        const driven = await Promise.all(
          runs.map(async (run) => {
            const w = cpuWindow(run.started, run.tree, up);
            const g = o.gcTrace ? gcWindow(run.logFile) : null;
            const { okIds, ...d } = await drive({
              url: run.started.url,
              ...traffic(run.sys, m),
              rate: o.pairedRate,
              rateStreams: Math.min(o.rateStreams, 4),
              warmupSec: o.pairedWarmup,
              measureSec: o.pairedDuration,
              onWindowStart: () => {
                w.start();
                g?.start();
              },
              onWindowEnd: () => {
                w.end();
                g?.end();
              },
            });
            const cpu = w.result(d.completed, d.windowSec);
            const gc = g ? { gc: await g.result(d.completed) } : {};
            return { key: run.sys.key, okIds, paired: { ...d, ...cpu, ...gc } };
          }),
        );
        // Each window's own "others" would count the other systems under test: the machine's busy time outside every
        // system, the fake upstream and this process, over the whole concurrent drive, as phase C reads it.
        const otherCores = othersBetween(a, busyEdge(runs, up));
        return Object.fromEntries(
          driven.map(({ key, okIds, paired }) => [
            key,
            { paired: { ...paired, otherCores }, okIds: [...warm[key].okIds, ...okIds] },
          ]),
        );
      });
      for (const key of o.systems) {
        const r = row[mk][key];
        r.errorTotal = runErrors(r, [r.paired]);
        log(
          `  round ${round} ${mk.padEnd(5)} ${defs[key].label.padEnd(11)} at ${fmt(r.paired.okPerSec, 0)} req/s  cpu ${fmt(r.paired.cpuUsPerRequest, 0).padStart(5)} µs/req` +
            ` (main ${fmt(r.paired.mainThreadCpuUsPerRequest, 0)})` +
            (r.paired.gc ? `  gc ${gcLine(r.paired.gc)}` : "") +
            `  errors ${r.errorTotal}  upstream ${r.hits.pass ? "✓" : "MISMATCH"}  (others ${fmt(r.paired.otherCores, 2)} cores)`,
        );
      }
    }
    report.phaseD.push(row);
  }
}

/**
 * Phase D's header line: how every system is warmed before its window, and the window.
 * @param {Pick<Options, "warmupRequests" | "connections" | "pairedRate" | "pairedWarmup" | "pairedDuration">} o
 */
const phaseDHeader = (o) =>
  `\nphase D — CPU per request, paired: every system up at once, each warmed by ${fmt(o.warmupRequests)} answers at ${o.connections} connections; ` +
  `then all driven at once, each at ${fmt(o.pairedRate)} req/s: a warm-up of ${o.pairedWarmup} s ` +
  `(${fmt(o.pairedRate * o.pairedWarmup)} requests each), then CPU over a ${o.pairedDuration} s window`;

/** A window's GC in a progress line. @param {import("./gc-trace").GcWindowResult} g */
const gcLine = (g) =>
  g.traced === false
    ? "NO GC LINE in the window (trace not taken: its figures are left out)"
    : `${fmt(g.totalUsPerRequest, 1)} µs/req (pauses ${fmt(g.pauseUsPerRequest, 1)}, background ${fmt(g.backgroundUsPerRequest, 1)}; ` +
      `${g.scavenges} scavenges, ${g.markCompacts} mark-compacts)`;

/**
 * Phases C and D: each of the systems up at once warmed in turn by `o.warmupRequests` answers at `o.connections`
 * connections (the JIT state phase A measures in). Their results, by system key (their correct answers go to the
 * upstream check).
 * @param {Options} o @param {import("./harness").Launched[]} runs @param {import("./mutations").Mutation} m
 */
async function warmEach(o, runs, m) {
  /** @type {Record<string, import("./load").DriveResult>} */
  const warm = {};
  for (const run of runs)
    warm[run.sys.key] = await drive({
      url: run.started.url,
      ...traffic(run.sys, m),
      connections: o.connections,
      warmupRequests: 0,
      measureRequests: o.warmupRequests,
    });
  return warm;
}

/**
 * One edge of a window shared by several systems (phases C and D): the clock, the machine's busy time and the bench's
 * own processes' CPU (every system, the fake upstream, this process); two edges give the cores others kept busy.
 */
function busyEdge(/** @type {import("./harness").Launched[]} */ runs, /** @type {{ pid: number }} */ up) {
  return {
    t: performance.now(),
    busy: machineBusyMicros(),
    ours: runs.reduce((a, r) => a + cpuMicros(r.started.pid), 0) + cpuMicros(up.pid) + selfCpuMicros(),
  };
}

/**
 * Cores kept busy outside the bench's own processes between two edges (busyEdge).
 * @param {ReturnType<typeof busyEdge>} a @param {ReturnType<typeof busyEdge>} b
 */
const othersBetween = (a, b) => (b.busy - a.busy - (b.ours - a.ours)) / 1e3 / (b.t - a.t);

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

module.exports = { phaseA, phaseB, phaseC, phaseD, phaseDHeader, prime, traffic, runOptions };
