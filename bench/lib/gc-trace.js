// @ts-check
"use strict";
/**
 * GC accounting of a measured window (`npm run bench -- --gc-trace`, phase D): every system starts with V8's
 * `--trace-gc-nvp`, which writes one line per finished GC cycle to stdout (the system's log file, lib/proc.js), and
 * the bench sums the lines written inside the window.
 *
 * Which lines are inside: by the log file's byte offset, read at the window's edges in the same synchronous callbacks
 * as the CPU snapshots (lib/harness.js cpuWindow). V8 writes a line from the main thread when the cycle ends, with two
 * unbuffered write(2) calls, the "[pid:isolate:0]   1234 ms: " prefix and then the "pause=..." body (strace, Node 24),
 * so the body's offset orders the GC against the edges exactly as the CPU time is split: a GC whose body was written
 * after the start's offset and before the end's is in the window. The lines' own times (ms since the isolate started)
 * would need the child's clock origin, which the bench cannot read without the child's help; they are kept, not used.
 * The server's own log lines share the file and may land between a prefix and its body (a write from libuv's pool):
 * a body is found at a line start as well as after its prefix. A cycle that began before the window (a mark-compact's
 * concurrent marking) counts whole, in the window its line ends in; so does a scavenge's share of it.
 *
 * Per line: `gc=` the collector (s scavenge, mc mark-compact, ms minor mark-sweep), `pause=` the main thread's atomic
 * pause (ms), `incremental=` (mark-compacts) the main thread's incremental marking steps outside that pause (ms), every
 * `background.*=` field (ms of V8's helper threads: parallel scavenge, concurrent marking, sweeping, evacuation),
 * `promoted=` (bytes moved to the old generation), `allocated=` (bytes allocated since the previous GC).
 */
const fs = require("node:fs");

/** The node flag every system of a `--gc-trace` run starts with. */
const GC_TRACE_FLAG = "--trace-gc-nvp";

/**
 * A body at a line start, or right after its prefix. Group 1: the prefix's ms since the isolate started, when the
 * body follows it; group 2: the body (to the end of its line); group 3: the newline, absent if not written yet.
 */
const LINE = /(?:^|\[\d+:0x[0-9a-f]+(?::\d+)?\] +(\d+(?:\.\d+)?) ms: )(pause=[^\n]*)(\n?)/gm;

/**
 * A field of a body. Some lines join two fields without a space (`clear.join_filter_job=0.0clear.join_job=0.0` in
 * Node 24's mark-compact line), so a field may follow a digit: only a letter, `_` or `.` before it makes it another
 * field's tail. @param {string} name
 */
const field = (name) => new RegExp(`(?<![A-Za-z_.])${name.replace(/\./g, "\\.")}=([-\\d.]+)`);
const FIELDS = {
  gc: /(?<![A-Za-z_.])gc=(\w+)/,
  pause: field("pause"),
  incremental: field("incremental"),
  promoted: field("promoted"),
  allocated: field("allocated"),
};
const BACKGROUND = /(?<![A-Za-z_.])background\.[\w.]+=([\d.]+)/g;

/**
 * @typedef {object} GcEvent
 * @property {number} offset      where its body starts in `text` (plus `base`)
 * @property {number} ms          ms since the isolate started (NaN when another line came between prefix and body)
 * @property {string} type        s, mc, ms (the `gc=` field)
 * @property {number} pauseMs
 * @property {number} incrementalMs
 * @property {number} backgroundMs
 * @property {number} promoted    bytes
 * @property {number} allocated   bytes
 * @property {boolean} complete   its newline was written
 */

/**
 * The GC events of a `--trace-gc-nvp` log text (other lines ignored), in order. `base` is added to the offsets (the
 * text's own offset in the file). Pure.
 * @param {string} text @param {number} [base]
 * @returns {GcEvent[]}
 */
function parseGcTrace(text, base = 0) {
  /** @type {GcEvent[]} */
  const out = [];
  for (const m of text.matchAll(LINE)) {
    const body = m[2];
    const num = (/** @type {RegExp} */ re) => {
      const v = re.exec(body);
      return v ? Number(v[1]) : 0;
    };
    let backgroundMs = 0;
    for (const b of body.matchAll(BACKGROUND)) backgroundMs += Number(b[1]);
    out.push({
      offset: base + /** @type {number} */ (m.index) + m[0].length - m[3].length - body.length,
      ms: m[1] === undefined ? NaN : Number(m[1]),
      type: FIELDS.gc.exec(body)?.[1] ?? "?",
      pauseMs: num(FIELDS.pause),
      incrementalMs: num(FIELDS.incremental),
      backgroundMs,
      promoted: num(FIELDS.promoted),
      allocated: num(FIELDS.allocated),
      complete: m[3] === "\n",
    });
  }
  return out;
}

