import { Readable } from "node:stream";
import { request } from "undici";
import { trustedDocumentIds } from "../../client/src/generated/trusted-documents";
import { cibilInput } from "../helpers/operations";
import { startProductionStack, startTestStack, TEST_API_KEY, type TestStack } from "../helpers/stack";

/**
 * The thin node:http GraphQL route (src/http/thin-graphql.ts) against Fastify's route for the same requests: two
 * production stacks, identical but for `thinGraphQLRoute`, are sent each request of a matrix of unusual ones, over
 * real HTTP on loopback. Their answers must be byte for byte the same (status, headers but the date and keep-alive
 * timer, body), so must their access lines and their CORS warnings, and the thin stack must have served exactly the
 * requests it is meant to. Browser requests (an Origin header) are compared in three settings: production with an
 * allow-list, development (any loopback origin), and production with no allowed origin behind a trusted proxy (the
 * same-origin exemption reads X-Forwarded-Proto then).
 */

const ALLOWED_ORIGIN = "https://app.example";
const ENV = {
  TRUSTED_DOCUMENTS: "enforce",
  CORS_ORIGINS: ALLOWED_ORIGIN,
  BODY_LIMIT_BYTES: "4096",
  GRAPHQL_MAX_QUERY_CHARS: "1000",
};
const byId = (id: string) => ({ extensions: { persistedQuery: { version: 1, sha256Hash: id } } });
const SERVICE_INFO = JSON.stringify(byId(trustedDocumentIds.ServiceInfo));
const JSON_TYPE = { "content-type": "application/json" };
const AUTH = { "x-api-key": TEST_API_KEY };

interface Case {
  name: string;
  method?: "POST" | "GET" | "OPTIONS";
  path?: string;
  headers?: Record<string, string>;
  body?: string | (() => AsyncIterable<Buffer>);
  /** Whether the thin route serves it (else it goes on to Fastify). */
  thin: boolean;
  status: number;
  /** The error code of the answer's first error, when it is one. */
  code?: string;
  /** Sent with the stack's own origin (`<scheme>://<its Host header>`) as Origin: a same-origin request. */
  sameOrigin?: "http" | "https";
  /** The Access-Control-Allow-Origin of the answer (none when absent). */
  allowOrigin?: string;
  /** Whether the case's Origin is logged as refused (once: no other case sends it). */
  warns?: boolean;
  /** How many times the case is sent to each stack (default 1), each answer compared. */
  times?: number;
}

