import { createLogger } from "../../../src/logging/logger";
import {
  UNDOCUMENTED_LINES_PER_INTERVAL,
  UNDOCUMENTED_REPEAT_MS,
  UndocumentedFieldsLog,
} from "../../../src/aopay/undocumented-fields";
import { LogCapture } from "../../helpers/log-capture";

describe("UndocumentedFieldsLog: which answers with undocumented keys get a line", () => {
  let now = 0;
  let capture = new LogCapture();
  const log = () => new UndocumentedFieldsLog(createLogger({ level: "debug", destination: capture }), () => now);
  beforeEach(() => {
    now = 1_000_000;
    capture = new LogCapture();
  });

  it("a shape: its first answer, then again after the repeat interval with the answers in between", () => {
    const l = log();
    expect(l.take("aeps.resendOtp", ["a", "b"])).toEqual({ repeats: 0 });
    for (let i = 0; i < 5; i++) expect(l.take("aeps.resendOtp", ["a", "b"])).toBeNull();
    now += UNDOCUMENTED_REPEAT_MS - 1;
    expect(l.take("aeps.resendOtp", ["a", "b"])).toBeNull();
    now += 1;
    expect(l.take("aeps.resendOtp", ["a", "b"])).toEqual({ repeats: 6 });
    expect(l.take("aeps.resendOtp", ["a", "b"])).toBeNull();
  });

  it("the endpoint and every key name make the shape (no join collisions)", () => {
    const l = log();
    expect(l.take("e", ["a,b"])).not.toBeNull();
    expect(l.take("e", ["a", "b"])).not.toBeNull();
    expect(l.take("e", ["a"])).not.toBeNull();
    expect(l.take("f", ["a"])).not.toBeNull();
    expect(l.take("e", ["b", "a"])).not.toBeNull();
  });

  it("new shapes without end: at most UNDOCUMENTED_LINES_PER_INTERVAL lines per 10 s, a summary counts the rest", () => {
    const l = log();
    const taken = Array.from({ length: 25 }, (_, i) => l.take("e", [`k${i}`]));
    expect(taken.filter((x) => x !== null)).toHaveLength(UNDOCUMENTED_LINES_PER_INTERVAL);
    now += 10_000;
    expect(l.take("e", ["k24"])).toEqual({ repeats: 0 });
    l.flush();
    expect(capture.records()).toEqual([
      expect.objectContaining({
        level: "info",
        suppressed: 25 - UNDOCUMENTED_LINES_PER_INTERVAL,
        notLogged: { "undocumented fields": 25 - UNDOCUMENTED_LINES_PER_INTERVAL },
        msg: expect.stringMatching(/^upstream answer has undocumented fields: 15 more answers of shapes not named/),
      }),
    ]);
  });

  it("a shape left out by the overall bound is not taken as seen: it gets its line later", () => {
    const l = log();
    for (let i = 0; i < UNDOCUMENTED_LINES_PER_INTERVAL; i++) l.take("e", [`k${i}`]);
    expect(l.take("e", ["late"])).toBeNull();
    now += 10_000;
    expect(l.take("e", ["late"])).toEqual({ repeats: 0 });
  });

  it("memory is bounded: past 256 shapes it starts again, so an old shape may log again", () => {
    const l = log();
    for (let i = 0; i < 256; i++) {
      now += 1_000; // one a second: the overall bound never refuses
      expect(l.take("e", [`k${i}`])).not.toBeNull();
    }
    now += 1_000;
    expect(l.take("e", ["k0"])).toBeNull();
    expect(l.take("e", ["k256"])).not.toBeNull();
    now += 1_000;
    expect(l.take("e", ["k0"])).toEqual({ repeats: 0 });
  });
});
