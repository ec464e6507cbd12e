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
 *      upstream that every answer reached it once (lib/hits.js).
 *
 * Usage: npm run bench:callgrind -- [--mutation aeps|cibil] [--system ours|floor|apollo|rest|ours-redis|ours-idem]
 *          [--requests 1000] [--warmup 2000] [--no-build]
 * Dumps go to bench/results/callgrind/ (callgrind_annotate reads them).
 */
const fs = require("node:fs");
const path = require("node:path");
const { execFileSync, spawnSync } = require("node:child_process");
const { parseArgs } = require("node:util");
const { startChild, killAll, ask } = require("./lib/proc");
const { systemDefs, ROOT } = require("./lib/systems");
const { MUTATIONS, bodyFactory } = require("./lib/mutations");
const { sequential } = require("./lib/sequential");
const { checkHits, describeHits } = require("./lib/hits");
const { fmt } = require("./lib/format");
const { deletePrefix } = require("./lib/redis");

const OUT = path.join(__dirname, "results/callgrind");
const VGDB_PREFIX = path.join(OUT, "vgdb-pipe");
const log = (/** @type {string} */ line) => process.stdout.write(`${line}\n`);

/** Ir of each thread in the dump files of `part` ("summary:" in each file's header). */
function irByThread(/** @type {number} */ pid, /** @type {number} */ part) {
  /** @type {Record<number, number>} */
  const out = {};
  const prefix = `callgrind.out.${pid}.${part}-`;
  for (const f of fs.readdirSync(OUT).filter((n) => n.startsWith(prefix))) {
    const fd = fs.openSync(path.join(OUT, f), "r");
    const head = Buffer.alloc(8192);
    fs.readSync(fd, head, 0, head.length, 0);
    fs.closeSync(fd);
    const text = head.toString("utf8");
    const thread = Number(/^thread: (\d+)$/m.exec(text)?.[1]);
    const ir = Number(/^summary: (\d+)$/m.exec(text)?.[1]);
    if (Number.isFinite(thread) && Number.isFinite(ir)) out[thread] = ir;
  }
  return out;
}

/**
 * Asks callgrind to write its counters (and zero them), and waits for the files of that part. vgdb finds the process
 * by FIFOs named after the prefix, the pid, and the USER/LOGNAME and HOST variables of *each side*: our server's
 * environment sets HOST (its listen address), so callgrind_control is given the same environment.
 * @param {number} pid @param {number} part @param {string} label @param {Record<string, string>} childEnv
 */
