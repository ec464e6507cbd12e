import { StreamEndLines } from "../../../src/logging/access-log";
import { createLogger } from "../../../src/logging/logger";
import { MAX_SUMMARY_REASONS, SummarisedLines, summaryLines } from "../../../src/logging/summarised";
import { LogCapture } from "../../helpers/log-capture";
import { monotonicNow } from "../../../src/util/clock";

describe("SummarisedLines", () => {
  const reports: Array<[Record<string, number>, number, number]> = [];
  const lines = (now: () => number, intervalMs = 10_000) =>
    new SummarisedLines(
      (byReason, total, overMs) => reports.push([{ ...byReason }, total, overMs]),
      2,
      intervalMs,
      now,
    );
  beforeEach(() => (reports.length = 0));

  it("writes K lines an interval per reason, counts the rest by reason, and reports them when the interval ends", () => {
    let now = 1_000;
    const summary = lines(() => now);
    const taken = ["a", "a", "a", "a", "b", "b", "b"].map((reason) => summary.take(reason));
    expect(taken).toEqual([true, true, false, false, true, true, false]);
    expect(reports).toEqual([]);
    now += 10_000;
    // The next interval's first line: the last interval's summary is written before it.
    expect(summary.take("a")).toBe(true);
    expect(reports).toEqual([[{ a: 2, b: 1 }, 3, 10_000]]);
    summary.flush();
    expect(reports).toHaveLength(1);
  });

  it("writes the summary by itself at the interval's end, with no request after it", async () => {
    const summary = lines(monotonicNow, 50);
    for (let i = 0; i < 5; i++) summary.take("x");
    await new Promise((r) => setTimeout(r, 120));
    expect(reports.map(([byReason, total]) => [byReason, total])).toEqual([[{ x: 3 }, 3]]);
    expect(summary.take("x")).toBe(true);
  });

  it("a flood of one reason does not hide another's first K lines (an attacker's junk, a real refusal)", () => {
    const summary = lines(() => 0);
    for (let i = 0; i < 100; i++) summary.take("junk");
    expect([summary.take("real"), summary.take("real"), summary.take("real")]).toEqual([true, true, false]);
  });

  it(`counts reasons past MAX_SUMMARY_REASONS (${MAX_SUMMARY_REASONS}) as other`, () => {
    const summary = lines(() => 0);
    // 3 of each: K (2) written, 1 counted; the last 3 reasons share `other`, and its K lines.
    let written = 0;
    for (let i = 0; i < MAX_SUMMARY_REASONS + 3; i++) for (let n = 0; n < 3; n++) if (summary.take(`r${i}`)) written++;
    summary.flush();
    expect(written).toBe(2 * (MAX_SUMMARY_REASONS + 1));
    expect(Object.keys(reports[0][0])).toHaveLength(MAX_SUMMARY_REASONS + 1);
    expect(reports[0][0].other).toBe(9 - 2);
    expect(reports[0][1]).toBe(MAX_SUMMARY_REASONS + 7);
  });

  it("counts `maxReasons` reasons apart when its user has more: none of them shares `other`", () => {
    const reasons = MAX_SUMMARY_REASONS + 3;
    const summary = new SummarisedLines(
      (byReason, total, overMs) => reports.push([{ ...byReason }, total, overMs]),
      2,
      10_000,
      () => 0,
      reasons,
    );
    let written = 0;
    for (let i = 0; i < reasons; i++) for (let n = 0; n < 3; n++) if (summary.take(`r${i}`)) written++;
    // Past them (a reason its user did not say it has): `other`.
    for (let n = 0; n < 3; n++) if (summary.take("unlisted")) written++;
    summary.flush();
    expect(written).toBe(2 * (reasons + 1));
    expect(reports[0][0]).toEqual({
      ...Object.fromEntries(Array.from({ length: reasons }, (_, i) => [`r${i}`, 1])),
      other: 1,
    });
  });
});

describe("summaryLines: every summarised line's summary in one shape", () => {
  it("writes suppressed, notLogged and overSeconds, the fixed fields, at the level asked, in the one message", () => {
    const capture = new LogCapture();
    let now = 0;
    const summary = summaryLines(createLogger({ level: "debug", destination: capture }), {
      level: "error",
      perInterval: 1,
      intervalMs: 60_000,
      fields: { memoryStore: { store: "s" } },
      head: (n) => `thing refused: ${n} more requests refused`,
      each: "the metric counts each",
      now: () => now,
    });
    expect([summary.take("a"), summary.take("a"), summary.take("b"), summary.take("b"), summary.take("b")]).toEqual([
      true,
      false,
      true,
      false,
      false,
    ]);
    now = 30_000;
    summary.flush();
    expect(capture.records()).toEqual([
      expect.objectContaining({
        level: "error",
        memoryStore: { store: "s" },
        suppressed: 3,
        notLogged: { a: 1, b: 2 },
        overSeconds: 30,
        msg:
          "thing refused: 3 more requests refused in the last 30 s, not logged one by one (at most 1 per 60 s; " +
          "the metric counts each)",
      }),
    ]);
  });
});

describe("StreamEndLines (logging/access-log.ts): the lines of streamed answers cut short", () => {
  it("a premature close (info) and another error (warn, its code the reason): 10 each, then a summary at each level", () => {
    const capture = new LogCapture();
    const log = createLogger({ level: "info", destination: capture });
    const ends = new StreamEndLines(log, () => 0);
    const closed = Object.assign(new Error("Premature close"), { code: "ERR_STREAM_PREMATURE_CLOSE" });
    const reset = Object.assign(new Error("write EPIPE"), { code: "EPIPE" });
    // A code that is not a fixed token (an error's own text) is never a reason.
    const odd = Object.assign(new Error("odd"), { code: "not a code: 9876543210" });
    for (let i = 0; i < 25; i++) {
      ends.write(log, closed, "/graphiql/*");
      ends.write(log, reset, "/graphql");
    }
    ends.write(log, odd, "/graphql");
    const records = () => capture.records();
    expect(records().filter((r) => r.msg === "stream closed prematurely")).toHaveLength(10);
    const failed = records().filter((r) => r.msg === "response terminated with an error with headers already sent");
    expect(failed).toHaveLength(11);
    expect(failed[0]).toMatchObject({
      level: "warn",
      path: "/graphql",
      err: expect.objectContaining({ code: "EPIPE" }),
    });
    ends.flush();
    const summaries = records().filter((r) => typeof r.suppressed === "number");
    expect(summaries.map((r) => [r.level, r.notLogged, r.suppressed])).toEqual([
      ["info", { ERR_STREAM_PREMATURE_CLOSE: 15 }, 15],
      ["warn", { EPIPE: 15 }, 15],
    ]);
    expect(summaries[0].msg).toMatch(
      /^stream closed prematurely: 15 more streamed answers cut by their clients in the/,
    );
  });
});
