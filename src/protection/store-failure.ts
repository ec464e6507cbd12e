import type { Logger } from "../logging/logger";
import type { Summarised } from "../logging/summarised";
import type { ProtectionStoreError } from "./errors";
import { ClientShareFullError, MemoryStoreFullError, type SharedTable } from "./memory-counters";

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
  /** The caller's summary of store-failure lines: one line per interval while the store is down. */
  summary: Summarised;
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
 * - anything else (Redis unreachable, a record that does not open): an error line, summarised (one per
 *   SUMMARY_INTERVAL_MS while it lasts, logging/summarised.ts), and counted as unavailable.
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
    const suppressed = sinks.summary.take();
    if (suppressed !== null) sinks.log.error({ err: error, suppressed }, sinks.message);
    kind = "unavailable";
  }
  sinks.unavailable?.(sinks.field);
  return kind;
}
