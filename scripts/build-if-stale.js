// @ts-check
"use strict";
/**
 * `npm start`, `npm run dev` and `npm run simulator` run this first (prestart / scripts/dev.js / presimulator, which
 * builds the server alone): it compiles what changed since the last build, and nothing else, so that a start with
 * nothing to build takes no compile time (tsc alone took ~10 s per start on the 2-core CI machine).
 *
 *   dist/               tsc -p tsconfig.build.json, when a file under src/ (or a tsconfig, or the lockfile) differs
 *                       from the build in dist/.built; TypeScript not installed (`npm ci --omit=dev`): a stale or
 *                       missing dist/ stops the start, saying so, since nothing here can compile it
 *   explorer/dist/      the self-hosted explorer (GraphiQL, src/http/explorer.ts), built with Vite, when explorer/ or
 *                       the lockfile differs from the build in explorer/dist/.built; skipped with a note when Vite is
 *                       not installed (`npm ci --omit=dev`: the explorer is for development only)
 *
 * "Differs" is by content: a stamp holds a hash of the inputs' names and contents as they were when its build began.
 * Times alone missed a source whose time is older than the last build (a checkout, `cp -p` or `tar` of older files)
 * and one saved during a build; a `touch` that changes nothing compiles nothing. Hashing both builds' inputs (src/
 * 2 MB, the lockfile 0.5 MB) took 4-17 ms here (7 runs).
 *
 * One build of a folder at a time: a second start (`npm start` beside `npm run simulator`) waits for the first, then
 * finds nothing stale; so does one beside `npm run build` (this script, forced) and `npm run dev` (the lock held while
 * it runs): scripts/build-lock.js.
 *
 * `--only server|explorer` builds one of them; `--force` builds whether stale or not.
 */
const { spawn } = require("node:child_process");
const { createHash } = require("node:crypto");
// A Node too old for the server stops here, with what to do, before anything is built (scripts/check-node.js).
require("./check-node").requireNode("server");
const fs = require("node:fs");
const path = require("node:path");
const { heldAlsoBy, lock } = require("./build-lock");
const { parseCli } = require("./cli");

const ROOT = path.resolve(__dirname, "..");
const LOCKFILE = path.join(ROOT, "package-lock.json");

/** Every file under `entry` (or `entry` itself), sorted, except those under `skip`. */
function files(/** @type {string} */ entry, /** @type {string[]} */ skip) {
  if (!fs.existsSync(entry) || skip.includes(entry)) return [];
  if (!fs.statSync(entry).isDirectory()) return [entry];
  return fs
    .readdirSync(entry)
    .sort()
    .flatMap((name) => files(path.join(entry, name), skip));
}

/** What a build is built from: a hash of each input file's path (a file added or removed counts) and content. */
function fingerprint(/** @type {string[]} */ inputs, /** @type {string[]} */ skip = []) {
  const hash = createHash("sha256");
  for (const file of inputs.flatMap((input) => files(input, skip)))
    hash
      .update(`${path.relative(ROOT, file)}\0`)
      .update(fs.readFileSync(file))
      .update("\0");
  return `inputs ${hash.digest("hex")}`;
}

/** Why the build stamped `stamp` is stale (missing, or built from other inputs), or undefined when it is not. */
function stale(/** @type {string} */ stamp, /** @type {string} */ inputs) {
  if (!fs.existsSync(stamp)) return "not built yet";
  const built = fs.readFileSync(stamp, "utf8").split("\n");
  return built.includes(inputs) ? undefined : "sources changed since the last build";
}

/** The stamp: when the build began and what it was built from (a source saved during it makes the next start build). */
function writeStamp(/** @type {string} */ stamp, /** @type {string} */ inputs, /** @type {number} */ began) {
  fs.writeFileSync(stamp, `${new Date(began).toISOString()}\n${inputs}\n`);
}

/** Runs `node <args>`; both builds run at once (tsc and Vite each leave a core mostly idle). */
function run(/** @type {string} */ what, /** @type {string[]} */ args) {
  const began = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: "inherit" });
    // Named in the lock: killed with SIGKILL, this script leaves it writing (scripts/build-lock.js).
    heldAlsoBy(child.pid);
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`build: ${what} failed (exit ${code})`));
      process.stdout.write(`build: ${what} built in ${((Date.now() - began) / 1000).toFixed(1)} s\n`);
      resolve(undefined);
    });
  });
}

