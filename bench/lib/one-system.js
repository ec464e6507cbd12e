// @ts-check
"use strict";
/**
 * What the one-system scripts share (`bench/callgrind.js`, `bench/syscalls.js`, `bench/alloc.js`, `bench/retained.js`,
 * `bench/refusal-micro.js`): their common flags, the system and mutation they pick, the build of our server, the fake
 * upstream they start, and the node arguments of a system with another build's script (`--dist`).
 */
const fs = require("node:fs");
const path = require("node:path");
const { spawnSync } = require("node:child_process");
const { startChild, ask } = require("./proc");
const { systemDefs, ROOT } = require("./systems");
const { MUTATIONS, bodyFactory } = require("./mutations");

/**
 * parseArgs options: --mutation aeps|cibil, --system <key>, --requests, --warmup, --no-build, --redis-url, and as
 * `npm run bench`'s (repeatable): --ours-header "Name: value", an extra request header for our server (such as
 * `Origin: http://localhost:5173` for a browser's request), and --ours-env NAME=VALUE, extra environment for it
 * (such as CORS_ORIGINS=http://localhost:5173: the bench runs it in production, where no loopback origin is allowed).
 * @param {{ requests: string, warmup: string }} defaults
 */
const oneSystemOptions = (defaults) => ({
  mutation: { type: /** @type {const} */ ("string"), default: "aeps" },
  system: { type: /** @type {const} */ ("string"), default: "ours" },
  requests: { type: /** @type {const} */ ("string"), default: defaults.requests },
  warmup: { type: /** @type {const} */ ("string"), default: defaults.warmup },
  "no-build": { type: /** @type {const} */ ("boolean"), default: false },
  "redis-url": { type: /** @type {const} */ ("string"), default: process.env.REDIS_URL ?? "redis://127.0.0.1:6379" },
  "ours-header": { type: /** @type {const} */ ("string"), multiple: /** @type {const} */ (true), default: [] },
  "ours-env": { type: /** @type {const} */ ("string"), multiple: /** @type {const} */ (true), default: [] },
});

/**
 * `"Name: value"` (sep ":") or `NAME=VALUE` (sep "=") items as an object (throws on an item without a name).
 * @param {string[]} items @param {":" | "="} sep
 */
function pairs(items, sep) {
  return Object.fromEntries(
    items.map((item) => {
      const i = item.indexOf(sep);
      if (i <= 0) throw new Error(`expected ${sep === ":" ? '"Name: value"' : "NAME=VALUE"}, got ${item}`);
      return [item.slice(0, i).trim(), item.slice(i + 1).trim()];
    }),
  );
}

/**
 * The mutation, system and counts those options name (throws on an unknown one).
 * @param {{ mutation: string, system: string, requests: string, warmup: string, "redis-url": string, "ours-header"?: string[], "ours-env"?: string[] }} values
 */
function pickSystem(values) {
  const m = MUTATIONS[/** @type {"aeps" | "cibil"} */ (values.mutation)];
  if (!m) throw new Error("--mutation must be aeps or cibil");
  const oursHeaders = pairs(values["ours-header"] ?? [], ":");
  const oursEnv = pairs(values["ours-env"] ?? [], "=");
  const defs = systemDefs({ oursEnv, oursHeaders, floorReset: false, redisUrl: values["redis-url"] });
  const sys = defs[values.system];
  if (!sys) throw new Error(`--system must be one of ${Object.keys(defs).join(", ")}`);
  const requests = Number(values.requests);
  const warmup = Number(values.warmup);
  if (!(requests >= 1) || !(warmup >= 0)) throw new Error("--requests must be >= 1 and --warmup >= 0");
  return { m, sys, requests, warmup };
}

/**
 * Builds dist/ (as `npm run build`) when the system is ours, unless --no-build.
 * @param {import("./systems").SystemDef} sys @param {boolean} noBuild @param {(line: string) => void} log
 */
