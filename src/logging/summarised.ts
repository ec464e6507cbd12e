import { monotonicNow } from "../util/clock";

/** How often, at most, a summarised condition gets a log line (ms): as admission's and the connection guard's. */
export const SUMMARY_INTERVAL_MS = 10_000;

/**
 * A condition of the whole process that every request meets while it lasts (the shared store unreachable, an
 * in-memory store full: protection/index.ts fullWarning, unauthenticated connections over their cap:
 * http/connection-guard.ts): the first request's line is written at once, with its error and request id; the next
 * ones within the interval are counted, and the next line written says how many were not (`suppressed`). A request
 * line each turned an outage under load into a log flood: 1,000 OTP sends refused with Redis down wrote 1,000 error
 * lines of 1.5 kB with their stacks (2 MB with the access lines), where the access line already says
 * PROTECTION_UNAVAILABLE for each.
 */
export class Summarised {
  #windowStart = Number.NEGATIVE_INFINITY;
  #taken = 0;
  #suppressed = 0;

  /**
   * `burst`: how many lines an interval may have (1: the condition's first line, then one per interval). It starts
   * at the first line written after the previous interval ended.
   */
  constructor(
    private readonly intervalMs = SUMMARY_INTERVAL_MS,
    // Monotonic (util/clock.ts): on Date.now a step back of an hour kept a condition (the store down) unlogged an hour.
    private readonly now: () => number = monotonicNow,
    private readonly burst = 1,
  ) {}

  /** Null: do not log this one (counted). Else log it, with this number of occurrences left unlogged before it. */
  take(): number | null {
    const t = this.now();
    if (t - this.#windowStart >= this.intervalMs) {
      this.#windowStart = t;
      this.#taken = 0;
    }
    if (this.#taken >= this.burst) {
      this.#suppressed++;
      return null;
    }
    this.#taken++;
    const suppressed = this.#suppressed;
    this.#suppressed = 0;
    return suppressed;
  }
}
