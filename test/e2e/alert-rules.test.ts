import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { request } from "undici";
import {
  matches,
  NOT_ON_A_SERVER_PAGE,
  parsePage,
  ROOT,
  RULES_FILE,
  rules,
  selectorsOf,
  type Selector,
  type Series,
} from "../helpers/alert-rules";
import { delayed, type FakeUpstream, json, startFakeUpstream, upstreamEnv } from "../helpers/fake-upstream";
import { fixtureJson } from "../helpers/fixtures";
import { registrationInput } from "../helpers/identifiers";
import { until } from "../helpers/holding-upstream";
import {
  aepsInput,
  CIBIL_CREDIT_HISTORY,
  cibilInput,
  cibilToken,
  GENERATE_CIBIL_OTP,
  REGISTER_CIBIL_CUSTOMER,
  RESEND_AEPS_OTP,
  resultOf,
  rightAnswer,
  SUBMIT_CIBIL_OTP,
} from "../helpers/operations";
import { freePort } from "../helpers/free-port";
import {
  connectPrivateRedis,
  PRIVATE_REDIS_SKIP_REASON,
  startRedis,
  stopRedis,
  waitFor,
} from "../helpers/private-redis";
import { startRedisProxy, type RedisProxy } from "../helpers/redis-proxy";
import { type ServerProcess, startServerProcess } from "../helpers/server-process";
import { startTestStack, type TestStack } from "../helpers/stack";

/**
 * The alert rules an operator copies (deploy/prometheus/alerts.yml, shown in docs/operations.md "Sample alerts")
 * checked against the real metrics page: every metric, label and label value an expression matches must appear on
 * the page of a server driven into the condition the alert names, and the expression must hold there and not in a
 * neighbouring benign condition. A renamed metric or label value otherwise leaves an alert that can never fire.
 */

/** The one selector of a rule's expression whose metric is `metric`. */
function selectorOf(alert: string, metric: string): Selector {
  const rule = rules.find((r) => r.alert === alert);
  if (!rule) throw new Error(`no alert ${alert} in ${RULES_FILE}`);
  const found = selectorsOf(rule.expr).selectors.filter((s) => s.metric === metric);
  if (found.length === 0) throw new Error(`${alert} does not select ${metric}`);
  return found[0];
}

/** `token`: the scenario's METRICS_TOKEN, sent as Prometheus does (a bearer token). */
async function scrape(t: TestStack, token?: string): Promise<Series[]> {
  const headers = token === undefined ? {} : { authorization: `Bearer ${token}` };
  const res = await request(t.stack.app.metricsUrl as string, { headers });
  expect(res.statusCode).toBe(200);
  const text = await res.body.text();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) typesSeen.set(m[1], m[2]);
  return parsePage(text);
}

/** The page that shows the rules and documents the metrics. */
const OPERATIONS_MD = join(ROOT, "docs/operations.md");

/** Every page scraped by the scenarios below: the matcher check runs over all of them. */
const pages: Series[][] = [];
/** Each scenario that ran, with its two scrapes: an alert's quiet check runs over all but its own. */
const runs: Array<{ name: string; before: Series[]; after: Series[] }> = [];
/** Each metric family's `# TYPE` on those pages. */
const typesSeen = new Map<string, string>();

const sendCibil = (t: TestStack, id: string) => t.gql(GENERATE_CIBIL_OTP, cibilInput(id));
const sendAeps = (t: TestStack, mobile: string) => t.gql(RESEND_AEPS_OTP, aepsInput(mobile));

/**
 * What the identity provider's key set answers (status, body) for an `AUTH_JWKS_URL` of the scenario's naming: a
 * loopback server of the scenario's own serves it (as test/e2e/failures-seen.test.ts).
 */
const JWKS_ANSWERS: Record<string, [number, string]> = {
  "jwks-503": [503, "down"],
  "jwks-without-the-key": [200, '{"keys":[]}'],
};
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
/** A bearer token well-formed enough for the authenticator to ask the JWKS for its key (never verified by one). */
const BEARER = {
  authorization: `Bearer ${b64({ alg: "RS256", typ: "at+jwt", kid: "k1" })}.${b64({ azp: "c", exp: 4e9 })}.c2ln`,
};

/** A bearer token that is no JWT: the client's 401, before any JWKS is asked. */
const NOT_A_JWT = { authorization: "Bearer not-a-jwt" };

