import cors, { type FastifyCorsOptions } from "@fastify/cors";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { LRUCache } from "lru-cache";
import type { Config } from "../config";
import type { Logger } from "../logging/logger";

/** Any port on the loopback names, plain http: the dev servers of consumer apps (Vite, Next, CRA ...). */
const LOOPBACK_ORIGIN = /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:[0-9]{1,5})?$/;

/** How many refused origins are remembered (so each is logged once); a flood of new ones evicts the oldest. */
export const REFUSED_ORIGINS_REMEMBERED = 1_000;

/** Longest Origin value logged (the header is the caller's to choose). */
const MAX_LOGGED_ORIGIN = 200;

/**
 * Which browser origins may call the API cross-origin:
 * - the exact origins in CORS_ORIGINS, in every mode;
 * - outside production, also any `http://localhost:<port>`, `http://127.0.0.1:<port>` or `http://[::1]:<port>`, so a
 *   consumer app's dev server works on whatever port it picked.
 */
export function corsOriginAllowed(config: Pick<Config, "env" | "corsOrigins">): (origin: string) => boolean {
  const exact = new Set(config.corsOrigins);
  const loopback = config.env !== "production";
  return (origin) => exact.has(origin) || (loopback && LOOPBACK_ORIGIN.test(origin));
}

/**
 * The only CORS header @fastify/cors answers a request without an Origin header, when its `origin` option is a
 * function as ours is (its addOriginToVaryHeader; the origin function then refuses `undefined`): the thin GraphQL
 * route (thin-graphql.ts) serves only such requests and sets the same. test/e2e/thin-graphql.test.ts compares.
 */
export const CORS_VARY_WITHOUT_ORIGIN = "Origin";

/**
 * Registers @fastify/cors with our allow-list, and logs each refused origin once. A browser page on a refused
 * origin sees only `TypeError: Failed to fetch` (the browser hides why), so the server says it instead: one warning
 * per origin, naming the CORS_ORIGINS value that would allow it. Same-origin requests (a page served by this server,
 * such as /graphiql) carry an Origin header too, and are never refused.
 */
export async function registerCors(fastify: FastifyInstance, config: Config, logger: Logger): Promise<void> {
  const allowed = corsOriginAllowed(config);
  const refused = new LRUCache<string, true>({ max: REFUSED_ORIGINS_REMEMBERED });

  // Callback style: an async hook would be one more promise on every request, for a warning that is rare.
  fastify.addHook("onRequest", (request, _reply, done) => {
    warnOnce(request);
    done();
  });
  const warnOnce = (request: FastifyRequest) => {
    const origin = request.headers.origin;
    if (typeof origin !== "string" || allowed(origin) || refused.has(origin) || sameOrigin(request, origin)) return;
    refused.set(origin, true);
    const logged = origin.length > MAX_LOGGED_ORIGIN ? `${origin.slice(0, MAX_LOGGED_ORIGIN)}…` : origin;
    const setting = `CORS_ORIGINS=${[...config.corsOrigins, logged].join(",")}`;
    logger.warn(
      { origin: logged, allowWith: setting },
      `CORS: refused requests from the browser origin ${logged} (its page sees only "Failed to fetch"). ` +
        `To allow it, set ${setting}. Logged once per origin.`,
    );
  };

  const options: FastifyCorsOptions = {
    origin: (origin, callback) => callback(null, origin !== undefined && allowed(origin)),
    methods: ["GET", "POST", "OPTIONS"],
    allowedHeaders: [
      "content-type",
      "apollo-require-preflight",
      "x-apollo-operation-name",
      "x-request-id",
      "x-api-key",
      "authorization",
      "idempotency-key",
      "x-request-timeout-ms",
    ],
    exposedHeaders: ["x-request-id", "idempotent-replayed", "retry-after"],
    maxAge: 600,
  };
  await fastify.register(cors, options);
}

/** Whether `origin` is this server's own (scheme, host and port as the request reached us). */
function sameOrigin(request: FastifyRequest, origin: string): boolean {
  const host = request.headers.host;
  return host !== undefined && origin === `${request.protocol}://${host}`;
}
