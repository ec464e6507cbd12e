// What the one-system tools share (bench/lib/one-system.js, bench/lib/valgrind.js): the node arguments of a system
// with another build's script (bench/alloc.js and bench/refusal-micro.js `--dist`), and a callgrind dump's total
// (bench/callgrind.js, bench/refusal-micro.js and bench/answer-micro.js). Each tool had its own copy; a copy that
// swapped the wrong argument ran the wrong build with nothing to show it.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

interface Sys {
  key: string;
  ours: boolean;
  args: string[];
}
/* eslint-disable @typescript-eslint/no-require-imports */
const { systemArgs, pickSystem } = require("../../../bench/lib/one-system") as {
  systemArgs: (sys: Sys, dist: string | undefined, flags?: string[]) => string[];
  pickSystem: (values: Record<string, string>) => { sys: Sys };
};
const { dumpSummary } = require("../../../bench/lib/valgrind") as {
  dumpSummary: (file: string) => { ir: number; thread: number };
};
/* eslint-enable @typescript-eslint/no-require-imports */

const ROOT = path.join(__dirname, "../../..");
const dir = mkdtempSync(path.join(tmpdir(), "one-system-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pick = (system: string) =>
  pickSystem({ mutation: "cibil", system, requests: "1", warmup: "0", "redis-url": "redis://127.0.0.1:6379" }).sys;

describe("bench one-system tools: a system's arguments and a callgrind dump's total", () => {
  it("keeps the system's flags, adds the tool's after them, and swaps only the script for --dist's build", () => {
    const ours = pick("ours");
    const flags = ours.args.slice(0, -1);
    expect(ours.args.at(-1)).toBe(path.join(ROOT, "dist/index.js"));
    expect(systemArgs(ours, undefined)).toEqual(ours.args);
    expect(systemArgs(ours, "/tmp/other-dist", ["--trace-gc-nvp"])).toEqual([
      ...flags,
      "--trace-gc-nvp",
      "/tmp/other-dist/index.js",
    ]);
    expect(systemArgs(ours, "relative-dist").at(-1)).toBe(path.resolve("relative-dist", "index.js"));
    const apollo = pick("apollo");
    expect(systemArgs(apollo, undefined, ["--x"]).slice(-2)).toEqual(["--x", apollo.args.at(-1)]);
    expect(() => systemArgs(apollo, "/tmp/other-dist")).toThrow(/--dist is for our server's systems/);
  });

  it("reads a dump's summary and thread from its header, and refuses a dump without one", () => {
    const dump = (name: string, header: string) => {
      const file = path.join(dir, name);
      writeFileSync(file, `# callgrind format\nversion: 1\n${header}events: Ir\n\nfn=main\n1 5\n\ntotals: 5\n`);
      return file;
    };
    expect(dumpSummary(dump("threaded", "thread: 3\nsummary: 1053372466\n"))).toEqual({ ir: 1053372466, thread: 3 });
    const whole = dumpSummary(dump("whole", "summary: 42\n"));
    expect(whole.ir).toBe(42);
    expect(whole.thread).toBeNaN();
    // totals: at the end is not the header's summary.
    expect(() => dumpSummary(dump("cut", ""))).toThrow(/no summary in .*cut/);
  });
});
