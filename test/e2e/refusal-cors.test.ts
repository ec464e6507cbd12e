import { Authenticator, hashApiKey } from "../../src/auth/authenticator";
import { SUMMARY_INTERVAL_MS } from "../../src/logging/summarised";
import { holdingUpstream, until } from "../helpers/holding-upstream";
import { aepsInput, RESEND_AEPS_OTP } from "../helpers/operations";
import { type Answer, send, sendRaw } from "../helpers/raw-http";
import { stackOnFakeUpstream, startTestStack, type TestStack } from "../helpers/stack";

/**
 * Every answer to a browser origin on the allow-list carries the CORS headers the 2xx answers carry, or the browser
 * hides it from the page ("Failed to fetch"): Access-Control-Allow-Origin (the origin), Vary naming Origin, and
 * Access-Control-Expose-Headers naming x-request-id and retry-after, so that the page reads the request id and the
 * wait. A refused origin gets none of the Access-Control headers. Each refusal and failure written before or around
 * GraphQL, on both HTTP layers (the thin route and Fastify's), provoked with real requests on loopback.
 *
 * Each also names a refused origin in the log once, as an ordinary request does (http/cors.ts warnOnce): a page on it
 * sees "Failed to fetch" whatever the status. Before, the refusals written outside Fastify's hooks (the 503 at the
 * door, the 417, Node's 431 and 400) named none. Each case gets refused origins of its own (a short one, and one over
 * the 200 characters a warning shows), so that another case's warning cannot stand for its own.
 */

const KEY_A = "aopk_tenant_a_0123456789abcdefghijklmnopqrstuvwxyzABC";
const KEY_B = "aopk_tenant_b_0123456789abcdefghijklmnopqrstuvwxyzABC";
const TWO_TENANTS = `tenant-a:${hashApiKey(KEY_A)},tenant-b:${hashApiKey(KEY_B)}`;
const ALLOWED = "https://app.example";
/** Longest origin a warning shows (http/cors.ts MAX_LOGGED_ORIGIN); a longer one is shown cut, with "…". */
const MAX_LOGGED_ORIGIN = 200;
const QUERY = JSON.stringify({ query: "{ serviceInfo { upstream } }" });
const BODY_LIMIT = 2048;
/** Armed on a request that carries this header: the authenticator's promise rejects (see the 500 case). */
const REJECT_AUTH = "x-test-reject-auth";

/** What a page's browser needs of an answer to read it, and what a refused origin must not get. */
function corsOf(res: Answer) {
  const list = (v: unknown) =>
    String(v ?? "")
      .split(",")
      .map((s) => s.trim().toLowerCase())
      .filter((s) => s !== "");
  return {
    status: res.status,
    allowOrigin: res.headers["access-control-allow-origin"],
    variesByOrigin: list(res.headers.vary).includes("origin"),
    exposesRequestId: list(res.headers["access-control-expose-headers"]).includes("x-request-id"),
    exposesRetryAfter: list(res.headers["access-control-expose-headers"]).includes("retry-after"),
  };
}

/** The origin as a warning shows it: a long one cut to MAX_LOGGED_ORIGIN characters, with "…". */
function shownAs(origin: string): string {
  return origin.length > MAX_LOGGED_ORIGIN ? `${origin.slice(0, MAX_LOGGED_ORIGIN)}…` : origin;
}

function expectCors(res: Answer, status: number, origin: string): void {
  const allowed = origin === ALLOWED;
  expect(corsOf(res)).toEqual({
    status,
    allowOrigin: allowed ? ALLOWED : undefined,
    variesByOrigin: true,
    exposesRequestId: allowed,
    exposesRetryAfter: allowed,
  });
  if (status >= 400 && res.text !== "") {
    const body = JSON.parse(res.text) as { errors: Array<{ extensions: { requestId: string } }> };
    expect(body.errors[0].extensions.requestId).toBe(res.headers["x-request-id"]);
  }
}

