// @ts-check
"use strict";
/**
 * Command-line flags of `npm run bench` (bench/README.md "Flags"). Numeric and list flags also read an environment
 * variable named after them (`--rounds` -> BENCH_ROUNDS, `--overload-clients` -> BENCH_OVERLOAD_CLIENTS); a flag wins.
 */
const fs = require("node:fs");
const path = require("node:path");
const { parseArgs } = require("node:util");
const { SYSTEM_KEYS, BASE_KEY, BASE_REDIS_KEY } = require("./systems");

const SCENARIOS = ["main", "overload", "scaling"];
const PHASES = ["A", "B", "C", "D"];
/**
 * Phase D's default warm-up at the paired rate, in requests per system (`--paired-warmup`'s default is the seconds they
 * take at `--paired-rate`). Measured with V8's --trace-opt and the GC trace (300, 400 and 600 req/s each;
 * docs/performance-runs.md, "Round f1adec3"): every system's hot path tiered up to TurboFan in a burst 6,600-8,600
 * requests into the paired drive, and ours ran its first mark-compact since start-up 12,900-15,200 requests in (CIBIL;
 * AEPS 3,200-3,800, and its next about 20,000 later, in the window as in steady state). Counts, not times: the burst
 * came twice as late at 300 req/s as at 600, the mark-compact 12,900 requests in at 400 and at 600. 20,000 puts both
 * before the window with 4,800 requests to spare: 50 s at 400 req/s each, 100 s at 200.
 */
const PAIRED_WARMUP_REQUESTS = 20_000;

