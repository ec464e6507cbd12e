import { CircuitBreakers } from "../../../src/aopay/circuit-breakers";
import type { AopayError } from "../../../src/aopay/errors";
import { classifyFailure } from "../../../src/aopay/outcome";
import { DeadlineTimer } from "../../../src/aopay/transport";
import { MemoryConsentStore } from "../../../src/protection/consent-store";
import { MemoryIdempotencyStore } from "../../../src/protection/idempotency-store";
import { KeyHasher } from "../../../src/protection/key-hasher";
import { OtpThrottle, type Throttled } from "../../../src/protection/otp-throttle";
import { MemoryRegisteredMobileStore } from "../../../src/protection/memory-registered-mobiles";
import { deriveStoreKey, StoreSealer } from "../../../src/protection/store-sealer";
import { SummarisedLines } from "../../../src/logging/summarised";
import { monotonicNow } from "../../../src/util/clock";
import { throttleConfig } from "../../helpers/throttle";

/**
 * A step of the wall clock (NTP correcting a drifted host, `date -s`, a VM resumed), simulated without root: Date.now
 * is replaced, before anything under test is made (the old code read `Date.now` into its default clock when made), by
 * the real one plus `step`. Only Date.now moves; real time passes as it does. Each case reads a duration that must
 * not move with it (util/clock.ts). An hour is far beyond any slack these cases allow (a few hundred ms of scheduling).
 */
const HOUR = 3_600_000;
let step = 0;
const realNow = Date.now.bind(Date);
beforeEach(() => {
  step = 0;
  jest.spyOn(Date, "now").mockImplementation(() => realNow() + step);
});
afterEach(() => jest.restoreAllMocks());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hasher = new KeyHasher(Buffer.from("c".repeat(32)));
const sealer = new StoreSealer([deriveStoreKey(Buffer.from("c".repeat(32)))]);
const subject = {
  destinations: [{ kind: "mobile" as const, value: "9876543210" }],
  ip: "203.0.113.9",
  clientId: "app",
};

describe("the in-memory OTP throttle across a wall-clock step", () => {
  const config = throttleConfig({ cooldownSeconds: 60 });

  it("a step forward of an hour does not end a 60 s cooldown (no second SMS inside it)", () => {
    const t = new OtpThrottle(config, hasher, null);
    expect(t.reserve(subject)).toMatchObject({ allowed: true });
    step = HOUR;
    const second = t.reserve(subject) as Throttled;
    expect(second).toMatchObject({ allowed: false, code: "OTP_COOLDOWN" });
    expect(second.retryAfterSeconds).toBeLessThanOrEqual(60);
  });

  it("a step back of an hour does not lock the customer out for 61 minutes", () => {
    const t = new OtpThrottle(config, hasher, null);
    const first = t.reserve(subject);
    expect(first).toMatchObject({ allowed: true, nextSendInMs: 60_000 });
    step = -HOUR;
    const second = t.reserve(subject) as Throttled;
    expect(second).toMatchObject({ allowed: false, code: "OTP_COOLDOWN" });
    // 60, or 59 if a second passed meanwhile; 3,660 when the window's end was read off the stepped clock.
    expect(second.retryAfterSeconds).toBeGreaterThanOrEqual(59);
    expect(second.retryAfterSeconds).toBeLessThanOrEqual(60);
  });
});

