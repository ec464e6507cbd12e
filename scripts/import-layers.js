#!/usr/bin/env node
/**
 * The import graph of src/ against the layers docs/architecture.md describes: prints import circles and imports that
 * run upward (a lower layer importing a higher one), and exits 1 if there is any. Types count (an `import type` ties
 * the modules just as much for a reader). It also prints a name a module imports from config.ts that config.ts only
 * re-exports from a *.settings.ts file (a settings type or default): read from there, beside the module it configures,
 * it does not tie the module to config.ts and every other group. Run: `node scripts/import-layers.js` (npm run
 * layers), or `node scripts/import-layers.js --src <folder>` on another tree (its test does).
 *
 * The layer names are those of docs/architecture.md's "Layers" table, and test/unit/scripts/import-layers.test.ts
 * checks that the table puts every file of src/ where LAYERS does.
 */
const fs = require("node:fs");
const path = require("node:path");
const { parseCli } = require("./cli");
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
  viaConfig:
    "  A name config.ts only re-exports from a *.settings.ts file: import it from that file, beside the module it\n" +
    "  configures, so that the module does not depend on config.ts and on every other group through it.",
  unplaced:
    "  A file in no layer: add its folder or name to LAYERS in scripts/import-layers.js and to the table of\n" +
    "  docs/architecture.md#layers (test/unit/scripts/import-layers.test.ts checks that the two agree).",
};

function layerOf(file) {
  for (const [pattern, rank, name] of LAYERS) if (pattern.test(file)) return { rank, name };
  return null;
}

/** The names config.ts declares itself, not those it hands on from the *.settings.ts files. */
function ownNames(text) {
  const declared =
    /^export\s+(?:declare\s+)?(?:async\s+)?(?:function|class|const|let|interface|type|enum)\s+([\w$]+)/gm;
  return new Set([...text.matchAll(declared)].map((m) => m[1]));
}

/** The names `file` (a path under root) imports, or re-exports, from config.ts in braces. */
function namesFromConfig(root, file) {
  const text = fs.readFileSync(path.join(root, file), "utf8");
  const fromConfig = /(?:import|export)\s+(?:type\s+)?\{([^}]*)\}\s*from\s*["']((?:\.\.?\/)+)config["']/g;
  const names = [];
  for (const m of text.matchAll(fromConfig)) {
    // Only the root's config.ts (src/simulator/config.ts is another file).
    if (path.join(path.dirname(file), m[2], "config.ts") !== "config.ts") continue;
    for (const entry of m[1].split(",")) {
      const name = entry
        .trim()
        .replace(/^type\s+/, "")
        .split(/\s+as\s+/)[0];
      if (name) names.push(name);
    }
  }
  return names;
}

async function main() {
  const { values } = parseCli("usage: npm run layers [-- --src <dir>]   (default src/)\n", {
    options: { src: { type: "string" } },
  });
  const root = values.src !== undefined ? path.resolve(values.src) : path.join(__dirname, "..", "src");
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
  const configText = fs.existsSync(path.join(root, "config.ts"))
    ? fs.readFileSync(path.join(root, "config.ts"), "utf8")
    : "";
  const own = ownNames(configText);
  const viaConfig = [];
  for (const [from, deps] of Object.entries(graph.obj()))
    if (deps.includes("config.ts"))
      for (const name of namesFromConfig(root, from)) if (!own.has(name)) viaConfig.push(`${from}: ${name}`);
  for (const c of circles) console.log(`circle: ${c.join(" -> ")}`);
  if (circles.length > 0) console.log(HINTS.circle);
  for (const u of upward) console.log(`upward: ${u}`);
  if (upward.length > 0) console.log(HINTS.upward);
  for (const v of viaConfig) console.log(`through config.ts: ${v}`);
  if (viaConfig.length > 0) console.log(HINTS.viaConfig);
  for (const f of unplaced) console.log(`no layer: ${f}`);
  if (unplaced.size > 0) console.log(HINTS.unplaced);
  console.log(
    `${Object.keys(graph.obj()).length} files, ${circles.length} circles, ${upward.length} upward imports, ` +
      `${unplaced.size} files in no layer, ${viaConfig.length} settings names through config.ts`,
  );
  process.exitCode = circles.length + upward.length + unplaced.size + viaConfig.length > 0 ? 1 : 0;
}

module.exports = { LAYERS, layerOf };

if (require.main === module)
  main().catch((error) => {
    console.error(error);
    process.exitCode = 2;
  });
