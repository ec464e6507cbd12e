#!/usr/bin/env node
// @ts-check
"use strict";
/**
 * `npm run bench:callgrind`: instructions per request of one system on one mutation, counted by valgrind's callgrind
 * on the server's **main thread** (the event loop: everything a request costs except V8's background compiler and GC
 * helper threads). Unlike CPU time, an instruction count does not move with the neighbours on a shared machine, so
 * a change of a few per cent shows up; use it to compare two commits, not two machines.
 *
 *   1. starts the fake upstream (natively) and the system under `valgrind --tool=callgrind --separate-threads=yes`;
 *   2. sends `--warmup` requests one at a time (JIT warm-up), then `callgrind_control --dump` (writes and zeroes the
 *      counters: this is the "subtract the warm-up" step);
 *   3. sends `--requests` requests one at a time, dumps again: that dump holds exactly those requests;
 *   4. prints the main thread's instructions (Ir) per request, and all threads' for reference, and checks at the
 *      upstream that every answer reached it once (lib/hits.js);
 *   5. prints the main thread's SHA-256 compression (OpenSSL's sha256_block_data_order*) and the rest without it:
 *      valgrind's CPU has no SHA extensions (SHA-NI), so OpenSSL runs its AVX2 code under callgrind, about 2,030
 *      instructions a 64-byte block, where natively on this host's CPU (SHA-NI) a block takes a quarter to a third of
 *      the AVX2 code's time (bench/hash-micro.js; bench/README.md, "SHA-256 under valgrind"). A system that hashes more
 *      (ours: an HMAC per store key) looks dearer under callgrind than it is natively; the line without SHA-256 is
 *      the other bound.
 *
 * Usage: npm run bench:callgrind -- [--mutation aeps|cibil] [--system ours|floor|apollo|rest|ours-redis|ours-idem]
 *          [--requests 1000] [--warmup 2000] [--no-build] [--ours-header "Name: value" ...]
 *          [--ours-env NAME=VALUE ...] [--dist dir]
 * `--dist dir` runs another build of our server (dir/index.js, nothing built) in place of dist/'s, its dumps in a
 * folder of their own (<system>-<mutation>-<dir's name>): a change measured against main without swapping dist/.
 * Dumps go to bench/results/callgrind/<system>-<mutation>/, one folder per pair, so a run of another system or
 * mutation keeps them: `node bench/callgrind-compare.js <dump A> <dump B>` sets two side by side by function, and
 * callgrind_annotate reads each.
 */
const path = require("node:path");
const { spawnSync } = require("node:child_process");
const { parseCli } = require("../scripts/cli");
const { startChild, killAll } = require("./lib/proc");
const { ROOT } = require("./lib/systems");
const {
  oneSystemOptions,
  pickSystem,
  buildOurs,
  startUpstream,
  sequentialTraffic,
  systemArgs,
} = require("./lib/one-system");
const { callgrindIn, functionInstructions, SHA256_BLOCKS } = require("./lib/valgrind");
const { sequential } = require("./lib/sequential");
const { askHits, describeHits } = require("./lib/hits");
const { fmt } = require("./lib/format");
const { deletePrefix } = require("./lib/redis");

const RESULTS = path.join(__dirname, "results/callgrind");
const USAGE =
  "usage: npm run bench:callgrind -- [--mutation aeps|cibil] [--system ours|floor|apollo|rest|ours-redis|ours-idem]\n" +
  '         [--requests 1000] [--warmup 2000] [--no-build] [--ours-header "Name: value" ...]\n' +
  "         [--ours-env NAME=VALUE ...] [--dist dir]   (bench/callgrind.js, bench/README.md)\n";
const log = (/** @type {string} */ line) => process.stdout.write(`${line}\n`);

