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
const fs = require("node:fs");
const { parseArgs } = require("node:util");

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

const JIT = "JIT code (V8-compiled JavaScript, no symbols)";
/** A name of the form 0x0000000028180040 (with callgrind's `'2` suffix for a recursion level). */
const ADDRESS_ONLY = /^0x[0-9a-f]+('\d+)?$/;

/**
 * Self Ir by function (or object) of one dump. A `calls=` line's next cost line is the call's inclusive cost, charged
 * to the caller's `cfn`, not the caller's self cost: skipped.
 * @param {string} file @param {"function" | "object"} by
 */
function selfCost(file, by) {
  /** @type {Map<string, string>} compressed ids to names, per kind ("fn", "ob") */
  const names = new Map();
  /** @type {Map<string, number>} */
  const out = new Map();
  let fn = "?";
  let ob = "?";
  let total = 0;
  let skipNext = false;
  /** `(12) name`, `(12)` or `name`: the name, remembering a compressed id's. @param {string} kind @param {string} v */
  const nameOf = (kind, v) => {
    const m = /^\((\d+)\)(?: (.*))?$/.exec(v);
    if (!m) return v;
    const key = `${kind}:${m[1]}`;
    if (m[2] !== undefined) names.set(key, m[2]);
    return names.get(key) ?? `${kind} #${m[1]} (named in an earlier dump)`;
  };
  let summary = NaN;
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    if (line.startsWith("summary: ")) summary = Number(line.slice(9));
    if (line.startsWith("fn=")) fn = nameOf("fn", line.slice(3));
    else if (line.startsWith("ob=")) ob = nameOf("ob", line.slice(3));
    else if (line.startsWith("cfn=")) nameOf("fn", line.slice(4));
    else if (line.startsWith("cob=")) nameOf("ob", line.slice(4));
    else if (line.startsWith("calls=")) skipNext = true;
    else if (/^[0-9+*-]/.test(line)) {
      const ir = Number(line.split(" ")[1] ?? 0);
      if (skipNext) {
        skipNext = false;
        continue;
      }
      total += ir;
      const key = by === "object" ? ob : ADDRESS_ONLY.test(fn) ? JIT : fn;
      out.set(key, (out.get(key) ?? 0) + ir);
    }
  }
  // Each instruction is on exactly one self cost line: a sum that is not the dump's own total means this reader
  // misread the file (a format it does not know), and every row would be wrong.
  if (total !== summary) throw new Error(`${file}: self costs sum to ${total}, the dump's summary says ${summary}`);
  return { out, total };
}

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
