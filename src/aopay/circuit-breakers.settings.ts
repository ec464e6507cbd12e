import { defineSettings, int, type ValuesOf } from "../settings/schema";

/** Circuit breaker per endpoint family (opossum 10's rules, circuit-breakers.ts; docs/security-requirements.md E5). */
export interface BreakerConfig {
  /** Failure percentage over the rolling window that opens the circuit. */
  errorThresholdPercentage: number;
  /** Calls in the window before the percentage counts (opossum's default 0 would open on the first failure). */
  volumeThreshold: number;
  /** How long the circuit stays open before one probe is let through. */
  resetTimeoutMs: number;
  rollingWindowMs: number;
  /**
   * An attempt cut short by a deadline its client shortened (x-request-timeout-ms) counts as a failure once it has
   * waited this long for AOPay; cut sooner, it is not counted (CircuitBreaker.inconclusive): see DEFAULT_BREAKER.
   */
  slowCallMs: number;
}

export const DEFAULT_BREAKER: BreakerConfig = {
  errorThresholdPercentage: 50,
  volumeThreshold: 10,
  resetTimeoutMs: 30_000,
  rollingWindowMs: 10_000,
  // A client may shorten its request's deadline at will: cut at 1 ms, its calls said nothing of AOPay, and eleven of
  // them opened the circuit for every client with AOPay healthy (test/e2e/operations.test.ts). But not counting every
  // cut a client chose would keep the circuit closed through an AOPay that hangs, for clients that all send a deadline
  // shorter than the server's (an app with an 8 s timeout sends 7 s: cut before AOPAY_HEADERS_TIMEOUT_MS, 8 s). A cut
  // after this long says AOPay was slow whoever set the deadline, and a client cannot make a healthy AOPay that slow.
  // AOPay's docs are silent on its latency: 5 s is more than half the headers timeout, and far above the simulator's.
  slowCallMs: 5_000,
};

/** One circuit per endpoint family (src/aopay/circuit-breakers.ts; docs/security-requirements.md E5). */
export const breakerSettings = defineSettings({
  title: "Circuit breaker",
  module: "src/aopay/circuit-breakers.ts",
  prefixes: ["BREAKER_"],
  settings: {
    BREAKER_ERROR_PERCENT: int({
      default: DEFAULT_BREAKER.errorThresholdPercentage,
      min: 1,
      max: 100,
      doc: "failure percentage that opens an endpoint family's circuit",
    }),
    BREAKER_VOLUME_THRESHOLD: int({
      default: DEFAULT_BREAKER.volumeThreshold,
      min: 1,
      max: 100_000,
      doc: "calls in the window before the percentage counts",
    }),
    BREAKER_WINDOW_MS: int({
      default: DEFAULT_BREAKER.rollingWindowMs,
      min: 1_000,
      max: 3_600_000,
      doc: "rolling window of the breaker's statistics",
    }),
    BREAKER_RESET_MS: int({
      default: DEFAULT_BREAKER.resetTimeoutMs,
      min: 100,
      max: 3_600_000,
      doc: "how long a circuit stays open before one probe is let through",
    }),
    BREAKER_SLOW_CALL_MS: int({
      default: DEFAULT_BREAKER.slowCallMs,
      min: 0,
      max: 3_600_000,
      doc:
        "a call cut short by a deadline its client shortened (`x-request-timeout-ms`) counts as a failure once it has waited this long " +
        "for AOPay; sooner, it is not counted (the client's choice says nothing of AOPay). `0`: every such cut counts",
    }),
  },
});

export function breakerConfig(v: ValuesOf<typeof breakerSettings>): BreakerConfig {
  return {
    errorThresholdPercentage: v.BREAKER_ERROR_PERCENT,
    volumeThreshold: v.BREAKER_VOLUME_THRESHOLD,
    resetTimeoutMs: v.BREAKER_RESET_MS,
    rollingWindowMs: v.BREAKER_WINDOW_MS,
    slowCallMs: v.BREAKER_SLOW_CALL_MS,
  };
}
