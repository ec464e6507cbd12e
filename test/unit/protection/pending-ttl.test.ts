import { loadConfig } from "../../../src/config";
import { createLogger } from "../../../src/logging/logger";
import { createProtection } from "../../../src/protection";
import {
  FirstRegistrationPendingError,
  MOST_DEADLINE_MS,
  MOST_IDEMPOTENCY_PENDING_MS,
  RegistrationRaceError,
} from "../../../src/protection/registered-mobiles";
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
        // Its request may still run (120 s allowed): about one upstream call, not the record's 299 s left.
        expect(await protection.guard.run(repeat.req)).toEqual({ kind: "in-flight", retryAfterMs: 2_000 });
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

/**
 * A repeat of a key whose request is gone is told how long the record still answers in flight, not 2 s again and
 * again: the pending time (60 s with the default deadlines of 10 s) runs on after the longest a request runs, and
 * nothing turns the record sooner (idempotency-store.ts; send-guard.ts inFlightWaitMs). In memory, the request is gone
 * when a bug (or a store refusing its result) left its record pending: here, a call that never answers.
 */
describe("an Idempotency-Key whose request is gone: told the record's time left (createProtection, in memory)", () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_750_000_000_000 }));
  afterEach(() => jest.useRealTimers());

  it("2 s while its request may run (12 s: 10 s deadline and 2 s), then the time until OUTCOME_UNKNOWN", async () => {
    const config = loadConfig({ NODE_ENV: "test" });
    const { protection, close } = createProtection(
      config,
      createLogger({ level: "error", destination: new LogCapture() }),
    );
    try {
      const first = request({ key: "k-1", answer: () => new Promise<string>(() => undefined) });
      void protection.guard.run(first.req);
      const repeat = async () => protection.guard.run(request({ key: "k-1" }).req);
      await jest.advanceTimersByTimeAsync(12_000);
      expect(await repeat()).toEqual({ kind: "in-flight", retryAfterMs: 2_000 });
      await jest.advanceTimersByTimeAsync(1);
      // Taken longer ago than any request runs: its 47,999 ms left, which a client waits once.
      expect(await repeat()).toEqual({ kind: "in-flight", retryAfterMs: 47_999 });
      await jest.advanceTimersByTimeAsync(27_999);
      expect(await repeat()).toEqual({ kind: "in-flight", retryAfterMs: 20_000 });
      await jest.advanceTimersByTimeAsync(20_000);
      expect(await repeat()).toEqual({ kind: "replayed", result: "failure:OUTCOME_UNKNOWN" });
      expect(first.calls).toEqual([true]);
    } finally {
      await close();
    }
  });
});

/**
 * A send's mark and a first registration's hold, left to expire when the call's outcome is unknown (AOPay may still
 * send that OTP, or take that registration), must outlive the request by as much with long deadlines as with short
 * ones. Both lived 2 minutes from their start whatever REQUEST_DEADLINE_MS said: with a 10 s request they outlived its
 * end by 110 s, but a request allowed 120 s and cut at 119.9 s left them 0.1 s, and a registration of the PAN with
 * another mobile went through while AOPay could still be sending (test/e2e/registration-race.test.ts shows why that
 * sends the OTP to that mobile on no budget of it).
 */
describe("a send's mark and a first registration's hold outlive a long request (createProtection)", () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_750_000_000_000 }));
  afterEach(() => jest.useRealTimers());

  it("REQUEST_DEADLINE_MS=120000: 30 s after a call cut at its deadline, its PAN's registrations are still refused", async () => {
    const config = loadConfig({ NODE_ENV: "test", REQUEST_DEADLINE_MS: "120000", AOPAY_DEADLINE_MS: "120000" });
    const { protection, close } = createProtection(
      config,
      createLogger({ level: "error", destination: new LogCapture() }),
    );
    const store = protection.registeredMobiles;
    try {
      // A GenerateOTP to a registered customer, cut by its deadline with its outcome unknown.
      await store.remember("760191701", "9876500701", "ABCPE0701F");
      await store.sending("760191701");
      // A first registration of another PAN, cut the same way.
      await store.registering("ABCPE0702F", "9876500702", "first");
      await jest.advanceTimersByTimeAsync(119_900);
      await store.sent("760191701", true);
      await store.firstEnded("ABCPE0702F", "first", true);
      await jest.advanceTimersByTimeAsync(30_000);
      await expect(async () => store.registering("ABCPE0701F", "9876500703")).rejects.toThrow(RegistrationRaceError);
      await expect(async () => store.registering("ABCPE0702F", "9876500704", "second")).rejects.toThrow(
        FirstRegistrationPendingError,
      );
    } finally {
      await close();
    }
  });
});

// Another replica's record is read against the longest pending time any settings give (idempotency-store.ts
// furthestPending): a deadline setting that took more would make its records unreadable to the others again.
describe("MOST_IDEMPOTENCY_PENDING_MS bounds every replica's pending time", () => {
  it.each([["REQUEST_DEADLINE_MS"], ["AOPAY_DEADLINE_MS"]])("%s takes at most MOST_DEADLINE_MS", (name) => {
    expect(() => loadConfig({ NODE_ENV: "test", [name]: String(MOST_DEADLINE_MS) })).not.toThrow();
    expect(() => loadConfig({ NODE_ENV: "test", [name]: String(MOST_DEADLINE_MS + 1) })).toThrow(name);
  });

  it("is the pending time of a replica with both deadlines at their most: 360 s", () => {
    expect(MOST_IDEMPOTENCY_PENDING_MS).toBe(360_000);
  });
});
