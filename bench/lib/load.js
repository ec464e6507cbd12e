// @ts-check
"use strict";
/**
 * Load generation with autocannon as a library, with a measurement window.
 *
 * One autocannon run covers a warm-up and the measurement: its connections stay open across the boundary, so the
 * window sees neither connection set-up nor a cold JIT. Only responses that complete inside the window count. At the
 * window's start and end `onWindowStart`/`onWindowEnd` run (the orchestrator snapshots the server's CPU time there),
 * so "CPU per request" divides the CPU used in the window by the requests answered in it.
 *
 * Throughput counts the responses that complete inside the window. Latency samples are the requests that START inside
 * the window (answered before the run ends, `tailSec` after the window): a request that waited for its connection
 * during the start-up storm is never a sample. Latency is autocannon's per-response `responseTime` (milliseconds as
 * a float, from process.hrtime), so percentiles are exact to the microsecond; autocannon's own histogram records
 * whole milliseconds only. Its summary (requests.average, latency.p50/p99, errors, non2xx, timeouts, mismatches) is
 * kept in the JSON for reference.
 *
 * Many connections are opened in groups of at most 100 (one autocannon instance each), spread over `rampSec`: 2,000
 * connects at once overflow a busy server's accept backlog (511 by default in Node) and the clients whose SYN was
 * dropped wait for retransmissions (1 s, 3 s, 7 s ...), some past the request timeout.
 *
 * Fixed-rate mode: autocannon paces each connection with a per-second quota (`overallRate` is split over the
 * connections, and each connection sends its share back to back at the start of every second). A single instance
 * therefore sends its whole second's load in a burst. To spread the load over the second, the rate is split over
 * `rateStreams` autocannon instances of one connection each, started 1/rateStreams s apart. autocannon's coordinated-
 * omission correction assumes evenly spaced requests, which this pacing is not, so it is turned off
 * (`ignoreCoordinatedOmission`); latencies are the ones measured.
 */
const autocannon = require("autocannon");
const { classify } = require("./operations");
const { percentiles } = require("./stats");

/**
 * @typedef {object} DriveOptions
 * @property {string} url              full URL, e.g. http://127.0.0.1:1234/graphql
 * @property {{ next(): { id: string, body: string } }} bodies
 * @property {Record<string, string>} [headers]  extra request headers
 * @property {number} connections      saturation mode: concurrent connections (one request at a time each)
 * @property {number} warmupSec
 * @property {number} measureSec
 * @property {number} [rate]           fixed-rate mode: overall requests per second
 * @property {number} [rateStreams]    fixed-rate mode: autocannon instances (one connection each), staggered
 * @property {number} [timeoutSec]     per-request timeout (autocannon's default: 10)
 * @property {number} [rampSec]        saturation mode: connections open in groups of 100 spread over this many seconds
 *                                     (default: 1 s, or none when there are 100 connections or fewer)
 * @property {number} [tailSec]        load continues this long after the window (default 0.5 s), so requests started
 *                                     late in the window can finish and be latency samples
 * @property {() => unknown} [onWindowStart]
 * @property {() => unknown} [onWindowEnd]
 */

/**
 * @typedef {object} DriveResult
 * @property {number} windowSec        measured window length
 * @property {number} completed        responses completed in the window (any status)
 * @property {number} ok               correct answers in the window
 * @property {number} okPerSec         correct answers per second in the window
 * @property {number} non2xx
 * @property {number} graphqlErrors
 * @property {number} wrong
 * @property {number} errors           connection errors and timeouts (autocannon `reqError`) in the window
 * @property {number} timeouts
 * @property {{ p50: number, p90: number, p99: number, max: number, mean: number, count: number }} latencyUs
 * @property {any[]} autocannon        autocannon's own summary per instance (whole run, warm-up included)
 */

