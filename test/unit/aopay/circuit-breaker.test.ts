import { CircuitBreakers, type CircuitState } from "../../../src/aopay/circuit-breakers";
import type { AopayError } from "../../../src/aopay/errors";
import { classifyFailure } from "../../../src/aopay/outcome";

const CONFIG = {
  errorThresholdPercentage: 50,
  volumeThreshold: 4,
  resetTimeoutMs: 1_000,
  rollingWindowMs: 10_000,
  slowCallMs: 5_000,
};
const unavailable = () => classifyFailure("UPSTREAM_UNAVAILABLE", "x", { endpoint: "aeps.resendOtp", sent: false });
const rejected = () => classifyFailure("UPSTREAM_REJECTED", "x", { endpoint: "aeps.resendOtp", sent: true });

/** One call through the breaker: "refused" when admit throws, else what `outcome` says happened. */
function call(breakers: CircuitBreakers, outcome: "ok" | Error): "refused" | "made" {
  const breaker = breakers.of("aeps");
  try {
    breaker.admit("aeps.resendOtp");
  } catch (error) {
    expect(error).toMatchObject({ code: "CIRCUIT_OPEN", sent: false });
    return "refused";
  }
  if (outcome === "ok") breaker.succeeded();
  else breaker.failed(outcome);
  return "made";
}

