import { routedSearch } from "./routed-path";

/** The parameters Apollo Server reads from a GraphQL GET's query string (runHttpQuery.js, its `case 'GET'`). */
export type GetParameters = Record<
  "query" | "operationName" | "variables" | "extensions",
  string | string[] | undefined
>;

/**
 * A GraphQL GET's parameters as Apollo Server reads them, for the checks before GraphQL (exchange.ts
 * documentRefusal): the query string Apollo is handed (routedSearch of the same target: graphql-route.ts), decoded
 * as Apollo decodes it, with URLSearchParams, each name's values taken with getAll. One value: that string, as Apollo
 * takes it (`variables` and `extensions` still JSON text: Apollo and isTrusted both JSON.parse it). Several: all of
 * them, an array (Apollo refuses the request, 400 "may only be specified once", before anything runs; a check reads an
 * array as no text). None: undefined. Other names are not read, by Apollo or here (`__proto__` included).
 *
 * Before, the checks read Fastify's `request.query` (fast-querystring), which reads the same text otherwise: a value
 * with one malformed escape (`%zz`, `%E0%A4`) it keeps whole, undecoded, where URLSearchParams decodes every valid
 * escape around it (and a malformed UTF-8 sequence as U+FFFD). The size check then measured a longer text than the
 * one Apollo ran, and the trusted-document check could admit a listed text with a literal `%41` in it while Apollo
 * ran the `A` it decodes to. Fastify's querystringParser option set to this reader was the other way, and is not
 * taken: it is handed Fastify's own split of the target (find-my-way's), a second reading of where the query string
 * begins (routed-path.ts routedSearch says how they once parted), and Fastify would parse every route's query string
 * for a GraphQL rule. Here the one function reads the one string Apollo is handed.
 */
export function getParameters(target: string): GetParameters {
  const search = new URLSearchParams(routedSearch(target));
  const value = (name: string) => {
    const values = search.getAll(name);
    return values.length === 0 ? undefined : values.length === 1 ? values[0] : values;
  };
  return {
    query: value("query"),
    operationName: value("operationName"),
    variables: value("variables"),
    extensions: value("extensions"),
  };
}