/** @param {DriveOptions} opts @returns {Promise<DriveResult>} */
async function drive(opts) {
  const tail = opts.tailSec ?? 0.5;
  const total = opts.warmupSec + opts.measureSec + tail;
  let measuring = false;
  let windowStart = Infinity;
  let windowEnd = Infinity;
  const counts = { completed: 0, ok: 0, non2xx: 0, graphqlErrors: 0, wrong: 0, errors: 0, timeouts: 0 };
  /** @type {number[]} */
  const latencies = [];

  const request = {
    method: "POST",
    setupRequest(/** @type {any} */ req, /** @type {any} */ context) {
      const { id, body } = opts.bodies.next();
      context.id = id;
      req.body = body;
      return req;
    },
    onResponse(/** @type {number} */ status, /** @type {string} */ body, /** @type {any} */ context) {
      if (!measuring) return;
      const verdict = classify(status, body, context.id);
      if (verdict === "ok") counts.ok += 1;
      else if (verdict === "non2xx") counts.non2xx += 1;
      else if (verdict === "graphqlError") counts.graphqlErrors += 1;
      else counts.wrong += 1;
    },
  };

  const base = {
    url: opts.url,
    method: "POST",
    headers: { "content-type": "application/json", ...opts.headers },
    timeout: opts.timeoutSec ?? 10,
    pipelining: 1,
    requests: [request],
  };

  /** @type {{ connections: number, delayMs: number, rate?: number }[]} */
  const plans = [];
  if (opts.rate) {
    const streams = Math.max(1, Math.min(opts.rateStreams ?? 10, Math.floor(opts.rate)));
    if (opts.warmupSec < 1) throw new Error("fixed-rate mode needs a warm-up of at least 1 s (the streams start staggered over the first second)");
    for (let i = 0; i < streams; i++) {
      // Spread the rate exactly: the first (rate % streams) streams get one request per second more.
      const share = Math.floor(opts.rate / streams) + (i < opts.rate % streams ? 1 : 0);
      plans.push({ connections: 1, rate: share, delayMs: (i * 1000) / streams });
    }
  } else {
    const groups = Math.ceil(opts.connections / 100);
    const rampSec = groups > 1 ? (opts.rampSec ?? 1) : 0;
    if (rampSec >= opts.warmupSec) throw new Error(`the warm-up (${opts.warmupSec} s) must outlast the connection ramp (${rampSec} s)`);
    for (let i = 0; i < groups; i++) {
      const share = Math.floor(opts.connections / groups) + (i < opts.connections % groups ? 1 : 0);
      plans.push({ connections: share, delayMs: (i * rampSec * 1000) / groups });
    }
  }

  const started = performance.now();
  /** @type {Promise<any>[]} */
  const runs = plans.map(
    (plan) =>
      new Promise((resolve, reject) => {
        setTimeout(() => {
          const instance = autocannon(
            {
              ...base,
              connections: plan.connections,
              duration: total - plan.delayMs / 1000,
              ...(plan.rate ? { overallRate: plan.rate, ignoreCoordinatedOmission: true } : {}),
            },
            (/** @type {Error | null} */ err, /** @type {any} */ result) => (err ? reject(err) : resolve(result)),
          );
          instance.on("response", (/** @type {unknown} */ _client, /** @type {number} */ _status, /** @type {number} */ _bytes, /** @type {number} */ ms) => {
            if (measuring) counts.completed += 1;
            const startedAt = performance.now() - ms;
            if (startedAt >= windowStart && startedAt < windowEnd) latencies.push(ms * 1000);
          });
          instance.on("reqError", (/** @type {Error} */ error) => {
            if (!measuring) return;
            counts.errors += 1;
            if (/timed out/.test(error.message)) counts.timeouts += 1;
          });
        }, plan.delayMs);
      }),
  );

  await sleepUntil(started + opts.warmupSec * 1000);
  // The callbacks take their synchronous snapshots (CPU time) first; any asynchronous part is awaited afterwards, so
  // the window's edges and the snapshots coincide.
  const startHook = opts.onWindowStart?.();
  windowStart = performance.now();
  measuring = true;
  await startHook;
  await sleepUntil(windowStart + opts.measureSec * 1000);
  measuring = false;
  windowEnd = performance.now();
  await opts.onWindowEnd?.();
  const results = await Promise.all(runs);

  const windowSec = (windowEnd - windowStart) / 1000;
  return {
    windowSec,
    ...counts,
    okPerSec: counts.ok / windowSec,
    latencyUs: percentiles(latencies),
    autocannon: results.map((r) => ({
      requestsAverage: r.requests.average,
      requestsTotal: r.requests.total,
      latencyMs: { p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max },
      errors: r.errors,
      timeouts: r.timeouts,
      non2xx: r.non2xx,
      mismatches: r.mismatches,
      duration: r.duration,
      connections: r.connections,
    })),
  };
}

function sleepUntil(/** @type {number} */ t) {
  const ms = t - performance.now();
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}

module.exports = { drive };
