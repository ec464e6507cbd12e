#!/usr/bin/env node
// @ts-check
"use strict";
/**
 * `node bench/throttle-growth.js`: what the memory throttle's growth costs the collector, in counts, not time. Every
 * bench request has identifiers of its own (lib/mutations.js), so each AEPS send opens 5 new destinations in the
 * throttle's DestinationCounters (src/protection/memory-counters.ts), whose columns are typed arrays: memory outside
 * the JS heap (external), which V8 counts towards starting a mark-compact. This drives one system natively, one request
 * at a time (a modest rate: one in flight), under `--trace-gc-nvp` (lib/gc-trace.js parses the lines), and reports
 * over the whole run, start-up included: the mark-compacts and scavenges, the external memory and ArrayBuffers after
 * two full collections at the end (lib/retained-probe.js, SIGUSR2: its own two collections are not counted), and the
 * peak RSS (VmHWM of /proc/<pid>/status, Linux). Deterministic enough to compare two builds (`--dist`) run the same
 * way; the counts of mark-compacts move by one between runs of one build on a loaded host (V8's marking task).
 *
 * Usage: node bench/throttle-growth.js [--mutation aeps|cibil] [--system ours|...] [--requests 30000] [--no-build]
 *          [--dist dir]
 */
const fs = require("node:fs");
const { parseArgs } = require("node:util");
const { killAll } = require("./lib/proc");
const { oneSystemOptions, startOne } = require("./lib/one-system");
const { sequential } = require("./lib/sequential");
const { parseGcTrace, GC_TRACE_FLAG } = require("./lib/gc-trace");
const { fmt } = require("./lib/format");

const PROBE = require.resolve("./lib/retained-probe.js");
const log = (/** @type {string} */ line) => process.stdout.write(`${line}\n`);
const READING = /^RETAINED 1 heapUsed=(\d+) external=(\d+) arrayBuffers=(\d+)$/m;

/** The peak resident set of a process, in bytes (VmHWM). @param {number} pid */
function peakRss(pid) {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, "latin1"));
  return m ? Number(m[1]) * 1024 : NaN;
}

async function main() {
  const { values } = parseArgs({
    options: { ...oneSystemOptions({ requests: "30000", warmup: "0" }), dist: { type: "string" } },
    strict: true,
  });
  // As retained.js: the probe's full collections stall the event loop, which admission must not read as overload.
  values["ours-env"] = ["ADMISSION_MAX_EVENT_LOOP_DELAY_MS=0", ...(values["ours-env"] ?? [])];
  const { m, sys, requests, up, s, logFile, traffic } = await startOne(
    values,
    "throttle-growth",
    [GC_TRACE_FLAG, "--expose-gc", "-r", PROBE],
    log,
  );
  const r = await sequential({ ...traffic, warmup: 0, requests });
  const rss = peakRss(s.pid);
  // The GC lines of the run: everything written before the probe's own collections.
  const events = parseGcTrace(fs.readFileSync(logFile, "latin1"));
  process.kill(s.pid, "SIGUSR2");
  const deadline = Date.now() + 30_000;
  let after = READING.exec(fs.readFileSync(logFile, "latin1"));
  while (after === null && Date.now() < deadline) {
    await new Promise((res) => setTimeout(res, 50));
    after = READING.exec(fs.readFileSync(logFile, "latin1"));
  }
  await s.stop();
  await up.stop();
  if (after === null) throw new Error(`no reading of the probe in ${logFile}`);
  const count = (/** @type {string} */ type) => events.filter((e) => e.type === type).length;
  const mb = (/** @type {number} */ bytes) => `${fmt(bytes / 1e6, 1)} MB`;
  log(`throttle-growth: ${sys.label}, ${m.field}, ${requests} requests, one at a time, each to new destinations`);
  log(`  mark-compacts: ${count("mc")}, scavenges: ${count("s")} (the whole run, start-up included)`);
  log(`  promoted: ${fmt(events.reduce((a, e) => a + e.promoted, 0) / requests, 1)} B per request`);
  log(`  after two full collections: heap ${mb(Number(after[1]))}, external ${mb(Number(after[2]))}`);
  log(`    (ArrayBuffers ${mb(Number(after[3]))})`);
  log(`  peak RSS: ${mb(rss)}`);
  log(`  answers: ${r.ok} correct of ${requests}`);
  if (r.ok !== requests) process.exitCode = 1;
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => killAll());
