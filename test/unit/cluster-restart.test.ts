import { heartbeatIntervalMs, restartDelayMs } from "../../src/cluster";

describe("restartDelayMs: a worker that keeps dying young is restarted ever more slowly", () => {
  it("starts at 1 s, doubles, and stops at 30 s", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map(restartDelayMs)).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000,
    ]);
  });
});

describe("heartbeatIntervalMs: how often the primary asks each worker whether its event loop runs", () => {
  it("is a quarter of WORKER_HANG_TIMEOUT_MS, at least 250 ms and at most 5 s", () => {
    expect([1_000, 2_000, 20_000, 30_000, 3_600_000].map(heartbeatIntervalMs)).toEqual([250, 500, 5_000, 5_000, 5_000]);
  });
});
