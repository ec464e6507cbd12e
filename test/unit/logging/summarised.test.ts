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
});
