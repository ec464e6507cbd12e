// @ts-check
"use strict";
/** The printed report: per mutation the table and the ratios, then overload, scaling, targets and flags. */
const { fmt, mb } = require("./format");

const W = 42;
const C = 13;

/** @param {any} report @param {(line: string) => void} log */
function printReport(report, log) {
  const m = report.machine;
  log("");
  log("=".repeat(W + C * 6));
  log(`RESULTS  ${report.startedAt}  (${report.elapsedSec ?? "?"} s)`);
  log(
    `machine  ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.kernel}, Node ${m.node}, autocannon ${m.autocannon}`,
  );
  for (const mk of Object.keys(report.summary.systems))
    if (Object.keys(report.summary.systems[mk]).length > 0) printMutation(report, mk, log);
  if (report.overload) printOverload(report.overload, log);
  if (report.scaling) printScaling(report.scaling, log);
  printTargets(report, log);
}

/** @param {any} report @param {string} mk @param {(line: string) => void} log */
function printMutation(report, mk, log) {
  const systems = report.summary.systems[mk];
  const ratios = report.summary.ratios[mk];
  const keys = Object.keys(systems);
  const o = report.options;
  const row = (/** @type {string} */ label, /** @type {string[]} */ cells) =>
    log(`${label.padEnd(W)}${cells.map((c) => ` ${c}`.padStart(C)).join("")}`);
  const rule = () => log("-".repeat(W + C * keys.length));
  const s = (/** @type {(x: any) => string} */ f) => keys.map((k) => f(systems[k]));
  const rate = report.fixedRate?.[mk];
  log("");
  log(
    `${mk === "aeps" ? "resendAepsOtp (AEPS, POST upstream)" : "generateCibilOtp (CIBIL, GET with a body upstream)"}: ${o.rounds} interleaved round(s); ` +
      `saturation ${o.connections} connections, CPU over ${fmt(o.requests)} requests after ${fmt(o.warmupRequests)}; ` +
      `fixed rate ${fmt(rate?.rate)} req/s = ${rate?.basis ?? "—"}; unloaded: ${o.seqRequests} sequential requests each, every system up at once, in blocks of ${o.seqBlock}. Medians over rounds.`,
  );
  rule();
  row(
    "metric",
    keys.map((k) => report.labels[k] ?? k),
  );
  rule();
  row(
    "requests/s at saturation",
    s((x) => fmt(x.rps)),
  );
  row(
    "  per round (k)",
    s((x) => x.rpsPerRound.map((/** @type {number} */ v) => fmt(v / 1000, 1)).join("/")),
  );
  row(
    "server CPU µs per request",
    s((x) => fmt(x.cpuUsPerRequest)),
  );
  row(
    "  per round",
    s((x) => x.cpuPerRound.map((/** @type {number} */ v) => fmt(v)).join("/")),
  );
  row(
    "  of which the main thread",
    s((x) => fmt(x.mainThreadCpuUsPerRequest)),
  );
  if (report.phaseD?.length > 0) {
    row(
      `server CPU µs per request, paired at ${fmt(o.pairedRate)} req/s`,
      s((x) => fmt(x.pairedCpuUsPerRequest)),
    );
    row(
      "  per round",
      s((x) => x.pairedCpuPerRound.map((/** @type {number} */ v) => fmt(v)).join("/")),
    );
    row(
      "  of which the main thread",
      s((x) => fmt(x.pairedMainThreadCpuUsPerRequest)),
    );
    row(
      "  achieved (req/s)",
      s((x) => fmt(x.pairedAchieved)),
    );
    // --gc-trace (lib/gc-trace.js): the GC lines V8 wrote inside each system's phase-D window.
    if (keys.some((k) => systems[k].pairedGc)) {
      const g = (/** @type {(x: any) => string} */ f) => s((x) => (x.pairedGc ? f(x.pairedGc) : "—"));
      row(
        "GC µs per request, paired (all threads)",
        g((x) => fmt(x.totalUsPerRequest, 1)),
      );
      row(
        "  per round",
        g((x) => x.totalPerRound.map((/** @type {number} */ v) => fmt(v, 1)).join("/")),
      );
      row(
        "  pauses | incremental marking (main)",
        g((x) => `${fmt(x.pauseUsPerRequest, 1)}|${fmt(x.incrementalUsPerRequest, 1)}`),
      );
      row(
        "  background threads",
        g((x) => fmt(x.backgroundUsPerRequest, 1)),
      );
      row(
        "  scavenges | mark-compacts per round",
        g((x) => `${x.scavengesPerRound.join("/")}|${x.markCompactsPerRound.join("/")}`),
      );
      row(
        "  promoted | allocated bytes per request",
        g((x) => `${fmt(x.promotedBytesPerRequest)}|${fmt(x.allocatedBytesPerRequest)}`),
      );
    }
  }
  row(
    "server CPU cores busy at saturation",
    s((x) => fmt(x.cpuUtilisation, 2)),
  );
  row(
    "p50 | p99 at saturation (ms)",
    s((x) => `${fmt(x.saturationP50Us / 1000, 1)}|${fmt(x.saturationP99Us / 1000, 1)}`),
  );
  row(
    `achieved at ${fmt(rate?.rate)} req/s set`,
    s((x) => fmt(x.fixedRateAchieved)),
  );
  row(
    `p50 | p99 at ${fmt(rate?.rate)} req/s (µs)`,
    s((x) => `${fmt(x.fixedP50Us)}|${fmt(x.fixedP99Us)}`),
  );
  row(
    "unloaded median latency (µs)",
    s((x) => fmt(x.unloadedMedianUs)),
  );
  row(
    "unloaded p99 latency (µs)",
    s((x) => fmt(x.unloadedP99Us)),
  );
  row(
    "added latency over the floor (µs)",
    keys.map((k) => (k === "floor" ? "—" : fmt(ratios[`added ${k}`]?.median))),
  );
  row(
    "new upstream connections per call",
    s((x) => fmt(x.upstreamConnectionsPerCall, 3)),
  );
  row(
    "peak RSS (MB)",
    s((x) => mb(x.peakRss)),
  );
  row(
    "errors (all runs)",
    s((x) => fmt(x.errors)),
  );
  row(
    "upstream checks failed / runs",
    s((x) => `${x.upstreamChecks.failed}/${x.upstreamChecks.runs}`),
  );
  row(
    "'undocumented fields' log lines",
    s((x) => (x.undocumentedLines === undefined ? "—" : fmt(x.undocumentedLines))),
  );
  row(
    "  machine cores busy | of which others",
    s((x) => `${fmt(x.machineCores, 2)}|${fmt(x.otherCores, 2)}`),
  );
  row(
    "  fake upstream | bench client µs/req",
    s((x) => `${fmt(x.upstreamCpuUsPerRequest)}|${fmt(x.loadGeneratorCpuUsPerRequest)}`),
  );
  rule();
  log("ratios (median of per-round ratios; per round in brackets)");
  const ratio = (/** @type {string} */ label, /** @type {string} */ key, /** @type {(v: number) => string} */ f) => {
    const r = ratios[key];
    if (r) log(`  ${label.padEnd(W - 2)}${f(r.median).padStart(C)}   [${r.perRound.map(f).join(", ")}]`);
  };
  const x = (/** @type {number} */ v) => `${fmt(v, 2)}×`;
  ratio("ours / floor requests/s", "rps ours/floor", x);
  ratio("ours / apollo requests/s", "rps ours/apollo", x);
  ratio("ours / apollo+rest requests/s", "rps ours/rest", x);
  ratio("apollo / floor requests/s", "rps apollo/floor", x);
  ratio("apollo+rest / floor requests/s", "rps rest/floor", x);
  ratio("ours / floor CPU per request", "cpu ours/floor", x);
  ratio("ours / apollo CPU per request", "cpu ours/apollo", x);
  ratio("ours / apollo+rest CPU per request", "cpu ours/rest", x);
  ratio("ours+redis / ours CPU per request", "cpu ours-redis/ours", x);
  ratio("ours+idem / ours CPU per request", "cpu ours-idem/ours", x);
  ratio("ours@base / ours CPU per request (A/A)", "cpu ours-base/ours", x);
  ratio("ours / floor CPU per request, paired", "paired cpu ours/floor", x);
  ratio("ours / apollo CPU per request, paired", "paired cpu ours/apollo", x);
  ratio("  main thread alone", "paired main ours/apollo", x);
  ratio("  the other threads", "paired other threads ours/apollo", x);
  ratio("ours / apollo GC per request", "paired gc ours/apollo", x);
  ratio("  pauses (main thread)", "paired gc pauses ours/apollo", x);
  ratio("  background threads", "paired gc background ours/apollo", x);
  ratio("ours@base / ours GC per request (A/A)", "paired gc ours-base/ours", x);
  ratio("ours / apollo+rest CPU, paired", "paired cpu ours/rest", x);
  ratio("ours+redis / ours CPU, paired", "paired cpu ours-redis/ours", x);
  ratio("ours+idem / ours CPU, paired", "paired cpu ours-idem/ours", x);
  ratio("ours@base / ours CPU, paired (A/A)", "paired cpu ours-base/ours", x);
  for (const k of keys) ratio(`${report.labels[k] ?? k} added latency (µs)`, `added ${k}`, (v) => fmt(v));
}

