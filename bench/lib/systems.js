// @ts-check
"use strict";
/**
 * The systems the bench measures, and OUR SERVER'S ENVIRONMENT (production build, every feature on).
 *
 *   floor        node:http + an undici Pool: the least a pass-through can do (systems/floor.js)
 *   apollo       minimal Apollo Server 5, resolvers calling undici.request: the usual build (systems/apollo-minimal.js)
 *   rest         Apollo Server 5 + RESTDataSource: the usual "GraphQL over REST" build (systems/apollo-rest.js)
 *   ours         our server, dist/index.js, every feature on, in-memory throttle store, no Idempotency-Key
 *   ours-redis   the same with REDIS_URL: the Redis throttle store (a fresh key prefix per run, deleted after it)
 *   ours-idem    the same as ours, every request with its own Idempotency-Key
 *
 * Every reference system gets the same advantages as ours: one kept-alive connection pool to the upstream, reused
 * after a GET with a body too (undici closes the socket after such a request unless it says `reset: false`), the same
 * upstream answers and the same client load.
 */
const fs = require("node:fs");
const path = require("node:path");
const { createHash } = require("node:crypto");
const { REGISTRATION_ID, COMPANY_CODE } = require("./aopay-wire");

const ROOT = path.resolve(__dirname, "../..");
const SYSTEMS_DIR = path.resolve(__dirname, "../systems");

/** The API key every bench request to our server carries (client authentication is required in production). */
const BENCH_API_KEY = "aopk_bench_0123456789abcdefghijklmnopqrstuvwxyz";

// =====================================================================================================================
// OUR SERVER'S ENVIRONMENT: production build, every feature on, with limits far above anything the bench sends (every
// request has a fresh destination, so per-destination limits cannot trigger either). Extra settings can be given
// without editing: --ours-env NAME=VALUE and --ours-header "Name: value". The server refuses unknown AOPAY_*, OTP_*,
// GRAPHQL_*, AUTH_*, BREAKER_* and METRICS_* names, so only add names the server knows.
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
    // Seals stored idempotency results (required in production with REDIS_URL, which the Redis systems set).
    STORE_ENCRYPTION_KEYS: `bench:${Buffer.alloc(32, 0x42).toString("base64")}`,
    API_KEYS: `bench:${createHash("sha256").update(BENCH_API_KEY).digest("hex")}`,
    // OTP throttling on, with budgets no run can reach (10,000,000 is the largest the server accepts).
    OTP_IP_MAX: "10000000",
    OTP_CLIENT_MAX: "10000000",
    OTP_GLOBAL_MAX: "10000000",
    OTP_PREFIX_MAX: "10000000",
    // Metrics on, on their own ephemeral loopback port (not scraped during the run; the histograms and counters are
    // paid per request anyway).
    METRICS_ENABLED: "true",
    METRICS_PORT: "0",
  };
}
/** Headers our server needs on every request. */
const OURS_HEADERS = { "x-api-key": BENCH_API_KEY };
// =====================================================================================================================

const READY_OURS = /"url":"(http:\/\/[^"]+\/graphql)"[^\n]*"msg":"GraphQL server ready"/;
const READY_BENCH = /"msg":"GraphQL server ready","url":"(http:\/\/[^"]+\/graphql)"/;

/**
 * @typedef {object} SystemDef
 * @property {string} key
 * @property {string} label
 * @property {string[]} args                    node arguments (the script)
 * @property {(ctx: { upstreamUrl: string, runTag: string }) => Record<string, string>} env
 * @property {"union" | "plain"} flavour        which document (lib/mutations.js)
 * @property {Record<string, string>} headers
 * @property {((id: number) => Record<string, string>) | undefined} perRequestHeaders
 * @property {RegExp} ready
 * @property {boolean} ipc
 * @property {boolean} ours                     our server (the overload and scaling scenarios start it with extra env)
 * @property {((runTag: string) => string) | undefined} redisPrefix  the key prefix of a run, deleted after it
 */

const SYSTEM_KEYS = ["floor", "apollo", "rest", "ours", "ours-redis", "ours-idem"];
/**
 * With `--base DIR`: another version of this repository, built, as a further system in the same interleaved rounds
 * (`--systems ...,ours-base`), so that a change is measured against what it changes on the same host at the same
 * moments. It runs as that version shipped: its own `npm start` flags, the same environment and headers as `ours`;
 * `ours-base-redis` the same with the Redis store, as `ours-redis` (a key prefix of its own per run).
 */
const BASE_KEY = "ours-base";
const BASE_REDIS_KEY = "ours-base-redis";

