import { Readable } from "node:stream";
import { type ApolloServer, type BaseContext, HeaderMap } from "@apollo/server";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

export interface GraphQLRouteOptions<C extends BaseContext> {
  path: string;
  method: Array<"GET" | "POST">;
  /** Builds the request's context (synchronously: nothing in it needs to wait). */
  context: (request: FastifyRequest, reply: FastifyReply) => C;
}

/**
 * The GraphQL route: Fastify's request handed to Apollo Server's `executeHTTPGraphQLRequest`, its answer written back.
 * What `@as-integrations/fastify` 3.1.0 does (its `fastifyApolloHandler`), less two costs it adds to every request
 * (counted with `npm run bench:callgrind`: docs/performance.md): it parses the whole URL with `new URL(url, protocol://hostname)`
 * to read its query string (here: everything from the first `?`, which is what `URL.search` holds for an HTTP
 * request target, whose URL never carries a fragment; Apollo decodes it with URLSearchParams either way), and its
 * context function must return a promise.
 */
export function registerGraphQLRoute<C extends BaseContext>(
  fastify: FastifyInstance,
  apollo: ApolloServer<C>,
  options: GraphQLRouteOptions<C>,
): void {
  apollo.assertStarted("registerGraphQLRoute()");
  fastify.route({
    method: options.method,
    url: options.path,
    handler: async (request, reply) => {
      const url = request.url;
      const q = url.indexOf("?");
      const response = await apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: {
          body: request.body,
          method: request.method,
          headers: headerMap(request.headers),
          search: q < 0 ? "" : url.slice(q),
        },
        context: () => Promise.resolve(options.context(request, reply)),
      });
      for (const [name, value] of response.headers) void reply.header(name, value);
      void reply.code(response.status ?? 200);
      if (response.body.kind === "complete") return response.body.string;
      return reply.send(Readable.from(response.body.asyncIterator));
    },
  });
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
