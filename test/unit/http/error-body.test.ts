import { createRequire } from "node:module";
import { join } from "node:path";
import { HeaderMap } from "@apollo/server";
import {
  errorBody,
  GRAPHQL_RESPONSE_TYPE,
  JSON_TYPE,
  prefersLandingPage,
  refusalRepresentation,
  refusalType,
  servesAccept,
} from "../../../src/http/error-body";
import { FAST_ACCEPT } from "../../../src/http/graphql-route";
import { EdgeCode } from "../../../src/graphql/edge-code";

/** negotiator, as Apollo Server loads it (it ships no types). */
const Negotiator = createRequire(require.resolve("@apollo/server"))("negotiator") as new (request: {
  headers: Record<string, string>;
}) => { mediaType(available: string[]): string | undefined };

/**
 * Apollo Server's choice for its own answers (ApolloServer.js chooseContentTypeForSingleResultResponse: no Accept is
 * JSON; else negotiator among these three, in this order), with our fallback where it finds none (JSON).
 */
function apolloChoice(accept: string | undefined): string {
  if (!accept) return JSON_TYPE;
  const chosen = new Negotiator({ headers: { accept } }).mediaType([
    JSON_TYPE,
    GRAPHQL_RESPONSE_TYPE,
    "application/json; callbackSpec=1.0; charset=utf-8",
  ]);
  return chosen === GRAPHQL_RESPONSE_TYPE ? GRAPHQL_RESPONSE_TYPE : JSON_TYPE;
}

describe("refusalType: a refusal's media type is the one Apollo gives its own answers for the same Accept", () => {
  it.each([
    undefined,
    "",
    "*/*",
    "application/json",
    "application/graphql-response+json",
    "application/graphql-response+json,application/json;q=0.9",
    "application/graphql-response+json, application/json",
    "application/json, application/graphql-response+json",
    "application/json, text/plain, */*",
    "application/json;q=0.5, application/graphql-response+json",
    "application/graphql-response+json;q=0.5, application/json",
    "application/graphql-response+json;q=0, */*",
    "application/json;q=0, */*",
    "application/*",
    "application/*, application/graphql-response+json",
    "application/graphql-response+json;q=0.9, application/*;q=0.9",
    "application/graphql-response+json; charset=utf-8",
    "application/graphql-response+json; charset=UTF-8, application/json",
    'application/graphql-response+json; charset="utf-8"',
    "application/graphql-response+json; charset=latin1, application/json;q=0.1",
    "application/graphql-response+json; version=2, application/json;q=0.1",
    "Application/GraphQL-Response+JSON",
    "text/html",
    "text/html, application/xhtml+xml, application/xml;q=0.9, */*;q=0.8",
    "text/html;q=0.9, application/graphql-response+json;q=0.8",
    "nonsense, application/graphql-response+json",
    "application/graphql-response+json;q=abc, application/json",
    "multipart/mixed, application/graphql-response+json;q=0.2",
    "*/*;q=0.1, application/graphql-response+json;q=0.1",
    "application/graphql-response+json;q=0.1, */*;q=0.1",
  ])("Accept %p", (accept) => {
    expect(refusalType(accept)).toBe(apolloChoice(accept));
  });

  it("the ones clients send most: Apollo Client 4 and the SDK get graphql-response+json, curl and undici JSON", () => {
    expect(refusalType("application/graphql-response+json,application/json;q=0.9")).toBe(GRAPHQL_RESPONSE_TYPE);
    expect(refusalType("application/graphql-response+json, application/json")).toBe(GRAPHQL_RESPONSE_TYPE);
    expect(refusalType("*/*")).toBe(JSON_TYPE);
    expect(refusalType(undefined)).toBe(JSON_TYPE);
  });
});

