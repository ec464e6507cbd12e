import { hash } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import fastifyCors, { type FastifyCorsOptions } from "@fastify/cors";
import type { FastifyInstance } from "fastify";
import { LRUCache } from "lru-cache";
import type { Config } from "../config";
import type { Logger } from "../logging/logger";
import { summaryLines } from "../logging/summarised";
import { shownAsRead } from "../pii/client-text";
import { maskGlued } from "../pii/scrub";
import { monotonicNow } from "../util/clock";
import type { TrustProxy } from "../util/trusted-proxies";

/** Any port on the loopback names, plain http: the dev servers of consumer apps (Vite, Next, CRA ...). */
const LOOPBACK_ORIGIN = /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:[0-9]{1,5})?$/;

/** How many refused origins are remembered (so each is logged once); a flood of new ones evicts the oldest. */
export const REFUSED_ORIGINS_REMEMBERED = 1_000;

/** Longest Origin value logged (the header is the caller's to choose). */
const MAX_LOGGED_ORIGIN = 200;

/**
 * What the remembered set keeps of a refused origin: the origin itself up to MAX_LOGGED_ORIGIN characters, a longer
 * one by its SHA-256 (43 characters). The Origin is any client's to choose, up to MAX_HEADER_BYTES (16 KiB), and the
 * set kept each whole: REFUSED_ORIGINS_REMEMBERED of them held about 16 MB. Now at most 1,000 × 200 characters. A
 * hash, not a cut: two long origins alike in their first 200 characters are still two (each logged once), and a cut
 * (a V8 sliced string) would keep the whole origin alive. Paid only by a request from a refused origin longer than
 * that (a browser's is far shorter): on this 2-core host, Node 24, about 2 µs for 258 characters, 50 µs for 16 KiB,
 * beside the 16 KiB of headers such a request makes Node's parser read.
 */
export function refusedOriginKey(origin: string): string {
  return origin.length <= MAX_LOGGED_ORIGIN ? origin : hash("sha256", origin, "base64url");
}

/**
 * At most this many refused-origin warnings per SUMMARY_INTERVAL_MS (10 s); those not written are counted in one
 * summary line at the interval's end (logging/summarised.ts summaryLines). The warning comes before authentication,
 * so any client could send a new Origin with each request: one warning of about 900 bytes each (the origin three
 * times), without end, since the remembered set evicts. A developer's refused origin is still named at once unless
 * such a flood is under way.
 */
export const REFUSED_ORIGIN_WARNINGS_PER_INTERVAL = 10;

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
 * Our CORS, built once per server and shared by both layers (http-server.ts): @fastify/cors's registration for
 * what Fastify serves (preflights, GET, other content types, the explorer, health routes), and the thin GraphQL
 * route (thin-graphql.ts), which sets the same headers from the same options and allow-list, and logs refused
 * origins through the same remembered set, so an origin is warned about once whichever layer saw it first.
 */
export interface Cors {
  /** @fastify/cors's options: `origin` asks the allow-list; the others are defined here once. */
  readonly options: FastifyCorsOptions;
  /**
   * Sets on `headers` what @fastify/cors's onRequest hook sets on a request that is not a preflight (11.x,
   * index.js addCorsHeadersHandler, for an `origin` function, no credentials): `Vary: Origin` always (its
   * addOriginToVaryHeader, on a reply that has no Vary yet); then, only when the origin function allows the
   * request's Origin, `Access-Control-Allow-Origin` (the Origin itself) and `Access-Control-Expose-Headers` (the
   * exposedHeaders option joined with ", "). A refused or absent Origin gets the Vary alone. Lower-case names, in
   * that order, as Fastify's reply.header() stores them.
   */
  addHeaders(headers: Record<string, string | number>, origin: string | undefined): void;
  /**
   * Logs a refused `origin` once (see registerCors), unless it is the request's own: `host` (the Host header) and
   * `protocol` (Fastify's request.protocol, or its equal; called only for a refused origin not logged yet).
   */
  warnOnce(origin: string | undefined, host: string | undefined, protocol: () => string | undefined): void;
  /**
   * `warnOnce` for a request that has no Fastify request (the thin route, and the refusals written before Fastify:
   * admission.ts guardServer's 503, the 417 for an Expect, node-limits.ts answerClientError): from its headers
   * (Origin, Host, X-Forwarded-Proto) and socket, its protocol worked out as Fastify's (`requestProtocol`).
   */
  warnRequest(headers: IncomingHttpHeaders, socket: Socket): void;
  /** Writes the summary of the refused-origin warnings not written this interval (the server's close). */
  flush(): void;
}

/**
 * As Fastify's `request.protocol` (fastify/lib/request.js 5.x, which exports no function for it): with
 * TRUSTED_PROXIES (`trust`: the same compiled @fastify/proxy-addr function as Fastify's trustProxy list, asked the same
 * question: the peer's address, hop 0), X-Forwarded-Proto's last entry when the socket's peer is one of them;
 * otherwise `https` on a TLS socket, else `http`. Read only for a refused origin's same-origin check (`warnOnce`).
 */
export function requestProtocol(forwarded: string | undefined, socket: Socket, trust: TrustProxy | null): string {
  if (trust !== null && forwarded && trust(socket.remoteAddress as string, 0)) {
    const last = forwarded.lastIndexOf(",");
    return last === -1 ? forwarded.trim() : forwarded.slice(last + 1).trim();
  }
  return (socket as TLSSocket).encrypted ? "https" : "http";
}