/** @param {any} ov @param {(line: string) => void} log */
function printOverload(ov, log) {
  const runs = ov.runs;
  const row = (/** @type {string} */ label, /** @type {(r: any) => string} */ f) =>
    log(`${label.padEnd(W)}${runs.map((/** @type {any} */ r) => ` ${f(r)}`.padStart(C + 4)).join("")}`);
  log("-".repeat(W + (C + 4) * runs.length));
  log(
    `overload: ours, ${ov.mutation}, upstream ${ov.delayMs} ms with ${ov.upstreamConnections} sockets (capacity ${fmt(ov.capacityPerSec, 0)} sends/s), client timeout ${ov.timeoutSec} s`,
  );
  row("clients", (r) => fmt(r.clients));
  row("clients honour Retry-After", (r) => (r.honourRetryAfter ? "yes" : "no (resend at once)"));
  row("served in the window | per second", (r) => `${fmt(r.window.ok)}|${fmt(r.servedPerSec, 0)}`);
  row("  share of the upstream capacity", (r) => `${fmt(r.servedShareOfCapacity * 100, 0)} %`);
  row(
    "shed (OVERLOADED / HTTP 503)",
    (r) =>
      `${fmt(r.window.shed)} (${
        Object.entries(r.shedStatuses)
          .map(([k, v]) => `${k}:${v}`)
          .join(" ") || "—"
      })`,
  );
  row("client timeouts (window | whole run)", (r) => `${fmt(r.window.timeout)}|${fmt(r.run.timeout)}`);
  row("other answers or errors", (r) => fmt(r.window.wrong + r.window.non2xx + r.window.graphqlError + r.window.error));
  row(
    "served p50 | p99 (ms)",
    (r) => `${fmt(r.latencyUs.served.p50 / 1000, 0)}|${fmt(r.latencyUs.served.p99 / 1000, 0)}`,
  );
  row("shed p50 | p99 (ms)", (r) => `${fmt(r.latencyUs.shed.p50 / 1000, 1)}|${fmt(r.latencyUs.shed.p99 / 1000, 1)}`);
  row(
    "in flight at the upstream: avg | peak",
    (r) => `${fmt(r.upstreamWindow.avgInFlight, 0)}|${fmt(r.upstreamWindow.peakInFlight)}`,
  );
  // The upstream's sockets idle between an answer and the next call on them: with our queue full, the server's own
  // delay in reading the answer and writing the next call (bench/fake-upstream.js idleGapsMs).
  row("  socket idle answer→next call p50|p99 (ms)", (r) =>
    r.upstreamWindow.idleGapMs
      ? `${fmt(r.upstreamWindow.idleGapMs.p50, 1)}|${fmt(r.upstreamWindow.idleGapMs.p99, 1)}`
      : "n/a",
  );
  row("server CPU cores busy", (r) => fmt(r.cpu.cpuUtilisation, 2));
  row("load generator CPU cores busy", (r) => (r.loadGenerator ? fmt(r.loadGenerator.cpuCoresBusy, 2) : "n/a"));
  // Which client made the load (lib/closed-loop.js: raw sockets by default, BENCH_OVERLOAD_CLIENT=undici) and what an
  // answer cost it: the instrument's own share of the two cores.
  row("  client | its CPU per answer (µs)", (r) =>
    r.loadGenerator ? `${r.loadGenerator.client}|${fmt(r.loadGenerator.cpuUsPerAnswer, 1)}` : "n/a",
  );
  // Where a refusal's latency goes: waiting in the server's event loop before its listener answers, or in the load
  // generator's before it reads the answer (lib/closed-loop.js, lib/overload.js).
  row("event-loop delay p50|p99 (ms): server", (r) =>
    r.serverEventLoopDelayMs
      ? `${fmt(r.serverEventLoopDelayMs.p50, 1)}|${fmt(r.serverEventLoopDelayMs.p99, 1)}`
      : "n/a",
  );
  row("  load generator", (r) =>
    r.loadGenerator
      ? `${fmt(r.loadGenerator.eventLoopDelayMs.p50, 1)}|${fmt(r.loadGenerator.eventLoopDelayMs.p99, 1)}`
      : "n/a",
  );
  row("peak RSS (MB)", (r) => mb(r.peakRss));
  row("destinations sent twice", (r) => fmt(r.hits.sentTwice));
  row("shed answers whose OTP was sent", (r) => fmt(r.hits.shedButSent));
  row("sent without a success answer", (r) => fmt(r.hits.hitsWithoutOk));
  row(
    "accept-queue overflows | SYN retransmits",
    (r) => `${fmt(r.cpu.tcp.listenOverflows)}|${fmt(r.cpu.tcp.synRetrans)}`,
  );
  row("drain after the window (s)", (r) => fmt(r.drainSec, 1));
}