const CASES: Case[] = [
  { name: "a trusted query by id", headers: { ...JSON_TYPE, ...AUTH }, body: SERVICE_INFO, thin: true, status: 200 },
  {
    name: "a trusted mutation by id (an upstream call)",
    headers: { ...JSON_TYPE, ...AUTH },
    body: JSON.stringify({ ...byId(trustedDocumentIds.GenerateCibilOtp), variables: cibilInput() }),
    thin: true,
    status: 200,
  },
  {
    name: "a trusted mutation without its variables",
    headers: { ...JSON_TYPE, ...AUTH },
    body: JSON.stringify(byId(trustedDocumentIds.GenerateCibilOtp)),
    thin: true,
    status: 400,
    code: "BAD_USER_INPUT",
  },
  {
    name: "an untrusted document",
    headers: { ...JSON_TYPE, ...AUTH },
    body: '{"query":"{ __typename }"}',
    thin: true,
    status: 400,
    code: "UNTRUSTED_DOCUMENT",
  },
  {
    name: "a query over GRAPHQL_MAX_QUERY_CHARS",
    headers: { ...JSON_TYPE, ...AUTH },
    body: JSON.stringify({ query: `{ __typename ${" ".repeat(1200)}}` }),
    thin: true,
    status: 400,
    code: "BAD_REQUEST",
  },
  {
    name: "invalid JSON",
    headers: { ...JSON_TYPE, ...AUTH },
    body: '{"query":',
    thin: true,
    status: 400,
    code: "BAD_REQUEST",
  },
  {
    name: "a body with __proto__",
    headers: { ...JSON_TYPE, ...AUTH },
    body: `{"__proto__":{"polluted":true},${SERVICE_INFO.slice(1)}`,
    thin: true,
    status: 400,
    code: "BAD_REQUEST",
  },
  {
    name: "a body with constructor.prototype",
    headers: { ...JSON_TYPE, ...AUTH },
    body: `{"constructor":{"prototype":{"polluted":true}},${SERVICE_INFO.slice(1)}`,
    thin: true,
    status: 400,
    code: "BAD_REQUEST",
  },
  { name: "an empty body", headers: { ...JSON_TYPE, ...AUTH }, body: "", thin: true, status: 400, code: "BAD_REQUEST" },
  {
    name: "a body over BODY_LIMIT_BYTES (Content-Length)",
    headers: { ...JSON_TYPE, ...AUTH },
    body: JSON.stringify({ query: "x".repeat(5000) }),
    thin: true,
    status: 413,
    code: "BAD_REQUEST",
  },
  {
    name: "a chunked body over BODY_LIMIT_BYTES",
    headers: { ...JSON_TYPE, ...AUTH },
    body: async function* () {
      yield Buffer.from(`{"query":"${"x".repeat(3000)}`);
      yield Buffer.from(`${"x".repeat(3000)}"}`);
    },
    thin: true,
    status: 413,
    code: "BAD_REQUEST",
  },
  {
    name: "a chunked body within the limit",
    headers: { ...JSON_TYPE, ...AUTH },
    body: async function* () {
      yield Buffer.from(SERVICE_INFO.slice(0, 10));
      yield Buffer.from(SERVICE_INFO.slice(10));
    },
    thin: true,
    status: 200,
  },
  {
    name: "no credentials",
    headers: JSON_TYPE,
    body: SERVICE_INFO,
    thin: true,
    status: 401,
    code: "UNAUTHENTICATED",
  },
  {
    name: "a wrong API key",
    headers: { ...JSON_TYPE, "x-api-key": `${TEST_API_KEY.slice(0, -1)}X` },
    body: SERVICE_INFO,
    thin: true,
    status: 401,
    code: "UNAUTHENTICATED",
  },
  {
    name: "a malformed bearer token",
    headers: { ...JSON_TYPE, authorization: "Bearer not.a.jwt" },
    body: SERVICE_INFO,
    thin: true,
    status: 401,
    code: "UNAUTHENTICATED",
  },
  { name: "a batch", headers: { ...JSON_TYPE, ...AUTH }, body: `[${SERVICE_INFO}]`, thin: true, status: 400 },
  {
    name: "an Accept the server cannot answer",
    headers: { ...JSON_TYPE, ...AUTH, accept: "text/html" },
    body: SERVICE_INFO,
    thin: true,
    status: 406,
  },
  {
    name: "application/json;charset=UTF-8",
    headers: { "content-type": "application/json;charset=UTF-8", ...AUTH },
    body: SERVICE_INFO,
    thin: true,
    status: 200,
  },
  {
    name: "application/json with a charset spelling the fast path does not list",
    headers: { "content-type": "application/json; charset=utf8", ...AUTH },
    body: SERVICE_INFO,
    thin: false,
    status: 200,
  },
  {
    name: "a text/plain body",
    headers: { "content-type": "text/plain", ...AUTH },
    body: SERVICE_INFO,
    thin: false,
    status: 400,
  },
  {
    name: "a GET with a query string",
    method: "GET",
    path: `/graphql?extensions=${encodeURIComponent(JSON.stringify(byId(trustedDocumentIds.ServiceInfo).extensions))}`,
    headers: { ...AUTH, "apollo-require-preflight": "true" },
    thin: false,
    status: 200,
  },
  {
    name: "a POST to /graphql with a query string",
    path: "/graphql?x=1",
    headers: { ...JSON_TYPE, ...AUTH },
    body: SERVICE_INFO,
    thin: false,
    status: 200,
  },
  {
    name: "a POST from an allowed browser origin",
    headers: { ...JSON_TYPE, ...AUTH, origin: ALLOWED_ORIGIN },
    body: SERVICE_INFO,
    thin: true,
    status: 200,
    allowOrigin: ALLOWED_ORIGIN,
  },
  {
    name: "a POST from a refused browser origin, twice (one warning)",
    headers: { ...JSON_TYPE, ...AUTH, origin: "https://elsewhere.example" },
    body: SERVICE_INFO,
    thin: true,
    status: 200,
    warns: true,
    times: 2,
  },
  {
    name: "a POST from a loopback origin (refused in production)",
    headers: { ...JSON_TYPE, ...AUTH, origin: "http://localhost:5173" },
    body: SERVICE_INFO,
    thin: true,
    status: 200,
    warns: true,
  },
  {
    name: "a POST with Origin: null",
    headers: { ...JSON_TYPE, ...AUTH, origin: "null" },
    body: SERVICE_INFO,
    thin: true,
    status: 200,
    warns: true,
  },
  {
    name: "a same-origin POST",
    headers: { ...JSON_TYPE, ...AUTH },
    sameOrigin: "http",
    body: SERVICE_INFO,
    thin: true,
    status: 200,
  },
  {
    name: "an https same origin claimed by X-Forwarded-Proto from a peer that is no trusted proxy",
    headers: { ...JSON_TYPE, ...AUTH, "x-forwarded-proto": "https" },
    sameOrigin: "https",
    body: SERVICE_INFO,
    thin: true,
    status: 200,
    warns: true,
  },
  {
    name: "a trusted mutation from an allowed origin",
    headers: { ...JSON_TYPE, ...AUTH, origin: ALLOWED_ORIGIN },
    body: JSON.stringify({ ...byId(trustedDocumentIds.GenerateCibilOtp), variables: cibilInput() }),
    thin: true,
    status: 200,
    allowOrigin: ALLOWED_ORIGIN,
  },
  {
    name: "an allowed origin without credentials (the 401 carries the CORS headers: a page can read it)",
    headers: { ...JSON_TYPE, origin: ALLOWED_ORIGIN },
    body: SERVICE_INFO,
    thin: true,
    status: 401,
    code: "UNAUTHENTICATED",
    allowOrigin: ALLOWED_ORIGIN,
  },
  {
    name: "a refused origin with a wrong API key (the refused origin is logged before authentication)",
    headers: { ...JSON_TYPE, "x-api-key": `${TEST_API_KEY.slice(0, -1)}X`, origin: "https://unauthenticated.example" },
    body: SERVICE_INFO,
    thin: true,
    status: 401,
    code: "UNAUTHENTICATED",
    warns: true,
  },
  {
    name: "an allowed origin with invalid JSON",
    headers: { ...JSON_TYPE, ...AUTH, origin: ALLOWED_ORIGIN },
    body: '{"query":',
    thin: true,
    status: 400,
    code: "BAD_REQUEST",
    allowOrigin: ALLOWED_ORIGIN,
  },
  {
    name: "a refused origin with a body over BODY_LIMIT_BYTES",
    headers: { ...JSON_TYPE, ...AUTH, origin: "https://large.example" },
    body: JSON.stringify({ query: "x".repeat(5000) }),
    thin: true,
    status: 413,
    code: "BAD_REQUEST",
    warns: true,
  },
  {
    name: "an allowed origin with an untrusted document",
    headers: { ...JSON_TYPE, ...AUTH, origin: ALLOWED_ORIGIN },
    body: '{"query":"{ __typename }"}',
    thin: true,
    status: 400,
    code: "UNTRUSTED_DOCUMENT",
    allowOrigin: ALLOWED_ORIGIN,
  },
  {
    name: "an allowed origin with a text/plain body",
    headers: { "content-type": "text/plain", ...AUTH, origin: ALLOWED_ORIGIN },
    body: SERVICE_INFO,
    thin: false,
    status: 400,
    allowOrigin: ALLOWED_ORIGIN,
  },
  {
    name: "a GET from an allowed origin",
    method: "GET",
    path: `/graphql?extensions=${encodeURIComponent(JSON.stringify(byId(trustedDocumentIds.ServiceInfo).extensions))}`,
    headers: { ...AUTH, "apollo-require-preflight": "true", origin: ALLOWED_ORIGIN },
    thin: false,
    status: 200,
    allowOrigin: ALLOWED_ORIGIN,
  },
  {
    name: "a CORS preflight from an allowed origin",
    method: "OPTIONS",
    headers: { origin: ALLOWED_ORIGIN, "access-control-request-method": "POST" },
    thin: false,
    status: 204,
    allowOrigin: ALLOWED_ORIGIN,
  },
  {
    name: "a CORS preflight from a refused origin",
    method: "OPTIONS",
    headers: { origin: "https://preflight.example", "access-control-request-method": "POST" },
    thin: false,
    // 403 ORIGIN_NOT_ALLOWED (it was 404: docs/security.md "The HTTP boundary").
    status: 403,
    warns: true,
  },
];

