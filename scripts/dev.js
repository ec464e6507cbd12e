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
const { spawn, execFileSync } = require("node:child_process");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");

// Here too, not only in build-if-stale.js: its exit would surface as execFileSync's stack trace under the message.
require("./check-node").requireNode("server");

execFileSync(process.execPath, [path.join(__dirname, "build-if-stale.js")], { cwd: ROOT, stdio: "inherit" });

const tsc = spawn(
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

/** @type {import("node:child_process").ChildProcess | undefined} */
let server;
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
  tsc.kill("SIGTERM");
  if (server && server.exitCode === null) server.kill("SIGTERM");
  process.exitCode = code;
}
process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));
tsc.on("exit", (code) => stop(code ?? 0));
