// @ts-check
"use strict";
/**
 * From the raw runs to the figures: per mutation and system, medians over rounds; per pair of systems, ratios
 * computed **per round** and their median (a slow minute of the machine hits both systems of a round alike); and the
 * targets with their verdicts (bench/README.md "Reading the results" lists them).
 */
const { median, spread } = require("./stats");
const { fmt, mb, sum } = require("./format");

/** The performance targets, all measured in one run (bench/README.md "Reading the results"), and the harness's reading of the overload ones. */
const TARGETS = {
  cpuVsApollo: 1.0, // ours' server CPU per request ≤ minimal Apollo's
  rpsVsFloor: 0.3, // ≥ 0.30× the floor's throughput
  rpsVsRest: 2.0, // ≥ 2× Apollo + RESTDataSource
  addedUs: 300, // added latency at low load ≤ 0.3 ms over the floor
  // Overload ("Must hold"): "serving close to the upstream capacity" read as ≥ 90 % of it; "sheds the excess within
  // a few milliseconds" read as a median shed answer within 10 ms; no client timeouts; RSS under 300 MB; no OTP sent
  // twice or lost.
  overloadServedShare: 0.9,
  overloadShedP50Us: 10_000,
  overloadRssBytes: 300e6,
};

/** @param {any} report @param {string[]} systemKeys @param {string[]} mutations */
function summarise(report, systemKeys, mutations) {
  /** @type {Record<string, Record<string, any>>} */
  const systems = {};
  /** @type {Record<string, Record<string, { median: number, perRound: number[] }>>} */
  const ratios = {};
  for (const mk of mutations) {
    systems[mk] = {};
    for (const key of systemKeys) {
      /** @type {any[]} */
      const A = report.phaseA.map((/** @type {any} */ row) => row[mk][key]);
      /** @type {any[]} */
      const B = report.phaseB.map((/** @type {any} */ row) => row[mk][key]);
      /** @type {any[]} */
      const C = (report.phaseC ?? []).map((/** @type {any} */ row) => row[mk][key]);
      /** @type {any[]} */
      const D = (report.phaseD ?? []).map((/** @type {any} */ row) => row[mk][key]);
      const all = [...A, ...B, ...C, ...D];
      systems[mk][key] = {
        rps: median(A.map((r) => r.okPerSec)),
        rpsPerRound: A.map((r) => r.okPerSec),
        rpsSpread: spread(A.map((r) => r.okPerSec)),
        cpuUsPerRequest: median(A.map((r) => r.cpuUsPerRequest)),
        cpuPerRound: A.map((r) => r.cpuUsPerRequest),
        mainThreadCpuUsPerRequest: median(A.map((r) => r.mainThreadCpuUsPerRequest)),
        cpuUtilisation: median(A.map((r) => r.cpuUtilisation)),
        saturationP50Us: median(A.map((r) => r.latencyUs.p50)),
        saturationP99Us: median(A.map((r) => r.latencyUs.p99)),
        fixedRateAchieved: median(B.map((r) => r.fixed.okPerSec)),
        fixedP50Us: median(B.map((r) => r.fixed.latencyUs.p50)),
        fixedP99Us: median(B.map((r) => r.fixed.latencyUs.p99)),
        unloadedMedianUs: median(C.map((r) => r.seq.latencyUs.p50)),
        unloadedP99Us: median(C.map((r) => r.seq.latencyUs.p99)),
        pairedCpuUsPerRequest: median(D.map((r) => r.paired.cpuUsPerRequest)),
        pairedCpuPerRound: D.map((r) => r.paired.cpuUsPerRequest),
        // The event-loop thread's share of it (harness.js cpuWindow): what callgrind's main-thread counts see; the rest
        // is V8's compiler and collector threads, libuv's pool and the kernel time charged to other threads.
        pairedMainThreadCpuUsPerRequest: median(D.map((r) => r.paired.mainThreadCpuUsPerRequest)),
        pairedAchieved: median(D.map((r) => r.paired.okPerSec)),
        pairedGc: pairedGc(D),
        peakRss: Math.max(...all.map((r) => r.peakRss)),
        errors: sum(all.map((r) => r.errorTotal)),
        upstreamChecks: { runs: all.length, failed: all.filter((r) => !r.hits.pass).length },
        undocumentedLines: sum(all.map((r) => r.undocumented)),
        upstreamCpuUsPerRequest: median(A.map((r) => r.upstreamCpuUsPerRequest)),
        upstreamConnectionsPerCall: median(A.map((r) => r.upstream.connectionsPerCall)),
        timeWaitAtStart: median(A.map((r) => r.tcp.timeWaitAtStart)),
        machineCores: median(A.map((r) => r.machineCores)),
        otherCores: median(A.map((r) => r.otherCores)),
        loadGeneratorCpuUsPerRequest: median(A.map((r) => r.loadGeneratorCpuUsPerRequest)),
      };
    }
    /** @type {Record<string, { median: number, perRound: number[] }>} */
    const r = {};
    const has = (/** @type {string} */ k) => systems[mk][k] !== undefined;
    const perRound = (/** @type {any[]} */ rows, /** @type {(row: any) => number} */ f) => {
      const v = rows.map((row) => f(row[mk]));
      return { median: median(v), perRound: v };
    };
    const A = report.phaseA;
    const C = report.phaseC ?? [];
    const D = report.phaseD ?? [];
    for (const [a, b] of [
      ["ours", "floor"],
      ["ours", "apollo"],
      ["ours", "rest"],
      ["apollo", "floor"],
      ["rest", "floor"],
      ["ours-redis", "ours"],
      ["ours-idem", "ours"],
      // The A/A pair (`--base` with the same code): what the method reads as a difference where there is none.
      ["ours-base", "ours"],
    ]) {
      if (!has(a) || !has(b)) continue;
      if (A.length > 0) {
        r[`rps ${a}/${b}`] = perRound(A, (row) => row[a].okPerSec / row[b].okPerSec);
        r[`cpu ${a}/${b}`] = perRound(A, (row) => row[a].cpuUsPerRequest / row[b].cpuUsPerRequest);
      }
      if (D.length > 0) {
        r[`paired cpu ${a}/${b}`] = perRound(D, (row) => row[a].paired.cpuUsPerRequest / row[b].paired.cpuUsPerRequest);
        // The same split by thread: is a gap in the JavaScript's thread (callgrind's domain) or beside it?
        r[`paired main ${a}/${b}`] = perRound(
          D,
          (row) => row[a].paired.mainThreadCpuUsPerRequest / row[b].paired.mainThreadCpuUsPerRequest,
        );
        r[`paired other threads ${a}/${b}`] = perRound(
          D,
          (row) =>
            (row[a].paired.cpuUsPerRequest - row[a].paired.mainThreadCpuUsPerRequest) /
            (row[b].paired.cpuUsPerRequest - row[b].paired.mainThreadCpuUsPerRequest),
        );
        // --gc-trace: the GC's share of it, all GC threads together, then the main thread's pauses and the helpers.
        if (D.every((/** @type {any} */ row) => row[mk][a].paired.gc && row[mk][b].paired.gc)) {
          /** @type {(f: (g: import("./gc-trace").GcWindowResult) => number) => (row: any) => number} */
          const gcRatio = (f) => (row) => f(row[a].paired.gc) / f(row[b].paired.gc);
          r[`paired gc ${a}/${b}`] = perRound(
            D,
            gcRatio((g) => g.totalUsPerRequest),
          );
          r[`paired gc pauses ${a}/${b}`] = perRound(
            D,
            gcRatio((g) => g.pauseUsPerRequest),
          );
          r[`paired gc background ${a}/${b}`] = perRound(
            D,
            gcRatio((g) => g.backgroundUsPerRequest),
          );
        }
      }
    }
    for (const k of C.length > 0 ? systemKeys : []) {
      if (k === "floor" || !has(k) || !has("floor")) continue;
      // Both medians from the same paired window (lib/sequential.js), so the difference is the system's, not the
      // minute's.
      r[`added ${k}`] = perRound(C, (row) => row[k].seq.latencyUs.p50 - row.floor.seq.latencyUs.p50);
    }
    ratios[mk] = r;
  }
  return { systems, ratios };
}