/**
 * Development: any loopback origin is allowed besides CORS_ORIGINS (its default when unset); a same-origin request
 * on loopback is one of them.
 */
const QUERY = JSON.stringify({ query: "{ serviceInfo { upstream } }" });
const DEVELOPMENT_CASES: Case[] = [
  {
    name: "a loopback origin",
    headers: { ...JSON_TYPE, origin: "http://localhost:3000" },
    body: QUERY,
    thin: true,
    status: 200,
    allowOrigin: "http://localhost:3000",
  },
  {
    name: "an IPv6 loopback origin",
    headers: { ...JSON_TYPE, origin: "http://[::1]:8080" },
    body: QUERY,
    thin: true,
    status: 200,
    allowOrigin: "http://[::1]:8080",
  },
  {
    name: "an https loopback origin (not on the list)",
    headers: { ...JSON_TYPE, origin: "https://localhost:3000" },
    body: QUERY,
    thin: true,
    status: 200,
    warns: true,
  },
  {
    name: "a loopback origin with invalid JSON",
    headers: { ...JSON_TYPE, origin: "http://127.0.0.1:5173" },
    body: "{",
    thin: true,
    status: 400,
    code: "BAD_REQUEST",
    allowOrigin: "http://127.0.0.1:5173",
  },
];