function buildOurs(sys, noBuild, log) {
  if (noBuild || !sys.ours) return;
  log("building our server: tsc -p tsconfig.build.json ...");
  // As npm run build: under the checkout's build lock (scripts/build-lock.js), not beside a start or npm run dev.
  const r = spawnSync(process.execPath, [path.join(ROOT, "scripts/build-if-stale.js"), "--only", "server", "--force"], {
    cwd: ROOT,
    stdio: "inherit",
  });
  if (r.status !== 0) throw new Error("build failed");
}

/** Starts the fake upstream (no delay), its log in `outDir`, with its counters reset. @param {string} outDir */
async function startUpstream(outDir) {
  const up = await startChild({
    name: "fake upstream",
    args: [path.join(__dirname, "..", "fake-upstream.js")],
    env: {},
    logFile: path.join(outDir, "upstream.log"),
    readyPattern: /"msg":"fake upstream ready","url":"([^"]+)"/,
    ipc: true,
  });
  await ask(up.child, "reset");
  return up;
}

/**
 * What lib/sequential.js needs to send the system's requests: its URL, the mutation, fresh bodies in the system's
 * flavour, its headers.
 * @param {{ url: string }} started @param {import("./mutations").Mutation} m @param {import("./systems").SystemDef} sys
 */
const sequentialTraffic = (started, m, sys) => ({
  url: started.url,
  mutation: m,
  bodies: bodyFactory(m, sys.flavour),
  headers: sys.headers,
  perRequestHeaders: sys.perRequestHeaders,
});

/**
 * The node arguments that start `sys`, with `flags` after its own (a later V8 flag wins) and, given `dist` (a tool's
 * `--dist dir`), another build of our server (dir/index.js) in place of its script: lib/systems.js ends every
 * system's arguments with its script.
 * @param {import("./systems").SystemDef} sys @param {string | undefined} dist @param {string[]} [flags]
 */
function systemArgs(sys, dist, flags = []) {
  if (dist !== undefined && !sys.ours) throw new Error("--dist is for our server's systems");
  const script = dist === undefined ? sys.args[sys.args.length - 1] : path.resolve(dist, "index.js");
  return [...sys.args.slice(0, -1), ...flags, script];
}

/**
 * What bench/alloc.js and bench/retained.js start alike: the system their options pick (`flags` after its own node
 * flags, `--dist`'s build in place of dist/'s), built unless --no-build or --dist, beside the fake upstream, both
 * logging under bench/results/<tool>/<system>-<mutation>/ (`out`); `envOf(out)` adds to the system's environment.
 * @param {Parameters<typeof pickSystem>[0] & { dist?: string, "no-build"?: boolean }} values
 * @param {string} tool @param {string[]} flags @param {(line: string) => void} log
 * @param {(out: string) => Record<string, string>} [envOf]
 */
async function startOne(values, tool, flags, log, envOf = () => ({})) {
  const { m, sys, requests, warmup } = pickSystem(values);
  const args = systemArgs(sys, values.dist, flags);
  const out = path.join(__dirname, "..", "results", tool, `${sys.key}-${m.key}`);
  fs.mkdirSync(out, { recursive: true });
  buildOurs(sys, values["no-build"] === true || values.dist !== undefined, log);
  const up = await startUpstream(out);
  const runTag = `${tool}-${Date.now().toString(36)}`;
  const logFile = path.join(out, `${sys.key}-${m.key}.log`);
  const s = await startChild({
    name: sys.label,
    args,
    env: { ...sys.env({ upstreamUrl: up.url, runTag }), ...envOf(out) },
    logFile,
    readyPattern: sys.ready,
    ipc: false,
    cwd: ROOT,
  });
  return { m, sys, requests, warmup, out, up, s, logFile, traffic: sequentialTraffic(s, m, sys) };
}

module.exports = { oneSystemOptions, pickSystem, buildOurs, startUpstream, sequentialTraffic, systemArgs, startOne };
