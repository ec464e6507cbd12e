import { AOPAY_ENDPOINT_NAMES } from "../../../src/aopay/client";
import { EDGE_REFUSALS } from "../../../src/http/error-body";
import { knownSeries } from "../../../src/app";
import { type KnownSeries, Metrics } from "../../../src/observability/metrics";

/**
 * What Metrics.startAtZero lists depends on the process: the listeners whose guard counts into its registry, and
 * whether a Redis will ever be judged. test/e2e/first-scrape.test.ts scrapes a development process (both listeners,
 * no Redis); these are the other cases, on the registry itself.
 */
describe("Metrics.startAtZero, by what the process has", () => {
  const known = (over: Partial<KnownSeries>): KnownSeries => ({
    ...knownSeries({ circuits: { cibil: "closed", aeps: "closed" }, listeners: ["api", "metrics"], redis: false }),
    ...over,
  });
  const metrics: Metrics[] = [];
  afterAll(() => metrics.forEach((m) => m.close()));

  async function valuesOf(
    m: Metrics,
    name: string,
  ): Promise<Array<[Partial<Record<string, string | number>>, number]>> {
    const metric = m.registry.getSingleMetric(name);
    if (metric === undefined) throw new Error(`no ${name}`);
    return (await metric.get()).values.map((v) => [v.labels, v.value]);
  }

  function started(over: Partial<KnownSeries>): Metrics {
    const m = new Metrics(() => ({ inFlight: 0, queued: 0 }));
    metrics.push(m);
    m.startAtZero(known(over));
    return m;
  }

  it("with REDIS_URL: no aopay_redis_unsafe until its server is judged (0 would say a server not seen is safe)", async () => {
    const m = started({ redis: true });
    expect(await valuesOf(m, "aopay_redis_unsafe")).toEqual([]);
    m.redisServer({ evictingPolicy: true, tooOld: false });
    expect(await valuesOf(m, "aopay_redis_unsafe")).toEqual([
      [{ problem: "eviction_policy" }, 1],
      [{ problem: "version" }, 0],
    ]);
  });

  it("without REDIS_URL: both problems at 0 from the start (no server will ever be judged)", async () => {
    expect(await valuesOf(started({ redis: false }), "aopay_redis_unsafe")).toEqual([
      [{ problem: "eviction_policy" }, 0],
      [{ problem: "version" }, 0],
    ]);
  });

  it("a cluster worker (no metrics listener of its own): connection refusals of the api listener only", async () => {
    expect(await valuesOf(started({ listeners: ["api"] }), "http_connections_refused_total")).toEqual([
      [{ listener: "api", reason: "per_ip" }, 0],
      [{ listener: "api", reason: "total" }, 0],
      [{ listener: "api", reason: "oldest_closed" }, 0],
    ]);
  });

  it("counts a first event on a series listed at 0 (its child is the one listed, not a second series)", async () => {
    const m = started({});
    m.edgeRefused(401, "UNAUTHENTICATED");
    m.connectionRefused("api", "per_ip");
    m.upstreamCall({ endpoint: AOPAY_ENDPOINT_NAMES[0], outcome: "OK", sent: true, durationMs: 30 });
    const refused = await valuesOf(m, "http_requests_refused_total");
    expect(refused).toHaveLength(EDGE_REFUSALS.length);
    expect(refused.filter(([, v]) => v > 0)).toEqual([[{ status: "401", code: "UNAUTHENTICATED" }, 1]]);
    const connections = await valuesOf(m, "http_connections_refused_total");
    expect(connections.filter(([, v]) => v > 0)).toEqual([[{ listener: "api", reason: "per_ip" }, 1]]);
    const counts = (await valuesOf(m, "aopay_upstream_request_duration_seconds")).filter(
      ([l]) => l.le === "+Inf" && l.outcome === "OK" && l.endpoint === AOPAY_ENDPOINT_NAMES[0],
    );
    expect(counts.map(([, v]) => v)).toEqual([1]);
  });
});
