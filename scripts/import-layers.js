#!/usr/bin/env node
/**
 * The import graph of src/ against the layers docs/architecture.md describes: prints import circles and imports that
 * run upward (a lower layer importing a higher one), and exits 1 if there is any. Types count (an `import type` ties
 * the modules just as much for a reader). Run: `node scripts/import-layers.js` (npm run layers), or
 * `node scripts/import-layers.js --src <folder>` on another tree (its test does).
 *
 * The layer names are those of docs/architecture.md's "Layers" table, and test/unit/scripts/import-layers.test.ts
 * checks that the table puts every file of src/ where LAYERS does.
 */
const path = require("node:path");
const madge = require("madge");

/** Higher number = higher layer. First match wins; a file matching none is reported. */
const LAYERS = [
  [/\.settings\.ts$/, 1, "foundations"],
  [/^(index|stack|app|emit-schema|cluster)\.ts$/, 9, "process wiring"],
  [/^http\//, 8, "http"],
  [/^graphql\//, 7, "graphql"],
  [/^(observability|auth)\//, 6, "observability, auth"],
  [/^protection\//, 5, "protection"],
  [/^aopay\/(transport|envelope|errors|outcome|retry|order-id|endpoint)\.ts$/, 3, "aopay transport"],
  [/^aopay\//, 4, "aopay client"],
  [/^simulator\//, 4, "simulator"],
  [/^config\.ts$/, 2, "config"],
  [/^(logging|pii|settings|generated|util)\/|^early-(signals|faults)\.ts$|^redefine-globals\.ts$/, 1, "foundations"],
];

/** What to do about each kind of problem, printed once under its lines: the lines alone left a newcomer guessing. */
const HINTS = {
  circle: "  An import circle: move what both files need into a third file below them, or pass it in as an argument.",
  upward:
    "  A lower layer imports a higher one (docs/architecture.md#layers): move the shared code down to the lower\n" +
    "  layer (a type can live beside the code that produces it), or have the higher layer pass it in.",
  unplaced:
    "  A file in no layer: add its folder or name to LAYERS in scripts/import-layers.js and to the table of\n" +
    "  docs/architecture.md#layers (test/unit/scripts/import-layers.test.ts checks that the two agree).",
};

function layerOf(file) {
  for (const [pattern, rank, name] of LAYERS) if (pattern.test(file)) return { rank, name };
  return null;
}

async function main() {
  const at = process.argv.indexOf("--src");
  const root = at > 0 ? path.resolve(process.argv[at + 1]) : path.join(__dirname, "..", "src");
  const graph = await madge(root, { fileExtensions: ["ts"], tsConfig: path.join(__dirname, "..", "tsconfig.json") });
  const circles = graph.circular();
  const upward = [];
  const unplaced = new Set();
  for (const [from, deps] of Object.entries(graph.obj())) {
    const a = layerOf(from);
    if (!a) unplaced.add(from);
    for (const to of deps) {
      const b = layerOf(to);
      if (!b) unplaced.add(to);
      if (a && b && b.rank > a.rank) upward.push(`${from} (${a.name}) -> ${to} (${b.name})`);
    }
  }
  for (const c of circles) console.log(`circle: ${c.join(" -> ")}`);
  if (circles.length > 0) console.log(HINTS.circle);
  for (const u of upward) console.log(`upward: ${u}`);
  if (upward.length > 0) console.log(HINTS.upward);
  for (const f of unplaced) console.log(`no layer: ${f}`);
  if (unplaced.size > 0) console.log(HINTS.unplaced);
  console.log(
    `${Object.keys(graph.obj()).length} files, ${circles.length} circles, ${upward.length} upward imports, ` +
      `${unplaced.size} files in no layer`,
  );
  process.exitCode = circles.length + upward.length + unplaced.size > 0 ? 1 : 0;
}

module.exports = { LAYERS, layerOf };

if (require.main === module)
  main().catch((error) => {
    console.error(error);
    process.exitCode = 2;
  });
