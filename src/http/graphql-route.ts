import { Readable } from "node:stream";
import { type ApolloServer, type BaseContext, HeaderMap } from "@apollo/server";
import type { IncomingHttpHeaders } from "node:http";
import type { FastifyInstance } from "fastify";
import type { FastAnswer } from "../graphql/fast-path";
import type { GraphQLExchange } from "./exchange";
import { EdgeCode } from "../graphql/edge-code";

/**
 * Answers requests whose document Apollo Server already accepted, without its pipeline (graphql/fast-path.ts).
 * `match` says whether a POST body is one it can answer; `run` answers, or returns null to hand the request to Apollo.
 */
export interface GraphQLFastPath<C, R> {
  match(body: unknown): R | undefined;
  run(
    request: R,
    context: C,
    contentType: string,
    headers: IncomingHttpHeaders,
  ): FastAnswer | null | Promise<FastAnswer | null>;
}

export interface GraphQLRouteOptions<C extends BaseContext, R = unknown> {
  path: string;
  method: Array<"GET" | "POST">;
  /** Builds the request's context from it and the milliseconds since it arrived (synchronously: nothing waits). */
  context: (request: GraphQLExchange, elapsedMs: number) => C;
  /** Null or absent: every request goes through Apollo. */
  fastPath?: GraphQLFastPath<C, R> | null;
}

/** A GraphQL request's answer, to be written by whichever HTTP layer received it (Fastify's route or the thin one). */
export interface GraphQLAnswer {
  status: number;
  headers: Iterable<[string, string]>;
  /** A complete body, or the chunks of a streamed one (incremental delivery). */
  body: string | AsyncIterable<string>;
}

/** Answers one authenticated GraphQL request whose body (POST) has been parsed. */
export type AnswerGraphQL = (request: GraphQLExchange, elapsedMs: () => number) => Promise<GraphQLAnswer>;

/**
 * Content-Type values whose essence (whatwg-mimetype) is application/json: Apollo's CSRF prevention (preventCsrf.js)
 * lets them through, and Fastify parsed the body as JSON. Other spellings go to Apollo.
 */
export const JSON_CONTENT_TYPES: ReadonlySet<string> = new Set([
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
 * The GraphQL answer: the request handed to Apollo Server's `executeHTTPGraphQLRequest`, or to the fast path.
 * What `@as-integrations/fastify` 3.1.0 does (its `fastifyApolloHandler`), less two costs it adds to every request
 * (counted with `npm run bench:callgrind`: docs/performance.md): it parses the whole URL with `new URL(url, protocol://hostname)`
 * to read its query string (here: everything from the first `?`, which is what `URL.search` holds for an HTTP
 * request target, whose URL never carries a fragment; Apollo decodes it with URLSearchParams either way), and its
 * context function must return a promise. One implementation for both HTTP layers: Fastify's route below and the
 * thin node:http route (http/thin-graphql.ts).
 */
export function graphqlAnswerer<C extends BaseContext, R = unknown>(
  apollo: ApolloServer<C>,
  options: GraphQLRouteOptions<C, R>,
): AnswerGraphQL {
  apollo.assertStarted("graphqlAnswerer()");
  const fastPath = options.fastPath ?? null;
  const viaApollo = async (request: GraphQLExchange, context: () => Promise<C>): Promise<GraphQLAnswer> => {
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
    const status = response.status ?? 200;
    if (status >= 500) answeredWithoutCause(request, status);
    return {
      status,
      headers: response.headers,
      body: response.body.kind === "complete" ? response.body.string : response.body.asyncIterator,
    };
  };
  return async (request, elapsedMs) => {
    // The fast path: a POST with a JSON body naming a document Apollo already accepted, and an Accept whose answer
    // type is known. GET, batches, other content types and anything unusual go to Apollo as before.
    const fast = fastPath && request.method === "POST" ? fastRequest(fastPath, request) : undefined;
    if (fast) {
      let context: C;
      try {
        context = options.context(request, elapsedMs());
      } catch {
        // Apollo answers a context that cannot be built (contextCreationDidFail, its error response): let it.
        return viaApollo(request, () => Promise.resolve(options.context(request, elapsedMs())));
      }
      let answer = fastPath!.run(fast.request, context, fast.contentType, request.headers);
      if (answer instanceof Promise) answer = await answer;
      if (answer) return answer;
      // No resolver ran (the variables did not coerce): Apollo answers, with the context already built.
      return viaApollo(request, () => Promise.resolve(context));
    }
    return viaApollo(request, () => Promise.resolve(options.context(request, elapsedMs())));
  };
}

/**
 * The GraphQL route on Fastify: requests the thin route (http/thin-graphql.ts) hands over (GET, other content types,
 * browser origins, draining ...) are answered here, by the same answerer. Returns the answerer for the thin route.
 */
export function registerGraphQLRoute<C extends BaseContext, R = unknown>(
  fastify: FastifyInstance,
  apollo: ApolloServer<C>,
  options: GraphQLRouteOptions<C, R>,
): AnswerGraphQL {
  const answerer = graphqlAnswerer(apollo, options);
  fastify.route({
    method: options.method,
    url: options.path,
    handler: async (request, reply) => {
      const answer = await answerer(request as unknown as GraphQLExchange, () => reply.elapsedTime);
      for (const [name, value] of answer.headers) void reply.header(name, value);
      void reply.code(answer.status);
      if (typeof answer.body === "string") return answer.body;
      return reply.send(Readable.from(answer.body));
    },
  });
  return answerer;
}

/**
 * Apollo's own 5xx (its errorResponse after an unexpected error) whose cause no line with the request id gave
 * (request.plugin.ts answeredUnexpectedly did for a plugin hook that threw): a response Apollo could not serialise
 * reaches no plugin hook, and Apollo logs nothing for it (apollo-options.ts logs its cause, without a request id). An
 * error line with the request id and status, and the access line says INTERNAL_SERVER_ERROR: before, it said
 * BAD_REQUEST, counted as a refusal before GraphQL (exchange.ts payloadWithRequestId), and no line said anything.
 */
function answeredWithoutCause(request: GraphQLExchange, status: number): void {
  const summary = (request.graphql ??= { operation: null, result: null });
  if (summary.failed) return;
  summary.failed = true;
  summary.result = EdgeCode.INTERNAL_SERVER_ERROR;
  request.log.error({ status }, `GraphQL answered ${status}: Apollo's error response, its cause logged by Apollo`);
}

function fastRequest<C, R>(
  fastPath: GraphQLFastPath<C, R>,
  request: GraphQLExchange,
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
function headerMap(headers: IncomingHttpHeaders): HeaderMap {
  const map = new HeaderMap();
  for (const name in headers) {
    const value = headers[name];
    if (value) map.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  return map;
}
