import { AggregatorRegistry } from "prom-client";
import { Metrics } from "../../../src/observability/metrics";

/**
 * With WEB_CONCURRENCY > 1 the primary serves every worker's metrics merged by prom-client's AggregatorRegistry
 * (src/cluster.ts), which sums a gauge unless it names another aggregator. A state gauge summed across workers reads
 * a value no single worker has, and the sample alerts of docs/operations.md compare states.
 */
describe("the workers' metrics merged on the primary's page", () => {
  const workers: Metrics[] = [];
  afterEach(() => workers.splice(0).forEach((m) => m.close()));

  async function merged(setUp: (m: Metrics) => void): Promise<string> {
    for (let i = 0; i < 2; i++) {
      const m = new Metrics(() => ({ inFlight: 1, queued: 0 }));
      setUp(m);
      workers.push(m);
    }
    const registry = AggregatorRegistry.aggregate(await Promise.all(workers.map((m) => m.registry.getMetricsAsJSON())));
    return registry.metrics();
  }

  it("shows a circuit open in both workers as open (2), not 4", async () => {
    const page = await merged((m) => m.circuitChanged("cibil", "open"));
    expect(page).toMatch(/^aopay_circuit_state\{family="cibil"\} 2$/m);
  });

  it("shows an evicting Redis as 1, not 2", async () => {
    const page = await merged((m) => m.redisServer({ evictingPolicy: true, policyUnchecked: false, tooOld: false }));
    expect(page).toMatch(/^aopay_redis_unsafe\{problem="eviction_policy"\} 1$/m);
  });

  it("shows one stalled worker's event-loop lag, not its average with an idle one's; the least delay of any", async () => {
    const stalled = [0.45, 0.05]; // seconds in each worker: one stalled, one idle (the 50 ms sampling period)
    for (let i = 0; i < 2; i++) workers.push(new Metrics(() => ({ inFlight: 0, queued: 0 })));
    const pages = await Promise.all(workers.map((m) => m.registry.getMetricsAsJSON()));
    pages.forEach((page, i) => {
      for (const metric of page)
        if (/^nodejs_eventloop_lag_[a-z0-9_]*seconds$/.test(metric.name))
          metric.values = [{ value: stalled[i], labels: {} }];
    });
    const page = await AggregatorRegistry.aggregate(pages).metrics();
    // EventLoopLag (deploy/prometheus/alerts.yml) is p99 > 0.25: the average, 0.25, never fired. Every gauge but the
    // minimum is the worst worker's (the mean, the standard deviation and the setImmediate lag were averaged).
    for (const gauge of ["p99", "p90", "p50", "max", "mean", "stddev"])
      expect(page).toMatch(new RegExp(`^nodejs_eventloop_lag_${gauge}_seconds 0\\.45$`, "m"));
    expect(page).toMatch(/^nodejs_eventloop_lag_seconds 0\.45$/m);
    expect(page).toMatch(/^nodejs_eventloop_lag_min_seconds 0\.05$/m);
  });

  it("still sums what adds up across workers (calls in flight)", async () => {
    const page = await merged(() => undefined);
    expect(page).toMatch(/^aopay_upstream_in_flight 2$/m);
  });
});
