import type { Logger } from "../logging/logger";
import { logThrowOnce, type SummarisedLines, summaryLines } from "../logging/summarised";
import type { ProtectionStoreError } from "./errors";
import { ClientShareFullError, MemoryStoreFullError, type SharedTable } from "./memory-counters";

/**
 * The store-failure lines' reasons (fixed texts): which refusal it was, as each had a summary of its own before (an
 * OTP send's, a credit-report read's consent check, its read budget), so that one does not hide the others' first line.
 */
export type StoreFailureReason = "otp send" | "consent" | "read budget";

/**
 * At most this many store-failure lines (an error with its stack) per reason and SUMMARY_INTERVAL_MS (10 s); the rest
 * are counted in one summary at the interval's end. While Redis is down every guarded send and every credit-report read
 * meets it: the first tells what failed, the access lines say PROTECTION_UNAVAILABLE for each.
 */
export const STORE_FAILURE_LINES_PER_INTERVAL = 1;

/** At most this many warnings of an Idempotency-Key answered OUTCOME_UNKNOWN per reason and 10 s (keyRecords). */
export const KEY_RECORD_LINES_PER_INTERVAL = 10;

/**
 * The refusals for a failed or full protection store, summarised for the whole process (created with the
 * protection services, protection/index.ts, flushed at their close): `unavailable`, the error lines of a store that
 * failed (refuseForStoreFailure), by StoreFailureReason; `sendsFull`, the send guard's info line for a send refused by
 * a full in-memory table (the table's own warning is summarised apart: index.ts fullWarning).
 */
export class StoreFailureLines {
  readonly unavailable: SummarisedLines;
  readonly sendsFull: SummarisedLines;
  /**
   * The send guard's warning for a repeated Idempotency-Key whose record answers OUTCOME_UNKNOWN (`abandoned`,
   * `unreadable`, `unknown type`; `unopenable`, an error line): its client can repeat that key at will, a line each
   * beside the access line.
   * KEY_RECORD_LINES_PER_INTERVAL per reason and 10 s, the rest in a summary.
   */
  readonly keyRecords: SummarisedLines;

  constructor(log: Logger, now?: () => number) {
    this.unavailable = summaryLines(log, {
      level: "error",
      perInterval: STORE_FAILURE_LINES_PER_INTERVAL,
      head: (n) => `protection store unavailable: ${n} more requests refused`,
      now,
    });
    this.sendsFull = summaryLines(log, {
      level: "info",
      perInterval: STORE_FAILURE_LINES_PER_INTERVAL,
      fields: { otpSend: { refused: "memory store full" } },
      head: (n) => `otp send refused: in-memory store full: ${n} more sends refused`,
      now,
    });
    this.keyRecords = summaryLines(log, {
      perInterval: KEY_RECORD_LINES_PER_INTERVAL,
      head: (n) => `idempotency key answered OUTCOME_UNKNOWN: ${n} more repeats`,
      now,
    });
  }

  /** Writes what the interval has not written yet (the process's close). */
  flush(): void {
    this.unavailable.flush();
    this.sendsFull.flush();
    this.keyRecords.flush();
  }
}

/** How a protection store's failure was sorted (refuseForStoreFailure). */
export type StoreFailureKind = "over-share" | "full" | "unavailable";

/** Where refuseForStoreFailure reports a refusal: the caller's counters and its summarised log line. */
export interface StoreFailureSinks {
  /** The guarded operation (a metric label). */
  field: string;
  /** Counts a request refused for its client's share of an in-memory table (RequestObserver.overShare). */
  overShare?: (field: string, table: SharedTable) => void;
  /** Counts a request refused because a store failed or is full (RequestObserver.protectionUnavailable). */
  unavailable?: (field: string) => void;
  /** A full in-memory store: the caller's own note, if any (the table warns once a minute by itself). */
  full?: () => void;
  /** The process's store-failure lines (StoreFailureLines.unavailable); absent: every line written. */
  summary?: SummarisedLines;
  /** The line's fixed reason in that summary (STORE_FAILURE_REASONS). */
  reason: StoreFailureReason;
  log: Logger;
  /** The store-failure line's message. */
  message: string;
}

