import type { IncomingMessage, ServerResponse } from "node:http";
import { type AddressInfo, createServer } from "node:net";
import inject from "light-my-request";
import { EDGE_REFUSALS } from "../../src/http/error-body";
import { holdingUpstream, until } from "../helpers/holding-upstream";
import { aepsInput, RESEND_AEPS_OTP } from "../helpers/operations";
import { type Answer, parseResponse, rawClient, send, sendRaw } from "../helpers/raw-http";
import {
  PRODUCTION_SECURITY,
  startProductionStack,
  startStackOnFakeUpstream,
  startTestStack,
  type StackOnFakeUpstream,
  TEST_API_KEY,
  TEST_API_KEYS_ENTRY,
  type TestStack,
} from "../helpers/stack";

/**
 * Every refusal before GraphQL, sent for real on both HTTP layers (the thin route and Fastify's), against the reviewed
 * text of its message (REVIEWED): a (status, code) of EDGE_REFUSALS without a case here, or a message that is not the
 * reviewed one, fails, so that none appears unreviewed. Each answer: its status and code, its message the same on
 * both layers, a wait (Retry-After, `retryAfterSeconds`) exactly when its message says to wait it, and nothing that
 * names a library, a version or a stack frame, or repeats what the client sent (its key, a mobile number).
 */

const ORIGIN = "https://app.example.test";
const MOBILE = "9876543210";
const BODY_LIMIT = 2048;
const QUERY = JSON.stringify({ query: "{ serviceInfo { upstream } }" });
const POST = `POST /graphql HTTP/1.1\r\nHost: x\r\nx-api-key: ${TEST_API_KEY}`;
const json = { "content-type": "application/json" };
const key = { "x-api-key": TEST_API_KEY };

interface Stacks {
  /** Production, on a scripted upstream that holds its answers when told (ADMISSION_MAX_IN_FLIGHT=1). */
  main: StackOnFakeUpstream & { stop(): Promise<void> };
  /** Production, TRUSTED_DOCUMENTS=enforce. */
  enforced: TestStack;
  /** Bearer tokens checked against a key set whose URL answers nothing (development: production wants https). */
  jwks: TestStack;
}

const AFTER_RETRY_AFTER = "after Retry-After seconds";
const CSRF =
  "This operation has been blocked as a potential Cross-Site Request Forgery (CSRF): send Content-Type: " +
  "application/json, or a non-empty apollo-require-preflight header.";
const UNSUPPORTED_TYPE = "Unsupported Content-Type: send application/json.";
const BODY_SHAPE = 'send a JSON object such as {"query": "{ serviceInfo { upstream } }", "variables": {}}.';
const TIMED_OUT =
  "Request timed out: its headers or body did not arrive in time. Nothing was done; send it again after Retry-After " +
  "seconds.";

/**
 * The reviewed answer of each case: status, code, message. Each message read for what it claims: that it holds for
 * every request answered so, says what to change (or to wait Retry-After, where one is sent), and names nothing of
 * ours (a library, a version) nor anything the client sent. Apollo's own texts (CSRF prevention, batching, a mutation
 * over GET) are kept as Apollo words them, our request id added (exchange.ts payloadWithRequestId); the CSRF one names
 * the header the client must send, apollo-require-preflight.
 */
