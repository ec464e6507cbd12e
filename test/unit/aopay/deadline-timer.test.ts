import { monotonicNow } from "../../../src/util/clock";
import { DeadlineTimer, type Expirable } from "../../../src/aopay/transport";

function item(log: Array<[string, number]>, name: string, t0: number): Expirable {
  return { expire: () => log.push([name, monotonicNow() - t0]) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("DeadlineTimer: every deadline on one timer", () => {
  it("expires each item at its own deadline, whatever the order they were added in", async () => {
    const timer = new DeadlineTimer();
    const log: Array<[string, number]> = [];
    const t0 = monotonicNow();
    timer.add(item(log, "late", t0), t0 + 300);
    timer.add(item(log, "early", t0), t0 + 60); // earlier than the armed one: re-armed
    timer.add(item(log, "middle", t0), t0 + 150);
    await sleep(400);
    expect(log.map(([name]) => name)).toEqual(["early", "middle", "late"]);
    const at = Object.fromEntries(log);
    expect(at.early).toBeGreaterThanOrEqual(60);
    expect(at.middle).toBeGreaterThanOrEqual(150);
    expect(at.late).toBeGreaterThanOrEqual(300);
    expect(at.early).toBeLessThan(150);
  });

  it("a cancelled item is never expired; a deadline already passed expires on the next timers phase", async () => {
    const timer = new DeadlineTimer();
    const log: Array<[string, number]> = [];
    const t0 = monotonicNow();
    const cancelled = timer.add(item(log, "cancelled", t0), t0 + 50);
    timer.add(item(log, "kept", t0), t0 + 80);
    timer.cancel(cancelled);
    timer.cancel(cancelled); // a second cancel is a no-op
    timer.add(item(log, "past", t0), t0 - 10);
    await sleep(150);
    expect(log.map(([name]) => name)).toEqual(["past", "kept"]);
  });

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
