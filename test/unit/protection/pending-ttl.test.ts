import { loadConfig } from "../../../src/config";
import { createLogger } from "../../../src/logging/logger";
import { createProtection } from "../../../src/protection";
import { LogCapture } from "../../helpers/log-capture";
import { request } from "../../helpers/send-guard";

/**
 * An Idempotency-Key's pending record must outlive the longest its request can run: REQUEST_DEADLINE_MS (up to 120 s)
 * bounds a request's upstream attempts, and the record's pending time was max(60 s, 3 x AOPAY_DEADLINE_MS) whatever
 * the request deadline, kept at least that long (max with IDEMPOTENCY_TTL_SECONDS, which may be 1 s). A request still
 * upstream at 61 s lost its record, and a repeat of its key took the key as new and sent a second OTP. Timed by jest's
 * fake timers (they drive Date.now and performance.now alike), so no minute is waited for.
 */
describe("an Idempotency-Key's record outlives its request (createProtection's pending time)", () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_750_000_000_000 }));
  afterEach(() => jest.useRealTimers());

  // With a 1 s TTL the record was gone (a second OTP); with the 24 h default the repeat met OUTCOME_UNKNOWN, as if the
  // request had died.
  it.each([["1"], ["86400"]])(
    "IDEMPOTENCY_TTL_SECONDS=%s: a repeat 61 s into a request allowed 120 s is told in flight, not sent again",
    async (ttl) => {
      const config = loadConfig({ NODE_ENV: "test", REQUEST_DEADLINE_MS: "120000", IDEMPOTENCY_TTL_SECONDS: ttl });
      const { protection, close } = createProtection(
        config,
        createLogger({ level: "error", destination: new LogCapture() }),
      );
      try {
        // The first request's call answers 100 s in: within its 120 s deadline.
        const first = request({ key: "k-1", answer: () => new Promise((r) => setTimeout(() => r("ok"), 100_000)) });
        const running = protection.guard.run(first.req);
        await jest.advanceTimersByTimeAsync(61_000);
        const repeat = request({ key: "k-1" });
        expect(await protection.guard.run(repeat.req)).toEqual({ kind: "in-flight" });
        expect(repeat.calls).toEqual([]);
        await jest.advanceTimersByTimeAsync(40_000);
        expect(await running).toMatchObject({ kind: "sent" });
        expect(first.calls).toEqual([true]);
      } finally {
        await close();
      }
    },
  );
});
