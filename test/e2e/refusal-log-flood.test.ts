import { request } from "undici";
import { UPSTREAM_REFUSAL_LINES_PER_INTERVAL } from "../../src/aopay/client";
import { AUTH_UNAVAILABLE_LINES_PER_INTERVAL } from "../../src/http/exchange";
import { GUARDED_SAMPLES, guardedDocument } from "../helpers/guarded-samples";
import { nextAadhaar, nextAepsRegistration } from "../helpers/identifiers";
import { json } from "../helpers/fake-upstream";
import { stackOnFakeUpstream, startTestStack, type TestStack } from "../helpers/stack";
import { startTokenStack, type TokenStack } from "../helpers/token-stack";

/**
 * Log amplification (docs/operations.md "Summarised lines"): an attacker repeating a request we refuse must not set
 * the rate of a log line beside each access line. For each such line: N requests, at most K lines of it written as
 * before (their request ids kept), one summary line per interval counting the rest exactly by reason, the metric
 * counting all N, and no token or client text in the summary.
 */
const N = 60;

async function metric(t: TestStack, name: string): Promise<number> {
  const page = await (await request(t.stack.app.metricsUrl!)).body.text();
  return page
    .split("\n")
    .filter((l) => l.startsWith(name))
    .reduce((sum, l) => sum + Number(l.split(" ").pop()), 0);
}

const records = (t: TestStack, msg: string | RegExp) =>
  t.logs.records().filter((r) => (typeof msg === "string" ? r.msg === msg : msg.test(String(r.msg))));

describe("bearer tokens refused 503 AUTH_UNAVAILABLE (the identity provider's key set cannot be had)", () => {
  const UNAVAILABLE =
    "bearer token not checked: the identity provider's key set (AUTH_JWKS_URL) cannot be had; answered 503";
  let t: TestStack;
  let stack: TokenStack;
  let stopped = false;
  let token: string;

  beforeAll(async () => {
    // The identity provider answers 503 from the start: no set is ever held, so every bearer request is refused.
    stack = await startTokenStack({ jwksDown: true });
    t = stack.t;
    token = await stack.sign({ azp: "attacker" });
  });
  afterAll(async () => {
    if (!stopped) await stack?.stop();
  });

  it("writes at most K warnings per 10 s for N requests on both layers, and a summary counting the rest", async () => {
    const refused = 'http_requests_refused_total{status="503",code="AUTH_UNAVAILABLE"}';
    const before = await metric(t, refused);
    const ids: string[] = [];
    for (let i = 0; i < N; i++) {
      // Half through the thin route (a plain JSON POST), half through Fastify (a GET): one summary for both.
      const res =
        i % 2 === 0
          ? await request(t.graphqlUrl, {
              method: "POST",
              headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
              body: JSON.stringify({ query: "{ __typename }" }),
            })
          : await request(`${t.graphqlUrl}?query=${encodeURIComponent("{ __typename }")}`, {
              headers: { authorization: `Bearer ${token}`, "apollo-require-preflight": "1" },
            });
      await res.body.text();
      expect(res.statusCode).toBe(503);
      ids.push(res.headers["x-request-id"] as string);
    }
    // Every request is counted, and has its access line saying why.
    expect((await metric(t, refused)) - before).toBe(N);
    expect(ids.filter((id) => t.logs.accessLines(id)[0]?.result === "AUTH_UNAVAILABLE")).toHaveLength(N);
    await stack.stop();
    stopped = true;

    const written = records(t, UNAVAILABLE);
    const summaries = records(t, /^bearer token not checked: \d+ more requests answered 503/);
    // A run slower than 10 s has two intervals: K lines each at most, a summary each. (Before: N lines, no summary.)
    expect(written.length).toBeLessThanOrEqual(AUTH_UNAVAILABLE_LINES_PER_INTERVAL * Math.max(1, summaries.length));
    expect(summaries.length).toBeGreaterThanOrEqual(1);
    // The lines written are the ones they were: a request id to find, the error, the code.
    for (const line of written) {
      expect(ids).toContain(line.requestId);
      expect(line).toMatchObject({ level: "warn", code: "AUTH_UNAVAILABLE", err: expect.any(Object) });
    }
    // The summaries count the rest exactly, by reason (ours: the jose code).
    const suppressed = summaries.reduce((sum, s) => sum + (s.suppressed as number), 0);
    expect(written.length + suppressed).toBe(N);
    for (const s of summaries) {
      expect(s).toMatchObject({
        level: "warn",
        code: "AUTH_UNAVAILABLE",
        notLogged: { "identity provider's key set unavailable (ERR_JOSE_GENERIC)": s.suppressed },
      });
      expect(s.requestId).toBeUndefined();
      expect(s.clientId).toBeUndefined();
    }
    // No part of the token in any line.
    for (const part of token.split(".")) expect(t.logs.raw()).not.toContain(part);
  });
});

