import { ApolloClient, ApolloLink, CombinedGraphQLErrors, HttpLink, InMemoryCache } from "@apollo/client";
import { hashApiKey } from "../../src/auth/authenticator";
import { ServiceInfoDocument } from "../../client/src/generated/graphql";
import { createRequestMetaLink, errorCodeOf, possibleTypes, requestMetaOf } from "../../client/src/react";
import { createSdk } from "../../client/src/sdk";
import { holdingUpstream, until } from "../helpers/holding-upstream";
import { aepsInput, RESEND_AEPS_OTP } from "../helpers/operations";
import { type Answer, parseResponse, pushAnnouncedBody, rawClient, send, sendRaw } from "../helpers/raw-http";
import { stackOnFakeUpstream, startTestStack, type TestStack } from "../helpers/stack";

/**
 * Every answer a GraphQL client receives speaks the media type it negotiated (GraphQL over HTTP, "Accept" and
 * "application/graphql-response+json"): the refusals written before GraphQL runs (401, 503 OVERLOADED at the door and
 * for a client's share, 413, 415, 400, 405, 404, 417, 431, trusted documents) and Apollo's own (batching, CSRF
 * prevention). Before, ours were application/json whatever the Accept, so Apollo Client 4 and other spec clients,
 * which send `application/graphql-response+json` first, read a non-2xx answer as transport text (a ServerError), and
 * the code was found only by parsing it (errorCodeOf). Each refusal: the negotiated type, `Vary: Accept`, a GraphQL
 * error body with its code and request id, and `retryAfterSeconds` where `Retry-After` is sent; the same on both HTTP
 * layers (the thin route and Fastify's). Real server, scripted upstream, loopback.
 */

const KEY_A = "aopk_tenant_a_0123456789abcdefghijklmnopqrstuvwxyzABC";
const KEY_B = "aopk_tenant_b_0123456789abcdefghijklmnopqrstuvwxyzABC";
const TWO_TENANTS = `tenant-a:${hashApiKey(KEY_A)},tenant-b:${hashApiKey(KEY_B)}`;

/** Apollo Client 4's Accept (HttpLink's default), as it goes out. */
const APOLLO_CLIENT_ACCEPT = "application/graphql-response+json,application/json;q=0.9";
const GRAPHQL_RESPONSE = "application/graphql-response+json; charset=utf-8";
const JSON_UTF8 = "application/json; charset=utf-8";
const QUERY = JSON.stringify({ query: "{ serviceInfo { upstream } }" });
const BODY_LIMIT = 2048;

/** What a spec client may rely on in a refusal, whatever refused it. */
function expectSpoken(res: Answer, status: number, code: string, accept: string | undefined): void {
  const body = JSON.parse(res.text) as {
    data?: unknown;
    errors?: Array<{ message?: unknown; extensions?: Record<string, unknown> }>;
  };
  const retryAfter = res.headers["retry-after"];
  const vary = String(res.headers.vary ?? "")
    .split(",")
    .map((v) => v.trim().toLowerCase());
  expect({
    status: res.status,
    type: res.headers["content-type"],
    variesByAccept: vary.includes("accept"),
    hasData: "data" in body,
    errors: body.errors?.map((e) => ({
      message: typeof e.message,
      code: e.extensions?.code,
      requestId: e.extensions?.requestId,
      retryAfterSeconds: e.extensions?.retryAfterSeconds,
    })),
  }).toEqual({
    status,
    type: accept?.startsWith("application/graphql-response+json") ? GRAPHQL_RESPONSE : JSON_UTF8,
    variesByAccept: true,
    hasData: false,
    errors: [
      {
        message: "string",
        code,
        requestId: res.headers["x-request-id"],
        retryAfterSeconds: retryAfter === undefined ? undefined : Number(retryAfter),
      },
    ],
  });
  // Nothing the client sent comes back (its key, its body).
  expect(res.text).not.toContain("aopk_");
  expect(res.text).not.toContain("9876543210");
}

/** Headers with an Accept, or none (undefined: the header left out). */
function withAccept(accept: string | undefined, headers: Record<string, string> = {}): Record<string, string> {
  return accept === undefined ? headers : { ...headers, accept };
}

