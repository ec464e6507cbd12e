#!/usr/bin/env node
// @ts-check
"use strict";
/**
 * Compares two V8 .cpuprofile files (`npm run bench -- --cpu-prof`): self time in milliseconds by npm package, file of
 * this repository (`ours:<path>`), node: module or V8 pseudo-frame, for A and B, and A - B, largest differences first.
 * With `--functions PATTERN`, by function instead, for frames whose URL matches PATTERN (a regular expression). Both
 * profiles should cover the same requests (the bench profiles whole runs: start-up included, so module loading shows up
 * too). Usage: node bench/profile-compare.js <a.cpuprofile> <b.cpuprofile> [top N, default 45] [--functions RE]
 */
const fs = require("node:fs");

const args = process.argv.slice(2);
const fnAt = args.indexOf("--functions");
const functions = fnAt >= 0 ? new RegExp(args.splice(fnAt, 2)[1] ?? ".") : null;
const [fileA, fileB, topArg] = args;
if (!fileA || !fileB) {
  process.stderr.write("usage: node bench/profile-compare.js <a.cpuprofile> <b.cpuprofile> [top N] [--functions RE]\n");
  process.exit(2);
}
process.stdout.on("error", () => process.exit(0));

/** @typedef {{ id: number, callFrame: { functionName: string, url: string, lineNumber: number } }} ProfileNode */

/** Self time (ms) per key. @param {string} file @param {(n: ProfileNode) => string | null} keyOf */
function selfTimes(file, keyOf) {
  /** @type {{ nodes: ProfileNode[], samples: number[], timeDeltas: number[] }} */
  const profile = JSON.parse(fs.readFileSync(file, "utf8"));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  /** @type {Map<string, number>} */
  const out = new Map();
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const key = node ? keyOf(node) : null;
    if (key !== null) out.set(key, (out.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return out;
}

/** Where a frame comes from. @param {ProfileNode} n */
function areaOf(n) {
  const { url, functionName } = n.callFrame;
  if (!url) return `(${functionName})`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  const ours = /\/dist\/(.*)\.js$/.exec(url);
  if (ours) return `ours:${ours[1]}`;
  return url.startsWith("node:") ? url : url.replace(/.*\//, "");
}

/** @param {ProfileNode} n */
const functionOf = (n) =>
  functions && functions.test(n.callFrame.url)
    ? `${n.callFrame.functionName || "(anonymous)"} ${n.callFrame.url.replace(/.*(node_modules|dist)\//, "")}:${n.callFrame.lineNumber}`
    : null;

const keyOf = functions ? functionOf : areaOf;
const a = selfTimes(fileA, keyOf);
const b = selfTimes(fileB, keyOf);
const busy = (/** @type {Map<string, number>} */ m) =>
  [...m].reduce((sum, [k, v]) => (k === "((idle))" || k === "(idle)" ? sum : sum + v), 0);
if (!functions) process.stdout.write(`busy ms: A ${busy(a).toFixed(0)}, B ${busy(b).toFixed(0)}\n`);
const rows = [...new Set([...a.keys(), ...b.keys()])]
  .map((k) => /** @type {[string, number, number]} */ ([k, a.get(k) ?? 0, b.get(k) ?? 0]))
  .sort((x, y) => Math.abs(y[1] - y[2]) - Math.abs(x[1] - x[2]));
process.stdout.write(`${"".padEnd(60)}${"A ms".padStart(8)}${"B ms".padStart(8)}${"A-B".padStart(8)}\n`);
for (const [k, va, vb] of rows.slice(0, Number(topArg ?? "45")))
  process.stdout.write(
    `${k.slice(0, 59).padEnd(60)}${va.toFixed(1).padStart(8)}${vb.toFixed(1).padStart(8)}${(va - vb).toFixed(1).padStart(8)}\n`,
  );