describe("upstream refusals a client's own input causes (UPSTREAM_REJECTED, UPSTREAM_UNAUTHORIZED)", () => {
  /** A run id in the mobile, its last three digits the simulator's scenario (src/simulator/scenarios.ts). */
  const RUN = String((Date.now() + process.pid) % 1e6).padStart(6, "0");
  const REJECTED = 40;
  const UNAUTHORIZED = 20;
  let t: TestStack;
  let stopped = false;

  beforeAll(async () => {
    t = await startTestStack();
  });
  afterAll(async () => {
    if (!stopped) await t?.stop();
  });

  it("writes at most K warnings per 10 s for N refused sends, and a summary by endpoint and outcome", async () => {
    const counted = (outcome: string) =>
      metric(t, `aopay_upstream_requests_total{endpoint="aeps.resendOtp",outcome="${outcome}"}`);
    const before = {
      rejected: await counted("UPSTREAM_REJECTED"),
      unauthorized: await counted("UPSTREAM_UNAUTHORIZED"),
    };
    const aadhaars: string[] = [];
    const ids: string[] = [];
    for (let i = 0; i < REJECTED + UNAUTHORIZED; i++) {
      const aadhaar = nextAadhaar();
      aadhaars.push(aadhaar);
      const mobile = `9${RUN}${i < REJECTED ? "207" : "401"}`;
      const input = GUARDED_SAMPLES.resendAepsOtp.input({ ...nextAepsRegistration(), mobile, aadhaar } as never);
      const res = await t.gql(guardedDocument("resendAepsOtp"), { input }, { "idempotency-key": `flood-${RUN}-${i}` });
      const code = (res.body.data?.resendAepsOtp as { code?: string } | undefined)?.code;
      expect(code).toBe(i < REJECTED ? "UPSTREAM_REJECTED" : "UPSTREAM_UNAUTHORIZED");
      ids.push(res.headers["x-request-id"] as string);
    }
    expect((await counted("UPSTREAM_REJECTED")) - before.rejected).toBe(REJECTED);
    expect((await counted("UPSTREAM_UNAUTHORIZED")) - before.unauthorized).toBe(UNAUTHORIZED);
    await t.stop();
    stopped = true;

    const written = t.logs
      .records()
      .filter((r) =>
        ["UPSTREAM_REJECTED", "UPSTREAM_UNAUTHORIZED"].includes((r.upstream as { outcome?: string })?.outcome ?? ""),
      );
    const summaries = records(t, /^upstream refused or failed \d+ more calls in the last/);
    // K per reason (endpoint and outcome: 2 here) per interval.
    expect(written.length).toBeLessThanOrEqual(2 * UPSTREAM_REFUSAL_LINES_PER_INTERVAL * Math.max(1, summaries.length));
    expect(summaries.length).toBeGreaterThanOrEqual(1);
    for (const line of written) {
      expect(line.level).toBe("warn");
      expect(ids).toContain(line.requestId);
    }
    // By endpoint and outcome, exactly: the lines written and the ones counted make every refused call.
    const notLogged: Record<string, number> = {};
    for (const s of summaries) {
      expect(s.requestId).toBeUndefined();
      for (const [reason, n] of Object.entries(s.notLogged as Record<string, number>))
        notLogged[reason] = (notLogged[reason] ?? 0) + n;
    }
    const writtenAs = (outcome: string) =>
      written.filter((r) => (r.upstream as { outcome: string }).outcome === outcome).length;
    // The first refusals of another kind are written, whatever the flood of rejections before them took.
    expect(writtenAs("UPSTREAM_UNAUTHORIZED")).toBeGreaterThanOrEqual(
      Math.min(UNAUTHORIZED, UPSTREAM_REFUSAL_LINES_PER_INTERVAL),
    );
    expect(notLogged).toEqual({
      "aeps.resendOtp UPSTREAM_REJECTED": REJECTED - writtenAs("UPSTREAM_REJECTED"),
      "aeps.resendOtp UPSTREAM_UNAUTHORIZED": UNAUTHORIZED - writtenAs("UPSTREAM_UNAUTHORIZED"),
    });
    expect(summaries.reduce((sum, s) => sum + (s.suppressed as number), 0)).toBe(
      REJECTED + UNAUTHORIZED - written.length,
    );
    // No customer value in a summary (nor any line: the access lines show them masked).
    const text = summaries.map((s) => JSON.stringify(s)).join("\n");
    expect(text).not.toContain(RUN);
    for (const aadhaar of aadhaars) expect(t.logs.raw()).not.toContain(aadhaar);
  });
});