const REVIEWED: Record<string, readonly [status: number, code: string, message: string]> = {
  "invalid JSON": [400, "BAD_REQUEST", `Request body is not valid JSON: ${BODY_SHAPE}`],
  "empty body": [400, "BAD_REQUEST", `Request body is empty: ${BODY_SHAPE}`],
  "two Content-Lengths (Node's parser)": [400, "BAD_REQUEST", "Bad request."],
  "body too large": [413, "BAD_REQUEST", "Request body is too large."],
  "no Content-Type": [415, "BAD_REQUEST", UNSUPPORTED_TYPE],
  "Content-Type not JSON": [415, "BAD_REQUEST", UNSUPPORTED_TYPE],
  "two Content-Types": [400, "BAD_REQUEST", "Send one Content-Type header."],
  "a compressed body": [415, "BAD_REQUEST", "Content-Encoding is not supported: send the body uncompressed."],
  "a charset other than UTF-8": [
    415,
    "BAD_REQUEST",
    "Unsupported charset: send the JSON body in UTF-8 (charset=utf-8).",
  ],
  "a simple request (CSRF)": [400, "BAD_REQUEST", CSRF],
  "a GET without a preflight header (CSRF)": [400, "BAD_REQUEST", CSRF],
  "a batch": [400, "BAD_REQUEST", "Operation batching disabled."],
  "a query over GRAPHQL_MAX_QUERY_CHARS": [400, "BAD_REQUEST", "Query is too large."],
  "a malformed URL": [400, "BAD_REQUEST", "Bad request."],
  "HTTP/1.1 without Host": [400, "BAD_REQUEST", "Bad request: an HTTP/1.1 request must carry a Host header."],
  "a malformed request (Node's parser)": [400, "BAD_REQUEST", "Bad request."],
  "no credential": [401, "UNAUTHENTICATED", "Authentication required: send a valid API key in the x-api-key header."],
  "a wrong API key": [401, "UNAUTHENTICATED", "Authentication required: send a valid API key in the x-api-key header."],
  "a preflight from a refused origin": [403, "ORIGIN_NOT_ALLOWED", "This browser origin may not call this API."],
  "an unknown path": [404, "NOT_FOUND", "Not found: this server answers GraphQL at /graphql."],
  "a method the path does not take": [405, "BAD_REQUEST", "Method not allowed: this path takes GET, POST, OPTIONS."],
  "a mutation over GET": [405, "BAD_REQUEST", "GET requests only support query operations: send mutations with POST."],
  "an Accept that takes no GraphQL type": [
    406,
    "BAD_REQUEST",
    "Not acceptable: GraphQL answers are application/graphql-response+json or application/json; send an Accept that " +
      "takes one of them, or none.",
  ],
  "an Expect other than 100-continue": [
    417,
    "BAD_REQUEST",
    "Expectation not supported: send no Expect header, or 100-continue.",
  ],
  "headers too large": [431, "HEADERS_TOO_LARGE", "Request headers are too large."],
  "headers that do not arrive in time": [408, "REQUEST_TIMEOUT", TIMED_OUT],
  "a body that does not arrive in time": [408, "REQUEST_TIMEOUT", TIMED_OUT],
  "an untrusted document": [
    400,
    "UNTRUSTED_DOCUMENT",
    "This server runs only its trusted documents: send an operation exactly as the generated client does, or its id " +
      "in extensions.persistedQuery.sha256Hash.",
  ],
  "a bearer token while the key set cannot be had": [
    503,
    "AUTH_UNAVAILABLE",
    "The bearer token could not be checked: the identity provider cannot be reached. Try again after Retry-After " +
      "seconds. Nothing was done.",
  ],
  "every place taken (OVERLOADED)": [
    503,
    "OVERLOADED",
    "The server is overloaded: try again after Retry-After seconds. Nothing was done.",
  ],
  "a request while the server drains": [
    503,
    "SERVICE_UNAVAILABLE",
    "The server is shutting down: send the request again after Retry-After seconds (another instance may answer " +
      "it). Nothing was done.",
  ],
};