describe("CircuitBreaker: opossum 10's rules without opossum", () => {
  let breakers: CircuitBreakers;
  let changes: Array<[string, CircuitState]>;
  beforeEach(() => {
    jest.useFakeTimers();
    changes = [];
    breakers = new CircuitBreakers(CONFIG, (family, state) => changes.push([family, state]));
  });
  afterEach(() => {
    breakers.shutdown();
    jest.useRealTimers();
  });

  it("keeps no timer while closed: the buckets rotate from the clock when the breaker is used", () => {
    // opossum's interval, every tenth of the window, woke an idle server once a second per family.
    const idle = new CircuitBreakers(CONFIG, () => undefined, ["cibil", "aeps"]);
    try {
      expect(jest.getTimerCount()).toBe(0);
      for (let i = 0; i < 3; i++) call(breakers, unavailable());
      // 9 s later the 3 failures are still in the window: one more is 4 of 4, over the volume and the percentage.
      jest.advanceTimersByTime(CONFIG.rollingWindowMs - 1_000);
      call(breakers, unavailable());
      expect(breakers.states().aeps).toBe("open");
    } finally {
      idle.shutdown();
    }
  });

  it("a window's failures are gone a window later, however long the breaker went unused", () => {
    for (let i = 0; i < 3; i++) call(breakers, unavailable());
    jest.advanceTimersByTime(CONFIG.rollingWindowMs);
    call(breakers, unavailable()); // 1 of 1: under the volume of 4
    expect(breakers.states().aeps).toBe("closed");
    // Many windows later (more rotations than buckets): still empty, and counting again from there.
    for (let i = 0; i < 2; i++) call(breakers, "ok");
    jest.advanceTimersByTime(CONFIG.rollingWindowMs * 7 + 300);
    for (let i = 0; i < 3; i++) call(breakers, unavailable());
    expect(breakers.states().aeps).toBe("closed");
    call(breakers, unavailable());
    expect(breakers.states().aeps).toBe("open");
  });

  it("counts failures only from the volume threshold on, and only over the error percentage", () => {
    for (let i = 0; i < 3; i++) call(breakers, unavailable()); // 3 of 3 failed, under the volume of 4
    expect(breakers.states()).toEqual({ aeps: "closed" });
    call(breakers, "ok"); // 3 of 4: a success does not open
    call(breakers, unavailable()); // 4 of 5 = 80 % > 50 %
    expect(breakers.states()).toEqual({ aeps: "open" });
    expect(changes).toEqual([
      ["aeps", "closed"],
      ["aeps", "open"],
    ]);
  });

  it("exactly 50 % does not open (over the percentage, as opossum's `>`); uncounted failures are successes", () => {
    for (let i = 0; i < 4; i++) call(breakers, i % 2 ? unavailable() : rejected());
    call(breakers, new TypeError("a bug, not AOPay")); // not an AopayError: not counted
    call(breakers, unavailable()); // 3 of 6
    expect(breakers.states().aeps).toBe("closed");
  });

  it("an inconclusive call that ended buckets after it began takes back its own fire, not the current bucket's", () => {
    const breaker = breakers.of("aeps");
    // 20 calls admitted now, each ending inconclusive 3 s (3 buckets of 1 s) later: a client's deadline within
    // BREAKER_SLOW_CALL_MS, or a send dropped after waiting for a socket because its client had gone.
    const admitted = Array.from({ length: 20 }, () => breaker.admit("aeps.resendOtp"));
    jest.advanceTimersByTime(3_000);
    for (const at of admitted) breaker.inconclusive(at);
    // As if they had not happened: 4 failures of 4 calls open it. Their fires left in their bucket, 4 of 24 did not.
    for (let i = 0; i < 4; i++) call(breakers, unavailable());
    expect(breakers.states().aeps).toBe("open");
  });

  it("an inconclusive call whose bucket has left the window takes back nothing else", () => {
    const breaker = breakers.of("aeps");
    const old = breaker.admit("aeps.resendOtp");
    jest.advanceTimersByTime(CONFIG.rollingWindowMs + 1_000);
    for (let i = 0; i < 2; i++) call(breakers, "ok");
    breaker.inconclusive(old); // its bucket is gone: the two successes stay counted
    for (let i = 0; i < 2; i++) call(breakers, unavailable());
    expect(breakers.states().aeps).toBe("closed"); // 2 of 4: not over 50 %
    call(breakers, unavailable());
    expect(breakers.states().aeps).toBe("open"); // 3 of 5
  });

  it("an inconclusive call (cut short by the client's own deadline) neither counts, dilutes nor closes", () => {
    const breaker = breakers.of("aeps");
    const inconclusive = () => {
      breaker.admit("aeps.resendOtp");
      breaker.inconclusive();
    };
    for (let i = 0; i < 20; i++) inconclusive();
    expect(breakers.states().aeps).toBe("closed");
    // Their fires were taken back: 4 failures open the circuit (the volume, 4 calls) as if the 20 had not happened;
    // counted, they would be 4 of 24.
    for (let i = 0; i < 4; i++) call(breakers, unavailable());
    expect(breakers.states().aeps).toBe("open");
    jest.advanceTimersByTime(CONFIG.resetTimeoutMs);
    expect(breakers.states().aeps).toBe("halfOpen");
    // The probe was inconclusive: still half-open, and the next call is let through as the probe.
    inconclusive();
    expect(breakers.states().aeps).toBe("halfOpen");
    expect(call(breakers, "ok")).toBe("made");
    expect(breakers.states().aeps).toBe("closed");
  });

  it("failures older than the rolling window no longer count", () => {
    for (let i = 0; i < 3; i++) call(breakers, unavailable());
    jest.advanceTimersByTime(CONFIG.rollingWindowMs); // ten bucket rotations: the window is empty again
    for (let i = 0; i < 3; i++) call(breakers, "ok");
    call(breakers, unavailable()); // 1 of 4 in the window
    expect(breakers.states().aeps).toBe("closed");
  });

  it("refuses while open, with Retry-After; half-open lets one probe through; an uncounted failure closes it", () => {
    for (let i = 0; i < 4; i++) call(breakers, unavailable());
    expect(call(breakers, "ok")).toBe("refused");
    try {
      breakers.of("aeps").admit("aeps.resendOtp");
    } catch (error) {
      expect((error as AopayError).retryAfterSeconds).toBe(1);
      expect(((error as AopayError).cause as { code: string }).code).toBe("EOPENBREAKER");
    }
    jest.advanceTimersByTime(CONFIG.resetTimeoutMs);
    expect(breakers.states().aeps).toBe("halfOpen");
    const probe = breakers.of("aeps");
    probe.admit("aeps.resendOtp");
    expect(call(breakers, "ok")).toBe("refused"); // the probe is out
    probe.failed(rejected()); // AOPay answered: up
    expect(breakers.states().aeps).toBe("closed");
    expect(changes.map(([, state]) => state)).toEqual(["closed", "open", "halfOpen", "closed"]);
  });

  it("a failed probe opens the circuit again for another resetTimeout", () => {
    for (let i = 0; i < 4; i++) call(breakers, unavailable());
    jest.advanceTimersByTime(CONFIG.resetTimeoutMs);
    expect(call(breakers, unavailable())).toBe("made");
    expect(breakers.states().aeps).toBe("open");
    jest.advanceTimersByTime(CONFIG.resetTimeoutMs - 1);
    expect(call(breakers, "ok")).toBe("refused");
    jest.advanceTimersByTime(1);
    expect(call(breakers, "ok")).toBe("made");
    expect(breakers.states().aeps).toBe("closed");
  });

  it("after shutdown every call is refused (opossum's ESHUTDOWN) and no timer is left", () => {
    call(breakers, "ok");
    breakers.shutdown();
    expect(() => breakers.of("aeps").admit("aeps.resendOtp")).toThrow(
      expect.objectContaining({
        code: "UPSTREAM_UNAVAILABLE",
        sent: false,
        cause: expect.objectContaining({ code: "ESHUTDOWN" }),
      }),
    );
    expect(jest.getTimerCount()).toBe(0);
  });
});
