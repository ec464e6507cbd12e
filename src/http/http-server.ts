import { Buffer } from "node:buffer";
import { type LookupAddress, lookup } from "node:dns";
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { performance } from "node:perf_hooks";
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
import type { RequestTrace } from "../graphql/context";
import { RequestTracing } from "../graphql/plugins/tracing.plugin";
import type { TrustedDocumentList } from "../graphql/trusted-documents";
import {
  type AccessSummary,
  AccessLogController,
  logAccess,
  type RefusalCounter,
  StreamEndLines,
} from "../logging/access-log";
import { type Logger, requestLogger } from "../logging/logger";
import type { ConnectionRefusal } from "../observability/metrics";
import { ConnectionGuard } from "./connection-guard";
import {
  type Admission,
  admittedAtTheDoor,
  clientKey,
  guardServer,
  REFUSALS_LOG_INTERVAL_MS,
  refuseOverloaded,
  registerAdmission,
} from "./admission";
import { createCors, registerCors } from "./cors";
import { EXPLORER_PATH, type ExplorerServes, registerExplorer } from "./explorer";
import type { GraphQLExchange } from "./exchange";
import type { AnswerGraphQL } from "./graphql-route";
import { getParameters, lazyQuery } from "./get-parameters";
import { ASTERISK, originForm, routedPath } from "./routed-path";
import { installThinGraphQL } from "./thin-graphql";
import { compileTrustedProxies } from "../util/trusted-proxies";
import { representationRefusal } from "./representation";
import {
  answerClientError,
  closesUnreadBody,
  limitResponseWrite,
  missingHost,
  nodeServerOptions,
  RAW_REQUEST_ID,
  refusedByParser,
} from "./node-limits";
import { callerRequestId, freshRequestId } from "./request-id";
import {
  acceptClient,
  authRefusal,
  authUnavailableLines,
  type DocumentLimits,
  documentRefusal,
  type EdgeAnswer,
  errorAnswer,
  failureAnswer,
  payloadWithRequestId,
} from "./exchange";
import { EdgeCode } from "../graphql/edge-code";
import { errorBody, GRAPHQL_PATH, refusalRepresentation, refusalType } from "./error-body";
import { withoutKey } from "../util/transient-map";

/** The 404's message: where the API is, for a client that asked elsewhere. */
export const NOT_FOUND_MESSAGE = `Not found: this server answers GraphQL at ${GRAPHQL_PATH}.`;

/**
 * The address to hand Fastify's listen() for HOST: `localhost` is looked up here and its FIRST address (the one Node
 * itself binds for any other name) returned, with the addresses left unserved; any other HOST is passed as is. Why: for
 * the name `localhost` alone, Fastify 5 binds every other address the name resolves to (::1 beside 127.0.0.1) on a
 * second node:http server of its own, which calls Fastify's handler directly (node_modules/fastify/lib/server.js
 * multipleBindings). Nothing this file sets on `fastify.server` reached it: the request wrapper, so during a stop its
 * pipelined answers all said `Connection: close` and those queued behind were lost (an OTP maybe sent); the drain's
 * socket sweep; the connection guard; the thin GraphQL route and the admission check at the door; the Expect refusal.
 * Binding one address keeps every listener the server opens under those (test/e2e/localhost-listener.test.ts). A client
 * that resolves `localhost` tries each address it gets (Happy Eyeballs: Node's fetch and net, curl, browsers); HOST=::1
 * serves IPv6 loopback instead, `::` both families on every interface (docs/operations.md, "Readiness and shutdown"). A
 * failed lookup returns `localhost` unchanged: listen() then fails as before, naming HOST (util/listen-error.ts).
 */
export async function listenAddress(host: string): Promise<{ address: string; unserved: string[] }> {
  if (host !== "localhost") return { address: host, unserved: [] };
  try {
    // dns.lookup, as Node's listen() and Fastify look the name up (getaddrinfo, the system's order).
    const all = await new Promise<LookupAddress[]>((resolve, reject) =>
      lookup(host, { all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))),
    );
    if (all.length === 0) return { address: host, unserved: [] };
    return { address: all[0].address, unserved: all.slice(1).map((entry) => entry.address) };
  } catch {
    return { address: host, unserved: [] };
  }
}

