import { Summarised, SUMMARY_INTERVAL_MS } from "../logging/summarised";
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
 * whole: UNDOCUMENTED_LINES_PER_INTERVAL lines per 10 s, the next line saying how many were left out (`suppressed`).
 */
export class UndocumentedFieldsLog {
  /** Per shape: when its last line was written, and the answers with it since. */
  readonly #shapes = new Map<string, { loggedAt: number; since: number }>();
  readonly #lines: Summarised;

  constructor(
    private readonly now: () => number = monotonicNow,
    private readonly repeatMs = UNDOCUMENTED_REPEAT_MS,
  ) {
    this.#lines = new Summarised(SUMMARY_INTERVAL_MS, now, UNDOCUMENTED_LINES_PER_INTERVAL);
  }

  /**
   * Null: no line for this answer (counted). Else write one, with `repeats` (answers of this shape since its last
   * line, 0 the first time) and `suppressed` (lines of any shape left out by the overall bound before this one).
   */
  take(endpoint: string, keys: readonly string[]): { repeats: number; suppressed: number } | null {
    const shape = `${endpoint}\u0000${keys.join("\u0000")}`;
    const t = this.now();
    const known = this.#shapes.get(shape);
    if (known !== undefined && t - known.loggedAt < this.repeatMs) {
      known.since++;
      return null;
    }
    const suppressed = this.#lines.take();
    if (suppressed === null) {
      if (known !== undefined) known.since++;
      return null;
    }
    if (known === undefined && this.#shapes.size >= MAX_SHAPES) this.#shapes.clear();
    this.#shapes.set(shape, { loggedAt: t, since: 0 });
    return { repeats: known?.since ?? 0, suppressed };
  }
}