/**
 * The GC of a window, per request: the events whose body starts in [from, to) (byte offsets). Pure.
 * @param {GcEvent[]} events @param {number} from @param {number} to @param {number} requests
 */
function gcInWindow(events, from, to, requests) {
  const inside = events.filter((e) => e.offset >= from && e.offset < to);
  // A window of the bench's sizes allocates some hundred MB (tens of kB per request, thousands of requests), so V8
  // collects in it: no line at all means the trace was not taken (the flag lost, another log file read), and its
  // figures are unknown (NaN, left out of every median), not zero. Small windows of no collection read the same.
  const traced = inside.length > 0;
  const sumOf = (/** @type {(e: GcEvent) => number} */ f) => inside.reduce((a, e) => a + f(e), 0);
  const per = (/** @type {number} */ v) => (requests > 0 && traced ? v / requests : NaN);
  const pauseMs = sumOf((e) => e.pauseMs);
  const incrementalMs = sumOf((e) => e.incrementalMs);
  const backgroundMs = sumOf((e) => e.backgroundMs);
  return {
    traced,
    scavenges: inside.filter((e) => e.type === "s").length,
    markCompacts: inside.filter((e) => e.type === "mc").length,
    // Minor mark-sweeps (`--minor-ms`, not Node 24's default): counted so that no cycle goes unseen.
    otherGcs: inside.filter((e) => e.type !== "s" && e.type !== "mc").length,
    pauseMs,
    incrementalMs,
    backgroundMs,
    pauseUsPerRequest: per(pauseMs * 1000),
    incrementalUsPerRequest: per(incrementalMs * 1000),
    backgroundUsPerRequest: per(backgroundMs * 1000),
    /** Every GC thread's time: the main thread's pauses and incremental steps, and the helpers'. */
    totalUsPerRequest: per((pauseMs + incrementalMs + backgroundMs) * 1000),
    promotedBytesPerRequest: per(sumOf((e) => e.promoted)),
    allocatedBytesPerRequest: per(sumOf((e) => e.allocated)),
    maxPauseMs: Math.max(0, ...inside.map((e) => e.pauseMs)),
    /** The lines' own times (ms since the child's isolate started): the window as the child's GC saw it. */
    firstMs: inside[0]?.ms ?? NaN,
    lastMs: inside.at(-1)?.ms ?? NaN,
  };
}

/** @typedef {ReturnType<typeof gcInWindow>} GcWindowResult */

/**
 * The window's edges in `logFile` (its size, read synchronously like lib/harness.js cpuWindow's snapshots), and its
 * GC per request once closed.
 * @param {string} logFile
 */
function gcWindow(logFile) {
  let from = -1;
  let to = -1;
  const size = () => fs.statSync(logFile).size;
  return {
    start() {
      from = size();
    },
    end() {
      to = size();
    },
    /** @param {number} requests answers completed in the window */
    async result(requests) {
      if (from < 0 || to < 0) throw new Error("the GC window never opened or closed");
      // A body that began before the end may not be whole yet (a write in progress as the size was read): wait.
      for (let attempt = 0; ; attempt++) {
        const fd = fs.openSync(logFile, "r");
        let text;
        try {
          const buf = Buffer.alloc(Math.max(0, fs.fstatSync(fd).size - from));
          fs.readSync(fd, buf, 0, buf.length, from);
          // latin1: one character per byte, so offsets in the text are offsets in the file.
          text = buf.toString("latin1");
        } finally {
          fs.closeSync(fd);
        }
        const events = parseGcTrace(text, from);
        const partial = events.some((e) => e.offset < to && !e.complete);
        if (!partial || attempt >= 20) return gcInWindow(events, from, to, requests);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}

/** A system that starts with the GC trace (node flags come before the script, so the flag goes first). */
const withGcTrace = (/** @type {import("./systems").SystemDef} */ sys) => ({
  ...sys,
  args: [GC_TRACE_FLAG, ...sys.args],
});

module.exports = { parseGcTrace, gcInWindow, gcWindow, withGcTrace, GC_TRACE_FLAG };
