import { readFileSync } from "node:fs";
import { join } from "node:path";
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
    m.redisServer({ evictingPolicy: true, policyUnchecked: false, tooOld: false });
    expect(await valuesOf(m, "aopay_redis_unsafe")).toEqual([
      [{ problem: "eviction_policy" }, 1],
      [{ problem: "eviction_policy_unchecked" }, 0],
      [{ problem: "version" }, 0],
    ]);
  });

  it("without REDIS_URL: every problem at 0 from the start (no server will ever be judged)", async () => {
    expect(await valuesOf(started({ redis: false }), "aopay_redis_unsafe")).toEqual([
      [{ problem: "eviction_policy" }, 0],
      [{ problem: "eviction_policy_unchecked" }, 0],
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

/**
 * Metrics.startAtZero's doc comment states the size of the first page ("66 upstream series (6 endpoints, 11
 * outcomes)" ...) so that an operator can tell what a scrape costs: its figures, read from the comment itself, are the
 * series a development process (both listeners, no Redis) lists. A new endpoint, outcome or mutation fails this until
 * the comment says so.
 */
describe("the page's size that Metrics.startAtZero's doc comment states", () => {
  const source = readFileSync(join(__dirname, "../../../src/observability/metrics.ts"), "utf8");
  const end = source.indexOf("  startAtZero(known: KnownSeries): void {");
  const comment = source
    .slice(source.lastIndexOf("/**", end), end)
    .replace(/^\s*\*\/?/gm, " ")
    .replace(/\s+/g, " ");
  /** The numbers `pattern` finds in the comment. */
  function stated(pattern: RegExp): number[] {
    const m = pattern.exec(comment);
    if (m === null) throw new Error(`startAtZero's comment no longer says ${String(pattern)}: ${comment}`);
    return m.slice(1).map(Number);
  }

  it("is the number of series it lists, kind by kind", async () => {
    const m = new Metrics(() => ({ inFlight: 0, queued: 0 }));
    try {
      const known = knownSeries({
        circuits: { cibil: "closed", aeps: "closed" },
        listeners: ["api", "metrics"],
        redis: false,
      });
      m.startAtZero(known);
      const values = async (name: string) => (await m.registry.getSingleMetric(name)!.get()).values;
      const count = async (name: string, where: (labels: Record<string, unknown>) => boolean = () => true) =>
        (await values(name)).filter((v) => where(v.labels)).length;
      const labelSets = async (name: string) => count(name, (l) => l.le === "+Inf");
      const histogram = "aopay_upstream_request_duration_seconds";
      const read = known.gatedReads[0].field;

      expect({
        upstream: [await count("aopay_upstream_requests_total"), known.endpoints.length, known.outcomes.length],
        histogram: [await labelSets(histogram), (await count(histogram)) / (await labelSets(histogram))],
        bounds: [(await count(histogram, (l) => l.le !== undefined && l.le !== "+Inf")) / (await labelSets(histogram))],
        throttle: [
          await count("aopay_otp_throttled_total"),
          await count("aopay_otp_throttled_total", (l) => l.operation === read),
        ],
        each: [
          await count("aopay_idempotent_replays_total"),
          await count("aopay_protection_unavailable_total", (l) => l.operation !== read),
          await count("aopay_unrecorded_writes_total"),
          await count("aopay_protection_unavailable_total", (l) => l.operation === read),
        ],
        refusals: [await count("aopay_protection_refusals_total")],
        shed: [await count("graphql_requests_shed_total")],
        edge: [await count("http_requests_refused_total")],
        failure: [await count("http_requests_failed_total")],
        perListener: [(await count("http_connections_refused_total")) / known.listeners.length],
        graphql: [
          await labelSets("graphql_operation_duration_seconds"),
          new Set((await values("graphql_operation_duration_seconds")).map((v) => v.labels.operation)).size,
        ],
      }).toEqual({
        upstream: stated(/(\d+) upstream series \((\d+) endpoints, (\d+) outcomes\)/),
        histogram: stated(/as many histogram label sets of (\d+) series each/).flatMap((each) => [
          stated(/(\d+) upstream series/)[0],
          each,
        ]),
        bounds: stated(/\((\d+) bounds, \+Inf, sum, count\)/),
        throttle: stated(/(\d+) throttle series \((\d+) of the credit-report read\)/),
        each: stated(
          /(\d+) each of replays, unavailable and unrecorded, and (\d+) unavailable for the credit-report read/,
        ).flatMap((n, i) => (i === 0 ? [n, n, n] : [n])),
        refusals: stated(/(\d+) refusals;/),
        shed: stated(/(\d+) shed reasons/),
        edge: [EDGE_REFUSALS.length],
        failure: stated(/(\d+) failure \(500\)/),
        perListener: stated(/(\d+) per listener/),
        graphql: stated(/(\d+) GraphQL label sets \((\d+) operations, ok and error\)/),
      });
    } finally {
      m.close();
    }
  });
});
