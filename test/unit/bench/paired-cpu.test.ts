// The bench's phase D (CPU per request with every system driven at once): its options, its header and how its runs
// become ratios and a target (bench/lib/options.js, bench/lib/phases.js, bench/lib/summary.js). Phase A alone measured
// identical code at 0.65× to 1.23× itself by round on this host; phase D's figures only help if they are read per
// round, pairwise, as these hold.
/* eslint-disable @typescript-eslint/no-require-imports */
type PairedOptions = {
  phases: string[];
  warmup: number;
  warmupRequests: number;
  connections: number;
  pairedRate: number;
  pairedWarmup: number;
  pairedDuration: number;
};
const { parseOptions } = require("../../../bench/lib/options") as {
  parseOptions: (argv: string[]) => PairedOptions;
};
const { phaseDHeader } = require("../../../bench/lib/phases") as { phaseDHeader: (o: PairedOptions) => string };
const { summarise, evaluateTargets } = require("../../../bench/lib/summary") as {
  summarise: (
    report: unknown,
    keys: string[],
    mutations: string[],
  ) => { ratios: Record<string, Record<string, { median: number; perRound: number[] }>> };
  evaluateTargets: (report: unknown) => Array<{ name: string; value: string; pass: boolean | null }>;
};
/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * A phase-D row as phases.js records it: per system its window's CPU per request (and its main thread's, `main`, half
 * of it unless given) and rate, and a passed check.
 */
function row(cpu: Record<string, number>, main: Record<string, number> = {}) {
  const bySystem = Object.fromEntries(
    Object.entries(cpu).map(([k, us]) => [
      k,
      {
        paired: { cpuUsPerRequest: us, mainThreadCpuUsPerRequest: main[k] ?? us / 2, okPerSec: 171 },
        hits: { pass: true },
        peakRss: 1,
        errorTotal: 0,
        undocumented: 0,
      },
    ]),
  );
  return { aeps: bySystem };
}

/** A report of phase D alone (the options summary.js reads, no other phase), from its rows. */
function phaseDOnly(rows: ReturnType<typeof row>[]) {
  return { options: { pairedRate: 171 }, phaseA: [], phaseB: [], phaseC: [], phaseD: rows };
}

