// @ts-check
"use strict";
/**
 * The upstream check: a correct answer counts as work done only if its request reached the upstream, once.
 *
 * Every request of a run has its own destination (lib/mutations.js), the fake upstream records each destination it
 * was asked to send an OTP to and how often (fake-upstream.js), and the bench keeps the destinations of the correct
 * answers. After the run (every request answered or timed out, the system stopped) they are compared:
 *
 * - **ok not at the upstream**: correct answers whose destination the upstream never saw: a cached, replayed,
 *   deduplicated or invented answer. Must be 0.
 * - **sent twice**: destinations the upstream was asked more than once (an OTP sent twice). Must be 0.
 * - **upstream hits without a correct answer**: requests that reached the upstream but whose client got something
 *   else (an error, a timeout, a refusal after the call). Must be 0 in the measured phases; in the overload scenario
 *   these are OTPs sent whose sender never heard (the client timed out or was told something else).
 * - **shed but sent** (overload): answers that said OVERLOADED (nothing was sent) for a destination the upstream did
 *   receive. Must be 0: such a client would retry and send a second OTP.
 *
 * Checking ids rather than counts catches a system that answers some requests from a cache while sending others
 * twice; the counts alone could balance.
 */

const { ask } = require("./proc");

/**
 * @param {{ okIds: number[], shedIds?: number[], upstreamIds: Float64Array | number[], upstreamHits: number,
 *   duplicates: [number, number][], duplicateHits: number }} a
 */
function checkHits(a) {
  const seen = new Set(a.upstreamIds);
  let okMissing = 0;
  /** @type {number[]} */
  const okMissingSample = [];
  for (const id of a.okIds) {
    if (seen.has(id)) continue;
    okMissing += 1;
    if (okMissingSample.length < 5) okMissingSample.push(id);
  }
  let shedButSent = 0;
  for (const id of a.shedIds ?? []) if (seen.has(id)) shedButSent += 1;
  const okReached = a.okIds.length - okMissing;
  const hitsWithoutOk = a.upstreamHits - okReached;
  return {
    ok: a.okIds.length,
    upstreamHits: a.upstreamHits,
    upstreamDestinations: seen.size,
    okMissing,
    okMissingSample,
    sentTwice: a.duplicates.length,
    duplicateHits: a.duplicateHits,
    sentTwiceSample: a.duplicates.slice(0, 5),
    hitsWithoutOk,
    shedButSent,
    /** the strict verdict of a measured run: every correct answer reached the upstream once, and nothing else did */
    pass: a.okIds.length > 0 && okMissing === 0 && a.duplicateHits === 0 && hitsWithoutOk === 0,
  };
}

/** @typedef {ReturnType<typeof checkHits>} HitCheck */

/**
 * The check asked of a running fake upstream (its `stats` and `ids` since the last reset) for one mutation's `key`:
 * lib/harness.js after each phase, callgrind.js and alloc.js after their one run. Returns the upstream's stats too.
 * @param {import("./proc").Started} up @param {string} key @param {number[]} okIds @param {number[]} [shedIds]
 */
async function askHits(up, key, okIds, shedIds) {
  const stats = /** @type {any} */ (await ask(up.child, "stats")).stats;
  const ids = /** @type {any} */ (await ask(up.child, "ids")).ids;
  const hits = checkHits({
    okIds,
    shedIds,
    upstreamIds: ids[key],
    upstreamHits: stats.hits[key],
    duplicates: ids.duplicates[key],
    duplicateHits: stats.duplicateHits[key],
  });
  return { hits, stats };
}

/** One line describing a failed check. @param {HitCheck} h */
function describeHits(h) {
  const parts = [`${h.ok} correct answers, ${h.upstreamHits} upstream hits`];
  if (h.okMissing)
    parts.push(`${h.okMissing} correct answers never reached the upstream (e.g. ${h.okMissingSample.join(", ")})`);
  if (h.duplicateHits) parts.push(`${h.sentTwice} destinations sent twice or more (${h.duplicateHits} extra sends)`);
  if (h.hitsWithoutOk) parts.push(`${h.hitsWithoutOk} upstream hits without a correct answer`);
  if (h.shedButSent) parts.push(`${h.shedButSent} OVERLOADED answers whose OTP was sent`);
  return parts.join("; ");
}

module.exports = { checkHits, describeHits, askHits };
