import { request } from "undici";
import { AOPAY_ENDPOINT_NAMES, AOPAY_OUTCOMES } from "../../src/aopay/client";
import { TRUSTED_DOCUMENTS } from "../../src/generated/trusted-documents";
import { GUARDED_MUTATION_NAMES } from "../../src/graphql/guarded-mutations";
import { EDGE_REFUSALS } from "../../src/http/error-body";
import { matches, NOT_ON_A_SERVER_PAGE, parsePage, rules, selectorsOf, type Series } from "../helpers/alert-rules";
import { type ServerProcess, startServerProcess } from "../helpers/server-process";
import { TEST_API_KEYS_ENTRY } from "../helpers/stack";

/**
 * What an operator sees in a replica's first minute, before any request: the real server process (dist-test/index.js)
 * in development against its built-in simulator, scraped and asked /readyz before anything else reached it. Every
 * circuit is listed, closed; every counter and histogram whose labels are known at startup is on the page at 0, so that
 * `increase()` and `rate()` see the first event after a start and dashboards read 0, not "no data"
 * (src/observability/metrics.ts startAtZero). With one API_KEYS entry, whose counter is listed from the start too.
 */
describe("the first scrape of a server that has served nothing", () => {
  let p: ServerProcess;
  let page: Series[];
  let text: string;
  let readyz: { status: string; circuits?: Record<string, string> };

  beforeAll(async () => {
    p = startServerProcess({ NODE_ENV: "development", LOG_FORMAT: "json", API_KEYS: TEST_API_KEYS_ENTRY });
    const base = await p.ready;
    const metricsUrl = /"url":"(http:\/\/[^"]+\/metrics)"[^\n]*"metrics listening"/.exec(p.output())?.[1];
    if (metricsUrl === undefined) throw new Error(`no metrics line:\n${p.output()}`);
    const res = await request(metricsUrl);
    expect(res.statusCode).toBe(200);
    text = await res.body.text();
    page = parsePage(text);
    const ready = await request(`${base}/readyz`);
    expect(ready.statusCode).toBe(200);
    readyz = (await ready.body.json()) as typeof readyz;
  }, 30_000);
  afterAll(() => p?.kill());

  const value = (name: string, labels: Record<string, string>): number | undefined =>
    page.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

  it("/readyz lists every endpoint family's circuit, closed", () => {
    expect(readyz).toEqual({ status: "ready", circuits: { cibil: "closed", aeps: "closed" } });
  });

  it("aopay_circuit_state has each family at 0 (closed)", () => {
    expect(page.filter((s) => s.name === "aopay_circuit_state")).toEqual([
      { name: "aopay_circuit_state", labels: { family: "cibil" }, value: 0 },
      { name: "aopay_circuit_state", labels: { family: "aeps" }, value: 0 },
    ]);
  });

  it("counts every endpoint's every outcome from 0, and nothing else", () => {
    const upstream = page.filter((s) => s.name === "aopay_upstream_requests_total");
    expect(upstream).toHaveLength(AOPAY_ENDPOINT_NAMES.length * AOPAY_OUTCOMES.length);
    for (const endpoint of AOPAY_ENDPOINT_NAMES)
      for (const outcome of AOPAY_OUTCOMES)
        expect([endpoint, outcome, value("aopay_upstream_requests_total", { endpoint, outcome })]).toEqual([
          endpoint,
          outcome,
          0,
        ]);
  });

  /** A histogram's label sets on the page: each with its 13 buckets, sum and count all at 0, and nothing else. */
  function histogramAtZero(name: string): Array<Record<string, string>> {
    const sets = page.filter((s) => s.name === `${name}_count`).map((s) => s.labels);
    const problems: string[] = [];
    for (const labels of sets) {
      const of = (series: string) =>
        page.filter(
          (s) => s.name === `${name}_${series}` && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
        );
      const buckets = of("bucket");
      if (buckets.length !== 13 || buckets.some((b) => b.value !== 0) || buckets.at(-1)?.labels.le !== "+Inf")
        problems.push(`${JSON.stringify(labels)}: buckets ${JSON.stringify(buckets.map((b) => b.value))}`);
      if (
        of("sum")
          .map((s) => s.value)
          .join() !== "0" ||
        of("count")
          .map((s) => s.value)
          .join() !== "0"
      )
        problems.push(`${JSON.stringify(labels)}: sum or count not one 0`);
    }
    expect(problems).toEqual([]);
    expect(page.filter((s) => s.name.startsWith(name)).length).toBe(sets.length * 15);
    return sets;
  }

  it("lists every endpoint's every outcome in the upstream latency histogram, at 0", () => {
    // Before: a label set's buckets appeared with its first call, which no rate() over them (AopaySlow) counted.
    const sets = histogramAtZero("aopay_upstream_request_duration_seconds");
    expect(new Set(sets.map((l) => `${l.endpoint} ${l.outcome}`))).toEqual(
      new Set(AOPAY_ENDPOINT_NAMES.flatMap((e) => AOPAY_OUTCOMES.map((o) => `${e} ${o}`))),
    );
    expect(sets).toHaveLength(AOPAY_ENDPOINT_NAMES.length * AOPAY_OUTCOMES.length);
  });

  it("lists each generated client's operation, with its type, ok and error, in the GraphQL histogram at 0", () => {
    const sets = histogramAtZero("graphql_operation_duration_seconds");
    const expected = new Set(
      TRUSTED_DOCUMENTS.operations.flatMap((op) => [`${op.name} ${op.type} ok`, `${op.name} ${op.type} error`]),
    );
    expect(expected.size).toBe(14);
    expect(new Set(sets.map((l) => `${l.operation} ${l.type} ${l.result}`))).toEqual(expected);
    // `other` and `anonymous` are client-chosen documents: their label sets appear with the first.
    expect(sets).toHaveLength(expected.size);
  });

  it("counts every refusal before GraphQL (status, code) and every connection refusal from 0", () => {
    const refused = page.filter((s) => s.name === "http_requests_refused_total");
    expect(refused.map((s) => [Number(s.labels.status), s.labels.code, s.value])).toEqual(
      EDGE_REFUSALS.map(([status, code]) => [status, code, 0]),
    );
    const connections = page.filter((s) => s.name === "http_connections_refused_total");
    expect(connections.map((s) => `${s.labels.listener} ${s.labels.reason} ${s.value}`)).toEqual(
      ["api", "metrics"].flatMap((l) => ["per_ip", "total", "oldest_closed"].map((r) => `${l} ${r} 0`)),
    );
  });

  it("without Redis, says at 0 that no Redis breaks a promise (no server will ever be judged)", () => {
    expect(page.filter((s) => s.name === "aopay_redis_unsafe")).toEqual([
      { name: "aopay_redis_unsafe", labels: { problem: "eviction_policy" }, value: 0 },
      { name: "aopay_redis_unsafe", labels: { problem: "eviction_policy_unchecked" }, value: 0 },
      { name: "aopay_redis_unsafe", labels: { problem: "version" }, value: 0 },
    ]);
  });

  it("has a series for every metric it declares (an API_KEYS entry's counter included)", () => {
    const declared = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, name, type]) => ({ name, type }));
    expect(declared.length).toBeGreaterThan(30);
    // prom-client's gauges of the handles, requests and resources alive, by type: their `type` is a runtime class name
    // (TCPServerWrap, Timeout ...), no list of ours, and a type with none alive is listed by none; their `_total` is.
    const BY_RUNTIME_TYPE = new Set(["nodejs_active_handles", "nodejs_active_requests", "nodejs_active_resources"]);
    const empty = declared
      .filter(({ name }) => !BY_RUNTIME_TYPE.has(name))
      .filter(({ name, type }) => !page.some((s) => s.name === (type === "histogram" ? `${name}_count` : name)))
      .map(({ name }) => name);
    expect(empty).toEqual([]);
    expect(
      page.filter((s) => s.name === "aopay_api_key_requests_total").map((s) => [s.labels.client, s.value]),
    ).toEqual([["test-client", 0]]);
    // prom-client's GC histogram: each of its kinds from the start (each had its series from its first collection).
    expect(page.filter((s) => s.name === "nodejs_gc_duration_seconds_count").map((s) => s.labels.kind)).toEqual([
      "major",
      "minor",
      "incremental",
      "weakcb",
    ]);
  });

  it("counts each guarded mutation's refusals, replays and unrecorded writes from 0", () => {
    for (const operation of GUARDED_MUTATION_NAMES) {
      for (const name of [
        "aopay_idempotent_replays_total",
        "aopay_protection_unavailable_total",
        "aopay_unrecorded_writes_total",
      ])
        expect([name, operation, value(name, { operation })]).toEqual([name, operation, 0]);
    }
    for (const code of ["OTP_SEND_IN_PROGRESS", "MOBILE_LIMIT_REACHED", "REGISTRATION_IN_PROGRESS"])
      expect(value("aopay_protection_refusals_total", { operation: "registerCibilCustomer", code })).toBe(0);
    // Only the mutation that registers has refusal series; every mutation has a budget, so throttle series.
    expect(
      new Set(page.filter((s) => s.name === "aopay_protection_refusals_total").map((s) => s.labels.operation)),
    ).toEqual(new Set(["registerCibilCustomer"]));
    const throttled = page.filter((s) => s.name === "aopay_otp_throttled_total");
    expect(throttled.every((s) => s.value === 0)).toBe(true);
    // A registration's budgets (REGISTER_*): its IP's and its client's, nothing else.
    expect(throttled.filter((s) => s.labels.operation === "registerCibilCustomer").map((s) => s.labels.scope)).toEqual([
      "IP",
      "CLIENT",
    ]);
    for (const scope of ["IP", "CLIENT"])
      expect(
        value("aopay_otp_throttled_total", { operation: "registerCibilCustomer", code: "RATE_LIMITED", scope }),
      ).toBe(0);
    for (const operation of ["generateCibilOtp", "resendAepsOtp"])
      for (const scope of ["MOBILE_PREFIX", "GLOBAL", "IP", "CLIENT"])
        expect(value("aopay_otp_throttled_total", { operation, code: "RATE_LIMITED", scope })).toBe(0);
    for (const operation of ["submitCibilOtp", "verifyAepsOtp"])
      expect(
        value("aopay_otp_throttled_total", { operation, code: "VERIFY_LIMIT_REACHED", scope: "DESTINATION" }),
      ).toBe(0);
    // The credit-report read's budgets (READ_*): per IP (every attempt), per client and customer, per client; and its
    // store's refusals.
    expect(throttled.filter((s) => s.labels.operation === "cibilCreditHistory")).toEqual([
      {
        name: "aopay_otp_throttled_total",
        labels: expect.objectContaining({ code: "READ_THROTTLED", scope: "IP" }),
        value: 0,
      },
      {
        name: "aopay_otp_throttled_total",
        labels: expect.objectContaining({ code: "READ_THROTTLED", scope: "DESTINATION" }),
        value: 0,
      },
      {
        name: "aopay_otp_throttled_total",
        labels: expect.objectContaining({ code: "READ_THROTTLED", scope: "CLIENT" }),
        value: 0,
      },
    ]);
    expect(value("aopay_protection_unavailable_total", { operation: "cibilCreditHistory" })).toBe(0);
    expect(value("graphql_requests_shed_total", { reason: "in_flight" })).toBe(0);
    expect(value("graphql_requests_shed_total", { reason: "event_loop_delay" })).toBe(0);
  });

  it("has a series for every selector of every shipped alert", () => {
    // Before: AopaySlow's buckets and RedisUnsafe's gauge were left out (absent until a call, or a judged Redis).
    // RedisUnreachable's aopay_redis_up is served only with REDIS_URL (no Redis, no series: this server has none);
    // test/e2e/alert-rules.test.ts reads it on a server with one, 0 before any request when Redis is unreachable.
    // RedisMemoryFilling's bytes and their read_ok: read from Redis (REDIS_MEMORY_POLL_SECONDS), none without one.
    const onlyWithRedis = new Set([
      "aopay_redis_up",
      "aopay_redis_memory_used_bytes",
      "aopay_redis_memory_max_bytes",
      "aopay_redis_memory_read_ok",
    ]);
    expect(page.filter((s) => onlyWithRedis.has(s.name))).toEqual([]);
    const missing: string[] = [];
    for (const rule of rules)
      for (const selector of selectorsOf(rule.expr).selectors)
        if (
          !NOT_ON_A_SERVER_PAGE.has(selector.metric) &&
          !onlyWithRedis.has(selector.metric) &&
          !page.some((s) => matches(s, selector))
        )
          missing.push(`${rule.alert}: ${selector.metric}`);
    expect(missing).toEqual([]);
    // The listener's own count of pages it could not collect (MetricsCollectionFailed), written by it at 0.
    expect(page.filter((s) => s.name === "metrics_collection_failures_total")).toEqual([
      { name: "metrics_collection_failures_total", labels: {}, value: 0 },
    ]);
    // And its count of the requests it refused, its own and Node's parser's (408, 431: not counted before), by status.
    expect(page.filter((s) => s.name === "metrics_requests_refused_total")).toEqual(
      ["400", "401", "404", "405", "408", "431"].map((status) => ({
        name: "metrics_requests_refused_total",
        labels: { status },
        value: 0,
      })),
    );
  });
});
