#!/usr/bin/env node
// @ts-check
"use strict";
/**
 * `node bench/alloc.js`: bytes the server's JavaScript heap allocates per request, the garbage its collector must
 * clear. The system runs natively with V8's `--trace-gc-nvp`, whose line per collection says how many bytes were
 * allocated since the one before (`allocated=`); a small young generation (`--max-semi-space-size=1`, after the
 * system's own flags) makes collections frequent, so the sum over the collections during the measured requests
 * misses at most about one semi-space (1 MiB) at each end. Requests are sent one at a time after a warm-up, as
 * bench/callgrind.js sends them; the upstream check is the same.
 *
 * Usage: node bench/alloc.js [--mutation aeps|cibil] [--system ours|apollo|floor|...] [--requests 5000]
 *          [--warmup 2000] [--no-build] [--dist dir]
 * `--dist dir` runs another build of our server (dir/index.js, nothing built) in place of dist/'s.
 */
const fs = require("node:fs");
const { parseArgs } = require("node:util");
const { killAll } = require("./lib/proc");
const { oneSystemOptions, startOne } = require("./lib/one-system");
const { parseGcTrace, gcInWindow, GC_TRACE_FLAG } = require("./lib/gc-trace");
const { sequential } = require("./lib/sequential");
const { askHits, describeHits } = require("./lib/hits");
const { fmt } = require("./lib/format");

const log = (/** @type {string} */ line) => process.stdout.write(`${line}\n`);

async function main() {
  const { values } = parseArgs({
    options: { ...oneSystemOptions({ requests: "5000", warmup: "2000" }), dist: { type: "string" } },
    strict: true,
  });
  // --trace-gc-nvp and a small young generation after the system's own flags.
  const { m, sys, requests, warmup, up, s, logFile, traffic } = await startOne(
    values,
    "alloc",
    [GC_TRACE_FLAG, "--max-semi-space-size=1"],
    log,
  );
  const w = await sequential({ ...traffic, warmup: 0, requests: warmup });
  const before = fs.statSync(logFile).size;
  const r = await sequential({ ...traffic, warmup: 0, requests });
  const after = fs.statSync(logFile).size;
  await s.stop();
  const { hits } = await askHits(up, m.key, [...w.okIds, ...r.okIds]);
  await up.stop();
  // The GC lines whose body was written between the two sizes (lib/gc-trace.js, as `npm run bench -- --gc-trace`).
  const g = gcInWindow(parseGcTrace(fs.readFileSync(logFile, "latin1")), before, after, requests);
  log(`alloc: ${sys.label}, ${m.field}, ${requests} requests after ${warmup} warm-up, one at a time`);
  log(
    `  ${fmt(g.allocatedBytesPerRequest)} bytes allocated per request (${g.scavenges + g.markCompacts + g.otherGcs} collections)`,
  );
  log(
    `  answers: ${r.ok} correct of ${requests}; upstream check: ${hits.pass ? "passed" : `FAILED: ${describeHits(hits)}`}`,
  );
  if (!g.traced) log("  NO GC LINE between the two sizes: the trace was not taken, the figure is unknown");
  if (!hits.pass || r.ok !== requests || !g.traced) process.exitCode = 1;
}

process.on("exit", killAll);
main().catch((error) => {
  process.stderr.write(`\nalloc failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  killAll();
  process.exit(1);
});
