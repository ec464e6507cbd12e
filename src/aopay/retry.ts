import { AopayError } from "./errors";

/**
 * When may a failed upstream call be tried again? Only when it provably never left the process (docs/design/style.md
 * principle 5, docs/security-requirements.md E2): connection refused, DNS failure, connect timeout, a reset during the TLS handshake.
 * Never after the request may have been written (OUTCOME_UNKNOWN), never on an answer (5xx/4xx/rejection), never
 * when our own guards refused (open circuit, OVERLOADED, deadline passed).
 */
export interface RetryPolicy {
  maxRetries: number;
  /** Full-jitter exponential backoff (AWS Architecture Blog, "Exponential Backoff And Jitter"): a delay drawn
   *  uniformly from [0, min(maxDelayMs, baseDelayMs * 2^attempt)]. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** An attempt needs at least this much of the deadline left, after the delay, to be worth starting. */
  minAttemptMs: number;
}

export const DEFAULT_RETRY_POLICY: Omit<RetryPolicy, "maxRetries"> = {
  baseDelayMs: 100,
  maxDelayMs: 1_000,
  minAttemptMs: 250,
};

/** The delay before the next attempt, or null when the call must not be retried. `retriesDone` counts from 0. */
export function retryDelay(
  error: unknown,
  retriesDone: number,
  msLeft: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number | null {
  if (!(error instanceof AopayError) || error.sent) return null;
  // Only an unreachable AOPay: not CIRCUIT_OPEN, OVERLOADED or UPSTREAM_TIMEOUT (our own guards refused).
  if (error.code !== "UPSTREAM_UNAVAILABLE") return null;
  if (retriesDone >= policy.maxRetries) return null;
  const delay = Math.floor(random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retriesDone));
  return msLeft - delay >= policy.minAttemptMs ? delay : null;
}
