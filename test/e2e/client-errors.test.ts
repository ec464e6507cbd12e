import { ApolloClient, ApolloLink, CombinedGraphQLErrors, HttpLink, InMemoryCache } from "@apollo/client";
import { ServerError } from "@apollo/client/errors";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { GenerateCibilOtpDocument, ServiceInfoDocument } from "../../client/src/generated/graphql";
import { createRequestMetaLink, errorCodeOf, possibleTypes, requestMetaOf } from "../../client/src/react";
import { createSdk } from "../../client/src/sdk";
import { startTestStack, TEST_API_KEY, TEST_API_KEYS_ENTRY, type TestStack } from "../helpers/stack";

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
    }).toEqual({
      graphql: true,
      code: "UNAUTHENTICATED",
      meta: { requestId: expect.stringMatching(UUID), replayed: false, retryAfterSeconds: null },
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
    expect({ graphql: CombinedGraphQLErrors.is(failed), code: errorCodeOf(failed) }).toEqual({
      graphql: true,
      code: "BAD_USER_INPUT",
    });
    expect(t.simulator?.calls()).toBe(0);
    client.stop();
  });

  it("no server listening: no code (a network error), and the SDK's AopayNetworkError says it was never sent", async () => {
    const client = apollo("http://127.0.0.1:1/graphql");
    const failed = await rejection(client.query({ query: ServiceInfoDocument }));
    expect({ code: errorCodeOf(failed), requestId: requestMetaOf(failed).requestId }).toEqual({
      code: null,
      requestId: null,
    });
    const sdkError = await rejection(createSdk({ url: "http://127.0.0.1:1/graphql" }).serviceInfo());
    expect(sdkError).toMatchObject({ code: "NETWORK_ERROR", requestMayHaveBeenSent: false });
    client.stop();
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
    expect({ server: ServerError.is(failed), code: errorCodeOf(failed) }).toEqual({ server: true, code: null });
    client.stop();
  });
});
