import { Readable } from "node:stream";
import { request } from "undici";
import { trustedDocumentIds } from "../../client/src/generated/trusted-documents";
import { cibilInput } from "../helpers/operations";
import { type ProductionTestStack, startProductionStack, TEST_API_KEY } from "../helpers/stack";

/**
 * The thin node:http GraphQL route (src/http/thin-graphql.ts) against Fastify's route for the same requests: two
 * production stacks, identical but for `thinGraphQLRoute`, are sent each request of a matrix of unusual ones, over
 * real HTTP on loopback. Their answers must be byte for byte the same (status, headers but the date and keep-alive
 * timer, body), so must their access lines, and the thin stack must have served exactly the requests it is meant to.
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
    thin: false,
    status: 200,
  },
  {
    name: "a POST from a refused browser origin",
    headers: { ...JSON_TYPE, ...AUTH, origin: "https://elsewhere.example" },
    body: SERVICE_INFO,
    thin: false,
    status: 200,
  },
  {
    name: "a CORS preflight from an allowed origin",
    method: "OPTIONS",
    headers: { origin: ALLOWED_ORIGIN, "access-control-request-method": "POST" },
    thin: false,
    status: 204,
  },
  {
    name: "a CORS preflight from a refused origin",
    method: "OPTIONS",
    headers: { origin: "https://elsewhere.example", "access-control-request-method": "POST" },
    thin: false,
    status: 404,
  },
];

/** Headers whose values are the clock's or the connection's, not the answer's. */
const VOLATILE = new Set(["date", "keep-alive"]);

let thinStack: ProductionTestStack;
let fastifyStack: ProductionTestStack;
beforeAll(async () => {
  [thinStack, fastifyStack] = await Promise.all([
    startProductionStack(ENV),
    startProductionStack(ENV, { thinGraphQLRoute: false }),
  ]);
});
afterAll(async () => {
  await Promise.all([thinStack?.stop(), fastifyStack?.stop()]);
});

/** A request id the server adopts as it is (a UUID without a run of ten digits), different for each request. */
let sequence = 0;
const nextRequestId = () => `abcdefab-cdef-4abc-8def-${(++sequence).toString(16).padStart(12, "a")}`;

async function send(stack: ProductionTestStack, c: Case, requestId: string) {
  const res = await request(`${stack.baseUrl}${c.path ?? "/graphql"}`, {
    method: c.method ?? "POST",
    headers: { ...c.headers, "x-request-id": requestId },
    body: typeof c.body === "function" ? Readable.from(c.body()) : c.body,
  });
  const text = await res.body.text();
  const headers: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(res.headers)) if (!VOLATILE.has(name)) headers[name] = value;
  return { status: res.statusCode, headers, text };
}

/** The access line of `requestId` (written when the response finished: polled for a moment). */
async function accessLine(stack: ProductionTestStack, requestId: string) {
  for (let i = 0; i < 50; i++) {
    const line = stack.logs
      .records()
      .find((r) => r.requestId === requestId && (r.msg === "request completed" || r.msg === "request errored"));
    if (line) {
      const { time: _time, ms, pid: _pid, hostname: _hostname, upstream, upstreamMs, ...rest } = line;
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

describe("the thin GraphQL route answers as Fastify's route does", () => {
  it.each(CASES.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    const requestId = nextRequestId();
    const servedBefore = thinStack.stack.app.thinGraphQLServed;
    const thin = await send(thinStack, c, requestId);
    const viaFastify = await send(fastifyStack, c, requestId);

    expect(thin.status).toBe(c.status);
    expect(thinStack.stack.app.thinGraphQLServed - servedBefore).toBe(c.thin ? 1 : 0);
    expect(fastifyStack.stack.app.thinGraphQLServed).toBe(0);
    expect(thin.headers["x-request-id"]).toBe(requestId);
    if (c.code)
      expect((JSON.parse(thin.text) as { errors: Array<{ extensions: unknown }> }).errors[0].extensions).toMatchObject({
        code: c.code,
        requestId,
      });

    expect(thin).toEqual(viaFastify);
    expect(await accessLine(thinStack, requestId)).toEqual(await accessLine(fastifyStack, requestId));
  });

  it("adopts no malformed request id, and answers with a fresh one in the header, the body and the access line", async () => {
    const c = CASES[3]; // the untrusted document: an error body carries the id
    const thin = await send(thinStack, c, "not-a-uuid");
    const id = thin.headers["x-request-id"] as string;
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const viaFastify = await send(fastifyStack, c, "not-a-uuid");
    const otherId = viaFastify.headers["x-request-id"] as string;
    expect(thin.text).toContain(id);
    expect(thin.text.replace(id, "<id>")).toBe(viaFastify.text.replace(otherId, "<id>"));
    expect(await accessLine(thinStack, id)).toMatchObject({ status: 400, path: "/graphql", clientId: "test-client" });
  });
});
