import { randomUUID } from "node:crypto";
import { connect } from "node:net";
import { trace } from "@opentelemetry/api";
import { AlwaysOffSampler, InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { request } from "undici";
import { blackHole, delayed, json, raw } from "../helpers/fake-upstream";
import { fixtureJson } from "../helpers/fixtures";
import { until } from "../helpers/holding-upstream";
import { cibilInput, GENERATE_CIBIL_OTP, resultOf } from "../helpers/operations";
import { startStackOnFakeUpstream, stackOnFakeUpstream, startTestStack, type TestStack } from "../helpers/stack";
import { EVENT_LOOP_SAMPLING_MS } from "../../src/http/admission.settings";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function scrape(
  url: string | null,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  const res = await request(url as string, { headers });
  return { status: res.statusCode, text: await res.body.text() };
}

describe("metrics at /metrics on their own listener (prom-client)", () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack({ OTP_COOLDOWN_SECONDS: "60", METRICS_TOKEN: "scrape-token-0123456789" });
    await t.gql(GENERATE_CIBIL_OTP, cibilInput("120000001"), { "x-apollo-operation-name": "GenerateCibilOtp" });
    await t.gql(GENERATE_CIBIL_OTP, cibilInput("120000001")); // cooldown
    const key = randomUUID();
    await t.gql(GENERATE_CIBIL_OTP, cibilInput("120000002"), { "idempotency-key": key });
    await t.gql(GENERATE_CIBIL_OTP, cibilInput("120000002"), { "idempotency-key": key }); // replay
    await t.gql(GENERATE_CIBIL_OTP, cibilInput("120000503")); // 503: unavailable, retryable
  });
  afterAll(() => t?.stop());
  const metrics = () => scrape(t.stack.app.metricsUrl, { authorization: "Bearer scrape-token-0123456789" });

  it("is not on the public port, and needs the token when one is set", async () => {
    const publicPort = await request(`${t.baseUrl}/metrics`);
    expect(publicPort.statusCode).toBe(404);
    await publicPort.body.dump();
    expect(t.stack.app.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:[0-9]+\/metrics$/);
    expect((await scrape(t.stack.app.metricsUrl)).status).toBe(401);
    expect((await scrape(t.stack.app.metricsUrl, { authorization: "Bearer wrong-token-00000000000" })).status).toBe(
      401,
    );
    expect((await metrics()).status).toBe(200);
    expect(t.logs.records().find((r) => r.msg === "metrics listening")).toMatchObject({ auth: "bearer" });
  });

  it.each([
    // upstream latency histogram per endpoint template, outcomes by stable code
    /^aopay_upstream_request_duration_seconds_bucket\{le="[0-9.+Inf]+",endpoint="cibil\.generateOtp",outcome="OK"\} [0-9]+$/m,
    /^aopay_upstream_requests_total\{endpoint="cibil\.generateOtp",outcome="OK"\} 2$/m,
    /^aopay_upstream_requests_total\{endpoint="cibil\.generateOtp",outcome="UPSTREAM_UNAVAILABLE"\} 1$/m,
    // throttles and replays
    /^aopay_otp_throttled_total\{operation="generateCibilOtp",code="OTP_COOLDOWN",scope="DESTINATION"\} 1$/m,
    /^aopay_idempotent_replays_total\{operation="generateCibilOtp"\} 1$/m,
    // breaker state, in-flight and queued
    /^aopay_circuit_state\{family="cibil"\} 0$/m,
    /^aopay_upstream_in_flight 0$/m,
    /^aopay_upstream_queued 0$/m,
    // GraphQL operation latency by operation name
    /^graphql_operation_duration_seconds_count\{operation="GenerateCibilOtp",type="mutation",result="ok"\} [0-9]+$/m,
    // Node process metrics
    /^process_cpu_user_seconds_total [0-9.e+-]+$/m,
    /^nodejs_heap_size_used_bytes [0-9.e+-]+$/m,
    // log lines lost to a full stdout (none here: the test stack logs to memory)
    /^log_lines_dropped_total 0$/m,
  ])("exposes %s", async (line) => {
    expect((await metrics()).text).toMatch(line);
  });

  it("samples the event-loop lag every 50 ms, as admission control does (src/http/admission.settings.ts)", async () => {
    await metrics(); // resets prom-client's histogram
    await new Promise((r) => setTimeout(r, 300));
    const { text } = await metrics();
    // The shortest sample is the sampling period (a timer never fires early): 10 ms at prom-client's default.
    const min = Number(/^nodejs_eventloop_lag_min_seconds ([0-9.e+-]+)$/m.exec(text)?.[1]);
    expect(min).toBeGreaterThanOrEqual(EVENT_LOOP_SAMPLING_MS / 1000 - 0.002);
    expect(min).toBeLessThan(1);
  });

  it("never carries identifiers or URLs in labels", async () => {
    const { text } = await metrics();
    // Calls were counted (by endpoint template), so a leak would have had somewhere to show.
    expect(text).toMatch(
      /^aopay_upstream_requests_total\{endpoint="cibil\.generateOtp",outcome="[A-Z_]+"\} [1-9][0-9]*$/m,
    );
    expect(text).not.toMatch(/12000000[12]|127\.0\.0\.1|\/api\/AOP/);
  });
});

