#!/usr/bin/env node
// @ts-check
"use strict";
/**
 * `node bench/hash-count.js`: every hash and HMAC our server computes per request, by what, call site and bytes. The
 * server runs natively with lib/hash-count-preload.js (node:crypto's hash, createHash and createHmac wrapped, and
 * KeyHasher.hash: its HMAC's two SHA-256 count as one HMAC of its dimension); requests are sent one at a time after a
 * warm-up, as bench/callgrind.js sends them. Nothing it prints or writes names an identifier: a KeyHasher call is
 * listed by dimension and length, and "REPEATED" when the same (dimension, identifier) was hashed earlier in the
 * same request (a defect: each key is computed once per request and passed on).
 *
 * Why count: callgrind cannot say what SHA-256 costs natively (it hides SHA-NI: bench/README.md, "SHA-256 under
 * valgrind"), but the count of hashes per request is the same natively and under valgrind.
 *
 * Usage: node bench/hash-count.js [--mutation aeps|cibil] [--system ours|ours-redis|ours-idem] [--requests 200]
 *          [--warmup 200] [--no-build] [--dist dir]
 * `--dist dir` runs another build of our server (dir/index.js, nothing built) in place of dist/'s.
 * Exits 1 when a request repeated an HMAC or an answer or the upstream check failed.
 */
const fs = require("node:fs");
const path = require("node:path");
const { parseArgs } = require("node:util");
const { setTimeout: sleep } = require("node:timers/promises");
const { killAll } = require("./lib/proc");
const { oneSystemOptions, startOne } = require("./lib/one-system");
const { sequential } = require("./lib/sequential");
const { askHits, describeHits } = require("./lib/hits");
const { fmt } = require("./lib/format");

const log = (/** @type {string} */ line) => process.stdout.write(`${line}\n`);
const PRELOAD = path.join(__dirname, "lib/hash-count-preload.js");

async function main() {
  const { values } = parseArgs({
    options: { ...oneSystemOptions({ requests: "200", warmup: "200" }), dist: { type: "string" } },
    strict: true,
  });
  if (!values.system.startsWith("ours"))
    throw new Error("--system must be one of our server's (ours, ours-redis, ...)");
  /** @type {string} */
  let outFile = "";
  const { m, sys, requests, warmup, up, s, traffic } = await startOne(
    values,
    "hash-count",
    ["--enable-source-maps", "--require", PRELOAD],
    log,
    (out) => ({
      HASH_COUNT_OUT: (outFile = path.join(out, "hashes.json")),
      // The preload wraps the KeyHasher of the build that runs.
      HASH_COUNT_DIST: path.resolve(values.dist ?? path.join(__dirname, "..", "dist")),
    }),
  );
  fs.rmSync(outFile, { force: true });
  const w = await sequential({ ...traffic, warmup: 0, requests: warmup });
  const r = await sequential({ ...traffic, warmup: 0, requests });
  process.kill(s.pid, "SIGUSR2");
  for (let i = 0; i < 100 && !fs.existsSync(outFile); i++) await sleep(50);
  await s.stop();
  const { hits } = await askHits(up, m.key, [...w.okIds, ...r.okIds]);
  await up.stop();
  /** @type {{ requests: { what: string, site: string, bytes: number, repeat?: boolean }[][] }} */
  const recorded = JSON.parse(fs.readFileSync(outFile, "utf8"));
  const measured = recorded.requests.slice(-requests);
  /** @type {Map<string, number>} */
  const rows = new Map();
  let repeats = 0;
  let total = 0;
  for (const events of measured)
    for (const e of events) {
      const row = `${e.what.padEnd(40)} ${String(e.bytes).padStart(5)} B  ${e.site}${e.repeat ? "  REPEATED" : ""}`;
      rows.set(row, (rows.get(row) ?? 0) + 1);
      if (e.repeat) repeats++;
      total++;
    }
  log(`hash-count: ${sys.label}, ${m.field}, ${measured.length} requests after ${warmup} warm-up, one at a time`);
  log(`  per request   what                                     bytes     call site`);
  for (const [row, n] of [...rows].sort((a, b) => b[1] - a[1]))
    log(`  ${fmt(n / measured.length, 3).padStart(11)}   ${row}`);
  log(`  ${fmt(total / measured.length, 3).padStart(11)}   in all; ${repeats} HMAC computed again within a request`);
  const check = hits.pass ? "passed" : `FAILED: ${describeHits(hits)}`;
  log(`  answers: ${r.ok} correct of ${requests}; upstream check: ${check}`);
  if (!hits.pass || r.ok !== requests || measured.length !== requests || repeats > 0) process.exitCode = 1;
}

process.on("exit", killAll);
main().catch((error) => {
  process.stderr.write(`\nhash-count failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  killAll();
  process.exit(1);
});