describe("the in-memory stores' TTLs across a wall-clock step", () => {
  it("idempotency: a step forward of 25 h does not drop a pending record (a repeat of the key would send again)", async () => {
    const store = new MemoryIdempotencyStore(sealer);
    expect(await store.begin("k", "fp", 60_000, 86_400_000)).toMatchObject({ kind: "acquired" });
    step = 25 * HOUR;
    // Nor its time in flight: still about its whole pending time.
    expect(await store.begin("k", "fp", 60_000, 86_400_000)).toEqual({
      kind: "in-flight",
      pendingForMs: expect.closeTo(60_000, -3) as number,
    });
  });

  it("idempotency: a step back does not keep a record past its TTL", async () => {
    const store = new MemoryIdempotencyStore(sealer);
    expect(await store.begin("k", "fp", 200)).toMatchObject({ kind: "acquired" });
    step = -HOUR;
    await sleep(400); // twice the TTL: slack for a loaded machine; the old code kept it for another hour
    expect(await store.begin("k", "fp", 200)).toMatchObject({ kind: "acquired" });
  });

  it("consent: a step back of an hour does not serve credit reports an hour past the consent window", async () => {
    const store = new MemoryConsentStore();
    await store.grant("consent", 200);
    expect(await store.has("consent")).toBe(true);
    step = -HOUR;
    await sleep(400);
    expect(await store.has("consent")).toBe(false);
  });

  it("consent: a step forward does not end a consent early", async () => {
    const store = new MemoryConsentStore();
    await store.grant("consent", 30 * 60_000);
    step = HOUR;
    expect(await store.has("consent")).toBe(true);
  });

  it("registered mobile: a step forward past its TTL does not forget it (its sends would count on the CIBIL id only)", async () => {
    const store = new MemoryRegisteredMobileStore(hasher, sealer, { maxKeys: 10, ttlMs: 60_000 });
    await store.remember("760191459", "9876512345", "ABCPE1234F");
    step = HOUR;
    expect(store.recall("760191459")).toEqual(["9876512345"]);
  });
});

describe("the circuit breaker's retryAfterSeconds across a wall-clock step", () => {
  const CONFIG = {
    errorThresholdPercentage: 50,
    volumeThreshold: 1,
    resetTimeoutMs: 30_000,
    rollingWindowMs: 10_000,
    slowCallMs: 5_000,
  };
  const unavailable = () => classifyFailure("UPSTREAM_UNAVAILABLE", "x", { endpoint: "aeps.resendOtp", sent: false });

  function refusalAfter(by: number): number {
    const breakers = new CircuitBreakers(CONFIG);
    try {
      const breaker = breakers.of("aeps");
      breaker.admit("aeps.resendOtp");
      breaker.failed(unavailable());
      expect(breakers.states()).toEqual({ aeps: "open" });
      step = by;
      try {
        breaker.admit("aeps.resendOtp");
      } catch (error) {
        return (error as AopayError).retryAfterSeconds!;
      }
      throw new Error("admitted while open");
    } finally {
      breakers.shutdown();
    }
  }

  it("says the 30 s the breaker stays open after a step back of an hour (not 3,630 s)", () => {
    expect(refusalAfter(-HOUR)).toBe(30);
  });

  it("says 30 s after a step forward of an hour (not 1 s: the breaker stays open 30 s, on its timer)", () => {
    expect(refusalAfter(HOUR)).toBe(30);
  });
});

describe("an upstream call's deadline across a wall-clock step", () => {
  it("a step back of an hour does not hold a call past its deadline", async () => {
    const timer = new DeadlineTimer();
    let expiredAfter = -1;
    const t0 = monotonicNow();
    timer.add({ expire: () => (expiredAfter = monotonicNow() - t0) }, t0 + 100);
    step = -HOUR;
    await sleep(600); // the deadline plus 500 ms of slack; the old code re-armed its timer for the hour
    expect(expiredAfter).toBeGreaterThanOrEqual(99); // timers may fire a millisecond early (rounding)
    expect(expiredAfter).toBeLessThan(600);
  });

  it("a step forward of an hour does not expire a call at once", async () => {
    const timer = new DeadlineTimer();
    let expiredAfter = -1;
    const t0 = monotonicNow();
    const entry = timer.add({ expire: () => (expiredAfter = monotonicNow() - t0) }, t0 + 300);
    step = HOUR;
    // A call added now arms the timer at once (an earlier deadline than none): the old code expired both.
    const other = timer.add({ expire: () => undefined }, t0 + 200);
    await sleep(100);
    expect(expiredAfter).toBe(-1);
    await sleep(400);
    expect(expiredAfter).toBeGreaterThanOrEqual(299);
    timer.cancel(entry);
    timer.cancel(other);
  });
});

describe("a summarised log line across a wall-clock step", () => {
  it("a step back of an hour does not silence a condition's next line for the hour (Redis down, unlogged)", async () => {
    const lines = new SummarisedLines(() => undefined, 1, 100);
    expect(lines.take("down")).toBe(true);
    step = -HOUR;
    await sleep(250); // the interval plus slack
    expect(lines.take("down")).toBe(true);
    lines.flush();
  });
});
