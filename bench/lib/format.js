// @ts-check
"use strict";
/** Number formatting and error totals shared by the progress lines and the report. */

const fmt = (/** @type {number | undefined | null} */ n, digits = 0) =>
  n === undefined || n === null || !Number.isFinite(n)
    ? "—"
    : n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const mb = (/** @type {number} */ bytes) => fmt(bytes / 1e6, 0);
const sum = (/** @type {number[]} */ v) => v.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);

/**
 * Everything that went wrong in one load run, warm-up included: connection errors and timeouts, non-2xx, GraphQL
 * errors, wrong or shed answers.
 * @param {{ errors?: number, non2xx?: number, graphqlErrors?: number, wrong?: number, shed?: number } | undefined} run
 */
const answerErrors = (run) =>
  run ? (run.errors ?? 0) + (run.non2xx ?? 0) + (run.graphqlErrors ?? 0) + (run.wrong ?? 0) + (run.shed ?? 0) : 0;

/**
 * Errors of a measured system run: its answers' errors, requests the fake upstream rejected as malformed,
 * error/fatal lines in the system's log, and a failed upstream check (counted as one).
 * @param {any} r a result of harness.withSystem
 * @param {any[]} runs the load runs inside it (their `run` totals)
 */
const runErrors = (r, runs) =>
  sum(runs.map((x) => answerErrors(x?.run ?? x))) +
  (r.upstream?.bad ?? 0) +
  (r.logErrors ?? 0) +
  (r.hits && !r.hits.pass ? 1 : 0);

module.exports = { fmt, mb, sum, answerErrors, runErrors };