/**
 * Phase D's GC per request under `--gc-trace` (lib/gc-trace.js), medians over rounds, and the collections of each
 * round; undefined without it. @param {any[]} D a system's phase-D runs
 */
function pairedGc(D) {
  /** @type {import("./gc-trace").GcWindowResult[]} */
  const g = D.map((r) => r.paired.gc).filter(Boolean);
  if (g.length === 0 || g.length < D.length) return undefined;
  const med = (/** @type {(x: import("./gc-trace").GcWindowResult) => number} */ f) => median(g.map(f));
  return {
    totalUsPerRequest: med((x) => x.totalUsPerRequest),
    totalPerRound: g.map((x) => x.totalUsPerRequest),
    pauseUsPerRequest: med((x) => x.pauseUsPerRequest),
    incrementalUsPerRequest: med((x) => x.incrementalUsPerRequest),
    backgroundUsPerRequest: med((x) => x.backgroundUsPerRequest),
    promotedBytesPerRequest: med((x) => x.promotedBytesPerRequest),
    allocatedBytesPerRequest: med((x) => x.allocatedBytesPerRequest),
    // "?" for a round whose window had no GC line (gc-trace.js gcInWindow: not traced), not a count of 0.
    scavengesPerRound: g.map((x) => (x.traced === false ? "?" : x.scavenges)),
    markCompactsPerRound: g.map((x) => (x.traced === false ? "?" : x.markCompacts)),
  };
}

