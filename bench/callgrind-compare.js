#!/usr/bin/env node
// @ts-check
"use strict";
/**
 * Where the instructions go, in one callgrind dump or two side by side (`npm run bench:callgrind` writes them):
 * self instructions (Ir) by function, or by library with `--by object`, for A and B and B - A, largest differences
 * first; per request with `--requests N` (the count the runs measured), per cent of the dump's total otherwise.
 * V8's compiled JavaScript has no symbols under valgrind: every address-only name is one row, "JIT code" (which
 * JavaScript it was, a `--cpu-prof` profile tells: bench/profile-compare.js).
 *
 * Usage: node bench/callgrind-compare.js <A dump> [<B dump>] [--requests N] [--by function|object] [--top 40]
 *
 * Hand-written, not callgrind_annotate: that prints one dump at a time, and its self-cost view (valgrind 3.19) of
 * the measured dump, the second of the process, reads every instruction as `__libc_start_main`'s (100 %; its
 * `--inclusive=yes` view works, recursion counted more than once). This reader sums the self cost lines; their sum is
 * the dump's `summary:` (checked below). It reads names written in full and compressed ones (`fn=(12) name`, then
 * `fn=(12)`). The format: valgrind's docs, "Callgrind Format Specification".
 */
const { parseArgs } = require("node:util");
const { selfCost } = require("./lib/valgrind");

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    requests: { type: "string" },
    by: { type: "string", default: "function" },
    top: { type: "string", default: "40" },
  },
});
if (positionals.length < 1 || positionals.length > 2 || !["function", "object"].includes(String(values.by))) {
  process.stderr.write(
    "usage: node bench/callgrind-compare.js <A dump> [<B dump>] [--requests N] [--by function|object] [--top 40]\n",
  );
  process.exit(2);
}
process.stdout.on("error", () => process.exit(0));

const by = /** @type {"function" | "object"} */ (values.by);
const requests = values.requests === undefined ? undefined : Number(values.requests);
const top = Number(values.top);
const [a, b] = positionals.map((f) => selfCost(f, by));
const scale = (/** @type {number} */ ir, /** @type {number} */ total) =>
  requests ? Math.round(ir / requests).toLocaleString("en-US") : `${((100 * ir) / total).toFixed(1)} %`;
const unit = requests ? `instructions per request (of ${requests})` : "per cent of the dump's instructions";

process.stdout.write(`self instructions by ${by}, ${unit}\n`);
process.stdout.write(
  `A ${positionals[0]}: ${scale(a.total, a.total)} in all${b ? `\nB ${positionals[1]}: ${scale(b.total, b.total)} in all` : ""}\n\n`,
);
const keys = new Set([...a.out.keys(), ...(b ? b.out.keys() : [])]);
const rows = [...keys].map((k) => ({ k, ia: a.out.get(k) ?? 0, ib: b?.out.get(k) ?? 0 }));
// Largest differences first: per request in instructions, otherwise in shares (two runs of different lengths).
const gap = (/** @type {{ ia: number, ib: number }} */ r) =>
  requests || !b ? r.ib - r.ia : r.ib / b.total - r.ia / a.total;
rows.sort((x, y) => (b ? Math.abs(gap(y)) - Math.abs(gap(x)) : y.ia - x.ia));
const cell = (/** @type {string} */ s) => s.padStart(12);
process.stdout.write(b ? `${cell("A")}${cell("B")}${cell("B - A")}  ${by}\n` : `${cell("A")}  ${by}\n`);
for (const { k, ia, ib } of rows.slice(0, top)) {
  const name = k.length > 110 ? `${k.slice(0, 107)}...` : k;
  // Per request, the difference in instructions; as shares, in percentage points of each dump's own total.
  const diff = requests
    ? Math.round((ib - ia) / requests).toLocaleString("en-US")
    : `${((100 * ib) / (b?.total ?? 1) - (100 * ia) / a.total).toFixed(1)} pt`;
  process.stdout.write(
    b
      ? `${cell(scale(ia, a.total))}${cell(scale(ib, b.total))}${cell(diff)}  ${name}\n`
      : `${cell(scale(ia, a.total))}  ${name}\n`,
  );
}
