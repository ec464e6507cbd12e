import { getParameters } from "../../../src/http/get-parameters";

/**
 * A GraphQL GET's parameters as Apollo Server reads them (runHttpQuery.js: URLSearchParams, getAll): what the checks
 * before GraphQL judge. test/e2e/request-targets.test.ts checks the same against Apollo on a real server.
 */
describe("getParameters", () => {
  it.each([
    // Valid escapes around a malformed one are decoded (Fastify's parser kept the whole value undecoded).
    ["/graphql?query=a%41%zz", "aA%zz"],
    ["/graphql?query=%E0%A4", "\uFFFD"],
    ["/graphql?query=%F0%9F%98%80%zz", "😀%zz"],
    ["/graphql?query=a+b", "a b"],
    ["/graphql?query=a;b", "a;b"],
    ["/graphql?qu%65ry=x", "x"],
    ["/graphql?query", ""],
    // `;` separates nothing, a BOM is part of a name, `__proto__` and an empty name are names Apollo does not read.
    ["/graphql?a=1;query=x", undefined],
    ["/graphql?%EF%BB%BFquery=x", undefined],
    ["/graphql?__proto__=x&=y", undefined],
    // The router's query string: from the first `?` or `#` (routed-path.ts routedSearch).
    ["/graphql#?query=x", undefined],
    ["http://host/graphql?query=x", "x"],
  ])("%s: query %j", (target, query) => {
    expect(getParameters(target).query).toBe(query);
  });

  it("a repeated parameter is all its values (Apollo refuses it: `may only be specified once`)", () => {
    expect(getParameters("/graphql?query=a&query=b&extensions=%7B%7D")).toEqual({
      query: ["a", "b"],
      operationName: undefined,
      variables: undefined,
      extensions: "{}",
    });
  });
});
