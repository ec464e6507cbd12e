import { Summarised } from "../../../src/logging/summarised";

describe("Summarised", () => {
  it("logs the first occurrence, counts the rest of the interval, and reports the count with the next line", () => {
    let now = 1_000;
    const summary = new Summarised(10_000, () => now);
    expect(summary.take()).toBe(0);
    for (let i = 0; i < 5; i++) expect(summary.take()).toBeNull();
    now += 9_999;
    expect(summary.take()).toBeNull();
    now += 1;
    expect(summary.take()).toBe(6);
    now += 60_000;
    expect(summary.take()).toBe(0);
  });

  it("with a burst, logs that many lines an interval, then counts the rest for the next interval's first line", () => {
    let now = 1_000;
    const summary = new Summarised(10_000, () => now, 3);
    expect([summary.take(), summary.take(), summary.take()]).toEqual([0, 0, 0]);
    for (let i = 0; i < 4; i++) expect(summary.take()).toBeNull();
    now += 10_000;
    expect([summary.take(), summary.take(), summary.take(), summary.take()]).toEqual([4, 0, 0, null]);
  });
});
