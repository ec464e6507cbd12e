import { request } from "undici";
import { TEST_API_KEY, type TestStack } from "../helpers/stack";
import { startTokenStack, type TokenStack } from "../helpers/token-stack";

/**
 * Credentials never leave in clear (docs/security.md "Authentication"; docs/security-requirements.md A8): an API key
 * or a bearer token, good or bad, sent the ways a client gets it wrong (twice, in both headers, malformed, as the
 * other kind, in the query string by mistake, on both HTTP layers), is in no log line at any level (captured at
 * debug), no answer and no metric. Each credential here is unique, so a leak of one names its case.
 */
describe("credentials are in no log line, answer or metric", () => {
  let stack: TokenStack;
  let t: TestStack;
  let goodToken: string;
  let expiredToken: string;
  const answers: string[] = [];

  beforeAll(async () => {
    stack = await startTokenStack();
    t = stack.t;
    goodToken = await stack.sign({ azp: "jwt-client" }, Math.floor(Date.now() / 1000) + 300);
    expiredToken = await stack.sign({ azp: "jwt-client" }, Math.floor(Date.now() / 1000) - 300);
  });
  afterAll(() => stack?.stop());

  const WRONG_KEY = "aopk_wrongkey_7Hq2ZxL9vB4nM1cR8tY6wE3uI0oP5aSdFgJkQ";
  const MALFORMED_KEY = `aopk_malformed_${"Q".repeat(300)}`;
  const QUERY_KEY = "aopk_inquery_4Rt7Yu2Io9Pa5Sd8Fg1Hj6Kl3Zx0CvBnMqWe";

  async function send(
    path: string,
    init: { method?: "GET" | "POST"; headers?: Record<string, string | string[]> } = {},
  ): Promise<number> {
    const method = init.method ?? "POST";
    const res = await request(`${t.baseUrl}${path}`, {
      method,
      headers: { "content-type": "application/json", "apollo-require-preflight": "1", ...init.headers },
      body: method === "POST" ? JSON.stringify({ query: "{ __typename }" }) : undefined,
    });
    answers.push(JSON.stringify(res.headers), await res.body.text());
    return res.statusCode;
  }

  const BROWSER = { origin: "http://localhost:5173" };

  it.each<[string, () => Promise<number>, number]>([
    ["a good API key (thin route)", () => send("/graphql", { headers: { "x-api-key": TEST_API_KEY } }), 200],
    [
      "a good API key (Fastify: a browser origin)",
      () => send("/graphql", { headers: { ...BROWSER, "x-api-key": TEST_API_KEY } }),
      200,
    ],
    ["a wrong API key", () => send("/graphql", { headers: { "x-api-key": WRONG_KEY } }), 401],
    [
      "a malformed API key (over 256 characters)",
      () => send("/graphql", { headers: { "x-api-key": MALFORMED_KEY } }),
      401,
    ],
    ["the API key sent twice", () => send("/graphql", { headers: { "x-api-key": [TEST_API_KEY, TEST_API_KEY] } }), 401],
    [
      "the API key in both headers",
      () => send("/graphql", { headers: { "x-api-key": TEST_API_KEY, authorization: `Bearer ${TEST_API_KEY}` } }),
      401,
    ],
    [
      "the API key as a bearer token",
      () => send("/graphql", { headers: { authorization: `Bearer ${TEST_API_KEY}` } }),
      401,
    ],
    [
      "the API key in Authorization without Bearer",
      () => send("/graphql", { headers: { authorization: TEST_API_KEY } }),
      401,
    ],
    ["a good bearer token", () => send("/graphql", { headers: { authorization: `Bearer ${goodToken}` } }), 200],
    ["an expired bearer token", () => send("/graphql", { headers: { authorization: `Bearer ${expiredToken}` } }), 401],
    ["a bearer token in x-api-key", () => send("/graphql", { headers: { "x-api-key": goodToken } }), 401],
    [
      "a bearer token sent twice",
      () => send("/graphql", { headers: { authorization: [`Bearer ${goodToken}`, `Bearer ${goodToken}`] } }),
      // Joined with ", " (node-limits.ts joinDuplicateHeaders): no longer one token, refused.
      401,
    ],
    ["the API key in the query string (thin route)", () => send(`/graphql?api_key=${QUERY_KEY}`), 401],
    [
      "the API key in the query string, with a good key (Fastify: a browser origin)",
      () => send(`/graphql?api_key=${QUERY_KEY}`, { headers: { ...BROWSER, "x-api-key": TEST_API_KEY } }),
      200,
    ],
    [
      "a bearer token in the query string (GET, Fastify)",
      () =>
        send(`/graphql?query=%7B__typename%7D&access_token=${goodToken}`, {
          method: "GET",
          headers: { "x-api-key": TEST_API_KEY },
        }),
      200,
    ],
    ["the API key in the query string of a 404", () => send(`/nothing?api_key=${QUERY_KEY}`), 404],
  ])("%s", async (_what, sent, status) => {
    expect(await sent()).toBe(status);
  });

  it("none of them is in a log line, an answer or the metrics page", async () => {
    const metrics = await (await request(t.stack.app.metricsUrl!)).body.text();
    const seen = { logs: t.logs.raw(), answers: answers.join("\n"), metrics };
    // The test saw its requests logged (a capture that missed them would pass the checks below).
    expect(t.logs.records().filter((r) => r.msg === "request completed").length).toBeGreaterThanOrEqual(16);
    for (const [where, text] of Object.entries(seen))
      for (const secret of [TEST_API_KEY, WRONG_KEY, MALFORMED_KEY.slice(0, 40), QUERY_KEY, goodToken, expiredToken])
        for (const part of [secret, secret.slice(-24)])
          expect({ where, leaked: text.includes(part) }).toEqual({ where, leaked: false });
  });
});
