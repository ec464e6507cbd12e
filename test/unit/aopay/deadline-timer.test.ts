import { monotonicNow } from "../../../src/util/clock";
import { DeadlineTimer, type Expirable } from "../../../src/aopay/transport";

function item(log: Array<[string, number]>, name: string, t0: number): Expirable {
  return { expire: () => log.push([name, monotonicNow() - t0]) };
}

describe("DeadlineTimer: every deadline on one timer", () => {
  // Jest's fake clock (setTimeout and performance.now, which monotonicNow reads): each item's expiry is checked to the
  // millisecond. With real time, a loaded machine fired "early" past its 150 ms bound, and the bound was the only thing
  // telling a re-armed timer (60 ms) from one left waiting for the 300 ms deadline armed first. A deadline is judged
  // one check phase after its timer fires (setImmediate: the answers already readable are read first,
  // test/integration/event-loop-stall.test.ts), which the fake clock runs a millisecond later: hence each + 1.
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it("expires each item at its own deadline, whatever the order they were added in", () => {
    const timer = new DeadlineTimer();
    const log: Array<[string, number]> = [];
    const t0 = monotonicNow();
    timer.add(item(log, "late", t0), t0 + 300);
    timer.add(item(log, "early", t0), t0 + 60); // earlier than the armed one: re-armed
    timer.add(item(log, "middle", t0), t0 + 150);
    jest.advanceTimersByTime(59);
    expect(log).toEqual([]);
    jest.advanceTimersByTime(400 - 59);
    expect(log).toEqual([
      ["early", 61],
      ["middle", 151],
      ["late", 301],
    ]);
  });

  it("a cancelled item is never expired; a deadline already passed expires on the next loop turn", () => {
    const timer = new DeadlineTimer();
    const log: Array<[string, number]> = [];
    const t0 = monotonicNow();
    const cancelled = timer.add(item(log, "cancelled", t0), t0 + 50);
    timer.add(item(log, "kept", t0), t0 + 80);
    timer.cancel(cancelled);
    timer.cancel(cancelled); // a second cancel is a no-op
    timer.add(item(log, "past", t0), t0 - 10);
    expect(log).toEqual([]); // not synchronously, inside add()
    jest.advanceTimersByTime(0);
    // Its timer fired; the verdict waits for the check phase after the poll phase.
    expect(log).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(log).toEqual([["past", 1]]);
    jest.advanceTimersByTime(150);
    expect(log).toEqual([
      ["past", 1],
      ["kept", 81],
    ]);
  });
});

describe("DeadlineTimer and the process", () => {
  it("holds the process open only while something is pending", async () => {
    const timer = new DeadlineTimer();
    const a: Expirable = { expire: () => undefined };
    const armed = () => (process as unknown as { getActiveResourcesInfo(): string[] }).getActiveResourcesInfo();
    const before = armed().filter((r) => r === "Timeout").length;
    const first = timer.add(a, monotonicNow() + 10_000);
    expect(armed().filter((r) => r === "Timeout").length).toBe(before + 1);
    timer.cancel(first);
    expect(armed().filter((r) => r === "Timeout").length).toBe(before);
    const second = timer.add(a, monotonicNow() + 20_000); // later than the armed (unref'd) timer: the same timer is ref'd again
    expect(armed().filter((r) => r === "Timeout").length).toBe(before + 1);
    const third = timer.add({ expire: () => undefined }, monotonicNow() + 30_000);
    timer.cancel(second); // one still pending: still held
    expect(armed().filter((r) => r === "Timeout").length).toBe(before + 1);
    timer.cancel(third);
    expect(armed().filter((r) => r === "Timeout").length).toBe(before);
  });
});
