#!/usr/bin/env node
// @ts-check
"use strict";
/**
 * Summarises a V8 .cpuprofile (from `npm run bench -- --cpu-prof`, or `node --cpu-prof`): self time by package or
 * file, and by function. Usage: node bench/profile-summary.js <file.cpuprofile> [top N, default 25]
 */
const fs = require("node:fs");

const file = process.argv[2];
if (!file) {
  process.stderr.write("usage: node bench/profile-summary.js <file.cpuprofile> [top N]\n");
  process.exit(2);
}
const top = Number(process.argv[3] ?? "25");
// Piped into `head`: stop quietly when the reader goes away.
process.stdout.on("error", () => process.exit(0));
/** @type {{ nodes: { id: number, callFrame: { functionName: string, url: string, lineNumber: number } }[], samples: number[], timeDeltas: number[] }} */
const profile = JSON.parse(fs.readFileSync(file, "utf8"));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
/** @type {Map<number, number>} */
const self = new Map();
let total = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  total += dt;
  self.set(id, (self.get(id) ?? 0) + dt);
});

/** Where a frame comes from: an npm package, a file of this repository, a node: module, or a V8 pseudo-frame. */
function origin(/** @type {string} */ url, /** @type {string} */ fn) {
  if (!url) return `(${fn.replace(/[()]/g, "") || "native"})`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  if (url.startsWith("node:")) return url;
  return url.replace(/^file:\/\//, "").replace(`${process.cwd()}/`, "");
}

/** @type {Map<string, number>} */
const byFunction = new Map();
/** @type {Map<string, number>} */
const byOrigin = new Map();
for (const [id, t] of self) {
  const frame = /** @type {NonNullable<ReturnType<typeof byId.get>>} */ (byId.get(id)).callFrame;
  const where = origin(frame.url, frame.functionName);
  const fnKey = `${frame.functionName || "(anonymous)"}  ${where}${frame.url ? `:${frame.lineNumber + 1}` : ""}`;
  byFunction.set(fnKey, (byFunction.get(fnKey) ?? 0) + t);
  byOrigin.set(where, (byOrigin.get(where) ?? 0) + t);
}

const show = (/** @type {Map<string, number>} */ m) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .forEach(([k, t]) => process.stdout.write(`${((100 * t) / total).toFixed(1).padStart(6)} %  ${k}\n`));
process.stdout.write(`${file}: ${(total / 1e6).toFixed(2)} s sampled\n\nself time by package / file\n`);
show(byOrigin);
process.stdout.write("\nself time by function\n");
show(byFunction);
