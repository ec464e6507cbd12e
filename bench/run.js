#!/usr/bin/env node
// @ts-check
"use strict";
/**
 * `npm run bench`: the whole benchmark in one run on one machine. See bench/README.md for the method.
 *
 *   1. builds dist/ (our server's production build), starts the fake upstream (bench/fake-upstream.js);
 *   2. phase A, saturation: for each round, each system in turn (floor, minimal Apollo, ours) is started fresh,
 *      warmed up and driven by autocannon at `--connections` for `--duration` s; its CPU time and memory are read
 *      from /proc; then it is stopped;
 *   3. phase B, latency: the fixed rate is half the slowest system's median saturation rate; for each round, each
 *      system in turn is started fresh, driven at that rate for `--duration` s (p50/p99), then measured unloaded by
 *      a sequential client (one request at a time);
 *   4. the slow-upstream scenario: a fake upstream that answers after 300 ms, 2,000 concurrent clients, against the
 *      floor and ours;
 *   5. prints the table, the per-round ratios and the targets, and writes bench/results/latest.json.
 */
const fs = require("node:fs");
const path = require("node:path");
const { spawnSync } = require("node:child_process");
const { parseArgs } = require("node:util");
const { machineInfo, cpuCanaryMs } = require("./lib/machine");
const { startChild, killAll, cpuMicros, machineBusyMicros, allProcessesCpu, topOthers, memory, rssSampler, ask, openFilesLimit, tcpCounters, CLK_TCK } = require("./lib/proc");
const { drive } = require("./lib/load");
const { sequential } = require("./lib/sequential");
const { OURS_DOCUMENT, APOLLO_MINIMAL_DOCUMENT, bodyFactory } = require("./lib/operations");
const { REGISTRATION_ID, COMPANY_CODE } = require("./lib/aopay-wire");
const { median, spread } = require("./lib/stats");
const { printReport, evaluateTargets } = require("./lib/report");

const { createHash } = require("node:crypto");

const ROOT = path.resolve(__dirname, "..");
const RESULTS = path.join(__dirname, "results");
const LOGS = path.join(RESULTS, "logs");
const PROFILES = path.join(RESULTS, "profiles");

// =====================================================================================================================
// OUR SERVER'S ENVIRONMENT: production build, every feature on.
// Every feature is on below (throttling, authentication, metrics, bulkhead, breaker). When a new feature
// lands, switch it on HERE, with limits far above anything the bench sends (a full default run sends a few
// hundred thousand requests; per-destination limits cannot trigger, as every request has a fresh cibilId). Extra
// settings can also be given without editing: --ours-env NAME=VALUE and --ours-header "Name: value".
// Note: the server refuses unknown AOPAY_* names, so only add names the server knows.
// =====================================================================================================================
/** @param {string} upstreamUrl */
function oursEnv(upstreamUrl) {
  return {
    NODE_ENV: "production", // production: no Sandbox, no introspection, no suggestions; requires AOPAY_BASE_URL
    LOG_LEVEL: "info", // production log level; lines go to bench/results/logs/, never to this terminal
    HOST: "127.0.0.1",
    PORT: "0", // ephemeral port, announced in the "GraphQL server ready" log line
    AOPAY_BASE_URL: upstreamUrl, // the fake upstream (plain http is allowed to a loopback address in production)
    AOPAY_REGISTRATION_ID: REGISTRATION_ID,
    AOPAY_COMPANY_CODE: COMPANY_CODE,
    // Always on, defaults kept: input validation, GraphQL limits (aliases, depth, tokens, cost, directives,
    // characters), body limit, CSRF prevention, batching off, PII redaction and scrubbing of every log line,
    // upstream deadlines, retries of unsent calls, response-size cap, circuit breaker, bulkhead, request ids.
    // Client authentication (required in production): every request carries the API key below.
    HMAC_SECRET: "bench-hmac-secret-0123456789abcdefghijklmnop",
    API_KEYS: `bench:${createHash("sha256").update(BENCH_API_KEY).digest("hex")}`,
    // OTP throttling on, with budgets no run can reach (10,000,000 is the largest the server accepts); every request
    // has a fresh cibilId, so per-destination cooldowns never apply either. The in-memory store (no REDIS_URL).
    OTP_IP_MAX: "10000000",
    OTP_CLIENT_MAX: "10000000",
    OTP_GLOBAL_MAX: "10000000",
    OTP_PREFIX_MAX: "10000000",
    // Metrics on, on their own ephemeral loopback port (not scraped during the run; collection costs are paid per
    // request by the histograms and counters anyway).
    METRICS_ENABLED: "true",
    METRICS_PORT: "0",
  };
}
/** The API key every bench request to our server carries (client authentication is required in production). */
const BENCH_API_KEY = "aopk_bench_0123456789abcdefghijklmnopqrstuvwxyz";
/** Headers our server needs on every request. */
const OURS_HEADERS = { "x-api-key": BENCH_API_KEY };
/**
 * Extra settings for the slow-upstream scenario only. Our upstream pool holds at most AOPAY_CONNECTIONS sockets
 * (default 128), one request each. With 2,000 concurrent clients and a 300 ms upstream, 2,000 upstream calls must be
 * in flight at once; with 128 sockets the rest would wait in undici's queue and the scenario would measure the pool
 * size, not the server. The floor gets the same pool size (UPSTREAM_CONNECTIONS).
 */
