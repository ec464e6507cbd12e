#!/usr/bin/env node
// @ts-check
"use strict";
/**
 * `npm run bench`: the whole benchmark in one run on one machine. See bench/README.md for the method.
 *
 *   1. builds dist/ (our server's production build) and starts the fake upstream (bench/fake-upstream.js);
 *   2. scenario "main", for each of the two mutations (resendAepsOtp, generateCibilOtp) and each system (floor,
 *      minimal Apollo, Apollo + RESTDataSource, ours, ours with Redis, ours with Idempotency-Key), rounds interleaved:
 *      phase A, saturation, server CPU over a fixed number of requests (lib/phases.js); phase B, a fixed rate;
 *      phase C, the unloaded latency of a sequential client, every system up at once and paired request by request;
 *      phase D, CPU per request with every system up and driven at once at the same fixed rate (`--phases` picks);
 *   3. scenario "overload": a 300 ms upstream, 128 upstream sockets, 400 then 1,500 clients against ours
 *      (lib/overload.js);
 *   4. scenario "scaling": ours with WEB_CONCURRENCY=1 and 2 (lib/scaling.js);
 *   5. after every run, checks at the upstream that each correct answer reached it exactly once (lib/hits.js);
 *   6. prints the tables, the ratios and the targets, writes bench/results/latest.json, and exits with status 1 if
 *      any upstream check failed.
 */
const fs = require("node:fs");
const path = require("node:path");
const { spawnSync } = require("node:child_process");
const { parseOptions } = require("./lib/options");
const { machineInfo } = require("./lib/machine");
const { startChild, killAll, openFilesLimit, CLK_TCK } = require("./lib/proc");
const { systemDefs, oursEnv, ROOT, BASE_REDIS_KEY } = require("./lib/systems");
const { redisReachable } = require("./lib/redis");
const { canaries, RESULTS, LOGS, PROFILES } = require("./lib/harness");
const { phaseA, phaseB, phaseC, phaseD, prime } = require("./lib/phases");
const { overload } = require("./lib/overload");
const { scaling } = require("./lib/scaling");
const { summarise, evaluateTargets } = require("./lib/summary");
const { flagsOf, upstreamFailures } = require("./lib/flags");
const { printReport } = require("./lib/report");

const log = (/** @type {string} */ line) => process.stdout.write(`${line}\n`);

function build() {
  log("building our server: tsc -p tsconfig.build.json (npm run build) ...");
  // As npm run build: under the checkout's build lock (scripts/build-lock.js), not beside a start or npm run dev.
  const build = [path.join(ROOT, "scripts/build-if-stale.js"), "--only", "server", "--force"];
  const r = spawnSync(process.execPath, build, { cwd: ROOT, stdio: "inherit" });
  if (r.status !== 0) throw new Error(`build failed (exit ${r.status})`);
}

/** @param {number} delayMs */
async function startUpstream(delayMs) {
  const up = await startChild({
    name: `fake upstream (${delayMs} ms)`,
    args: [path.join(__dirname, "fake-upstream.js")],
    env: { UPSTREAM_DELAY_MS: String(delayMs) },
    logFile: path.join(LOGS, `upstream-${delayMs}ms.log`),
    readyPattern: /"msg":"fake upstream ready","url":"([^"]+)"/,
    ipc: true,
  });
  const bodyBytes = JSON.parse(/"bodyBytes":(\{[^}]*\})/.exec(fs.readFileSync(up.logFile, "utf8"))?.[1] ?? "{}");
  return { ...up, bodyBytes };
}