describe.each([
  ["the thin route", true],
  ["Fastify's route", false],
])("CORS headers on every refusal and failure: %s", (_layer, thinGraphQLRoute) => {
  let enforced: TestStack;
  const realAuthenticate = Authenticator.prototype.authenticate;
  // Each warning in an interval of its own: more refused origins are named here than the 10 per 10 s a flood gets.
  let tick = 0;
  const corsClock = () => (tick += SUMMARY_INTERVAL_MS);
  const { upstream, t } = stackOnFakeUpstream({
    env: {
      NODE_ENV: "development",
      CORS_ORIGINS: ALLOWED,
      API_KEYS: TWO_TENANTS,
      AUTH_REQUIRED: "true",
      BODY_LIMIT_BYTES: String(BODY_LIMIT),
      GRAPHQL_MAX_QUERY_CHARS: "1500",
      ADMISSION_MAX_IN_FLIGHT: "2",
      ADMISSION_MAX_IN_FLIGHT_PER_CLIENT: "1",
      ADMISSION_RETRY_AFTER_SECONDS: "7",
    },
    stackOptions: { thinGraphQLRoute, corsClock },
  });
  /** The refused-origin warnings both stacks logged so far: the origin each shows. */
  const warnings = () =>
    [t, enforced].flatMap((s) =>
      s.logs
        .records()
        .filter((r) => typeof r.msg === "string" && r.msg.startsWith("CORS: refused"))
        .map((r) => r.origin as string),
    );
  const rawLogs = () => t.logs.raw() + enforced.logs.raw();
  // A second server, on the simulator: no upstream call is scripted for it.
  beforeAll(async () => {
    enforced = await startTestStack(
      { NODE_ENV: "development", CORS_ORIGINS: ALLOWED, TRUSTED_DOCUMENTS: "enforce" },
      { thinGraphQLRoute, corsClock },
    );
    // An authenticator whose promise rejects (an identity provider's library failing in a way it does not own): the
    // request's answer is the error handler's 500. Only for requests carrying REJECT_AUTH.
    Authenticator.prototype.authenticate = function (this: Authenticator, headers) {
      if (headers[REJECT_AUTH] !== undefined) return Promise.reject(new Error("JWKS client crashed"));
      return realAuthenticate.call(this, headers);
    };
  });
  afterAll(async () => {
    Authenticator.prototype.authenticate = realAuthenticate;
    await enforced?.stop();
  });

  const a = { "x-api-key": KEY_A };
  const json = { "content-type": "application/json" };
  const cases: Array<[string, (origin: string) => Promise<Answer>, number]> = [
    [
      "200 a query (what the refusals are held to)",
      (origin) => send(t.graphqlUrl, { method: "POST", headers: { ...json, ...a, origin }, body: QUERY }),
      200,
    ],
    [
      "401 without an API key",
      (origin) => send(t.graphqlUrl, { method: "POST", headers: { ...json, origin }, body: QUERY }),
      401,
    ],
    [
      "413 a body over BODY_LIMIT_BYTES",
      (origin) =>
        send(t.graphqlUrl, {
          method: "POST",
          headers: { ...json, ...a, origin },
          body: JSON.stringify({ query: `{ __typename } #${"x".repeat(BODY_LIMIT * 2)}` }),
        }),
      413,
    ],
    [
      "400 a body that is not JSON",
      (origin) => send(t.graphqlUrl, { method: "POST", headers: { ...json, ...a, origin }, body: '{"query": ' }),
      400,
    ],
    [
      "400 a query over GRAPHQL_MAX_QUERY_CHARS",
      (origin) =>
        send(t.graphqlUrl, {
          method: "POST",
          headers: { ...json, ...a, origin },
          body: JSON.stringify({ query: `{ __typename } #${"x".repeat(1600)}` }),
        }),
      400,
    ],
    [
      "415 an unsupported content type",
      (origin) =>
        send(t.graphqlUrl, {
          method: "POST",
          headers: { ...a, origin, "content-type": "application/xml" },
          body: "<q/>",
        }),
      415,
    ],
    [
      "415 a compressed body",
      (origin) =>
        send(t.graphqlUrl, {
          method: "POST",
          headers: { ...json, ...a, origin, "content-encoding": "gzip" },
          body: QUERY,
        }),
      415,
    ],
    [
      "415 a charset other than UTF-8",
      (origin) =>
        send(t.graphqlUrl, {
          method: "POST",
          headers: { ...a, origin, "content-type": "application/json; charset=latin1" },
          body: QUERY,
        }),
      415,
    ],
    [
      "405 a method the path does not take",
      (origin) => send(t.graphqlUrl, { method: "PUT", headers: { ...json, ...a, origin }, body: QUERY }),
      405,
    ],
    [
      "405 HEAD (Apollo's own)",
      (origin) => send(t.graphqlUrl, { method: "HEAD", headers: { ...a, origin, "apollo-require-preflight": "1" } }),
      405,
    ],
    ["404 an unknown path", (origin) => send(`${t.baseUrl}/nothing`, { headers: { origin } }), 404],
    [
      "400 a batch (Apollo's own refusal)",
      (origin) =>
        send(t.graphqlUrl, {
          method: "POST",
          headers: { ...json, ...a, origin },
          body: JSON.stringify([{ query: "{ __typename }" }, { query: "{ __typename }" }]),
        }),
      400,
    ],
    [
      "400 a GET without a preflight header (Apollo's CSRF prevention)",
      (origin) => send(`${t.graphqlUrl}?query=%7B__typename%7D`, { headers: { ...a, origin } }),
      400,
    ],
    [
      "406 an Accept that takes no GraphQL type (before GraphQL: Apollo answered it after the operation ran)",
      (origin) =>
        send(t.graphqlUrl, {
          method: "POST",
          headers: { ...json, ...a, origin, accept: "text/html" },
          body: QUERY,
        }),
      406,
    ],
    [
      "400 an untrusted document (TRUSTED_DOCUMENTS=enforce)",
      (origin) =>
        send(enforced.graphqlUrl, {
          method: "POST",
          headers: { ...json, origin },
          body: JSON.stringify({ query: "{ __typename }" }),
        }),
      400,
    ],
    [
      "500 an authenticator that rejects",
      (origin) =>
        send(t.graphqlUrl, {
          method: "POST",
          headers: { ...json, origin, authorization: "Bearer abc.def.ghi", [REJECT_AUTH]: "1" },
          body: QUERY,
        }),
      500,
    ],
    [
      "417 an Expect other than 100-continue",
      (origin) =>
        sendRaw(
          t.baseUrl,
          `POST /graphql HTTP/1.1\r\nHost: x\r\norigin: ${origin}\r\ncontent-type: application/json\r\n` +
            `x-api-key: ${KEY_A}\r\nexpect: 9876543210`,
          QUERY,
        ),
      417,
    ],
    [
      "400 a malformed URL (Fastify's router)",
      (origin) => sendRaw(t.baseUrl, `GET /graphql%zz HTTP/1.1\r\nHost: x\r\norigin: ${origin}\r\nx-api-key: ${KEY_A}`),
      400,
    ],
    [
      "400 a malformed URL on another path (Fastify's router)",
      (origin) => sendRaw(t.baseUrl, `GET /%zz HTTP/1.1\r\nHost: x\r\norigin: ${origin}`),
      400,
    ],
    [
      "400 a malformed header (Node's parser)",
      (origin) =>
        sendRaw(t.baseUrl, `POST /graphql HTTP/1.1\r\nHost: x\r\norigin: ${origin}\r\ntransfer-encoding: chunked`),
      400,
    ],
    [
      "400 an HTTP/1.1 request without Host (RFC 9112 §3.2)",
      (origin) =>
        sendRaw(
          t.baseUrl,
          `POST /graphql HTTP/1.1\r\norigin: ${origin}\r\ncontent-type: application/json\r\nx-api-key: ${KEY_A}`,
          QUERY,
        ),
      400,
    ],
    [
      "400 an HTTP/1.1 request without Host on another path",
      (origin) => sendRaw(t.baseUrl, `GET /healthz HTTP/1.1\r\norigin: ${origin}`),
      400,
    ],
    [
      "431 headers over MAX_HEADER_BYTES (Node's parser)",
      (origin) =>
        sendRaw(t.baseUrl, `POST /graphql HTTP/1.1\r\nHost: x\r\norigin: ${origin}\r\nx-pad: ${"a".repeat(40_000)}`),
      431,
    ],
    [
      "403 a preflight for a method the allow-list does not grant, or from a refused origin",
      (origin) =>
        send(t.graphqlUrl, {
          method: "OPTIONS",
          headers: {
            origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
          },
        }),
      // Granted (204) to the allowed origin, refused (403) to the other.
      0,
    ],
    [
      "204 an OPTIONS that is no preflight",
      (origin) => send(`${t.baseUrl}/healthz`, { method: "OPTIONS", headers: { origin } }),
      204,
    ],
  ];

  /** The allowed origin; a refused one of the case's own; one over MAX_LOGGED_ORIGIN characters, also its own. */
  const originsOf = (i: number) => [
    ["allowed", ALLOWED],
    ["refused", `https://case${i}.app.example.evil`],
    ["refused, over 200 characters", `https://case${i}-${"long".repeat(60)}.app.example.evil`],
  ];

  it.each(
    cases.flatMap(([name, go, status], i) =>
      originsOf(i).map(([kind, origin]) => [name, kind, origin, go, status] as const),
    ),
  )("%s, Origin %s", async (_name, _kind, origin, go, status) => {
    const before = warnings();
    const res = await go(origin);
    if (status === 0) {
      // A preflight: the allowed origin's 204 carries the grant; the refused one's 403 carries no Access-Control.
      expect(res.status).toBe(origin === ALLOWED ? 204 : 403);
      expect(res.headers["access-control-allow-origin"]).toBe(origin === ALLOWED ? ALLOWED : undefined);
      expect(res.headers["access-control-allow-methods"]).toBe(origin === ALLOWED ? "GET, POST, OPTIONS" : undefined);
    } else expectCors(res, status, origin);
    // The same refusal again: still one warning for the origin (remembered, by its hash when long).
    await go(origin);
    const after = warnings();
    if (origin === ALLOWED) return expect(after).toEqual(before);
    // One more warning (two stacks: compared as counts), and it names this origin.
    expect(after.length - before.length).toBe(1);
    expect(after.filter((o) => o === shownAs(origin))).toHaveLength(1);
    // A long origin is never written whole (cut to 200 characters in the warning; remembered by its hash).
    if (origin.length > MAX_LOGGED_ORIGIN) expect(rawLogs()).not.toContain(origin);
  });

  it("503 OVERLOADED, for the client's share and at the door", async () => {
    const hold = holdingUpstream(upstream);
    upstream.calls.length = 0;
    const post = (key: string, mobile: string, origin?: string) =>
      send(t.graphqlUrl, {
        method: "POST",
        headers: { ...json, "x-api-key": key, ...(origin === undefined ? {} : { origin }) },
        body: JSON.stringify({ query: RESEND_AEPS_OTP, variables: aepsInput(mobile) }),
      });
    // Each refused origin twice, and named once; the allowed one never.
    const refusedTwice = async (key: string, mobile: string, origins: string[]) => {
      const before = warnings();
      for (const origin of origins)
        for (let i = 0; i < 2; i++) expectCors(await post(key, mobile, origin), 503, origin);
      const after = warnings();
      expect(after.length - before.length).toBe(origins.length - 1);
      for (const origin of origins.filter((o) => o !== ALLOWED))
        expect(after.filter((o) => o === shownAs(origin))).toHaveLength(1);
      for (const origin of origins) if (origin.length > MAX_LOGGED_ORIGIN) expect(rawLogs()).not.toContain(origin);
    };
    try {
      const heldA = post(KEY_A, "9876543211");
      await until("A's send to reach the upstream", () => upstream.calls.length === 1);
      // The client's share, after authentication (Fastify's hooks, or the thin route's start, have run).
      await refusedTwice(KEY_A, "9876543212", [
        ALLOWED,
        "https://share.app.example.evil",
        `https://share-${"long".repeat(60)}.app.example.evil`,
      ]);
      const heldB = post(KEY_B, "9876543213");
      await until("B's send to reach the upstream", () => upstream.calls.length === 2);
      // At the door (admission.ts guardServer, before either layer): before, no warning.
      await refusedTwice(KEY_B, "9876543214", [
        ALLOWED,
        "https://door.app.example.evil",
        `https://door-${"long".repeat(60)}.app.example.evil`,
      ]);
      hold.release();
      for (const res of await Promise.all([heldA, heldB])) expect(res.status).toBe(200);
    } finally {
      hold.release();
    }
  });
});
