import { ApolloClient, ApolloLink, CombinedGraphQLErrors, HttpLink, InMemoryCache } from "@apollo/client";
import { ServerError } from "@apollo/client/errors";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { GenerateCibilOtpDocument, ServiceInfoDocument } from "../../client/src/generated/graphql";
import {
  createRequestMetaLink,
  errorCodeOf,
  mayHaveBeenSent,
  possibleTypes,
  refusedBeforeRunning,
  requestMetaOf,
} from "../../client/src/react";
import { createSdk } from "../../client/src/sdk";
import { cibilInput } from "../helpers/operations";
import { startTestStack, TEST_API_KEY, TEST_API_KEYS_ENTRY, type TestStack } from "../helpers/stack";
import { startTokenStack, type TokenStack } from "../helpers/token-stack";
import { unserialisable } from "../helpers/unserialisable";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function apollo(uri: string, headers: Record<string, string> = {}) {
  return new ApolloClient({
    link: ApolloLink.from([createRequestMetaLink(), new HttpLink({ uri, headers })]),
    cache: new InMemoryCache({ possibleTypes }),
  });
}

/** What a query or mutation rejected with (the hooks' `error` is the same object); fails the test if it resolved. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );
}

/**
 * The errors an app meets before any result, through Apollo Client 4 (what the hooks use) and the SDK, against the real
 * server and loopback stand-ins: each surfaces the server's code where one arrived, the same for both clients. Under
 * Apollo, refusals answered before GraphQL runs (401, 503) were a ServerError holding the body as text only, the code
 * readable only by parsing that text (errorCodeOf); they now arrive as GraphQL errors (the server answers Apollo
 * Client's Accept with application/graphql-response+json). A proxy's answer is still a ServerError.
 */
describe("client errors: the server's code through Apollo Client 4 and the SDK", () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack({ API_KEYS: TEST_API_KEYS_ENTRY, AUTH_REQUIRED: "true" });
  });
  afterAll(() => t?.stop());

  it("401 without an API key: UNAUTHENTICATED from both clients, with the request id", async () => {
    const client = apollo(t.graphqlUrl);
    const failed = await rejection(client.query({ query: ServiceInfoDocument }));
    // GraphQL errors: the 401 speaks application/graphql-response+json, which Apollo Client asks for first. Before, a
    // ServerError holding the body as text (test/e2e/refusal-media-type.test.ts).
    expect({
      graphql: CombinedGraphQLErrors.is(failed),
      code: errorCodeOf(failed),
      meta: requestMetaOf(failed),
      mayHaveBeenSent: mayHaveBeenSent(failed),
    }).toEqual({
      graphql: true,
      code: "UNAUTHENTICATED",
      meta: { requestId: expect.stringMatching(UUID), replayed: false, retryAfterSeconds: null },
      mayHaveBeenSent: false,
    });
    const sdk = await createSdk({ url: t.graphqlUrl }).serviceInfo();
    expect({ status: sdk.status, code: sdk.errors?.[0]?.extensions?.code }).toEqual({
      status: 401,
      code: errorCodeOf(failed),
    });
    client.stop();
  });

  it("a GraphQL error (BAD_USER_INPUT): its code, from CombinedGraphQLErrors", async () => {
    const client = apollo(t.graphqlUrl, { "x-api-key": TEST_API_KEY });
    const failed = await rejection(
      client.mutate({
        mutation: GenerateCibilOtpDocument,
        variables: { input: { cibilId: "not a cibil id", accessToken: "123456542124" } },
      }),
    );
    expect({
      graphql: CombinedGraphQLErrors.is(failed),
      code: errorCodeOf(failed),
      mayHaveBeenSent: mayHaveBeenSent(failed),
    }).toEqual({ graphql: true, code: "BAD_USER_INPUT", mayHaveBeenSent: false });
    expect(t.simulator?.calls()).toBe(0);
    client.stop();
  });

  it("no server listening: no code (a network error), and the SDK's AopayNetworkError says it was never sent", async () => {
    const client = apollo("http://127.0.0.1:1/graphql");
    const failed = await rejection(client.query({ query: ServiceInfoDocument }));
    // No answer: Apollo cannot tell whether the request left, so the key is kept (mayHaveBeenSent).
    expect({
      code: errorCodeOf(failed),
      requestId: requestMetaOf(failed).requestId,
      mayHaveBeenSent: mayHaveBeenSent(failed),
    }).toEqual({ code: null, requestId: null, mayHaveBeenSent: true });
    const sdkError = await rejection(createSdk({ url: "http://127.0.0.1:1/graphql" }).serviceInfo());
    expect(sdkError).toMatchObject({ code: "NETWORK_ERROR", requestMayHaveBeenSent: false });
    client.stop();
  });
});