const SLOW_UPSTREAM_CONNECTIONS = "4096";
// The bulkhead's wait queue too: 2,000 concurrent calls must not be shed as OVERLOADED in this scenario.
const OURS_SLOW_ENV = { AOPAY_CONNECTIONS: SLOW_UPSTREAM_CONNECTIONS, AOPAY_QUEUE_LIMIT: SLOW_UPSTREAM_CONNECTIONS };
// =====================================================================================================================

const READY_OURS = /"url":"(http:\/\/[^"]+\/graphql)"[^\n]*"msg":"GraphQL server ready"/;
const READY_BENCH = /"msg":"GraphQL server ready","url":"(http:\/\/[^"]+\/graphql)"/;

/**
 * @typedef {object} SystemDef
 * @property {string} key
 * @property {string} label
 * @property {string[]} args
 * @property {(upstreamUrl: string, slow: boolean) => Record<string, string>} env
 * @property {string} document
 * @property {Record<string, string>} headers
 * @property {RegExp} ready
 * @property {boolean} ipc
 */

/**
 * @param {Record<string, string>} extraEnv @param {Record<string, string>} extraHeaders
 * @param {boolean} floorReset the floor opens a new upstream connection per call (undici's default for a GET with a body)
 * @returns {Record<string, SystemDef>}
 */
function systemDefs(extraEnv, extraHeaders, floorReset) {
  return {
    floor: {
      key: "floor",
      label: "floor",
      args: [path.join(__dirname, "systems/floor.js")],
      env: (up, slow) => ({
        UPSTREAM_URL: up,
        UPSTREAM_CONNECTIONS: slow ? SLOW_UPSTREAM_CONNECTIONS : "128",
        NODE_ENV: "production",
        ...(floorReset ? { FLOOR_RESET: "1" } : {}),
      }),
      document: OURS_DOCUMENT,
      headers: {},
      ready: READY_BENCH,
      ipc: true,
    },
    apollo: {
      key: "apollo",
      label: "apollo",
      args: [path.join(__dirname, "systems/apollo-minimal.js")],
      env: (up) => ({ UPSTREAM_URL: up, NODE_ENV: "production" }),
      document: APOLLO_MINIMAL_DOCUMENT,
      headers: {},
      ready: READY_BENCH,
      ipc: true,
    },
    ours: {
      key: "ours",
      label: "ours",
      args: [path.join(ROOT, "dist/index.js")],
      env: (up, slow) => ({ ...oursEnv(up), ...(slow ? OURS_SLOW_ENV : {}), ...extraEnv }),
      document: OURS_DOCUMENT,
      headers: { ...OURS_HEADERS, ...extraHeaders },
      ready: READY_OURS,
      ipc: false,
    },
  };
}

