// @ts-check
"use strict";
/**
 * The overload scenario's clients: `clients` closed loops (each one connection, one request at a time, the next as
 * soon as the answer is in), on an undici Pool of `clients` connections. Unlike autocannon's duration mode, the
 * loops stop *sending* at the end and every request still in flight is awaited (answer, or the client's timeout), so
 * each request ends in exactly one class and the upstream check (lib/hits.js) accounts for all of them.
 *
 * Clients start spread over `rampSec` (thousands of connects at once overflow a busy server's accept backlog, 511 by
 * default in Node, and the clients whose SYN was dropped wait for retransmissions of 1, 3, 7 s). The window is
 * `measureSec` after `warmupSec`; counts are by completion inside the window, latency samples by start inside it.
 * A request is timed out by the client after `timeoutSec` (AbortSignal.timeout), as an impatient app would.
 */
const { Pool } = require("undici");
const { classify } = require("./mutations");
const { percentiles } = require("./stats");

/**
 * @param {{ url: string, mutation: import("./mutations").Mutation, bodies: { next(): { id: number, body: string } },
 *   headers?: Record<string, string>, clients: number, rampSec: number, warmupSec: number, measureSec: number,
 *   timeoutSec: number, onWindowStart?: () => unknown, onWindowEnd?: () => unknown }} opts
 */
async function closedLoop(opts) {
  const target = new URL(opts.url);
  const pool = new Pool(target.origin, { connections: opts.clients, pipelining: 1, headersTimeout: 0, bodyTimeout: 0 });
  const headers = { "content-type": "application/json", ...opts.headers };
  let stopping = false;
  let windowStart = Infinity;
  let windowEnd = Infinity;
  const classes = /** @type {const} */ (["ok", "shed", "non2xx", "graphqlError", "wrong", "timeout", "error"]);
  /** @typedef {(typeof classes)[number]} Verdict */
  const zero = () => /** @type {Record<Verdict, number>} */ (Object.fromEntries(classes.map((c) => [c, 0])));
  const window = zero();
  const run = zero();
  /** @type {Record<Verdict, number[]>} latency samples (µs) of requests started in the window, by class */
  const samples = /** @type {any} */ (Object.fromEntries(classes.map((c) => [c, []])));
  /** @type {number[]} */
  const okIds = [];
  /** @type {number[]} */
  const shedIds = [];
  /** @type {Record<string, number>} HTTP statuses of the window's shed answers (503 before GraphQL, 200 for a typed OVERLOADED) */
  const shedStatuses = {};

  async function one() {
    const { id, body } = opts.bodies.next();
    const t0 = performance.now();
    /** @type {Verdict} */
    let verdict;
    let status = 0;
    try {
      const res = await pool.request({
        path: target.pathname,
        method: "POST",
        headers,
        body,
        signal: AbortSignal.timeout(opts.timeoutSec * 1000),
      });
      const text = await res.body.text();
      status = res.statusCode;
      verdict = classify(opts.mutation, status, text, id);
    } catch (e) {
      verdict =
        e instanceof Error && (e.name === "TimeoutError" || /abort|timeout/i.test(e.message)) ? "timeout" : "error";
    }
    const t1 = performance.now();
    run[verdict] += 1;
    if (verdict === "ok") okIds.push(id);
    if (verdict === "shed") shedIds.push(id);
    if (t1 >= windowStart && t1 < windowEnd) {
      window[verdict] += 1;
      if (verdict === "shed") shedStatuses[status] = (shedStatuses[status] ?? 0) + 1;
    }
    if (t0 >= windowStart && t0 < windowEnd) samples[verdict].push((t1 - t0) * 1000);
  }

  async function loop(/** @type {number} */ delayMs) {
    await sleep(delayMs);
    while (!stopping) await one();
  }

  const started = performance.now();
  const loops = Array.from({ length: opts.clients }, (_, i) => loop((i * opts.rampSec * 1000) / opts.clients));
  await sleep(started + opts.warmupSec * 1000 - performance.now());
  opts.onWindowStart?.();
  windowStart = performance.now();
  await sleep(windowStart + opts.measureSec * 1000 - performance.now());
  windowEnd = performance.now();
  opts.onWindowEnd?.();
  stopping = true;
  const drainStart = performance.now();
  await Promise.all(loops);
  const drainSec = (performance.now() - drainStart) / 1000;
  await pool.close();
  const windowSec = (windowEnd - windowStart) / 1000;
  return {
    windowSec,
    drainSec,
    window,
    run,
    servedPerSec: window.ok / windowSec,
    shedPerSec: window.shed / windowSec,
    latencyUs: {
      served: percentiles(samples.ok),
      shed: percentiles(samples.shed),
      timeout: percentiles(samples.timeout),
    },
    shedStatuses,
    okIds,
    shedIds,
  };
}

/** @typedef {Awaited<ReturnType<typeof closedLoop>>} ClosedLoopResult */

const sleep = (/** @type {number} */ ms) => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());

module.exports = { closedLoop };
