import { randomBytes } from "node:crypto";
import { request } from "undici";
import { AcceptedDocuments } from "../../src/graphql/accepted-documents";
import { type FakeUpstream, json, startFakeUpstream, upstreamEnv } from "../helpers/fake-upstream";
import { holdingUpstream, until } from "../helpers/holding-upstream";
import { nextAadhaar } from "../helpers/identifiers";
import { aepsInput, RESEND_AEPS_OTP } from "../helpers/operations";
import {
  attributesOf,
  type OtlpSpan,
  type Receiver,
  SERVER,
  startReceiver,
  forgetTelemetry,
} from "../helpers/otlp-receiver";
import { startTestStack, type TestStack } from "../helpers/stack";
import { unserialisable } from "../helpers/unserialisable";

/**
 * Every GraphQL request that starts an operation span ends it exactly once, with the status its client was answered
 * (src/graphql/plugins/tracing.plugin.ts RequestTracing.end, called by both HTTP layers' access line). Before, the span
 * ended in willSendResponse, before the answer was serialised: a result that could not be serialised (answered 500)
 * was exported as 200 OK, and a plugin hook that threw before willSendResponse (answered 500) left the span unended,
 * never exported. A request refused before GraphQL starts no span: an Accept Apollo cannot serve among them (it was
 * answered 406 after the operation ran, its span exported 200 OK; now refused before GraphQL, http/graph-route.ts
 * notAcceptable). In-process, the SDK exporting over OTLP/HTTP to a receiver, on both HTTP layers.
 */
const LAYERS = [
  ["the thin route", true],
  ["Fastify's route", false],
] as const;

/**
 * One SDK per test file: the tracer the server took at load (tracing.plugin.ts) keeps the first SDK's provider, so both
 * layers' stacks run under the first one's (the second's registration is refused), and are stopped last-first.
 */
