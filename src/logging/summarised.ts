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

/** Distinct reasons a SummarisedLines counts apart; past them, the others are counted under `other`. */
export const MAX_SUMMARY_REASONS = 16;

/**
 * A line an outside request can cause once per request beside its access line (a refusal, a client's own bad input):
 * the first `perInterval` of each reason in each interval (SUMMARY_INTERVAL_MS, 10 s) are written as they were, request
 * id and all, so that an operator can find one; the rest are counted by reason, and once the interval is over one
 * summary line says how many were not written and why (`report`). Without it, an attacker repeating such a request set
 * the rate of a warning line (a stack trace with it, for some) at no cost: the log pipeline fills and pays for it, real
 * alerts are buried, and pino's serialisation costs CPU per request. The summary is written by a timer at the
 * interval's end (unref'd: it keeps no process alive) or at `flush` (the server's close: the last interval is written
 * too), not by the next line as Summarised does: a flood that stops is counted at once. Metrics count every occurrence,
 * written or not. `reason`s must be fixed texts (never client text): MAX_SUMMARY_REASONS of them at most, the rest as
 * `other`.
 * The first lines are counted per reason: shared, a client flooding one reason (its own wrong OTPs) took every line
 * of the interval, and another reason's first line (AOPay refusing our credentials, with its error) was never written.
 * At most (MAX_SUMMARY_REASONS + 1) x perInterval lines an interval.
 */
export class SummarisedLines {
  #windowStart = Number.NEGATIVE_INFINITY;
  /** Lines written this interval, by reason (the reasons past MAX_SUMMARY_REASONS as `other`). */
  #written = new Map<string, number>();
  #notWritten = new Map<string, number>();
  #total = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    /** Writes the summary: the lines not written by reason, their total, and the ms since the interval began. */
    private readonly report: (notWritten: Readonly<Record<string, number>>, total: number, overMs: number) => void,
    /** Lines written as they were per interval. */
    private readonly perInterval: number,
    private readonly intervalMs = SUMMARY_INTERVAL_MS,
    private readonly now: () => number = monotonicNow,
  ) {}

  /** True: write this line. False: it is counted under `reason`, for the interval's summary. */
  take(reason: string): boolean {
    const t = this.now();
    if (t - this.#windowStart >= this.intervalMs) {
      this.flush();
      this.#windowStart = t;
    }
    const key = this.#written.has(reason) || this.#written.size < MAX_SUMMARY_REASONS ? reason : "other";
    const written = this.#written.get(key) ?? 0;
    if (written < this.perInterval) {
      this.#written.set(key, written + 1);
      return true;
    }
    this.#total++;
    this.#notWritten.set(key, (this.#notWritten.get(key) ?? 0) + 1);
    this.#timer ??= setTimeout(() => this.flush(), this.#windowStart + this.intervalMs - t).unref();
    return false;
  }

  /** Writes the summary of the lines not written since the interval began, if any, and ends the interval. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#total > 0) this.report(Object.fromEntries(this.#notWritten), this.#total, this.now() - this.#windowStart);
    this.#notWritten = new Map();
    this.#total = 0;
    this.#written = new Map();
    this.#windowStart = Number.NEGATIVE_INFINITY;
  }
}
