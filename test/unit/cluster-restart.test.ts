import { restartDelayMs } from "../../src/cluster";

describe("restartDelayMs: a worker that keeps dying young is restarted ever more slowly", () => {
  it("starts at 1 s, doubles, and stops at 30 s", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map(restartDelayMs)).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000,
    ]);
  });
});
