import { Readable } from "node:stream";
import { type ApolloServer, type BaseContext, HeaderMap } from "@apollo/server";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { FastAnswer } from "../graphql/fast-path";

/**
 * Answers requests whose document Apollo Server already accepted, without its pipeline (graphql/fast-path.ts).
 * `match` says whether a POST body is one it can answer; `run` answers, or returns null to hand the request to Apollo.
 */
export interface GraphQLFastPath<C, R> {
  match(body: unknown): R | undefined;
  run(request: R, context: C, contentType: string): FastAnswer | null | Promise<FastAnswer | null>;
}

export interface GraphQLRouteOptions<C extends BaseContext, R = unknown> {
  path: string;
  method: Array<"GET" | "POST">;
  /** Builds the request's context (synchronously: nothing in it needs to wait). */
  context: (request: FastifyRequest, reply: FastifyReply) => C;
  /** Null or absent: every request goes through Apollo. */
  fastPath?: GraphQLFastPath<C, R> | null;
}

/**
 * Content-Type values whose essence (whatwg-mimetype) is application/json: Apollo's CSRF prevention (preventCsrf.js)
 * lets them through, and Fastify parsed the body as JSON. Other spellings go to Apollo.
 */
const JSON_CONTENT_TYPES: ReadonlySet<string> = new Set([
  "application/json",
  "application/json; charset=utf-8",
  "application/json;charset=utf-8",
  "application/json; charset=UTF-8",
  "application/json;charset=UTF-8",
]);

const JSON_UTF8 = "application/json; charset=utf-8";
const GRAPHQL_RESPONSE_JSON_UTF8 = "application/graphql-response+json; charset=utf-8";

/**
 * Accept values and the content type Apollo answers a single result with (ApolloServer.js
 * chooseContentTypeForSingleResultResponse: no Accept, or negotiator's choice among application/json,
 * application/graphql-response+json and the callback spec). Each is checked against Apollo's own answer by
 * test/e2e/graphql-fast-path.test.ts; any other Accept goes to Apollo.
 */
export const FAST_ACCEPT: ReadonlyMap<string | undefined, string> = new Map([
  [undefined, JSON_UTF8],
  ["*/*", JSON_UTF8],
  ["application/json", JSON_UTF8],
  ["application/json, */*", JSON_UTF8],
  ["application/graphql-response+json", GRAPHQL_RESPONSE_JSON_UTF8],
  ["application/graphql-response+json, application/json", GRAPHQL_RESPONSE_JSON_UTF8],
  ["application/graphql-response+json,application/json;q=0.9", GRAPHQL_RESPONSE_JSON_UTF8],
  ["application/graphql-response+json, application/json;q=0.9", GRAPHQL_RESPONSE_JSON_UTF8],
]);

/**
 * The GraphQL route: Fastify's request handed to Apollo Server's `executeHTTPGraphQLRequest`, its answer written back.
 * What `@as-integrations/fastify` 3.1.0 does (its `fastifyApolloHandler`), less two costs it adds to every request
 * (counted with `npm run bench:callgrind`: docs/performance.md): it parses the whole URL with `new URL(url, protocol://hostname)`
 * to read its query string (here: everything from the first `?`, which is what `URL.search` holds for an HTTP
 * request target, whose URL never carries a fragment; Apollo decodes it with URLSearchParams either way), and its
 * context function must return a promise.
 */
export function registerGraphQLRoute<C extends BaseContext, R = unknown>(
  fastify: FastifyInstance,
  apollo: ApolloServer<C>,
  options: GraphQLRouteOptions<C, R>,
): void {
  apollo.assertStarted("registerGraphQLRoute()");
  const fastPath = options.fastPath ?? null;
  const viaApollo = async (request: FastifyRequest, reply: FastifyReply, context: () => Promise<C>) => {
    const url = request.url;
    const q = url.indexOf("?");
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: {
        body: request.body,
        method: request.method,
        headers: headerMap(request.headers),
        search: q < 0 ? "" : url.slice(q),
      },
      context,
    });
    for (const [name, value] of response.headers) void reply.header(name, value);
    void reply.code(response.status ?? 200);
    if (response.body.kind === "complete") return response.body.string;
    return reply.send(Readable.from(response.body.asyncIterator));
  };
  fastify.route({
    method: options.method,
    url: options.path,
    handler: async (request, reply) => {
      // The fast path: a POST with a JSON body naming a document Apollo already accepted, and an Accept whose answer
      // type is known. GET, batches, other content types and anything unusual go to Apollo as before.
      const fast = fastPath && request.method === "POST" ? fastRequest(fastPath, request) : undefined;
      if (fast) {
        let context: C;
        try {
          context = options.context(request, reply);
        } catch {
          // Apollo answers a context that cannot be built (contextCreationDidFail, its error response): let it.
          return viaApollo(request, reply, () => Promise.resolve(options.context(request, reply)));
        }
        let answer = fastPath!.run(fast.request, context, fast.contentType);
        if (answer instanceof Promise) answer = await answer;
        if (answer) {
          for (const [name, value] of answer.headers) void reply.header(name, value);
          void reply.code(answer.status);
          return answer.body;
        }
        // No resolver ran (the variables did not coerce): Apollo answers, with the context already built.
        return viaApollo(request, reply, () => Promise.resolve(context));
      }
      return viaApollo(request, reply, () => Promise.resolve(options.context(request, reply)));
    },
  });
}

function fastRequest<C, R>(
  fastPath: GraphQLFastPath<C, R>,
  request: FastifyRequest,
): { request: R; contentType: string } | undefined {
  const { headers } = request;
  const contentType = headers["content-type"];
  if (contentType === undefined || !JSON_CONTENT_TYPES.has(contentType)) return undefined;
  const answerType = FAST_ACCEPT.get(headers.accept);
  if (answerType === undefined) return undefined;
  const matched = fastPath.match(request.body);
  return matched === undefined ? undefined : { request: matched, contentType: answerType };
}

/** Apollo's header map; a repeated header's values joined with ", " (as the integration does). */
function headerMap(headers: FastifyRequest["headers"]): HeaderMap {
  const map = new HeaderMap();
  for (const name in headers) {
    const value = headers[name];
    if (value) map.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  return map;
}