/** Production with CORS_ORIGINS empty, behind a trusted proxy (the test's own address): every foreign origin refused. */
const NO_ORIGINS_CASES: Case[] = [
  {
    name: "the origin another deployment allows",
    headers: { ...JSON_TYPE, ...AUTH, origin: ALLOWED_ORIGIN },
    body: SERVICE_INFO,
    thin: true,
    status: 200,
    warns: true,
  },
  {
    name: "a loopback origin",
    headers: { ...JSON_TYPE, ...AUTH, origin: "http://localhost:5173" },
    body: SERVICE_INFO,
    thin: true,
    status: 200,
    warns: true,
  },
  {
    name: "an https same origin, X-Forwarded-Proto from the trusted proxy",
    headers: { ...JSON_TYPE, ...AUTH, "x-forwarded-proto": "https" },
    sameOrigin: "https",
    body: SERVICE_INFO,
    thin: true,
    status: 200,
  },
  {
    name: "an https same origin, the last of two X-Forwarded-Proto entries",
    headers: { ...JSON_TYPE, ...AUTH, "x-forwarded-proto": "http, https" },
    sameOrigin: "https",
    body: SERVICE_INFO,
    thin: true,
    status: 200,
  },
  {
    name: "an http origin on the server's host when the proxy says https (not the same origin)",
    headers: { ...JSON_TYPE, ...AUTH, "x-forwarded-proto": "https" },
    sameOrigin: "http",
    body: SERVICE_INFO,
    thin: true,
    status: 200,
    warns: true,
  },
];

/** Headers whose values are the clock's or the connection's, not the answer's. */
const VOLATILE = new Set(["date", "keep-alive"]);

/** A request id the server adopts as it is (a UUID without a run of ten digits), different for each request. */
let sequence = 0;
const nextRequestId = () => `abcdefab-cdef-4abc-8def-${(++sequence).toString(16).padStart(12, "a")}`;

/** The stack's Host header, as undici sends it (127.0.0.1:<port>). */
const hostOf = (stack: TestStack) => new URL(stack.baseUrl).host;