describe("bench phase D (paired CPU per request)", () => {
  it("runs every phase by default and shares 1,200 requests/s among the systems unless --paired-rate says", () => {
    expect(parseOptions([]).phases).toEqual(["A", "B", "C", "D"]);
    expect(parseOptions(["--systems", "floor,apollo,rest,ours,ours-redis,ours-idem"]).pairedRate).toBe(200);
    expect(parseOptions(["--systems", "floor,apollo,ours", "--phases", "d"]).pairedRate).toBe(400);
    expect(parseOptions(["--paired-rate", "250"]).pairedRate).toBe(250);
  });

  it("measures 60 s windows unless --paired-duration says (a mark-compact a minute must not decide the ratio)", () => {
    expect(parseOptions([]).pairedDuration).toBe(60);
    expect(parseOptions(["--paired-duration", "20"]).pairedDuration).toBe(20);
  });

  it("warms at the paired rate for the time 20,000 requests take unless --paired-warmup says, apart from --warmup", () => {
    // The tier-up to TurboFan and ours' first mark-compact come after a number of requests, not a time: the default
    // is the seconds the paired rate takes to send 20,000 to each system (rounded up), 100 s at 200 req/s each.
    expect(parseOptions([]).pairedWarmup).toBe(100);
    expect(parseOptions(["--systems", "floor,apollo,ours"]).pairedWarmup).toBe(50);
    expect(parseOptions(["--paired-rate", "300"]).pairedWarmup).toBe(67);
    expect(parseOptions(["--paired-rate", "350"]).pairedWarmup).toBe(58);
    expect(parseOptions(["--paired-warmup", "25"]).pairedWarmup).toBe(25);
    expect(parseOptions(["--paired-warmup", "0"]).pairedWarmup).toBe(100);
    expect(parseOptions(["--quick"]).pairedWarmup).toBe(1);
    // Phase B's --warmup is its own: neither sets the other.
    const both = parseOptions(["--warmup", "5", "--paired-warmup", "30"]);
    expect([both.warmup, both.pairedWarmup]).toEqual([5, 30]);
    expect(parseOptions(["--warmup", "5"]).pairedWarmup).toBe(100);
    expect(parseOptions(["--paired-warmup", "30"]).warmup).toBe(2);
  });

  it("refuses a paired warm-up under 1 s (the rate's streams start over the first second) or not a number", () => {
    expect(() => parseOptions(["--paired-warmup", "0.5"])).toThrow(/--paired-warmup must be >= 1/);
    expect(() => parseOptions(["--paired-warmup=-30"])).toThrow(/--paired-warmup must be a number >= 0/);
    expect(() => parseOptions(["--paired-warmup", "40s"])).toThrow(/--paired-warmup must be a number >= 0/);
  });

  it("says in phase D's header how long the paired warm-up lasts, in seconds and requests, and the window", () => {
    const header = phaseDHeader(parseOptions(["--systems", "floor,apollo,ours"]));
    expect(header).toContain("each warmed by 3,000 answers at 64 connections");
    expect(header).toContain(
      "each at 400 req/s: a warm-up of 50 s (20,000 requests each), then CPU over a 60 s window",
    );
    expect(phaseDHeader(parseOptions(["--paired-warmup", "25", "--paired-duration", "20"]))).toContain(
      "each at 200 req/s: a warm-up of 25 s (5,000 requests each), then CPU over a 20 s window",
    );
  });

  it("refuses an unknown phase, and phase B without the phase-A rates it is set from", () => {
    expect(() => parseOptions(["--phases", "A,E"])).toThrow(/unknown phase E/);
    expect(() => parseOptions(["--phases", "B"])).toThrow(/phase B without phase A needs --rate/);
    expect(parseOptions(["--phases", "B", "--rate", "500"]).phases).toEqual(["B"]);
  });

  it("reads ratios per round (a slow round slows both systems alike) and judges the target on their median", () => {
    // Round 2 is twice as slow for everyone: per-round ratios stay 0.9, a ratio of medians would not.
    const report = phaseDOnly([
      row({ apollo: 100, ours: 90, "ours-base": 91 }),
      row({ apollo: 400, ours: 360, "ours-base": 350 }),
      row({ apollo: 110, ours: 99, "ours-base": 100 }),
    ]);
    const summary = summarise(report, ["apollo", "ours", "ours-base"], ["aeps"]);
    const r = summary.ratios.aeps;
    expect(r["paired cpu ours/apollo"].perRound.map((v) => +v.toFixed(3))).toEqual([0.9, 0.9, 0.9]);
    expect(r["paired cpu ours/apollo"].median).toBeCloseTo(0.9, 6);
    expect(r["paired cpu ours-base/ours"].perRound.map((v) => +v.toFixed(3))).toEqual([1.011, 0.972, 1.01]);
    expect(r["cpu ours/apollo"]).toBeUndefined();
    const targets = evaluateTargets({ ...report, summary });
    const paired = targets.find((t) => t.name.startsWith("aeps: the same, paired at 171 req/s"));
    expect(paired).toMatchObject({ value: "0.90× Apollo's", pass: true });
    // Without phase A the saturation target has nothing to judge: n/a, not a pass.
    expect(targets.find((t) => t.name === "aeps: server CPU/request ≤ minimal Apollo's")?.pass).toBeNull();
  });

  it("splits each paired ratio by thread: the event loop's, and the rest of the process's", () => {
    // ours costs 10 % more in all; in its main thread the same as Apollo, in its other threads 20 µs more.
    const report = phaseDOnly([
      row({ apollo: 200, ours: 220 }, { apollo: 160, ours: 160 }),
      row({ apollo: 400, ours: 440 }, { apollo: 320, ours: 320 }),
      row({ apollo: 210, ours: 231 }, { apollo: 160, ours: 168 }),
    ]);
    const r = summarise(report, ["apollo", "ours"], ["aeps"]).ratios.aeps;
    expect(r["paired cpu ours/apollo"].perRound.map((v) => +v.toFixed(3))).toEqual([1.1, 1.1, 1.1]);
    expect(r["paired main ours/apollo"].perRound.map((v) => +v.toFixed(3))).toEqual([1, 1, 1.05]);
    expect(r["paired other threads ours/apollo"].perRound.map((v) => +v.toFixed(3))).toEqual([1.5, 1.5, 1.26]);
    expect(r["paired main ours/apollo"].median).toBeCloseTo(1, 6);
    expect(r["paired other threads ours/apollo"].median).toBeCloseTo(1.5, 6);
  });
});