describe("rotating the metrics token (METRICS_TOKEN_PREVIOUS)", () => {
  // One token alone could not be rotated without a gap: the scraper and the replicas never switch at the same moment,
  // and every scrape refused meanwhile read as the target down.
  const OLD = "scrape-token-old-0123456789";
  const NEW = "scrape-token-new-0123456789";
  let t: TestStack | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });
  const statusWith = async (token?: string) =>
    (await scrape((t as TestStack).stack.app.metricsUrl, token ? { authorization: `Bearer ${token}` } : {})).status;

  it("during the rotation both tokens scrape, and nothing else does", async () => {
    t = await startTestStack({ METRICS_TOKEN: NEW, METRICS_TOKEN_PREVIOUS: OLD });
    expect(await statusWith(NEW)).toBe(200);
    expect(await statusWith(OLD)).toBe(200);
    expect(await statusWith("scrape-token-xxx-0123456789")).toBe(401);
    expect(await statusWith(`${OLD}x`)).toBe(401);
    expect(await statusWith()).toBe(401);
    expect(t.logs.records().find((r) => r.msg === "metrics listening")).toMatchObject({ auth: "bearer+previous" });
    // Secrets: neither token in any line.
    expect(t.logs.raw()).not.toContain(OLD);
    expect(t.logs.raw()).not.toContain(NEW);
  });

  it("the page counts the scrapes each token passed: step 3 waits for the previous token's count to stop rising", async () => {
    t = await startTestStack({ METRICS_TOKEN: NEW, METRICS_TOKEN_PREVIOUS: OLD });
    const counts = async (token: string) => {
      const { text } = await scrape((t as TestStack).stack.app.metricsUrl, { authorization: `Bearer ${token}` });
      const count = (which: string) =>
        Number(new RegExp(`^metrics_scrapes_total\\{token="${which}"\\} (\\d+)$`, "m").exec(text)?.[1]);
      return { current: count("current"), previous: count("previous") };
    };
    // Each scrape counts itself; a refused one counts nowhere.
    expect(await counts(OLD)).toEqual({ current: 0, previous: 1 });
    expect(await statusWith("scrape-token-xxx-0123456789")).toBe(401);
    expect(await counts(NEW)).toEqual({ current: 1, previous: 1 });
    expect(await counts(NEW)).toEqual({ current: 2, previous: 1 });
    const { text } = await scrape(t.stack.app.metricsUrl, { authorization: `Bearer ${NEW}` });
    expect(text).toMatch(/^# TYPE metrics_scrapes_total counter$/m);
    // Without a token nothing is counted (anyone may scrape): no series.
    await t.stop();
    t = await startTestStack({});
    expect((await scrape(t.stack.app.metricsUrl)).text).not.toContain("metrics_scrapes_total");
  });

  it("once METRICS_TOKEN_PREVIOUS is removed, the old token is refused", async () => {
    t = await startTestStack({ METRICS_TOKEN: NEW });
    expect(await statusWith(NEW)).toBe(200);
    expect(await statusWith(OLD)).toBe(401);
  });

  it("METRICS_TOKEN_PREVIOUS alone does not start: it names the token METRICS_TOKEN replaced", async () => {
    await expect(startTestStack({ METRICS_TOKEN_PREVIOUS: OLD })).rejects.toThrow(
      /METRICS_TOKEN_PREVIOUS needs METRICS_TOKEN/,
    );
  });
});