/** @param {string[]} [argv] */
function parseOptions(argv) {
  const str = { type: /** @type {const} */ ("string") };
  const bool = { type: /** @type {const} */ ("boolean"), default: false };
  const names = [
    "rounds",
    "mutations",
    "systems",
    "connections",
    "requests",
    "warmup-requests",
    "rate",
    "rate-streams",
    "duration",
    "warmup",
    "seq-requests",
    "seq-warmup",
    "seq-block",
    "seq-rewarm",
    "phases",
    "paired-rate",
    "paired-duration",
    "paired-warmup",
    "scenarios",
    "overload-clients",
    "overload-delay",
    "overload-connections",
    "overload-duration",
    "overload-warmup",
    "overload-ramp",
    "overload-timeout",
    "overload-mutation",
    "overload-retry-after",
    "scaling-workers",
    "scaling-mutation",
    "redis-url",
    "base",
    "out",
  ];
  const { values } = parseArgs({
    args: argv,
    options: {
      ...Object.fromEntries(names.map((n) => [n, str])),
      quick: bool,
      "no-build": bool,
      "floor-reset": bool,
      "keep-logs": bool,
      "cpu-prof": bool,
      "gc-trace": bool,
      "no-gc-trace": bool,
      "ours-env": { type: "string", multiple: true, default: [] },
      "ours-header": { type: "string", multiple: true, default: [] },
      "ours-node-flag": { type: "string", multiple: true, default: [] },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(
      fs.readFileSync(path.join(__dirname, "../README.md"), "utf8").split("## Flags")[1]?.split("\n## ")[0] ??
        "see bench/README.md\n",
    );
    process.exit(0);
  }
  const env = process.env;
  const v = /** @type {Record<string, string | undefined>} */ (/** @type {unknown} */ (values));
  const raw = (/** @type {string} */ name) => v[name] ?? env[`BENCH_${name.toUpperCase().replace(/-/g, "_")}`];
  const quick = values.quick || env.BENCH_QUICK === "1";
  /** A number from the flag, else the BENCH_* variable, else the quick or full default. */
  const num = (/** @type {string} */ name, /** @type {number} */ full, /** @type {number} */ quickDefault) => {
    const r = raw(name);
    if (r === undefined || r === "") return quick ? quickDefault : full;
    const n = Number(r);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number >= 0 (got ${r})`);
    return n;
  };
  const list = (/** @type {string} */ name, /** @type {string[]} */ fallback) => {
    const r = raw(name);
    return r
      ? r
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean)
      : fallback;
  };
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
    rounds: num("rounds", 3, 1),
    mutations: /** @type {("cibil" | "aeps")[]} */ (list("mutations", ["aeps", "cibil"])),
    systems: list("systems", SYSTEM_KEYS),
    connections: num("connections", 64, 64),
    requests: num("requests", 10_000, 1_000),
    warmupRequests: num("warmup-requests", 3_000, 500),
    rate: num("rate", 0, 0),
    rateStreams: num("rate-streams", 10, 10),
    duration: num("duration", 5, 2),
    warmup: num("warmup", 2, 1),
    seqRequests: num("seq-requests", 1000, 200),
    seqWarmup: num("seq-warmup", 200, 50),
    // Phase C sends each system `seqBlock` requests in a row, the first `seqRewarm` untimed: a process that sat idle
    // while the others ran needs about 10 requests to be as fast again (docs/performance-runs.md, "Round a6d9cff").
    seqBlock: num("seq-block", 50, 25),
    seqRewarm: num("seq-rewarm", 10, 10),
    /** Which phases of the main scenario run (lib/phases.js): A saturation, B fixed rate, C unloaded latency, D paired CPU. */
    phases: list("phases", PHASES).map((p) => p.toUpperCase()),
    // Phase D: every system at this rate at once; 0 (the default) is 1,200 requests/s shared by the systems (171 each
    // for 7, 300 for 4). At 300 each, 7 systems (2,100/s at 650-850 µs of CPU each) left the heavier ones 4-14 % short
    // of it in 4 of 10 windows; 4 systems at 300 each kept it, at 700 each they did not.
    pairedRate: num("paired-rate", 0, 0),
    // 60 s windows (18,000 requests per system at 300 req/s): in 10 s windows whether one of ours' mark-compacts (one
    // or two a minute) fell inside decided part of the ratio (docs/performance-runs.md, "Pretenuring after a burst").
    pairedDuration: num("paired-duration", 60, 3),
    // Phase D's drive at the paired rate before its window, in seconds: 0 (the default) is the time the paired rate
    // takes to send PAIRED_WARMUP_REQUESTS (above) to each system; --quick: 1 s.
    pairedWarmup: num("paired-warmup", 0, 1),
    scenarios: list("scenarios", SCENARIOS),
    overloadClients: list("overload-clients", ["400", "1500"]).map(Number),
    overloadDelay: num("overload-delay", 300, 300),
    overloadConnections: num("overload-connections", 128, 128),
    // Long enough for several major GCs (README: a 6 s window read the peak RSS before the old generation had grown).
    overloadDuration: num("overload-duration", 30, 3),
    overloadWarmup: num("overload-warmup", 3, 3),
    overloadRamp: num("overload-ramp", 2, 2),
    overloadTimeout: num("overload-timeout", 10, 10),
    overloadMutation: /** @type {"cibil" | "aeps"} */ (raw("overload-mutation") ?? "aeps"),
    /** Whether the overload clients wait a 503's Retry-After before sending again: ignore (default), honour, or both (each client count twice). */
    overloadRetryAfter: /** @type {"ignore" | "honour" | "both"} */ (raw("overload-retry-after") ?? "ignore"),
    scalingWorkers: list("scaling-workers", ["1", "2"]).map(Number),
    scalingMutation: /** @type {"cibil" | "aeps"} */ (raw("scaling-mutation") ?? "aeps"),
    redisUrl: raw("redis-url") ?? env.REDIS_URL ?? "redis://127.0.0.1:6379",
    build: !values["no-build"] && env.BENCH_BUILD !== "0",
    floorReset: values["floor-reset"],
    keepLogs: values["keep-logs"],
    cpuProf: values["cpu-prof"],
    /**
     * Phase D: every system under V8's --trace-gc-nvp, and its GC per request in the window (lib/gc-trace.js). On
     * unless --no-gc-trace (or BENCH_GC_TRACE=0): the trace costs a few tens of thousands of instructions per GC, about
     * 0.01 % of a request's CPU in phase D (bench/README.md "Flags" has the measurement); `--gc-trace` says it anyway.
     */
    gcTrace: !values["no-gc-trace"] && env.BENCH_GC_TRACE !== "0",
    oursEnv: kv(values["ours-env"], /=/),
    oursHeaders: kv(values["ours-header"], /:/),
    oursNodeFlags: values["ours-node-flag"],
    /** A built copy of another version of this repository (dist/ and node_modules/), run as the system `ours-base`. */
    base: raw("base") ? path.resolve(/** @type {string} */ (raw("base"))) : null,
    out: raw("out") ?? path.join(__dirname, "../results/latest.json"),
  };
  if (o.rounds < 1 || !Number.isInteger(o.rounds)) throw new Error("--rounds must be a whole number >= 1");
  for (const p of o.phases) if (!PHASES.includes(p)) throw new Error(`unknown phase ${p} (${PHASES.join(", ")})`);
  if (o.phases.includes("B") && !o.phases.includes("A") && o.rate === 0)
    throw new Error("phase B without phase A needs --rate (its default is half the slowest phase-A rate)");
  if (values["gc-trace"] && values["no-gc-trace"]) throw new Error("--gc-trace and --no-gc-trace: give one");
  if (o.pairedDuration < 1) throw new Error("--paired-duration must be >= 1");
  if (o.pairedRate === 0) o.pairedRate = Math.round(1200 / o.systems.length);
  if (o.pairedWarmup === 0) o.pairedWarmup = Math.ceil(PAIRED_WARMUP_REQUESTS / o.pairedRate);
  if (o.pairedWarmup < 1)
    throw new Error("--paired-warmup must be >= 1 (the fixed-rate streams start staggered over the first second)");
  if (o.seqBlock < 1 || !Number.isInteger(o.seqBlock)) throw new Error("--seq-block must be a whole number >= 1");
  if (o.requests < 1 || o.warmupRequests < 0) throw new Error("--requests must be >= 1 and --warmup-requests >= 0");
  if (o.warmup < 1)
    throw new Error("--warmup must be >= 1 (the fixed-rate streams start staggered over the first second)");
  if (!["ignore", "honour", "both"].includes(o.overloadRetryAfter))
    throw new Error("--overload-retry-after must be ignore, honour or both");
  if (o.overloadRamp >= o.overloadWarmup) throw new Error("--overload-warmup must outlast --overload-ramp");
  for (const m of [...o.mutations, o.overloadMutation, o.scalingMutation])
    if (!["cibil", "aeps"].includes(m)) throw new Error(`unknown mutation ${m} (cibil, aeps)`);
  for (const s of o.systems)
    if (!SYSTEM_KEYS.includes(s) && s !== BASE_KEY && s !== BASE_REDIS_KEY)
      throw new Error(`unknown system ${s} (${[...SYSTEM_KEYS, BASE_KEY, BASE_REDIS_KEY].join(", ")})`);
  if ((o.systems.includes(BASE_KEY) || o.systems.includes(BASE_REDIS_KEY)) !== (o.base !== null))
    throw new Error(`--base DIR and the system ${BASE_KEY} or ${BASE_REDIS_KEY} go together: give both or neither`);
  if (o.base !== null && !fs.existsSync(path.join(o.base, "dist/index.js")))
    throw new Error(`--base ${o.base}: no dist/index.js there (copy, npm ci and build it first: bench/README.md)`);
  for (const s of o.scenarios)
    if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario ${s} (${SCENARIOS.join(", ")})`);
  if (o.overloadClients.some((n) => !Number.isInteger(n) || n < 1))
    throw new Error("--overload-clients must be whole numbers >= 1");
  if (o.scalingWorkers.some((n) => !Number.isInteger(n) || n < 1))
    throw new Error("--scaling-workers must be whole numbers >= 1");
  return o;
}

/** @typedef {ReturnType<typeof parseOptions>} Options */

module.exports = { parseOptions, SCENARIOS };
