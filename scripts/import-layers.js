#!/usr/bin/env node
/**
 * The import graph of src/ against the layers docs/architecture.md describes: prints import circles and imports that
 * run upward (a lower layer importing a higher one), and exits 1 if there is any. Types count (an `import type` ties
 * the modules just as much for a reader). Run: `node scripts/import-layers.js` (npm run layers).
 */
const path = require("node:path");
const madge = require("madge");

/** Higher number = higher layer. First match wins; a file matching none is reported. */
const LAYERS = [
  [/\.settings\.ts$/, 1, "settings declarations"],
  [/^(index|stack|app|emit-schema|cluster)\.ts$/, 9, "process wiring"],
  [/^http\//, 8, "http"],
  [/^graphql\//, 7, "graphql"],
  [/^(observability|auth)\//, 6, "observability/auth"],
  [/^protection\//, 5, "protection"],
  [/^aopay\/(transport|envelope|errors|outcome|retry|order-id|endpoint)\.ts$/, 3, "aopay transport"],
  [/^aopay\//, 4, "aopay client"],
  [/^simulator\//, 4, "simulator"],
  [/^config\.ts$/, 2, "config"],
  [/^(logging|pii|settings|generated|util)\/|^early-signals\.ts$/, 1, "logging/pii/settings/util"],
];

function layerOf(file) {
  for (const [pattern, rank, name] of LAYERS) if (pattern.test(file)) return { rank, name };
  return null;
}

async function main() {
  const root = path.join(__dirname, "..", "src");
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
  for (const u of upward) console.log(`upward: ${u}`);
  for (const f of unplaced) console.log(`no layer: ${f}`);
  console.log(`${Object.keys(graph.obj()).length} files, ${circles.length} circles, ${upward.length} upward imports`);
  process.exitCode = circles.length + upward.length + unplaced.size > 0 ? 1 : 0;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 2;
});
