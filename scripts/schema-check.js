// @ts-check
"use strict";
/**
 * `npm run schema:check`: is schema/schema.graphql compatible with the last release's schema?
 *
 * The baseline is the newest file in schema/releases/ (vX.Y.Z.graphql, committed when a version is released; there
 * are no release tags to diff against). @graphql-inspector/core compares the two and classifies every change as
 * BREAKING (a client built against the release can fail: a field, type or enum value removed, a new required
 * argument or input field, an output field made nullable), DANGEROUS (a client may misbehave: a new enum value or
 * union member its switch does not handle) or NON_BREAKING (a new field, a description). It prints them all and
 * exits 1 when any is BREAKING (2 when it cannot read a schema).
 *
 *   --baseline <file>   compare with this file instead
 *   --schema <file>     check this file instead of schema/schema.graphql
 */
const fs = require("node:fs");
const path = require("node:path");
const { parseCli } = require("./cli");
const { buildSchema } = require("graphql");
const { diff, CriticalityLevel } = require("@graphql-inspector/core");

const ROOT = path.resolve(__dirname, "..");
const RELEASES = path.join(ROOT, "schema/releases");

/** vX.Y.Z.graphql files, newest version first. */
function releases() {
  const version = (/** @type {string} */ f) => (/^v(\d+)\.(\d+)\.(\d+)\.graphql$/.exec(f) ?? []).slice(1).map(Number);
  return fs
    .readdirSync(RELEASES)
    .filter((f) => version(f).length === 3)
    .sort((a, b) => {
      const [x, y] = [version(a), version(b)];
      return y[0] - x[0] || y[1] - x[1] || y[2] - x[2];
    });
}

async function main() {
  const { values } = parseCli(
    "usage: npm run schema:check [-- --baseline <file>] [--schema <file>]   (default: the last release's schema\n" +
      "       against schema/schema.graphql)\n",
    { options: { baseline: { type: "string" }, schema: { type: "string" } } },
  );
  const baselineFile = path.resolve(values.baseline ?? path.join(RELEASES, releases()[0]));
  const schemaFile = path.resolve(values.schema ?? path.join(ROOT, "schema/schema.graphql"));
  const load = (/** @type {string} */ f) => buildSchema(fs.readFileSync(f, "utf8"));
  const changes = await diff(load(baselineFile), load(schemaFile));
  const rel = (/** @type {string} */ f) => path.relative(process.cwd(), f);
  process.stdout.write(`schema:check: ${rel(schemaFile)} against ${rel(baselineFile)}\n`);
  const groups = [CriticalityLevel.Breaking, CriticalityLevel.Dangerous, CriticalityLevel.NonBreaking];
  for (const level of groups) {
    const found = changes.filter((c) => c.criticality.level === level);
    if (found.length === 0) continue;
    process.stdout.write(`\n${level} (${found.length}):\n`);
    for (const change of found) {
      const why = change.criticality.reason ? ` (${change.criticality.reason})` : "";
      process.stdout.write(`  - ${change.message}${level === CriticalityLevel.NonBreaking ? "" : why}\n`);
    }
  }
  const breaking = changes.filter((c) => c.criticality.level === CriticalityLevel.Breaking).length;
  process.stdout.write(
    breaking > 0
      ? `\n${breaking} breaking change(s): a client built against the release can fail. See docs/contributing.md "Changing the schema".\n`
      : `\nNo breaking change (${changes.length} change(s) in all).\n`,
  );
  process.exitCode = breaking > 0 ? 1 : 0;
}

main().catch((/** @type {Error} */ error) => {
  process.stderr.write(`schema:check: ${error.message}\n`);
  process.exitCode = 2;
});
