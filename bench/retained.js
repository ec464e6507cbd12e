#!/usr/bin/env node
// @ts-check
"use strict";
/**
 * `node bench/retained.js`: bytes the server KEEPS per request (what survives full collections), the other half of
 * the collector's bill beside bench/alloc.js's garbage. What a request leaves alive is what the old generation grows
 * by, and V8 marks the whole old generation once it has grown by about half (`--heap-growing-percent=50`, as npm start
 * runs): the mark-compacts a server pays per request follow the bytes it keeps and promotes, not its heap's size
 * (docs/performance-runs.md: the round "what a request keeps, and when V8 marks", and "The runs at 4d89d7b").
 *
 * The system runs natively with `--expose-gc` and this tool's probe preloaded (lib/retained-probe.js): after the
 * warm-up the probe runs two full collections and reads the heap (`heapUsed`, and `external`: ArrayBuffers and other
 * memory outside the heap that V8 is told of), and again after the measured requests, sent one at a time as alloc.js
 * sends them, each to a new destination (the bench's traffic). The difference over the requests is what each one
 * keeps. `--snapshot` also writes a heap snapshot at both points and lists what the second holds more of than the
 * first, by constructor (objects) or by kind (strings, arrays, code...).
 *
 * Usage: node bench/retained.js [--mutation aeps|cibil] [--system ours|apollo|floor|...] [--requests 10000]
 *          [--warmup 2000] [--snapshot] [--no-build] [--dist dir]
 */
const fs = require("node:fs");
const path = require("node:path");
const { parseArgs } = require("node:util");
const { killAll } = require("./lib/proc");
const { oneSystemOptions, startOne } = require("./lib/one-system");
const { sequential } = require("./lib/sequential");
const { askHits, describeHits } = require("./lib/hits");
const { fmt } = require("./lib/format");

const PROBE = path.join(__dirname, "lib/retained-probe.js");
const log = (/** @type {string} */ line) => process.stdout.write(`${line}\n`);
const READING = /^RETAINED (\d+) heapUsed=(\d+) external=(\d+) arrayBuffers=(\d+)$/gm;

/**
 * The probe's `n`-th reading in the log (waits up to 30 s: two full collections and a snapshot of a large heap).
 * @param {string} logFile @param {number} n
 */
async function reading(logFile, n) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    for (const m of fs.readFileSync(logFile, "latin1").matchAll(READING))
      if (Number(m[1]) === n) return { heapUsed: Number(m[2]), external: Number(m[3]), arrayBuffers: Number(m[4]) };
    if (Date.now() > deadline) throw new Error(`no reading ${n} of the probe in ${logFile}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Self sizes and counts of a heap snapshot by group: an object's constructor name, or its kind for everything else
 * (`(string)`, `(array)`, `(code)`, `(closure)`...). @param {string} file
 */
function groups(file) {
  const snap = JSON.parse(fs.readFileSync(file, "utf8"));
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = ["type", "name", "self_size"].map((f) => fields.indexOf(f));
  /** @type {Map<string, { count: number, bytes: number }>} */
  const out = new Map();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt]];
    const key = type === "object" ? snap.strings[snap.nodes[i + nameAt]] : `(${type})`;
    const g = out.get(key) ?? { count: 0, bytes: 0 };
    g.count += 1;
    g.bytes += snap.nodes[i + sizeAt];
    out.set(key, g);
  }
  return out;
}

async function main() {
  const { values } = parseArgs({
    options: {
      ...oneSystemOptions({ requests: "10000", warmup: "2000" }),
      dist: { type: "string" },
      snapshot: { type: "boolean", default: false },
    },
    strict: true,
  });
  // The probe's two full collections (and --snapshot's heap snapshot) stall the server's event loop: on a loaded host
  // for over ADMISSION_MAX_EVENT_LOOP_DELAY_MS (1 s), which admission reads as a saturated CPU and sheds the next
  // half-second's requests OVERLOADED, all 40 of micro-tools.test's once in CI. This tool measures what a request
  // keeps, not admission: that check is off for our server here (a later --ours-env still sets it).
  values["ours-env"] = ["ADMISSION_MAX_EVENT_LOOP_DELAY_MS=0", ...(values["ours-env"] ?? [])];
  // The probe and --expose-gc after the system's own flags; the snapshots (--snapshot) beside its log, old ones gone.
  /** @type {(out: string) => Record<string, string>} */
  const snapshots = (out) => {
    for (const f of fs.readdirSync(out)) if (f.endsWith(".heapsnapshot")) fs.rmSync(path.join(out, f));
    return values.snapshot ? { RETAINED_SNAPSHOT_DIR: out } : {};
  };
  const { m, sys, requests, warmup, out, up, s, logFile, traffic } = await startOne(
    values,
    "retained",
    ["--expose-gc", "-r", PROBE],
    log,
    snapshots,
  );
  const w = await sequential({ ...traffic, warmup: 0, requests: warmup });
  process.kill(s.pid, "SIGUSR2");
  const before = await reading(logFile, 1);
  const r = await sequential({ ...traffic, warmup: 0, requests });
  process.kill(s.pid, "SIGUSR2");
  const after = await reading(logFile, 2);
  await s.stop();
  const { hits } = await askHits(up, m.key, [...w.okIds, ...r.okIds]);
  await up.stop();
  const per = (/** @type {"heapUsed" | "external"} */ k) => (after[k] - before[k]) / requests;
  log(`retained: ${sys.label}, ${m.field}, ${requests} requests after ${warmup} warm-up, one at a time`);
  const mb = (/** @type {number} */ bytes) => fmt(bytes / 1e6, 1);
  log(`  heap kept: ${fmt(per("heapUsed"))} B per request (${mb(before.heapUsed)} -> ${mb(after.heapUsed)} MB)`);
  log(`  outside the heap (external): ${fmt(per("external"))} B per request`);
  if (values.snapshot) {
    const a = groups(path.join(out, "1.heapsnapshot"));
    const b = groups(path.join(out, "2.heapsnapshot"));
    // Every group of either snapshot: one the second no longer holds is a negative row, not a missing one.
    const rows = [...new Set([...a.keys(), ...b.keys()])]
      .map((key) => ({
        key,
        count: (b.get(key)?.count ?? 0) - (a.get(key)?.count ?? 0),
        bytes: (b.get(key)?.bytes ?? 0) - (a.get(key)?.bytes ?? 0),
      }))
      .filter((x) => x.bytes !== 0)
      .sort((x, y) => Math.abs(y.bytes) - Math.abs(x.bytes))
      .slice(0, 15);
    log("  what the second snapshot holds more of (B per request, objects per request, group):");
    for (const x of rows) {
      const bytes = fmt(x.bytes / requests, 1).padStart(8);
      log(`    ${bytes} B  ${fmt(x.count / requests, 2).padStart(6)}  ${x.key.slice(0, 60)}`);
    }
  }
  // What the others were, on the verdict line (the last, which micro-tools.test shows on a failure): shed
  // (OVERLOADED), non-2xx, GraphQL errors, a wrong answer, or no answer at all.
  const { shed, non2xx, graphqlErrors, wrong, errors } = r;
  const others = r.ok === requests ? "" : ` (${JSON.stringify({ shed, non2xx, graphqlErrors, wrong, errors })})`;
  log(
    `  answers: ${r.ok} correct of ${requests}${others}; upstream check: ${hits.pass ? "passed" : `FAILED: ${describeHits(hits)}`}`,
  );
  if (!hits.pass || r.ok !== requests) process.exitCode = 1;
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => killAll());