/**
 * Node's flags, the same for every system: ours ships with them (`npm start`, whose script this reads, so the bench
 * cannot drift from what ships; the Dockerfile's CMD is held to the same flags by test/unit/container.test.ts), and
 * they are a setting of the runtime, not of the application, so every reference system gets them too. Today
 * `--max-semi-space-size=32`: a young generation of at most 2 x 32 MB instead of the 2 x 64 MB Node 24 grows to here
 * (docs/performance-runs.md, "The young generation's size": 16 MB before, which promoted refused requests under
 * overload). When 16 was chosen, measured interleaved in one run (4 rounds, 64 connections): minimal Apollo's CPU per
 * request with and without it 159/163, 138/151, 139/146, 150/151 µs (AEPS) and 167/173, 156/176, 161/173, 156/177 µs
 * (CIBIL); ours 141/164, 144/152, 168/173, 161/157, 161/173 and 160/166, 151/180, 173/197, 149/186, 176/192 µs (5
 * rounds). Giving it to ours alone would flatter ours. And `--heap-growing-percent=50`: the old generation grows to
 * 1.5x what survived the last major GC instead of V8's factor (up to 4x here), which bounds peak RSS in a sustained
 * overload and costs every system more major GCs at saturation (docs/performance-runs.md, "Sustained overload"). And
 * `--no-allocation-site-pretenuring`: after phase D's warm-up at saturation V8 kept allocating ours' request objects
 * straight into the old generation, two mark-compacts a minute at 300 req/s (docs/performance-runs.md, "Pretenuring
 * after a burst"); every system takes it, as every system takes the others.
 */
const NODE_FLAGS = startFlags(require("../../package.json").scripts.start);

/** The node flags of the `start` script (`exec node <flags> dist/index.js`). @param {string} script */
function startFlags(script) {
  const m = /^exec node((?: --[^\s]+)*) dist\/index\.js$/.exec(script);
  if (!m) throw new Error(`package.json "start" is not "exec node [flags] dist/index.js": ${script}`);
  return m[1].trim().split(" ").filter(Boolean);
}

/**
 * @param {{ oursEnv: Record<string, string>, oursHeaders: Record<string, string>, oursNodeFlags?: string[], base?: string | null, floorReset: boolean, redisUrl: string }} o
 * @returns {Record<string, SystemDef>}
 */
function systemDefs(o) {
  const oursNodeFlags = o.oursNodeFlags ?? [];
  /** @type {(key: string, label: string, script: string) => SystemDef} */
  const reference = (key, label, script) => ({
    key,
    label,
    args: [...NODE_FLAGS, path.join(SYSTEMS_DIR, script)],
    env: ({ upstreamUrl }) => ({
      UPSTREAM_URL: upstreamUrl,
      UPSTREAM_CONNECTIONS: "128", // our server's AOPAY_CONNECTIONS default
      NODE_ENV: "production",
      ...(key === "floor" && o.floorReset ? { FLOOR_RESET: "1" } : {}),
    }),
    flavour: key === "floor" ? "union" : "plain",
    headers: {},
    perRequestHeaders: undefined,
    ready: READY_BENCH,
    ipc: true,
    ours: false,
    redisPrefix: undefined,
  });
  /** @type {(key: string, label: string, extra: Partial<SystemDef>, extraEnv?: (runTag: string) => Record<string, string>) => SystemDef} */
  const ours = (key, label, extra, extraEnv) => ({
    key,
    label,
    // As it ships: the V8 flag of `npm start` and the Dockerfile's CMD (NODE_FLAGS above), then --ours-node-flag's.
    args: [...NODE_FLAGS, ...oursNodeFlags, path.join(ROOT, "dist/index.js")],
    env: ({ upstreamUrl, runTag }) => ({
      ...oursEnv(upstreamUrl),
      ...(extraEnv ? extraEnv(runTag) : {}),
      ...o.oursEnv,
    }),
    flavour: "union",
    headers: { ...OURS_HEADERS, ...o.oursHeaders },
    perRequestHeaders: undefined,
    ready: READY_OURS,
    ipc: false,
    ours: true,
    redisPrefix: undefined,
    ...extra,
  });
  const redisPrefix = (/** @type {string} */ runTag) => `bench-${process.pid}-${runTag}:`;
  const redisEnv = (/** @type {string} */ runTag) => ({ REDIS_URL: o.redisUrl, REDIS_KEY_PREFIX: redisPrefix(runTag) });
  const base = o.base ?? null;
  /** How the other version starts: its own `npm start` flags, then --ours-node-flag's. @param {string} dir */
  const baseArgs = (dir) => [
    ...startFlags(JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")).scripts.start),
    ...oursNodeFlags,
    path.join(dir, "dist/index.js"),
  ];
  return {
    floor: reference("floor", "floor", "floor.js"),
    apollo: reference("apollo", "apollo", "apollo-minimal.js"),
    rest: reference("rest", "apollo+rest", "apollo-rest.js"),
    ours: ours("ours", "ours", {}),
    "ours-redis": ours("ours-redis", "ours+redis", { redisPrefix }, redisEnv),
    "ours-idem": ours("ours-idem", "ours+idem", {
      // A key per request (1 to 255 visible ASCII characters): the first use of each, never a replay.
      perRequestHeaders: (id) => ({ "idempotency-key": `bench-${process.pid}-${id}` }),
    }),
    ...(base === null
      ? {}
      : {
          [BASE_KEY]: ours(BASE_KEY, `ours@${path.basename(base)}`, { args: baseArgs(base) }),
          [BASE_REDIS_KEY]: ours(
            BASE_REDIS_KEY,
            `ours@${path.basename(base)}+redis`,
            { args: baseArgs(base), redisPrefix },
            redisEnv,
          ),
        }),
  };
}

module.exports = { systemDefs, oursEnv, OURS_HEADERS, SYSTEM_KEYS, BASE_KEY, BASE_REDIS_KEY, ROOT, NODE_FLAGS };
