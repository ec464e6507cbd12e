// @ts-check
"use strict";
/**
 * Jest globalSetup: compiles src/ once into dist-test/ for the suites that run the real server process
 * (test/e2e/process.test.ts, test/e2e/redis-cluster.test.ts). Skipped when dist-test/ was built from src/ and the
 * tsconfigs as they are (their contents' hash in its stamp, scripts/build-if-stale.js). Runs before any worker
 * starts, so suites never race on the build. Two jest runs of one checkout at once did race on it (each removing and
 * compiling dist-test/ under the other's suites): the build is under a lock of its own, `.dist-test.lock`
 * (scripts/build-lock.js), the second run waiting for the first, then finding dist-test/ fresh. Not the build lock of
 * dist/: `npm run dev` holds that while it runs, and a test run beside it would wait for ever. Also marks the run
 * (JEST_RUN_MARKER) for test/global-teardown.js.
 */
const { spawn } = require("node:child_process");
const { randomUUID } = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");
// Stale by content, as npm start's dist/: by times alone, a source set to an older time than the last build (a
// checkout, `cp -p` or `tar` of older files) left dist-test/ as it was, and the suites ran the old code.
const { fingerprint, stale, writeStamp } = require("../scripts/build-if-stale");
const { lock } = require("../scripts/build-lock");

const ROOT = path.join(__dirname, "..");
const OUT = path.join(ROOT, "dist-test");
const STAMP = path.join(OUT, ".built");

module.exports = async function globalSetup() {
  // The run's marker: workers and whatever they spawn with process.env inherit it, so test/global-teardown.js can
  // find processes that outlive their suites even once orphaned. Not named like a setting (no AOPAY_ or other
  // setting prefix): the server, and test/unit/settings/settings.test.ts, refuse unknown names that look like one.
  process.env.JEST_RUN_MARKER = randomUUID();
  const inputs = fingerprint(["src", "tsconfig.json", "tsconfig.build.json"].map((p) => path.join(ROOT, p)));
  if (stale(STAMP, inputs) === undefined) return;
  const held = await lock(ROOT, "jest's dist-test/", ".dist-test.lock");
  try {
    // Built meanwhile by the run this one waited for.
    if (stale(STAMP, inputs) === undefined) return;
    const began = Date.now();
    fs.rmSync(OUT, { recursive: true, force: true });
    const tsc = path.join(ROOT, "node_modules/typescript/bin/tsc");
    const child = spawn(process.execPath, [tsc, "-p", path.join(ROOT, "tsconfig.build.json"), "--outDir", OUT], {
      stdio: "inherit",
    });
    // Named in the lock: this run killed with SIGKILL leaves its tsc writing dist-test/ (scripts/build-lock.js).
    held.alsoBy(child.pid);
    const code = await new Promise((resolve) => child.on("exit", resolve));
    if (code !== 0) throw new Error(`test/global-setup.js: tsc into dist-test/ failed (exit ${code})`);
    writeStamp(STAMP, inputs, began);
  } finally {
    held.release();
  }
};
