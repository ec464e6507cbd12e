import { createRequire } from "node:module";
import { createHistogram, performance, type RecordableHistogram } from "node:perf_hooks";
import { collectDefaultMetrics, Gauge, type Registry } from "prom-client";
import { EVENT_LOOP_SAMPLING_MS } from "../http/admission.settings";

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
 * The event loop's delay, sampled by one timer for every reader in the process (admission control's readings,
 * src/http/admission.ts, and the lag gauges below): each sample is the time between two runs of a timer of
 * EVENT_LOOP_SAMPLING_MS (50 ms), as `perf_hooks.monitorEventLoopDelay` records it (an idle loop reads about the period;
 * a stall reads as its length plus what was left of the period).
 *
 * Why not monitorEventLoopDelay: a reader that wants the delays of an interval must reset its histogram, and Node's
 * Histogram#reset() also forgets when its timer last ran (src/histogram.cc: prev_ = 0), so the first delay after each
 * reset is never recorded: a stall that began right after a reading left no trace (admission control missed 3 to 5 of
 * 8 stalls, test/unit/http/admission-delay.test.ts, before it stopped resetting; prom-client's lag gauges missed a
 * stall that began right after a scrape or held one waiting, test/unit/observability/eventloop-lag.test.ts). Here the
 * timer keeps its own last time, and a reader takes differences of running totals (admission) or a histogram of its
 * own that it resets (the gauges). One timer for both, where there were two libuv timers (admission's and
 * prom-client's): a JS timer's wake-up costs more than a native one's. Idle server, CPU per second, side by side with
 * the build before (four 30 s windows): with a JS timer for the gauges beside admission's native one, +0.5 to +1.3 ms
 * (1.2-3.1 → 1.9-4.0); with this one timer for both, +0.04 to +0.47 (1.4-3.5 → 1.5-3.9): about 2 µs per request at
 * the bench's moderate load, under what its paired phase resolves.
 */
export class EventLoopSampler {
  static #shared: EventLoopSampler | null = null;

  /** Samples since the sampler started, and their sum in ms: readers take differences between two readings. */
  count = 0;
  totalMs = 0;
  readonly #windows = new Set<RecordableHistogram>();
  /** Called at the end of each tick with its time (performance.now()): admission control's readings (`onTick`). */
  readonly #listeners = new Set<(now: number) => void>();
  readonly #timer: NodeJS.Timeout;
  #users = 0;
  #last = performance.now();

  private constructor(readonly periodMs: number) {
    this.#timer = setInterval(() => {
      const now = performance.now();
      const ms = now - this.#last;
      this.#last = now;
      this.count += 1;
      this.totalMs += ms;
      // RecordableHistogram takes integers ≥ 1 (nanoseconds here).
      for (const window of this.#windows) window.record(Math.max(1, Math.round(ms * 1e6)));
      for (const listener of this.#listeners) listener(now);
    }, periodMs);
    this.#timer.unref();
  }

  /** The process's sampler, started by its first user; `release` it when done (the last release stops the timer). */
  static acquire(): EventLoopSampler {
    const sampler = (EventLoopSampler.#shared ??= new EventLoopSampler(EVENT_LOOP_SAMPLING_MS));
    sampler.#users += 1;
    return sampler;
  }

  release(): void {
    this.#users -= 1;
    if (this.#users > 0) return;
    clearInterval(this.#timer);
    if (EventLoopSampler.#shared === this) EventLoopSampler.#shared = null;
  }

  /** A histogram that records every sample from now on, for a reader that resets it (the lag gauges). */
  window(): RecordableHistogram {
    const window = createHistogram();
    this.#windows.add(window);
    return window;
  }

  dropWindow(window: RecordableHistogram): void {
    this.#windows.delete(window);
  }

  /**
   * Calls `listener` after each sample is counted, with the tick's time: a reader that reads at intervals does it
   * here rather than on a timer of its own, which woke the process for nothing more (admission control's, every
   * 500 ms: 2 of the 24 wake-ups per second of an idle server). Returns what removes it.
   */
  onTick(listener: (now: number) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/**
 * How the primary's page (WEB_CONCURRENCY > 1, cluster.ts) merges a lag gauge of the workers: the worst worker's, not
 * prom-client's average. The EventLoopLag alert (deploy/prometheus/alerts.yml) compares p99 to 0.25 s, and one stalled
 * worker (p99 0.45 s) beside an idle one (0.05 s: the sampling period) averaged 0.25, under it; the mean, the standard
 * deviation and the setImmediate lag were averaged likewise after the percentiles no longer were, so an alert on
 * the mean (0.4 s and 0.05 s read 0.225) missed the same stall. The worst worker's is what a stall is
 * (docs/operations.md "Metrics"). The pooled standard deviation cannot be rebuilt from the workers' gauges.
 */
const WORST = "max";

/**
 * The `nodejs_eventloop_lag_*` gauges, named and computed as prom-client 15 names them (min, max, mean, stddev, p50,
 * p90, p99 of the delays sampled since the previous scrape, in seconds; `nodejs_eventloop_lag_seconds` the time a
 * setImmediate took at the previous scrape), over EventLoopSampler's samples, so that no stall is lost (prom-client's
 * own sampler lost the first delay after each scrape: EventLoopSampler says why). A stall still under way at a scrape
 * shows on the next scrape.
 */
export class EventLoopLag {
  #sampler: EventLoopSampler | null;
  readonly #delays: RecordableHistogram;

  constructor(registers: Registry[]) {
    const sampler = EventLoopSampler.acquire();
    const delays = sampler.window();
    this.#sampler = sampler;
    this.#delays = delays;
    // Registered first, as prom-client registers it: a scrape collects the metrics in order, and this one's collect
    // sets the others before they are read. How cluster.ts's ClusterMetrics (AggregatorRegistry.aggregate) merges the
    // workers' gauges: the smallest delay of any worker for the minimum (prom-client's, and what the pooled samples'
    // minimum is), the worst worker's for every other gauge (prom-client averages all but the maximum; the reason is at
    // WORST below).
    new Gauge({
      name: "nodejs_eventloop_lag_seconds",
      help: "Lag of event loop in seconds.",
      registers,
      aggregator: WORST,
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
    const mean = gauge("nodejs_eventloop_lag_mean_seconds", "The mean of the recorded event loop delays.", WORST);
    const stddev = gauge(
      "nodejs_eventloop_lag_stddev_seconds",
      "The standard deviation of the recorded event loop delays.",
      WORST,
    );
    const percentiles = ([50, 90, 99] as const).map((p) => ({
      p,
      gauge: gauge(
        `nodejs_eventloop_lag_p${p}_seconds`,
        `The ${p}th percentile of the recorded event loop delays.`,
        WORST,
      ),
    }));
  }

  /** Stops reading the sampler (its timer is unref'd: this matters to tests and to a stopped app in a live process). */
  close(): void {
    this.#sampler?.dropWindow(this.#delays);
    this.#sampler?.release();
    this.#sampler = null;
  }
}
