import { Scrubber } from "../../../src/pii/scrub";
import { leastThreadCpuOfLengths, threadCpuMs } from "../../helpers/thread-cpu";

/**
 * The log scrubber's cost grows with a line's length, not with its length times its runs of digits
 * (src/pii/scrub.ts lineMayHoldNumber: OWN_REFERENCE, the one pattern from the line's start for AOPay's reference, read
 * once a line). Round 612a00d ran that pattern for every run LINE_RUN_HINT found (a digit, then nine characters that
 * are no letter or quote), before the charCodeAt and startsWith that had turned away a run not after the key in a few
 * instructions: a line of simple members with a text of `1.........` repeated then cost the length of the members
 * before the key (or of the whole line, without one) per run. An 80 kB line: 0.5 ms before that round, 740 ms after
 * it (a timing loop, node 24); the log path is synchronous, so every request waited. Here such a line must scrub in
 * under 50 ms (the shortest of three timings, after two of a shorter line: a shared host's noise, the JIT's tiers),
 * about 100 times its cost read once a line and a fifteenth of its cost read once a run. A ratio of two lengths' costs
 * was tried and read the JIT's tiers more than the length (0.06 ms against 0.5 for one line, warm and not).
 */

const scrubber = new Scrubber(["bench-registration-id", "bench-company-code"]);
const REFERENCE = "SPCBL2308181502437743aQaHNGxZM";

/** A line of simple members with a text of `units` runs LINE_RUN_HINT finds and no number: `before` the rest. */
const LINES: ReadonlyArray<readonly [string, (units: number) => string]> = [
  [
    "no reference",
    (units) => `{"level":"info","time":1796557635637,"msg":"${"1.........".repeat(units)}","status":200}`,
  ],
  [
    "the text before the reference",
    (units) =>
      `{"level":"info","time":1796557635637,"msg":"${"1.........".repeat(units)}",` +
      `"merchantTransactionId":"${REFERENCE}","status":200}`,
  ],
  [
    "the text after the reference",
    (units) =>
      `{"level":"info","time":1796557635637,"merchantTransactionId":"${REFERENCE}",` +
      `"msg":"${"1.........".repeat(units)}","status":200}`,
  ],
  [
    "the key before the text, its value no reference",
    (units) =>
      `{"level":"info","time":1796557635637,"a":"b","merchantTransactionId":"SPCBL-none",` +
      `"msg":"${"1.........".repeat(units)}","status":200}`,
  ],
];

/**
 * The shortest of three CPU times of this thread (threadCpuMs: what waiting for a shared host's cores and other
 * threads' work do not add) of scrubLine over `line`, in milliseconds; the line must come out whole.
 */
function cost(line: string, runs = 3): number {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    let out = "";
    best = Math.min(
      best,
      threadCpuMs(() => {
        out = scrubber.scrubLine(`${line}\n`);
      }),
    );
    expect(out).toBe(`${line}\n`);
  }
  return best;
}

describe("the log scrubber's cost per line", () => {
  it.each(LINES)("grows with the line's length, not times its runs: %s", (_name, line) => {
    cost(line(1_000));
    expect(cost(line(8_000))).toBeLessThan(50);
    // And by about the lines' ratio (16), not its square (256): the bound above let a milder quadratic pass (n² / 200
    // steps, 32 ms on the 80 kB line). Each length's least of five, alternating (thread-cpu.ts); every line comes out
    // whole.
    const ms = leastThreadCpuOfLengths((units) => cost(line(units), 1), 500, 8_000);
    expect({ ...ms, under: ms.long < 40 * ms.short + 5 }).toEqual({ ...ms, under: true });
  });
});
