// @ts-check
"use strict";
/**
 * Jest globalSetup: compiles src/ once into dist-test/ for the suites that run the real server process
 * (test/e2e/process.test.ts, test/e2e/redis-cluster.test.ts). Skipped when dist-test/ is newer than every file in
 * src/. Runs before any worker starts, so suites never race on the build. Also marks the run (JEST_RUN_MARKER) for
 * test/global-teardown.js.
 */
const { execFileSync } = require("node:child_process");
const { randomUUID } = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.join(__dirname, "..");
const OUT = path.join(ROOT, "dist-test");
const STAMP = path.join(OUT, ".built");

function newestMtime(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : fs.statSync(full).mtimeMs);
  }
  return newest;
}

module.exports = async function globalSetup() {
  // The run's marker: workers and whatever they spawn with process.env inherit it, so test/global-teardown.js can
  // find processes that outlive their suites even once orphaned. Not named like a setting (no AOPAY_ or other
  // setting prefix): the server, and test/unit/settings/settings.test.ts, refuse unknown names that look like one.
  process.env.JEST_RUN_MARKER = randomUUID();
  const sources = Math.max(
    newestMtime(path.join(ROOT, "src")),
    fs.statSync(path.join(ROOT, "tsconfig.build.json")).mtimeMs,
  );
  if (fs.existsSync(STAMP) && fs.statSync(STAMP).mtimeMs > sources) return;
  fs.rmSync(OUT, { recursive: true, force: true });
  execFileSync(
    process.execPath,
    [path.join(ROOT, "node_modules/typescript/bin/tsc"), "-p", path.join(ROOT, "tsconfig.build.json"), "--outDir", OUT],
    {
      stdio: "inherit",
    },
  );
  fs.writeFileSync(STAMP, new Date().toISOString());
};