function parseOptions() {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      rounds: { type: "string" },
      duration: { type: "string" },
      warmup: { type: "string" },
      connections: { type: "string" },
      rate: { type: "string" },
      "rate-streams": { type: "string" },
      "seq-requests": { type: "string" },
      "seq-warmup": { type: "string" },
      systems: { type: "string" },
      slow: { type: "boolean", default: true },
      "no-slow": { type: "boolean", default: false },
      "slow-clients": { type: "string" },
      "slow-delay": { type: "string" },
      "slow-duration": { type: "string" },
      "slow-warmup": { type: "string" },
      "slow-systems": { type: "string" },
      "only-slow": { type: "boolean", default: false },
      "floor-reset": { type: "boolean", default: false },
      build: { type: "boolean", default: true },
      "no-build": { type: "boolean", default: false },
      "keep-logs": { type: "boolean", default: false },
      "cpu-prof": { type: "boolean", default: false },
      "ours-env": { type: "string", multiple: true, default: [] },
      "ours-header": { type: "string", multiple: true, default: [] },
      out: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(fs.readFileSync(path.join(__dirname, "README.md"), "utf8").split("## Flags")[1]?.split("\n## ")[0] ?? "see bench/README.md\n");
    process.exit(0);
  }
  const env = process.env;
  const quick = values.quick || env.BENCH_QUICK === "1";
  /** A number from the flag, else the BENCH_* variable, else the quick or full default. */
  const num = (/** @type {string | undefined} */ flag, /** @type {string} */ envName, /** @type {number} */ full, /** @type {number} */ quickDefault) => {
    const raw = flag ?? env[envName];
    if (raw === undefined || raw === "") return quick ? quickDefault : full;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${envName.toLowerCase()} must be a number >= 0 (got ${raw})`);
    return n;
  };
  const list = (/** @type {string | undefined} */ raw, /** @type {string[]} */ fallback) => (raw ? raw.split(",").map((s) => s.trim()).filter(Boolean) : fallback);
  const kv = (/** @type {string[]} */ items, /** @type {RegExp} */ sep) =>
    Object.fromEntries(
      items.map((item) => {
        const i = item.search(sep);
        if (i <= 0) throw new Error(`expected NAME=VALUE or "Name: value", got ${item}`);
        return [item.slice(0, i).trim(), item.slice(i + 1).trim()];
      }),
    );
  const o = {
    quick,
    rounds: num(values.rounds, "BENCH_ROUNDS", 3, 1),
    duration: num(values.duration, "BENCH_DURATION", 8, 2),
    warmup: num(values.warmup, "BENCH_WARMUP", 2, 1),
    connections: num(values.connections, "BENCH_CONNECTIONS", 64, 64),
    rate: values.rate ?? env.BENCH_RATE ? num(values.rate, "BENCH_RATE", 0, 0) : 0,
    rateStreams: num(values["rate-streams"], "BENCH_RATE_STREAMS", 10, 10),
    seqRequests: num(values["seq-requests"], "BENCH_SEQ_REQUESTS", 1000, 200),
    seqWarmup: num(values["seq-warmup"], "BENCH_SEQ_WARMUP", 200, 50),
    systems: list(values.systems ?? env.BENCH_SYSTEMS, ["floor", "apollo", "ours"]),
    slow: values.slow && !values["no-slow"] && env.BENCH_SLOW !== "0",
    slowClients: num(values["slow-clients"], "BENCH_SLOW_CLIENTS", 2000, 2000),
    slowDelay: num(values["slow-delay"], "BENCH_SLOW_DELAY", 300, 300),
    slowDuration: num(values["slow-duration"], "BENCH_SLOW_DURATION", 10, 3),
    slowWarmup: num(values["slow-warmup"], "BENCH_SLOW_WARMUP", 4, 3),
    slowSystems: list(values["slow-systems"] ?? env.BENCH_SLOW_SYSTEMS, ["floor", "ours"]),
    onlySlow: values["only-slow"],
    floorReset: values["floor-reset"],
    build: values.build && !values["no-build"] && env.BENCH_BUILD !== "0",
    keepLogs: values["keep-logs"],
    cpuProf: values["cpu-prof"],
    oursEnv: kv(values["ours-env"], /=/),
    oursHeaders: kv(values["ours-header"], /:/),
    out: values.out ?? path.join(RESULTS, "latest.json"),
  };
  if (o.rounds < 1 || !Number.isInteger(o.rounds)) throw new Error("--rounds must be a whole number >= 1");
  if (o.duration <= 0) throw new Error("--duration must be > 0");
  if (o.warmup < 1) throw new Error("--warmup must be >= 1 (the fixed-rate streams start staggered over the first second)");
  for (const s of [...o.systems, ...o.slowSystems]) {
    if (!["floor", "apollo", "ours"].includes(s)) throw new Error(`unknown system ${s} (floor, apollo, ours)`);
  }
  return o;
}

/** @typedef {ReturnType<typeof parseOptions>} Options */

const log = (/** @type {string} */ line) => process.stdout.write(`${line}\n`);

function build() {
  log("building our server: tsc -p tsconfig.build.json (npm run build) ...");
  const tsc = require.resolve("typescript/bin/tsc", { paths: [ROOT] });
  const r = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: ROOT, stdio: "inherit" });
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
  const bodyBytes = Number(/"bodyBytes":(\d+)/.exec(fs.readFileSync(up.logFile, "utf8"))?.[1] ?? NaN);
  return { ...up, bodyBytes };
}

/** @param {import("./lib/proc").Started} up */
async function upstreamStats(up) {
  const msg = /** @type {any} */ (await ask(up.child, "stats"));
  return msg.stats;
}

/**
 * Starts `sys` fresh, runs `body` against it, and always stops it. Reads peak RSS (VmHWM) before the stop, and counts
 * warn/error lines in its log afterwards (the log is deleted unless it has some or --keep-logs).
 * @template T
 * @param {SystemDef} sys @param {string} upstreamUrl @param {boolean} slow @param {string} tag @param {Options} o
 * @param {(s: import("./lib/proc").Started) => Promise<T>} body
 */
async function withSystem(sys, upstreamUrl, slow, tag, o, body) {
  const canaryMs = cpuCanaryMs();
  canaries.push({ tag: `${sys.key}-${tag}`, ms: canaryMs });
  const logFile = path.join(LOGS, `${sys.key}-${tag}.log`);
  // --cpu-prof: profile the saturation runs (phase A) only; the profile is written when the system exits.
  const profile = o.cpuProf && tag.startsWith("A-") ? ["--cpu-prof", `--cpu-prof-dir=${path.join(PROFILES, `${sys.key}-${tag}`)}`] : [];
  const started = await startChild({
    name: sys.label,
    args: [...profile, ...sys.args],
    env: sys.env(upstreamUrl, slow),
    logFile,
    readyPattern: sys.ready,
    ipc: sys.ipc,
    cwd: ROOT,
  });
  const sampler = rssSampler(started.pid);
  let result;
  let peakRss = 0;
  try {
    result = await body(started);
  } finally {
    const sampled = sampler.stop();
    try {
      peakRss = Math.max(sampled, memory(started.pid).hwm);
    } catch {
      peakRss = sampled;
    }
    await started.stop();
  }
  const text = fs.readFileSync(logFile, "utf8");
  const logWarnings = (text.match(/"level":"warn"/g) ?? []).length;
  const logErrors = (text.match(/"level":"(error|fatal)"/g) ?? []).length;
  if (!o.keepLogs && logWarnings + logErrors === 0) fs.rmSync(logFile, { force: true });
  return { result: /** @type {T} */ (result), peakRss, logWarnings, logErrors, logFile, canaryMs };
}

/**
 * One load run against a started system, with CPU snapshots of the system, the fake upstream and this process at the
 * window's edges, and the upstream's in-flight counters for the window.
 * @param {import("./lib/proc").Started} sys @param {import("./lib/proc").Started} up
 * @param {Omit<import("./lib/load").DriveOptions, "url" | "onWindowStart" | "onWindowEnd">} opts
 */
async function measuredDrive(sys, up, opts) {
  /** @type {{ sys: number, up: number, self: number, machine: number }} */
  let cpu0 = { sys: 0, up: 0, self: 0, machine: 0 };
  let cpu1 = cpu0;
  /** @type {any} */
  let upstream = null;
  /** @type {ReturnType<typeof allProcessesCpu>} */
  let procs0 = new Map();
  /** @type {ReturnType<typeof allProcessesCpu>} */
  let procs1 = new Map();
  const tcp0 = tcpCounters();
  const result = await drive({
    ...opts,
    url: sys.url,
    onWindowStart: () => {
      cpu0 = { sys: cpuMicros(sys.pid), up: cpuMicros(up.pid), self: selfCpuMicros(), machine: machineBusyMicros() };
      procs0 = allProcessesCpu();
      return ask(up.child, "reset");
    },
    onWindowEnd: async () => {
      cpu1 = { sys: cpuMicros(sys.pid), up: cpuMicros(up.pid), self: selfCpuMicros(), machine: machineBusyMicros() };
      procs1 = allProcessesCpu();
      upstream = await upstreamStats(up);
    },
  });
  const tcp1 = tcpCounters();
  const per = (/** @type {number} */ us) => (result.completed > 0 ? us / result.completed : NaN);
  return {
    ...result,
    cpuUsPerRequest: per(cpu1.sys - cpu0.sys),
    cpuUtilisation: (cpu1.sys - cpu0.sys) / 1e6 / result.windowSec,
    upstreamCpuUsPerRequest: per(cpu1.up - cpu0.up),
    upstreamConnectionsPerRequest: upstream && result.completed > 0 ? upstream.connections / result.completed : NaN,
    loadGeneratorCpuUsPerRequest: per(cpu1.self - cpu0.self),
    // Cores the rest of the machine kept busy during the window: everything /proc/stat counts as busy minus the
    // system, the fake upstream and this process (kernel networking not charged to a process shows up here too).
    otherCores: (cpu1.machine - cpu0.machine - (cpu1.sys - cpu0.sys) - (cpu1.up - cpu0.up) - (cpu1.self - cpu0.self)) / 1e6 / result.windowSec,
    machineCores: (cpu1.machine - cpu0.machine) / 1e6 / result.windowSec,
    topOthers: topOthers(procs0, procs1, new Set([sys.pid, up.pid, process.pid]), result.windowSec),
    upstream,
    // Whole run, warm-up included, every process on the machine: accept-queue overflows and SYN retransmissions.
    tcp: {
      listenOverflows: tcp1.listenOverflows - tcp0.listenOverflows,
      listenDrops: tcp1.listenDrops - tcp0.listenDrops,
      synRetrans: tcp1.synRetrans - tcp0.synRetrans,
      timeWaitAtStart: tcp0.timeWait,
      timeWaitAtEnd: tcp1.timeWait,
    },
  };
}

/** Errors of one run: connection errors/timeouts, non-2xx, GraphQL errors, wrong answers, bad upstream requests, log errors. */
function errorCount(/** @type {any} */ r) {
  return (
    (r.errors ?? 0) + (r.non2xx ?? 0) + (r.graphqlErrors ?? 0) + (r.wrong ?? 0) + (r.upstream?.bad ?? 0) + (r.logErrors ?? 0)
  );
}

async function main() {
  const o = parseOptions();
  const defs = systemDefs(o.oursEnv, o.oursHeaders, o.floorReset);
  const machine = machineInfo();
  const startedAt = new Date();
  fs.mkdirSync(LOGS, { recursive: true });
  for (const f of fs.readdirSync(LOGS)) fs.rmSync(path.join(LOGS, f), { force: true });
  if (o.cpuProf) fs.rmSync(PROFILES, { recursive: true, force: true });

  const fdLimit = openFilesLimit();
  const fdNeed = o.slowClients * 2 + 1024;
  /** @type {string[]} */
  const warnings = [];
  if (o.slow && fdLimit < fdNeed) {
    warnings.push(`open-files limit ${fdLimit} is below the ~${fdNeed} the slow scenario needs (raise it: ulimit -n ${fdNeed})`);
  }

  log(`AOPay GraphQL layer benchmark${o.quick ? " (quick)" : ""} — ${startedAt.toISOString()}`);
  log(`machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.kernel}, Node ${machine.node}, autocannon ${machine.autocannon}, load ${machine.loadAverageAtStart.join(" ")}`);
  for (const w of warnings) log(`WARNING: ${w}`);
  if (o.build) build();
  if (!fs.existsSync(path.join(ROOT, "dist/index.js"))) throw new Error("dist/index.js is missing: run npm run build (or drop --no-build)");

  const bodies = Object.fromEntries(Object.values(defs).map((d) => [d.key, bodyFactory(d.document)]));
  /** @type {any} */
  const report = {
    startedAt: startedAt.toISOString(),
    machine,
    clockTicksPerSecond: CLK_TCK,
    options: { ...o, out: path.relative(ROOT, o.out) },
    oursEnv: { ...oursEnv("<fake upstream>"), ...o.oursEnv },
    oursSlowEnv: OURS_SLOW_ENV,
    warnings,
    phaseA: [],
    phaseB: [],
    slow: null,
  };

  // ---- phases A and B ------------------------------------------------------------------------------------------------
  if (!o.onlySlow) {
    const up = await startUpstream(0);
    report.upstreamBodyBytes = up.bodyBytes;
    log(`fake upstream ${up.url}, 0 ms delay, ${up.bodyBytes}-byte answer`);
    await mainPhases(o, defs, bodies, up, report);
    await up.stop();
  }

  // ---- slow upstream ------------------------------------------------------------------------------------------------------
  if (o.slow && o.slowSystems.length > 0) {
    const slowUp = await startUpstream(o.slowDelay);
    log(`\nslow upstream — ${o.slowDelay} ms delay, ${o.slowClients} concurrent clients, ${o.slowWarmup} s warm-up + ${o.slowDuration} s measured`);
    /** @type {Record<string, any>} */
    const slow = {};
    for (const key of o.slowSystems) {
      const sys = defs[key];
      const run = await withSystem(sys, slowUp.url, true, "slow", o, (s) =>
        measuredDrive(s, slowUp, {
          bodies: bodies[key],
          headers: sys.headers,
          connections: o.slowClients,
          warmupSec: o.slowWarmup,
          measureSec: o.slowDuration,
          timeoutSec: 10,
          rampSec: Math.min(2, o.slowWarmup - 1),
          // Requests started at the end of the window need the upstream's delay and more to finish.
          tailSec: 2 + o.slowDelay / 1000,
        }),
      );
      /** @type {any} */
      const r = { ...run.result, peakRss: run.peakRss, logWarnings: run.logWarnings, logErrors: run.logErrors };
      r.p99AddedUs = r.latencyUs.p99 - o.slowDelay * 1000;
      r.littleInFlight = (r.completed / r.windowSec) * (r.latencyUs.mean / 1e6);
      slow[key] = r;
      log(
        `  ${key.padEnd(6)} ${fmt(r.okPerSec, 0)} ok/s  in flight at upstream avg ${fmt(r.upstream?.avgInFlight, 0)} peak ${r.upstream?.peakInFlight}` +
          `  p99 ${fmt(r.latencyUs.p99 / 1000, 1)} ms (+${fmt(r.p99AddedUs / 1000, 1)} ms)  rss ${mb(r.peakRss)} MB  errors ${errorCount(r)}` +
          `  (other load ${fmt(r.otherCores, 2)} cores)`,
      );
    }
    report.slow = { delayMs: o.slowDelay, clients: o.slowClients, systems: slow };
    await slowUp.stop();
  }

  // ---- summary ------------------------------------------------------------------------------------------------------------
  report.cpuCanary = canaries;
  report.summary = summarise(report, o);
  report.targets = evaluateTargets(report);
  report.flags = flagsOf(report, o);
  report.finishedAt = new Date().toISOString();
  report.elapsedSec = Math.round((Date.now() - startedAt.getTime()) / 1000);
  printReport(report, log);

  fs.mkdirSync(path.dirname(o.out), { recursive: true });
  fs.writeFileSync(o.out, `${JSON.stringify(report, null, 2)}\n`);
  const stamped = path.join(RESULTS, `bench-${startedAt.toISOString().replace(/[:.]/g, "-")}.json`);
  if (path.resolve(o.out) === path.join(RESULTS, "latest.json")) fs.copyFileSync(o.out, stamped);
  log(`\nJSON: ${path.relative(process.cwd(), o.out)}`);
}

/**
 * Phases A (saturation) and B (fixed rate, unloaded), each interleaving the systems over the rounds.
 * @param {Options} o @param {Record<string, SystemDef>} defs @param {Record<string, ReturnType<typeof bodyFactory>>} bodies
 * @param {import("./lib/proc").Started} up @param {any} report
 */
async function mainPhases(o, defs, bodies, up, report) {
  // The fake upstream and this process (autocannon, the checks) start cold: the first measured system would pay for
  // their JIT warm-up. A throwaway floor is driven first, unmeasured.
  const primeSec = Math.max(2, o.warmup + 1);
  log(`\npriming the fake upstream and the load generator: ${primeSec} s against a throwaway floor, not measured`);
  await withSystem(defs.floor, up.url, false, "prime", o, (s) =>
    drive({ url: s.url, bodies: bodies.floor, connections: o.connections, warmupSec: primeSec - 1, measureSec: 1 }),
  );
  log(`\nphase A — saturation: ${o.connections} connections, ${o.warmup} s warm-up + ${o.duration} s measured, ${o.rounds} round(s)`);
  for (let round = 1; round <= o.rounds; round++) {
    /** @type {Record<string, any>} */
    const row = {};
    for (const key of o.systems) {
      const sys = defs[key];
      const run = await withSystem(sys, up.url, false, `A-r${round}`, o, (s) =>
        measuredDrive(s, up, { bodies: bodies[key], headers: sys.headers, connections: o.connections, warmupSec: o.warmup, measureSec: o.duration }),
      );
      row[key] = { ...run.result, peakRss: run.peakRss, logWarnings: run.logWarnings, logErrors: run.logErrors, canaryMs: run.canaryMs };
      const r = row[key];
      log(
        `  round ${round} ${key.padEnd(6)} ${fmt(r.okPerSec, 0).padStart(7)} req/s  cpu ${fmt(r.cpuUsPerRequest, 0)} µs/req` +
          `  p50 ${fmt(r.latencyUs.p50 / 1000, 2)} ms p99 ${fmt(r.latencyUs.p99 / 1000, 2)} ms  rss ${mb(r.peakRss)} MB  errors ${errorCount(r)}` +
          `  (other load ${fmt(r.otherCores, 2)} cores, canary ${fmt(r.canaryMs, 1)} ms)`,
      );
    }
    report.phaseA.push(row);
  }

  // ---- phase B: fixed rate + unloaded latency ---------------------------------------------------------------------------
  const medianRps = Object.fromEntries(o.systems.map((k) => [k, median(report.phaseA.map((/** @type {any} */ row) => row[k].okPerSec))]));
  const slowest = o.systems.reduce((a, b) => (medianRps[a] <= medianRps[b] ? a : b));
  const rate = o.rate > 0 ? Math.round(o.rate) : Math.max(1, Math.floor(medianRps[slowest] / 2));
  report.fixedRate = { rate, basis: o.rate > 0 ? "--rate" : `half of ${slowest}'s median saturation (${fmt(medianRps[slowest], 0)} req/s)` };
  log(`\nphase B — fixed rate ${rate} req/s (${report.fixedRate.basis}), ${Math.min(o.rateStreams, rate)} staggered streams, ${o.duration} s; then ${o.seqRequests} sequential requests after ${o.seqWarmup} warm-up`);
  for (let round = 1; round <= o.rounds; round++) {
    /** @type {Record<string, any>} */
    const row = {};
    for (const key of o.systems) {
      const sys = defs[key];
      const run = await withSystem(sys, up.url, false, `B-r${round}`, o, async (s) => {
        const fixed = await measuredDrive(s, up, {
          bodies: bodies[key],
          headers: sys.headers,
          connections: 1,
          rate,
          rateStreams: o.rateStreams,
          warmupSec: o.warmup,
          measureSec: o.duration,
        });
        const seqStart = { t: performance.now(), busy: machineBusyMicros(), ours: cpuMicros(s.pid) + cpuMicros(up.pid) + selfCpuMicros() };
        const seq = await sequential({ url: s.url, bodies: bodies[key], headers: sys.headers, warmup: o.seqWarmup, requests: o.seqRequests });
        const seqEnd = { t: performance.now(), busy: machineBusyMicros(), ours: cpuMicros(s.pid) + cpuMicros(up.pid) + selfCpuMicros() };
        // Cores kept busy by processes outside the bench while the sequential client ran (warm-up included).
        const otherCores = (seqEnd.busy - seqStart.busy - (seqEnd.ours - seqStart.ours)) / 1e3 / (seqEnd.t - seqStart.t);
        return { fixed, seq: { ...seq, otherCores } };
      });
      row[key] = { ...run.result, peakRss: run.peakRss, logWarnings: run.logWarnings, logErrors: run.logErrors };
      const r = row[key];
      log(
        `  round ${round} ${key.padEnd(6)} at ${fmt(r.fixed.okPerSec, 0)} req/s p50 ${fmt(r.fixed.latencyUs.p50, 0)} µs p99 ${fmt(r.fixed.latencyUs.p99, 0)} µs` +
          `  unloaded median ${fmt(r.seq.latencyUs.p50, 0)} µs  errors ${errorCount(r.fixed) + errorCount(r.seq) + r.logErrors}` +
          `  (other load ${fmt(r.fixed.otherCores, 2)} cores)`,
      );
    }
    report.phaseB.push(row);
  }
}

