import type { Logger } from "../logging/logger";
import { type SummarisedLines, summaryLines } from "../logging/summarised";
import { monotonicNow } from "../util/clock";

/** How often one endpoint's same set of undocumented keys gets a line again (ms). Default 10 minutes. */
export const UNDOCUMENTED_REPEAT_MS = 10 * 60_000;

/** At most this many "undocumented fields" lines per SUMMARY_INTERVAL_MS (10 s), whatever the shapes. */
export const UNDOCUMENTED_LINES_PER_INTERVAL = 10;

/** Shapes remembered at most (endpoint and key names): past it the memory starts again, so a shape may log again. */
const MAX_SHAPES = 256;

/**
 * Which AOPay answers with undocumented keys get the "upstream answer has undocumented fields" line (client.ts). The
 * line is how operators learn AOPay's real shapes (docs/upstream/aopay-api.md Observation 10), and a shape once seen
 * is learnt: if AOPay always adds a key, a line per answer would double the log (every request's access line has a
 * twin) and cost each request its serialisation. So a shape (the endpoint and its undocumented key names, as logged:
 * scrubbed) gets a line when first seen, then again at most every UNDOCUMENTED_REPEAT_MS, with `repeats`: how many
 * answers had it since its last line. Shapes that change with every answer (a key naming a customer) are bounded as a
 * whole: UNDOCUMENTED_LINES_PER_INTERVAL lines per 10 s, those left out counted in one summary line at the
 * interval's end (logging/summarised.ts summaryLines); a shape left out is not remembered, so it is named when it
 * comes again.
 */
export class UndocumentedFieldsLog {
  /** Per shape: when its last line was written, and the answers with it since. */
  readonly #shapes = new Map<string, { loggedAt: number; since: number }>();
  /** The overall bound; null without a process logger (client tests): every new shape written. */
  readonly #lines: SummarisedLines | null;

  constructor(
    /** The process's logger, for the summary of the lines left out; none: no overall bound. */
    log?: Pick<Logger, "info" | "warn" | "error">,
    private readonly now: () => number = monotonicNow,
    private readonly repeatMs = UNDOCUMENTED_REPEAT_MS,
  ) {
    this.#lines =
      log === undefined
        ? null
        : summaryLines(log, {
            level: "info",
            perInterval: UNDOCUMENTED_LINES_PER_INTERVAL,
            head: (n) => `upstream answer has undocumented fields: ${n} more answers of shapes not named`,
            each: "a shape left out is named when it comes again",
            now,
          });
  }

  /** Writes the summary of the lines left out this interval (the client's close). */
  flush(): void {
    this.#lines?.flush();
  }

  /**
   * Null: no line for this answer (counted). Else write one, with `repeats` (answers of this shape since its last
   * line, 0 the first time).
   */
  take(endpoint: string, keys: readonly string[]): { repeats: number } | null {
    const shape = `${endpoint}\u0000${keys.join("\u0000")}`;
    const t = this.now();
    const known = this.#shapes.get(shape);
    if (known !== undefined && t - known.loggedAt < this.repeatMs) {
      known.since++;
      return null;
    }
    // One reason: the bound is over every shape, as before (by endpoint, the first lines would be per endpoint too:
    // 11 x 10 of them).
    if (this.#lines !== null && !this.#lines.take("undocumented fields")) {
      if (known !== undefined) known.since++;
      return null;
    }
    if (known === undefined && this.#shapes.size >= MAX_SHAPES) this.#shapes.clear();
    this.#shapes.set(shape, { loggedAt: t, since: 0 });
    return { repeats: known?.since ?? 0 };
  }
}