/** A stack for one scenario: `drive` runs between the two scrapes it hands to `check`. */
function scenario(
  name: string,
  env: Record<string, string>,
  drive: (t: TestStack, redis?: ChildProcess, upstream?: FakeUpstream) => Promise<void>,
  check: (before: Series[], after: Series[]) => void,
  skip?: string,
) {
  (skip ? describe.skip : describe)(name, () => {
    let t: TestStack;
    let before: Series[];
    let after: Series[];
    let redis: ChildProcess | undefined;
    let jwks: Server | undefined;
    let upstream: FakeUpstream | undefined;
    let proxy: RedisProxy | undefined;
    beforeAll(async () => {
      if (env.AOPAY_BASE_URL === "fake") {
        // A scripted AOPay of the scenario's own (test/helpers/fake-upstream.ts), which `drive` scripts.
        upstream = await startFakeUpstream();
        env = { ...env, ...upstreamEnv(upstream) };
      }
      const answer = JWKS_ANSWERS[env.AUTH_JWKS_URL ?? ""];
      if (answer) {
        const server = createServer((_req, res) =>
          res.writeHead(answer[0], { "content-type": "application/json" }).end(answer[1]),
        );
        jwks = server;
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        env = {
          ...env,
          AUTH_JWKS_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`,
          AUTH_JWT_ISSUER: "https://issuer.example",
          AUTH_JWT_AUDIENCE: "aopay-graphql",
        };
      }
      if (["private", "private-noeviction", "private-says-6"].includes(env.REDIS_URL)) {
        // "private": a Redis that evicts (RedisUnsafe; with REDIS_EVICTING_POLICY=refuse, the default, not ready and
        // sends refused); "private-noeviction": a sound one the scenario may kill; "private-says-6": a sound one behind
        // a proxy that has its INFO name version 6 (the bytes' count kept).
        const port = await freePort();
        const evicting = env.REDIS_URL === "private";
        const policy = evicting ? "allkeys-lru" : "noeviction";
        redis = startRedis(port, ["--maxmemory", "4mb", "--maxmemory-policy", policy]);
        let url = `redis://127.0.0.1:${port}`;
        if (env.REDIS_URL === "private-says-6") {
          proxy = await startRedisProxy(url, {
            replies: (chunk) =>
              Buffer.from(chunk.toString("latin1").replace(/redis_version:7\./, "redis_version:6."), "latin1"),
          });
          url = proxy.url;
        }
        env = { ...env, REDIS_URL: url, HMAC_SECRET: "alert-rules-secret-0123456789abcdef" };
        t = await startTestStack(env);
        const refused = evicting && env.REDIS_EVICTING_POLICY !== "warn";
        const ready = async () => {
          const res = await request(`${t.baseUrl}/readyz`);
          const { status } = (await res.body.json()) as { status: string };
          return status === (refused ? "redis-evicting-policy" : "ready");
        };
        if (!(await waitFor(ready, 5_000))) throw new Error("never ready (or judged) on the private Redis");
      } else if (env.REDIS_URL === "dead") {
        // A loopback port where nothing listens (as test/e2e/redis-down.test.ts).
        env = { ...env, REDIS_URL: `redis://127.0.0.1:${await freePort()}` };
        t = await startTestStack(env);
      } else {
        t = await startTestStack(env);
      }
      before = await scrape(t, env.METRICS_TOKEN);
      await drive(t, redis, upstream);
      after = await scrape(t, env.METRICS_TOKEN);
      pages.push(before, after);
      runs.push({ name, before, after });
    });
    afterAll(async () => {
      await t?.stop();
      await stopRedis(redis);
      await upstream?.close();
      await proxy?.close();
      jwks?.closeAllConnections();
      await new Promise((r) => (jwks ? jwks.close(r) : r(undefined)));
    });
    it("moves the series its alerts select, and not the others'", () => check(before, after));
  });
}

/** Whether two series are one: same name, same label set. */
const same = (a: Series, b: Series) =>
  a.name === b.name &&
  Object.keys(a.labels).length === Object.keys(b.labels).length &&
  Object.entries(a.labels).every(([k, v]) => b.labels[k] === v);

/**
 * increase(sel) over the scenario, as Prometheus (and `promtool test rules`) computes `increase(...[..])` from the two
 * scrapes: per series, over that series' own samples. A series absent from the first scrape has one sample and no
 * increase, whatever its value: its first event is lost (counters only grow here). Before, this summed the series
 * absent at first as risen from 0, and passed alerts that never fired on a first event after a start.
 */
const increase = (before: Series[], after: Series[], sel: Selector) =>
  after
    .filter((s) => matches(s, sel))
    .reduce((sum, s) => {
      const first = before.find((b) => same(b, s));
      return first === undefined ? sum : sum + s.value - first.value;
    }, 0);

/**
 * A ratio rule, `sum(rate(A[w])) / sum(rate(B[w])) > t`, as Prometheus reads it on the scrapes before and after a
 * scenario: increase(A) / increase(B) (the rates' common window cancels out), and whether that is over t.
 */
function ratio(alert: string, before: Series[], after: Series[]): { value: number; fires: boolean } {
  const rule = rules.find((r) => r.alert === alert);
  if (!rule) throw new Error(`no alert ${alert} in ${RULES_FILE}`);
  const { selectors } = selectorsOf(rule.expr);
  const threshold = /\)\s*>\s*([0-9.]+)\s*$/.exec(rule.expr.trim());
  if (selectors.length !== 2 || !/^sum\(rate\([^/]*\)\)\s*\/\s*sum\(rate\(/.test(rule.expr.trim()) || !threshold)
    throw new Error(`${alert} is not sum(rate(A)) / sum(rate(B)) > t`);
  const value = increase(before, after, selectors[0]) / increase(before, after, selectors[1]);
  return { value, fires: value > Number(threshold[1]) };
}

/** Every series of `metric` whose `outcome` is `outcome`. */
const outcome = (metric: string, value: string): Selector => ({
  metric,
  matchers: [{ label: "outcome", op: "=", value }],
});

describe("alert rules (deploy/prometheus/alerts.yml)", () => {
  it("is the copy docs/operations.md shows", () => {
    const doc = readFileSync(OPERATIONS_MD, "utf8");
    const block = /## Sample alerts[\s\S]*?```yaml\n([\s\S]*?)```/.exec(doc);
    expect(block?.[1]).toBe(readFileSync(RULES_FILE, "utf8"));
  });

  it("parses into the alerts docs/operations.md names, each with an expression selecting a metric", () => {
    expect(rules.map((r) => r.alert)).toEqual([
      "AopayGraphqlDown",
      "WorkersCrashLooping",
      "AopayCircuitOpen",
      "AopayUpstreamFailures",
      "AopayCredentialsRefused",
      "AopayOutcomeUnknown",
      "AopaySlow",
      "OtpOverloaded",
      "RequestsShed",
      "RequestsFailed",
      "AuthUnavailable",
      "JwksRefreshFailing",
      "OtpPumpingSuspected",
      "CreditReportProbeSuspected",
      "OtpSourceIpFlooding",
      "OtpProtectionUnavailable",
      "IdempotencyMemoryFilling",
      "AopayUnrecordedWrites",
      "RedisUnreachable",
      "RedisUnsafe",
      "RedisPolicyUnchecked",
      "RedisMemoryFilling",
      "LogLinesDropped",
      "EventLoopLag",
      "MetricsCollectionFailed",
      "MetricsTokenGuessed",
    ]);
    for (const r of rules) expect(selectorsOf(r.expr).selectors.length).toBeGreaterThan(0);
  });

  it("gives every alert a severity, page or ticket, and says in docs/operations.md why", () => {
    // Without one, the Alertmanager's routes cannot tell an alert that must wake someone from one for the morning.
    expect(rules.filter((r) => !["page", "ticket"].includes(r.labels?.severity ?? "")).map((r) => r.alert)).toEqual([]);
    const doc = readFileSync(OPERATIONS_MD, "utf8");
    const table = doc.slice(
      doc.indexOf("| alert | severity | why |"),
      doc.indexOf("```yaml", doc.indexOf("## Sample")),
    );
    const rows = table
      .split("\n")
      .filter((l) => l.startsWith("| `"))
      .map((l) => l.split(" | ").slice(0, 2).join(" | "));
    expect(rows).toEqual(rules.map((r) => `| \`${r.alert}\` | ${r.labels?.severity}`));
  });

  it("leaves out the same outcomes wherever it means the calls that went to AOPay", () => {
    // AopayUpstreamFailures' and AopayOutcomeUnknown's denominators and AopaySlow's durations: a code left out of one
    // only (CLIENT_GONE was counted in all three) makes the alerts disagree on what a call to AOPay is.
    const excluded = rules.flatMap((r) =>
      selectorsOf(r.expr).selectors.flatMap((sel) =>
        sel.matchers.filter((m) => m.label === "outcome" && m.op === "!~").map((m) => [r.alert, m.value]),
      ),
    );
    expect(excluded.map(([alert]) => alert)).toEqual(["AopayUpstreamFailures", "AopayOutcomeUnknown", "AopaySlow"]);
    expect(new Set(excluded.map(([, value]) => value.split("|").sort().join("|")))).toEqual(
      new Set(["CIRCUIT_OPEN|CLIENT_DEADLINE|CLIENT_GONE|OVERLOADED"]),
    );
  });
});

// Upstream outcomes the failure alerts name, from the simulator's scenarios (docs/simulator.md: the last three digits).
scenario(
  "upstream failures (simulator scenarios 503, 500, 302, 401)",
  {},
  async (t) => {
    const key = { "idempotency-key": "3f0c1f5e-5b7e-4a51-9d0e-2f1d6c1b8a01" };
    await t.gql(GENERATE_CIBIL_OTP, cibilInput("130000001"), key);
    await t.gql(GENERATE_CIBIL_OTP, cibilInput("130000001"), key); // replayed: no second call
    for (const id of ["130000503", "130000500", "130000302", "130000401"]) await sendCibil(t, id);
    // Cut by its client's own 200 ms deadline (CLIENT_DEADLINE): the client's choice, neither a failure nor a call
    // that counts against the failures.
    await t.gql(GENERATE_CIBIL_OTP, cibilInput("130001504"), { "x-request-timeout-ms": "200" });
  },
  (before, after) => {
    const failures = selectorOf("AopayUpstreamFailures", "aopay_upstream_requests_total");
    const all = selectorsOf(rules.find((r) => r.alert === "AopayUpstreamFailures")!.expr).selectors[1];
    // 3 of 5 calls failed (503, 500, 302): the ratio is 0.6, over 0.05. The 401 is AopayCredentialsRefused's. The
    // client's cut is in neither (with it in the denominator, as before, 3/6).
    const cut = { ...all, matchers: [{ label: "outcome", op: "=" as const, value: "CLIENT_DEADLINE" }] };
    expect(increase(before, after, cut)).toBe(1);
    expect(increase(before, after, failures) / increase(before, after, all)).toBeCloseTo(3 / 5);
    expect(increase(before, after, selectorOf("AopayCredentialsRefused", "aopay_upstream_requests_total"))).toBe(1);
    expect(increase(before, after, selectorOf("AopayOutcomeUnknown", "aopay_upstream_requests_total"))).toBe(2);
    // Two sends of the five that went to AOPay unknown (the 500, and the 302: a redirect to a send may have been
    // carried out): 0.4 of them, over 0.01.
    expect(ratio("AopayOutcomeUnknown", before, after)).toEqual({ value: 2 / 5, fires: true });
    expect(ratio("AopayUpstreamFailures", before, after)).toEqual({ value: 3 / 5, fires: true });
    expect(increase(before, after, selectorOf("AopayUnrecordedWrites", "aopay_unrecorded_writes_total"))).toBe(0);
    expect(increase(before, after, selectorOf("OtpOverloaded", "aopay_upstream_requests_total"))).toBe(0);
    expect(increase(before, after, selectorOf("OtpProtectionUnavailable", "aopay_protection_unavailable_total"))).toBe(
      0,
    );
  },
);

// One socket, one queue place: a send that never gets an answer holds the socket until AOPAY_DEADLINE_MS
// (OUTCOME_UNKNOWN), one whose deadline passes while it waits for the socket is never sent (UPSTREAM_TIMEOUT), a third
// finds the queue full (OVERLOADED). Admission control off: by default (ADMISSION_MAX_IN_FLIGHT = AOPAY_CONNECTIONS +
// AOPAY_QUEUE_LIMIT) it refuses such a request before it reaches the bulkhead (the next scenario). The client's
// shorter deadline counts as AOPay's (UPSTREAM_TIMEOUT, not CLIENT_DEADLINE) once BREAKER_SLOW_CALL_MS has passed.
scenario(
  "the bulkhead full (AOPAY_CONNECTIONS 1, AOPAY_QUEUE_LIMIT 1, admission control off)",
  {
    AOPAY_CONNECTIONS: "1",
    AOPAY_QUEUE_LIMIT: "1",
    AOPAY_DEADLINE_MS: "800",
    ADMISSION_MAX_IN_FLIGHT: "0",
    BREAKER_SLOW_CALL_MS: "1",
  },
  async (t) => {
    const first = sendCibil(t, "140000504");
    await new Promise((r) => setTimeout(r, 100));
    const second = t.gql(GENERATE_CIBIL_OTP, cibilInput("140001001"), { "x-request-timeout-ms": "300" });
    await new Promise((r) => setTimeout(r, 100));
    await sendCibil(t, "140002001");
    await Promise.all([first, second]);
  },
  (before, after) => {
    expect(increase(before, after, selectorOf("OtpOverloaded", "aopay_upstream_requests_total"))).toBe(1);
    const failures = selectorOf("AopayUpstreamFailures", "aopay_upstream_requests_total");
    const timeouts = { ...failures, matchers: [{ label: "outcome", op: "=" as const, value: "UPSTREAM_TIMEOUT" }] };
    expect(increase(before, after, timeouts)).toBe(1);
    expect(increase(before, after, failures)).toBe(2);
  },
);

// One upstream socket, held 2 s by a slow send (simulator scenario 888). A second client writes its send and hangs up
// while the send waits for the socket: it is dropped before it is written (CLIENT_GONE, nothing sent, its budget
// refunded). Then one send AOPay fails (503). One of the two calls that went to AOPay failed: with CLIENT_GONE
// counted as a call to AOPay the share read 1/3, and clients giving up under load hid AOPay's failures.
scenario(
  "a client that hung up while its send waited for the upstream socket (AOPAY_CONNECTIONS 1)",
  { AOPAY_CONNECTIONS: "1" },
  async (t) => {
    const held = sendCibil(t, "170000888");
    await until("the slow send to hold the socket", () => t.stack.app.transport.stats.inFlight === 1);
    const body = JSON.stringify({ query: GENERATE_CIBIL_OTP, variables: cibilInput("170001001") });
    const socket = connect(Number(new URL(t.baseUrl).port), "127.0.0.1");
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    socket.write(
      `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    await until("the second send to wait for the socket", () => t.stack.app.transport.stats.queued === 1);
    socket.destroy();
    const connections = () =>
      new Promise<number>((resolve) => t.stack.app.fastify.server.getConnections((_e, n) => resolve(n)));
    for (let i = 0; i < 200 && (await connections()) > 1; i++) await new Promise((r) => setTimeout(r, 10));
    expect(resultOf((await held).body, "generateCibilOtp").__typename).toBe("CibilOtpChallenge");
    await until("the dropped send", () => t.logs.text().includes("client gone before the request was sent"));
    expect(resultOf((await sendCibil(t, "170002503")).body, "generateCibilOtp").__typename).toBe("UpstreamUnavailable");
    expect(t.simulator?.calls("cibil.generateOtp")).toBe(2);
  },
  (before, after) => {
    expect(increase(before, after, outcome("aopay_upstream_requests_total", "CLIENT_GONE"))).toBe(1);
    expect(ratio("AopayUpstreamFailures", before, after)).toEqual({ value: 1 / 2, fires: true });
    expect(ratio("AopayOutcomeUnknown", before, after)).toEqual({ value: 0, fires: false });
    // AopaySlow's 99th percentile over the two calls to AOPay (the slow one is 2 s), not over an instant drop too.
    const durations = selectorOf("AopaySlow", "aopay_upstream_request_duration_seconds_bucket");
    const all = { ...durations, matchers: [...durations.matchers, { label: "le", op: "=" as const, value: "+Inf" }] };
    expect(increase(before, after, all)).toBe(2);
  },
);

// The same load with admission control's cap at its default: the request beyond the bulkhead is shed at the door
// (RequestsShed), and the bulkhead never refuses (OtpOverloaded stays quiet). One client sends all three: its share
// of the places (ADMISSION_MAX_IN_FLIGHT_PER_CLIENT, half the cap: 1) would shed the second already (overload.test.ts).
scenario(
  "the bulkhead full, admission control's cap at its default",
  { AOPAY_CONNECTIONS: "1", AOPAY_QUEUE_LIMIT: "1", AOPAY_DEADLINE_MS: "800", ADMISSION_MAX_IN_FLIGHT_PER_CLIENT: "0" },
  async (t) => {
    const first = sendCibil(t, "141000504");
    await new Promise((r) => setTimeout(r, 100));
    const second = sendCibil(t, "141001504");
    await new Promise((r) => setTimeout(r, 100));
    expect((await sendCibil(t, "141002001")).status).toBe(503);
    await Promise.all([first, second]);
  },
  (before, after) => {
    expect(increase(before, after, selectorOf("OtpOverloaded", "aopay_upstream_requests_total"))).toBe(0);
    const shed = selectorsOf(rules.find((r) => r.alert === "RequestsShed")!.expr).selectors[0];
    expect(increase(before, after, shed)).toBe(1);
  },
);

scenario(
  "a circuit opened by failures (BREAKER_VOLUME_THRESHOLD 2)",
  { BREAKER_VOLUME_THRESHOLD: "2", BREAKER_ERROR_PERCENT: "50" },
  async (t) => {
    for (const id of ["150000503", "150001503", "150002503", "150003503"]) await sendCibil(t, id);
  },
  (before, after) => {
    const sel = selectorsOf(rules.find((r) => r.alert === "AopayCircuitOpen")!.expr);
    expect(sel.groupBy).toEqual(["family"]);
    const open = after.filter((s) => matches(s, sel.selectors[0]) && s.value === 2);
    expect(open.map((s) => s.labels.family)).toEqual(["cibil"]);
    expect(before.filter((s) => matches(s, sel.selectors[0]) && s.value === 2)).toEqual([]);
  },
);

// The identity provider's key set cannot be fetched (it answers 503): every bearer request is refused 503
// AUTH_UNAVAILABLE before anything ran, with a warning line `bearer token not checked` carrying its request id, and no
// error line. It was a 500 of ours (RequestsFailed paged for a dependency's outage, and the client was told its OTP
// may have been sent). A bearer token that is no JWT is still the client's 401, a refusal.
const JWKS_DOWN = "the identity provider's JWKS answering 503 (AUTH_JWKS_URL)";
scenario(
  JWKS_DOWN,
  { AUTH_JWKS_URL: "jwks-503" },
  async (t) => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await t.gql("{ __typename }", undefined, BEARER);
      expect([res.status, res.body.errors?.[0].extensions?.code]).toEqual([503, "AUTH_UNAVAILABLE"]);
      ids.push(res.headers["x-request-id"] as string);
    }
    expect((await t.gql("{ __typename }", undefined, NOT_A_JWT)).status).toBe(401);
    const warnings = t.logs
      .records()
      .filter((r) => (r.level === 40 || r.level === "warn") && r.code === "AUTH_UNAVAILABLE");
    expect(warnings.map((r) => r.requestId)).toEqual(ids);
    expect(t.logs.records().filter((r) => r.level === 50 || r.level === "error")).toEqual([]);
  },
  (before, after) => {
    expect(increase(before, after, selectorOf("RequestsFailed", "http_requests_failed_total"))).toBe(0);
    // AuthUnavailable fires on the three bearer requests (the 401 is not one of them).
    expect(increase(before, after, selectorOf("AuthUnavailable", "http_requests_refused_total"))).toBe(3);
    const refused = { metric: "http_requests_refused_total", matchers: [] };
    expect(increase(before, after, refused)).toBe(4);
    expect(increase(before, after, selectorOf("AopayUpstreamFailures", "aopay_upstream_requests_total"))).toBe(0);
  },
);

// Refusals before GraphQL, the client's doing: a token the JWKS has no key for and one that is no JWT (401), a path
// not served (404), a body that is not JSON (415 or, unauthenticated first, 401). RequestsFailed stays quiet; each is
// counted as refused.
scenario(
  "a client's 401s and refusals before GraphQL (the JWKS without the token's key)",
  { AUTH_JWKS_URL: "jwks-without-the-key" },
  async (t) => {
    expect((await t.gql("{ __typename }", undefined, BEARER)).status).toBe(401);
    expect((await t.gql("{ __typename }", undefined, NOT_A_JWT)).status).toBe(401);
    const notServed = await request(`${t.baseUrl}/nope`);
    await notServed.body.dump();
    expect(notServed.statusCode).toBe(404);
    const plain = await request(t.graphqlUrl, {
      method: "POST",
      headers: { ...BEARER, "content-type": "text/plain" },
      body: "{ __typename }",
    });
    await plain.body.dump();
    expect([401, 415]).toContain(plain.statusCode);
  },
  (before, after) => {
    expect(increase(before, after, selectorOf("RequestsFailed", "http_requests_failed_total"))).toBe(0);
    expect(increase(before, after, selectorOf("AuthUnavailable", "http_requests_refused_total"))).toBe(0);
    expect(increase(before, after, { metric: "http_requests_refused_total", matchers: [] })).toBe(4);
  },
);

scenario(
  "a number range's budget exhausted (OTP_PREFIX_MAX 1)",
  { OTP_PREFIX_MAX: "1" },
  async (t) => {
    await sendAeps(t, "9876543210");
    await sendAeps(t, "9876543211");
  },
  (before, after) => {
    const sel = selectorOf("OtpPumpingSuspected", "aopay_otp_throttled_total");
    const refused = after.filter((s) => matches(s, sel) && s.value > 0).map((s) => s.labels.scope);
    expect(refused).toEqual(["MOBILE_PREFIX"]);
    // A budget's refusal is a decision, not an unavailable store.
    expect(increase(before, after, selectorOf("OtpProtectionUnavailable", "aopay_protection_unavailable_total"))).toBe(
      0,
    );
  },
);

scenario(
  "the whole service's budget exhausted (OTP_GLOBAL_MAX 1)",
  { OTP_GLOBAL_MAX: "1" },
  async (t) => {
    await sendAeps(t, "9876543210");
    await sendAeps(t, "9123456789");
  },
  (before, after) => {
    const sel = selectorOf("OtpPumpingSuspected", "aopay_otp_throttled_total");
    expect(after.filter((s) => matches(s, sel) && s.value > 0).map((s) => s.labels.scope)).toEqual(["GLOBAL"]);
    expect(increase(before, after, selectorOf("OtpProtectionUnavailable", "aopay_protection_unavailable_total"))).toBe(
      0,
    );
  },
);

// The second send names itself with client text (an alias and an operation name shaped like a mobile number): the
// labels carry the schema's field and `other`, never the client's text (cardinality, and PII on the metrics page).
const CLIENT_NAMED = RESEND_AEPS_OTP.replace("mutation ResendAepsOtp(", "mutation _9876543210(").replace(
  "{resendAepsOtp(",
  "{_9876543211:resendAepsOtp(",
);
scenario(
  "a destination's cooldown (a benign refusal: no pumping alert), asked for under names of the client's",
  { OTP_COOLDOWN_SECONDS: "60" },
  async (t) => {
    await sendAeps(t, "9876543210");
    const again = await t.gql(CLIENT_NAMED, aepsInput("9876543210"));
    expect(again.text).toContain("OTP_COOLDOWN");
  },
  (before, after) => {
    const sel = selectorOf("OtpPumpingSuspected", "aopay_otp_throttled_total");
    expect(increase(before, after, sel)).toBe(0);
    expect(increase(before, after, { metric: sel.metric, matchers: [] })).toBe(1);
    const labels = after.flatMap((s) => Object.values(s.labels)).join("\n");
    expect(labels).not.toMatch(/987654321/);
    // Every budget's series is listed from the start at 0 (metrics.ts startAtZero): only the cooldown's counted.
    expect(
      after.filter((s) => s.name === "aopay_otp_throttled_total" && s.value > 0).map((s) => s.labels.operation),
    ).toEqual(["resendAepsOtp"]);
    // The generated clients' operations are listed at 0 from the start; a name of the client's own is `other`.
    expect(
      after
        .filter((s) => s.name === "graphql_operation_duration_seconds_count" && s.value > 0)
        .map((s) => s.labels.operation),
    ).toEqual(["ResendAepsOtp", "other"]);
  },
);

scenario(
  "admission control shedding (ADMISSION_MAX_IN_FLIGHT 1)",
  { ADMISSION_MAX_IN_FLIGHT: "1" },
  async (t) => {
    const slow = sendCibil(t, "160000888"); // the simulator waits 2 s
    await new Promise((r) => setTimeout(r, 200));
    expect((await sendCibil(t, "160000001")).status).toBe(503);
    await slow;
  },
  (before, after) => {
    const rule = rules.find((r) => r.alert === "RequestsShed")!;
    expect(increase(before, after, selectorsOf(rule.expr).selectors[0])).toBe(1);
  },
);

/** A rule `metric > t` read on a page: the series' values and whether any is over t. */
function gaugeOver(alert: string, page: Series[]): { values: number[]; fires: boolean } {
  const rule = rules.find((r) => r.alert === alert);
  const m = /^([a-z0-9_:]+)\s*>\s*([0-9.]+)$/.exec(rule?.expr.trim() ?? "");
  if (!m) throw new Error(`${alert} is not metric > t`);
  const values = page.filter((s) => s.name === m[1]).map((s) => s.value);
  return { values, fires: values.some((v) => v > Number(m[2])) };
}

/**
 * RedisMemoryFilling's `max(used) / max(max > 0) > t` on one page (whose series are one server's: no `instance`), as
 * Prometheus computes it: undefined when it has no result (no sample of either, or no limit).
 */
function memoryFill(page: Series[]): { value: number | undefined; fires: boolean } {
  const rule = rules.find((r) => r.alert === "RedisMemoryFilling")!;
  const m = /^max\(([a-z_]+)\) \/ max\(([a-z_]+) > 0\) > ([0-9.]+)$/.exec(rule.expr.trim());
  if (!m) throw new Error("RedisMemoryFilling is not max(used) / max(max > 0) > t");
  const max = (name: string, keep: (v: number) => boolean = () => true) => {
    const values = page.filter((s) => s.name === name && keep(s.value)).map((s) => s.value);
    return values.length === 0 ? undefined : Math.max(...values);
  };
  const used = max(m[1]);
  const limit = max(m[2], (v) => v > 0);
  const value = used === undefined || limit === undefined ? undefined : used / limit;
  return { value, fires: value !== undefined && value > Number(m[3]) };
}

/**
 * AopaySlow's `histogram_quantile(q, sum by (le, endpoint) (rate(buckets{...})))` per endpoint, as Prometheus computes
 * it from the two scrapes: the buckets' increases summed by (le, endpoint), the q-th of their count found by linear
 * interpolation within its bucket (the +Inf bucket: the highest finite bound). Endpoints without calls are left out.
 */
function quantileByEndpoint(alert: string, before: Series[], after: Series[]): Record<string, number> {
  const rule = rules.find((r) => r.alert === alert)!;
  const q = Number(/histogram_quantile\(([0-9.]+),/.exec(rule.expr)?.[1]);
  const [sel] = selectorsOf(rule.expr).selectors;
  const buckets = new Map<string, Map<number, number>>();
  for (const s of after.filter((a) => matches(a, sel))) {
    const first = before.find((b) => same(b, s));
    if (first === undefined) continue;
    const byLe = buckets.get(s.labels.endpoint) ?? new Map<number, number>();
    buckets.set(s.labels.endpoint, byLe);
    const le = s.labels.le === "+Inf" ? Infinity : Number(s.labels.le);
    byLe.set(le, (byLe.get(le) ?? 0) + s.value - first.value);
  }
  const out: Record<string, number> = {};
  for (const [endpoint, byLe] of buckets) {
    const sorted = [...byLe].sort(([a], [b]) => a - b);
    const total = sorted.at(-1)![1];
    if (total === 0) continue;
    const rank = q * total;
    let lower = 0;
    let below = 0;
    for (const [le, count] of sorted) {
      if (count >= rank) {
        out[endpoint] = le === Infinity ? lower : lower + ((le - lower) * (rank - below)) / (count - below);
        break;
      }
      [lower, below] = [le, count];
    }
  }
  return out;
}

// AOPay slow: a scripted upstream answering AEPS sends at once, then after 5.2 s. The window of the fast send reads a
// 99th percentile under AopaySlow's 5 s, the window of the slow one over it (its bucket is 5 to 10 s). Before,
// promtool's series alone had AopaySlow over its threshold; here the real histogram does.
/** AopaySlow's value in the scenario below: its threshold, and each window's 99th percentile by endpoint. */
const aopaySlow: { threshold?: number; fast?: Record<string, number>; slow?: Record<string, number> } = {};
scenario(
  "AOPay answering a send in 5.2 s (a scripted upstream)",
  { AOPAY_BASE_URL: "fake" },
  async (t, _redis, upstream) => {
    aopaySlow.threshold = Number(/\)\s*>\s*([0-9.]+)\s*$/.exec(rules.find((r) => r.alert === "AopaySlow")!.expr)?.[1]);
    const before = await scrape(t);
    upstream!.respond(json(200, fixtureJson("aeps/resend-otp.success")));
    expect(resultOf((await sendAeps(t, "9876543210")).body, "resendAepsOtp").__typename).toBe("AepsOtpResent");
    const fast = await scrape(t);
    aopaySlow.fast = quantileByEndpoint("AopaySlow", before, fast);
    upstream!.respond(delayed(5_200, json(200, fixtureJson("aeps/resend-otp.success"))));
    expect(resultOf((await sendAeps(t, "9123456789")).body, "resendAepsOtp").__typename).toBe("AepsOtpResent");
    aopaySlow.slow = quantileByEndpoint("AopaySlow", fast, await scrape(t));
  },
  () => {
    expect(aopaySlow.threshold).toBe(5);
    expect(Object.keys(aopaySlow.fast ?? {})).toEqual(["aeps.resendOtp"]);
    expect(aopaySlow.fast?.["aeps.resendOtp"]).toBeLessThanOrEqual(5);
    expect(Object.keys(aopaySlow.slow ?? {})).toEqual(["aeps.resendOtp"]);
    expect(aopaySlow.slow?.["aeps.resendOtp"]).toBeGreaterThan(5);
  },
);

// The server's event loop held 400 ms: a stall of the process itself (the stack runs in this one, so this busy loop is
// the server's), as a synchronous hot spot or a long GC would. The lag gauges are of the delays sampled since the
// previous scrape: a window without the stall is quiet, the next one over EventLoopLag's threshold. Before, the
// scenarios showed only that the gauge was on the page; promtool's tests alone had it over the threshold.
scenario(
  "the event loop stalled 400 ms",
  {},
  async (t) => {
    // A window of its own: the scrape before, the first of this server, is work on its loop, read by the next window.
    await scrape(t);
    await new Promise((r) => setTimeout(r, 300));
    const idle = gaugeOver("EventLoopLag", await scrape(t));
    expect(idle.values).toHaveLength(1);
    expect(idle.fires).toBe(false);
    const end = Date.now() + 400;
    while (Date.now() < end); // the stall
    await new Promise((r) => setTimeout(r, 100));
  },
  (_before, after) => {
    const stalled = gaugeOver("EventLoopLag", after);
    expect(stalled.fires).toBe(true);
    expect(stalled.values[0]).toBeGreaterThan(0.4);
  },
);

// Without Redis, the in-memory throttle table full (MEMORY_THROTTLE_MAX_KEYS 10, no client share): the first send takes
// its entries, a send to another destination needs entries the table has no room for and is refused
// PROTECTION_UNAVAILABLE, nothing sent. Before, only an unreachable Redis drove OtpProtectionUnavailable here.
const THREE_SENDS = ["9876543210", "9123456789", "9988776655"];
scenario(
  "without Redis, the in-memory throttle table full (MEMORY_THROTTLE_MAX_KEYS 10)",
  { MEMORY_THROTTLE_MAX_KEYS: "10", MEMORY_THROTTLE_CLIENT_SHARE_PERCENT: "100" },
  async (t) => {
    const results: string[] = [];
    for (const mobile of THREE_SENDS)
      results.push(resultOf((await sendAeps(t, mobile)).body, "resendAepsOtp").__typename);
    expect(results).toEqual(["AepsOtpResent", "ProtectionUnavailable", "ProtectionUnavailable"]);
    expect(t.simulator?.calls("aeps.resendOtp")).toBe(1);
    expect(t.logs.text()).toContain("in-memory otp throttle store full");
  },
  (before, after) => {
    const sel = selectorOf("OtpProtectionUnavailable", "aopay_protection_unavailable_total");
    expect(after.filter((s) => matches(s, sel) && s.value > 0).map((s) => [s.labels.operation, s.value])).toEqual([
      ["resendAepsOtp", 2],
    ]);
    expect(increase(before, after, sel)).toBe(2);
    expect(increase(before, after, { metric: "aopay_client_share_refusals_total", matchers: [] })).toBe(0);
  },
);

// The same sends with a client's share (MEMORY_THROTTLE_CLIENT_SHARE_PERCENT 50 of 20): the one client holds its half
// and is refused, the table not full. That client's limit, not an outage: aopay_client_share_refusals_total, and
// OtpProtectionUnavailable quiet (the other clients would still be served).
scenario(
  "without Redis, one client at its share of the in-memory throttle table (50 % of 20)",
  { MEMORY_THROTTLE_MAX_KEYS: "20", MEMORY_THROTTLE_CLIENT_SHARE_PERCENT: "50" },
  async (t) => {
    const results: string[] = [];
    for (const mobile of THREE_SENDS)
      results.push(resultOf((await sendAeps(t, mobile)).body, "resendAepsOtp").__typename);
    expect(results).toEqual(["AepsOtpResent", "ProtectionUnavailable", "ProtectionUnavailable"]);
    expect(t.logs.text()).toContain("in-memory otp throttle store: a client holds its share");
  },
  (before, after) => {
    expect(increase(before, after, selectorOf("OtpProtectionUnavailable", "aopay_protection_unavailable_total"))).toBe(
      0,
    );
    const share = { metric: "aopay_client_share_refusals_total", matchers: [] };
    expect(after.filter((s) => matches(s, share) && s.value > 0).map((s) => [s.labels.table, s.value])).toEqual([
      ["throttle", 2],
    ]);
  },
);

// Without Redis, the in-memory idempotency table filled by its bytes (MEMORY_IDEMPOTENCY_MAX_BYTES at its least, 64
// KiB, each key setting aside room for a 16 KiB result): keyed sends go until the bytes are held, then new keys are
// refused (PROTECTION_UNAVAILABLE, nothing sent). aopay_idempotency_memory_fill_ratio is over 0.8 on the page
// (IdempotencyMemoryFilling), and the refusals page as the table full (OtpProtectionUnavailable). No client share (its
// one client would be refused at half the bytes, a client's limit: aopay_client_share_refusals_total, no alert).
const IDEMPOTENCY_FILLED = "without Redis, the in-memory idempotency table filled by its bytes (64 KiB)";
scenario(
  IDEMPOTENCY_FILLED,
  {
    MEMORY_IDEMPOTENCY_MAX_BYTES: String(64 * 1024),
    IDEMPOTENCY_MAX_RESULT_BYTES: String(16 * 1024),
    MEMORY_IDEMPOTENCY_CLIENT_SHARE_PERCENT: "100",
  },
  async (t) => {
    const outcomes: string[] = [];
    for (let i = 0; i < 40; i++) {
      const id = `150${String(i).padStart(3, "0")}001`;
      const res = await t.gql(GENERATE_CIBIL_OTP, cibilInput(id), { "idempotency-key": randomUUID() });
      outcomes.push(resultOf(res.body, "generateCibilOtp").__typename as string);
    }
    const sent = outcomes.filter((o) => o === "CibilOtpChallenge").length;
    expect(sent).toBeGreaterThan(0);
    expect(outcomes.slice(sent)).toEqual(Array(40 - sent).fill("ProtectionUnavailable"));
    expect(t.simulator?.calls("cibil.generateOtp")).toBe(sent);
  },
  (before, after) => {
    expect(gaugeOver("IdempotencyMemoryFilling", before)).toEqual({ values: [0], fires: false });
    const filled = gaugeOver("IdempotencyMemoryFilling", after);
    expect(filled.fires).toBe(true);
    expect(filled.values[0]).toBeLessThanOrEqual(1);
    expect(increase(before, after, selectorOf("OtpProtectionUnavailable", "aopay_protection_unavailable_total"))).toBe(
      40 - increase(before, after, outcome("aopay_upstream_requests_total", "OK")),
    );
  },
);

scenario(
  "Redis unreachable",
  { HMAC_SECRET: "alert-rules-secret-0123456789abcdef", REDIS_URL: "dead" },
  async (t) => {
    await sendAeps(t, "9876543210");
  },
  (before, after) => {
    expect(increase(before, after, selectorOf("OtpProtectionUnavailable", "aopay_protection_unavailable_total"))).toBe(
      1,
    );
    // RedisUnreachable holds from the first scrape, traffic or not: /readyz stays 200, nothing else pages without it.
    const up = selectorOf("RedisUnreachable", "aopay_redis_up");
    expect(before.filter((s) => matches(s, up)).map((s) => s.value)).toEqual([0]);
    expect(after.filter((s) => matches(s, up)).map((s) => s.value)).toEqual([0]);
  },
);

// Redis unreachable, seen by credit-report reads alone (no send meanwhile): each refused PROTECTION_UNAVAILABLE by its
// consent check. Before, they were in no metric, and OtpProtectionUnavailable stayed quiet through the outage.
scenario(
  "Redis unreachable, credit-report reads only",
  { HMAC_SECRET: "alert-rules-secret-0123456789abcdef", REDIS_URL: "dead" },
  async (t) => {
    for (const cibilId of ["180000001", "180001001"]) {
      const read = resultOf((await t.gql(CIBIL_CREDIT_HISTORY, { cibilId })).body, "cibilCreditHistory");
      expect(read).toMatchObject({ __typename: "ProtectionUnavailable" });
    }
    expect(t.simulator?.calls("cibil.creditHistory")).toBe(0);
  },
  (before, after) => {
    const sel = selectorOf("OtpProtectionUnavailable", "aopay_protection_unavailable_total");
    expect(increase(before, after, sel)).toBe(2);
    expect(after.filter((s) => matches(s, sel) && s.value > 0).map((s) => s.labels.operation)).toEqual([
      "cibilCreditHistory",
    ]);
  },
);

scenario(
  "a Redis that evicts (allkeys-lru), with REDIS_EVICTING_POLICY=warn",
  { REDIS_URL: "private", REDIS_EVICTING_POLICY: "warn" },
  async () => {},
  (_before, after) => {
    const sel = selectorsOf(rules.find((r) => r.alert === "RedisUnsafe")!.expr);
    expect(sel.groupBy).toEqual(["problem"]);
    expect(after.filter((s) => matches(s, sel.selectors[0]) && s.value > 0).map((s) => s.labels.problem)).toEqual([
      "eviction_policy",
    ]);
  },
  PRIVATE_REDIS_SKIP_REASON ?? undefined,
);

// The default, REDIS_EVICTING_POLICY=refuse: the same Redis, and a send refused PROTECTION_UNAVAILABLE (nothing sent):
// RedisUnsafe (a page: with no traffic nothing is refused to count) says why, OtpProtectionUnavailable pages for the
// refusals.
scenario(
  "a Redis that evicts (allkeys-lru), with REDIS_EVICTING_POLICY=refuse",
  { REDIS_URL: "private" },
  async (t) => {
    expect(resultOf((await sendAeps(t, "9876500777")).body, "resendAepsOtp").__typename).toBe("ProtectionUnavailable");
    expect(t.simulator?.calls()).toBe(0);
  },
  (before, after) => {
    const sel = selectorsOf(rules.find((r) => r.alert === "RedisUnsafe")!.expr);
    expect(after.filter((s) => matches(s, sel.selectors[0]) && s.value > 0).map((s) => s.labels.problem)).toEqual([
      "eviction_policy",
    ]);
    expect(increase(before, after, selectorOf("OtpProtectionUnavailable", "aopay_protection_unavailable_total"))).toBe(
      1,
    );
  },
  PRIVATE_REDIS_SKIP_REASON ?? undefined,
);

// A Redis older than 7.0 (INFO says 6 through a proxy; the server behind is 7, so sends would still work): judged at
// connection, the gauge's `version` series is 1 and the error line names it. Before, only the eviction policy's
// problem was driven here.
scenario(
  "a Redis that says it is 6.x",
  { REDIS_URL: "private-says-6" },
  async (t) => {
    await until("the judgement", () => t.logs.text().includes("redis is older than 7.0"));
  },
  (_before, after) => {
    const sel = selectorsOf(rules.find((r) => r.alert === "RedisUnsafe")!.expr).selectors[0];
    expect(after.filter((s) => matches(s, sel)).map((s) => [s.labels.problem, s.value])).toEqual([
      ["eviction_policy", 0],
      ["version", 1],
    ]);
    const unchecked = selectorsOf(rules.find((r) => r.alert === "RedisPolicyUnchecked")!.expr).selectors[0];
    expect(after.filter((s) => matches(s, unchecked)).map((s) => [s.labels.problem, s.value])).toEqual([
      ["eviction_policy_unchecked", 0],
    ]);
  },
  PRIVATE_REDIS_SKIP_REASON ?? undefined,
);

// Redis filling: the scenario's own Redis (maxmemory 4 MB, noeviction) written to by the test until it refuses (OOM),
// read every second (REDIS_MEMORY_POLL_SECONDS=1): the ratio RedisMemoryFilling reads crosses 0.9 on the page, and
// RedisUnsafe stays quiet (the policy is the sound one). Before, nothing on the page moved until sends were refused.
const REDIS_FILLED = "a Redis filling up to its maxmemory (noeviction)";
scenario(
  REDIS_FILLED,
  { REDIS_URL: "private-noeviction", REDIS_MEMORY_POLL_SECONDS: "1" },
  async (t, redis) => {
    const args = redis!.spawnargs.slice(1);
    const own = await connectPrivateRedis(Number(args[args.indexOf("--port") + 1]));
    try {
      const value = "x".repeat(64 * 1024);
      let refused: Error | undefined;
      for (let i = 0; i < 200 && refused === undefined; i++)
        await own.set(`filler:${i}`, value).catch((error: Error) => (refused = error));
      expect(refused?.message).toMatch(/^OOM/);
      expect(await waitFor(async () => memoryFill(await scrape(t)).fires, 10_000)).toBe(true);
    } finally {
      await own.quit();
    }
  },
  (before, after) => {
    expect(memoryFill(before)).toMatchObject({ fires: false });
    expect(memoryFill(before).value).toBeLessThan(0.5);
    expect(memoryFill(after)).toMatchObject({ fires: true });
    expect(after.filter((s) => s.name === "aopay_redis_memory_read_ok").map((s) => s.value)).toEqual([1]);
    expect(after.filter((s) => s.name === "aopay_redis_memory_max_bytes").map((s) => s.value)).toEqual([4 << 20]);
    const unsafe = selectorsOf(rules.find((r) => r.alert === "RedisUnsafe")!.expr).selectors[0];
    expect(after.filter((s) => matches(s, unsafe) && s.value > 0)).toEqual([]);
  },
  PRIVATE_REDIS_SKIP_REASON ?? undefined,
);

const HELD_REGISTRATION = {
  firstName: "Asha",
  lastName: "Kulkarni",
  pan: "ABCPE4321F",
  dateOfBirth: "1990-01-31",
  email: "a@x.in",
  mobile: "9876500888",
};

// A registration AOPay accepted while Redis went away and stayed away past CIBIL_REGISTERED_MOBILE_RETRY_SECONDS: its
// CIBIL id -> mobile record is not stored (that id's OTP sends are budgeted by the id only until it registers again),
// "sent, but what it needs remembered was not stored".
scenario(
  "Redis lost while a registration was at AOPay, and not back within the retry (scenario 888: 2 s)",
  { REDIS_URL: "private-noeviction", CIBIL_REGISTERED_MOBILE_RETRY_SECONDS: "1" },
  async (t, redis) => {
    const registering = t.gql(REGISTER_CIBIL_CUSTOMER, { input: HELD_REGISTRATION });
    await until("the registration to reach AOPay", () => t.simulator?.calls("cibil.register") === 1);
    await stopRedis(redis);
    expect(resultOf((await registering).body, "registerCibilCustomer").__typename).toBe("CibilCustomerRegistered");
    await until("the error line", () => t.logs.text().includes("sent, but what it needs remembered was not stored"));
    expect(t.simulator?.calls("cibil.register")).toBe(1);
  },
  (before, after) => {
    const sel = selectorsOf(rules.find((r) => r.alert === "AopayUnrecordedWrites")!.expr);
    expect(sel.groupBy).toEqual(["operation"]);
    expect(increase(before, after, sel.selectors[0])).toBe(1);
    expect(after.filter((s) => matches(s, sel.selectors[0]) && s.value > 0).map((s) => s.labels.operation)).toEqual([
      "registerCibilCustomer",
    ]);
  },
  PRIVATE_REDIS_SKIP_REASON ?? undefined,
);

// A CIBIL OTP verification AOPay accepted while Redis went away: its consent is held by the replica and written again
// for CIBIL_REGISTERED_MOBILE_RETRY_SECONDS (1 s here), then given up (the other replicas' credit-report reads answer
// ConsentRequired until the customer verifies again: protection/consent-store.ts HeldConsentStore). Before, an error
// line alone said so.
scenario(
  "Redis lost while a CIBIL OTP verification was at AOPay (scenario 888: 2 s)",
  { REDIS_URL: "private-noeviction", CIBIL_REGISTERED_MOBILE_RETRY_SECONDS: "1" },
  async (t, redis) => {
    const cibilId = "190000888";
    const challenge = resultOf((await t.gql(GENERATE_CIBIL_OTP, cibilInput(cibilId))).body, "generateCibilOtp");
    const verifying = t.gql(SUBMIT_CIBIL_OTP, { input: rightAnswer(cibilId, cibilToken(cibilId), challenge) });
    await until("the verification to reach AOPay", () => t.simulator?.calls("cibil.submitOtp") === 1);
    await stopRedis(redis);
    expect(resultOf((await verifying).body, "submitCibilOtp")).toMatchObject({ status: "SUCCESS" });
    await until("the error line", () => t.logs.text().includes("could not record CIBIL consent"));
  },
  (before, after) => {
    const sel = selectorOf("AopayUnrecordedWrites", "aopay_unrecorded_writes_total");
    expect(increase(before, after, sel)).toBe(1);
    expect(after.filter((s) => matches(s, sel) && s.value > 0).map((s) => s.labels.operation)).toEqual([
      "submitCibilOtp",
    ]);
  },
  PRIVATE_REDIS_SKIP_REASON ?? undefined,
);

// The same, Redis back (a restart: empty) within the retry: the mobile is recorded in the background, by a store write
// alone (AOPay called once), and no alert fires. Before, the record was lost for good with the first failure.
scenario(
  "Redis lost while a registration was at AOPay, and back within the retry (scenario 888: 2 s)",
  { REDIS_URL: "private-noeviction" },
  async (t, redis) => {
    const args = redis!.spawnargs.slice(1);
    const port = Number(args[args.indexOf("--port") + 1]);
    const registering = t.gql(REGISTER_CIBIL_CUSTOMER, { input: HELD_REGISTRATION });
    await until("the registration to reach AOPay", () => t.simulator?.calls("cibil.register") === 1);
    await stopRedis(redis);
    expect(resultOf((await registering).body, "registerCibilCustomer").__typename).toBe("CibilCustomerRegistered");
    expect(t.logs.text()).toContain("trying again in the background");
    const back = startRedis(port, args.slice(args.indexOf("--appendonly") + 2));
    try {
      await until("the retry to store it", () => t.logs.text().includes("remembered on retry"));
      const own = await connectPrivateRedis(port);
      try {
        expect(await own.keys("*regmobiles:*")).toHaveLength(1);
      } finally {
        await own.quit();
      }
      expect(t.simulator?.calls("cibil.register")).toBe(1);
      expect(t.logs.text()).not.toContain("sent, but what it needs remembered was not stored");
    } finally {
      await stopRedis(back);
    }
  },
  (before, after) => {
    const sel = selectorOf("AopayUnrecordedWrites", "aopay_unrecorded_writes_total");
    expect(increase(before, after, sel)).toBe(0);
    // A sound Redis 7 with noeviction: RedisUnsafe and RedisPolicyUnchecked quiet on every problem.
    const unsafe = ["RedisUnsafe", "RedisPolicyUnchecked"].map(
      (alert) => selectorsOf(rules.find((r) => r.alert === alert)!.expr).selectors[0],
    );
    expect(after.filter((s) => unsafe.some((sel) => matches(s, sel))).map((s) => [s.labels.problem, s.value])).toEqual([
      ["eviction_policy", 0],
      ["eviction_policy_unchecked", 0],
      ["version", 0],
    ]);
  },
  PRIVATE_REDIS_SKIP_REASON ?? undefined,
);

// An Idempotency-Key's result not stored: Redis loses the key's pending record while its send is at AOPay (the keys of
// the scenario's own Redis deleted: a restart or failover that lost them), and a repeat of the key meanwhile takes it
// as new (and sends again: the hazard the alert names). The first send's result then finds the key another request's
// ("superseded"), is not stored, and counted. Before, only a registration's record and a consent drove the alert here.
scenario(
  "Redis lost an Idempotency-Key's record while its send was at AOPay, and a repeat took the key (scenario 888: 2 s)",
  { REDIS_URL: "private-noeviction" },
  async (t, redis) => {
    const args = redis!.spawnargs.slice(1);
    const own = await connectPrivateRedis(Number(args[args.indexOf("--port") + 1]));
    try {
      const key = { "idempotency-key": "7d3c2a10-4b5e-4c6f-8a7b-9c0d1e2f3a4b" };
      const first = t.gql(GENERATE_CIBIL_OTP, cibilInput("200000888"), key);
      await until("the send to reach AOPay", () => t.simulator?.calls("cibil.generateOtp") === 1);
      const keys = await own.keys("*");
      expect(keys.length).toBeGreaterThan(0);
      await own.del(...keys);
      const repeat = t.gql(GENERATE_CIBIL_OTP, cibilInput("200000888"), key);
      await until("the repeat to reach AOPay", () => t.simulator?.calls("cibil.generateOtp") === 2);
      const results = await Promise.all([first, repeat]);
      expect(results.map((r) => resultOf(r.body, "generateCibilOtp").__typename)).toEqual([
        "CibilOtpChallenge",
        "CibilOtpChallenge",
      ]);
      await until("the error line", () => t.logs.text().includes("idempotency result not stored"));
    } finally {
      await own.quit();
    }
  },
  (before, after) => {
    const sel = selectorOf("AopayUnrecordedWrites", "aopay_unrecorded_writes_total");
    expect(increase(before, after, sel)).toBe(1);
    expect(after.filter((s) => matches(s, sel) && s.value > 0).map((s) => s.labels.operation)).toEqual([
      "generateCibilOtp",
    ]);
  },
  PRIVATE_REDIS_SKIP_REASON ?? undefined,
);

// CIBIL ids probed from one address (READ_IP_MAX 3): three reads of ids without consent answer ConsentRequired (AOPay
// not called), the fourth is refused by the IP's attempts budget (ReadThrottled, scope IP), counted and paged
// (CreditReportProbeSuspected). Before, nothing fired on it: the series was on the page at 0, read by no alert.
const PROBED = "CIBIL ids probed from one IP past READ_IP_MAX (3)";
scenario(
  PROBED,
  { READ_IP_MAX: "3" },
  async (t) => {
    const results: unknown[] = [];
    for (const cibilId of ["210000001", "210001001", "210002001", "210003001"])
      results.push(resultOf((await t.gql(CIBIL_CREDIT_HISTORY, { cibilId })).body, "cibilCreditHistory").__typename);
    expect(results).toEqual(["ConsentRequired", "ConsentRequired", "ConsentRequired", "ReadThrottled"]);
    expect(t.simulator?.calls("cibil.creditHistory")).toBe(0);
  },
  (before, after) => {
    const sel = selectorOf("CreditReportProbeSuspected", "aopay_otp_throttled_total");
    expect(increase(before, after, sel)).toBe(1);
    // The one refusal counted is the IP's: no other budget moved.
    const all = { metric: "aopay_otp_throttled_total", matchers: [] };
    expect(after.filter((s) => matches(s, all) && s.value > 0).map((s) => s.labels)).toEqual([
      { operation: "cibilCreditHistory", code: "READ_THROTTLED", scope: "IP" },
    ]);
    expect(increase(before, after, selectorOf("OtpPumpingSuspected", "aopay_otp_throttled_total"))).toBe(0);
  },
);

// Its neighbour: a client re-reading one verified customer's report past READ_CIBIL_MAX (1: the verification's own
// read spends it). A budget's refusal (ReadThrottled, scope DESTINATION), no probe: CreditReportProbeSuspected quiet.
const REREAD = "a client re-reading one customer's report past READ_CIBIL_MAX (1): no probe alert";
scenario(
  REREAD,
  { READ_CIBIL_MAX: "1" },
  async (t) => {
    const cibilId = "220000001";
    const challenge = resultOf((await t.gql(GENERATE_CIBIL_OTP, cibilInput(cibilId))).body, "generateCibilOtp");
    const verified = resultOf(
      (await t.gql(SUBMIT_CIBIL_OTP, { input: rightAnswer(cibilId, cibilToken(cibilId), challenge) })).body,
      "submitCibilOtp",
    );
    expect(verified).toMatchObject({ status: "SUCCESS", creditHistory: { __typename: "CibilCreditHistory" } });
    const again = resultOf((await t.gql(CIBIL_CREDIT_HISTORY, { cibilId })).body, "cibilCreditHistory");
    expect(again).toMatchObject({ __typename: "ReadThrottled", scope: "DESTINATION" });
  },
  (before, after) => {
    expect(increase(before, after, selectorOf("CreditReportProbeSuspected", "aopay_otp_throttled_total"))).toBe(0);
    const reads = {
      metric: "aopay_otp_throttled_total",
      matchers: [{ label: "operation", op: "=" as const, value: "cibilCreditHistory" }],
    };
    expect(after.filter((s) => matches(s, reads) && s.value > 0).map((s) => [s.labels.scope, s.value])).toEqual([
      ["DESTINATION", 1],
    ]);
  },
);

// One source past its address's budgets (REGISTER_IP_MAX 2, OTP_IP_MAX 1): the third registration is refused
// (RegistrationRefused RATE_LIMITED) and the second AEPS send (OtpThrottled, scope IP), each counted by operation,
// which OtpSourceIpFlooding selects (it fires on such refusals in every 5 minutes for 15: promtool's cases in
// deploy/prometheus/alerts.test.yml). Before, nothing read them: the series were on the page at 0, read by no alert.
const IP_FLOODED = "registrations and sends from one IP past REGISTER_IP_MAX (2) and OTP_IP_MAX (1)";
scenario(
  IP_FLOODED,
  { REGISTER_IP_MAX: "2", OTP_IP_MAX: "1" },
  async (t) => {
    const registered: unknown[] = [];
    for (let i = 0; i < 3; i++)
      registered.push(
        resultOf((await t.gql(REGISTER_CIBIL_CUSTOMER, { input: registrationInput() })).body, "registerCibilCustomer"),
      );
    expect(registered.map((r) => (r as { __typename: string }).__typename)).toEqual([
      "CibilCustomerRegistered",
      "CibilCustomerRegistered",
      "RegistrationRefused",
    ]);
    expect(registered[2]).toMatchObject({ code: "RATE_LIMITED" });
    await sendAeps(t, "9876543210");
    const refused = resultOf((await sendAeps(t, "9123456789")).body, "resendAepsOtp");
    expect(refused).toMatchObject({ __typename: "OtpThrottled", code: "RATE_LIMITED", scope: "IP" });
  },
  (before, after) => {
    const sel = selectorOf("OtpSourceIpFlooding", "aopay_otp_throttled_total");
    expect(increase(before, after, sel)).toBe(2);
    const all = { metric: "aopay_otp_throttled_total", matchers: [] };
    expect(after.filter((s) => matches(s, all) && s.value > 0).map((s) => [s.labels, s.value])).toEqual([
      [{ operation: "registerCibilCustomer", code: "RATE_LIMITED", scope: "IP" }, 1],
      [{ operation: "resendAepsOtp", code: "RATE_LIMITED", scope: "IP" }, 1],
    ]);
    expect(increase(before, after, selectorOf("OtpPumpingSuspected", "aopay_otp_throttled_total"))).toBe(0);
    expect(increase(before, after, selectorOf("CreditReportProbeSuspected", "aopay_otp_throttled_total"))).toBe(0);
  },
);

// Someone trying METRICS_TOKEN values: requests for the page without a token, or with a wrong one, each refused 401
// and counted (metrics_requests_refused_total{status="401"}); the scrapes with the token (this scenario's own, before
// and after) are not. Before, nothing fired on them: the count was on the page, read by no alert.
const METRICS_TOKEN = "alert-rules-metrics-token-0123456789";
const GUESSES = 12;
scenario(
  `the metrics token guessed (METRICS_TOKEN set; ${GUESSES} requests without it or with a wrong one)`,
  { METRICS_TOKEN },
  async (t) => {
    for (let i = 0; i < GUESSES; i++) {
      const headers = i % 2 === 0 ? {} : { authorization: `Bearer ${METRICS_TOKEN}-${i}` };
      const res = await request(t.stack.app.metricsUrl as string, { headers });
      await res.body.dump();
      expect(res.statusCode).toBe(401);
    }
  },
  (before, after) => {
    const sel = selectorOf("MetricsTokenGuessed", "metrics_requests_refused_total");
    expect(increase(before, after, sel)).toBe(GUESSES);
    const rule = rules.find((r) => r.alert === "MetricsTokenGuessed")!;
    const threshold = Number(/>\s*([0-9.]+)\s*$/.exec(rule.expr.trim())?.[1]);
    expect(GUESSES).toBeGreaterThan(threshold);
    // Other refusals of the listener (a wrong path, a wrong method) are not a guess.
    const other = { ...sel, matchers: [{ label: "status", op: "=" as const, value: "404" }] };
    expect(increase(before, after, other)).toBe(0);
  },
);

// Runs after the scenarios: only its own fills the in-memory idempotency table (the others send a few keys at most).
describe("IdempotencyMemoryFilling", () => {
  it("stays quiet in every scenario but its own", () => {
    const others = runs.filter((r) => r.name !== IDEMPOTENCY_FILLED);
    expect(others.length).toBeGreaterThan(10);
    expect(others.filter((r) => gaugeOver("IdempotencyMemoryFilling", r.after).fires).map((r) => r.name)).toEqual([]);
  });
});

// Runs after the scenarios: no other one fills a Redis (those on a dead Redis have no figures at all).
describe("RedisMemoryFilling", () => {
  it("stays quiet in every scenario but its own, Redis unreachable and an evicting Redis included", () => {
    const others = runs.filter((r) => r.name !== REDIS_FILLED);
    expect(others.length).toBeGreaterThan(10);
    expect(others.filter((r) => memoryFill(r.after).fires).map((r) => r.name)).toEqual([]);
    // An unreachable Redis: read_ok 0 and no bytes on the page, rather than figures never read.
    const dead = runs.find((r) => r.name === "Redis unreachable")!;
    expect(dead.after.filter((s) => s.name.startsWith("aopay_redis_memory_")).map((s) => [s.name, s.value])).toEqual([
      ["aopay_redis_memory_read_ok", 0],
    ]);
  });
});

// Runs after the scenarios: no other one reads past an IP's attempts (100 a minute by default).
describe("CreditReportProbeSuspected", () => {
  it("stays quiet in every scenario but its own, a client's re-reads and Redis away included", () => {
    const sel = selectorOf("CreditReportProbeSuspected", "aopay_otp_throttled_total");
    const others = runs.filter((r) => r.name !== PROBED);
    expect(others.map((r) => r.name)).toContain(REREAD);
    expect(others.length).toBeGreaterThan(10);
    expect(others.filter((r) => increase(r.before, r.after, sel) > 0).map((r) => r.name)).toEqual([]);
  });
});

// Runs after the scenarios: no other one goes past an IP's registration, send or verification budget.
describe("OtpSourceIpFlooding", () => {
  it("stays quiet in every scenario but its own, other budgets' refusals and an IP's reads included", () => {
    const sel = selectorOf("OtpSourceIpFlooding", "aopay_otp_throttled_total");
    const others = runs.filter((r) => r.name !== IP_FLOODED);
    expect(others.map((r) => r.name)).toContain(PROBED);
    expect(others.length).toBeGreaterThan(10);
    expect(others.filter((r) => increase(r.before, r.after, sel) > 0).map((r) => r.name)).toEqual([]);
  });
});

// Runs after the scenarios: no other one has a 401 on its metrics listener (none sets METRICS_TOKEN).
describe("MetricsTokenGuessed", () => {
  it("stays quiet in every scenario but its own, the scraper's own requests included", () => {
    const sel = selectorOf("MetricsTokenGuessed", "metrics_requests_refused_total");
    const others = runs.filter((r) => !r.name.startsWith("the metrics token guessed"));
    expect(others.length).toBeGreaterThan(10);
    expect(others.filter((r) => increase(r.before, r.after, sel) > 0).map((r) => r.name)).toEqual([]);
  });
});

// stdout's reader stopped (a log shipper that hung): a real server process whose stdout pipe the test no longer reads,
// its backlog filled past 16 MiB (test/fixtures/preload/fill-stdout-on-sigusr2.cjs), then requests whose lines find no
// room: dropped, counted, and LogLinesDropped's increase is over 0. Before, its metric was only seen on the page at 0.
const STDOUT_STOPPED = "stdout's reader stopped, its 16 MiB backlog full (a server process)";
describe(STDOUT_STOPPED, () => {
  const preload = join(__dirname, "../fixtures/preload/fill-stdout-on-sigusr2.cjs");
  let p: ServerProcess;
  let before: Series[];
  let quiet: Series[];
  let after: Series[];
  const scrapeUrl = async (url: string) => {
    const res = await request(url);
    const text = await res.body.text();
    for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) typesSeen.set(m[1], m[2]);
    return parsePage(text);
  };
  beforeAll(async () => {
    p = startServerProcess({ NODE_ENV: "development", LOG_FORMAT: "json", NODE_OPTIONS: `--require ${preload}` });
    const base = await p.ready;
    const metricsUrl = /"url":"(http:\/\/[^"]+\/metrics)"[^\n]*"metrics listening"/.exec(p.output())?.[1] as string;
    const health = async () => (await request(`${base}/healthz`)).body.dump();
    before = await scrapeUrl(metricsUrl);
    await health(); // a line written while the reader still reads: not dropped
    await new Promise((r) => setTimeout(r, 100));
    quiet = await scrapeUrl(metricsUrl);
    p.child.stdout?.pause(); // the reader stops
    p.child.kill("SIGUSR2");
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 0; i < 3; i++) await health();
    after = await scrapeUrl(metricsUrl);
    pages.push(before, after);
    runs.push({ name: STDOUT_STOPPED, before, after });
  }, 30_000);
  afterAll(() => p?.kill());

  it("counts the lines dropped, and LogLinesDropped's increase is over 0 only once the reader stopped", () => {
    const sel = selectorOf("LogLinesDropped", "log_lines_dropped_total");
    expect(increase(before, quiet, sel)).toBe(0);
    expect(increase(quiet, after, sel)).toBeGreaterThanOrEqual(3);
  });
});

// Runs after the scenarios (jest runs describe blocks in order): `runs` holds all of them.
describe("RequestsFailed", () => {
  it("stays quiet in every scenario (AOPay failing, overload, shedding, refusals, Redis away, the JWKS down)", () => {
    expect(runs.map((r) => r.name)).toContain(JWKS_DOWN);
    expect(runs.length).toBeGreaterThanOrEqual(10);
    const sel = selectorOf("RequestsFailed", "http_requests_failed_total");
    const moved = runs.map((r) => [r.name, increase(r.before, r.after, sel)]).filter(([, n]) => n !== 0);
    expect(moved).toEqual([]);
  });
});

/**
 * The metrics table of docs/operations.md: each metric named there is on a scraped page with the type and the label
 * names the table gives (prom-client's `process_*` and `nodejs_*` aside).
 */
function documentedMetrics(): Array<{ names: string[]; histogram: boolean; labels: string[] }> {
  const doc = readFileSync(OPERATIONS_MD, "utf8");
  const table = doc.slice(doc.indexOf("| metric | labels | what |"), doc.indexOf("## Sample alerts"));
  return table
    .split("\n")
    .filter((l) => l.startsWith("| `"))
    .map((l) => l.split(" | "))
    .map(([metric, labels]) => ({
      names: [...metric.matchAll(/`([a-z_*]+)`/g)].map((m) => m[1]),
      histogram: metric.includes("(histogram)"),
      // The label names: the first backticked word of each comma-separated part (values follow in parentheses).
      labels: labels === "–" ? [] : labels.split(/,(?![^(]*\))/).map((part) => /`([a-z_]+)`/.exec(part)?.[1] ?? part),
    }))
    .filter((row) => !row.names.some((n) => n.includes("*")));
}

/**
 * Documented metrics no scenario here sets up, with no series without their setting: scrapes by token with
 * METRICS_TOKEN set (test/e2e/operations.test.ts), requests by API key (test/e2e/auth.test.ts), workers restarted by
 * a cluster's primary, WEB_CONCURRENCY > 1 (test/e2e/cluster.test.ts). Every other metric
 * of the table is on every page from the start (metrics.ts startAtZero), at 0 where no scenario here moves it:
 * registration rules move in test/e2e/registration-race.test.ts and contention.test.ts, refusals before GraphQL and
 * connections closed unauthenticated in http-boundary.test.ts and slow-clients.test.ts, the rotation counters in
 * hmac-rotation.test.ts and key-rotation.test.ts.
 */
const NOT_DRIVEN = new Set(["metrics_scrapes_total", "aopay_api_key_requests_total", "cluster_worker_restarts_total"]);
/**
 * Only on a page of a server with METRICS_TOKEN, API_KEYS or WEB_CONCURRENCY > 1 set, which no scenario here sets:
 * their types are checked where they are (test/e2e/operations.test.ts, auth.test.ts, cluster.test.ts).
 */
const WITH_SETTING_ONLY = new Set([
  "metrics_scrapes_total",
  "aopay_api_key_requests_total",
  "cluster_worker_restarts_total",
]);

describe("every metric, label and label value the rules match", () => {
  it("and every metric of docs/operations.md's table, has the type and the labels the table gives", () => {
    const series = pages.flat();
    const rows = documentedMetrics();
    expect(rows.length).toBe(31);
    const problems: string[] = [];
    for (const row of rows)
      for (const name of row.names) {
        const type = typesSeen.get(name);
        const expected = row.histogram ? "histogram" : name.endsWith("_total") ? "counter" : "gauge";
        if (type !== expected && !(type === undefined && WITH_SETTING_ONLY.has(name)))
          problems.push(`${name}: ${type ?? "absent"}, documented ${expected}`);
        const seen = series.filter((s) => s.name === (row.histogram ? `${name}_count` : name));
        if (seen.length === 0 && !NOT_DRIVEN.has(name)) problems.push(`${name}: no series in any scenario`);
        for (const s of seen)
          if (Object.keys(s.labels).sort().join() !== [...row.labels].sort().join())
            problems.push(`${name}: labels ${Object.keys(s.labels).join()}, documented ${row.labels.join()}`);
      }
    expect(problems).toEqual([]);
  });

  // Runs after the scenarios (jest runs describe blocks in order): `pages` holds all their scrapes.
  it("appears on a scraped page", () => {
    expect(pages.length).toBeGreaterThanOrEqual(20);
    const series = pages.flat();
    const problems: string[] = [];
    for (const rule of rules) {
      const { selectors, groupBy } = selectorsOf(rule.expr);
      for (const sel of selectors) {
        if (NOT_ON_A_SERVER_PAGE.has(sel.metric)) continue;
        const ofMetric = series.filter((s) => s.name === sel.metric);
        if (ofMetric.length === 0) {
          problems.push(`${rule.alert}: no metric ${sel.metric}`);
          continue;
        }
        for (const m of sel.matchers) {
          if (!ofMetric.some((s) => m.label in s.labels))
            problems.push(`${rule.alert}: ${sel.metric} has no ${m.label}`);
          // Each value, and each alternative of a regex matcher, must be a value seen: a misspelt one would match
          // nothing (or, negated, exclude nothing), silently.
          const values = m.op === "=" || m.op === "!=" ? [m.value] : m.value.split("|");
          for (const v of values)
            if (!ofMetric.some((s) => new RegExp(`^(?:${v})$`).test(s.labels[m.label] ?? "")))
              problems.push(`${rule.alert}: ${sel.metric}{${m.label}="${v}"} never seen`);
        }
      }
      // A `by` label must be on the metrics aggregated, or the alert's labels (and its annotations) are empty.
      for (const label of groupBy.filter((l) => l !== "le"))
        if (!selectors.every((sel) => series.some((s) => s.name === sel.metric && label in s.labels)))
          problems.push(`${rule.alert}: by (${label}) is a label of none of its series`);
      for (const m of JSON.stringify(rule.annotations ?? {}).matchAll(/\$labels\.([a-zA-Z_]+)/g))
        if (!groupBy.includes(m[1]) && groupBy.length > 0) problems.push(`${rule.alert}: $labels.${m[1]} not kept`);
    }
    expect(problems).toEqual([]);
  });
});