/** The Origin a case sends to `stack` (a same-origin case: that stack's own). */
const originOf = (stack: TestStack, c: Case) =>
  c.sameOrigin ? `${c.sameOrigin}://${hostOf(stack)}` : c.headers?.origin;

/**
 * A case's answer, with the request id the server made (its own for every request: http/request-id.ts) as `<id>` in
 * the header and the body, so that the two layers' answers compare; the id itself is `id`, not enumerable.
 */
async function send(stack: TestStack, c: Case, requestId: string) {
  const origin = originOf(stack, c);
  const res = await request(`${stack.baseUrl}${c.path ?? "/graphql"}`, {
    method: c.method ?? "POST",
    headers: { ...c.headers, ...(origin === undefined ? {} : { origin }), "x-request-id": requestId },
    body: typeof c.body === "function" ? Readable.from(c.body()) : c.body,
  });
  const id = res.headers["x-request-id"] as string;
  expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect(id).not.toBe(requestId);
  const text = (await res.body.text()).replaceAll(id, "<id>");
  const headers: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(res.headers))
    if (!VOLATILE.has(name)) headers[name] = name === "x-request-id" ? "<id>" : value;
  return Object.defineProperty({ status: res.statusCode, headers, text }, "id", { value: id, enumerable: false }) as {
    status: number;
    headers: Record<string, unknown>;
    text: string;
    readonly id: string;
  };
}

/**
 * The access line of the request that sent `requestId` (its callerRequestId; written when the response finished:
 * polled for a moment), without the server's own id, which differs from layer to layer.
 */
