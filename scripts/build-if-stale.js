// @ts-check
"use strict";
/**
 * `npm start`, `npm run dev` and `npm run simulator` run this first (prestart / scripts/dev.js / presimulator, which
 * builds the server alone): it compiles what changed since the last build, and nothing else, so that a start with
 * nothing to build takes no compile time (tsc alone took ~10 s per start on the 2-core CI machine).
 *
 *   dist/               tsc -p tsconfig.build.json, when a file under src/ (or a tsconfig, or the lockfile) is newer
 *                       than dist/.built
 *   explorer/dist/      the self-hosted explorer (GraphiQL, src/http/explorer.ts), built with Vite, when explorer/ or
 *                       the lockfile is newer than explorer/dist/.built; skipped with a note when Vite is not
 *                       installed (`npm ci --omit=dev`: the explorer is for development only)
 *
 * `--only server|explorer` builds one of them; `--force` builds whether stale or not.
 */
const { spawn } = require("node:child_process");
// A Node too old for the server stops here, with what to do, before anything is built (scripts/check-node.js).
require("./check-node").requireNode("server");
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
const LOCKFILE = path.join(ROOT, "package-lock.json");

/** Newest modification time of `entry` (a file, or a folder and everything under it, folders included: a deleted file changes its folder's time). */
function newest(/** @type {string} */ entry, /** @type {string[]} */ skip = []) {
  if (!fs.existsSync(entry)) return 0;
  const stat = fs.statSync(entry);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let time = stat.mtimeMs;
  for (const name of fs.readdirSync(entry)) {
    const full = path.join(entry, name);
    if (!skip.includes(full)) time = Math.max(time, newest(full, skip));
  }
  return time;
}

function stale(/** @type {string} */ stamp, /** @type {string[]} */ inputs, /** @type {string[]} */ skip = []) {
  if (!fs.existsSync(stamp)) return true;
  const built = fs.statSync(stamp).mtimeMs;
  return inputs.some((input) => newest(input, skip) > built);
}

/** Runs `node <args>`; both builds run at once (tsc and Vite each leave a core mostly idle). */
function run(/** @type {string} */ what, /** @type {string[]} */ args) {
  const began = Date.now();
  return new Promise((resolve, reject) => {
    spawn(process.execPath, args, { cwd: ROOT, stdio: "inherit" }).on("exit", (code) => {
      if (code !== 0) return reject(new Error(`build: ${what} failed (exit ${code})`));
      process.stdout.write(`build: ${what} built in ${((Date.now() - began) / 1000).toFixed(1)} s\n`);
      resolve(undefined);
    });
  });
}

async function buildServer(/** @type {boolean} */ force) {
  const stamp = path.join(ROOT, "dist/.built");
  const inputs = ["src", "tsconfig.json", "tsconfig.build.json"].map((p) => path.join(ROOT, p)).concat(LOCKFILE);
  if (!force && !stale(stamp, inputs)) return;
  await run("server (dist/)", [
    path.join(ROOT, "node_modules/typescript/bin/tsc"),
    "-p",
    path.join(ROOT, "tsconfig.build.json"),
  ]);
  fs.writeFileSync(stamp, `${new Date().toISOString()}\n`);
}

async function buildExplorer(/** @type {boolean} */ force) {
  const dir = path.join(ROOT, "explorer");
  const dist = path.join(dir, "dist");
  const stamp = path.join(dist, ".built");
  if (!force && !stale(stamp, [dir, LOCKFILE], [dist])) return;
  const vite = path.join(ROOT, "node_modules/vite/bin/vite.js");
  if (!fs.existsSync(vite) || !fs.existsSync(path.join(ROOT, "node_modules/graphiql"))) {
    process.stdout.write(
      "build: the explorer (/graphiql) is not built: Vite and GraphiQL are dev dependencies, not installed here\n",
    );
    return;
  }
  await run("explorer (explorer/dist/, GraphiQL)", [vite, "build", dir, "--logLevel", "warn"]);
  fs.writeFileSync(stamp, `${new Date().toISOString()}\n`);
}

async function main() {
  const argv = process.argv.slice(2);
  const force = argv.includes("--force");
  const onlyAt = argv.indexOf("--only");
  const only = onlyAt >= 0 ? argv[onlyAt + 1] : undefined;
  if (only !== undefined && only !== "server" && only !== "explorer")
    throw new Error(`--only server|explorer (got ${only})`);
  await Promise.all([
    only !== "explorer" ? buildServer(force) : undefined,
    only !== "server" ? buildExplorer(force) : undefined,
  ]);
}

main().catch((/** @type {Error} */ error) => {
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
});
