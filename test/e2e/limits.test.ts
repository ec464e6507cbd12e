import { postGraphQL, productionStackSendingNothing, TEST_API_KEY } from "../helpers/stack";

const SEND = 'generateCibilOtp(input: {cibilId: "102277100", accessToken: "abcd"}) { __typename }';

describe("GraphQL surface limits, production settings (docs/security-requirements.md A1-A4)", () => {
  const s = productionStackSendingNothing();
  const auth = { "x-api-key": TEST_API_KEY };

  const rejected = async (query: string, code: string, message: string | RegExp) => {
    const res = await s.t.gql(query, undefined, auth);
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions?.code).toBe(code);
    expect(res.body.errors?.[0]?.message).toMatch(message);
    // Production messages never state the configured numbers.
    expect(res.text).not.toMatch(/limit of [0-9]|more tha[nt] [0-9]|over [0-9]/);
    return res;
  };

  it("A2: two sends by alias never reach AOPay", async () => {
    await rejected(
      `mutation { a: ${SEND} b: ${SEND} }`,
      "GRAPHQL_VALIDATION_FAILED",
      /generateCibilOtp may appear only once per request/,
    );
  });

  it("A2: two sends hidden in fragment spreads never reach AOPay", async () => {
    await rejected(
      `mutation { ...A ...B } fragment A on Mutation { ${SEND} } fragment B on Mutation { x: ${SEND} }`,
      "GRAPHQL_VALIDATION_FAILED",
      /only once per request/,
    );
  });

  it("A2: a document with several operations runs only the one named by operationName", async () => {
    const document = `mutation A { ${SEND} } query B { serviceInfo { upstream } }`;
    const unnamed = await s.t.gql(document, undefined, auth);
    expect(unnamed.status).toBe(400);
    expect(unnamed.body.errors?.[0]?.extensions?.code).toBe("OPERATION_RESOLUTION_FAILURE");
    const res = await postGraphQL(s.t.graphqlUrl, { query: document, operationName: "B" }, auth);
    expect(res.body.data).toEqual({ serviceInfo: { upstream: "LIVE" } });
  });

  it("A3: alias cap", async () => {
    await rejected(
      "{ a: serviceInfo { upstream } b: serviceInfo { upstream } c: serviceInfo { upstream } d: serviceInfo { upstream } }",
      "GRAPHQL_VALIDATION_FAILED",
      "Too many aliases.",
    );
  });

  it("A3: the alias cap counts __typename aliases (160 of them were let through)", async () => {
    await rejected(
      // 80: 160 of them (480 tokens) no longer fit in the token limit.
      `{ ${Array.from({ length: 80 }, (_, i) => `t${i}: __typename`).join(" ")} }`,
      "GRAPHQL_VALIDATION_FAILED",
      "Too many aliases.",
    );
    await rejected(
      "{ a: __typename b: __typename c: __typename d: __typename }",
      "GRAPHQL_VALIDATION_FAILED",
      "Too many aliases.",
    );
  });

  it("A3: token limit (graphql-js maxTokens), without the number", async () => {
    await rejected(
      `{ serviceInfo { ${"upstream ".repeat(600)} } }`,
      "GRAPHQL_PARSE_FAILED",
      "Syntax Error: Document contains too many tokens.",
    );
  });

  it("A3: directive limit", async () => {
    await rejected(
      `{ serviceInfo { upstream ${"@include(if: true) ".repeat(30)} } }`,
      "GRAPHQL_VALIDATION_FAILED",
      "Too many directives.",
    );
  });

  it("A3: character limit, before parsing", async () => {
    await rejected(`{ serviceInfo { upstream } } #${"x".repeat(15_001)}`, "BAD_REQUEST", "Query is too large.");
  });

  it("A3: depth limit", async () => {
    await rejected(
      `{ __type(name: "Query") { fields { type { ofType { ofType { ofType { name } } } } } } }`,
      "GRAPHQL_VALIDATION_FAILED",
      /introspection|Query is too deep/,
    );
  });
});
