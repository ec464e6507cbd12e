import { Admission } from "../../../src/http/admission";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Holds this thread (and so the event loop) for `ms`. */
function block(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // busy
  }
}

/**
 * Admission's event-loop reading, with a real perf_hooks histogram. Node's Histogram#reset() also forgets when its
 * timer last ran (src/histogram.cc: prev_ = 0), so the first delay after each reading was never recorded: a stall
 * that began right after a reading left no trace, and a 600 ms block went unrefused in about 1 run in 10 of
 * overload.test (a debug run showed readings of n=0 and n=2 samples at ~50 ms around every missed block).
 */
describe("admission: a stall of the event loop is read whatever its phase against the readings", () => {
  it("eight 400 ms stalls, each at another point of the 100 ms interval: every one refuses for a while", async () => {
    const admission = new Admission({
      maxInFlight: 0,
      maxInFlightPerClient: 0,
      maxEventLoopDelayMs: 100,
      sampleIntervalMs: 100,
      retryAfterSeconds: 1,
      refusedReadsPerTurn: 0,
    });
    try {
      await sleep(250); // a few quiet readings first
      const missed: number[] = [];
      for (let trial = 0; trial < 8; trial++) {
        await sleep(20 + ((trial * 37) % 100));
        block(400);
        let refused = false;
        // The stall is in the reading taken at the first tick after it, or at the next one (if the histogram's own
        // timer runs after the reading's): it is refused within two intervals, and stays refused for one. The window
        // is five intervals: in CI, with other Jest workers on the two shared cores, this process's timers ran late
        // enough that a 250 ms window closed before the second reading (trial 0, once). A lost stall (the bug above)
        // is never refused, whatever the window.
        const until = Date.now() + 500;
        while (!refused && Date.now() < until) {
          await sleep(5);
          if (admission.admit() === null) admission.release();
          else refused = true;
        }
        if (!refused) missed.push(trial);
        await sleep(250);
      }
      expect(missed).toEqual([]);
    } finally {
      admission.close();
    }
  });
});
