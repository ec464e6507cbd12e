// @ts-check
"use strict";
/**
 * `npm run dev`: the server with the simulator, restarted on every change under src/, with readable logs.
 *
 *   1. scripts/build-if-stale.js   dist/ and the explorer, when stale (as `npm start` does)
 *   2. tsc --watch                 recompiles src/ into dist/ on every save (only the files that changed)
 *   3. node --watch dist/index.js  restarted by Node itself whenever dist/ changes, with LOG_FORMAT=pretty
 *
 * Why not tsx, ts-node-dev or nodemon: type-graphql reads the decorators' type metadata (emitDecoratorMetadata),
 * which esbuild-based runners (tsx) do not emit; tsc does, and Node's own --watch does the restarting. This script
 * only puts the two in order: the server starts after tsc's first pass, so it does not start twice.
 * Ctrl-C stops both. Any setting from your environment (PORT, AOPAY_BASE_URL ...) is passed through.
 */
const { spawn } = require("node:child_process");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");

// First, before what it needs is loaded (build-if-stale.js checks it too, when it is run on its own).
require("./check-node").requireNode("server");
const { heldAlsoBy, lock } = require("./build-lock");
const { buildIfStale } = require("./build-if-stale");

// No arguments: settings come from the environment (PORT=4000 npm run dev); `-- --port 4000` started on the usual port.
require("./cli").parseCli(
  "usage: npm run dev   (the server with the simulator, rebuilt and restarted on every change under src/; settings\n" +
    "       from the environment, e.g. PORT=4000 npm run dev: docs/configuration.md)\n",
);

/** @type {import("node:child_process").ChildProcess | undefined} */
let tsc;
/** @type {import("node:child_process").ChildProcess | undefined} */
let server;

async function main() {
  // The build lock for as long as this runs (scripts/build-lock.js): its tsc --watch rewrites dist/ on every save, so
  // a start beside it (npm start, npm run simulator, npm run build) waits until it stops, saying so, instead of
  // running or rewriting a dist/ half written. Step 1 runs here, under that lock.
  await lock(ROOT, "npm run dev");
  await buildIfStale({ locked: true });
  watch();
}

function watch() {
  tsc = spawn(
    process.execPath,
    [
      path.join(ROOT, "node_modules/typescript/bin/tsc"),
      "-p",
      path.join(ROOT, "tsconfig.build.json"),
      "--watch",
      "--preserveWatchOutput",
    ],
    { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] },
  );
  // Named in the lock: dev killed with SIGKILL leaves it rewriting dist/ on every save (scripts/build-lock.js).
  heldAlsoBy(tsc.pid);
  let buffered = "";
  tsc.stdout?.on("data", (/** @type {Buffer} */ chunk) => {
    buffered += chunk.toString();
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines) {
      // tsc's own lines ("File change detected", errors with their file and line), marked so they stand out.
      if (line.trim() !== "") process.stdout.write(`[tsc] ${line}\n`);
      // "Found 0 errors. Watching for file changes." ends every pass; the first one starts the server.
      if (!server && /Found \d+ errors?\. Watching for file changes\./.test(line)) startServer();
    }
  });
  tsc.on("exit", (code) => stop(code ?? 0));
}

function startServer() {
  server = spawn(
    process.execPath,
    ["--watch-path", path.join(ROOT, "dist"), "--watch-preserve-output", path.join(ROOT, "dist/index.js")],
    { cwd: ROOT, stdio: "inherit", env: { LOG_FORMAT: "pretty", ...process.env } },
  );
  server.on("exit", (code) => stop(code ?? 0));
}

let stopping = false;
function stop(/** @type {number} */ code) {
  if (stopping) return;
  stopping = true;
  // Ctrl-C while waiting for the lock or building: nothing of ours runs yet (the build's tsc has the signal too).
  if (tsc === undefined) process.exit(code);
  tsc.kill("SIGTERM");
  if (server && server.exitCode === null) server.kill("SIGTERM");
  process.exitCode = code;
}
process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));
main().catch((/** @type {Error} */ error) => {
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
});
