import { monotonicNow } from "../util/clock";
import type { Logger } from "./logger";

/** The interval of a summarised line's first lines and summary (ms): as admission's overload summary's. */
export const SUMMARY_INTERVAL_MS = 10_000;

/**
 * Distinct reasons a SummarisedLines counts apart by default; past them, the others are counted under `other`. A user
 * with more reasons of its own says how many (`maxReasons`): the upstream attempts' lines take one per endpoint and
 * outcome (aopay/client.ts UPSTREAM_LINE_REASONS).
 */
export const MAX_SUMMARY_REASONS = 16;

/**
 * A line an outside request can cause once per request beside its access line (a refusal, a client's own bad input),
 * or that every request meets while a condition of the whole process lasts (the shared store unreachable, an in-memory
 * store full): the first `perInterval` of each reason in each interval (SUMMARY_INTERVAL_MS, 10 s) are written as they
 * were, request id and all, so that an operator can find one; the rest are counted by reason, and once the interval is
 * over one summary line says how many were not written and why (`report`: summaryLines writes it). Without it, an
 * attacker repeating such a request set the rate of a warning line (a stack trace with it, for some) at no cost: the
 * log pipeline fills and pays for it, real alerts are buried, and pino's serialisation costs CPU per request; 1,000 OTP
 * sends refused with Redis down wrote 1,000 error lines of 1.5 kB with their stacks. The summary is written by a timer
 * at the interval's end (unref'd: it keeps no process alive) or at `flush` (the server's close: the last interval is
 * written too), not by the next line written (as an earlier design did): a flood that stops is counted at once, not
 * when (if ever) the condition comes back. Metrics count every occurrence, written or not. `reason`s must be fixed
 * texts (never client text): `maxReasons` of them at most (MAX_SUMMARY_REASONS by default), the rest as `other`.
 * The first lines are counted per reason: shared, a client flooding one reason (its own wrong OTPs) took every line
 * of the interval, and another reason's first line (AOPay refusing our credentials, with its error) was never written.
 * So `maxReasons` must cover every reason its user takes: past it, the reasons that come last share `other` and its
 * first lines, and one of them flooded hides the others' (16 for the upstream attempts' 66 reasons: an outage's or a
 * client's first 16 took them, and AOPay's first OUTCOME_UNKNOWN of another endpoint was never written;
 * test/integration/upstream-line-reasons.test.ts). At most (maxReasons + 1) x perInterval lines an interval.
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
    /** Reasons counted apart (`other` past them): every reason the user takes. */
    private readonly maxReasons = MAX_SUMMARY_REASONS,
  ) {}

  /** True: write this line. False: it is counted under `reason`, for the interval's summary. */
  take(reason: string): boolean {
    const t = this.now();
    if (t - this.#windowStart >= this.intervalMs) {
      this.flush();
      this.#windowStart = t;
    }
    const key = this.#written.has(reason) || this.#written.size < this.maxReasons ? reason : "other";
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

/** How a summarised line's summary is written (summaryLines). */
export interface SummaryLineOptions {
  /** The summary's level: the lines' own (default warn). */
  level?: "info" | "warn" | "error";
  /** Lines written as they were per reason and interval. */
  perInterval: number;
  /** The summary's opening, given how many were not written: `upstream refused ${n} more calls`. */
  head: (suppressed: number) => string;
  /** Who counts each one, if not their access lines (default "their access lines say so, each"). */
  each?: string;
  /** Fixed fields of the summary beside `suppressed`, `notLogged` and `overSeconds` (a code, a store's name). */
  fields?: Record<string, unknown>;
  /** Default SUMMARY_INTERVAL_MS (10 s). */
  intervalMs?: number;
  now?: () => number;
  /** How many reasons are counted apart: every one the user takes (default MAX_SUMMARY_REASONS, 16). */
  maxReasons?: number;
}

/**
 * A SummarisedLines whose summary is written to the process's `log` in the one shape every summarised line has
 * (docs/operations.md "Summarised lines"): `suppressed` (how many were not written), `notLogged` (how many by reason),
 * `overSeconds` (since the interval began), and a message `<head> in the last <s> s, not logged one by one (at most <n>
 * per <interval> s; <each>)`. The process's logger, not a request's: the summary is of many requests, and a request id
 * on it would name one of them.
 */
export function summaryLines(
  log: Pick<Logger, "info" | "warn" | "error">,
  options: SummaryLineOptions,
): SummarisedLines {
  const intervalMs = options.intervalMs ?? SUMMARY_INTERVAL_MS;
  const level = options.level ?? "warn";
  const each = options.each ?? "their access lines say so, each";
  return new SummarisedLines(
    (notLogged, suppressed, overMs) => {
      const overSeconds = Math.round(overMs / 1_000);
      log[level](
        { ...options.fields, suppressed, notLogged, overSeconds },
        `${options.head(suppressed)} in the last ${overSeconds} s, not logged one by one (at most ` +
          `${options.perInterval} per ${intervalMs / 1_000} s; ${each})`,
      );
    },
    options.perInterval,
    intervalMs,
    options.now,
    options.maxReasons,
  );
}

/**
 * An error line for a throw where none was expected (a background retry's own code, a consumer of Redis INFO reads),
 * written once per `kind` in `seen` for `seen`'s life, each later throw of that kind not logged: the code runs again
 * at every retry or interval, a line each would flood the log. The error's name only, never its message or fields
 * (they are not the caller's to know: a message may quote what it was handed). The logger's own throw (or the error's
 * name getter's) is swallowed: the caller goes on whatever the log does. Used by store-failure.ts `settled` and
 * RedisServerCheck's guarded consumers (protection/redis.ts).
 */
export function logThrowOnce(
  seen: Set<string>,
  kind: string,
  log: Pick<Logger, "error">,
  error: unknown,
  fields: Record<string, unknown>,
  message: string,
): void {
  if (seen.has(kind)) return;
  seen.add(kind);
  try {
    log.error({ ...fields, err: { name: error instanceof Error ? error.name : typeof error } }, message);
  } catch {
    // The logger itself threw (or the error's name getter): nothing more to say.
  }
}