/**
 * What a build is, why it runs and how long it takes: announced in one line on stderr before the builds start, since
 * a first `npm start` on a fresh clone otherwise sits silent for seconds and looks hung. Nothing stale: no line.
 * The figures, measured on the 2-core machine shared with other work (load 4-6): tsc 9 s alone; both at once (the
 * first `npm start` of a fresh clone) 9-15 s, tsc 9-15 s beside Vite 6-12 s; at a busier moment, tsc 33 s beside
 * Vite 17.5 s. Hence "about 15 s, longer on a busy machine".
 * @typedef {{ what: string, into: string, why: string, seconds: number, build: () => Promise<void> }} Step
 */

/** @returns {Step | undefined} */
function serverStep(/** @type {boolean} */ force) {
  const stamp = path.join(ROOT, "dist/.built");
  const inputs = fingerprint(
    ["src", "tsconfig.json", "tsconfig.build.json"].map((p) => path.join(ROOT, p)).concat(LOCKFILE),
  );
  const why = force ? "--force" : stale(stamp, inputs);
  if (why === undefined) return undefined;
  const tsc = path.join(ROOT, "node_modules/typescript/bin/tsc");
  if (!fs.existsSync(tsc))
    throw new Error(
      `build: the server in dist/ is not up to date (${why}) and TypeScript, a dev dependency, is not installed ` +
        "here (`npm ci --omit=dev`): run `npm ci` to compile it, or bring a dist/ built from these sources",
    );
  const what = "server (dist/)";
  const build = async () => {
    const began = Date.now();
    // A build killed half way leaves no stamp: the next start builds again (a forced one's inputs match the old stamp).
    fs.rmSync(stamp, { force: true });
    await run(what, [tsc, "-p", path.join(ROOT, "tsconfig.build.json")]);
    writeStamp(stamp, inputs, began);
  };
  return { what, into: "the server into dist/", why, seconds: 10, build };
}

/** @returns {Step | undefined} */
function explorerStep(/** @type {boolean} */ force) {
  const dir = path.join(ROOT, "explorer");
  const dist = path.join(dir, "dist");
  const stamp = path.join(dist, ".built");
  const inputs = fingerprint([dir, LOCKFILE], [dist]);
  const why = force ? "--force" : stale(stamp, inputs);
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
    const began = Date.now();
    fs.rmSync(stamp, { force: true });
    await run(what, [vite, "build", dir, "--logLevel", "warn"]);
    writeStamp(stamp, inputs, began);
  };
  return { what, into: "the explorer (GraphiQL) into explorer/dist/", why, seconds: 10, build };
}

const USAGE =
  "usage: node scripts/build-if-stale.js [--only server|explorer] [--force]   (npm start, npm run build, npm run\n" +
  "       explorer:build: builds dist/ and explorer/dist/ when their sources changed; --force: whether or not)\n";

/**
 * Builds what is stale (or, with `force`, all) of `only` (both by default). Holds the build lock while it does
 * (scripts/build-lock.js), unless the caller already holds it (`locked`: scripts/dev.js, for as long as it runs).
 * @param {{ only?: "server" | "explorer", force?: boolean, locked?: boolean }} options
 */
async function buildIfStale({ only, force = false, locked = false }) {
  if (!locked) await lock(ROOT);
  const steps = [
    only !== "explorer" ? serverStep(force) : undefined,
    only !== "server" ? explorerStep(force) : undefined,
  ].filter((step) => step !== undefined);
  if (steps.length === 0) return;
  // Both at once mostly overlap (each leaves a core partly idle): the longer one plus about 5 s (measured above).
  const seconds = Math.max(...steps.map((step) => step.seconds)) + 5 * (steps.length - 1);
  const later = force ? "" : "; later starts skip it until a source changes";
  const what = steps.map((step) => `${step.into} (${step.why})`).join(" and ");
  process.stderr.write(`build: compiling ${what}, about ${seconds} s, longer on a busy machine${later}\n`);
  await Promise.all(steps.map((step) => step.build()));
}

async function main() {
  const { values } = parseCli(USAGE, { options: { only: { type: "string" }, force: { type: "boolean" } } });
  const only = values.only;
  if (only !== undefined && only !== "server" && only !== "explorer") {
    process.stderr.write(`--only server|explorer (got ${only})\n${USAGE}`);
    process.exit(2);
  }
  await buildIfStale({ only, force: values.force === true });
}

// Required by test/global-setup.js for dist-test/'s stamp (the same staleness by content): nothing runs then.
if (require.main === module)
  main().catch((/** @type {Error} */ error) => {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  });

module.exports = { buildIfStale, fingerprint, stale, writeStamp };