/**
 * A 500 INTERNAL_SERVER_ERROR after the operation ran: the OTP went out, then the server failed writing its answer (a
 * result that cannot be serialised; docs/api.md "Refusals before GraphQL runs"). Apollo rejects it with a
 * CombinedGraphQLErrors, as it does the refusals that sent nothing, and the guides (client/README.md, docs/clients.md,
 * examples/web's use-otp-action.ts) read any CombinedGraphQLErrors as "an answer, nothing sent" and dropped the
 * action's Idempotency-Key: the next attempt went out under a new key and sent a second SMS (with no cooldown, as here).
 * mayHaveBeenSent / refusedBeforeRunning tell the two apart; the same key then gets the stored result.
 */
describe("client errors: a 500 after the OTP went out", () => {
  let t: TestStack;
  let restore = () => {};
  let armed = false;
  beforeAll(async () => {
    t = await startTestStack();
    // Once armed, the next answer carrying a generateCibilOtp result fails to serialise: a 500 after the send.
    restore = unserialisable((value) => {
      if (!armed || value.data?.generateCibilOtp === undefined) return false;
      armed = false;
      return true;
    });
  });
  afterAll(async () => {
    restore();
    await t?.stop();
  });

  it("Apollo Client 4: a CombinedGraphQLErrors that may have sent; the same key gets the stored result, one SMS", async () => {
    t.simulator?.resetCalls();
    const client = apollo(t.graphqlUrl);
    const context = { headers: { "Idempotency-Key": "client-errors-500-apollo" } };
    const variables = cibilInput("102277131");
    armed = true;
    const failed = await rejection(client.mutate({ mutation: GenerateCibilOtpDocument, variables, context }));
    expect({
      armed,
      graphql: CombinedGraphQLErrors.is(failed),
      code: errorCodeOf(failed),
      mayHaveBeenSent: mayHaveBeenSent(failed),
      sends: t.simulator?.calls("cibil.generateOtp"),
    }).toEqual({ armed: false, graphql: true, code: "INTERNAL_SERVER_ERROR", mayHaveBeenSent: true, sends: 1 });

    const again = await client.mutate({ mutation: GenerateCibilOtpDocument, variables, context });
    expect({
      typename: again.data?.generateCibilOtp.__typename,
      replayed: requestMetaOf(again).replayed,
      sends: t.simulator?.calls("cibil.generateOtp"),
    }).toEqual({ typename: "CibilOtpChallenge", replayed: true, sends: 1 });

    // What dropping the key did: a new key is a new action, and sends again (no cooldown in this stack).
    await client.mutate({
      mutation: GenerateCibilOtpDocument,
      variables,
      context: { headers: { "Idempotency-Key": "client-errors-500-apollo-new" } },
    });
    expect(t.simulator?.calls("cibil.generateOtp")).toBe(2);
    client.stop();
  });

  it("the SDK: errors that are not a refusal (refusedBeforeRunning false); the same key gets the stored result", async () => {
    t.simulator?.resetCalls();
    const sdk = createSdk({ url: t.graphqlUrl });
    const options = { idempotencyKey: "client-errors-500-sdk" };
    armed = true;
    const failed = await sdk.generateCibilOtp(cibilInput("102277132"), options);
    expect({
      status: failed.status,
      code: failed.errors?.[0]?.extensions?.code,
      refused: refusedBeforeRunning(failed.errors),
      sends: t.simulator?.calls("cibil.generateOtp"),
    }).toEqual({ status: 500, code: "INTERNAL_SERVER_ERROR", refused: false, sends: 1 });

    const again = await sdk.generateCibilOtp(cibilInput("102277132"), options);
    expect({
      typename: again.data?.generateCibilOtp.__typename,
      replayed: again.replayed,
      sends: t.simulator?.calls("cibil.generateOtp"),
    }).toEqual({ typename: "CibilOtpChallenge", replayed: true, sends: 1 });

    // A refusal is one: nothing ran.
    const invalid = await sdk.generateCibilOtp({ input: { cibilId: "x", accessToken: "t" } });
    expect({ code: invalid.errors?.[0]?.extensions?.code, refused: refusedBeforeRunning(invalid.errors) }).toEqual({
      code: "BAD_USER_INPUT",
      refused: true,
    });
  });
});

