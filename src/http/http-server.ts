import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from "fastify";
import type { UpstreamCallSummary } from "../aopay/client";
import type { AuthOutcome, Authenticator, ClientIdentity } from "../auth/authenticator";
import type { Config } from "../config";
import { isTrusted, type TrustedDocumentList } from "../graphql/trusted-documents";
import { type AccessSummary, AccessLogController } from "../logging/access-log";
import type { Logger } from "../logging/logger";
import { ConnectionGuard } from "./connection-guard";
import { type Admission, guardServer, REFUSALS_LOG_INTERVAL_MS, registerAdmission } from "./admission";
import { registerCors } from "./cors";
import { registerExplorer } from "./explorer";
import { answerClientError, limitResponseWrite, nodeServerOptions, RAW_REQUEST_ID } from "./node-limits";
import { requestIdFrom, withRequestId } from "./request-id";
import { EdgeCode } from "../graphql/edge-code";
import { errorBody, GRAPHQL_PATH } from "./error-body";

/** Fixed client messages for the HTTP-level errors Fastify raises before GraphQL runs (never the input echoed). */
const HTTP_ERROR_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: "Request body is too large.",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "Unsupported Content-Type: send application/json.",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "Content-Length does not match the body.",
  FST_ERR_CTP_EMPTY_JSON_BODY: "Request body is empty.",
  FST_ERR_CTP_INVALID_JSON_BODY: "Request body is not valid JSON.",
};

export type Readiness = () => Promise<{ ready: boolean; status: string; circuits?: Record<string, string> }>;

/** A GraphQL request after authentication: every one is attributed to a client. */
export type ClientRequest = FastifyRequest & {
  client: ClientIdentity;
  upstreamCalls: UpstreamCallSummary[] | null;
  graphql: AccessSummary | null;
};

const UNTRUSTED_DOCUMENT_MESSAGE =
  "This server runs only its trusted documents: send an operation exactly as the generated client does, or its id " +
  "in extensions.persistedQuery.sha256Hash.";

/** While draining, how often sockets with no response in progress are closed (see preClose below). */
const DRAIN_SWEEP_MS = 100;

/** Closes every socket that has no response in progress: never-used spares, idle keep-alives, half-sent requests. */
function closeSocketsWithoutResponse(sockets: Set<Socket>): void {
  for (const socket of sockets) {
    // Node sets `_httpMessage` to the ServerResponse while one is open on the socket (the same test Node's own
    // closeIdleConnections() makes); there is no public accessor for it.
    const response = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (!response || response.writableFinished) socket.destroy();
  }
}

/**
 * The Fastify instance without GraphQL: request ids, access log, CORS allow-list, body limit, health routes and
 * error bodies shaped like GraphQL responses (`{ errors: [{ message, extensions: { code, requestId } }] }`).
 */