describe("circuit breaker through the server, and readiness", () => {
  // Real time: the checks of the open state (a refused send, /readyz, the gauge) must all land before it ends. It was
  // 600 ms, and a loaded machine (the event loop held half the time) read the gauge already half-open (1).
  const BREAKER_RESET_MS = 3000;
  const { upstream, t } = stackOnFakeUpstream({
    answer: raw(503, "text/plain", "down"),
    env: { BREAKER_VOLUME_THRESHOLD: "5", BREAKER_RESET_MS: String(BREAKER_RESET_MS), AOPAY_RETRY_MAX: "0" },
  });
  const readyz = async () => {
    const res = await request(`${t.baseUrl}/readyz`);
    return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
  };

  it("opens after repeated 5xx: later calls get UPSTREAM_UNAVAILABLE at once, /readyz reports it, then one probe closes it", async () => {
    for (let i = 0; i < 5; i++) await t.gql(GENERATE_CIBIL_OTP, cibilInput(`13000000${i}`));
    expect(upstream.calls).toHaveLength(5);
    const fast = resultOf((await t.gql(GENERATE_CIBIL_OTP, cibilInput("130000009"))).body, "generateCibilOtp");
    expect(fast).toMatchObject({ __typename: "UpstreamUnavailable", code: "UPSTREAM_UNAVAILABLE", retryable: true });
    expect(fast.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(upstream.calls).toHaveLength(5);
    // AOPay is shared by every replica: ready (READINESS_INCLUDES_BREAKER false), saying why sends fail fast.
    expect(await readyz()).toEqual({
      status: 200,
      body: { status: "upstream-circuit-open", circuits: { cibil: "open", aeps: "closed" } },
    });
    expect((await scrape(t.stack.app.metricsUrl)).text).toMatch(/^aopay_circuit_state\{family="cibil"\} 2$/m);

    upstream.respond(json(200, fixtureJson("cibil/generate-otp.success")));
    await sleep(BREAKER_RESET_MS + 100);
    const probe = resultOf((await t.gql(GENERATE_CIBIL_OTP, cibilInput("130000010"))).body, "generateCibilOtp");
    expect(probe.__typename).toBe("CibilOtpChallenge");
    expect(upstream.calls).toHaveLength(6);
    expect(await readyz()).toEqual({
      status: 200,
      body: { status: "ready", circuits: { cibil: "closed", aeps: "closed" } },
    });
  });
});

describe("READINESS_INCLUDES_BREAKER=true: an open circuit takes the replica out of the load balancer", () => {
  const { upstream, t } = stackOnFakeUpstream({
    answer: raw(503, "text/plain", "down"),
    env: {
      BREAKER_VOLUME_THRESHOLD: "5",
      BREAKER_RESET_MS: "60000",
      AOPAY_RETRY_MAX: "0",
      READINESS_INCLUDES_BREAKER: "true",
    },
  });

  it("/readyz answers 503 upstream-circuit-open while the circuit is open", async () => {
    const before = await request(`${t.baseUrl}/readyz`);
    expect([before.statusCode, await before.body.json()]).toEqual([
      200,
      { status: "ready", circuits: { cibil: "closed", aeps: "closed" } },
    ]);
    for (let i = 0; i < 5; i++) await t.gql(GENERATE_CIBIL_OTP, cibilInput(`13100000${i}`));
    expect(upstream.calls).toHaveLength(5);
    const open = await request(`${t.baseUrl}/readyz`);
    expect([open.statusCode, await open.body.json()]).toEqual([
      503,
      { status: "upstream-circuit-open", circuits: { cibil: "open", aeps: "closed" } },
    ]);
  });
});

// One upstream socket, held 2 s by a slow send (simulator scenario 888); three clients write their sends and hang up
// while those wait for the socket, so each is dropped before it is written (CLIENT_GONE); then two sends AOPay fails
// (503). Every call that reached AOPay after the slow one failed: 2 of 3, over 50 %. The three drops were counted as
// successes, 2 of 6, and the circuit stayed closed while AOPay failed.
describe("circuit breaker: calls whose clients hung up before they were sent are not AOPay's successes", () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack({
      AOPAY_CONNECTIONS: "1",
      BREAKER_VOLUME_THRESHOLD: "3",
      BREAKER_ERROR_PERCENT: "50",
      AOPAY_RETRY_MAX: "0",
    });
  });
  afterAll(() => t?.stop());

  it("opens on the failures of the calls that went to AOPay, whatever number of clients gave up", async () => {
    const held = t.gql(GENERATE_CIBIL_OTP, cibilInput("180000888"));
    await until("the slow send to hold the socket", () => t.stack.app.transport.stats.inFlight === 1);
    const sockets = await Promise.all(
      ["180001001", "180002001", "180003001"].map(async (id) => {
        const body = JSON.stringify({ query: GENERATE_CIBIL_OTP, variables: cibilInput(id) });
        const socket = connect(Number(new URL(t.baseUrl).port), "127.0.0.1");
        await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
        socket.write(
          `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        );
        return socket;
      }),
    );
    await until("the three sends to wait for the socket", () => t.stack.app.transport.stats.queued === 3);
    for (const socket of sockets) socket.destroy();
    const connections = () =>
      new Promise<number>((resolve) => t.stack.app.fastify.server.getConnections((_e, n) => resolve(n)));
    for (let i = 0; i < 200 && (await connections()) > 1; i++) await sleep(10);
    expect(resultOf((await held).body, "generateCibilOtp").__typename).toBe("CibilOtpChallenge");
    await until(
      "the three dropped sends",
      () => t.logs.text().split("client gone before the request was sent").length - 1 === 3,
    );
    for (const id of ["180004503", "180005503"])
      expect(resultOf((await t.gql(GENERATE_CIBIL_OTP, cibilInput(id))).body, "generateCibilOtp").__typename).toBe(
        "UpstreamUnavailable",
      );
    expect(t.simulator?.calls("cibil.generateOtp")).toBe(3);
    const metrics = (await scrape(t.stack.app.metricsUrl)).text;
    expect(metrics).toMatch(
      /^aopay_upstream_requests_total\{endpoint="cibil\.generateOtp",outcome="CLIENT_GONE"\} 3$/m,
    );
    expect(metrics).toMatch(/^aopay_circuit_state\{family="cibil"\} 2$/m);
    // Open: the next send is refused at once, AOPay not called.
    const fast = resultOf((await t.gql(GENERATE_CIBIL_OTP, cibilInput("180006001"))).body, "generateCibilOtp");
    expect(fast).toMatchObject({ __typename: "UpstreamUnavailable", code: "UPSTREAM_UNAVAILABLE" });
    expect(t.simulator?.calls("cibil.generateOtp")).toBe(3);
  }, 20_000);
});

describe("bulkhead through the server", () => {
  it("sheds excess mutations at once as OVERLOADED while /healthz stays responsive", async () => {
    // No admission cap: it would refuse the same requests earlier, as HTTP 503 (its own test: test/e2e/overload.test.ts).
    const { upstream, t, stop } = await startStackOnFakeUpstream({
      answer: delayed(1000, json(200, fixtureJson("cibil/generate-otp.success"))),
      env: { AOPAY_CONNECTIONS: "2", AOPAY_QUEUE_LIMIT: "2", ADMISSION_MAX_IN_FLIGHT: "0" },
    });
    try {
      let answeredByAopay = 0;
      const mutations = Promise.all(
        Array.from({ length: 12 }, async (_, i) => {
          const res = await t.gql(GENERATE_CIBIL_OTP, cibilInput(`14000000${i}`));
          if (resultOf(res.body, "generateCibilOtp").__typename === "CibilOtpChallenge") answeredByAopay += 1;
          return res;
        }),
      );
      // The admitted calls are waiting once AOPay has the first two (it holds each 1 s; the other two are queued).
      while (upstream.calls.length < 2) await sleep(10);
      const health = await request(`${t.baseUrl}/healthz`);
      expect(health.statusCode).toBe(200);
      await health.body.dump();
      const admittedDoneBeforeHealth = answeredByAopay;
      const results = (await mutations).map((r) => resultOf(r.body, "generateCibilOtp"));
      const shed = results.filter((r) => r.code === "OVERLOADED");
      expect(shed).toHaveLength(8);
      expect(shed[0]).toMatchObject({ __typename: "UpstreamUnavailable", retryable: true, retryAfterSeconds: 1 });
      expect(results.filter((r) => r.__typename === "CibilOtpChallenge")).toHaveLength(4);
      // /healthz answered while the admitted calls were still waiting on AOPay: none of them had its answer yet.
      // Counted, not timed (a bound of 1,000 ms from the start fails on a loaded machine).
      expect(admittedDoneBeforeHealth).toBe(0);
      expect(upstream.calls).toHaveLength(4);
    } finally {
      await stop();
    }
  });
});

describe("deadlines", () => {
  // Far enough above the client's 300 ms that a bound with 1.5 s of slack for a loaded machine still fails a server
  // that ignores the header (it was 1,500 ms, with a bound of 900 ms).
  const REQUEST_DEADLINE_MS = 2500;
  const { t } = stackOnFakeUpstream({ answer: blackHole, env: { REQUEST_DEADLINE_MS: String(REQUEST_DEADLINE_MS) } });

  it("a client's x-request-timeout-ms shortens the request's deadline", async () => {
    const started = Date.now();
    const r = resultOf(
      (await t.gql(GENERATE_CIBIL_OTP, cibilInput(), { "x-request-timeout-ms": "300" })).body,
      "generateCibilOtp",
    );
    const elapsed = Date.now() - started;
    expect(r).toMatchObject({ code: "OUTCOME_UNKNOWN" });
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(300 + 1500);
  });

  it("but never lengthens it past REQUEST_DEADLINE_MS", async () => {
    const started = Date.now();
    const r = resultOf(
      (await t.gql(GENERATE_CIBIL_OTP, cibilInput(), { "x-request-timeout-ms": "60000" })).body,
      "generateCibilOtp",
    );
    const elapsed = Date.now() - started;
    expect(r).toMatchObject({ code: "OUTCOME_UNKNOWN" });
    expect(elapsed).toBeGreaterThanOrEqual(REQUEST_DEADLINE_MS - 100);
    expect(elapsed).toBeLessThan(REQUEST_DEADLINE_MS + 1500);
  });
});

describe("tracing hooks", () => {
  const exporter = new InMemorySpanExporter();
  let t: TestStack;
  beforeAll(async () => {
    trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }));
    t = await startTestStack();
  });
  afterAll(async () => {
    await t?.stop();
    trace.disable();
  });

  it("every log line after AOPay answered carries the request id and AOPay's merchant transaction id", async () => {
    await t.gql(GENERATE_CIBIL_OTP, cibilInput("150000001"), {
      "x-request-id": "7c9e6679-a425-40de-944b-e07fc1f90ae7",
    });
    const lines = t.logs.records().filter((r) => r.callerRequestId === "7c9e6679-a425-40de-944b-e07fc1f90ae7");
    const completed = lines.find((r) => r.msg === "request completed");
    expect(completed?.merchantTransactionId).toMatch(/^SIMCBL[0-9]+$/);
    expect(completed?.clientId).toBe("anonymous");
    // One info line per request: the upstream call is summarised in it (its own line is debug-level).
    expect(completed?.upstream).toEqual([
      expect.objectContaining({ endpoint: "cibil.generateOtp", outcome: "OK", httpStatus: 200 }),
    ]);
    expect(lines.filter((r) => r.level === "info" && r.msg === "upstream call")).toHaveLength(0);
    expect(lines.length).toBeGreaterThanOrEqual(2);
  });

  it("wraps each upstream call in an OpenTelemetry client span without customer data", async () => {
    exporter.reset();
    await t.gql(GENERATE_CIBIL_OTP, cibilInput("150000002"));
    await t.gql(GENERATE_CIBIL_OTP, cibilInput("150000207"));
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name)).toEqual(["aopay cibil.generateOtp", "aopay cibil.generateOtp"]);
    expect(spans[0].attributes).toMatchObject({
      "aopay.endpoint": "cibil.generateOtp",
      "http.request.method": "GET",
      "url.template": "/CibilScore/GenerateOTP",
      "aopay.outcome": "OK",
      "aopay.sent": true,
      "http.response.status_code": 200,
    });
    expect(spans[0].attributes["aopay.merchant_transaction_id"]).toMatch(/^SIMCBL/);
    expect(spans[1].attributes["aopay.outcome"]).toBe("UPSTREAM_REJECTED");
    expect(spans[1].status.code).toBe(2);
    expect(JSON.stringify(spans.map((s) => s.attributes))).not.toMatch(/15000000[27]|123456542124/);
  });
});

describe("tracing with a sampler that records nothing", () => {
  const exporter = new InMemorySpanExporter();
  let t: TestStack;
  beforeAll(async () => {
    trace.setGlobalTracerProvider(
      new TracerProvider({ sampler: new AlwaysOffSampler(), spanProcessors: [new SimpleSpanProcessor({ exporter })] }),
    );
    t = await startTestStack();
  });
  afterAll(async () => {
    await t?.stop();
    trace.disable();
  });

  it("answers and rejects exactly as with a recording span (the attempt's non-recording span ends at once)", async () => {
    const ok = resultOf((await t.gql(GENERATE_CIBIL_OTP, cibilInput("150000003"))).body, "generateCibilOtp");
    expect(ok).toMatchObject({ __typename: "CibilOtpChallenge", status: "PENDING" });
    const rejected = resultOf((await t.gql(GENERATE_CIBIL_OTP, cibilInput("150000207"))).body, "generateCibilOtp");
    expect(rejected).toMatchObject({ code: "UPSTREAM_REJECTED" });
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});

describe("a client's short deadline is not AOPay failing (circuit breaker)", () => {
  // AOPay answers every GenerateOTP, after 300 ms. The breaker's defaults: 10 calls in the window, over 50 % failing.
  const slowAopay = (env: Record<string, string>) =>
    startStackOnFakeUpstream({ answer: delayed(300, json(200, fixtureJson("cibil/generate-otp.success"))), env });
  const circuit = async (s: TestStack) =>
    /^aopay_circuit_state\{family="cibil"\} ([0-9])$/m.exec((await scrape(s.stack.app.metricsUrl)).text)?.[1];
  const sendAll = async (s: TestStack, n: number, headers: Record<string, string>) => {
    const codes: string[] = [];
    for (let i = 0; i < n; i++) {
      const r = resultOf(
        (await s.gql(GENERATE_CIBIL_OTP, cibilInput(String(102277300 + i)), headers)).body,
        "generateCibilOtp",
      );
      codes.push(String(r.code ?? r.__typename));
    }
    return codes;
  };

  it("12 calls cut short by x-request-timeout-ms: 50 leave the circuit closed, and another client is served", async () => {
    const { t, stop } = await slowAopay({ BREAKER_VOLUME_THRESHOLD: "10" });
    try {
      const codes = await sendAll(t, 12, { "x-request-timeout-ms": "50" });
      // Each was cut short by its own deadline: the client is told so (the OTP may have gone when it was written).
      expect(codes.every((c) => c === "OUTCOME_UNKNOWN" || c === "UPSTREAM_TIMEOUT")).toBe(true);
      expect(await circuit(t)).toBe("0");
      // Operators see whose choice it was: no upstream failure to alert on (AopayUpstreamFailures,
      // AopayOutcomeUnknown in docs/operations.md), no warning per call; the access line names the cut.
      const page = (await scrape(t.stack.app.metricsUrl)).text;
      expect(page).toMatch(
        /^aopay_upstream_requests_total\{endpoint="cibil\.generateOtp",outcome="CLIENT_DEADLINE"\} 12$/m,
      );
      // Every outcome is listed from the start, at 0 (metrics.ts startAtZero): these two must have stayed there.
      expect(page).not.toMatch(/outcome="(?:OUTCOME_UNKNOWN|UPSTREAM_TIMEOUT)"\} [1-9]/);
      expect(t.logs.records().filter((r) => r.level === "warn" && r.requestId !== undefined)).toEqual([]);
      const access = t.logs.records().filter((r) => r.msg === "request completed");
      expect(access).toHaveLength(12);
      for (const line of access)
        expect(line.upstream).toEqual([
          expect.objectContaining({ endpoint: "cibil.generateOtp", outcome: "CLIENT_DEADLINE" }),
        ]);
      const other = await t.gql(GENERATE_CIBIL_OTP, cibilInput("102277399"));
      expect(resultOf(other.body, "generateCibilOtp").__typename).toBe("CibilOtpChallenge");
    } finally {
      await stop();
    }
  });

  // Not counting every cut a client chose kept the circuit closed through an AOPay that hangs, for clients whose
  // deadlines are all shorter than the server's (src/aopay/circuit-breakers.settings.ts, DEFAULT_BREAKER.slowCallMs).
  it("a client's shorter deadline cutting calls after BREAKER_SLOW_CALL_MS counts: AOPay is slow, the circuit opens", async () => {
    const { t, stop } = await slowAopay({ BREAKER_VOLUME_THRESHOLD: "10", BREAKER_SLOW_CALL_MS: "100" });
    try {
      const codes = await sendAll(t, 12, { "x-request-timeout-ms": "200" });
      expect(codes.slice(0, 10).every((c) => c === "OUTCOME_UNKNOWN" || c === "UPSTREAM_TIMEOUT")).toBe(true);
      expect(codes.slice(-1)).toEqual(["UPSTREAM_UNAVAILABLE"]);
      expect(await circuit(t)).toBe("2");
    } finally {
      await stop();
    }
  });

  it("the server's own deadline (REQUEST_DEADLINE_MS) cutting them short still counts: the circuit opens", async () => {
    const { t, stop } = await slowAopay({ BREAKER_VOLUME_THRESHOLD: "10", REQUEST_DEADLINE_MS: "100" });
    try {
      const codes = await sendAll(t, 12, {});
      expect(codes.slice(-1)).toEqual(["UPSTREAM_UNAVAILABLE"]);
      expect(await circuit(t)).toBe("2");
    } finally {
      await stop();
    }
  });
});