async function main() {
  const o = parseOptions();
  const machine = machineInfo();
  const startedAt = new Date();
  fs.mkdirSync(LOGS, { recursive: true });
  for (const f of fs.readdirSync(LOGS)) fs.rmSync(path.join(LOGS, f), { force: true });
  if (o.cpuProf) fs.rmSync(PROFILES, { recursive: true, force: true });

  /** @type {string[]} */
  const warnings = [];
  const fdNeed = Math.max(0, ...o.overloadClients) * 2 + 1024;
  if (o.scenarios.includes("overload") && openFilesLimit() < fdNeed) {
    warnings.push(
      `open-files limit ${openFilesLimit()} is below the ~${fdNeed} the overload scenario needs (raise it: ulimit -n ${fdNeed})`,
    );
  }
  const redisOk = await redisReachable(o.redisUrl);
  if (!redisOk) {
    const isRedis = (/** @type {string} */ s) => s === "ours-redis" || s === BASE_REDIS_KEY;
    const redisSystems = o.systems.filter(isRedis);
    const skipped = [
      ...redisSystems.map((s) => `the ${s} system`),
      ...(o.scenarios.includes("scaling") ? ["the scaling scenario"] : []),
    ];
    if (skipped.length)
      warnings.push(
        `Redis at ${o.redisUrl.replace(/\/\/[^@]*@/, "//***@")} does not answer: skipped ${skipped.join(" and ")} (set --redis-url or REDIS_URL)`,
      );
    o.systems = o.systems.filter((s) => !isRedis(s));
    o.scenarios = o.scenarios.filter((s) => s !== "scaling");
  }
  const defs = systemDefs(o);

  log(`AOPay GraphQL layer benchmark${o.quick ? " (quick)" : ""} — ${startedAt.toISOString()}`);
  log(
    `machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.kernel}, Node ${machine.node}, autocannon ${machine.autocannon}, load ${machine.loadAverageAtStart.join(" ")}`,
  );
  for (const w of warnings) log(`WARNING: ${w}`);
  if (o.build) build();
  if (!fs.existsSync(path.join(ROOT, "dist/index.js")))
    throw new Error("dist/index.js is missing: run npm run build (or drop --no-build)");

  /** @type {any} */
  const report = {
    startedAt: startedAt.toISOString(),
    machine,
    clockTicksPerSecond: CLK_TCK,
    options: { ...o, out: path.relative(ROOT, o.out), redisUrl: o.redisUrl.replace(/\/\/[^@]*@/, "//***@") },
    labels: Object.fromEntries(Object.values(defs).map((d) => [d.key, d.label])),
    oursEnv: { ...oursEnv("<fake upstream>"), ...o.oursEnv },
    warnings,
    phaseA: [],
    phaseB: [],
    phaseC: [],
    phaseD: [],
    overload: null,
    scaling: null,
  };

  if (o.scenarios.includes("main") || o.scenarios.includes("scaling")) {
    const up = await startUpstream(0);
    report.upstreamBodyBytes = up.bodyBytes;
    log(
      `fake upstream ${up.url}, 0 ms delay, answers: AEPS ${up.bodyBytes.aeps} B, CIBIL ${up.bodyBytes.cibil} B (the documented examples)`,
    );
    await prime(o, defs, up);
    if (o.scenarios.includes("main")) {
      if (o.phases.includes("A")) await phaseA(o, defs, up, report);
      if (o.phases.includes("B")) await phaseB(o, defs, up, report);
      if (o.phases.includes("C")) await phaseC(o, defs, up, report);
      if (o.phases.includes("D")) await phaseD(o, defs, up, report);
    }
    if (o.scenarios.includes("scaling")) report.scaling = await scaling(o, defs, up);
    await up.stop();
  }
  if (o.scenarios.includes("overload")) {
    const slowUp = await startUpstream(o.overloadDelay);
    report.overload = await overload(o, defs, slowUp);
    await slowUp.stop();
  }

  report.cpuCanary = canaries;
  const mainRan = ["phaseA", "phaseB", "phaseC", "phaseD"].some((p) => report[p].length > 0);
  report.summary = summarise(report, o.systems, mainRan ? o.mutations : []);
  report.targets = evaluateTargets(report);
  report.flags = flagsOf(report, o, PROFILES);
  report.finishedAt = new Date().toISOString();
  report.elapsedSec = Math.round((Date.now() - startedAt.getTime()) / 1000);
  printReport(report, log);

  fs.mkdirSync(path.dirname(o.out), { recursive: true });
  fs.writeFileSync(o.out, `${JSON.stringify(report, null, 2)}\n`);
  const stamped = path.join(RESULTS, `bench-${startedAt.toISOString().replace(/[:.]/g, "-")}.json`);
  if (path.resolve(o.out) === path.join(RESULTS, "latest.json")) fs.copyFileSync(o.out, stamped);
  log(`\nJSON: ${path.relative(process.cwd(), o.out)}`);

  const failures = upstreamFailures(report, o);
  if (failures.length > 0) {
    process.stderr.write(
      `\n${"!".repeat(100)}\nUPSTREAM CHECK FAILED in ${failures.length} run(s): correct answers and upstream hits differ, so those figures do not\n` +
        `measure work done (cached, replayed, deduplicated or doubled calls):\n  ${failures.join("\n  ")}\n${"!".repeat(100)}\n`,
    );
    process.exitCode = 1;
  }
}

// ---- cleanup: no child outlives the bench ---------------------------------------------------------------------------
process.on("exit", killAll);
for (const signal of /** @type {const} */ (["SIGINT", "SIGTERM", "SIGHUP"])) {
  process.on(signal, () => {
    process.stderr.write(`\n${signal}: stopping every child process\n`);
    killAll();
    process.exit(130);
  });
}

main().catch((error) => {
  process.stderr.write(`\nbench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  killAll();
  process.exit(1);
});
