import type { EdgeCode } from "../graphql/edge-code";

/** The path of the GraphQL route: only it is authenticated, admitted (admission.ts) and checked for trusted documents. */
export const GRAPHQL_PATH = "/graphql";

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
 * The usual Accept values are looked up (COMMON); any other is parsed, on the refusal path only.
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

/** Accept values clients send most (Apollo Client 4, the SDK, curl, undici, fetch), and what each gets. */
const COMMON: ReadonlyMap<string | undefined, string> = new Map([
  [undefined, JSON_TYPE],
  ["", JSON_TYPE],
  ["*/*", JSON_TYPE],
  ["application/json", JSON_TYPE],
  ["application/json, */*", JSON_TYPE],
  ["application/graphql-response+json", GRAPHQL_RESPONSE_TYPE],
  ["application/graphql-response+json, application/json", GRAPHQL_RESPONSE_TYPE],
  ["application/graphql-response+json,application/json;q=0.9", GRAPHQL_RESPONSE_TYPE],
  ["application/graphql-response+json, application/json;q=0.9", GRAPHQL_RESPONSE_TYPE],
]);

/** The candidates in Apollo's order (ties go to the earlier one: negotiator's provided-type index). */
const CANDIDATES = [
  { type: "application", subtype: "json", index: 0, answer: JSON_TYPE },
  { type: "application", subtype: "graphql-response+json", index: 1, answer: GRAPHQL_RESPONSE_TYPE },
] as const;

/**
 * negotiator 0.6/1.0's mediaType(), for our two candidates (both `charset=utf-8`): each candidate takes its most
 * specific matching media range (type 4, subtype 2, parameters 1; then the higher q, then the later range); the
 * candidate with the higher q wins, then the more specific match, then the earlier range in Accept, then Apollo's
 * order. q=0 refuses. No match: application/json (refusalType says why).
 */
function negotiate(accept: string): string {
  let best: { q: number; s: number; o: number; index: number; answer: string } | null = null;
  const ranges = parseAccept(accept);
  for (const candidate of CANDIDATES) {
    let match: { q: number; s: number; o: number } | null = null;
    for (const range of ranges) {
      let s = 0;
      if (range.type === candidate.type) s |= 4;
      else if (range.type !== "*") continue;
      if (range.subtype === candidate.subtype) s |= 2;
      else if (range.subtype !== "*") continue;
      if (range.params.length > 0) {
        if (!range.params.every(([k, v]) => v === "*" || (k === "charset" && v === "utf-8"))) continue;
        s |= 1;
      }
      // negotiator's getMediaTypePriority: the more specific range, then the higher q, then the later one.
      if (match === null || s > match.s || (s === match.s && range.q >= match.q)) match = { q: range.q, s, o: range.o };
    }
    if (match === null || match.q <= 0) continue;
    if (
      best === null ||
      match.q > best.q ||
      (match.q === best.q && (match.s > best.s || (match.s === best.s && match.o < best.o)))
    )
      best = { ...match, index: candidate.index, answer: candidate.answer };
  }
  return best?.answer ?? JSON_TYPE;
}

interface MediaRange {
  type: string;
  subtype: string;
  q: number;
  /** Parameters other than q, lower-cased, unquoted. */
  params: Array<[string, string]>;
  /** Its place in Accept. */
  o: number;
}

/** Accept's media ranges (RFC 9110 §12.5.1); a malformed one is skipped, as negotiator skips it. */
function parseAccept(accept: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  const parts = accept.split(",");
  for (let o = 0; o < parts.length; o++) {
    const [essence, ...rest] = parts[o].split(";");
    const slash = essence.indexOf("/");
    if (slash < 0) continue;
    const type = essence.slice(0, slash).trim().toLowerCase();
    const subtype = essence
      .slice(slash + 1)
      .trim()
      .toLowerCase();
    if (type === "" || subtype === "") continue;
    let q = 1;
    const params: Array<[string, string]> = [];
    for (const param of rest) {
      const eq = param.indexOf("=");
      if (eq < 0) continue;
      const key = param.slice(0, eq).trim().toLowerCase();
      const value = param
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, "$1")
        .toLowerCase();
      if (key === "q") q = Number.parseFloat(value);
      else params.push([key, value]);
    }
    if (Number.isNaN(q)) continue;
    ranges.push({ type, subtype, q, params, o });
  }
  return ranges;
}
