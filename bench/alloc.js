#!/usr/bin/env node
// @ts-check
"use strict";
/**
 * `node bench/alloc.js`: bytes the server's JavaScript heap allocates per request, the garbage its collector must
 * clear. The system runs natively with V8's `--trace-gc-nvp`, whose line per collection says how many bytes were
 * allocated since the one before (`allocated=`); a small young generation (`--max-semi-space-size=1`, after the
 * system's own flags) makes collections frequent, so the sum over the collections during the measured requests
 * misses at most about one semi-space (1 MiB) at each end. Requests are sent one at a time after a warm-up, as
 * bench/callgrind.js sends them; the upstream check is the same. `--rounds n` measures n windows of `--requests`
 * each, one after the other in the same process after the one warm-up, and prints each window's figure and their
 * median (the figure to compare two builds by: one window's edges miss up to a semi-space, about 200 B a request at
 * 5,000 requests). Bytes allocated do not move with the host's load, as times do: two builds can be compared on a
 * shared machine, each with this script run the same way (docs/performance.md, "How to measure").
 *
 * Usage: node bench/alloc.js [--mutation aeps|cibil] [--system ours|apollo|floor|...] [--requests 5000]
 *          [--warmup 2000] [--rounds 1] [--no-build] [--dist dir]
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
const { median } = require("./lib/stats");

const log = (/** @type {string} */ line) => process.stdout.write(`${line}\n`);

async function main() {
  const { values } = parseArgs({
    options: {
      ...oneSystemOptions({ requests: "5000", warmup: "2000" }),
      dist: { type: "string" },
      rounds: { type: "string", default: "1" },
    },
    strict: true,
  });
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error("--rounds must be a whole number >= 1");
  // --trace-gc-nvp and a small young generation after the system's own flags.
  const { m, sys, requests, warmup, up, s, logFile, traffic } = await startOne(
    values,
    "alloc",
    [GC_TRACE_FLAG, "--max-semi-space-size=1"],
    log,
  );
  const w = await sequential({ ...traffic, warmup: 0, requests: warmup });
  /** @type {Array<{ before: number, after: number }>} */
  const windows = [];
  /** @type {number[]} */
  const okIds = [...w.okIds];
  let ok = 0;
  for (let i = 0; i < rounds; i++) {
    const before = fs.statSync(logFile).size;
    const r = await sequential({ ...traffic, warmup: 0, requests });
    windows.push({ before, after: fs.statSync(logFile).size });
    okIds.push(...r.okIds);
    ok += r.ok;
  }
  await s.stop();
  const { hits } = await askHits(up, m.key, okIds);
  await up.stop();
  // The GC lines whose body was written between the two sizes (lib/gc-trace.js, as `npm run bench -- --gc-trace`).
  const events = parseGcTrace(fs.readFileSync(logFile, "latin1"));
  const gs = windows.map(({ before, after }) => gcInWindow(events, before, after, requests));
  const per = gs.map((g) => g.allocatedBytesPerRequest);
  const g = {
    allocatedBytesPerRequest: median(per),
    collections: gs.reduce((a, x) => a + x.scavenges + x.markCompacts + x.otherGcs, 0),
    traced: gs.every((x) => x.traced),
  };
  const total = requests * rounds;
  log(`alloc: ${sys.label}, ${m.field}, ${rounds} × ${requests} requests after ${warmup} warm-up, one at a time`);
  log(
    `  ${fmt(g.allocatedBytesPerRequest)} bytes allocated per request (${g.collections} collections)` +
      (rounds > 1 ? `: the median of ${rounds} windows [${per.map((v) => fmt(v)).join(", ")}]` : ""),
  );
  log(
    `  answers: ${ok} correct of ${total}; upstream check: ${hits.pass ? "passed" : `FAILED: ${describeHits(hits)}`}`,
  );
  if (!g.traced) log("  NO GC LINE between the two sizes: the trace was not taken, the figure is unknown");
  if (!hits.pass || ok !== total || !g.traced) process.exitCode = 1;
}

process.on("exit", killAll);
main().catch((error) => {
  process.stderr.write(`\nalloc failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  killAll();
  process.exit(1);
});