async function dump(pid, part, label, childEnv) {
  const env = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...childEnv };
  const said = execFileSync("callgrind_control", [`--vgdb-prefix=${VGDB_PREFIX}`, `--dump=${label}`, String(pid)], {
    encoding: "utf8",
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (!/OK/.test(said)) throw new Error(`callgrind_control --dump ${pid}: ${said}`);
  for (let i = 0; i < 600; i++) {
    const ir = irByThread(pid, part);
    if (ir[1] !== undefined) return ir;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`callgrind wrote no dump ${part} within 2 minutes`);
}

async function main() {
  const { values } = parseArgs({
    options: {
      mutation: { type: "string", default: "aeps" },
      system: { type: "string", default: "ours" },
      requests: { type: "string", default: "1000" },
      warmup: { type: "string", default: "2000" },
      "no-build": { type: "boolean", default: false },
      "redis-url": { type: "string", default: process.env.REDIS_URL ?? "redis://127.0.0.1:6379" },
    },
    strict: true,
  });
  const m = MUTATIONS[/** @type {"aeps" | "cibil"} */ (values.mutation)];
  if (!m) throw new Error("--mutation must be aeps or cibil");
  const defs = systemDefs({ oursEnv: {}, oursHeaders: {}, floorReset: false, redisUrl: values["redis-url"] });
  const sys = defs[values.system];
  if (!sys) throw new Error(`--system must be one of ${Object.keys(defs).join(", ")}`);
  const requests = Number(values.requests);
  const warmup = Number(values.warmup);
  if (!(requests >= 1) || !(warmup >= 0)) throw new Error("--requests must be >= 1 and --warmup >= 0");
  if (spawnSync("valgrind", ["--version"]).status !== 0)
    throw new Error("valgrind is not installed (apt-get install valgrind)");
  if (!values["no-build"] && sys.ours) {
    log("building our server: tsc -p tsconfig.build.json ...");
    const r = spawnSync(
      process.execPath,
      [require.resolve("typescript/bin/tsc", { paths: [ROOT] }), "-p", "tsconfig.build.json"],
      { cwd: ROOT, stdio: "inherit" },
    );
    if (r.status !== 0) throw new Error("build failed");
  }
  fs.mkdirSync(OUT, { recursive: true });
  // Only the latest run's dumps are kept (each is a few MB).
  for (const f of fs.readdirSync(OUT))
    if (f.startsWith("callgrind.out.") || f.startsWith("vgdb-pipe")) fs.rmSync(path.join(OUT, f), { force: true });

  const up = await startChild({
    name: "fake upstream",
    args: [path.join(__dirname, "fake-upstream.js")],
    env: {},
    logFile: path.join(OUT, "upstream.log"),
    readyPattern: /"msg":"fake upstream ready","url":"([^"]+)"/,
    ipc: true,
  });
  await ask(up.child, "reset");
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
    command: "valgrind",
    args: [
      "--tool=callgrind",
      "--separate-threads=yes",
      "--dump-instr=no",
      `--vgdb-prefix=${VGDB_PREFIX}`,
      `--callgrind-out-file=${path.join(OUT, "callgrind.out.%p")}`,
      process.execPath,
      ...sys.args,
    ],
    env: childEnv,
    logFile: path.join(OUT, `${sys.key}-${m.key}.log`),
    readyPattern: sys.ready,
    ipc: false,
    cwd: ROOT,
    timeoutMs: 600_000,
  });
  const traffic = {
    url: s.url,
    mutation: m,
    bodies: bodyFactory(m, sys.flavour),
    headers: sys.headers,
    perRequestHeaders: sys.perRequestHeaders,
  };
  const t0 = performance.now();
  log(`warm-up: ${warmup} requests, one at a time ...`);
  const w = await sequential({ ...traffic, warmup: 0, requests: warmup });
  await dump(s.pid, 1, "warmup", childEnv);
  log(`measured: ${requests} requests, one at a time (warm-up took ${fmt((performance.now() - t0) / 1000, 0)} s) ...`);
  const r = await sequential({ ...traffic, warmup: 0, requests });
  const ir = await dump(s.pid, 2, "measured", childEnv);
  await s.stop();
  const stats = /** @type {any} */ (await ask(up.child, "stats")).stats;
  const ids = /** @type {any} */ (await ask(up.child, "ids")).ids;
  await up.stop();
  if (sys.redisPrefix) await deletePrefix(values["redis-url"], sys.redisPrefix(runTag));
  const hits = checkHits({
    okIds: [...w.okIds, ...r.okIds],
    upstreamIds: ids[m.key],
    upstreamHits: stats.hits[m.key],
    duplicates: ids.duplicates[m.key],
    duplicateHits: stats.duplicateHits[m.key],
  });

  const all = Object.values(ir).reduce((a, b) => a + b, 0);
  log("");
  log(`callgrind: ${sys.label}, ${m.field}, ${requests} requests after ${warmup} warm-up, one at a time`);
  log(`  main thread: ${fmt(ir[1] / requests)} instructions per request   (${fmt(ir[1])} in total)`);
  log(`  all ${Object.keys(ir).length} threads: ${fmt(all / requests)} instructions per request`);
  log(
    `  answers: ${r.ok} correct of ${requests}; upstream check: ${hits.pass ? "every correct answer reached the upstream once" : `FAILED: ${describeHits(hits)}`}`,
  );
  log(
    `  dumps: ${path.relative(process.cwd(), OUT)}/callgrind.out.${s.pid}.2-01 (main thread; callgrind_annotate --inclusive=yes <file> | head -60)`,
  );
  if (!hits.pass || r.ok !== requests) process.exitCode = 1;
}

process.on("exit", killAll);
main().catch((error) => {
  process.stderr.write(`\nbench:callgrind failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  killAll();
  process.exit(1);
});
