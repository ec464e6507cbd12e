// @ts-check
"use strict";
/**
 * The overload scenario: the upstream answers after `--overload-delay` ms (300) and our server may hold
 * `--overload-connections` sockets to it (128, AOPAY_CONNECTIONS): about 427 sends per second of capacity. Then
 * `--overload-clients` (400, then 1,500) closed-loop clients hit our server, far more than that capacity. A server
 * that handles overload well keeps serving close to the upstream's capacity, refuses the excess quickly as a typed
 * `OVERLOADED` (or HTTP 503 before GraphQL), lets no client time out, stays within its memory, and never sends an
 * OTP twice. Everything else of ours stays at its defaults (queue limit, admission control), so this measures the
 * server as it ships.
 */
const fs = require("node:fs");
const { closedLoop } = require("./closed-loop");
const { bodyFactory, MUTATIONS } = require("./mutations");
const { withSystem, cpuWindow } = require("./harness");
const { ask } = require("./proc");
const { fmt, mb } = require("./format");

const log = (/** @type {string} */ line) => process.stdout.write(`${line}\n`);

/**
 * The closed-loop clients' HTTP client (lib/closed-loop.js): "raw" (default: `node:net` sockets and a minimal
 * parser, lib/raw-http.js) or "undici" (the Pool the bench used before; set BENCH_OVERLOAD_CLIENT=undici to compare).
 * An environment variable rather than a flag: lib/options.js belongs to the whole harness.
 */
function overloadClient() {
  const v = process.env.BENCH_OVERLOAD_CLIENT ?? "raw";
  if (v !== "raw" && v !== "undici") throw new Error("BENCH_OVERLOAD_CLIENT must be raw or undici");
  return /** @type {import("./closed-loop").ClientKind} */ (v);
}

/**
 * @param {import("./options").Options} o @param {Record<string, import("./systems").SystemDef>} defs
 * @param {import("./proc").Started} slowUp the fake upstream with the delay
 */