/** Our allow-list and options for @fastify/cors, and the once-per-origin warning (both layers: see Cors). */
export function createCors(
  config: Config,
  logger: Logger,
  /** TRUSTED_PROXIES, the function given to Fastify's trustProxy (util/trusted-proxies.ts); null: none. */
  trust: TrustProxy | null,
  now: () => number = monotonicNow,
): Cors {
  const allowed = corsOriginAllowed(config);
  const refused = new LRUCache<string, true>({ max: REFUSED_ORIGINS_REMEMBERED });
  // One reason: the origins are client text, never a reason (summaryLines counts reasons by name).
  const warnings = summaryLines(logger, {
    perInterval: REFUSED_ORIGIN_WARNINGS_PER_INTERVAL,
    head: (n) => `CORS: ${n} more requests from refused browser origins not named yet`,
    now,
  });
  const options = {
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
    // An OPTIONS from an allowed origin without Access-Control-Request-Method (not a preflight) got @fastify/cors's
    // strict answer: 400 with a text/plain "Invalid Preflight Request", no request id, no JSON. It gets the preflight's
    // 204 instead: it grants nothing a preflight from that origin would not. A refused origin's preflight: 403
    // ORIGIN_NOT_ALLOWED (http-server.ts).
    strictPreflight: false,
  } satisfies FastifyCorsOptions;
  const exposed = options.exposedHeaders.join(", ");
  const cors: Cors = {
    options,
    flush: () => warnings.flush(),
    warnRequest(headers, socket) {
      // A string: Node joins a repeated header with ", " (only set-cookie is an array).
      const forwarded = headers["x-forwarded-proto"] as string | undefined;
      cors.warnOnce(headers.origin, headers.host, () => requestProtocol(forwarded, socket, trust));
    },
    addHeaders(headers, origin) {
      headers.vary = "Origin";
      if (origin === undefined || !allowed(origin)) return;
      headers["access-control-allow-origin"] = origin;
      headers["access-control-expose-headers"] = exposed;
    },
    warnOnce(origin, host, protocol) {
      if (typeof origin !== "string" || allowed(origin)) return;
      const key = refusedOriginKey(origin);
      if (refused.has(key)) return;
      // Same origin: scheme, host and port as the request reached us.
      if (host !== undefined && origin === `${protocol()}://${host}`) return;
      // Not remembered when not written: once the flood is over, that origin is named the next time it comes.
      if (!warnings.take("refused origin")) return;
      refused.set(key, true);
      // Client text, logged: a long digit run in it is masked even glued to letters (`x234123412346.example`, which the
      // log's scrubber would take for a token; found by an audit), and so is a PAN shape in either case
      // (`abcpe1234f.example` passed whole); both as a reader would read the origin, percent-escapes and punycode
      // decoded (pii/client-text.ts: a mobile written `%EF%BC%99…`, fullwidth digits escaped, passed whole). Ports and
      // years stay readable.
      const shown = shownAsRead(origin, maskGlued);
      const logged = shown.length > MAX_LOGGED_ORIGIN ? `${shown.slice(0, MAX_LOGGED_ORIGIN)}…` : shown;
      const setting = `CORS_ORIGINS=${[...config.corsOrigins, logged].join(",")}`;
      logger.warn(
        { origin: logged, allowWith: setting },
        `CORS: refused requests from the browser origin ${logged} (its page sees only "Failed to fetch"). ` +
          `To allow it, set ${setting}. Logged once per origin.`,
      );
    },
  };
  return cors;
}

/**
 * Registers @fastify/cors with our allow-list, and logs each refused origin once. A browser page on a refused
 * origin sees only `TypeError: Failed to fetch` (the browser hides why), so the server says it instead: one warning
 * per origin, naming the CORS_ORIGINS value that would allow it. Same-origin requests (a page served by this server,
 * such as /graphiql) carry an Origin header too, and are never refused.
 *
 * Both hooks run right after http-server.ts's request-id hook, before admission and authentication, so that every
 * answer a browser gets carries the headers it can be read with: a page on an allowed origin sees a 401
 * (UNAUTHENTICATED) or a 503 (OVERLOADED, with its `Retry-After`) as such, not as "Failed to fetch", and a preflight
 * is answered before admission could refuse it. The answers written where these hooks do not run take the same
 * headers from `addHeaders`: before Fastify (admission.ts guardServer's 503, the 417 for an Expect), in the request-id
 * hook (the draining 503), in Fastify's frameworkErrors (a malformed URL's 400: no hook runs for it; it had none) and
 * Node's own refusals (408, 431, 400: node-limits.ts answerClientError, from the parsed Origin or, when the parser
 * refused the headers, a whole Origin line of the bytes it was given). The thin route (thin-graphql.ts) sets them in
 * the same place as here. Each of those answers also logs a refused origin once, as this hook does (`warnOnce`,
 * `warnRequest`): before, an origin whose requests were refused there (a 503 at the door, a 417, a 431) was never
 * named. Only connections the connection guard closes get no warning: they are closed before a byte is read
 * (connection-guard.ts). test/e2e/refusal-cors.test.ts checks every refusal and failure on both layers.
 */
export async function registerCors(fastify: FastifyInstance, cors: Cors): Promise<void> {
  // Callback style: an async hook would be one more promise on every request, for a warning that is rare.
  fastify.addHook("onRequest", (request, _reply, done) => {
    cors.warnOnce(request.headers.origin, request.headers.host, () => request.protocol);
    done();
  });
  await fastify.register(fastifyCors, cors.options);
}
