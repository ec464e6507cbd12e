import { Readable } from "node:stream";
import { type ApolloServer, type BaseContext, HeaderMap } from "@apollo/server";
import type { IncomingHttpHeaders } from "node:http";
import type { FastifyInstance } from "fastify";
import type { FastAnswer } from "../graphql/fast-path";
import type { GraphQLExchange } from "./exchange";
import { EdgeCode } from "../graphql/edge-code";
import { errorBody, JSON_TYPE, prefersLandingPage, servesAccept } from "./error-body";
import { failedAnswer } from "../logging/access-log";
import { routedSearch } from "./routed-path";

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
  /**
   * Whether Apollo serves a landing page (apollo-options.ts hasLandingPage): a GET preferring text/html is answered
   * with it, and is not refused for its Accept. Absent: false.
   */
  landingPage?: boolean;
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
 * (counted with `npm run bench:callgrind`: docs/performance-runs.md): it parses the whole URL with `new URL(url, protocol://hostname)`
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
  const landingPage = options.landingPage ?? false;
  const viaApollo = async (request: GraphQLExchange, context: () => Promise<C>): Promise<GraphQLAnswer> => {
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: {
        body: request.body,
        method: request.method,
        headers: headerMap(request.headers),
        // The query string the checks before this one read a GET's parameters from (get-parameters.ts), read by
        // Apollo as they read it.
        search: routedSearch(request.url),
      },
      context,
    });
    const status = response.status ?? 200;
    if (status >= 500) answeredWithoutCause(request, status);
    else if (status >= 400 && response.body.kind === "complete")
      answeredAfterPipeline(request, status, response.body.string);
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
    // Apollo would run the operation and only then find no type the Accept takes (notAcceptable says why this is
    // asked here). The fast path needs no such check: FAST_ACCEPT holds only Accept values it can answer.
    const refused = notAcceptable(request, landingPage);
    if (refused !== null) return refused;
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
 * A GET or POST whose Accept takes none of the types Apollo answers a result in (error-body.ts servesAccept: Apollo's
 * own rule), refused 406 before GraphQL: nothing parsed, no context, no resolver. Apollo asks the same question only
 * after the operation has run (runHttpQuery.js), and answered 406: a mutation's OTP was sent while its client was
 * told "refused", and would be sent again. Its shape is every other refusal's before GraphQL: code BAD_REQUEST (the
 * code Apollo's 406 had), request id, media type and `Vary: Accept` by the layer (refusalRepresentation), the CORS
 * headers already set, the access line's `refused`, counted in http_requests_refused_total. A GET Apollo answers with
 * its landing page (development, an Accept preferring text/html) is left to it: nothing runs for it either. HEAD and
 * other methods are left to Apollo's 405, before anything runs. Costs a served request one lookup (COMMON).
 */
function notAcceptable(request: GraphQLExchange, landingPage: boolean): GraphQLAnswer | null {
  const { method } = request;
  if (method !== "POST" && method !== "GET") return null;
  const accept = request.headers.accept;
  if (servesAccept(accept)) return null;
  if (landingPage && method === "GET" && prefersLandingPage(accept)) return null;
  request.graphql = { operation: null, result: EdgeCode.BAD_REQUEST, refused: "Accept takes no GraphQL response type" };
  return {
    status: 406,
    headers: [["content-type", JSON_TYPE]],
    body: JSON.stringify(errorBody(NOT_ACCEPTABLE_MESSAGE, EdgeCode.BAD_REQUEST, request.id)),
  };
}

const NOT_ACCEPTABLE_MESSAGE =
  "Not acceptable: GraphQL answers are application/graphql-response+json or application/json; send an Accept that " +
  "takes one of them, or none.";

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
  failedAnswer(summary);
  request.log.error({ status }, `GraphQL answered ${status}: Apollo's error response, its cause logged by Apollo`);
}

/**
 * A 4xx Apollo decided after its request pipeline had run (the summary names the operation: willSendResponse ran, and
 * every error it sent carries the request id, request.plugin.ts completeErrors): the operation may have run, a
 * mutation's OTP sent. Apollo's only such answers are its 406s (runHttpQuery.js: no type the Accept takes, found after
 * execution; an incremental result without multipart/mixed, which graphql 16 never makes), and notAcceptable refuses
 * those Accept values before GraphQL; this says so if its rule and Apollo's ever part. An error line with the request
 * id, and the access line keeps the operation and what it did (exchange.ts payloadWithRequestId no longer calls it
 * `refused`, nor counts it as a refusal).
 */
function answeredAfterPipeline(request: GraphQLExchange, status: number, body: string): void {
  const summary = request.graphql;
  if (summary === null || summary.operation === null || body.includes('"requestId"')) return;
  request.log.error(
    { status, operation: summary.operation, result: summary.result },
    `GraphQL answered ${status} after the operation's pipeline ran: what it did is on the access line`,
  );
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
