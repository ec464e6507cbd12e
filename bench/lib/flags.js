// @ts-check
"use strict";
/**
 * What a reader must know before trusting a run: errors, failed upstream checks, a busy machine, a CPU whose speed
 * varied, a noisy floor, a profiled run, too few rounds. `upstreamFailures` lists the runs whose correct answers did
 * not match the upstream's hits: the bench then exits with status 1.
 */
const path = require("node:path");
const { fmt } = require("./format");
const { describeHits } = require("./hits");

/** Cores used by processes outside the bench during a window above which the window is reported as perturbed. */
const BUSY_CORES = 0.25;

/** Every measured system run of the report, with a name. @param {any} report */
function allRuns(report) {
  /** @type {{ name: string, r: any, windows: any[] }[]} */
  const out = [];
  // The main scenario's phases: each run and the windows whose "others" it is judged by.
  /** @type {[string, any[], (r: any) => any[]][]} */
  const phases = [
    ["A", report.phaseA, (r) => [r]],
    ["B", report.phaseB, (r) => [r.fixed]],
    ["C", report.phaseC ?? [], (r) => [{ otherCores: r.seq.otherCores }]],
    ["D", report.phaseD ?? [], (r) => [{ otherCores: r.paired.otherCores }]],
  ];
  for (const [phase, rows, windows] of phases)
    rows.forEach((row, i) => {
      for (const [mk, bySystem] of Object.entries(row))
        for (const [k, r] of Object.entries(/** @type {any} */ (bySystem)))
          out.push({ name: `${phase} round ${i + 1} ${mk} ${k}`, r, windows: windows(r) });
    });
  for (const r of report.overload?.runs ?? []) out.push({ name: `overload ${r.clients} clients`, r, windows: [r.cpu] });
  for (const [w, runs] of Object.entries(report.scaling?.byWorkers ?? {})) {
    /** @type {any[]} */ (runs).forEach((r, i) =>
      out.push({ name: `scaling WEB_CONCURRENCY=${w} round ${i + 1}`, r, windows: [r] }),
    );
  }
  return out;
}

/** @param {any} report @param {import("./options").Options} o */
function upstreamFailures(report, o) {
  void o;
  return allRuns(report)
    .filter(({ name, r }) => !name.startsWith("overload") && !r.hits.pass)
    .map(({ name, r }) => `${name}: ${describeHits(r.hits)}`);
}

/** @param {any} report @param {import("./options").Options} o @param {string} profilesDir */
function flagsOf(report, o, profilesDir) {
  /** @type {string[]} */
  const flags = [];
  for (const f of upstreamFailures(report, o)) flags.push(`UPSTREAM MISMATCH: ${f}`);
  for (const [mk, bySystem] of Object.entries(report.summary.systems)) {
    for (const [key, s] of Object.entries(/** @type {any} */ (bySystem))) {
      if (s.errors > 0) flags.push(`ERRORS: ${mk} ${key} had ${s.errors} (see the per-run lines and the JSON)`);
      if (s.undocumentedLines > 0)
        flags.push(
          `UNDOCUMENTED FIELDS: ${mk} ${key} logged ${s.undocumentedLines} 'undocumented fields' lines: the fake upstream is not answering the fixtures`,
        );
    }
  }
  // Phase D compares systems at one rate: one that fell behind it did less work in the window, at a higher load.
  for (const { name, r } of allRuns(report))
    if (name.startsWith("D ") && r.paired.okPerSec < 0.97 * o.pairedRate)
      flags.push(
        `PAIRED RATE MISSED: ${name} answered ${fmt(r.paired.okPerSec, 0)} of ${fmt(o.pairedRate)} req/s (the machine could not carry every system at once: lower --paired-rate)`,
      );
  for (const [w, s] of Object.entries(report.scaling?.summary ?? {}))
    if (/** @type {any} */ (s).errors > 0)
      flags.push(`ERRORS: scaling WEB_CONCURRENCY=${w} had ${/** @type {any} */ (s).errors}`);
  /** @type {string[]} */
  const busy = [];
  /** @type {Map<string, number>} */
  const culprits = new Map();
  for (const { name, windows } of allRuns(report)) {
    for (const w of windows) {
      if (!(w?.otherCores > BUSY_CORES)) continue;
      busy.push(`${name} ${fmt(w.otherCores, 2)}`);
      for (const t of w.topOthers ?? [])
        if (t.cores > 0.05) culprits.set(t.command, Math.max(culprits.get(t.command) ?? 0, t.cores));
    }
  }
  if (busy.length > 0) {
    const named = [...culprits]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 4)
      .map(([c, v]) => `${c} (up to ${fmt(v, 2)})`);
    flags.push(
      `BUSY MACHINE: other processes kept more than ${BUSY_CORES} core busy during ${busy.length} measured window(s) (${busy.slice(0, 8).join("; ")}${busy.length > 8 ? "; ..." : ""} cores): those numbers are perturbed` +
        (named.length ? `. Busiest others: ${named.join(", ")}` : ""),
    );
  }
  const canaryMs = report.cpuCanary.map((/** @type {{ ms: number }} */ c) => c.ms);
  if (canaryMs.length >= 2) {
    const lo = Math.min(...canaryMs);
    const hi = Math.max(...canaryMs);
    if ((hi - lo) / lo > 0.15) {
      flags.push(
        `CPU SPEED VARIED: the same fixed computation took ${fmt(lo, 1)} to ${fmt(hi, 1)} ms between runs (+${fmt(((hi - lo) / lo) * 100, 0)} %): ` +
          `the CPU was slower at times (other processes taking both cores, or a shared host, which /proc here does not show)`,
      );
    }
  }
  for (const [mk, bySystem] of Object.entries(report.summary.systems)) {
    const floor = /** @type {any} */ (bySystem).floor;
    if (floor && o.rounds >= 2 && floor.rpsSpread > 0.1)
      flags.push(
        `NOISY FLOOR: ${mk}: the floor's requests/s varied by ${fmt(floor.rpsSpread * 100, 1)} % across rounds (> 10 %): the machine was not steady`,
      );
  }
  if (o.cpuProf)
    flags.push(
      `PROFILED: phase A ran under --cpu-prof (profiles in ${path.relative(process.cwd(), profilesDir)}/); its numbers are perturbed by the profiler`,
    );
  if (o.rounds < 3) flags.push(`only ${o.rounds} round(s): fewer than the 3 needed for robust medians`);
  for (const w of report.warnings) flags.push(`WARNING: ${w}`);
  return flags;
}

module.exports = { flagsOf, upstreamFailures };