/** @param {any} sc @param {(line: string) => void} log */
function printScaling(sc, log) {
  const keys = Object.keys(sc.summary);
  const row = (/** @type {string} */ label, /** @type {(s: any, k: string) => string} */ f) =>
    log(`${label.padEnd(W)}${keys.map((k) => ` ${f(sc.summary[k], k)}`.padStart(C + 4)).join("")}`);
  log("-".repeat(W + (C + 4) * keys.length));
  log(`worker scaling: ours, ${sc.mutation}, REDIS_URL set, WEB_CONCURRENCY ${keys.join(" / ")}`);
  row("WEB_CONCURRENCY", (_s, k) => k);
  row("processes in the tree | serving clients", (s) => `${s.processes}|${s.serving}`);
  row("supported", (s, k) => (Number(k) === sc.base ? "—" : s.supported ? "yes" : "NOT SUPPORTED"));
  row("requests/s at saturation", (s) => fmt(s.rps));
  row(`  / WEB_CONCURRENCY=${sc.base}`, (_s, k) =>
    Number(k) === sc.base ? "1.00×" : sc.ratios[k] ? `${fmt(sc.ratios[k].median, 2)}×` : "n/a",
  );
  row("server CPU µs per request (whole tree)", (s) => fmt(s.cpuUsPerRequest));
  row("errors", (s) => fmt(s.errors));
}

/** @param {any} report @param {(line: string) => void} log */
function printTargets(report, log) {
  log("-".repeat(W + C * 6));
  log("targets (every feature on for ours), from this run");
  for (const t of report.targets) {
    const verdict = t.pass === null ? "[ n/a]" : t.pass ? "[ MET]" : "[FAIL]";
    log(`  ${verdict} ${t.name.padEnd(W + 14)} ${t.value}`);
  }
  log("-".repeat(W + C * 6));
  if (report.flags.length === 0)
    log("flags: none (no errors, every upstream check passed, the floor was steady across rounds)");
  else for (const f of report.flags) log(`FLAG: ${f}`);
}

module.exports = { printReport };
