import { retryStoreWrite, STORE_RETRY_FIRST_MS, STORE_RETRY_MAX_MS } from "../../../src/protection/store-failure";

/**
 * The one background retry loop of the protection stores' writes (store-failure.ts retryStoreWrite: a key's settle and
 * a registration's mobile in send-guard.ts, a held consent in consent-store.ts). Its callers' suites drive it through
 * real stores (send-guard-settle, held-consent, redis-full, redis-blip); here its schedule and its three ends are
 * pinned on jest's clock, which the callers' suites cannot read exactly.
 */
describe("retryStoreWrite", () => {
  beforeEach(() => jest.useFakeTimers({ now: 0 }));
  afterEach(() => jest.useRealTimers());

  it("waits STORE_RETRY_FIRST_MS, doubling, at most STORE_RETRY_MAX_MS apart, until a write lands", async () => {
    const attempts: number[] = [];
    const ended = retryStoreWrite({
      afterWait: () => "attempt",
      attempt: async () => {
        attempts.push(Date.now());
        if (attempts.length < 6) throw new Error(`refused ${attempts.length}`);
      },
    });
    await jest.advanceTimersByTimeAsync(20_000);
    await expect(ended).resolves.toEqual({ end: "written" });
    expect(STORE_RETRY_FIRST_MS).toBe(200);
    expect(STORE_RETRY_MAX_MS).toBe(2_000);
    // 200, +400, +800, +1,600, then +2,000 (capped), +2,000.
    expect(attempts).toEqual([200, 600, 1_400, 3_000, 5_000, 7_000]);
  });

  it("gives up before a wait that would end out of time, with the last attempt's error", async () => {
    const attempts: number[] = [];
    const ended = retryStoreWrite({
      inTimeFor: (delay) => Date.now() + delay <= 1_500,
      afterWait: () => "attempt",
      attempt: async () => {
        attempts.push(Date.now());
        throw new Error(`refused at ${Date.now()}`);
      },
    });
    await jest.advanceTimersByTimeAsync(20_000);
    const end = await ended;
    // 200 and 600 are in time; 600 + 800 = 1,400 too; 1,400 + 1,600 = 3,000 is not: no fourth wait.
    expect(attempts).toEqual([200, 600, 1_400]);
    expect(end).toEqual({ end: "given up", lastError: new Error("refused at 1400") });
  });

  it("gives up with no attempt made when the first wait is already out of time", async () => {
    let attempted = false;
    const ended = retryStoreWrite({
      inTimeFor: () => false,
      afterWait: () => "attempt",
      attempt: async () => {
        attempted = true;
      },
    });
    await jest.advanceTimersByTimeAsync(0);
    await expect(ended).resolves.toEqual({ end: "given up", lastError: undefined });
    expect(attempted).toBe(false);
  });

  it("after a wait: `give up` and `stop` end it without an attempt, and they are told apart", async () => {
    for (const after of ["give up", "stop"] as const) {
      let attempts = 0;
      let waits = 0;
      const ended = retryStoreWrite({
        afterWait: () => (++waits === 3 ? after : "attempt"),
        attempt: async () => {
          attempts++;
          throw new Error("refused");
        },
      });
      await jest.advanceTimersByTimeAsync(20_000);
      const end = await ended;
      expect(attempts).toBe(2);
      expect(end).toEqual(after === "stop" ? { end: "stopped" } : { end: "given up", lastError: new Error("refused") });
    }
  });

  it("never keeps a process up: its wait is an unref'd timer", async () => {
    jest.useRealTimers();
    const refs: boolean[] = [];
    const realSetTimeout = global.setTimeout;
    const spy = jest.spyOn(global, "setTimeout").mockImplementation(((fn: () => void, ms?: number) => {
      const timer = realSetTimeout(fn, ms);
      const unref = timer.unref.bind(timer);
      timer.unref = () => {
        refs.push(false);
        return unref();
      };
      return timer;
    }) as typeof setTimeout);
    try {
      await retryStoreWrite({ afterWait: () => "stop", attempt: async () => undefined });
    } finally {
      spy.mockRestore();
    }
    expect(refs).toEqual([false]);
  });
});
