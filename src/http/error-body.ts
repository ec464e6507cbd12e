import Negotiator from "negotiator";
import { EdgeCode } from "../graphql/edge-code";

/** The path of the GraphQL route: only it is authenticated, admitted (admission.ts) and checked for trusted documents. */
export const GRAPHQL_PATH = "/graphql";

/**
 * Every (status, code) a request refused before GraphQL is answered and counted with (http_requests_refused_total):
 * the parser's (node-limits.ts: 400, 408, 431), the router's and a path's (404, 405 as Apollo's own 405, 403 for a
 * refused CORS preflight), authentication (401), the representation and body (400, 413, 415, 417), an Accept that takes
 * no GraphQL type (406, graphql-route.ts: it was counted but not on the page until the first), trusted documents
 * (400 UNTRUSTED_DOCUMENT), a bearer token whose identity provider's key set cannot be had (503 AUTH_UNAVAILABLE) and
 * a drain (503); an error thrown while serving (errorAnswer: 500) is a failure, not a
 * refusal, and not counted here. Each is on the page at 0 from the start (metrics.ts startAtZero);
 * test/e2e/http-boundary.test.ts drives them and finds no pair outside it; test/e2e/refusal-catalogue.test.ts sends
 * each on both HTTP layers against its reviewed message. Admission's 503 OVERLOADED is graphql_requests_shed_total.
 */
export const EDGE_REFUSALS: ReadonlyArray<readonly [status: number, code: EdgeCode]> = [
  [400, EdgeCode.BAD_REQUEST],
  [400, EdgeCode.UNTRUSTED_DOCUMENT],
  [401, EdgeCode.UNAUTHENTICATED],
  [403, EdgeCode.ORIGIN_NOT_ALLOWED],
  [404, EdgeCode.NOT_FOUND],
  [405, EdgeCode.BAD_REQUEST],
  [406, EdgeCode.BAD_REQUEST],
  [408, EdgeCode.REQUEST_TIMEOUT],
  [413, EdgeCode.BAD_REQUEST],
  [415, EdgeCode.BAD_REQUEST],
  [417, EdgeCode.BAD_REQUEST],
  [431, EdgeCode.HEADERS_TOO_LARGE],
  [503, EdgeCode.AUTH_UNAVAILABLE],
  [503, EdgeCode.SERVICE_UNAVAILABLE],
];

/**
 * The body of every error this HTTP layer answers itself, before or outside GraphQL (401, 404, 408, 431, 503 ...):
 * shaped like a GraphQL response, so that clients read `errors[0].extensions.code` and `requestId` in one place. A
 * refusal that sends `Retry-After` says the same seconds in `retryAfterSeconds` (a client that only hands on the
 * errors, such as Apollo Client's CombinedGraphQLErrors, still has them).
 */
export function errorBody(message: string, code: EdgeCode, requestId: string, retryAfterSeconds?: number) {
  return {
    errors: [
      {
        message,
        extensions: retryAfterSeconds === undefined ? { code, requestId } : { code, requestId, retryAfterSeconds },
      },
    ],
  };
}

/** The two media types a GraphQL response is sent as (GraphQL over HTTP, "Body"), as Apollo Server spells them. */
export const JSON_TYPE = "application/json; charset=utf-8";
export const GRAPHQL_RESPONSE_TYPE = "application/graphql-response+json; charset=utf-8";

/**
 * The media type of a refusal of ours, by the request's Accept, as Apollo Server chooses it for its own answers
 * (ApolloServer.js chooseContentTypeForSingleResultResponse, with negotiator): no Accept, `*` / `*`, or
 * `application/json` first: application/json; `application/graphql-response+json` preferred (Apollo Client 4's
 * default, our SDK's): that. An Accept that takes neither gets application/json: GraphQL over HTTP ("Accept") lets
 * a server disregard it and answer its default rather than 406.
 *
 * Why it matters: under application/graphql-response+json the spec lets a non-2xx answer carry a GraphQL response,
 * and spec clients read it as one only under that type; Apollo Client 4 rejected our 401 and 503 (sent as
 * application/json) as a ServerError holding the body as text, so an app needed errorCodeOf() to find the code.
 * The usual Accept values are looked up (COMMON); any other goes to negotiator (3.5 µs a call on this 2-core host,
 * Node 24: at the 17,000 refusals a second of an overload, 6 % of the core the table keeps).
 */
export function refusalType(accept: string | undefined): string {
  const common = COMMON.get(accept);
  return common !== undefined ? common : negotiate(accept as string);
}