/** The HTTP server: Fastify, and the thin GraphQL route in front of it once given its answerer. */
export interface HttpServer {
  readonly fastify: FastifyInstance;
  /** Serves usual GraphQL requests with `answer` before Fastify (thin-graphql.ts); call once the route exists. */
  serveGraphQL(answer: AnswerGraphQL): void;
  /** Requests the thin route has served so far (0 when it is off). */
  readonly thinRouteServed: number;
  /**
   * The pre-stop delay has begun (SHUTDOWN_DELAY_MS, index.ts): every request is still served, and every answer asks
   * for `Connection: close`, so kept-alive clients open their next connection while the listener still accepts it.
   */
  leaveRotation(): void;
  /**
   * Answers begun and not yet written to the end that took no admission place (Admission.unfinished counts those that
   * did): the drain's 503, /readyz, /healthz, an explorer file, a refusal. A stop's cut counts them too (app.ts).
   */
  readonly answersBeingWritten: number;
}

export type Readiness = () => Promise<{ ready: boolean; status: string; circuits?: Record<string, string> }>;

/** Set on a request whose response closed before the answer was handed to it (its client hung up). */
const CLOSED_EARLY = Symbol("closedEarly");
/** Set once onSend has run: the answer is handed to the response (a streamed one still being written). */
const HANDED = Symbol("handed");
/** Set on a request whose streamed answer failed on our side after its headers: the error (StreamFaults). */
const STREAM_FAILED = Symbol("streamFailed");

/** A GraphQL request after authentication: every one is attributed to a client. */
export type ClientRequest = FastifyRequest & {
  [CLOSED_EARLY]?: true;
  [HANDED]?: true;
  [STREAM_FAILED]?: Error;
  client: ClientIdentity;
  upstreamCalls: UpstreamCallSummary[] | null;
  graphql: AccessSummary | null;
  trace: RequestTrace | null;
};

/**
 * The access log, telling a streamed answer's own failure from its client's hang-up. Fastify calls streamError for
 * both: for a stream that failed while the response is still open (an explorer file whose read fails mid-way, before
 * Fastify destroys the response), and for a response closed first (the client hung up). The first is ours: the
 * request is marked, and its access line is the error line with the error (the close handler below), not `clientGone`
 * (it was); that line is the event's one line: the "response terminated with an error" warning written beside it
 * (StreamEndLines) said the same thing twice. The second keeps StreamEndLines' summarised lines.
 */
class StreamFaults extends AccessLogController {
  override streamError(error: Error, request: FastifyRequest, reply: FastifyReply): void {
    if (reply.raw.destroyed) super.streamError(error, request, reply);
    else (request as ClientRequest)[STREAM_FAILED] = error;
  }
}

/** The request's operation span, if GraphQL started one, ends with the status its access line says. */
function endSpan(request: ClientRequest, status: number, clientGone: boolean): void {
  if (request.trace !== null) RequestTracing.end(request.trace, status, request.graphql, clientGone);
}

/** Sends one of the HTTP layer's own answers through Fastify. */
function send(reply: FastifyReply, answer: EdgeAnswer): void {
  void reply.code(answer.status);
  if (answer.headers) void reply.headers(answer.headers);
  void reply.send(answer.body);
}

/** Whether the request is a CORS preflight (Fetch standard: OPTIONS with Origin and Access-Control-Request-Method). */
function isPreflight(headers: IncomingHttpHeaders): boolean {
  return headers.origin !== undefined && headers["access-control-request-method"] !== undefined;
}

/**
 * The methods each path this listener serves takes (the `Allow` of its 405 and of its answer to OPTIONS): GraphQL
 * over GET and POST (HEAD reaches Apollo, which refuses it 405: its Allow made this one in onSend), the probes and the
 * explorer's files GET and HEAD (Fastify answers HEAD for a GET route). OPTIONS is answered on each (204), and is a
 * CORS preflight from an Origin.
 */
const ALLOW_GRAPHQL = "GET, POST, OPTIONS";
const ALLOW_READ = "GET, HEAD, OPTIONS";
const ALLOWED_METHODS: ReadonlyMap<string, string> = new Map([
  [GRAPHQL_PATH, ALLOW_GRAPHQL],
  ["/healthz", ALLOW_READ],
  ["/readyz", ALLOW_READ],
]);

/**
 * The `Allow` of the path of `url` (its query string aside), or null when this listener serves no such path: then
 * 404 whatever the method. `*` (an `OPTIONS *`, RFC 9110 §9.3.7: the server as a whole) takes every method some path
 * takes (the not-found handler answers other methods on it 405, naming OPTIONS alone). The path is read as Fastify's
 * router reads it (routed-path.ts: an absolute form's path, decodeURI, `?` or `#` ends it), so that `/%68ealthz` and
 * `http://host/healthz`, which GET reaches as /healthz, are /healthz to every method (each was a 404 to PUT and
 * OPTIONS). The explorer's paths exist in development only (explorer.ts; `explorer` null in production): /graphiql,
 * and under it what its route answers with a file.
 */
