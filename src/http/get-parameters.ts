import { parse as parseQuery } from "fast-querystring";

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

/**
 * Fastify's `request.query` (its router's querystringParser, http-server.ts), parsed only when something reads it. The
 * router parsed every request's query string as it found the route, with fast-querystring, and nothing here reads
 * `request.query` (a GraphQL GET's parameters are getParameters', Apollo parses its own): on a GET of a 192-character
 * query, under callgrind, that parse cost 32.1k instructions, twice URLSearchParams' 16.0k, and this object 1.9k
 * (docs/performance-runs.md). What a reader finds is what the router wrote before (fast-querystring, as find-my-way
 * calls it: an empty object for an empty string), parsed at the first read and kept.
 */
export function lazyQuery(search: string): Record<string, unknown> {
  if (search.length === 0) return {};
  let parsed: Record<string, unknown> | undefined;
  const read = (): Record<string, unknown> => (parsed ??= parseQuery(search) as Record<string, unknown>);
  return new Proxy<Record<string, unknown>>(
    {},
    {
      get: (_target, key) => Reflect.get(read(), key),
      set: (_target, key, value) => Reflect.set(read(), key, value),
      has: (_target, key) => Reflect.has(read(), key),
      deleteProperty: (_target, key) => Reflect.deleteProperty(read(), key),
      ownKeys: () => Reflect.ownKeys(read()),
      getOwnPropertyDescriptor: (_target, key) => Reflect.getOwnPropertyDescriptor(read(), key),
      defineProperty: (_target, key, descriptor) => Reflect.defineProperty(read(), key, descriptor),
      getPrototypeOf: () => Reflect.getPrototypeOf(read()),
    },
  );
}
