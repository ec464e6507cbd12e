// `npm run bench -- --gc-trace` (bench/lib/gc-trace.js): phase D's systems run under V8's --trace-gc-nvp and the bench
// sums, per request, the GC lines written inside each system's window. The fixture holds real lines from such a run
// (Node 24.22.3, CIBIL, phase D): our server's "Server listening" log line, a scavenge and a mark-compact of ours, a
// scavenge and a mark-compact of minimal Apollo. A misread field (`nodes_promoted=` for `promoted=`, a background field
// missed after the two fields V8 joins without a space) or a line counted in the wrong window changes the GC figures
// and the ratio, with nothing else to show it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

interface GcEvent {
  offset: number;
  ms: number;
  type: string;
  pauseMs: number;
  incrementalMs: number;
  backgroundMs: number;
  promoted: number;
  allocated: number;
  complete: boolean;
}
interface GcWindowResult {
  traced: boolean;
  scavenges: number;
  markCompacts: number;
  otherGcs: number;
  pauseUsPerRequest: number;
  incrementalUsPerRequest: number;
  backgroundUsPerRequest: number;
  totalUsPerRequest: number;
  promotedBytesPerRequest: number;
  allocatedBytesPerRequest: number;
  firstMs: number;
  lastMs: number;
}
/* eslint-disable @typescript-eslint/no-require-imports */
const { parseGcTrace, gcInWindow, gcWindow, withGcTrace, GC_TRACE_FLAG } = require("../../../bench/lib/gc-trace") as {
  parseGcTrace: (text: string, base?: number) => GcEvent[];
  gcInWindow: (events: GcEvent[], from: number, to: number, requests: number) => GcWindowResult;
  gcWindow: (file: string) => { start(): void; end(): void; result(requests: number): Promise<GcWindowResult> };
  withGcTrace: (sys: { key: string; args: string[] }) => { key: string; args: string[] };
  GC_TRACE_FLAG: string;
};
const { parseOptions } = require("../../../bench/lib/options") as {
  parseOptions: (argv: string[]) => { gcTrace: boolean; build: boolean };
};
const { summarise } = require("../../../bench/lib/summary") as {
  summarise: (
    report: unknown,
    keys: string[],
    mutations: string[],
  ) => {
    systems: Record<string, Record<string, { pairedGc?: Record<string, number | number[]> }>>;
    ratios: Record<string, Record<string, { median: number; perRound: number[] }>>;
  };
};
/* eslint-enable @typescript-eslint/no-require-imports */

