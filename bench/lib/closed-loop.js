// @ts-check
"use strict";
/**
 * The overload scenario's clients: `clients` closed loops (each one connection, one request at a time, the next as soon
 * as the answer is in). `client` picks the HTTP client: "raw" (default; lib/raw-http.js, one `node:net` socket per
 * loop, a minimal HTTP/1.1 parser) or "undici" (one Pool of `clients` connections, what the bench used until the load
 * generator was found to be the bottleneck at 1,500 clients: docs/performance-runs.md, "Overload"). Both classify every
 * answer with the same `classify` (lib/mutations.js); bench/closed-loop-check.js checks they agree. Unlike autocannon's
 * duration mode, the loops stop *sending* at the end and every request still in flight is awaited (answer, or the
 * client's timeout), so each request ends in exactly one class and the upstream check (lib/hits.js) accounts for all of
 * them.
 *
 * Clients start spread over `rampSec` (thousands of connects at once overflow a busy server's accept backlog, 511 by
 * default in Node, and the clients whose SYN was dropped wait for retransmissions of 1, 3, 7 s). The window is
 * `measureSec` after `warmupSec`; counts are by completion inside the window, latency samples by start inside it.
 * A request is timed out by the client after `timeoutSec` (AbortSignal.timeout), as an impatient app would.
 *
 * By default a refused client sends again at once (it ignores `Retry-After`): the harshest load, and what an app that
 * retries in a loop does. With `honourRetryAfter` a client waits the `Retry-After` seconds of a 503 before its next
 * request, as a well-behaved app would (our SDK returns the OVERLOADED answer and leaves the wait to the app; it does
 * not retry by itself, client/src/sdk/client.ts). Both are reported, labelled.
 *
 * This process is itself measured over the window: its CPU (one core is all a Node process has) and its event-loop
 * delay (monitorEventLoopDelay, 1 ms resolution, minus that resolution). A refusal's latency as seen here includes the
 * time the answer waited in this process's event loop: with 1,500 connections on one core that wait, not the
 * server, can be most of it.
 */
const { monitorEventLoopDelay } = require("node:perf_hooks");
const { Pool } = require("undici");
const { classify, unexpectedAnswers } = require("./mutations");
const { RawConnection, requestHead } = require("./raw-http");
const { percentiles } = require("./stats");

/** @typedef {"raw" | "undici"} ClientKind */
/** @typedef {{ status: number, retryAfter: string | undefined, text: string }} Answer */
/**
 * One closed loop's connection: `send` resolves with the answer, or rejects (an Error named "TimeoutError" for a
 * timeout).
 * @typedef {{ send(body: string): Promise<Answer> }} LoopConnection
 */

/**
 * `connections` connections to `url` of the chosen client. The raw client's timeouts are swept every
 * min(100 ms, timeout / 4) (lib/raw-http.js: no timer per request), so a timeout ends up to that much late; undici's
 * are AbortSignal.timeout per request.
 * @param {ClientKind} kind @param {{ url: string, headers?: Record<string, string>, connections: number,
 *   timeoutSec: number }} o
 * @returns {{ connection(): LoopConnection, close(): Promise<void> }}
 */