/** Per-system medians over rounds, per-round ratios and their medians. */
function summarise(/** @type {any} */ report, /** @type {Options} */ o) {
  /** @type {Record<string, any>} */
  const systems = {};
  for (const key of report.phaseA.length > 0 ? o.systems : []) {
    /** @type {any[]} */
    const A = report.phaseA.map((/** @type {any} */ row) => row[key]);
    /** @type {any[]} */
    const B = report.phaseB.map((/** @type {any} */ row) => row[key]);
    systems[key] = {
      rps: median(A.map((r) => r.okPerSec)),
      rpsPerRound: A.map((r) => r.okPerSec),
      rpsSpread: spread(A.map((r) => r.okPerSec)),
      cpuUsPerRequest: median(A.map((r) => r.cpuUsPerRequest)),
      cpuUtilisation: median(A.map((r) => r.cpuUtilisation)),
      saturationP99Us: median(A.map((r) => r.latencyUs.p99)),
      fixedRateAchieved: median(B.map((r) => r.fixed.okPerSec)),
      fixedP50Us: median(B.map((r) => r.fixed.latencyUs.p50)),
      fixedP99Us: median(B.map((r) => r.fixed.latencyUs.p99)),
      unloadedMedianUs: median(B.map((r) => r.seq.latencyUs.p50)),
      unloadedP99Us: median(B.map((r) => r.seq.latencyUs.p99)),
      peakRss: Math.max(...A.map((r) => r.peakRss), ...B.map((r) => r.peakRss)),
      errors: {
        connectionErrors: sum([...A, ...B.map((r) => r.fixed)].map((r) => r.errors)) + sum(B.map((r) => r.seq.errors)),
        timeouts: sum([...A, ...B.map((r) => r.fixed)].map((r) => r.timeouts)),
        non2xx: sum([...A, ...B.map((r) => r.fixed), ...B.map((r) => r.seq)].map((r) => r.non2xx)),
        graphqlErrors: sum([...A, ...B.map((r) => r.fixed), ...B.map((r) => r.seq)].map((r) => r.graphqlErrors)),
        wrongAnswers: sum([...A, ...B.map((r) => r.fixed), ...B.map((r) => r.seq)].map((r) => r.wrong)),
        badUpstreamRequests: sum([...A, ...B.map((r) => r.fixed)].map((r) => r.upstream?.bad ?? 0)),
        serverLogErrors: sum([...A, ...B].map((r) => r.logErrors)),
      },
      upstreamCpuUsPerRequest: median(A.map((r) => r.upstreamCpuUsPerRequest)),
      upstreamConnectionsPerRequest: median(A.map((r) => r.upstreamConnectionsPerRequest)),
      timeWaitAtStart: median(A.map((r) => r.tcp.timeWaitAtStart)),
      machineCores: median(A.map((r) => r.machineCores)),
      otherCores: median(A.map((r) => r.otherCores)),
      loadGeneratorCpuUsPerRequest: median(A.map((r) => r.loadGeneratorCpuUsPerRequest)),
    };
    systems[key].errors.total = Object.values(systems[key].errors).reduce((a, b) => a + b, 0);
  }
  /** @type {Record<string, any>} */
  const ratios = {};
  const perRound = (/** @type {any[]} */ rows, /** @type {(row: any) => number} */ f) => rows.map(f);
  if (systems.ours && systems.floor) {
    const v = perRound(report.phaseA, (row) => row.ours.okPerSec / row.floor.okPerSec);
    ratios.oursOverFloorRps = { median: median(v), perRound: v };
    const c = perRound(report.phaseA, (row) => row.ours.cpuUsPerRequest / row.floor.cpuUsPerRequest);
    ratios.oursOverFloorCpuPerRequest = { median: median(c), perRound: c };
    const a = perRound(report.phaseB, (row) => row.ours.seq.latencyUs.p50 - row.floor.seq.latencyUs.p50);
    ratios.oursAddedUnloadedUs = { median: median(a), perRound: a };
  }
  if (systems.ours && systems.apollo) {
    const v = perRound(report.phaseA, (row) => row.ours.okPerSec / row.apollo.okPerSec);
    ratios.oursOverApolloRps = { median: median(v), perRound: v };
    const c = perRound(report.phaseA, (row) => row.ours.cpuUsPerRequest / row.apollo.cpuUsPerRequest);
    ratios.oursOverApolloCpuPerRequest = { median: median(c), perRound: c };
  }
  if (systems.apollo && systems.floor) {
    const v = perRound(report.phaseA, (row) => row.apollo.okPerSec / row.floor.okPerSec);
    ratios.apolloOverFloorRps = { median: median(v), perRound: v };
    const a = perRound(report.phaseB, (row) => row.apollo.seq.latencyUs.p50 - row.floor.seq.latencyUs.p50);
    ratios.apolloAddedUnloadedUs = { median: median(a), perRound: a };
  }
  return { systems, ratios };
}