/**
 * The identity provider down (AUTH_JWKS_URL answers 503): a bearer request is refused 503 AUTH_UNAVAILABLE before its
 * body is read, and both clients read it as a refusal: nothing sent (mayHaveBeenSent false, refusedBeforeRunning
 * true), the wait from Retry-After. It was a 500 INTERNAL_SERVER_ERROR, which the clients read as "may have been sent"
 * (docs/api.md): the app kept a key that held nothing and told its user an SMS might be on its way.
 */
describe("client errors: the identity provider down (503 AUTH_UNAVAILABLE)", () => {
  let t: TestStack;
  let stack: TokenStack | undefined;
  let token: string;
  beforeAll(async () => {
    stack = await startTokenStack({ jwksDown: true });
    t = stack.t;
    token = await stack.sign({ azp: "c" });
  });
  afterAll(() => stack?.stop());

  it("Apollo Client 4: AUTH_UNAVAILABLE, nothing sent, the wait given", async () => {
    t.simulator?.resetCalls();
    const client = apollo(t.graphqlUrl, { authorization: `Bearer ${token}` });
    const failed = await rejection(client.mutate({ mutation: GenerateCibilOtpDocument, variables: cibilInput() }));
    expect({
      graphql: CombinedGraphQLErrors.is(failed),
      code: errorCodeOf(failed),
      mayHaveBeenSent: mayHaveBeenSent(failed),
      retryAfterSeconds: requestMetaOf(failed).retryAfterSeconds,
      sends: t.simulator?.calls(),
    }).toEqual({ graphql: true, code: "AUTH_UNAVAILABLE", mayHaveBeenSent: false, retryAfterSeconds: 5, sends: 0 });
    client.stop();
  });

  it("the SDK: 503, a refusal before running (refusedBeforeRunning), Retry-After 5", async () => {
    t.simulator?.resetCalls();
    const failed = await createSdk({ url: t.graphqlUrl, bearerToken: token }).generateCibilOtp(cibilInput());
    expect({
      status: failed.status,
      code: failed.errors?.[0]?.extensions?.code,
      refused: refusedBeforeRunning(failed.errors),
      retryAfterSeconds: failed.retryAfterSeconds,
      sends: t.simulator?.calls(),
    }).toEqual({ status: 503, code: "AUTH_UNAVAILABLE", refused: true, retryAfterSeconds: 5, sends: 0 });
  });
});

/** Answers that are not this server's, from a loopback stand-in for a proxy in front of it. */
describe("client errors: answers from something in front of the server", () => {
  let proxy: Server;
  let url: string;
  let answer: { status: number; type: string; body: string } = { status: 502, type: "text/html", body: "" };

  beforeAll(async () => {
    proxy = createServer((req, res) => {
      req.resume();
      res.writeHead(answer.status, { "content-type": answer.type });
      res.end(answer.body);
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/graphql`;
  });
  afterAll(async () => {
    await new Promise((resolve) => proxy?.close(resolve));
  });

  it.each([
    ["a proxy's 502 page", { status: 502, type: "text/html", body: "<html><h1>502 Bad Gateway</h1></html>" }],
    ["JSON that is not a GraphQL body", { status: 503, type: "application/json", body: '{"message":"busy"}' }],
    [
      "a code this client does not know",
      {
        status: 503,
        type: "application/json",
        body: JSON.stringify({ errors: [{ message: "x", extensions: { code: "SOMETHING_NEW" } }] }),
      },
    ],
  ])("%s: a ServerError with no code (null), never a throw", async (_name, sent) => {
    answer = sent;
    const client = apollo(url);
    const failed = await rejection(client.query({ query: ServiceInfoDocument }));
    expect({ server: ServerError.is(failed), code: errorCodeOf(failed), sent: mayHaveBeenSent(failed) }).toEqual({
      server: true,
      code: null,
      sent: true,
    });
    client.stop();
  });

  it.each([
    ["a refusal (401 UNAUTHENTICATED)", 401, "UNAUTHENTICATED", false],
    ["a 500 INTERNAL_SERVER_ERROR", 500, "INTERNAL_SERVER_ERROR", true],
  ])(
    "this server's body as application/json (%s): a ServerError with its code; sent only if not a refusal",
    async (_name, status, code, sent) => {
      answer = {
        status,
        type: "application/json",
        body: JSON.stringify({ errors: [{ message: "x", extensions: { code } }] }),
      };
      const client = apollo(url);
      const failed = await rejection(client.query({ query: ServiceInfoDocument }));
      expect({ server: ServerError.is(failed), code: errorCodeOf(failed), sent: mayHaveBeenSent(failed) }).toEqual({
        server: true,
        code,
        sent,
      });
      client.stop();
    },
  );
});