function httpClient(kind, o) {
  const target = new URL(o.url);
  const headers = { "content-type": "application/json", ...o.headers };
  const timeoutMs = o.timeoutSec * 1000;
  if (kind === "undici") {
    const pool = new Pool(target.origin, {
      connections: o.connections,
      pipelining: 1,
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    /** @type {LoopConnection} */
    const shared = {
      async send(body) {
        const res = await pool.request({
          path: target.pathname + target.search,
          method: "POST",
          headers,
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        const text = await res.body.text();
        const ra = res.headers["retry-after"];
        return { status: res.statusCode, retryAfter: Array.isArray(ra) ? ra[0] : ra, text };
      },
    };
    return { connection: () => shared, close: () => pool.close() };
  }
  const head = requestHead(target, headers);
  const host = target.hostname.replace(/^\[|\]$/g, "");
  const port = Number(target.port || 80);
  /** @type {RawConnection[]} */
  const conns = [];
  const sweep = setInterval(
    () => {
      const now = performance.now();
      for (const c of conns) c.checkTimeout(now);
    },
    Math.max(1, Math.min(100, timeoutMs / 4)),
  );
  return {
    connection() {
      const c = new RawConnection({ host, port, head });
      conns.push(c);
      return { send: (body) => c.request(body, timeoutMs) };
    },
    async close() {
      clearInterval(sweep);
      for (const c of conns) c.destroy();
    },
  };
}

/** @typedef {"ok" | "shed" | "non2xx" | "graphqlError" | "wrong" | "timeout" | "error"} Verdict */

/**
 * One request on one connection, classified: the answer's class (lib/mutations.js `classify`), "timeout" when the
 * client gave up, "error" when the connection failed. Shared by both clients, so they differ only in the HTTP layer.
 * @param {LoopConnection} conn @param {import("./mutations").Mutation} mutation @param {number} id @param {string} body
 * @returns {Promise<{ verdict: Verdict, status: number, retryAfter: string | undefined, text: string }>}
 */
async function exchange(conn, mutation, id, body) {
  try {
    const res = await conn.send(body);
    const verdict = classify(mutation, res.status, res.text, id);
    return { verdict, status: res.status, retryAfter: res.retryAfter, text: res.text };
  } catch (e) {
    const timeout = e instanceof Error && (e.name === "TimeoutError" || /abort|timeout/i.test(e.message));
    return { verdict: timeout ? "timeout" : "error", status: 0, retryAfter: undefined, text: String(e) };
  }
}

/**
 * @param {{ url: string, mutation: import("./mutations").Mutation, bodies: { next(): { id: number, body: string } },
 *   headers?: Record<string, string>, clients: number, rampSec: number, warmupSec: number, measureSec: number,
 *   timeoutSec: number, honourRetryAfter?: boolean, client?: ClientKind, onWindowStart?: () => unknown,
 *   onWindowEnd?: () => unknown }} opts
 */
async function closedLoop(opts) {
  const http = httpClient(opts.client ?? "raw", {
    url: opts.url,
    headers: opts.headers,
    connections: opts.clients,
    timeoutSec: opts.timeoutSec,
  });
  let stopping = false;
  let windowStart = Infinity;
  let windowEnd = Infinity;
  /** @type {Verdict[]} */
  const classes = ["ok", "shed", "non2xx", "graphqlError", "wrong", "timeout", "error"];
  const zero = () => /** @type {Record<Verdict, number>} */ (Object.fromEntries(classes.map((c) => [c, 0])));
  const window = zero();
  const run = zero();
  /** @type {Record<Verdict, number[]>} latency samples (µs) of requests started in the window, by class */
  const samples = /** @type {any} */ (Object.fromEntries(classes.map((c) => [c, []])));
  const unexpected = unexpectedAnswers();
  /** @type {number[]} */
  const okIds = [];
  /** @type {number[]} */
  const shedIds = [];
  /** @type {Record<string, number>} HTTP statuses of the window's shed answers (503 before GraphQL, 200 for a typed OVERLOADED) */
  const shedStatuses = {};

  /** @param {LoopConnection} conn @returns {Promise<number>} ms to wait before the next request (a 503's Retry-After, when honoured) */
  async function one(conn) {
    const { id, body } = opts.bodies.next();
    let waitMs = 0;
    const t0 = performance.now();
    const { verdict, status, retryAfter, text } = await exchange(conn, opts.mutation, id, body);
    unexpected(verdict, status, text, id);
    if (opts.honourRetryAfter && status === 503) waitMs = Number(retryAfter ?? 0) * 1000 || 0;
    const t1 = performance.now();
    run[verdict] += 1;
    if (verdict === "ok") okIds.push(id);
    if (verdict === "shed") shedIds.push(id);
    if (t1 >= windowStart && t1 < windowEnd) {
      window[verdict] += 1;
      if (verdict === "shed") shedStatuses[status] = (shedStatuses[status] ?? 0) + 1;
    }
    if (t0 >= windowStart && t0 < windowEnd) samples[verdict].push((t1 - t0) * 1000);
    return waitMs;
  }

  async function loop(/** @type {number} */ delayMs) {
    const conn = http.connection();
    await sleep(delayMs);
    while (!stopping) {
      const waitMs = await one(conn);
      if (waitMs > 0 && !stopping) await sleep(Math.min(waitMs, Math.max(0, windowEnd - performance.now())));
    }
  }
  const lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  /** @type {NodeJS.CpuUsage | undefined} */
  let cpuAtStart;

  const started = performance.now();
  const loops = Array.from({ length: opts.clients }, (_, i) => loop((i * opts.rampSec * 1000) / opts.clients));
  await sleep(started + opts.warmupSec * 1000 - performance.now());
  opts.onWindowStart?.();
  windowStart = performance.now();
  cpuAtStart = process.cpuUsage();
  lag.enable();
  await sleep(windowStart + opts.measureSec * 1000 - performance.now());
  windowEnd = performance.now();
  lag.disable();
  const cpu = process.cpuUsage(cpuAtStart);
  opts.onWindowEnd?.();
  stopping = true;
  const drainStart = performance.now();
  await Promise.all(loops);
  const drainSec = (performance.now() - drainStart) / 1000;
  await http.close();
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
    loadGenerator: {
      client: opts.client ?? "raw",
      cpuCoresBusy: (cpu.user + cpu.system) / 1e6 / ((windowEnd - windowStart) / 1000),
      // The generator's CPU per answer completed in the window (every class), µs: its cost per request.
      cpuUsPerAnswer:
        (cpu.user + cpu.system) /
        Math.max(
          1,
          Object.values(window).reduce((a, b) => a + b, 0),
        ),
      eventLoopDelayMs: {
        p50: Math.max(0, lag.percentile(50) / 1e6 - LAG_RESOLUTION_MS),
        p99: Math.max(0, lag.percentile(99) / 1e6 - LAG_RESOLUTION_MS),
        max: Math.max(0, lag.max / 1e6 - LAG_RESOLUTION_MS),
      },
    },
    okIds,
    shedIds,
  };
}

/** @typedef {Awaited<ReturnType<typeof closedLoop>>} ClosedLoopResult */

/** The load generator's event-loop sampler period (ms), subtracted from its readings (as admission.ts does). */
const LAG_RESOLUTION_MS = 1;

const sleep = (/** @type {number} */ ms) => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());

module.exports = { closedLoop, httpClient, exchange };