export function allowedMethods(url: string, explorer: ExplorerServes | null): string | null {
  if (ASTERISK.test(url)) return "GET, HEAD, POST, OPTIONS";
  // A target the router refuses (null) is its 400 before any handler: no path.
  const routed = routedPath(url);
  if (routed === null) return null;
  const allow = ALLOWED_METHODS.get(routed);
  if (allow !== undefined) return allow;
  // The explorer's files as @fastify/static reads the target, not as the router does (explorer.ts distHolds).
  if (explorer !== null && (routed === EXPLORER_PATH || (routed.startsWith(`${EXPLORER_PATH}/`) && explorer(url))))
    return ALLOW_READ;
  return null;
}

/** The `Allow` of a 405 to another method than OPTIONS on `*` (the not-found handler). */
export const ALLOW_ASTERISK = "OPTIONS";

/** Whether `method` is one of `allow`'s. */
function allows(allow: string, method: string): boolean {
  return allow.split(", ").includes(method);
}

/** While draining, how often sockets with no response in progress are closed (see preClose below). */
const DRAIN_SWEEP_MS = 100;

/**
 * The response open on `socket`, if any: Node sets `_httpMessage` to the ServerResponse while one is (the same test
 * Node's own closeIdleConnections() makes); there is no public accessor for it. One pipelined behind it waits in
 * Node's queue, not here: it begins once this one has been written.
 */
