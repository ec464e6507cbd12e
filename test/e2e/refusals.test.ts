import { type Answer, send } from "../helpers/raw-http";
import { startTestStack, TEST_API_KEYS_ENTRY, type TestStack } from "../helpers/stack";

/** A refusal as docs/api.md promises it: an `errors` body whose every error has a code and the `x-request-id` header's id. */
function expectRefusal(res: Answer, status: number, code: string): void {
  const id = res.headers["x-request-id"];
  expect(typeof id).toBe("string");
  const body = JSON.parse(res.text) as {
    errors?: Array<{ message?: unknown; extensions?: { code?: unknown; requestId?: unknown } }>;
  };
  expect({
    status: res.status,
    errors: body.errors?.map((e) => ({
      code: e.extensions?.code,
      requestId: e.extensions?.requestId,
      hasMessage: typeof e.message === "string",
    })),
  }).toEqual({
    status,
    errors: [{ code, requestId: id, hasMessage: true }],
  });
}

const json = { "content-type": "application/json" };

/**
 * Every way the server refuses a request before (or instead of) running it carries the request id twice: in the
 * `x-request-id` header and in `extensions.requestId` of each error, so that what a developer copies from either the
 * body or the network panel finds the server's log line. The newcomer's first refusal, a plain GET from a browser's
 * address bar or curl, was the one without it. Development settings (the quick start's); test/e2e/http.test.ts and
 * test/e2e/trusted-documents.test.ts cover each refusal's own rules.
 */
describe("every refused request carries its request id, in the header and in the body", () => {
  let t: TestStack;
  let enforced: TestStack;
  beforeAll(async () => {
    t = await startTestStack({ NODE_ENV: "development", API_KEYS: TEST_API_KEYS_ENTRY, BODY_LIMIT_BYTES: "2048" });
    enforced = await startTestStack({ NODE_ENV: "development", TRUSTED_DOCUMENTS: "enforce" });
  });
  afterAll(async () => {
    await t?.stop();
    await enforced?.stop();
  });

  it.each<[string, () => Promise<Answer>, number, string]>([
    [
      "a plain GET without a preflight header (CSRF prevention, 400)",
      () => send(`${t.graphqlUrl}?query=${encodeURIComponent("{ serviceInfo { upstream } }")}`),
      400,
      "BAD_REQUEST",
    ],
    [
      "a POST with a simple content type (CSRF prevention, 400)",
      () =>
        send(t.graphqlUrl, {
          method: "POST",
          headers: { "content-type": "text/plain" },
          body: JSON.stringify({ query: "{ __typename }" }),
        }),
      400,
      "BAD_REQUEST",
    ],
    [
      "a mutation over GET (405)",
      () =>
        send(
          `${t.graphqlUrl}?query=${encodeURIComponent('mutation { generateCibilOtp(input: { cibilId: "1", accessToken: "abcd" }) { __typename } }')}`,
          {
            headers: { "apollo-require-preflight": "true" },
          },
        ),
      405,
      "BAD_REQUEST",
    ],
    ["an unknown path (404)", () => send(`${t.baseUrl}/nothing-here`), 404, "NOT_FOUND"],
    [
      "a body over BODY_LIMIT_BYTES (413)",
      () =>
        send(t.graphqlUrl, {
          method: "POST",
          headers: json,
          body: JSON.stringify({ query: `{ __typename } #${"x".repeat(4096)}` }),
        }),
      413,
      "BAD_REQUEST",
    ],
    [
      "an unsupported content type (415)",
      () => send(t.graphqlUrl, { method: "POST", headers: { "content-type": "application/xml" }, body: "<q/>" }),
      415,
      "BAD_REQUEST",
    ],
    [
      "a wrong API key (401)",
      () =>
        send(t.graphqlUrl, {
          method: "POST",
          headers: { ...json, "x-api-key": "aopk_wrong" },
          body: JSON.stringify({ query: "{ __typename }" }),
        }),
      401,
      "UNAUTHENTICATED",
    ],
    [
      "a body that is not JSON (400)",
      () => send(t.graphqlUrl, { method: "POST", headers: json, body: '{"query": ' }),
      400,
      "BAD_REQUEST",
    ],
    [
      "a document that does not parse (400)",
      () => send(t.graphqlUrl, { method: "POST", headers: json, body: JSON.stringify({ query: "{ serviceInfo {" }) }),
      400,
      "GRAPHQL_PARSE_FAILED",
    ],
    [
      "a document that does not validate (400)",
      () => send(t.graphqlUrl, { method: "POST", headers: json, body: JSON.stringify({ query: "{ nope }" }) }),
      400,
      "GRAPHQL_VALIDATION_FAILED",
    ],
    [
      "a body without a query (400)",
      () => send(t.graphqlUrl, { method: "POST", headers: json, body: JSON.stringify({ variables: {} }) }),
      400,
      "BAD_REQUEST",
    ],
    [
      "a batch (400)",
      () =>
        send(t.graphqlUrl, {
          method: "POST",
          headers: json,
          body: JSON.stringify([{ query: "{ __typename }" }, { query: "{ __typename }" }]),
        }),
      400,
      "BAD_REQUEST",
    ],
    [
      "an untrusted document with TRUSTED_DOCUMENTS=enforce (400)",
      () =>
        send(enforced.graphqlUrl, { method: "POST", headers: json, body: JSON.stringify({ query: "{ __typename }" }) }),
      400,
      "UNTRUSTED_DOCUMENT",
    ],
  ])("%s", async (_what, refused, status, code) => {
    expectRefusal(await refused(), status, code);
  });

  it("the request's own id, not the caller's x-request-id, is in both places", async () => {
    const res = await send(`${t.graphqlUrl}?query=${encodeURIComponent("{ __typename }")}`, {
      headers: { "x-request-id": "0b0e4a47-1f9c-4c51-8f0e-6f0d0c3c1a2b" },
    });
    expectRefusal(res, 400, "BAD_REQUEST");
    expect(res.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers["x-request-id"]).not.toBe("0b0e4a47-1f9c-4c51-8f0e-6f0d0c3c1a2b");
  });
});
