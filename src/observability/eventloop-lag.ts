import { createRequire } from "node:module";
import { createHistogram, performance } from "node:perf_hooks";
import { collectDefaultMetrics, Gauge, type Registry } from "prom-client";

/** prom-client's default metric whose values are replaced here (lib/defaultMetrics.js names it so). */
const PROM_CLIENT_EVENT_LOOP_LAG = "eventLoopLag";

/** The signature of each of prom-client's default metrics (lib/metrics/*.js), as collectDefaultMetrics calls them. */
type DefaultMetric = (registry: Registry, config: Record<string, unknown>) => void;

/**
 * prom-client's default metrics (process CPU, memory, handles, heap, GC, version ...) but its event-loop lag gauges,
 * which EventLoopLag below replaces under the same names. collectDefaultMetrics has no way to leave one out, and
 * removing the gauges from the registry afterwards would leave its sampler's timer waking the process for nothing, so
 * each default metric is loaded by the name prom-client lists (`collectDefaultMetrics.metricsList`, which also drops
 * what this Node lacks). A deep require of prom-client's lib/metrics/: test/unit/observability/eventloop-lag.test.ts
 * checks the names registered equal collectDefaultMetrics' own, so an update of prom-client that moves them fails
 * there, not in production.
 */
export function collectDefaultMetricsButEventLoopLag(registry: Registry): void {
  const load = createRequire(require.resolve("prom-client"));
  for (const name of collectDefaultMetrics.metricsList) {
    if (name === PROM_CLIENT_EVENT_LOOP_LAG) continue;
    (load(`./lib/metrics/${name}`) as DefaultMetric)(registry, {});
  }
}

/**
 * The `nodejs_eventloop_lag_*` gauges, named and computed as prom-client 15 names them (min, max, mean, stddev, p50,
 * p90, p99 of the delays sampled since the previous scrape, in seconds; `nodejs_eventloop_lag_seconds` the time a
 * setImmediate took at the previous scrape), with a sampler that does not lose delays.
 *
 * Why not prom-client's: it resets its perf_hooks histogram at each scrape, and Node's Histogram#reset() also forgets
 * when its timer last ran (src/histogram.cc: prev_ = 0), so the first delay after each scrape is never recorded: a
 * stall that began right after a scrape, or that held a scrape waiting (the scrape is read before the delayed timer
 * runs), left no trace on any scrape, and the EventLoopLag alert of docs/operations.md never saw it (test/unit/
 * observability/eventloop-lag.test.ts: a 400 ms stall read as 0.05 s in 4 of 6 phases). Admission control had the same
 * defect (src/http/admission.ts). Here the sampler is a timer of this module that keeps its own last time, so a scrape
 * resets only the histogram of recorded delays.
 *
 * Each sample is the time between two runs of a `periodMs` timer (EVENT_LOOP_SAMPLING_MS, 50 ms), as
 * monitorEventLoopDelay records it: an idle server reads about the period; a stall of the event loop reads as its
 * length plus what was left of the period. A stall still under way at a scrape shows on the next scrape. One timer, as
 * prom-client's sampler was: the idle cost is unchanged (admission.settings.ts, EVENT_LOOP_SAMPLING_MS).
 */
export class EventLoopLag {
  readonly #delays = createHistogram();
  readonly #timer: NodeJS.Timeout;
  #last = performance.now();

  constructor(registers: Registry[], periodMs: number) {
    this.#timer = setInterval(() => {
      const now = performance.now();
      // RecordableHistogram takes integers ≥ 1 (nanoseconds here).
      this.#delays.record(Math.max(1, Math.round((now - this.#last) * 1e6)));
      this.#last = now;
    }, periodMs);
    this.#timer.unref();

    const delays = this.#delays;
    // Registered first, as prom-client registers it: a scrape collects the metrics in order, and this one's collect
    // sets the others before they are read. The aggregators are prom-client's, so that cluster.ts's
    // AggregatorRegistry merges the workers' gauges as before.
    new Gauge({
      name: "nodejs_eventloop_lag_seconds",
      help: "Lag of event loop in seconds.",
      registers,
      aggregator: "average",
      collect() {
        const start = performance.now();
        setImmediate(() => this.set((performance.now() - start) / 1e3));
        // No sample since the last scrape (scrapes closer than the period): the gauges keep their values.
        if (delays.count === 0) return;
        min.set(delays.min / 1e9);
        max.set(delays.max / 1e9);
        mean.set(delays.mean / 1e9);
        stddev.set(delays.stddev / 1e9);
        for (const { p, gauge: g } of percentiles) g.set(delays.percentile(p) / 1e9);
        delays.reset();
      },
    });
    const gauge = (name: string, help: string, aggregator: "min" | "max" | "average") =>
      new Gauge({ name, help, registers, aggregator });
    const min = gauge("nodejs_eventloop_lag_min_seconds", "The minimum recorded event loop delay.", "min");
    const max = gauge("nodejs_eventloop_lag_max_seconds", "The maximum recorded event loop delay.", "max");
    const mean = gauge("nodejs_eventloop_lag_mean_seconds", "The mean of the recorded event loop delays.", "average");
    const stddev = gauge(
      "nodejs_eventloop_lag_stddev_seconds",
      "The standard deviation of the recorded event loop delays.",
      "average",
    );
    const percentiles = ([50, 90, 99] as const).map((p) => ({
      p,
      gauge: gauge(
        `nodejs_eventloop_lag_p${p}_seconds`,
        `The ${p}th percentile of the recorded event loop delays.`,
        "average",
      ),
    }));
  }

  /** Stops the sampler (the timer is unref'd, so this matters only to tests and to a stopped app in a live process). */
  close(): void {
    clearInterval(this.#timer);
  }
}