/** Words that name a library, a runtime or a version, or a stack frame: none belongs in an answer. */
const INTERNALS =
  /fastify|undici|node\.js|express|graphql-js|FST_|ERR_[A-Z]|\bat [\w.<>]+ \(|\.[jt]s:\d|\d+\.\d+\.\d+/i;

/** What each case sent, by layer: filled by the cases, compared at the end. */
const seen = new Map<string, Map<string, Answer>>();

function record(layer: string, name: string, answer: Answer): void {
  if (!seen.has(name)) seen.set(name, new Map());
  seen.get(name)!.set(layer, answer);
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
/** A well-formed bearer token naming a kid; its signature is no one's (never checked: the key set cannot be had). */
const TOKEN = `${b64({ alg: "RS256", typ: "at+jwt", kid: "k1" })}.${b64({ iss: "https://idp.test", aud: "api", exp: 4e9 })}.c2ln`;

/** A send to `mobile` held by the main stack's upstream: it holds the one admission place until released. */
async function holdOneSend(s: Stacks, mobile: string) {
  const hold = holdingUpstream(s.main.upstream);
  s.main.upstream.calls.length = 0;
  const held = send(s.main.t.graphqlUrl, {
    method: "POST",
    headers: { ...json, ...key },
    body: JSON.stringify({ query: RESEND_AEPS_OTP, variables: aepsInput(mobile) }),
  });
  await until("the send to reach the upstream", () => s.main.upstream.calls.length === 1);
  return { hold, held };
}

const CASES: Array<[name: string, go: (s: Stacks) => Promise<Answer>]> = [
  [
    "invalid JSON",
    (s) => send(s.main.t.graphqlUrl, { method: "POST", headers: { ...json, ...key }, body: `{"query": "${MOBILE}` }),
  ],
  ["empty body", (s) => send(s.main.t.graphqlUrl, { method: "POST", headers: { ...json, ...key }, body: "" })],
  // sendRaw adds its own Content-Length: two that disagree.
  [
    "two Content-Lengths (Node's parser)",
    (s) => sendRaw(s.main.t.baseUrl, `${POST}\r\ncontent-type: application/json\r\ncontent-length: 3`, "{}"),
  ],
  [
    "body too large",
    (s) =>
      send(s.main.t.graphqlUrl, {
        method: "POST",
        headers: { ...json, ...key },
        body: JSON.stringify({ query: `{ __typename } #${"x".repeat(BODY_LIMIT * 2)}` }),
      }),
  ],
  ["no Content-Type", (s) => sendRaw(s.main.t.baseUrl, POST, QUERY)],
  [
    "Content-Type not JSON",
    (s) =>
      send(s.main.t.graphqlUrl, {
        method: "POST",
        headers: { ...key, "content-type": "application/xml" },
        body: "<q/>",
      }),
  ],
  [
    "two Content-Types",
    (s) => sendRaw(s.main.t.baseUrl, `${POST}\r\ncontent-type: application/json\r\ncontent-type: text/plain`, QUERY),
  ],
  [
    "a compressed body",
    (s) =>
      send(s.main.t.graphqlUrl, {
        method: "POST",
        headers: { ...json, ...key, "content-encoding": "gzip" },
        body: QUERY,
      }),
  ],
  [
    "a charset other than UTF-8",
    (s) =>
      send(s.main.t.graphqlUrl, {
        method: "POST",
        headers: { ...key, "content-type": "application/json; charset=latin1" },
        body: QUERY,
      }),
  ],
  [
    "a simple request (CSRF)",
    (s) =>
      send(s.main.t.graphqlUrl, { method: "POST", headers: { ...key, "content-type": "text/plain" }, body: QUERY }),
  ],
  [
    "a GET without a preflight header (CSRF)",
    (s) => send(`${s.main.t.graphqlUrl}?query=%7B__typename%7D`, { headers: key }),
  ],
  [
    "a batch",
    (s) => send(s.main.t.graphqlUrl, { method: "POST", headers: { ...json, ...key }, body: `[${QUERY},${QUERY}]` }),
  ],
  [
    "a query over GRAPHQL_MAX_QUERY_CHARS",
    (s) =>
      send(s.main.t.graphqlUrl, {
        method: "POST",
        headers: { ...json, ...key },
        body: JSON.stringify({ query: `{ __typename } #${"x".repeat(1900)}` }),
      }),
  ],
  [
    "a malformed URL",
    (s) => sendRaw(s.main.t.baseUrl, `GET /graphql%zz${MOBILE} HTTP/1.1\r\nHost: x\r\nx-api-key: ${TEST_API_KEY}`),
  ],
  [
    "HTTP/1.1 without Host",
    (s) =>
      sendRaw(
        s.main.t.baseUrl,
        `POST /graphql HTTP/1.1\r\nx-api-key: ${TEST_API_KEY}\r\ncontent-type: application/json`,
        QUERY,
      ),
  ],
  [
    "a malformed request (Node's parser)",
    (s) =>
      sendRaw(
        s.main.t.baseUrl,
        `POST /graphql HTTP/1.1\r\nHost: x\r\ncontent-length: 5\r\ntransfer-encoding: chunked`,
        "0\r\n\r\n",
      ),
  ],
  ["no credential", (s) => send(s.main.t.graphqlUrl, { method: "POST", headers: json, body: QUERY })],
  [
    "a wrong API key",
    (s) =>
      send(s.main.t.graphqlUrl, {
        method: "POST",
        headers: { ...json, "x-api-key": `aopk_wrong_${MOBILE}` },
        body: QUERY,
      }),
  ],
  [
    "a preflight from a refused origin",
    (s) =>
      send(s.main.t.graphqlUrl, {
        method: "OPTIONS",
        headers: { origin: "https://evil.example.test", "access-control-request-method": "POST" },
      }),
  ],
  ["an unknown path", (s) => send(`${s.main.t.baseUrl}/nothing/${MOBILE}`, { headers: key })],
  [
    "a method the path does not take",
    (s) => send(s.main.t.graphqlUrl, { method: "PUT", headers: { ...json, ...key }, body: QUERY }),
  ],
  [
    "a mutation over GET",
    (s) =>
      send(`${s.main.t.graphqlUrl}?query=${encodeURIComponent("mutation { __typename }")}`, {
        headers: { ...key, "apollo-require-preflight": "1" },
      }),
  ],
  [
    "an Accept that takes no GraphQL type",
    (s) =>
      send(s.main.t.graphqlUrl, { method: "POST", headers: { ...json, ...key, accept: "text/html" }, body: QUERY }),
  ],
  [
    "an Expect other than 100-continue",
    (s) => sendRaw(s.main.t.baseUrl, `${POST}\r\ncontent-type: application/json\r\nexpect: ${MOBILE}`, QUERY),
  ],
  [
    "headers too large",
    (s) => sendRaw(s.main.t.baseUrl, `POST /graphql HTTP/1.1\r\nHost: x\r\nx-pad: ${MOBILE.repeat(4000)}`),
  ],
  [
    "headers that do not arrive in time",
    async (s) => {
      const c = await rawClient(s.main.t.baseUrl);
      c.socket.write(`POST /graphql HTTP/1.1\r\nHost: x\r\n`);
      await c.closed;
      const res = parseResponse(c.received());
      return { status: res.status, headers: res.headers, text: res.body };
    },
  ],
  [
    "a body that does not arrive in time",
    async (s) => {
      const c = await rawClient(s.main.t.baseUrl);
      c.socket.write(`${POST}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"query":`);
      await c.closed;
      const res = parseResponse(c.received());
      return { status: res.status, headers: res.headers, text: res.body };
    },
  ],
  [
    "an untrusted document",
    (s) =>
      send(s.enforced.graphqlUrl, {
        method: "POST",
        headers: { ...json, ...key },
        body: JSON.stringify({ query: "{ __typename }" }),
      }),
  ],
  [
    "a bearer token while the key set cannot be had",
    (s) =>
      send(s.jwks.graphqlUrl, { method: "POST", headers: { ...json, authorization: `Bearer ${TOKEN}` }, body: QUERY }),
  ],
  [
    "every place taken (OVERLOADED)",
    async (s) => {
      const { hold, held } = await holdOneSend(s, "9876543211");
      try {
        return await send(s.main.t.graphqlUrl, { method: "POST", headers: { ...json, ...key }, body: QUERY });
      } finally {
        hold.release();
        await held;
      }
    },
  ],
  // Last: it stops the main stack. A drain closes every connection as its answer ends, so a request reaches a draining
  // server only as it arrives: handed to the server's request listener in process (light-my-request), as
  // test/e2e/shutdown.test.ts does.
  [
    "a request while the server drains",
    async (s) => {
      const { hold, held } = await holdOneSend(s, "9876543212");
      const stopped = s.main.t.stop();
      try {
        await new Promise((r) => setTimeout(r, 100));
        const [listener] = s.main.t.stack.app.fastify.server.listeners("request") as Array<
          (req: IncomingMessage, res: ServerResponse) => void
        >;
        const late = await inject(
          (req: IncomingMessage, res: ServerResponse) => {
            Object.assign(req.socket, { setTimeout: () => req.socket });
            listener(req, res);
          },
          { method: "POST", url: "/graphql", headers: { ...json, ...key }, payload: QUERY },
        );
        const headers = Object.fromEntries(
          Object.entries(late.headers).map(([k, v]) => [k, v === undefined ? v : String(v)]),
        );
        return { status: late.statusCode, headers, text: late.payload };
      } finally {
        hold.release();
        await held;
        await stopped;
      }
    },
  ],
];

describe.each([
  ["the thin route", true],
  ["Fastify's route", false],
])("every refusal before GraphQL, sent for real: %s", (layer, thinGraphQLRoute) => {
  const s = {} as Stacks;
  beforeAll(async () => {
    const production = { NODE_ENV: "production", ...PRODUCTION_SECURITY };
    s.main = await startStackOnFakeUpstream({
      env: {
        ...production,
        CORS_ORIGINS: ORIGIN,
        BODY_LIMIT_BYTES: String(BODY_LIMIT),
        GRAPHQL_MAX_QUERY_CHARS: "1000",
        HEADERS_TIMEOUT_MS: "500",
        REQUEST_TIMEOUT_MS: "1000",
        ADMISSION_MAX_IN_FLIGHT: "1",
      },
      stackOptions: { thinGraphQLRoute },
    });
    s.enforced = await startProductionStack({ TRUSTED_DOCUMENTS: "enforce" }, { thinGraphQLRoute });
    s.jwks = await startTestStack(
      {
        NODE_ENV: "development",
        AUTH_REQUIRED: "true",
        API_KEYS: TEST_API_KEYS_ENTRY,
        AUTH_JWKS_URL: `http://127.0.0.1:${await closedPort()}/jwks.json`,
        AUTH_JWT_ISSUER: "https://idp.test",
        AUTH_JWT_AUDIENCE: "api",
      },
      { thinGraphQLRoute },
    );
  });
  afterAll(async () => {
    // The main stack stopped in the last case (a second stop is a no-op).
    await s.main?.stop();
    await s.enforced?.stop();
    await s.jwks?.stop();
  });

  it.each(CASES)("%s", async (name, go) => {
    const answer = await go(s);
    record(layer, name, answer);
    const body = JSON.parse(answer.text) as {
      data?: unknown;
      errors: Array<{ message: string; extensions: Record<string, unknown> }>;
    };
    const retryAfter = answer.headers["retry-after"];
    const [error] = body.errors;
    expect({
      status: answer.status,
      hasData: "data" in body,
      errors: body.errors.length,
      code: error.extensions.code,
      message: error.message,
      requestId: error.extensions.requestId,
    }).toEqual({
      status: REVIEWED[name]?.[0],
      hasData: false,
      errors: 1,
      code: REVIEWED[name]?.[1],
      message: REVIEWED[name]?.[2],
      requestId: answer.headers["x-request-id"],
    });
    // A wait is sent in both places or neither, and the message tells to wait it exactly when one is sent.
    expect({
      header: retryAfter === undefined ? undefined : Number(retryAfter),
      saysToWait: error.message.includes(AFTER_RETRY_AFTER),
    }).toEqual({
      header: error.extensions.retryAfterSeconds,
      saysToWait: retryAfter !== undefined,
    });
    // Nothing of ours, nothing of the client's.
    expect(answer.text).not.toMatch(INTERNALS);
    expect(answer.text.replace("apollo-require-preflight", "")).not.toMatch(/apollo/i);
    expect(answer.text).not.toContain(MOBILE);
    expect(answer.text).not.toContain("aopk_");
    expect(answer.headers["x-powered-by"]).toBeUndefined();
    expect(answer.headers.server).toBeUndefined();
  });
});

describe("the catalogue", () => {
  it("every case has its reviewed answer, and every reviewed answer a case", () => {
    expect(Object.keys(REVIEWED).sort()).toEqual(CASES.map(([name]) => name).sort());
  });

  it("every (status, code) a refusal is counted under is sent here, and nothing else", () => {
    // Admission's OVERLOADED is counted as shed (graphql_requests_shed_total), not as refused.
    const pairs = new Set(
      Object.values(REVIEWED)
        .map(([status, code]) => `${status} ${code}`)
        .filter((pair) => pair !== "503 OVERLOADED"),
    );
    expect([...pairs].sort()).toEqual(EDGE_REFUSALS.map(([status, code]) => `${status} ${code}`).sort());
  });

  it("each refusal says the same on both HTTP layers", () => {
    for (const [name, layers] of seen) {
      const [thin, fastify] = ["the thin route", "Fastify's route"].map((layer) => {
        const answer = layers.get(layer);
        if (answer === undefined) return undefined;
        const { errors } = JSON.parse(answer.text) as { errors: Array<{ message: string; extensions: object }> };
        const { requestId: _id, ...extensions } = errors[0].extensions as Record<string, unknown>;
        return {
          status: answer.status,
          message: errors[0].message,
          extensions,
          retryAfter: answer.headers["retry-after"],
        };
      });
      expect({ name, answer: thin }).toEqual({ name, answer: fastify });
    }
  });
});