function flagsOf(/** @type {any} */ report, /** @type {Options} */ o) {
  /** @type {string[]} */
  const flags = [];
  for (const [key, s] of Object.entries(report.summary.systems)) {
    if (s.errors.total > 0) {
      const parts = Object.entries(s.errors).filter(([k, v]) => k !== "total" && v > 0).map(([k, v]) => `${k} ${v}`);
      flags.push(`ERRORS: ${key} had ${s.errors.total} (${parts.join(", ")})`);
    }
  }
  if (report.slow) {
    for (const [key, r] of Object.entries(report.slow.systems)) {
      const n = errorCount(r);
      if (n > 0) flags.push(`ERRORS: ${key} had ${n} in the slow-upstream scenario (timeouts ${r.timeouts}, connection errors ${r.errors - r.timeouts}, non-2xx ${r.non2xx}, wrong ${r.wrong + r.graphqlErrors}, log errors ${r.logErrors})`);
    }
  }
  /** @type {string[]} */
  const busy = [];
  report.phaseA.forEach((/** @type {any} */ row, /** @type {number} */ i) => {
    for (const [k, r] of Object.entries(row)) if (r.otherCores > BUSY_CORES) busy.push(`A round ${i + 1} ${k} ${fmt(r.otherCores, 2)}`);
  });
  report.phaseB.forEach((/** @type {any} */ row, /** @type {number} */ i) => {
    for (const [k, r] of Object.entries(row)) {
      if (r.fixed.otherCores > BUSY_CORES) busy.push(`B round ${i + 1} ${k} fixed rate ${fmt(r.fixed.otherCores, 2)}`);
      if (r.seq.otherCores > BUSY_CORES) busy.push(`B round ${i + 1} ${k} unloaded ${fmt(r.seq.otherCores, 2)}`);
    }
  });
  for (const [k, r] of Object.entries(report.slow?.systems ?? {})) if (r.otherCores > BUSY_CORES) busy.push(`slow ${k} ${fmt(r.otherCores, 2)}`);
  if (busy.length > 0) {
    /** @type {Map<string, number>} */
    const culprits = new Map();
    const note = (/** @type {any} */ r) => {
      if (r.otherCores > BUSY_CORES) for (const t of r.topOthers ?? []) if (t.cores > 0.05) culprits.set(t.command, Math.max(culprits.get(t.command) ?? 0, t.cores));
    };
    for (const row of report.phaseA) for (const r of Object.values(row)) note(r);
    for (const row of report.phaseB) for (const r of Object.values(row)) note(/** @type {any} */ (r).fixed);
    for (const r of Object.values(report.slow?.systems ?? {})) note(r);
    const named = [...culprits].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([c, v]) => `${c} (up to ${fmt(v, 2)})`);
    flags.push(
      `BUSY MACHINE: other processes kept more than ${BUSY_CORES} core busy during measured windows (${busy.join("; ")} cores): those numbers are perturbed` +
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
  const floor = report.summary.systems.floor;
  if (floor && o.rounds >= 2 && floor.rpsSpread > 0.1) {
    flags.push(`NOISY FLOOR: the floor's requests/s varied by ${fmt(floor.rpsSpread * 100, 1)} % across rounds (> 10 %): the machine was not steady`);
  }
  if (o.cpuProf) flags.push(`PROFILED: phase A ran under --cpu-prof (profiles in ${path.relative(ROOT, PROFILES)}/); its numbers are perturbed by the profiler`);
  if (o.rounds < 3) flags.push(`only ${o.rounds} round(s): fewer than the 3 needed for robust medians`);
  for (const w of report.warnings) flags.push(`WARNING: ${w}`);
  return flags;
}

/** @type {{ tag: string, ms: number }[]} CPU canary timings taken before each system start. */
const canaries = [];

/** CPU time of this process (the load generator), user + system, in µs. */
function selfCpuMicros() {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** Cores used by processes outside the bench during a window above which the window is reported as perturbed. */
const BUSY_CORES = 0.25;
const sum = (/** @type {number[]} */ v) => v.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
const fmt = (/** @type {number | undefined} */ n, /** @type {number} */ digits) =>
  n === undefined || !Number.isFinite(n) ? "—" : n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const mb = (/** @type {number} */ bytes) => fmt(bytes / 1e6, 0);

// ---- cleanup: no child outlives the bench ------------------------------------------------------------------------------
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