async function overload(o, defs, slowUp) {
  const m = MUTATIONS[o.overloadMutation];
  const sys = defs.ours;
  const capacityPerSec = o.overloadConnections / (o.overloadDelay / 1000);
  const client = overloadClient();
  log(
    `\noverload — ${m.field}, upstream ${o.overloadDelay} ms, ${o.overloadConnections} upstream sockets (capacity ${fmt(capacityPerSec, 0)} sends/s); ` +
      `${o.overloadClients.join(" and ")} clients, ${o.overloadWarmup} s warm-up (ramp ${o.overloadRamp} s) + ${o.overloadDuration} s measured, client timeout ${o.overloadTimeout} s; load generator: ${client} HTTP client`,
  );
  /** @type {any[]} */
  const runs = [];
  const modes = o.overloadRetryAfter === "both" ? [false, true] : [o.overloadRetryAfter === "honour"];
  for (const honourRetryAfter of modes)
    for (const clients of o.overloadClients) {
      const r = await withSystem(
        sys,
        slowUp,
        m,
        `overload-${clients}${honourRetryAfter ? "-retry-after" : ""}`,
        {
          keepLogs: o.keepLogs,
          redisUrl: o.redisUrl,
          extraEnv: {
            AOPAY_CONNECTIONS: String(o.overloadConnections),
            // The load generator's clients all come from 127.0.0.1; in production they are as many addresses (or one
            // trusted proxy, which counts in the total only). Left at 256 per address, connections past it are closed
            // as accepted (src/http/connection-guard.ts): 1,905 client errors at 1,500 clients in one run.
            MAX_UNAUTHENTICATED_CONNECTIONS_PER_IP: String(Math.max(256, clients + 64)),
          },
        },
        async (s, tree) => {
          const w = cpuWindow(s, tree, slowUp);
          /** @type {Promise<any>[]} */
          const upstreamAsks = [];
          const metricsUrl = metricsUrlOf(s.logFile);
          /** @type {Promise<EventLoopLag | null>[]} */
          const serverLag = [];
          const res = await closedLoop({
            url: s.url,
            mutation: m,
            bodies: bodyFactory(m, sys.flavour),
            headers: sys.headers,
            clients,
            rampSec: o.overloadRamp,
            warmupSec: o.overloadWarmup,
            measureSec: o.overloadDuration,
            timeoutSec: o.overloadTimeout,
            honourRetryAfter,
            client,
            onWindowStart: () => {
              // A scrape resets prom-client's event-loop histogram: the one at the end covers the window.
              serverLag.push(scrapeLag(metricsUrl));
              w.start();
              upstreamAsks.push(ask(slowUp.child, "window"));
            },
            onWindowEnd: () => {
              w.end();
              serverLag.push(scrapeLag(metricsUrl));
              upstreamAsks.push(ask(slowUp.child, "stats"));
            },
          });
          const [, stats] = await Promise.all(upstreamAsks);
          const [, lagInWindow] = await Promise.all(serverLag);
          const cpu = w.result(res.window.ok + res.window.shed + res.window.wrong, res.windowSec);
          return {
            ...res,
            cpu,
            upstreamWindow: {
              avgInFlight: stats.stats.avgInFlight,
              peakInFlight: stats.stats.peakInFlight,
              idleGapMs: stats.stats.idleGapMs,
            },
            serverEventLoopDelayMs: lagInWindow,
          };
        },
      );
      const row = {
        clients,
        honourRetryAfter,
        capacityPerSec,
        ...r,
        servedShareOfCapacity: r.servedPerSec / capacityPerSec,
      };
      runs.push(row);
      const lg = r.loadGenerator;
      const sl = r.serverEventLoopDelayMs;
      log(
        `  ${String(clients).padStart(5)} clients${honourRetryAfter ? " (honouring Retry-After)" : ""}: served ${fmt(r.window.ok)} (${fmt(r.servedPerSec, 0)}/s, ${fmt(row.servedShareOfCapacity * 100, 0)} % of capacity), ` +
          `shed ${fmt(r.window.shed)}, client timeouts ${fmt(r.window.timeout)}, other ${fmt(r.window.wrong + r.window.non2xx + r.window.graphqlError + r.window.error)}; ` +
          `p50/p99 served ${fmt(r.latencyUs.served.p50 / 1000, 0)}/${fmt(r.latencyUs.served.p99 / 1000, 0)} ms, shed ${fmt(r.latencyUs.shed.p50 / 1000, 1)}/${fmt(r.latencyUs.shed.p99 / 1000, 1)} ms (client-observed); ` +
          `rss ${mb(r.peakRss)} MB; sent twice ${r.hits.sentTwice}, shed but sent ${r.hits.shedButSent}`,
      );
      log(
        // The server's event-loop delay is the server-side part of a refusal's latency: the wait before its `request`
        // listener runs (the refusal itself is ~15 µs of CPU, bench/refusal-micro.js). Never a substitute for the
        // client-observed figure, which is what the target reads.
        `         event-loop delay p50/p99/max: server ${sl ? `${fmt(sl.p50, 1)}/${fmt(sl.p99, 1)}/${fmt(sl.max, 1)} ms` : "n/a"}, ` +
          `load generator ${fmt(lg.eventLoopDelayMs.p50, 1)}/${fmt(lg.eventLoopDelayMs.p99, 1)}/${fmt(lg.eventLoopDelayMs.max, 1)} ms; ` +
          `cores busy: server ${fmt(r.cpu.cpuUtilisation, 2)}, load generator ${fmt(lg.cpuCoresBusy, 2)} (${lg.client}, ${fmt(lg.cpuUsPerAnswer, 1)} µs of CPU per answer)`,
      );
    }
  return {
    mutation: m.key,
    delayMs: o.overloadDelay,
    upstreamConnections: o.overloadConnections,
    capacityPerSec,
    timeoutSec: o.overloadTimeout,
    client,
    runs,
  };
}

/**
 * @typedef {{ p50: number, p99: number, max: number }} EventLoopLag ms, less the sampler's 10 ms resolution
 */

/** Our server's metrics URL, from its "metrics listening" log line (METRICS_PORT=0). @param {string} logFile */
function metricsUrlOf(logFile) {
  const m = /"url":"(http:\/\/[^"]+)"[^\n]*"msg":"metrics listening"/.exec(fs.readFileSync(logFile, "utf8"));
  return m ? m[1] : null;
}

/**
 * The sampling period of our server's nodejs_eventloop_lag_* (src/observability/eventloop-lag.ts samples every
 * EVENT_LOOP_SAMPLING_MS, src/http/admission.settings.ts; test/unit/bench/event-loop-sampling.test.ts holds the two
 * equal: the bench does not load the server's code).
 */
const PROM_LAG_RESOLUTION_MS = 50;

/**
 * The server's event-loop delay since the previous scrape (each scrape resets the gauges' window). This is
 * where a refusal waits inside the server before its `request` listener runs; the listener itself answers at once
 * (src/http/admission.ts). @param {string | null} url @returns {Promise<EventLoopLag | null>}
 */
async function scrapeLag(url) {
  if (!url) return null;
  try {
    const text = await (await fetch(url)).text();
    const g = (/** @type {string} */ name) => {
      const m = new RegExp(`^nodejs_eventloop_lag_${name}_seconds (\\S+)$`, "m").exec(text);
      return m ? Math.max(0, Number(m[1]) * 1000 - PROM_LAG_RESOLUTION_MS) : NaN;
    };
    return { p50: g("p50"), p99: g("p99"), max: g("max") };
  } catch {
    return null;
  }
}

module.exports = { overload, PROM_LAG_RESOLUTION_MS };