async function accessLine(stack: TestStack, requestId: string) {
  for (let i = 0; i < 50; i++) {
    const line = stack.logs
      .records()
      .find((r) => r.callerRequestId === requestId && (r.msg === "request completed" || r.msg === "request errored"));
    if (line) {
      const { time: _time, ms, pid: _pid, hostname: _hostname, upstream, upstreamMs, requestId: _id, ...rest } = line;
      // Durations differ between two runs; their presence and the calls' outcomes must not.
      return {
        ...rest,
        ms: typeof ms,
        upstreamMs: typeof upstreamMs,
        upstream: (upstream as Array<Record<string, unknown>> | undefined)?.map(({ durationMs, ...call }) => ({
          ...call,
          durationMs: typeof durationMs,
        })),
      };
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no access line for ${requestId}`);
}

/**
 * The "refused origin" warnings logged so far, as written but for the time, the pid and the host name, and with the
 * stack's own host (its port differs from the other stack's) written as <host>.
 */
function corsWarnings(stack: TestStack) {
  const host = hostOf(stack);
  return stack.logs
    .records()
    .filter((r) => typeof r.msg === "string" && r.msg.startsWith("CORS: refused"))
    .map(({ time: _time, pid: _pid, hostname: _hostname, ...rest }) =>
      JSON.parse(JSON.stringify(rest).replaceAll(host, "<host>")),
    );
}

type Pair = { thin: TestStack; viaFastify: TestStack };

/**
 * Two stacks, identical but for the thin route, started by `start`, are sent each case; their answers, access lines
 * and CORS warnings are compared. `more` adds tests on the same pair.
 */
function compareLayers(
  title: string,
  start: (thinGraphQLRoute: boolean) => Promise<TestStack>,
  cases: Case[],
  more?: (pair: () => Pair) => void,
) {
  describe(title, () => {
    let pair: Pair;
    beforeAll(async () => {
      const [thin, viaFastify] = await Promise.all([start(true), start(false)]);
      pair = { thin, viaFastify };
    });
    afterAll(async () => {
      await Promise.all([pair?.thin.stop(), pair?.viaFastify.stop()]);
    });

    it.each(cases.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
      const { thin: thinStack, viaFastify: fastifyStack } = pair;
      for (let time = 0; time < (c.times ?? 1); time++) {
        const requestId = nextRequestId();
        const servedBefore = thinStack.stack.app.thinGraphQLServed;
        const thin = await send(thinStack, c, requestId);
        const viaFastify = await send(fastifyStack, c, requestId);

        expect(thin.status).toBe(c.status);
        expect(thinStack.stack.app.thinGraphQLServed - servedBefore).toBe(c.thin ? 1 : 0);
        expect(fastifyStack.stack.app.thinGraphQLServed).toBe(0);
        expect(thin.headers["x-request-id"]).toBe("<id>");
        expect(thin.headers["access-control-allow-origin"]).toBe(c.allowOrigin);
        if (c.code)
          expect(
            (JSON.parse(thin.text) as { errors: Array<{ extensions: unknown }> }).errors[0].extensions,
          ).toMatchObject({ code: c.code, requestId: "<id>" });

        expect(thin).toEqual(viaFastify);
        // In the same order, too (toEqual ignores it).
        expect(Object.keys(thin.headers)).toEqual(Object.keys(viaFastify.headers));
        expect(await accessLine(thinStack, requestId)).toEqual(await accessLine(fastifyStack, requestId));
      }
      // The warning is written before the answer: no wait needed.
      const warnings = corsWarnings(thinStack);
      expect(warnings).toEqual(corsWarnings(fastifyStack));
      const origin = originOf(thinStack, c);
      if (origin !== undefined) {
        const logged = origin.replaceAll(hostOf(thinStack), "<host>");
        expect(warnings.filter((w) => w.origin === logged)).toHaveLength(c.warns ? 1 : 0);
      }
    });

    more?.(() => pair);
  });
}

compareLayers(
  "the thin GraphQL route answers as Fastify's route does",
  (thinGraphQLRoute) => startProductionStack(ENV, { thinGraphQLRoute }),
  CASES,
  (pair) => {
    it("logs no callerRequestId for a malformed request id; the access line has the server's own id", async () => {
      const { thin: thinStack, viaFastify: fastifyStack } = pair();
      const c = CASES[3]; // the untrusted document: an error body carries the id
      for (const stack of [thinStack, fastifyStack]) {
        const answer = await send(stack, c, "not-a-uuid");
        expect(answer.text).toContain("<id>");
        await new Promise((r) => setTimeout(r, 50));
        const line = stack.logs.records().find((r) => r.requestId === answer.id && r.msg === "request completed");
        expect(line).toMatchObject({ status: 400, path: "/graphql", clientId: "test-client" });
        expect(line).not.toHaveProperty("callerRequestId");
      }
    });

    // One memory of refused origins for both layers (cors.ts createCors): a browser's preflight goes to Fastify, its
    // POST to the thin route.
    it("logs a refused origin once across both layers: a preflight (Fastify) then its POST (the thin route)", async () => {
      const { thin: thinStack } = pair();
      const origin = "https://preflight-then-post.example";
      const preflight: Case = {
        name: "preflight",
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST" },
        thin: false,
        status: 403,
      };
      const post: Case = {
        name: "post",
        headers: { ...JSON_TYPE, ...AUTH, origin },
        body: SERVICE_INFO,
        thin: true,
        status: 200,
      };
      const servedBefore = thinStack.stack.app.thinGraphQLServed;
      expect((await send(thinStack, preflight, nextRequestId())).status).toBe(403);
      expect((await send(thinStack, post, nextRequestId())).status).toBe(200);
      expect(thinStack.stack.app.thinGraphQLServed - servedBefore).toBe(1);
      expect(corsWarnings(thinStack).filter((w) => w.origin === origin)).toHaveLength(1);
    });
  },
);

compareLayers(
  "in development, the thin GraphQL route answers browser requests as Fastify's route does",
  (thinGraphQLRoute) => startTestStack({ NODE_ENV: "development" }, { thinGraphQLRoute }),
  DEVELOPMENT_CASES,
);

compareLayers(
  "in production with CORS_ORIGINS empty behind a trusted proxy, the thin GraphQL route answers as Fastify's route does",
  (thinGraphQLRoute) =>
    startProductionStack({ ...ENV, CORS_ORIGINS: "", TRUSTED_PROXIES: "127.0.0.1" }, { thinGraphQLRoute }),
  NO_ORIGINS_CASES,
);