/** The target table: per mutation the four targets, then the overload and scaling rows. @param {any} report */
function evaluateTargets(report) {
  /** @type {{ name: string, value: string, pass: boolean | null }[]} */
  const out = [];
  const verdict = (/** @type {number | undefined} */ v, /** @type {(v: number) => boolean} */ ok) =>
    v === undefined || !Number.isFinite(v) ? null : ok(v);
  for (const [mk, r] of Object.entries(report.summary?.ratios ?? {})) {
    const cpu = r["cpu ours/apollo"];
    out.push({
      name: `${mk}: server CPU/request ≤ minimal Apollo's`,
      value: `${fmt(cpu?.median, 2)}× Apollo's`,
      pass: verdict(cpu?.median, (v) => v <= TARGETS.cpuVsApollo),
    });
    const paired = r["paired cpu ours/apollo"];
    if (paired)
      out.push({
        name: `${mk}: the same, paired at ${fmt(report.options?.pairedRate)} req/s each (phase D)`,
        value: `${fmt(paired.median, 2)}× Apollo's`,
        pass: verdict(paired.median, (v) => v <= TARGETS.cpuVsApollo),
      });
    const fl = r["rps ours/floor"];
    out.push({
      name: `${mk}: ≥ ${TARGETS.rpsVsFloor.toFixed(2)}× the floor's requests/s`,
      value: `${fmt(fl?.median, 2)}×`,
      pass: verdict(fl?.median, (v) => v >= TARGETS.rpsVsFloor),
    });
    const rest = r["rps ours/rest"];
    out.push({
      name: `${mk}: ≥ ${TARGETS.rpsVsRest.toFixed(1)}× Apollo + RESTDataSource requests/s`,
      value: `${fmt(rest?.median, 2)}×`,
      pass: verdict(rest?.median, (v) => v >= TARGETS.rpsVsRest),
    });
    const added = r["added ours"];
    out.push({
      name: `${mk}: added latency at low load ≤ ${TARGETS.addedUs} µs over the floor`,
      value: `${fmt(added?.median)} µs`,
      pass: verdict(added?.median, (v) => v <= TARGETS.addedUs),
    });
  }
  for (const run of report.overload?.runs ?? []) {
    const c = `overload ${run.clients} clients${run.honourRetryAfter ? " honouring Retry-After" : ""}`;
    out.push({
      name: `${c}: served ≥ ${TARGETS.overloadServedShare * 100} % of upstream capacity`,
      value: `${fmt(run.servedPerSec, 0)}/s of ${fmt(run.capacityPerSec, 0)}/s (${fmt(run.servedShareOfCapacity * 100, 0)} %)`,
      pass: run.servedShareOfCapacity >= TARGETS.overloadServedShare,
    });
    const shedP50 = run.latencyUs.shed.p50;
    out.push({
      name: `${c}: excess shed, median ≤ ${TARGETS.overloadShedP50Us / 1000} ms`,
      value: run.window.shed > 0 ? `${fmt(run.window.shed)} shed, median ${fmt(shedP50 / 1000, 1)} ms` : "nothing shed",
      pass: run.window.shed > 0 ? shedP50 <= TARGETS.overloadShedP50Us : null,
    });
    out.push({
      name: `${c}: no client timeouts`,
      value: `${fmt(run.run.timeout)} timeouts`,
      pass: run.run.timeout === 0,
    });
    out.push({
      name: `${c}: RSS < ${TARGETS.overloadRssBytes / 1e6} MB`,
      value: `${mb(run.peakRss)} MB`,
      pass: run.peakRss < TARGETS.overloadRssBytes,
    });
    const h = run.hits;
    out.push({
      name: `${c}: no OTP sent twice or lost`,
      value: `sent twice ${h.sentTwice}, shed but sent ${h.shedButSent}, sent without a success answer ${h.hitsWithoutOk}`,
      pass: h.sentTwice === 0 && h.shedButSent === 0 && h.hitsWithoutOk === 0,
    });
  }
  const sc = report.scaling;
  if (sc) {
    for (const [workers, s] of Object.entries(sc.summary)) {
      if (Number(workers) === sc.base) continue;
      const ratio = sc.ratios[workers];
      out.push({
        name: `WEB_CONCURRENCY=${workers}: ${workers} workers serve`,
        value: s.supported
          ? `${s.serving} serving, ${fmt(ratio?.median, 2)}× the requests/s of ${sc.base}`
          : `not supported (${s.serving} process serving)`,
        pass: s.supported,
      });
    }
  }
  return out;
}

module.exports = { summarise, evaluateTargets, TARGETS };