/**
 * The Content-Type and Vary of a refusal whose body is a GraphQL error response: `type` (the answer's content type
 * so far) replaced by `refusalType`, and `Accept` added to `vary`; null when `type` is neither of ours (a streamed
 * answer, Apollo's callback-spec JSON, a health probe's text: left as they are). Vary: Accept because the type now
 * depends on it (RFC 9110 §12.5.5), so that a cache in front never hands one client's refusal to another that asked
 * for the other type.
 */
export function refusalRepresentation(
  type: unknown,
  vary: unknown,
  accept: string | undefined,
): { type: string; vary: string } | null {
  if (type !== JSON_TYPE && type !== GRAPHQL_RESPONSE_TYPE) return null;
  const varied =
    typeof vary !== "string" || vary === "" ? "Accept" : /\baccept\b/i.test(vary) ? vary : `${vary}, Accept`;
  return { type: refusalType(accept), vary: varied };
}

/**
 * Whether Apollo Server can answer a single result in a type `accept` takes: its own rule, asked before GraphQL runs.
 * Apollo asks only after the operation has run (runHttpQuery.js: `chooseContentTypeForSingleResultResponse` once
 * the result is there) and answers 406 BAD_REQUEST then: a mutation sent with `Accept: text/html` had sent its OTP,
 * and its client, told "refused", would send it again. The same rule: no Accept (or an empty one) takes JSON; else
 * negotiator's choice among Apollo's three candidates (application/json, application/graphql-response+json and the
 * callback spec's application/json; callbackSpec=1.0), none: not served. The usual values are one table lookup
 * (COMMON, each of which takes one of our types: 15 ns); any other is one negotiator call (2 to 7 µs measured on this
 * 2-core host, Node 24), as Apollo makes one for it anyway.
 */
export function servesAccept(accept: string | undefined): boolean {
  return COMMON.has(accept) || new Negotiator({ headers: { accept } }).mediaType(SINGLE_RESULT_TYPES) !== undefined;
}

/**
 * Apollo's `prefersHTML` (ApolloServer.js): a GET whose Accept prefers text/html to every GraphQL type is answered
 * with the landing page (development: Apollo Sandbox) before anything else, its query string unread.
 */
export function prefersLandingPage(accept: string | undefined): boolean {
  return !!accept && new Negotiator({ headers: { accept } }).mediaType(LANDING_PAGE_CANDIDATES) === "text/html";
}

/** ApolloServer.js MEDIA_TYPES, in the order it offers them to negotiator for a single result. */
const SINGLE_RESULT_TYPES = [JSON_TYPE, GRAPHQL_RESPONSE_TYPE, "application/json; callbackSpec=1.0; charset=utf-8"];
/** ApolloServer.js prefersHTML's candidates, in its order. */
const LANDING_PAGE_CANDIDATES = [
  JSON_TYPE,
  GRAPHQL_RESPONSE_TYPE,
  "multipart/mixed; deferSpec=20220824",
  "multipart/mixed; incrementalSpec=v0.2",
  "multipart/mixed",
  "text/html",
];

/** Accept values clients send most (Apollo Client 4, the SDK, curl, undici, fetch, axios), and what each gets. */
const COMMON: ReadonlyMap<string | undefined, string> = new Map([
  [undefined, JSON_TYPE],
  ["", JSON_TYPE],
  ["*/*", JSON_TYPE],
  ["application/json", JSON_TYPE],
  ["application/json, */*", JSON_TYPE],
  // axios's default: negotiated, 6.6 µs a call (servesAccept asks for every request Apollo answers).
  ["application/json, text/plain, */*", JSON_TYPE],
  ["application/graphql-response+json", GRAPHQL_RESPONSE_TYPE],
  ["application/graphql-response+json, application/json", GRAPHQL_RESPONSE_TYPE],
  ["application/graphql-response+json,application/json;q=0.9", GRAPHQL_RESPONSE_TYPE],
  ["application/graphql-response+json, application/json;q=0.9", GRAPHQL_RESPONSE_TYPE],
]);

/** The candidates in Apollo Server's order (ApolloServer.js): on a tie, negotiator prefers the earlier one. */
const CANDIDATES = [JSON_TYPE, GRAPHQL_RESPONSE_TYPE];

/**
 * negotiator's choice between our two types, as Apollo Server asks it (the same library, the version it depends on:
 * package.json pins the same range so that npm installs one copy); none acceptable: application/json.
 */
function negotiate(accept: string): string {
  return new Negotiator({ headers: { accept } }).mediaType(CANDIDATES) ?? JSON_TYPE;
}
