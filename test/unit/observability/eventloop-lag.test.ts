import { collectDefaultMetrics, Registry } from "prom-client";
import { EventLoopSampler } from "../../../src/observability/eventloop-lag";
import { Metrics } from "../../../src/observability/metrics";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Holds this thread (and so the event loop) for `ms`. */
function block(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // busy
  }
}

/** The value of one unlabelled gauge on a scrape of the registry. */
async function gauge(metrics: Metrics, name: string): Promise<number> {
  const text = await metrics.registry.metrics();
  const m = new RegExp(`^${name} ([0-9.e+-]+)$`, "m").exec(text);
  if (!m) throw new Error(`${name} not on the metrics page`);
  return Number(m[1]);
}

/**
 * The `nodejs_eventloop_lag_*` gauges (the EventLoopLag alert in docs/operations.md reads the p99) summarise the delays
 * since the previous scrape. prom-client 15 resets its perf_hooks histogram at each scrape, and Node's
 * Histogram#reset() also forgets when its timer last ran (src/histogram.cc: prev_ = 0), so the first delay after each
 * scrape was never recorded: a stall that began right after a scrape, or that held a scrape waiting (the scrape is
 * read before the delayed timer runs), left no trace on any scrape. The same defect admission control had
 * (test/unit/http/admission-delay.test.ts).
 */
describe("event-loop lag gauges: a stall shows on a scrape whatever its phase against the scrapes", () => {
  let metrics: Metrics;
  beforeEach(async () => {
    metrics = new Metrics(() => ({ inFlight: 0, queued: 0 }));
    await sleep(120); // a few quiet samples first
    await metrics.registry.metrics();
  });
  afterEach(() => metrics.close());

  /** The largest delay on the next scrape, 150 ms on: the stall must show on it, not only on a later one. */
  async function maxOnNextScrape(): Promise<number> {
    await sleep(150);
    return gauge(metrics, "nodejs_eventloop_lag_max_seconds");
  }

  it("a stall that begins right after a scrape", async () => {
    await metrics.registry.metrics();
    block(400);
    expect(await maxOnNextScrape()).toBeGreaterThan(0.3);
  });

  it("a stall that holds a scrape waiting (the scrape is read the moment the stall ends)", async () => {
    await sleep(60);
    block(400);
    await metrics.registry.metrics(); // before any timer has run since the stall
    expect(await maxOnNextScrape()).toBeGreaterThan(0.3);
  });

  it.each([0, 17, 33, 49])("a stall %i ms into a sampling period", async (offset) => {
    await sleep(offset);
    block(400);
    expect(await maxOnNextScrape()).toBeGreaterThan(0.3);
  });

  it("each scrape shows the delays since the previous one: a stall, then quiet", async () => {
    block(400);
    const stalled = await maxOnNextScrape();
    expect(stalled).toBeGreaterThan(0.3);
    const quiet = await maxOnNextScrape();
    expect(quiet).toBeGreaterThanOrEqual(0.045); // a sample is the time between two runs of the 50 ms timer
    // Below the stall's, not below a fixed 0.2: a busy machine delays a quiet sample too (a CI run saw 0.2+), while a
    // scrape that kept the stall would show it again, the same figure (the max of the delays it still holds).
    expect(quiet).toBeLessThan(stalled);
    expect(await gauge(metrics, "nodejs_eventloop_lag_min_seconds")).toBeGreaterThanOrEqual(0.045);
  });
});

describe("the default metrics", () => {
  it("are prom-client's own, by name and type (its event-loop lag gauges replaced under the same names)", async () => {
    const theirs = new Registry();
    collectDefaultMetrics({ register: theirs });
    const ours = new Metrics(() => ({ inFlight: 0, queued: 0 }));
    try {
      const shape = async (registry: Registry) =>
        (await registry.getMetricsAsJSON()).map((m) => `${m.name} ${m.type} ${m.aggregator}`);
      const mine = new Set(await shape(ours.registry));
      const defaults = await shape(theirs);
      expect(defaults.length).toBeGreaterThan(20);
      // Except the lag gauges' aggregator: the worst worker's, not the average (eventloop-lag.ts WORST says why).
      const merged = (line: string) =>
        line.replace(/^(nodejs_eventloop_lag_[a-z0-9_]*seconds gauge) average$/, "$1 max");
      expect(defaults.map(merged).filter((line) => !mine.has(line))).toEqual([]);
    } finally {
      ours.close();
    }
  });
});

describe("one sampler for the process (admission control and the gauges read the same timer)", () => {
  it("is shared while any user holds it, and stops with the last release", async () => {
    const a = EventLoopSampler.acquire();
    const b = EventLoopSampler.acquire();
    expect(b).toBe(a);
    a.release();
    // Until it has sampled twice, not a fixed 130 ms: a stalled loop may run the 50 ms timer once in 130 ms.
    while (b.count < 2) await sleep(10);
    const running = b.count;
    b.release();
    // Released: no sample in three of its periods (a timer left running, due first, would run before this one's).
    await sleep(150);
    expect(b.count).toBe(running);
    const c = EventLoopSampler.acquire();
    expect(c).not.toBe(a);
    c.release();
  });
});