describe.each([
  ["the thin route", true],
  ["Fastify's route", false],
])("refusals speak the negotiated media type: %s", (_layer, thinGraphQLRoute) => {
  const { upstream, t } = stackOnFakeUpstream({
    env: {
      NODE_ENV: "development",
      API_KEYS: TWO_TENANTS,
      AUTH_REQUIRED: "true",
      BODY_LIMIT_BYTES: String(BODY_LIMIT),
      ADMISSION_MAX_IN_FLIGHT: "2",
      ADMISSION_MAX_IN_FLIGHT_PER_CLIENT: "1",
      ADMISSION_RETRY_AFTER_SECONDS: "7",
    },
    stackOptions: { thinGraphQLRoute },
  });
  // A second server, on the simulator: no upstream call is scripted for it.
  let enforced: TestStack;
  beforeAll(async () => {
    enforced = await startTestStack({ NODE_ENV: "development", TRUSTED_DOCUMENTS: "enforce" }, { thinGraphQLRoute });
  });
  afterAll(async () => {
    await enforced?.stop();
  });

  const a = { "x-api-key": KEY_A };
  const json = { "content-type": "application/json" };
  const cases: Array<[string, (accept: string | undefined) => Promise<Answer>, number, string]> = [
    [
      "401 without an API key",
      (accept) => send(t.graphqlUrl, { method: "POST", headers: withAccept(accept, json), body: QUERY }),
      401,
      "UNAUTHENTICATED",
    ],
    [
      "413 a body over BODY_LIMIT_BYTES",
      (accept) =>
        send(t.graphqlUrl, {
          method: "POST",
          headers: withAccept(accept, { ...json, ...a }),
          body: JSON.stringify({ query: `{ __typename } #${"x".repeat(BODY_LIMIT * 2)}` }),
        }),
      413,
      "BAD_REQUEST",
    ],
    [
      "400 a body that is not JSON",
      (accept) =>
        send(t.graphqlUrl, { method: "POST", headers: withAccept(accept, { ...json, ...a }), body: '{"query": ' }),
      400,
      "BAD_REQUEST",
    ],
    [
      "415 an unsupported content type",
      (accept) =>
        send(t.graphqlUrl, {
          method: "POST",
          headers: withAccept(accept, { ...a, "content-type": "application/xml" }),
          body: "<q/>",
        }),
      415,
      "BAD_REQUEST",
    ],
    [
      "415 a compressed body",
      (accept) =>
        send(t.graphqlUrl, {
          method: "POST",
          headers: withAccept(accept, { ...json, ...a, "content-encoding": "gzip" }),
          body: QUERY,
        }),
      415,
      "BAD_REQUEST",
    ],
    [
      "405 a method the path does not take",
      (accept) => send(t.graphqlUrl, { method: "PUT", headers: withAccept(accept, { ...json, ...a }), body: QUERY }),
      405,
      "BAD_REQUEST",
    ],
    [
      "404 an unknown path",
      (accept) => send(`${t.baseUrl}/nothing`, { headers: withAccept(accept) }),
      404,
      "NOT_FOUND",
    ],
    [
      "400 a batch (Apollo's own refusal)",
      (accept) =>
        send(t.graphqlUrl, {
          method: "POST",
          headers: withAccept(accept, { ...json, ...a }),
          body: JSON.stringify([{ query: "{ __typename }" }, { query: "{ __typename }" }]),
        }),
      400,
      "BAD_REQUEST",
    ],
    [
      "400 a GET without a preflight header (Apollo's CSRF prevention)",
      (accept) => send(`${t.graphqlUrl}?query=%7B__typename%7D`, { headers: withAccept(accept, a) }),
      400,
      "BAD_REQUEST",
    ],
    [
      "400 an untrusted document (TRUSTED_DOCUMENTS=enforce)",
      (accept) =>
        send(enforced.graphqlUrl, {
          method: "POST",
          headers: withAccept(accept, json),
          body: JSON.stringify({ query: "{ __typename }" }),
        }),
      400,
      "UNTRUSTED_DOCUMENT",
    ],
    [
      "417 an Expect other than 100-continue",
      (accept) =>
        sendRaw(
          t.baseUrl,
          `POST /graphql HTTP/1.1\r\nHost: x\r\n${accept === undefined ? "" : `accept: ${accept}\r\n`}` +
            `content-type: application/json\r\nx-api-key: ${KEY_A}\r\nexpect: 9876543210`,
          QUERY,
        ),
      417,
      "BAD_REQUEST",
    ],
    [
      "400 a malformed URL (Fastify's router)",
      (accept) =>
        sendRaw(
          t.baseUrl,
          `GET /graphql%zz HTTP/1.1\r\nHost: x\r\n${accept === undefined ? "" : `accept: ${accept}\r\n`}` +
            `x-api-key: ${KEY_A}`,
        ),
      400,
      "BAD_REQUEST",
    ],
    [
      "431 headers over MAX_HEADER_BYTES (refused by Node's parser)",
      (accept) =>
        sendRaw(
          t.baseUrl,
          `POST /graphql HTTP/1.1\r\nHost: x\r\n${accept === undefined ? "" : `accept: ${accept}\r\n`}` +
            `x-pad: ${"a".repeat(40_000)}`,
        ),
      431,
      "HEADERS_TOO_LARGE",
    ],
  ];

  it.each(
    cases.flatMap(([name, go, status, code]) =>
      [APOLLO_CLIENT_ACCEPT, "application/json", undefined].map((accept) => [name, accept, go, status, code] as const),
    ),
  )("%s, Accept %p", async (_name, accept, go, status, code) => {
    expectSpoken(await go(accept), status, code, accept);
  });

  it("an Accept that takes neither type: JSON, the spec's default (a 401, and its 406 before GraphQL)", async () => {
    const accept = "text/html";
    const unauthenticated = await send(t.graphqlUrl, { method: "POST", headers: { ...json, accept }, body: QUERY });
    expectSpoken(unauthenticated, 401, "UNAUTHENTICATED", accept);
    // Refused before GraphQL (http/graphql-route.ts notAcceptable; Apollo's own 406 came after the operation ran).
    const notAcceptable = await send(t.graphqlUrl, { method: "POST", headers: { ...json, ...a, accept }, body: QUERY });
    expectSpoken(notAcceptable, 406, "BAD_REQUEST", accept);
  });

  it("503 OVERLOADED, for the client's share and at the door: negotiated, with retryAfterSeconds as Retry-After", async () => {
    const hold = holdingUpstream(upstream);
    upstream.calls.length = 0;
    const post = (key: string, mobile: string, accept: string | undefined) =>
      send(t.graphqlUrl, {
        method: "POST",
        headers: withAccept(accept, { ...json, "x-api-key": key }),
        body: JSON.stringify({ query: RESEND_AEPS_OTP, variables: aepsInput(mobile) }),
      });
    try {
      const heldA = post(KEY_A, "9876543211", undefined);
      await until("A's send to reach the upstream", () => upstream.calls.length === 1);
      // A holds its one place: refused for its share, after authentication, before its body is read.
      for (const accept of [APOLLO_CLIENT_ACCEPT, "application/json", undefined]) {
        const share = await post(KEY_A, "9876543212", accept);
        expectSpoken(share, 503, "OVERLOADED", accept);
        expect(share.headers["retry-after"]).toBe("7");
        expect(JSON.parse(share.text).errors[0].message).toMatch(/^This client has its share/);
      }
      const heldB = post(KEY_B, "9876543213", undefined);
      await until("B's send to reach the upstream", () => upstream.calls.length === 2);
      // Every place taken: refused at the door, before authentication (admission.ts guardServer).
      for (const accept of [APOLLO_CLIENT_ACCEPT, "application/json", undefined]) {
        const door = await post(KEY_B, "9876543214", accept);
        expectSpoken(door, 503, "OVERLOADED", accept);
        expect(JSON.parse(door.text).errors[0].message).toMatch(/^The server is overloaded/);
      }
      hold.release();
      for (const res of await Promise.all([heldA, heldB])) expect(res.status).toBe(200);
      expect(upstream.calls).toHaveLength(2);
    } finally {
      hold.release();
    }
  });

  it("Apollo Client 4 reads a refusal as GraphQL errors (CombinedGraphQLErrors), not as a ServerError's text", async () => {
    // Before: a ServerError with the body as text; the code only through errorCodeOf's parse.
    const noKey = new ApolloClient({
      link: new HttpLink({ uri: t.graphqlUrl }),
      cache: new InMemoryCache({ possibleTypes }),
    });
    const unauthenticated: unknown = await noKey.query({ query: ServiceInfoDocument }).catch((e: unknown) => e);
    expect(CombinedGraphQLErrors.is(unauthenticated)).toBe(true);
    expect((unauthenticated as CombinedGraphQLErrors).errors[0].extensions?.code).toBe("UNAUTHENTICATED");
    expect(errorCodeOf(unauthenticated)).toBe("UNAUTHENTICATED");
    expect(requestMetaOf(unauthenticated)).toEqual({
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      replayed: false,
      retryAfterSeconds: null,
    });
    noKey.stop();

    // A 503 for the client's share: its wait, with the request-meta link (from the header) and without (the body's).
    const hold = holdingUpstream(upstream);
    upstream.calls.length = 0;
    const held = send(t.graphqlUrl, {
      method: "POST",
      headers: { ...json, ...a },
      body: JSON.stringify({ query: RESEND_AEPS_OTP, variables: aepsInput("9876543215") }),
    });
    try {
      await until("A's send to reach the upstream", () => upstream.calls.length === 1);
      for (const link of [
        ApolloLink.from([createRequestMetaLink(), new HttpLink({ uri: t.graphqlUrl, headers: a })]),
        new HttpLink({ uri: t.graphqlUrl, headers: a }),
      ]) {
        const client = new ApolloClient({ link, cache: new InMemoryCache({ possibleTypes }) });
        const overloaded: unknown = await client
          .query({ query: ServiceInfoDocument, fetchPolicy: "network-only" })
          .catch((e: unknown) => e);
        expect(CombinedGraphQLErrors.is(overloaded)).toBe(true);
        expect(errorCodeOf(overloaded)).toBe("OVERLOADED");
        expect(requestMetaOf(overloaded).retryAfterSeconds).toBe(7);
        client.stop();
      }
      // The SDK (which asks for graphql-response+json too) reads the same answer as before.
      const sdk = await createSdk({ url: t.graphqlUrl, apiKey: KEY_A }).serviceInfo();
      expect({ status: sdk.status, code: sdk.errors?.[0]?.extensions?.code, wait: sdk.retryAfterSeconds }).toEqual({
        status: 503,
        code: "OVERLOADED",
        wait: 7,
      });
      hold.release();
      expect((await held).status).toBe(200);
    } finally {
      hold.release();
    }
  });

  it("a 503 before the body closes a connection announcing more than BODY_LIMIT_BYTES; a usual body is read in its turn", async () => {
    const hold = holdingUpstream(upstream);
    upstream.calls.length = 0;
    const held = send(t.graphqlUrl, {
      method: "POST",
      headers: { ...json, ...a },
      body: JSON.stringify({ query: RESEND_AEPS_OTP, variables: aepsInput("9876543216") }),
    });
    try {
      await until("A's send to reach the upstream", () => upstream.calls.length === 1);
      // For A's share (after authentication), then at the door (a second place taken by B).
      const refusals: Array<[string, string]> = [
        ["share", KEY_A],
        ["door", KEY_B],
      ];
      let heldB: Promise<Answer> | null = null;
      for (const [where, key] of refusals) {
        if (where === "door") {
          heldB = send(t.graphqlUrl, {
            method: "POST",
            headers: { ...json, "x-api-key": KEY_B },
            body: JSON.stringify({ query: RESEND_AEPS_OTP, variables: aepsInput("9876543217") }),
          });
          await until("B's send to reach the upstream", () => upstream.calls.length === 2);
        }
        const head = `POST /graphql HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\nx-api-key: ${key}`;
        // Before: kept alive, and 20 MiB read and dropped after the 503 to get to the next request.
        const c = await rawClient(t.baseUrl);
        const total = 20 * 1024 * 1024;
        const sent = await pushAnnouncedBody(c, head, total);
        const res = parseResponse(c.received());
        expect({ where, status: res.status, connection: res.headers.connection, closed: c.socket.destroyed }).toEqual({
          where,
          status: 503,
          connection: "close",
          closed: true,
        });
        expect(sent).toBeLessThan(total);
        // A body this server would serve is still read: the connection stays for its next request, in its turn.
        const small = await rawClient(t.baseUrl);
        small.socket.write(`${head}\r\ncontent-length: ${QUERY.length}\r\n\r\n${QUERY}`);
        await until("a 503", () => / 503 /.test(small.received()) && small.received().includes('"errors"'));
        expect({ where, connection: parseResponse(small.received()).headers.connection }).toEqual({
          where,
          connection: "keep-alive",
        });
        small.socket.destroy();
      }
      hold.release();
      expect((await held).status).toBe(200);
      expect((await heldB!).status).toBe(200);
    } finally {
      hold.release();
    }
  });
});