export async function createHttpServer(
  config: Config,
  logger: Logger,
  readiness: Readiness,
  authenticator: Authenticator,
  /** The trusted-document list when TRUSTED_DOCUMENTS=enforce; null when any document may run. */
  trustedDocuments: TrustedDocumentList | null = null,
  /** Overload refusals (http/admission.ts), before authentication; none when absent. */
  admission: Admission | null = null,
): Promise<FastifyInstance> {
  const limits = config.httpLimits;
  // MAX_UNAUTHENTICATED_CONNECTIONS(_PER_IP): connections that have not carried an authenticated request yet.
  const guard = new ConnectionGuard(limits, config.trustedProxies, logger, "api");
  const production = config.env === "production";
  const fastify = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: new AccessLogController(),
    // A caller's x-request-id only if it is a UUID (http/request-id.ts), else a fresh one.
    genReqId: (req: IncomingMessage) => requestIdFrom(req.headers["x-request-id"]),
    // Fastify's own answer to a malformed URL repeats the path ("'/%zz…' is not a valid url component"): ours does not.
    frameworkErrors: (error, request, reply) => {
      const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
      void (reply as FastifyReply)
        .code(status)
        .header("x-request-id", request.id)
        .send(
          errorBody(
            status >= 500 ? "Unexpected error." : "Bad request.",
            status >= 500 ? EdgeCode.INTERNAL_SERVER_ERROR : EdgeCode.BAD_REQUEST,
            request.id,
          ),
        );
    },
    bodyLimit: config.bodyLimitBytes,
    // Slow-client limits given to http.createServer itself (node-limits.ts says why). Fastify assigns its own
    // `requestTimeout` and `keepAliveTimeout` to the server after creating it: the same values, or it would undo them.
    http: nodeServerOptions(limits),
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // 408/431/400 from Node's parser, answered with a request id and our error body (not fastify's).
    clientErrorHandler: (error, socket) => answerClientError(error, socket, logger),
    // While closing, requests on kept-alive sockets are answered 503 by our first onRequest hook (with a request id
    // and our error body; fastify's own 503 has neither), and fastify adds `Connection: close`.
    return503OnClosing: false,
    forceCloseConnections: "idle",
    // X-Forwarded-For counts only when the socket peer is a configured proxy (docs/security-requirements.md B3); else request.ip is
    // the socket address and a spoofed header changes nothing.
    trustProxy: config.trustedProxies.length > 0 ? [...config.trustedProxies] : false,
  });
  fastify.decorateRequest("client", null);
  // Upstream calls made for the request, summarised in its access line (logging/access-log.ts).
  fastify.decorateRequest("upstreamCalls", null);
  // How a GraphQL request ended (operation, result), for the same line.
  fastify.decorateRequest("graphql", null);
  let draining = false;

  // Hooks that never wait are written callback style: an async hook is one more promise per request (docs/performance.md).
  fastify.addHook("onRequest", (request, reply, done) => {
    reply.header("x-request-id", request.id);
    // A 408 for a body that then trickles too slowly is written by answerClientError: it carries this id too.
    (reply.raw as ServerResponse & { [RAW_REQUEST_ID]?: string })[RAW_REQUEST_ID] = request.id;
    if (draining) {
      void reply
        .code(503)
        .send(
          errorBody("The server is shutting down: send the request again.", EdgeCode.SERVICE_UNAVAILABLE, request.id),
        );
      return;
    }
    done();
  });
  const refusals = admission
    ? guardServer(fastify.server, admission, {
        draining: () => draining,
        onRefusal: (socket) => limitResponseWrite(socket, limits),
        logRefusals: (refused, overSeconds) =>
          logger.warn(
            { refused, overSeconds, code: EdgeCode.OVERLOADED },
            `overloaded: ${refused} GraphQL requests refused with 503 in ${overSeconds} s (one line per ` +
              `${REFUSALS_LOG_INTERVAL_MS / 1000} s at most, instead of an access line each)`,
          ),
      })
    : null;
  if (admission) registerAdmission(fastify, admission);
  // Authenticate GraphQL requests before their body is even parsed (docs/security-requirements.md B3, OWASP API2).
  // Callback style: API keys are checked at once; only a bearer token waits (for its JWKS).
  const authenticated = (request: FastifyRequest, reply: FastifyReply, outcome: AuthOutcome, done: () => void) => {
    if (!outcome.ok) {
      request.log.info({ reason: outcome.reason }, "request not authenticated");
      const message = authenticator.required
        ? "Authentication required: send an API key in the x-api-key header or a bearer token."
        : "Invalid credentials: fix them, or send none to call anonymously in development.";
      void reply
        .code(401)
        .header("www-authenticate", "Bearer")
        .send(errorBody(message, EdgeCode.UNAUTHENTICATED, request.id));
      return;
    }
    (request as ClientRequest).client = outcome.client;
    // The connection is now an authenticated client's: it no longer counts toward the unauthenticated caps.
    guard.authenticated(request.raw.socket);
    // On the request's own child logger (reply.log is the same object): no second child per request.
    (request.log as Logger).setBindings({ clientId: outcome.client.id });
    done();
  };
  fastify.addHook("onRequest", (request, reply, done) => {
    if (request.routeOptions.url !== GRAPHQL_PATH) return done();
    const now = authenticator.authenticateNow(request.headers);
    if (now) return authenticated(request, reply, now, done);
    authenticator.authenticate(request.headers).then(
      (outcome) => authenticated(request, reply, outcome, done),
      (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
    );
  });

  fastify.addHook("preHandler", (request, reply, done) => {
    if (request.routeOptions.url !== GRAPHQL_PATH) return done();
    const params = (request.method === "GET" ? request.query : request.body) as Record<string, unknown> | undefined;
    const source = params?.query;
    // docs/security-requirements.md A3 (character limit): long documents are refused before Apollo parses them.
    if (typeof source === "string" && source.length > config.graphqlLimits.maxQueryChars) {
      const message = production
        ? "Query is too large."
        : `Query is too large (over ${config.graphqlLimits.maxQueryChars} characters).`;
      return reply.code(400).send(errorBody(message, EdgeCode.BAD_REQUEST, request.id));
    }
    // docs/security-requirements.md A11: with TRUSTED_DOCUMENTS=enforce, a document off the list is refused before Apollo parses it.
    // Its text is never logged (it may carry an Aadhaar number as a literal).
    if (trustedDocuments && !isTrusted(trustedDocuments, { query: source, extensions: params?.extensions })) {
      request.log.info(
        { sentAs: typeof source === "string" && source !== "" ? "text" : "id" },
        "untrusted document refused",
      );
      return reply.code(400).send(errorBody(UNTRUSTED_DOCUMENT_MESSAGE, EdgeCode.UNTRUSTED_DOCUMENT, request.id));
    }
    done();
  });

  fastify.addHook("onSend", (request, reply, payload, done) => {
    // RESPONSE_WRITE_TIMEOUT_MS: a client that does not read its response is cut (node-limits.ts).
    limitResponseWrite(request.raw.socket, limits);
    // While draining, a kept-alive socket that was busy when close() began would otherwise stay open after its last
    // response until keepAliveTimeout, holding shutdown up to the grace period. Ask the client to close it instead.
    if (draining) reply.header("connection", "close");
    // Refusals Apollo answers before its request pipeline (CSRF prevention, batching, malformed bodies) carry no
    // request id in their body: add it. Error statuses only; success bodies are never parsed.
    if (reply.statusCode >= 400 && typeof payload === "string" && !payload.includes('"requestId"'))
      done(null, withRequestId(payload, request.id));
    else done(null, payload);
  });

  fastify.setNotFoundHandler((request, reply) => {
    // Fastify's default body repeats the URL, query string included.
    void reply.code(404).send(errorBody("Not found.", EdgeCode.NOT_FOUND, request.id));
  });

  fastify.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status >= 500) request.log.error({ err: error }, "unhandled HTTP error");
    const message = status >= 500 ? "Unexpected error." : (HTTP_ERROR_MESSAGES[error.code] ?? "Bad request.");
    void reply
      .code(status)
      .send(errorBody(message, status >= 500 ? EdgeCode.INTERNAL_SERVER_ERROR : EdgeCode.BAD_REQUEST, request.id));
  });

  // CORS allow-list (CORS_ORIGINS; any loopback origin outside production), each refused origin logged once.
  await registerCors(fastify, config, logger);

  // The self-hosted explorer (GraphiQL) at /graphiql, in development only (docs/walkthrough.md).
  if (!production) await registerExplorer(fastify);

  fastify.get("/healthz", async () => ({ status: "ok" }));
  fastify.get("/readyz", async (_request, reply) => {
    const { ready, status, circuits } = await readiness();
    return reply.code(ready ? 200 : 503).send(circuits ? { status, circuits } : { status });
  });
  // Sockets we may have to close while draining. Node's server.close() closes only connections it calls idle, and a
  // connection that has sent no request yet counts as busy (its headers timer is running): browsers and undici open
  // such spare connections ahead of need, and one held shutdown until the client's own keep-alive timeout (4 s for
  // undici, longer for browsers) or the grace period.
  const sockets = new Set<Socket>();
  guard.attach(fastify.server);
  fastify.server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  let sweeper: NodeJS.Timeout | undefined;
  // preClose runs as soon as close() begins, before the listener stops: from then on responses ask to close, and
  // every socket without a response in progress is closed now and every DRAIN_SWEEP_MS until the server has closed.
  // A request that was still arriving on such a socket would have been answered 503 (return503OnClosing), so
  // cutting it loses nothing; a request whose response is in progress is never cut before the grace period.
  fastify.addHook("preClose", async () => {
    draining = true;
    closeSocketsWithoutResponse(sockets);
    sweeper = setInterval(() => closeSocketsWithoutResponse(sockets), DRAIN_SWEEP_MS).unref();
  });
  fastify.addHook("onClose", async () => {
    clearInterval(sweeper);
    refusals?.flush();
  });

  return fastify;
}
