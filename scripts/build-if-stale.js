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

/** Why `stamp` is stale (its build missing, or an input newer), or undefined when it is up to date. */
function stale(/** @type {string} */ stamp, /** @type {string[]} */ inputs, /** @type {string[]} */ skip = []) {
  if (!fs.existsSync(stamp)) return "not built yet";
  const built = fs.statSync(stamp).mtimeMs;
  return inputs.some((input) => newest(input, skip) > built) ? "sources changed since the last build" : undefined;
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

/**
 * What a build is, why it runs and how long it takes: announced in one line on stderr before the builds start, since
 * a first `npm start` on a fresh clone otherwise sits silent for half a minute (tsc ~10 s alone and Vite ~20-25 s, at
 * once, on the 2-core CI machine) and looks hung. Nothing stale: no line.
 * @typedef {{ what: string, into: string, why: string, seconds: number, build: () => Promise<void> }} Step
 */

/** @returns {Step | undefined} */
function serverStep(/** @type {boolean} */ force) {
  const stamp = path.join(ROOT, "dist/.built");
  const inputs = ["src", "tsconfig.json", "tsconfig.build.json"].map((p) => path.join(ROOT, p)).concat(LOCKFILE);
  const why = force ? "--force" : stale(stamp, inputs);
  if (why === undefined) return undefined;
  const what = "server (dist/)";
  const build = async () => {
    await run(what, [path.join(ROOT, "node_modules/typescript/bin/tsc"), "-p", path.join(ROOT, "tsconfig.build.json")]);
    fs.writeFileSync(stamp, `${new Date().toISOString()}\n`);
  };
  return { what, into: "the server into dist/", why, seconds: 10, build };
}

/** @returns {Step | undefined} */
function explorerStep(/** @type {boolean} */ force) {
  const dir = path.join(ROOT, "explorer");
  const dist = path.join(dir, "dist");
  const stamp = path.join(dist, ".built");
  const why = force ? "--force" : stale(stamp, [dir, LOCKFILE], [dist]);
  if (why === undefined) return undefined;
  const vite = path.join(ROOT, "node_modules/vite/bin/vite.js");
  if (!fs.existsSync(vite) || !fs.existsSync(path.join(ROOT, "node_modules/graphiql"))) {
    process.stdout.write(
      "build: the explorer (/graphiql) is not built: Vite and GraphiQL are dev dependencies, not installed here\n",
    );
    return undefined;
  }
  const what = "explorer (explorer/dist/, GraphiQL)";
  const build = async () => {
    await run(what, [vite, "build", dir, "--logLevel", "warn"]);
    fs.writeFileSync(stamp, `${new Date().toISOString()}\n`);
  };
  return { what, into: "the explorer (GraphiQL) into explorer/dist/", why, seconds: 25, build };
}

async function main() {
  const argv = process.argv.slice(2);
  const force = argv.includes("--force");
  const onlyAt = argv.indexOf("--only");
  const only = onlyAt >= 0 ? argv[onlyAt + 1] : undefined;
  if (only !== undefined && only !== "server" && only !== "explorer")
    throw new Error(`--only server|explorer (got ${only})`);
  const steps = [
    only !== "explorer" ? serverStep(force) : undefined,
    only !== "server" ? explorerStep(force) : undefined,
  ].filter((step) => step !== undefined);
  if (steps.length === 0) return;
  // Both at once share the 2 cores, so their times add up: cold, tsc took 33 s beside Vite's 17.5 s (~10 s alone).
  const seconds = steps.reduce((sum, step) => sum + step.seconds, 0);
  const later = force ? "" : "; later starts skip it until a source changes";
  const what = steps.map((step) => `${step.into} (${step.why})`).join(" and ");
  process.stderr.write(`build: compiling ${what}, about ${seconds} s${later}\n`);
  await Promise.all(steps.map((step) => step.build()));
}

main().catch((/** @type {Error} */ error) => {
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
});