describe("refusalRepresentation", () => {
  it("sets the negotiated type and adds Accept to Vary once; leaves other types alone", () => {
    const grj = "application/graphql-response+json";
    expect(refusalRepresentation(JSON_TYPE, "Origin", grj)).toEqual({
      type: GRAPHQL_RESPONSE_TYPE,
      vary: "Origin, Accept",
    });
    expect(refusalRepresentation(JSON_TYPE, undefined, undefined)).toEqual({ type: JSON_TYPE, vary: "Accept" });
    expect(refusalRepresentation(GRAPHQL_RESPONSE_TYPE, "Origin, Accept", "*/*")).toEqual({
      type: JSON_TYPE,
      vary: "Origin, Accept",
    });
    expect(refusalRepresentation("text/plain; charset=utf-8", "Origin", grj)).toBeNull();
    expect(refusalRepresentation("application/json; callbackSpec=1.0; charset=utf-8", "Origin", grj)).toBeNull();
  });
});

describe("errorBody", () => {
  it("carries retryAfterSeconds only when given", () => {
    expect(errorBody("m", EdgeCode.OVERLOADED, "id", 3)).toEqual({
      errors: [{ message: "m", extensions: { code: "OVERLOADED", requestId: "id", retryAfterSeconds: 3 } }],
    });
    expect(errorBody("m", EdgeCode.BAD_REQUEST, "id").errors[0].extensions).toEqual({
      code: "BAD_REQUEST",
      requestId: "id",
    });
  });
});

/** Apollo Server's own functions (ApolloServer.js), as it runs them: not exported by the package, loaded by path. */
const apolloServerModule = createRequire(require.resolve("@apollo/server"))(
  join(require.resolve("@apollo/server").replace(/index\.js$/, ""), "ApolloServer.js"),
) as {
  chooseContentTypeForSingleResultResponse(head: { headers: HeaderMap }): string | null;
  ApolloServer: { prototype: { prefersHTML(request: { method: string; headers: HeaderMap }): boolean } };
};

/** The header map Apollo is handed (graphql-route.ts headerMap: an empty value is left out). */
function apolloHeaders(accept: string | undefined): HeaderMap {
  return new HeaderMap(accept ? [["accept", accept]] : []);
}

const ACCEPTS: Array<string | undefined> = [
  undefined,
  "",
  "*/*",
  "*/*;q=0",
  "application/json",
  "application/json;q=0",
  "application/json; charset=utf-8",
  "application/json; charset=latin1",
  "application/json; callbackSpec=1.0",
  "application/graphql-response+json",
  "application/graphql-response+json;q=0",
  "application/graphql-response+json,application/json;q=0.9",
  "application/json, text/plain, */*",
  "application/*",
  "text/*",
  "text/html",
  "application/xml",
  "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
  "text/html;q=0.5, application/json",
  "multipart/mixed",
  "multipart/mixed; deferSpec=20220824",
  "multipart/mixed, application/json;q=0.5",
  "multipart/mixed, text/html",
  "nonsense",
  "application/json;q=abc",
];

describe("servesAccept: Apollo's own rule for a single result, asked before GraphQL runs", () => {
  it.each(ACCEPTS)("Accept %p", (accept) => {
    const apollo = apolloServerModule.chooseContentTypeForSingleResultResponse({ headers: apolloHeaders(accept) });
    expect(servesAccept(accept)).toBe(apollo !== null);
  });

  it("takes every Accept the fast path answers (graphql-route.ts FAST_ACCEPT: it asks no more)", () => {
    for (const accept of FAST_ACCEPT.keys()) expect(servesAccept(accept)).toBe(true);
  });

  it("refuses the ones Apollo answered 406 after running the operation", () => {
    for (const accept of ["text/html", "application/xml", "application/json;q=0", "*/*;q=0", "multipart/mixed"])
      expect(servesAccept(accept)).toBe(false);
  });
});

describe("prefersLandingPage: Apollo's prefersHTML for a GET", () => {
  it.each(ACCEPTS)("Accept %p", (accept) => {
    const apollo = apolloServerModule.ApolloServer.prototype.prefersHTML.call(null, {
      method: "GET",
      headers: apolloHeaders(accept),
    });
    expect(prefersLandingPage(accept)).toBe(apollo);
  });
});