async function main() {
  // scripts/cli.js: --help the usage (exit 0), an unknown flag refused with it (exit 2), before valgrind is looked for.
  const { values } = parseCli(USAGE, {
    options: { ...oneSystemOptions({ requests: "1000", warmup: "2000" }), dist: { type: "string" } },
  });
  const { m, sys, requests, warmup } = pickSystem(values);
  // Only this pair's previous dumps are removed: the other system's, measured just before, stay to be compared with.
  // Another build's dumps (--dist) in a folder named after it, beside this build's.
  const build = values.dist === undefined ? "" : `-${path.basename(path.resolve(values.dist))}`;
  const OUT = path.join(RESULTS, `${sys.key}-${m.key}${build}`);
  const cg = callgrindIn(OUT);
  if (spawnSync("valgrind", ["--version"]).status !== 0)
    throw new Error("valgrind is not installed (apt-get install valgrind)");
  buildOurs(sys, values["no-build"] === true || values.dist !== undefined, log);
  cg.clean();
  const up = await startUpstream(OUT);
  const runTag = `callgrind-${Date.now().toString(36)}`;
  // Under valgrind the server runs tens of times slower, and its event loop is late by design: our admission check
  // would refuse requests (a 503 in a run of 500). It is a sampler on a timer, whose cost depends on time, not on
  // requests: off here, it is measured by the bench.
  const childEnv = {
    ...sys.env({ upstreamUrl: up.url, runTag }),
    ...(sys.ours ? { ADMISSION_MAX_EVENT_LOOP_DELAY_MS: "0" } : {}),
  };
  log(`starting ${sys.label} under callgrind (slow: a minute or more) ...`);
  const s = await startChild({
    name: `${sys.label} (callgrind)`,
    ...cg.command(systemArgs(sys, values.dist)),
    env: childEnv,
    logFile: path.join(OUT, `${sys.key}-${m.key}.log`),
    readyPattern: sys.ready,
    ipc: false,
    cwd: ROOT,
    timeoutMs: 600_000,
  });
  const traffic = sequentialTraffic(s, m, sys);
  const t0 = performance.now();
  log(`warm-up: ${warmup} requests, one at a time ...`);
  const w = await sequential({ ...traffic, warmup: 0, requests: warmup });
  await cg.dump(s.pid, 1, "warmup", childEnv);
  log(`measured: ${requests} requests, one at a time (warm-up took ${fmt((performance.now() - t0) / 1000, 0)} s) ...`);
  const r = await sequential({ ...traffic, warmup: 0, requests });
  const ir = await cg.dump(s.pid, 2, "measured", childEnv);
  await s.stop();
  const { hits } = await askHits(up, m.key, [...w.okIds, ...r.okIds]);
  await up.stop();
  if (sys.redisPrefix) await deletePrefix(values["redis-url"], sys.redisPrefix(runTag));

  const all = Object.values(ir).reduce((a, b) => a + b, 0);
  log("");
  const added = [...values["ours-header"], ...values["ours-env"]];
  const extra = added.length > 0 ? `, with ${added.join(", ")}` : "";
  log(`callgrind: ${sys.label}, ${m.field}, ${requests} requests after ${warmup} warm-up, one at a time${extra}`);
  log(`  main thread: ${fmt(ir[1] / requests)} instructions per request   (${fmt(ir[1])} in total)`);
  log(`  all ${Object.keys(ir).length} threads: ${fmt(all / requests)} instructions per request`);
  // Valgrind's CPU has no SHA-NI: what the SHA-256 blocks cost natively is a fraction of this (step 5 above).
  const sha = functionInstructions(path.join(OUT, `callgrind.out.${s.pid}.2-01`), SHA256_BLOCKS);
  log(
    `  main thread without SHA-256 blocks: ${fmt((ir[1] - sha) / requests)} per request; the blocks ` +
      `(sha256_block_data_order*, AVX2 code: valgrind hides SHA-NI; natively a quarter to a third of their time) ` +
      `${fmt(sha / requests)}`,
  );
  log(
    `  answers: ${r.ok} correct of ${requests}; upstream check: ${hits.pass ? "every correct answer reached the upstream once" : `FAILED: ${describeHits(hits)}`}`,
  );
  log(
    `  dumps: ${path.relative(process.cwd(), OUT)}/callgrind.out.${s.pid}.2-01 (main thread; callgrind_annotate --inclusive=yes <file> | head -60)`,
  );
  log(
    `  by function, against another run: node bench/callgrind-compare.js <that dump> <this dump> --requests ${requests}`,
  );
  if (!hits.pass || r.ok !== requests) process.exitCode = 1;
}

process.on("exit", killAll);
main().catch((error) => {
  process.stderr.write(`\nbench:callgrind failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  killAll();
  process.exit(1);
});
