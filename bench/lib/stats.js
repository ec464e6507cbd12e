// @ts-check
"use strict";
/** Small statistics helpers. Percentiles use the nearest-rank method on the sorted values. */

function median(/** @type {number[]} */ values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** Nearest-rank percentile of an ascending array, p in [0, 100]. */
function rank(/** @type {Float64Array | number[]} */ sorted, /** @type {number} */ p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** p50, p90, p99, max and mean of `values` (any unit), plus how many there were. */
function percentiles(/** @type {number[]} */ values) {
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const x of sorted) sum += x;
  return {
    p50: rank(sorted, 50),
    p90: rank(sorted, 90),
    p99: rank(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
    mean: sorted.length ? sum / sorted.length : NaN,
    count: sorted.length,
  };
}

/** (max - min) / median: how far apart the rounds were, relative to their median. */
function spread(/** @type {number[]} */ values) {
  const v = values.filter((x) => Number.isFinite(x));
  if (v.length < 2) return 0;
  return (Math.max(...v) - Math.min(...v)) / median(v);
}

module.exports = { median, percentiles, spread };
