// @ts-check
"use strict";
/**
 * Load generation with autocannon as a library, with a measurement window. Every request autocannon sends is
 * answered before a run ends (autocannon's `amount` mode: a connection closes only after its last answer), so the
 * whole run can be accounted for at the upstream (lib/hits.js): no request is abandoned in flight.
 *
 * Two modes:
 *
 * - **count** (saturation): `connections` closed-loop connections send `warmupRequests + measureRequests +
 *   tailRequests` requests. The window opens when the `warmupRequests`-th answer arrives and closes at the
 *   `warmupRequests + measureRequests`-th: CPU per request is the server's CPU time between those two answers
 *   divided by `measureRequests`, a fixed number of requests (the tail keeps the connections busy until the window
 *   closes). `onWindowStart`/`onWindowEnd` run synchronously at those answers (the orchestrator reads /proc there).
 * - **rate** (fixed rate): `rate` requests per second for `warmupSec + measureSec + tailSec`, the window by time.
 *   autocannon paces each connection with a per-second quota and sends it back to back at the start of each second,
 *   so the rate is split over `rateStreams` instances of one connection each, started 1/rateStreams s apart.
 *   autocannon's coordinated-omission correction assumes evenly spaced requests, which this is not, so it is off
 *   (`ignoreCoordinatedOmission`); latencies are the ones measured.
 *
 * Throughput counts the answers completed inside the window. Latency samples are the requests that START inside the
 * window, timed by autocannon's per-response `responseTime` (float ms from process.hrtime; autocannon's own histogram
 * keeps whole milliseconds only). Every answer of the run, warm-up included, is checked (lib/mutations.js classify)
 * and the destinations of the correct ones are kept for the upstream check.
 */
const autocannon = require("autocannon");
const { classify, unexpectedAnswers } = require("./mutations");
const { percentiles } = require("./stats");

/**
 * @typedef {object} DriveOptions
 * @property {string} url              full URL, e.g. http://127.0.0.1:1234/graphql
 * @property {import("./mutations").Mutation} mutation
 * @property {{ next(): { id: number, body: string } }} bodies
 * @property {Record<string, string>} [headers]  extra request headers
 * @property {(id: number) => Record<string, string>} [perRequestHeaders]  headers that differ per request
 * @property {number} [connections]    count mode: concurrent connections (one request at a time each)
 * @property {number} [warmupRequests]
 * @property {number} [measureRequests]
 * @property {number} [tailRequests]   count mode: answers after the window (default 8 per connection or 5 % of the
 *                                     measured ones, whichever is more)
 * @property {number} [rate]           rate mode: overall requests per second
 * @property {number} [rateStreams]
 * @property {number} [warmupSec]
 * @property {number} [measureSec]
 * @property {number} [tailSec]        rate mode: load after the window (default 0.5 s)
 * @property {number} [timeoutSec]     per-request timeout (autocannon's default: 10)
 * @property {() => unknown} [onWindowStart]
 * @property {() => unknown} [onWindowEnd]
 */