describe("upstream failures of a condition every request meets (AOPay failing, its circuit open)", () => {
  const SENDS = 40;
  // AOPay answering 503 to everything: its first failures are written, then the circuit opens (after 5 calls).
  const { t } = stackOnFakeUpstream({
    answer: json(503, { status: false, message: "maintenance" }),
    env: { BREAKER_VOLUME_THRESHOLD: "5" },
  });

  it("writes at most K lines per 10 s per endpoint and outcome, and a summary counting the rest", async () => {
    const outcomes = async () => {
      const page = await (await request(t.stack.app.metricsUrl!)).body.text();
      const counts: Record<string, number> = {};
      for (const [, outcome, n] of page.matchAll(
        /^aopay_upstream_requests_total\{endpoint="aeps\.resendOtp",outcome="([A-Z_]+)"\} (\d+)$/gm,
      ))
        if (outcome !== "OK") counts[outcome] = Number(n);
      return counts;
    };
    const before = await outcomes();
    const ids: string[] = [];
    for (let i = 0; i < SENDS; i++) {
      const input = GUARDED_SAMPLES.resendAepsOtp.input({
        ...nextAepsRegistration(),
        mobile: `98${String(i).padStart(8, "0")}`,
        aadhaar: nextAadhaar(),
      } as never);
      const res = await t.gql(guardedDocument("resendAepsOtp"), { input }, { "idempotency-key": `outage-${i}` });
      expect((res.body.data?.resendAepsOtp as { __typename?: string }).__typename).toBe("UpstreamUnavailable");
      ids.push(res.headers["x-request-id"] as string);
    }
    const after = await outcomes();
    const attempts: Record<string, number> = {};
    for (const [outcome, n] of Object.entries(after))
      if (n - (before[outcome] ?? 0) > 0) attempts[`aeps.resendOtp ${outcome}`] = n - (before[outcome] ?? 0);
    // The circuit opened: most requests were refused without a call, each a line before.
    expect(attempts["aeps.resendOtp CIRCUIT_OPEN"]).toBeGreaterThan(UPSTREAM_REFUSAL_LINES_PER_INTERVAL);
    await t.stop();

    const written = t.logs.records().filter((r) => r.msg !== "request completed" && r.upstream !== undefined);
    const summaries = records(t, /^upstream refused or failed \d+ more calls in the last/);
    expect(summaries.length).toBeGreaterThanOrEqual(1);
    const reasons = Object.keys(attempts).length;
    // Before: a warning per attempt (40 and more). Now K per reason and interval.
    expect(written.length).toBeLessThanOrEqual(reasons * UPSTREAM_REFUSAL_LINES_PER_INTERVAL * summaries.length);
    for (const line of written) {
      expect(line.level).toBe("warn");
      expect(ids).toContain(line.requestId);
    }
    // Exactly: the lines written and the ones counted make every failed attempt, by endpoint and outcome.
    const seen: Record<string, number> = {};
    for (const line of written) {
      const reason = `aeps.resendOtp ${(line.upstream as { outcome: string }).outcome}`;
      seen[reason] = (seen[reason] ?? 0) + 1;
    }
    for (const s of summaries) {
      expect(s).toMatchObject({ level: "warn" });
      expect(s.requestId).toBeUndefined();
      for (const [reason, n] of Object.entries(s.notLogged as Record<string, number>))
        seen[reason] = (seen[reason] ?? 0) + n;
    }
    expect(seen).toEqual(attempts);
  });
});