const TRACE = readFileSync(path.join(__dirname, "fixtures/gc-trace-nvp.txt"), "latin1");
const LINES = TRACE.split("\n").filter(Boolean);
const dir = mkdtempSync(path.join(tmpdir(), "gc-trace-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Rounds a figure for comparison (sums of decimal milliseconds). */
const r3 = (v: number) => Math.round(v * 1000) / 1000;

describe("bench --gc-trace: the GC lines of a window, per request", () => {
  it("reads each real line's collector, pause, incremental marking, background threads and bytes", () => {
    const events = parseGcTrace(TRACE);
    // The log line between is not a GC line; every GC line is.
    expect(events.map((e) => e.type)).toEqual(["s", "mc", "s", "mc"]);
    expect(events.map((e) => e.ms)).toEqual([18024, 39124, 9629, 5541]);
    expect(events.map((e) => e.pauseMs)).toEqual([6.3, 10.7, 5.7, 34.3]);
    // Mark-compacts only: the main thread's marking steps outside the atomic pause.
    expect(events.map((e) => e.incrementalMs)).toEqual([0, 93.7, 0, 21.8]);
    // Every background.* field: the scavenge's parallel helpers; the mark-compact's marking, sweeping and evacuation
    // (573.9 + 0.1 + 0.8 + 0.5 for ours, 162.1 + 0.7 + 21.3 + 0.9 for Apollo), which V8 prints after the fields it
    // joins without a space ("clear.join_filter_job=0.0clear.join_job=0.0").
    expect(events.map((e) => r3(e.backgroundMs))).toEqual([7.94, 575.3, 3.21, 185]);
    // promoted=, not nodes_promoted= (0 in every line) nor promotion_rate=.
    expect(events.map((e) => e.promoted)).toEqual([173312, 382336, 0, 1145208]);
    expect(events.map((e) => e.allocated)).toEqual([26389072, 19210144, 15743512, 1901952]);
    // Each at its body: the offset of "pause=" in the text (with `base` added), the line written whole.
    expect(events.map((e) => e.offset)).toEqual(
      [1, 2, 3, 4].map((i) => TRACE.indexOf(LINES[i]) + LINES[i].indexOf("pause=")),
    );
    expect(parseGcTrace(TRACE, 1000).map((e) => e.offset - 1000)).toEqual(events.map((e) => e.offset));
    expect(events.every((e) => e.complete)).toBe(true);
  });

  it("finds a body that another line's write separated from its prefix, and knows a body not yet ended", () => {
    // A log line written by another thread (libuv's pool) between V8's two writes: prefix, then the line, then body.
    const [prefix, body] = LINES[1].split(/(?<=ms: )/);
    const split = `${prefix}${LINES[0]}\n${body}\n`;
    const [e] = parseGcTrace(split);
    expect(e).toMatchObject({ type: "s", pauseMs: 6.3, promoted: 173312, complete: true });
    expect(e.ms).toBeNaN();
    expect(e.offset).toBe(split.indexOf("pause="));
    // Half a body (its write still in progress when read): found, and not complete.
    const half = parseGcTrace(`${LINES[2].slice(0, 600)}`);
    expect(half).toHaveLength(1);
    expect(half[0].complete).toBe(false);
  });

  it("counts the lines whose body starts inside [from, to) and divides by the window's requests", () => {
    const events = parseGcTrace(TRACE);
    // From ours' mark-compact's body up to Apollo's mark-compact's: the mark-compact and the scavenge after it.
    const g = gcInWindow(events, events[1].offset, events[3].offset, 100);
    expect(g).toMatchObject({ scavenges: 1, markCompacts: 1, otherGcs: 0, firstMs: 39124, lastMs: 9629 });
    expect(r3(g.pauseUsPerRequest)).toBe(164); // (10.7 + 5.7) ms / 100
    expect(r3(g.incrementalUsPerRequest)).toBe(937);
    expect(r3(g.backgroundUsPerRequest)).toBe(5785.1); // (575.3 + 3.21) ms / 100
    expect(r3(g.totalUsPerRequest)).toBe(r3(164 + 937 + 5785.1));
    expect(g.promotedBytesPerRequest).toBe(3823.36);
    // An edge inside a body: the line began before it, so it belongs to the window before.
    expect(gcInWindow(events, events[0].offset + 1, Infinity, 10)).toMatchObject({ scavenges: 1, markCompacts: 2 });
    expect(g.traced).toBe(true);
    // No line in the window: the trace was not taken, so its figures are unknown (NaN, left out of the medians), not
    // zeros a report would read as "no GC"; no request: NaN, not Infinity.
    const untraced = gcInWindow(events, 0, events[0].offset, 10);
    expect(untraced).toMatchObject({ traced: false, scavenges: 0, markCompacts: 0 });
    for (const v of [untraced.pauseUsPerRequest, untraced.totalUsPerRequest, untraced.promotedBytesPerRequest])
      expect(v).toBeNaN();
    expect(gcInWindow(events, 0, Infinity, 0).pauseUsPerRequest).toBeNaN();
  });

  it("takes the window's edges from the log file's size, and waits for a body whose write was under way", async () => {
    const file = path.join(dir, "system.log");
    writeFileSync(file, `${LINES[0]}\n${LINES[1]}\n`);
    const w = gcWindow(file);
    w.start();
    // In the window: the mark-compact; the next scavenge's prefix and the first half of its body.
    appendFileSync(file, `${LINES[2]}\n${LINES[3].slice(0, 500)}`);
    w.end();
    const result = w.result(10);
    // After the end: the rest of that body, then a line of the next window.
    setTimeout(() => appendFileSync(file, `${LINES[3].slice(500)}\n${LINES[4]}\n`), 60);
    const g = await result;
    expect(g).toMatchObject({ scavenges: 1, markCompacts: 1, firstMs: 39124, lastMs: 9629 });
    expect(r3(g.pauseUsPerRequest)).toBe(1640);
    // The scavenge's background field is past its first 500 characters: read whole, once written.
    expect(r3(g.backgroundUsPerRequest)).toBe(57851);
    await expect(gcWindow(file).result(1)).rejects.toThrow(/never opened or closed/);
  });

  it("is on unless --no-gc-trace, and puts V8's flag before the script of every system", () => {
    // On by default: its cost, measured under callgrind, is about 0.01 % of a phase-D request's CPU.
    expect(parseOptions([]).gcTrace).toBe(true);
    expect(parseOptions(["--gc-trace"]).gcTrace).toBe(true);
    expect(parseOptions(["--no-gc-trace"]).gcTrace).toBe(false);
    // --no-build is still the build's switch (a negatable-options parser would read it as "build: false" only).
    expect(parseOptions(["--no-gc-trace", "--no-build"])).toMatchObject({ gcTrace: false, build: false });
    expect(() => parseOptions(["--gc-trace", "--no-gc-trace"])).toThrow(/give one/);
    expect(GC_TRACE_FLAG).toBe("--trace-gc-nvp");
    const sys = { key: "apollo", args: ["--max-semi-space-size=32", "/bench/systems/apollo-minimal.js"] };
    expect(withGcTrace(sys).args).toEqual([
      "--trace-gc-nvp",
      "--max-semi-space-size=32",
      "/bench/systems/apollo-minimal.js",
    ]);
    expect(sys.args).toHaveLength(2);
  });

  it("reports each system's GC per request and the ratio ours / apollo per round, and nothing without the trace", () => {
    const gc = (total: number, pause: number, scavenges: number, markCompacts: number, traced = true) => ({
      traced,
      totalUsPerRequest: total,
      pauseUsPerRequest: pause,
      incrementalUsPerRequest: 0,
      backgroundUsPerRequest: total - pause,
      promotedBytesPerRequest: 100,
      allocatedBytesPerRequest: 50_000,
      scavenges,
      markCompacts,
    });
    const system = (cpu: number, g?: ReturnType<typeof gc>) => ({
      paired: { cpuUsPerRequest: cpu, mainThreadCpuUsPerRequest: cpu / 2, okPerSec: 600, ...(g ? { gc: g } : {}) },
      hits: { pass: true },
      peakRss: 1,
      errorTotal: 0,
      undocumented: 0,
    });
    const report = (withGc: boolean) => ({
      options: { pairedRate: 600 },
      phaseA: [],
      phaseB: [],
      phaseC: [],
      phaseD: [
        // Round 1 has ours' mark-compact in its window, round 2 none.
        {
          cibil: {
            apollo: system(500, withGc ? gc(20, 12, 60, 0) : undefined),
            ours: system(540, withGc ? gc(40, 15, 62, 1) : undefined),
          },
        },
        {
          cibil: {
            apollo: system(520, withGc ? gc(22, 12, 61, 0) : undefined),
            ours: system(545, withGc ? gc(22, 13, 60, 0) : undefined),
          },
        },
        // Round 3: ours' window had no GC line (the trace not taken): unknown, left out, not a round of no GC.
        {
          cibil: {
            apollo: system(510, withGc ? gc(21, 12, 60, 0) : undefined),
            ours: system(530, withGc ? gc(NaN, NaN, 0, 0, false) : undefined),
          },
        },
      ],
    });
    const s = summarise(report(true), ["apollo", "ours"], ["cibil"]);
    expect(s.ratios.cibil["paired gc ours/apollo"].perRound).toEqual([2, 1, NaN]);
    expect(s.ratios.cibil["paired gc ours/apollo"].median).toBe(1.5);
    expect(s.ratios.cibil["paired gc pauses ours/apollo"].perRound.slice(0, 2).map(r3)).toEqual([1.25, 1.083]);
    expect(s.ratios.cibil["paired gc background ours/apollo"].perRound.slice(0, 2).map(r3)).toEqual([3.125, 0.9]);
    expect(s.systems.cibil.ours.pairedGc).toMatchObject({
      totalUsPerRequest: 31,
      totalPerRound: [40, 22, NaN],
      scavengesPerRound: [62, 60, "?"],
      markCompactsPerRound: [1, 0, "?"],
      promotedBytesPerRequest: 100,
    });
    const without = summarise(report(false), ["apollo", "ours"], ["cibil"]);
    expect(without.ratios.cibil["paired gc ours/apollo"]).toBeUndefined();
    expect(without.systems.cibil.ours.pairedGc).toBeUndefined();
    expect(without.ratios.cibil["paired cpu ours/apollo"].perRound.map(r3)).toEqual([1.08, 1.048, 1.039]);
  });
});