function openResponse(socket: Socket): ServerResponse | null | undefined {
  return (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
}

/** Closes every socket that has no response in progress: never-used spares, idle keep-alives, half-sent requests. */
function closeSocketsWithoutResponse(sockets: Set<Socket>): void {
  for (const socket of sockets) {
    const response = openResponse(socket);
    if (!response || response.writableFinished) socket.destroy();
  }
}

/**
 * The Fastify instance without GraphQL: request ids, access log, CORS allow-list, body limit, health routes and
 * error bodies shaped like GraphQL responses (`{ errors: [{ message, extensions: { code, requestId } }] }`); and in
 * front of it, on the same node:http server, the admission check at the door (admission.ts) and the thin GraphQL
 * route (thin-graphql.ts), which serves the usual GraphQL request itself once `serveGraphQL` gives it the answerer.
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
  /** False: every GraphQL request goes through Fastify (tests compare the two layers). Default true. */
  thinRoute = true,
  /** Counts requests refused before GraphQL (metrics); none when absent. */
  countRefusal?: RefusalCounter,
  /** Counts connections the connection guard closes (metrics); none when absent. */
  countConnectionRefused?: (listener: string, reason: ConnectionRefusal) => void,
  /** The refused-origin warnings' clock (cors.ts createCors); default monotonic. */
  corsClock?: () => number,
): Promise<HttpServer> {
  const limits = config.httpLimits;
  // TRUSTED_PROXIES compiled once, the one function every reader asks (util/trusted-proxies.ts): Fastify's
  // trustProxy, the thin route's client IP, the protocol for the refused-origin warning, the connection guard.
  const trust = compileTrustedProxies(config.trustedProxies);
  // MAX_UNAUTHENTICATED_CONNECTIONS(_PER_IP): connections that have not carried an authenticated request yet.
  const guard = new ConnectionGuard(limits, trust, logger, "api", countConnectionRefused);
  // Called once a request on the connection is authenticated (acceptClient, both layers).
  const connectionAuthenticated = (socket: Socket): void => guard.authenticated(socket);
  const production = config.env === "production";
  // With trace export, a GraphQL request's operation span ends with its access line (RequestTracing.end says why).
  // The lines of streamed answers a client cut short, both layers (logging/access-log.ts StreamEndLines).
  const streamEnds = new StreamEndLines(logger);
  const accessLog = new StreamFaults(
    countRefusal,
    config.telemetry.enabled ? (request, status, gone) => endSpan(request as ClientRequest, status, gone) : undefined,
    streamEnds,
  );
  const fastify = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: accessLog,
    // Always our own (http/request-id.ts): a caller's x-request-id is logged beside it (onRequest below).
    genReqId: freshRequestId,
    // `request.query` parsed when read, not by the router for every request (get-parameters.ts lazyQuery).
    routerOptions: { querystringParser: lazyQuery },
    // Each request's child logger made as the thin route makes it (logging/logger.ts requestLogger: pino's child's
    // lines, without its per-child work; Fastify's default passes `{}` as options, pino's slowest child). A route with
    // a log level or serializers of its own (none here) gets pino's child with them.
    childLoggerFactory: (parent, bindings, options) =>
      options.level === undefined && options.serializers === undefined
        ? (requestLogger(parent as Logger, bindings as Record<string, string>) as FastifyBaseLogger)
        : parent.child(bindings, options),
    // Fastify's own answer to a malformed URL repeats the path ("'/%zz…' is not a valid url component"): ours does not.
    frameworkErrors: (error, request, reply) => {
      // Fastify writes no access line for these (its onBadUrl sets up no response listener): ours, with a fixed
      // reason (the URL itself is never logged), and the refusal counted; a 5xx is the router's failure, not a refusal
      // (exchange.ts failureAnswer, errorAnswer's too).
      const refused = error.code === "FST_ERR_BAD_URL" ? "malformed URL" : "refused by the router";
      const { status, summary, body } = failureAnswer(error, request.log as Logger, request.id, refused);
      const began = performance.now();
      reply.raw.once("finish", () =>
        logAccess(
          request.log as Logger,
          null,
          request.method,
          "(no route)",
          status,
          summary,
          null,
          performance.now() - began,
          countRefusal,
        ),
      );
      // Nor any onRequest hook (the CORS ones included: cors.ts registerCors), nor onSend: the CORS headers, so that
      // a page on an allowed origin reads its 400 (before, "Failed to fetch"), and the refusal's media type by Accept
      // (refusalType) are set here.
      const headers: Record<string, string | number> = {};
      cors.warnOnce(request.headers.origin, request.headers.host, () => request.protocol);
      cors.addHeaders(headers, request.headers.origin);
      void (reply as FastifyReply)
        .code(status)
        .header("x-request-id", request.id)
        .headers(headers)
        .header("content-type", refusalType(request.headers.accept))
        .header("vary", "Origin, Accept")
        .send(JSON.stringify(body));
    },
    bodyLimit: config.bodyLimitBytes,
    // An absolute-form target (RFC 9112 §3.2.2) read as its path and query by everything after the router, as the
    // router reads it (routed-path.ts originForm). No line: the URL is never logged.
    rewriteUrl: (req) => originForm(req.url ?? "/"),
    // Slow-client limits given to http.createServer itself (node-limits.ts says why). Fastify assigns its own
    // `requestTimeout` and `keepAliveTimeout` to the server after creating it: the same values, or it would undo them.
    // An HTTP/1.1 request without Host (node-limits.ts missingHost) is refused by our first onRequest hook, as our
    // other 400s are, not by Node (nodeServerOptions turns its requireHostHeader off).
    http: nodeServerOptions(limits),
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // 408/431/400 from Node's parser, answered with a request id, our error body (not fastify's) and the CORS headers.
    clientErrorHandler: (error, socket) =>
      answerClientError(error, socket, logger, cors, countRefusal, config.admission.retryAfterSeconds),
    // While closing, requests on kept-alive sockets are answered 503 by our first onRequest hook (with a request id
    // and our error body; fastify's own 503 has neither), and fastify adds `Connection: close`.
    return503OnClosing: false,
    forceCloseConnections: "idle",
    // X-Forwarded-For counts only when the socket peer is a configured proxy (docs/security-requirements.md B3); else request.ip is
    // the socket address and a spoofed header changes nothing.
    trustProxy: trust ?? false,
  });
  fastify.decorateRequest("client", null);
  // Upstream calls made for the request, summarised in its access line (logging/access-log.ts).
  fastify.decorateRequest("upstreamCalls", null);
  // How a GraphQL request ended (operation, result), for the same line.
  fastify.decorateRequest("graphql", null);
  // Its operation span's holder, once GraphQL built its context with trace export on (exchange.ts).
  fastify.decorateRequest("trace", null);
  let draining = false;
  // The pre-stop delay (leaveRotation): served as usual, answers only ask to close their connection. A kept-alive
  // connection stays on this replica whatever the endpoints say (kube-proxy's conntrack entry, a client's pool) until
  // the drain closes it between two requests, where a request sent at that moment is lost (a POST is not retried).
  // Closed after an answer, the client's next connection is opened by its own choice, while this listener still
  // accepts it, and lands on another replica once the endpoint is gone. The cost: a few seconds of new handshakes.
  let leaving = false;
  // The last request Node has read on each socket. Node runs pipelined requests as they arrive and queues their
  // answers in order; an answer with `Connection: close` ends the connection once written, and the answers queued
  // behind it, of requests already run (an OTP sent), were never written, their clients told nothing (RFC 9112 §9.3.2
  // lets them send again). Only the answer to the last request read asks to close (test/e2e/shutdown.test.ts). Its
  // listener is added below, once both layers have taken theirs (thin-graphql.ts wraps a single one).
  const lastRequest = new WeakMap<Socket, IncomingMessage>();
  /**
   * Whether the answer to `req` asks to close its connection: draining, or the pre-stop delay before it (both layers),
   * and no request read behind it on its socket (one handed over without a socket's request event counts as last).
   */
  const closesConnections = (req: IncomingMessage): boolean => {
    if (!draining && !leaving) return false;
    const last = lastRequest.get(req.socket);
    return last === undefined || last === req;
  };
  // A request refused before GraphQL says when to try again, as the overload refusal does (admission.ts): the same
  // ADMISSION_RETRY_AFTER_SECONDS (default 1 s), by which time the load balancer routes it to another instance.
  const drainingRetryAfter = String(config.admission.retryAfterSeconds);

  // CORS_ORIGINS (any loopback origin outside production), for both layers: one allow-list, one set of options, one
  // memory of the refused origins already logged (cors.ts).
  const cors = createCors(config, logger, trust, corsClock);
  // The "bearer token not checked" warnings of both layers, summarised past a few per 10 s (exchange.ts).
  const unavailableLines = authUnavailableLines(logger);
  /**
   * A refusal from the first onRequest hook, before the CORS hooks run: their warning and headers, so that a browser
   * can read it and a refused origin is named as on every other answer (cors.ts registerCors), and `refused` on its
   * access line (counted: http_requests_refused_total).
   */
  const refuseBeforeCors = (
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    refused: string,
    result: EdgeCode,
  ): void => {
    const headers: Record<string, string | number> = {};
    cors.warnOnce(request.headers.origin, request.headers.host, () => request.protocol);
    cors.addHeaders(headers, request.headers.origin);
    (request as ClientRequest).graphql = { operation: null, result, refused };
    reply.code(status).headers(headers);
  };

  // Hooks that never wait are written callback style: an async hook is one more promise per request (docs/performance-runs.md).
  fastify.addHook("onRequest", (request, reply, done) => {
    // A client that closes the connection before its answer is delivered: no `finish`, so Fastify writes no access
    // line. Its line says `clientGone`: now if the answer was handed to the response, else when it is (onSend below).
    // A streamed answer (an explorer bundle) cut in the middle is handed but not ended: it had no access line at all,
    // only Fastify's "stream closed prematurely" (now summarised: AccessLogController.streamError).
    // One listener per request on this layer; the thin route uses the `close` listener it has anyway.
    const raw = reply.raw;
    raw.once("close", () => {
      if (raw.writableFinished || raw.errored || refusedByParser(raw)) return;
      const failed = (request as ClientRequest)[STREAM_FAILED];
      if (failed !== undefined) accessLog.requestCompleted(failed, request, reply);
      else if (raw.writableEnded || (request as ClientRequest)[HANDED]) accessLog.clientGone(request, reply);
      else (request as ClientRequest)[CLOSED_EARLY] = true;
    });
    reply.header("x-request-id", request.id);
    const caller = callerRequestId(request.headers["x-request-id"]);
    if (caller !== undefined) (request.log as Logger).setBindings({ callerRequestId: caller });
    // A 408 for a body that then trickles too slowly is written by answerClientError: it carries this id too.
    (reply.raw as ServerResponse & { [RAW_REQUEST_ID]?: string })[RAW_REQUEST_ID] = request.id;
    if (missingHost(request.raw)) {
      // Before the drain's 503: it would be refused again as it is, so nothing invites a retry.
      refuseBeforeCors(request, reply, 400, "no Host header", EdgeCode.BAD_REQUEST);
      void reply
        // As Node's own answer did: a client that sends no Host may not frame its next request right either.
        .header("connection", "close")
        .send(
          errorBody("Bad request: an HTTP/1.1 request must carry a Host header.", EdgeCode.BAD_REQUEST, request.id),
        );
      return;
    }
    if (draining) {
      refuseBeforeCors(request, reply, 503, "shutting down", EdgeCode.SERVICE_UNAVAILABLE);
      void reply.header("retry-after", drainingRetryAfter).send(
        errorBody(
          // Its Retry-After said in words, as every refusal that sends one (test/e2e/refusal-catalogue.test.ts).
          "The server is shutting down: send the request again after Retry-After seconds (another instance may " +
            "answer it). Nothing was done.",
          EdgeCode.SERVICE_UNAVAILABLE,
          request.id,
          config.admission.retryAfterSeconds,
        ),
      );
      return;
    }
    done();
  });
  // Next, before admission and authentication, so that their refusals carry the CORS headers too (cors.ts).
  await registerCors(fastify, cors);
  const documents: DocumentLimits = {
    maxQueryChars: config.graphqlLimits.maxQueryChars,
    production,
    trustedDocuments,
  };
  // Fastify's own listener: a request without Host goes straight to it (below).
  const [fastifyListener] = fastify.server.listeners("request") as Array<
    (req: IncomingMessage, res: ServerResponse) => void
  >;
  // The thin GraphQL route sits between the admission check at the door and Fastify (thin-graphql.ts).
  let answerGraphQL: AnswerGraphQL | null = null;
  const thin = thinRoute
    ? installThinGraphQL(fastify.server, {
        logger,
        authenticator,
        unavailableLines,
        streamEnds,
        authenticated: connectionAuthenticated,
        limits,
        bodyLimit: config.bodyLimitBytes,
        documents,
        draining: () => draining,
        closesConnections,
        admitted: admission ? admittedAtTheDoor : () => true,
        admission,
        countRefusal,
        trust,
        cors,
        answer: () => answerGraphQL,
      })
    : null;
  const refusals = admission
    ? guardServer(fastify.server, admission, {
        draining: () => draining,
        cors,
        onRefusal: (socket) => limitResponseWrite(socket, limits),
        bodyLimit: config.bodyLimitBytes,
        logRefusals: (refused, overSeconds) =>
          logger.warn(
            { refused, overSeconds, code: EdgeCode.OVERLOADED },
            `overloaded: ${refused} GraphQL requests refused with 503 in ${overSeconds} s (one line per ` +
              `${REFUSALS_LOG_INTERVAL_MS / 1000} s at most, instead of an access line each)`,
          ),
      })
    : null;
  // Outermost: an HTTP/1.1 request without Host (missingHost) goes to Fastify, whose first onRequest hook refuses it,
  // past the thin route (it must not reach GraphQL) and past the door's admission check: refused 400 whatever the
  // load, it takes no place and is not counted as shed (graphql_requests_shed_total) but as a refusal, once.
  const [outermost] = fastify.server.listeners("request") as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  if (outermost !== fastifyListener) {
    fastify.server.removeListener("request", outermost);
    fastify.server.on("request", (req: IncomingMessage, res: ServerResponse) =>
      (missingHost(req) ? fastifyListener : outermost)(req, res),
    );
  }
  if (admission) {
    registerAdmission(fastify, admission);
    // The start's event-loop stalls are forgotten as the listener opens (Admission.startServing), not when listen()
    // resolves (app.ts calls it again then): a request served in between met the start's stalls read as load, refused
    // 503 OVERLOADED. That window was long with HOST=localhost while Fastify looked the name up again for its second
    // listener; one address is bound now (listenAddress), and the window is the few ticks before listen() resolves.
    fastify.server.once("listening", () => admission.startServing());
  }
  // Authenticate GraphQL requests before their body is even parsed (docs/security-requirements.md B3, OWASP API2).
  // Callback style: API keys are checked at once; only a bearer token waits (for its JWKS).
  const authenticated = (request: FastifyRequest, reply: FastifyReply, outcome: AuthOutcome, done: () => void) => {
    if (!outcome.ok)
      return send(
        reply,
        authRefusal(outcome, authenticator, request as ClientRequest & { log: Logger }, unavailableLines),
      );
    // On the request's own child logger (reply.log is the same object): no second child per request.
    acceptClient(request as ClientRequest & { log: Logger }, outcome.client, connectionAuthenticated);
    // A client holding its share of admission places is refused before its body is read (Admission.shareFull).
    if (admission && admission.shareFull(clientKey(request as unknown as GraphQLExchange)) !== null)
      return refuseOverloaded(admission, request, reply, "client_share");
    done();
  };
  fastify.addHook("onRequest", (request, reply, done) => {
    if (request.routeOptions.url !== GRAPHQL_PATH) return done();
    const now = authenticator.authenticateNow(request.headers, request.raw.rawHeaders);
    if (now) return authenticated(request, reply, now, done);
    authenticator.authenticate(request.headers, request.raw.rawHeaders).then(
      (outcome) => authenticated(request, reply, outcome, done),
      (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
    );
  });

  // A body this server would read otherwise than the client meant (a Content-Encoding, a charset other than UTF-8, a
  // repeated Content-Type) is refused before it is read (representation.ts). The thin route sends every such request
  // here.
  fastify.addHook("preParsing", (request, reply, payload, done) => {
    if (request.method !== "POST" || request.routeOptions.url !== GRAPHQL_PATH) return done(null, payload);
    const refusal = representationRefusal(request.headers, request as ClientRequest);
    if (refusal) return void send(reply, refusal);
    done(null, payload);
  });

  fastify.addHook("preHandler", (request, reply, done) => {
    if (request.routeOptions.url !== GRAPHQL_PATH) return done();
    // A GET's parameters as Apollo reads them, not Fastify's `request.query` (get-parameters.ts says how they part).
    const params = (request.method === "GET" ? getParameters(request.url) : request.body) as
      Record<string, unknown> | undefined;
    const refusal = documentRefusal(params, documents, request as ClientRequest);
    if (refusal) return void send(reply, refusal);
    done();
  });

  fastify.addHook("onSend", (request, reply, payload, done) => {
    // Its client has gone (the onRequest hook's `close`): this is the last the request is heard of.
    if ((request as ClientRequest)[CLOSED_EARLY]) accessLog.clientGone(request, reply);
    else (request as ClientRequest)[HANDED] = true;
    // RESPONSE_WRITE_TIMEOUT_MS: a client that does not read its response is cut (node-limits.ts).
    limitResponseWrite(request.raw.socket, limits);
    // The answer is written: its admission place is given back now, not when the client has read it (Admission.take).
    // A streamed answer is still being produced: its place goes when it closes.
    if (admission && typeof payload === "string") admission.answered(reply.raw);
    // While draining, a kept-alive socket that was busy when close() began would otherwise stay open after its last
    // response until keepAliveTimeout, holding shutdown up to the grace period. Ask the client to close it instead.
    const status = reply.statusCode;
    if (closesConnections(request.raw) || closesUnreadBody(status, request.raw, config.bodyLimitBytes))
      reply.header("connection", "close");
    // Apollo's own 405 (a HEAD: Fastify hands it the GET route's HEAD) says `Allow: GET, POST`; every other answer
    // about this path's methods names OPTIONS too (ALLOWED_METHODS).
    if (status === 405 && request.routeOptions.url === GRAPHQL_PATH) reply.header("allow", ALLOW_GRAPHQL);
    if (status < 400 || typeof payload !== "string") return done(null, payload);
    // A refusal (ours or Apollo's) speaks the media type the client's Accept asked for (error-body.ts refusalType):
    // application/graphql-response+json to a spec client, whose non-2xx answers are then GraphQL responses to it.
    const representation = refusalRepresentation(
      reply.getHeader("content-type"),
      reply.getHeader("vary"),
      request.headers.accept,
    );
    if (representation) void reply.header("content-type", representation.type).header("vary", representation.vary);
    // Refusals Apollo answers before its request pipeline (CSRF prevention, batching, malformed bodies) carry no
    // request id in their body: add it. Error statuses only; success bodies are never parsed.
    done(null, payloadWithRequestId(status, payload, request as ClientRequest));
  });

  // Which paths under /graphiql the explorer answers (registerExplorer, below); null in production: none.
  let explorerServes: ExplorerServes | null = null;
  fastify.setNotFoundHandler((request, reply) => {
    // A CORS preflight from an origin the allow-list refuses (@fastify/cors hands it here: cors.ts). 403, not the 404
    // it was (the route exists, for allowed origins: a 404 sent operators looking for a wrong path), nor a 204 (a
    // success to monitoring, and cacheable by a proxy). Any status but 2xx fails a preflight (Fetch standard, CORS
    // check), so browsers behave alike; the page sees "Failed to fetch" and the log names the origin (cors.ts).
    if (request.method === "OPTIONS" && isPreflight(request.headers)) {
      (request as ClientRequest).graphql = {
        operation: null,
        result: EdgeCode.ORIGIN_NOT_ALLOWED,
        refused: "CORS preflight from an origin not allowed",
      };
      void reply
        .code(403)
        .send(errorBody("This browser origin may not call this API.", EdgeCode.ORIGIN_NOT_ALLOWED, request.id));
      return;
    }
    // A path served, with a method it does not take (OPTIONS without a preflight included): RFC 9110's answers, each
    // with the path's Allow. Before, both were 404 NOT_FOUND, which says the path does not exist. A method the path
    // takes that comes here found nothing there (a GET of a file the explorer does not have, which @fastify/static
    // hands here): 404 below, not a 405 naming the very method it refused (it was).
    const found = allowedMethods(request.url, explorerServes);
    // RFC 9110 §9.3.7: OPTIONS asks what the target allows; the answer is Allow, with no content.
    if (found !== null && request.method === "OPTIONS") return void reply.code(204).header("allow", found).send();
    // `*` is the server as a whole, a target of OPTIONS alone (RFC 9112 §3.2.4): its Allow above names what the paths
    // take, and a 405 naming those (it was) named methods `*` does not take either.
    const allow = found !== null && ASTERISK.test(request.url) ? ALLOW_ASTERISK : found;
    if (allow !== null && !allows(allow, request.method)) {
      (request as ClientRequest).graphql = {
        operation: null,
        result: EdgeCode.BAD_REQUEST,
        refused: "method not allowed",
      };
      // §15.5.6: a 405 MUST carry Allow. BAD_REQUEST, as Apollo's own 405 (a mutation over GET) says.
      void reply
        .code(405)
        .header("allow", allow)
        .send(errorBody(`Method not allowed: this path takes ${allow}.`, EdgeCode.BAD_REQUEST, request.id));
      return;
    }
    (request as ClientRequest).graphql = { operation: null, result: EdgeCode.NOT_FOUND, refused: "no route" };
    // Fastify's default body repeats the URL, query string included. The message names our own GraphQL path, never
    // the one asked for: "Not found." alone left a newcomer who opened the server's root (http://localhost:4000/) in a
    // browser, or mistyped the path, with nothing to go on (test/e2e/refusal-catalogue.test.ts).
    void reply.code(404).send(errorBody(NOT_FOUND_MESSAGE, EdgeCode.NOT_FOUND, request.id));
  });

  // An `Expect` other than 100-continue: Node answered 417 itself, with no request id, no JSON body and no CORS
  // headers (the only refusal left that way: every other is ours). Answered as the others are, and the connection
  // closed (its body, if any, is never read).
  fastify.server.on("checkExpectation", (req: IncomingMessage, res: ServerResponse) => {
    const requestId = freshRequestId();
    const headers: Record<string, string | number> = {};
    // Before Fastify: the refused-origin warning and CORS headers its hooks would have given it (cors.ts).
    cors.warnRequest(req.headers, req.socket);
    cors.addHeaders(headers, req.headers.origin);
    const body = JSON.stringify(
      errorBody("Expectation not supported: send no Expect header, or 100-continue.", EdgeCode.BAD_REQUEST, requestId),
    );
    res.writeHead(417, {
      ...headers,
      vary: "Origin, Accept",
      "content-type": refusalType(req.headers.accept),
      "content-length": Buffer.byteLength(body),
      "x-request-id": requestId,
      connection: "close",
    });
    res.end(body);
    logger.info({ requestId, status: 417, reason: "expect" }, "request refused: unsupported Expect");
    countRefusal?.(417, EdgeCode.BAD_REQUEST);
  });

  fastify.setErrorHandler((error: FastifyError, request, reply) => {
    send(reply, errorAnswer(error, request as ClientRequest & { log: Logger }));
  });

  // The self-hosted explorer (GraphiQL) at /graphiql, in development only (docs/walkthrough.md).
  if (!production) explorerServes = await registerExplorer(fastify);

  fastify.get("/healthz", async () => ({ status: "ok" }));
  fastify.get("/readyz", async (_request, reply) => {
    const { ready, status, circuits } = await readiness();
    return reply.code(ready ? 200 : 503).send(circuits ? { status, circuits } : { status });
  });
  // Sockets we may have to close while draining. Node's server.close() closes only connections it calls idle, and a
  // connection that has sent no request yet counts as busy (its headers timer is running): browsers and undici open
  // such spare connections ahead of need, and one held shutdown until the client's own keep-alive timeout (4 s for
  // undici, longer for browsers) or the grace period. Emptied, the set is replaced, not deleted from (withoutKey:
  // util/transient-map.ts): it empties again and again under connection churn.
  let sockets = new Set<Socket>();
  guard.attach(fastify.server);
  // One listener still (tests hand requests to it): ours first, then those of both layers in their order.
  const layers = fastify.server.listeners("request") as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  fastify.server.removeAllListeners("request");
  fastify.server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    lastRequest.set(req.socket, req);
    for (const layer of layers) layer.call(fastify.server, req, res);
  });
  fastify.server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => {
      sockets = withoutKey(sockets, socket);
    });
  });
  // Node's own closeIdleConnections() (server.close() calls it, and fastify's close with forceCloseConnections "idle")
  // destroys a socket whose answer is handed over (`res.end()` called) but not yet written: a client that reads slowly
  // lost the rest of its answer (an OTP send's, the SMS maybe sent) as the drain began, and the drain, with nothing
  // left, ended at once (test/e2e/shutdown.test.ts). Ours waits for the answer's last byte (`writableFinished`).
  fastify.server.closeIdleConnections = () => closeSocketsWithoutResponse(sockets);
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
    unavailableLines.flush();
    streamEnds.flush();
    guard.flush();
    cors.flush();
  });

  return {
    fastify,
    serveGraphQL(answer) {
      answerGraphQL = answer;
    },
    get thinRouteServed() {
      return thin?.served ?? 0;
    },
    leaveRotation() {
      leaving = true;
    },
    // Begun (its headers handed to the socket) and not written to the end: a client reading slowly has part of it. One
    // still arriving has no answer begun (the drain waits for it, but a cut loses nothing it was told). Before, only
    // admitted GraphQL requests counted: a cut during the drain of a /healthz or explorer answer to a slow reader said
    // "nothing in flight to cut", exit 0, and cut it (test/e2e/shutdown.test.ts).
    get answersBeingWritten() {
      let count = 0;
      for (const socket of sockets) {
        const response = openResponse(socket);
        if (response && response.headersSent && !response.writableFinished && !admission?.counts(response)) count++;
      }
      return count;
    },
  };
}