describe("the operation span", () => {
  // The SDK reads the OTEL_* variables from process.env itself (observability/telemetry.ts); the server's config
  // reads them from the stack's env.
  const OTEL_ENV = (url: string) => ({ OTEL_EXPORTER_OTLP_ENDPOINT: url, OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" });
  const saved = { ...process.env };
  const realStringify = JSON.stringify;
  let armed = false;
  let restore = () => {};
  let receiver: Receiver;
  let upstream: FakeUpstream;
  const stacks: TestStack[] = [];
  let t: TestStack;
  /** Per layer and case: the trace id its request was sent in, and the status its client got (null: it hung up). */
  const sent = new Map<string, { traceId: string; status: number | null }>();
  const fastAnswered = new Map<string, number>();
  let layer = "";

  /** Headers putting the request in a trace of its own, named for `what`. */
  const traced = (what: string, status: number | null = null) => {
    const traceId = randomBytes(16).toString("hex");
    sent.set(`${layer}: ${what}`, { traceId, status });
    return { traceparent: `00-${traceId}-${randomBytes(8).toString("hex")}-01` };
  };
  const post = async (what: string, body: string, headers: Record<string, string> = {}) => {
    const tp = traced(what);
    const res = await request(t.graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json", ...tp, ...headers },
      body,
    });
    await res.body.text();
    sent.get(`${layer}: ${what}`)!.status = res.statusCode;
    return res.statusCode;
  };
  const query = (text: string) => realStringify({ query: text });
  /** A GET (Fastify's route, on either layer's stack), past Apollo's CSRF prevention. */
  const get = async (what: string, text: string) => {
    const res = await request(`${t.graphqlUrl}?query=${encodeURIComponent(text)}`, {
      headers: { "apollo-require-preflight": "1", ...traced(what) },
    });
    await res.body.text();
    sent.get(`${layer}: ${what}`)!.status = res.statusCode;
    return res.statusCode;
  };

  /** Every case, on `t`. */
  async function sendCases(): Promise<void> {
    upstream.respond(json(200, { status: true }));
    // A result that cannot be serialised: JSON.stringify throws for this document's result only, while armed (as a
    // BigInt or a cycle in a result would make it throw; test/e2e/failures-seen.test.ts does the same).
    try {
      expect(await post("answered", query("query Fine { __typename }"))).toBe(200);
      armed = true;
      // The document's first request is Apollo's pipeline's; once accepted, the same document is the fast path's.
      expect(await post("unserialisable (Apollo)", query("query Probe { probe: __typename }"))).toBe(500);
      const before = t.stack.app.fastPathCounts.answered;
      expect(await post("unserialisable (fast path)", query("query Probe { probe: __typename }"))).toBe(500);
      fastAnswered.set(layer, t.stack.app.fastPathCounts.answered - before);
      // An OTP sent whose answer cannot be serialised: the operation ran, the answer failed.
      const resend = realStringify({
        query: RESEND_AEPS_OTP,
        variables: aepsInput("9876543001", { aadhaar: nextAadhaar() }),
      });
      expect(await post("sent, unserialisable", resend)).toBe(500);
    } finally {
      armed = false;
    }
    // A plugin hook that throws (our request plugin's executionDidStart): Apollo answers 500 without willSendResponse.
    const hook = jest.spyOn(AcceptedDocuments.prototype, "remember").mockImplementationOnce(() => {
      throw new Error("a hook failed");
    });
    try {
      expect(await post("hook threw", query("query HookProbe { __typename }"))).toBe(500);
      expect(hook).toHaveBeenCalledTimes(1);
    } finally {
      hook.mockRestore();
    }
    // An Accept no GraphQL type answers: refused before GraphQL (Apollo ran the operation, then answered 406).
    expect(await post("406", query("query AcceptProbe { __typename }"), { accept: "text/html" })).toBe(406);
    expect(await get("GET", "query OverGet { __typename }")).toBe(200);
    // Refused inside Apollo's pipeline (after its requestDidStart): a span, with GraphQL's own status and code.
    expect(await get("GET mutation", "mutation OverGet { __typename }")).toBe(405);
    // Refused before GraphQL: no span.
    expect(await post("415", "<q/>", { "content-type": "application/xml" })).toBe(415);
    // Apollo's own refusal before its pipeline: CSRF prevention (a simple request's text/plain).
    expect(await post("400 CSRF", query("{ __typename }"), { "content-type": "text/plain" })).toBe(400);
    expect(await post("401", query("{ __typename }"), { "x-api-key": "not-a-key" })).toBe(401);
    expect(await post("400 not JSON", "{")).toBe(400);
    expect(await post("413", query(`{ __typename } #${"x".repeat(40_000)}`))).toBe(413);
    // A client that hangs up while AOPay holds its send: the answer (200) is written to nobody.
    const hold = holdingUpstream(upstream);
    const aborter = new AbortController();
    const gone = request(t.graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json", ...traced("client gone") },
      body: realStringify({ query: RESEND_AEPS_OTP, variables: aepsInput("9876543210", { aadhaar: nextAadhaar() }) }),
      signal: aborter.signal,
    }).catch((error: Error) => error);
    await until("the upstream call", () => hold.held.length === 1);
    aborter.abort();
    expect(await gone).toHaveProperty("name", "AbortError");
    await new Promise((r) => setTimeout(r, 100));
    hold.release();
    const goneLine = () => t.logs.records().find((r) => r.clientGone === true && r.path === "/graphql");
    await until("the access line of the client gone", () => goneLine() !== undefined);
  }

  beforeAll(async () => {
    receiver = await startReceiver();
    upstream = await startFakeUpstream();
    Object.assign(process.env, OTEL_ENV(receiver.url));
    restore = unserialisable((value) => armed && (value.data?.probe === "Query" || !!value.data?.resendAepsOtp));
    for (const [name, thinGraphQLRoute] of LAYERS) {
      layer = name;
      t = await startTestStack({ ...OTEL_ENV(receiver.url), ...upstreamEnv(upstream) }, { thinGraphQLRoute });
      stacks.unshift(t);
      await sendCases();
      expect(t.stack.app.thinGraphQLServed > 0).toBe(thinGraphQLRoute);
    }
    // The SDK's shutdown (the first stack's, stopped last) exports what is buffered.
    for (const stack of stacks) await stack.stop();
  }, 60_000);
  afterAll(async () => {
    restore();
    for (const stack of stacks) await stack.stop();
    await upstream?.close();
    await receiver?.close();
    forgetTelemetry(saved, Object.keys(OTEL_ENV("")));
  });

  /** The server spans of a case's trace. */
  const spansOf = (layerName: string, what: string): OtlpSpan[] =>
    receiver.spans().filter((s) => s.kind === SERVER && s.traceId === sent.get(`${layerName}: ${what}`)?.traceId);
  const onlySpan = (layerName: string, what: string) => {
    const spans = spansOf(layerName, what);
    expect({ what, spans: spans.length }).toEqual({ what, spans: 1 });
    return { span: spans[0], attributes: attributesOf(spans[0].attributes) };
  };
  const ERROR = 2;

  describe.each(LAYERS.map(([name]) => name))("%s", (layerName) => {
    it("a request answered as GraphQL answered it: one span, its status, no error", () => {
      const { span, attributes } = onlySpan(layerName, "answered");
      expect(attributes["http.response.status_code"]).toBe(200);
      expect(attributes["error.type"]).toBeUndefined();
      expect(attributes["aopay.client_gone"]).toBeUndefined();
      expect(span.status?.code ?? 0).not.toBe(ERROR);
    });

    it.each(["unserialisable (Apollo)", "unserialisable (fast path)"])(
      "a result that cannot be serialised, %s: one span, ended 500 INTERNAL_SERVER_ERROR (was 200 OK)",
      (what) => {
        expect(sent.get(`${layerName}: ${what}`)?.status).toBe(500);
        const { span, attributes } = onlySpan(layerName, what);
        expect(attributes).toMatchObject({
          "http.response.status_code": 500,
          "error.type": "INTERNAL_SERVER_ERROR",
          "aopay.result": "INTERNAL_SERVER_ERROR",
          "graphql.operation.type": "query",
        });
        expect(span.status?.code).toBe(ERROR);
      },
    );

    it("an OTP sent whose answer cannot be serialised: aopay.resolved says what the operation did", () => {
      const { attributes } = onlySpan(layerName, "sent, unserialisable");
      expect(attributes).toMatchObject({
        "http.response.status_code": 500,
        "aopay.result": "INTERNAL_SERVER_ERROR",
        "aopay.resolved": "AepsOtpResent",
      });
      // Nothing resolved (a __typename probe; a hook that threw before execution): no aopay.resolved.
      expect(onlySpan(layerName, "unserialisable (Apollo)").attributes["aopay.resolved"]).toBeUndefined();
      expect(onlySpan(layerName, "hook threw").attributes["aopay.resolved"]).toBeUndefined();
    });

    it("the unserialisable result's second request was the fast path's", () => {
      expect(fastAnswered.get(layerName)).toBe(1);
    });

    it("a plugin hook that threw before willSendResponse: one span, ended 500 (was never ended nor exported)", () => {
      expect(sent.get(`${layerName}: hook threw`)?.status).toBe(500);
      const { span, attributes } = onlySpan(layerName, "hook threw");
      expect(attributes).toMatchObject({ "http.response.status_code": 500, "error.type": "INTERNAL_SERVER_ERROR" });
      expect(span.status?.code).toBe(ERROR);
    });

    it("a GET: one span, 200", () => {
      const { attributes } = onlySpan(layerName, "GET");
      expect(attributes).toMatchObject({ "http.response.status_code": 200, "graphql.operation.type": "query" });
      expect(attributes["error.type"]).toBeUndefined();
    });

    it("a mutation over GET, refused 405 inside Apollo's pipeline: one span, its status and code", () => {
      const { span, attributes } = onlySpan(layerName, "GET mutation");
      expect(attributes).toMatchObject({ "http.response.status_code": 405, "error.type": "BAD_REQUEST" });
      expect(span.status?.code).toBe(ERROR);
    });

    it("a client that hung up before its answer: one span, with the access line's status and aopay.client_gone", () => {
      const { attributes } = onlySpan(layerName, "client gone");
      expect(attributes).toMatchObject({
        "http.response.status_code": 200,
        "aopay.result": "AepsOtpResent",
        "aopay.client_gone": true,
      });
    });

    it.each(["406", "415", "400 CSRF", "401", "400 not JSON", "413"])(
      "a request refused before GraphQL (%s) starts no span",
      (what) => {
        expect(sent.get(`${layerName}: ${what}`)?.status).toBe(Number(what.slice(0, 3)));
        expect(spansOf(layerName, what)).toEqual([]);
      },
    );
  });

  it("exports every server span once: one per request GraphQL ran, on each layer", () => {
    const ids = receiver
      .spans()
      .filter((s) => s.kind === SERVER)
      .map((s) => s.spanId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(16);
  });
});
