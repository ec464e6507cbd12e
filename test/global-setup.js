// @ts-check
"use strict";
/**
 * Jest globalSetup: compiles src/ once into dist-test/ for the suites that run the real server process
 * (test/e2e/process.test.ts, test/e2e/redis-cluster.test.ts). Skipped when dist-test/ was built from src/ and the
 * tsconfigs as they are (their contents' hash in its stamp, scripts/build-if-stale.js). Runs before any worker
 * starts, so suites never race on the build. Also marks the run (JEST_RUN_MARKER) for test/global-teardown.js.
 */
const { execFileSync } = require("node:child_process");
const { randomUUID } = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");
// Stale by content, as npm start's dist/: by times alone, a source set to an older time than the last build (a
// checkout, `cp -p` or `tar` of older files) left dist-test/ as it was, and the suites ran the old code.
const { fingerprint, stale, writeStamp } = require("../scripts/build-if-stale");

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
  const began = Date.now();
  fs.rmSync(OUT, { recursive: true, force: true });
  execFileSync(
    process.execPath,
    [path.join(ROOT, "node_modules/typescript/bin/tsc"), "-p", path.join(ROOT, "tsconfig.build.json"), "--outDir", OUT],
    {
      stdio: "inherit",
    },
  );
  writeStamp(STAMP, inputs, began);
};
