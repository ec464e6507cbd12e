#!/usr/bin/env node
// @ts-check
"use strict";
/**
 * `npm run bench:syscalls`: system calls per request of one system on one mutation, counted by `strace -c -f`
 * attached to the running server after its warm-up. Like an instruction count, a syscall count does not move with
 * the neighbours on a shared machine; unlike it, it sees what a CPU profile folds into a native function's self time
 * (a `write` to a socket is "writeUtf8String" or "writev" in a --cpu-prof profile, and its kernel time, which on
 * loopback includes waking the peer, is charged to the caller).
 *
 *   1. starts the fake upstream and the system natively (no valgrind: the counts, not the times, are the point);
 *   2. sends `--warmup` requests one at a time;
 *   3. attaches `strace -f -c -p <pid>` (every thread), sends `--requests` requests one at a time, detaches;
 *   4. prints each system call's count per request (and strace's own time column, which strace itself inflates:
 *      read it as a share, not as a cost).
 *
 * Usage: npm run bench:syscalls -- [--mutation aeps|cibil] [--system ours|floor|apollo|rest|ours-redis|ours-idem]
 *          [--requests 2000] [--warmup 2000] [--no-build]
 * Needs strace (Debian: apt-get install strace) and permission to ptrace the child (root, or ptrace_scope 0).
 */
const fs = require("node:fs");
const path = require("node:path");
const { spawn, spawnSync } = require("node:child_process");
const { parseCli } = require("../scripts/cli");
const { startChild, killAll } = require("./lib/proc");
const { ROOT } = require("./lib/systems");
const { oneSystemOptions, pickSystem, buildOurs, startUpstream, sequentialTraffic } = require("./lib/one-system");
const { sequential } = require("./lib/sequential");
const { deletePrefix } = require("./lib/redis");
const { fmt } = require("./lib/format");

const OUT = path.join(__dirname, "results/syscalls");
const log = (/** @type {string} */ line) => process.stdout.write(`${line}\n`);

/**
 * strace -c's table: `% time  seconds  usecs/call  calls  errors  syscall`, the errors column empty when none.
 * @param {string} text @returns {Array<{ name: string, calls: number, errors: number, seconds: number }>}
 */
function parseSummary(text) {
  const rows = [];
  for (const line of text.split("\n")) {
    const cells = line.trim().split(/\s+/);
    if (cells.length < 5 || !/^[0-9.]+$/.test(cells[0]) || cells[cells.length - 1] === "total") continue;
    const name = cells[cells.length - 1];
    const numbers = cells.slice(0, -1).map(Number);
    // Five numbers when some calls failed, four when none did.
    const [, seconds, , calls, errors = 0] = numbers;
    rows.push({ name, calls, errors, seconds });
  }
  return rows;
}

async function main() {
  // scripts/cli.js: --help the usage (exit 0), an unknown flag refused with it (exit 2), before strace is looked for.
  const { values } = parseCli(
    "usage: npm run bench:syscalls -- [--mutation aeps|cibil] [--system ours|floor|apollo|rest|ours-redis|ours-idem]\n" +
      "         [--requests 2000] [--warmup 2000] [--no-build]   (bench/syscalls.js, bench/README.md)\n",
    { options: oneSystemOptions({ requests: "2000", warmup: "2000" }) },
  );
  const { m, sys, requests, warmup } = pickSystem(values);
  if (spawnSync("strace", ["-V"]).status !== 0) throw new Error("strace is not installed (apt-get install strace)");
  buildOurs(sys, values["no-build"], log);
  fs.mkdirSync(OUT, { recursive: true });
  const up = await startUpstream(OUT);
  const runTag = `syscalls-${Date.now().toString(36)}`;
  const childEnv = sys.env({ upstreamUrl: up.url, runTag });
  const s = await startChild({
    name: sys.label,
    args: sys.args,
    env: childEnv,
    logFile: path.join(OUT, `${sys.key}-${m.key}.log`),
    readyPattern: sys.ready,
    ipc: false,
    cwd: ROOT,
  });
  const traffic = sequentialTraffic(s, m, sys);
  log(`${sys.label}, ${m.field}: warm-up ${warmup} requests, one at a time ...`);
  await sequential({ ...traffic, warmup: 0, requests: warmup });

  const summaryFile = path.join(OUT, `strace-${sys.key}-${m.key}.txt`);
  const strace = spawn("strace", ["-f", "-c", "-o", summaryFile, "-p", String(s.pid)], { stdio: "ignore" });
  // strace attaches thread by thread; requests sent before it has are not counted, which would only lower the figure.
  await new Promise((r) => setTimeout(r, 1000));
  const r = await sequential({ ...traffic, warmup: 0, requests });
  await new Promise((r) => setTimeout(r, 200));
  const exited = new Promise((resolve) => strace.once("exit", resolve));
  strace.kill("SIGINT");
  await exited;
  await s.stop();
  await up.stop();
  if (sys.redisPrefix) await deletePrefix(values["redis-url"], sys.redisPrefix(runTag));

  const rows = parseSummary(fs.readFileSync(summaryFile, "utf8")).sort((a, b) => b.calls - a.calls);
  const total = rows.reduce((sum, row) => sum + row.calls, 0);
  log("");
  log(
    `syscalls: ${sys.label}, ${m.field}, ${requests} requests after ${warmup} warm-up, one at a time (${r.ok} correct)`,
  );
  log(`  all threads: ${fmt(total / requests, 2)} system calls per request`);
  for (const row of rows)
    log(
      `  ${row.name.padEnd(18)} ${fmt(row.calls / requests, 2).padStart(8)} per request` +
        (row.errors ? `  (${fmt(row.errors / requests, 2)} failed)` : ""),
    );
  log(`  strace's table: ${path.relative(process.cwd(), summaryFile)}`);
  if (r.ok !== requests) process.exitCode = 1;
}

process.on("exit", killAll);
main().catch((error) => {
  process.stderr.write(`\nbench:syscalls failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  killAll();
  process.exit(1);
});