/** @param {DriveOptions} opts */
async function drive(opts) {
  const countMode = !opts.rate;
  let measuring = false;
  let windowStart = Infinity;
  let windowEnd = Infinity;
  let answered = 0;
  /** @type {(() => void) | undefined} */
  let windowClosed;
  const closed = new Promise((/** @type {(v?: unknown) => void} */ r) => (windowClosed = r));
  const window = { completed: 0, ok: 0, shed: 0, non2xx: 0, graphqlErrors: 0, wrong: 0, errors: 0, timeouts: 0 };
  const run = { answers: 0, ok: 0, shed: 0, non2xx: 0, graphqlErrors: 0, wrong: 0, errors: 0, timeouts: 0 };
  const unexpected = unexpectedAnswers();
  /** @type {number[]} */
  const okIds = [];
  /** @type {number[]} */
  const latencies = [];
  const m = opts.mutation;

  const request = {
    method: "POST",
    setupRequest(/** @type {any} */ req, /** @type {any} */ context) {
      const { id, body } = opts.bodies.next();
      context.id = id;
      req.body = body;
      if (opts.perRequestHeaders) Object.assign(req.headers, opts.perRequestHeaders(id));
      return req;
    },
    onResponse(/** @type {number} */ status, /** @type {string} */ body, /** @type {any} */ context) {
      const verdict = classify(m, status, body, context.id);
      const key = verdict === "graphqlError" ? "graphqlErrors" : verdict;
      run.answers += 1;
      run[key] += 1;
      if (verdict === "ok") okIds.push(context.id);
      if (measuring) window[key] += 1;
      unexpected(verdict, status, body, context.id);
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

  const open = () => {
    opts.onWindowStart?.();
    windowStart = performance.now();
    measuring = true;
  };
  const close = () => {
    measuring = false;
    windowEnd = performance.now();
    opts.onWindowEnd?.();
    windowClosed?.();
  };

  /** @type {{ connections: number, delayMs: number, amount: number, rate?: number }[]} */
  const plans = [];
  if (countMode) {
    const c = opts.connections ?? 64;
    // autocannon gives each connection a fixed share of the total; a connection that ran ahead finishes its share
    // early. The tail keeps (nearly) every connection busy until the window closes.
    const tail = opts.tailRequests ?? Math.max(8 * c, Math.ceil((opts.measureRequests ?? 0) / 20));
    const total = (opts.warmupRequests ?? 0) + (opts.measureRequests ?? 0) + tail;
    if ((opts.measureRequests ?? 0) < 1) throw new Error("count mode needs measureRequests >= 1");
    plans.push({ connections: c, delayMs: 0, amount: Math.max(total, c) });
  } else {
    const rate = /** @type {number} */ (opts.rate);
    const sec = (opts.warmupSec ?? 1) + (opts.measureSec ?? 1) + (opts.tailSec ?? 0.5);
    const streams = Math.max(1, Math.min(opts.rateStreams ?? 10, Math.floor(rate)));
    if ((opts.warmupSec ?? 0) < 1)
      throw new Error("rate mode needs a warm-up of at least 1 s (the streams start staggered over the first second)");
    for (let i = 0; i < streams; i++) {
      // Spread the rate exactly: the first (rate % streams) streams get one request per second more.
      const share = Math.floor(rate / streams) + (i < rate % streams ? 1 : 0);
      const delayMs = (i * 1000) / streams;
      plans.push({
        connections: 1,
        rate: share,
        delayMs,
        amount: Math.max(1, Math.round(share * (sec - delayMs / 1000))),
      });
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
              amount: plan.amount,
              ...(plan.rate ? { overallRate: plan.rate, ignoreCoordinatedOmission: true } : {}),
            },
            (/** @type {Error | null} */ err, /** @type {any} */ result) => (err ? reject(err) : resolve(result)),
          );
          instance.on(
            "response",
            (
              /** @type {unknown} */ _c,
              /** @type {number} */ _s,
              /** @type {number} */ _b,
              /** @type {number} */ ms,
            ) => {
              answered += 1;
              if (measuring) window.completed += 1;
              const startedAt = performance.now() - ms;
              if (startedAt >= windowStart && startedAt < windowEnd) latencies.push(ms * 1000);
              if (countMode) {
                if (answered === opts.warmupRequests) open();
                else if (answered === (opts.warmupRequests ?? 0) + (opts.measureRequests ?? 0)) close();
              }
            },
          );
          instance.on("reqError", (/** @type {Error} */ error) => {
            run.errors += 1;
            if (/timed out/.test(error.message)) run.timeouts += 1;
            if (!measuring) return;
            window.errors += 1;
            if (/timed out/.test(error.message)) window.timeouts += 1;
          });
        }, plan.delayMs);
      }),
  );

  if (countMode) {
    if (!opts.warmupRequests) open();
    await Promise.race([closed, Promise.all(runs)]);
    if (measuring)
      throw new Error(`the run ended before ${opts.measureRequests} answers were measured (errors: ${run.errors})`);
  } else {
    await sleepUntil(started + (opts.warmupSec ?? 1) * 1000);
    open();
    await sleepUntil(windowStart + (opts.measureSec ?? 1) * 1000);
    close();
  }
  const results = await Promise.all(runs);
  const windowSec = (windowEnd - windowStart) / 1000;
  return {
    windowSec,
    ...window,
    okPerSec: window.ok / windowSec,
    latencyUs: percentiles(latencies),
    run,
    okIds,
    autocannon: results.map((r) => ({
      requestsTotal: r.requests.total,
      latencyMs: { p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max },
      errors: r.errors,
      timeouts: r.timeouts,
      non2xx: r.non2xx,
      duration: r.duration,
      connections: r.connections,
    })),
  };
}

/** @typedef {Awaited<ReturnType<typeof drive>>} DriveResult */

function sleepUntil(/** @type {number} */ t) {
  const ms = t - performance.now();
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}

module.exports = { drive };