/**
 * The one sorting of a protection store's failure into what operators see, for every caller that refuses a request
 * for it (protection/send-guard.ts for writes, graphql/loaders.ts for the read budgets). The request is refused in
 * every case (fail closed); what differs is what counts it:
 * - ClientShareFullError: a client at its share of a shared in-memory table. Its limit, not the store failing: counted
 *   as over share only (nothing to page about); the table warns about it once a minute.
 * - MemoryStoreFullError: the in-memory table full. Counted as unavailable; no error line of its own, the table warns
 *   about it once a minute (protection/index.ts fullWarning); `full` may add the caller's own note.
 * - anything else (Redis unreachable, a record that does not open): an error line, summarised (one per reason and
 *   SUMMARY_INTERVAL_MS while it lasts, then a summary: StoreFailureLines), and counted as unavailable.
 */
export function refuseForStoreFailure(error: ProtectionStoreError, sinks: StoreFailureSinks): StoreFailureKind {
  if (error instanceof ClientShareFullError) {
    sinks.overShare?.(sinks.field, error.table);
    return "over-share";
  }
  let kind: StoreFailureKind;
  if (error instanceof MemoryStoreFullError) {
    sinks.full?.();
    kind = "full";
  } else {
    if (sinks.summary?.take(sinks.reason) ?? true) sinks.log.error({ err: error }, sinks.message);
    kind = "unavailable";
  }
  sinks.unavailable?.(sinks.field);
  return kind;
}

/**
 * A protection-store write that failed is tried again in the background after STORE_RETRY_FIRST_MS (200 ms), doubling,
 * at most STORE_RETRY_MAX_MS (2 s) apart: soon after a Redis restart or failover, and at most one write each 2 s per
 * write still waiting once Redis is away for long (10,000 held consents, MAX_HELD_GRANTS: 5,000 writes a second at
 * most, beside MAX_SETTLING settles; not measured against a Redis coming back).
 */
export const STORE_RETRY_FIRST_MS = 200;
export const STORE_RETRY_MAX_MS = 2_000;

/** What retryStoreWrite asks its caller: when to stop, and the write. */
export interface StoreRetry {
  /** Before each wait: whether an attempt `delay` ms from now is still in time (false: given up). Default: always. */
  inTimeFor?: (delay: number) => boolean;
  /**
   * After each wait, before the attempt: `attempt`; `give up` (the server is draining, the time is over); `stop`
   * (its owner ended it already, e.g. a close that counted it given up, or a newer write that took over: nothing more
   * to say).
   */
  afterWait: () => "attempt" | "give up" | "stop";
  attempt: () => Promise<unknown>;
}

/** How a retryStoreWrite ended; `lastError` is the last attempt's (undefined: given up before any attempt). */
export type StoreRetryEnd = { end: "written" } | { end: "stopped" } | { end: "given up"; lastError: unknown };

/**
 * The one background retry loop of the protection stores' writes (send-guard.ts: a key's settle and a registration's
 * mobile; consent-store.ts: a held consent). It waits on an unref'd timer: a retry never keeps a stopping process up
 * (its owner bounds the wait for it: SendGuard.drain, HeldConsentStore.close). What a success or a give-up logs and
 * counts is the caller's.
 */
export async function retryStoreWrite(retry: StoreRetry): Promise<StoreRetryEnd> {
  let lastError: unknown;
  for (let delay = STORE_RETRY_FIRST_MS; ; delay = Math.min(delay * 2, STORE_RETRY_MAX_MS)) {
    if (retry.inTimeFor && !retry.inTimeFor(delay)) break;
    await new Promise((resolve) => setTimeout(resolve, delay).unref());
    const next = retry.afterWait();
    if (next === "stop") return { end: "stopped" };
    if (next === "give up") break;
    try {
      await retry.attempt();
      return { end: "written" };
    } catch (error) {
      lastError = error;
    }
  }
  return { end: "given up", lastError };
}

/** The background retries whose throw was logged (settled): once each per process. */
const threwOnce = new Set<string>();

/**
 * A background retry's promise (retryStoreWrite and what its caller does with the end: a log line, a counter), made
 * never to reject: a throw of its own was an unhandled rejection, which ends the process (early-faults.ts), every
 * request in flight with it. Logged once per `what` for the process's life, the error's name only (its message is not
 * the retry's to know); the write's own failures are the retry's to report, never thrown here.
 */
export function settled(work: Promise<unknown>, log: Logger, what: string): Promise<void> {
  return work.then(
    () => undefined,
    (error: unknown) =>
      logThrowOnce(
        threwOnce,
        what,
        log,
        error,
        { retry: what },
        `background ${what} retry threw: further throws not logged`,
      ),
  );
}
