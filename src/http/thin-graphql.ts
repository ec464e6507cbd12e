import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { pipeline, Readable } from "node:stream";
import { parse as secureJsonParse } from "secure-json-parse";
import type { UpstreamCallSummary } from "../aopay/client";
import type { AuthOutcome, Authenticator, ClientIdentity } from "../auth/authenticator";
import type { HttpLimits } from "./server.settings";
import { type AccessSummary, logAccess, type RefusalCounter, type StreamEndLines } from "../logging/access-log";
import { type Logger, requestLogger } from "../logging/logger";
import type { SummarisedLines } from "../logging/summarised";
import type { RequestTrace } from "../graphql/context";
import { RequestTracing } from "../graphql/plugins/tracing.plugin";
import { twoByte } from "../util/two-byte-text";
import type { Cors } from "./cors";
import { GRAPHQL_PATH, JSON_TYPE, refusalRepresentation } from "./error-body";
import {
  acceptClient,
  authRefusal,
  type DocumentLimits,
  documentRefusal,
  type EdgeAnswer,
  errorAnswer,
  type GraphQLExchange,
  payloadWithRequestId,
} from "./exchange";
import { type AnswerGraphQL, type GraphQLAnswer, JSON_CONTENT_TYPES } from "./graphql-route";
import { closesUnreadBody, limitResponseWrite, RAW_REQUEST_ID, refusedByParser } from "./node-limits";
import { type Admission, clientKey } from "./admission";
import type { ShedReason } from "../observability/metrics";
import { callerRequestId, freshRequestId } from "./request-id";
import { clientAddress, type TrustProxy } from "../util/trusted-proxies";
// The module's Buffer, not the global: that is an accessor, a getter call per read (about 250 main-thread
// instructions under callgrind, read per request here).
import { Buffer } from "node:buffer";

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/** What the thin route needs from the HTTP server around it (http-server.ts). */
export interface ThinGraphQLOptions {
  logger: Logger;
  authenticator: Authenticator;
  /** The "bearer token not checked" warnings, shared with Fastify's layer (exchange.ts authUnavailableLines). */
  unavailableLines: SummarisedLines;
  /** The lines of streamed answers cut short, shared with Fastify's layer (logging/access-log.ts). */
  streamEnds: StreamEndLines;
  /** The connection guard's release of an authenticated connection (connection-guard.ts). */
  authenticated: (socket: Socket) => void;
  limits: HttpLimits;
  /** BODY_LIMIT_BYTES. */
  bodyLimit: number;
  documents: DocumentLimits;
  /** True while the server drains: such requests go to Fastify (its 503). */
  draining: () => boolean;
  /**
   * True while the answer to `req` asks to close its connection: draining, and the pre-stop delay before it, unless a
   * request is pipelined behind it (http-server.ts).
   */
  closesConnections: (req: IncomingMessage) => boolean;
  /** Whether the admission check at the door (admission.ts guardServer) admitted this request (true without one). */
  admitted: (req: IncomingMessage) => boolean;
  /** Admission control: a place is taken once the body has arrived (Admission.take); null: none. */
  admission: Admission | null;
  /** Counts requests refused before GraphQL (metrics), as Fastify's access lines do; none when absent. */
  countRefusal?: RefusalCounter;
  /**
   * TRUSTED_PROXIES as compiled once for Fastify's trustProxy too (util/trusted-proxies.ts); null: X-Forwarded-For
   * and X-Forwarded-Proto are never read.
   */
  trust: TrustProxy | null;
  /** The CORS headers and refused-origin warning @fastify/cors and its hook give Fastify's requests (cors.ts). */
  cors: Cors;
  /** The GraphQL answerer, once the route is registered (null before: everything goes to Fastify). */
  answer: () => AnswerGraphQL | null;
}

/** An error with the code and status Fastify gives the same fault, so that both layers answer it alike. */
function httpError(code: string, statusCode: number): Error & { code: string; statusCode: number } {
  return Object.assign(new Error(code), { code, statusCode });
}

/** Fastify's JSON parser options (its defaults onProtoPoisoning and onConstructorPoisoning: 'error'). */
const JSON_PARSE_OPTIONS = { protoAction: "error", constructorAction: "error" } as const;

/**
 * The thin GraphQL route: the usual GraphQL request, a `POST /graphql` with a JSON content type, from a
 * server-to-server client or from a browser (with an `Origin`), is served by this node:http request listener in
 * front of Fastify, without Fastify's request and reply objects, router, hook runners, content-type parser and reply
 * serialisation (measured with bench/http-layer-micro.js and callgrind: docs/performance-runs.md). Everything else goes
 * on to Fastify unchanged: other paths and methods (CORS preflights are OPTIONS), GET, other content types and
 * spellings of the path, requests while draining, and requests the door did not admit.
 *
 * Each step is the one Fastify's route runs, in the same order and through the same functions (exchange.ts,
 * access-log.ts logAccess, graphql-route.ts graphqlAnswerer, cors.ts createCors): request id, the refused-origin
 * warning and the CORS headers @fastify/cors sets (`Vary: Origin` always; for an allowed Origin,
 * Access-Control-Allow-Origin and -Expose-Headers, on every answer, a 401 included), authentication before the body
 * is read, the connection guard's release, the body read under BODY_LIMIT_BYTES with Fastify's error codes (413, Content-Length mismatch, empty,
 * invalid JSON with secure-json-parse's `__proto__`/`constructor` refusal, each with `connection: close`), the
 * document checks, the GraphQL answer, the response write limit, `connection: close` while draining, the request id
 * added to error bodies and their media type by Accept (error-body.ts refusalRepresentation), the error handler, and
 * one access line when the response has finished.
 * test/e2e/thin-graphql.test.ts compares its answers, access lines and CORS warnings with Fastify's for a matrix of
 * unusual requests, with and without Origin.
 */
export function installThinGraphQL(server: Server, options: ThinGraphQLOptions): { readonly served: number } {
  // Requests this route served (the others went to Fastify): tests read it to know which layer answered.
  const counts = { served: 0 };
  const handlers = server.listeners("request") as Listener[];
  if (handlers.length !== 1)
    throw new Error(`expected one request listener on the HTTP server, found ${handlers.length}`);
  const [fastify] = handlers;
  server.removeListener("request", fastify);
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const answer = options.answer();
    const headers = req.headers;
    if (
      answer === null ||
      req.method !== "POST" ||
      req.url !== GRAPHQL_PATH ||
      !JSON_CONTENT_TYPES.has(headers["content-type"] as string) ||
      // Refused by Fastify's route unless `identity` (representation.ts).
      headers["content-encoding"] !== undefined ||
      options.draining() ||
      !options.admitted(req)
    ) {
      fastify(req, res);
      return;
    }
    counts.served += 1;
    new ThinRequest(req, res, options, answer, options.trust).start();
  });
  return counts;
}

/** One request on the thin route: a GraphQLExchange, like Fastify's decorated request. */
class ThinRequest implements GraphQLExchange {
  readonly id: string;
  readonly log: Logger;
  readonly method = "POST";
  readonly url = GRAPHQL_PATH;
  readonly headers: IncomingHttpHeaders;
  readonly socket: Socket;
  body: unknown = undefined;
  client: ClientIdentity = null as unknown as ClientIdentity;
  upstreamCalls: UpstreamCallSummary[] | null = null;
  graphql: AccessSummary | null = null;
  trace: RequestTrace | null = null;
  /** Headers set before the answer (x-request-id, then CORS's), in the order Fastify writes them. */
  readonly #headers: Record<string, string | number>;
  readonly #startedAt = performance.now();
  #endedAt = 0;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly options: ThinGraphQLOptions,
    readonly answer: AnswerGraphQL,
    readonly trust: TrustProxy | null,
  ) {
    this.headers = req.headers;
    this.socket = req.socket;
    this.id = freshRequestId();
    // Fastify's child logger per request (its requestIdLogLabel: logging/access-log.ts), with the caller's own id
    // beside ours when it sent a well-formed one (request-id.ts), as http-server.ts binds it.
    const caller = callerRequestId(req.headers["x-request-id"]);
    this.log = requestLogger(
      options.logger,
      caller === undefined ? { requestId: this.id } : { requestId: this.id, callerRequestId: caller },
    );
    this.#headers = { "x-request-id": this.id };
  }

  /** As Fastify's `request.ip` (util/trusted-proxies.ts clientAddress). */
  get ip(): string {
    return clientAddress(this.req, this.trust);
  }

  /** The access line is written once: when the response has closed, and its answer was handed to it. */
  #logged = false;
  /** The answer was handed to the response (#end, #write). */
  #answered = false;
  /** The response closed before the answer was handed to it: the client hung up while it was being worked out. */
  #closedEarly = false;

  start(): void {
    // A 408 for a body that then trickles too slowly is written by answerClientError: it carries this id too.
    (this.res as ServerResponse & { [RAW_REQUEST_ID]?: string })[RAW_REQUEST_ID] = this.id;
    // On `close`, which every response emits (after `finish` when it was delivered), not on `finish` alone: a client
    // that hung up before its answer was written, or while it was, never gets a `finish` (nor an `error`), and its
    // request had no access line at all, a sent OTP's included (test/e2e/failures-seen.test.ts).
    const closed = () => {
      this.res.removeListener("close", closed);
      this.res.removeListener("error", errored);
      // A streamed answer whose producer failed after its headers: pipeline destroyed the response with that error
      // (#write), a fault of ours while the client still read, not a client gone.
      if (this.#answered) this.#logAccess(this.res.errored ?? undefined);
      else this.#closedEarly = true;
    };
    const errored = (error: Error) => {
      this.res.removeListener("close", closed);
      this.res.removeListener("error", errored);
      this.#logAccess(error);
    };
    this.res.on("close", closed);
    this.res.on("error", errored);
    // cors.ts's warning hook and @fastify/cors's hook, which Fastify runs right after the request id, before admission
    // and authentication: every answer to a browser, a 401 included, carries the CORS headers it can be read with.
    const { cors, authenticator } = this.options;
    const origin = this.headers.origin;
    cors.warnRequest(this.headers, this.socket);
    cors.addHeaders(this.#headers, origin);
    // Authentication before the body is read (docs/security-requirements.md B3): API keys at once, bearer tokens
    // after their JWKS.
    const now = authenticator.authenticateNow(this.headers, this.req.rawHeaders);
    if (now) return this.#authenticated(now);
    authenticator.authenticate(this.headers, this.req.rawHeaders).then(
      (outcome) => this.#authenticated(outcome),
      (error: unknown) => this.#fail(error),
    );
  }

  /**
   * The request's one access line. An answer not delivered (`writableFinished` false: its client closed the connection
   * first) says `clientGone`, with the status it was to have (Fastify's route: http-server.ts); one cut by an `error`
   * of ours is the error line instead.
   */
  #logAccess(error: Error | undefined): void {
    // A 408 mid-body: the parser's line is this request's (node-limits.ts refusedByParser).
    if (this.#logged || refusedByParser(this.res)) return;
    this.#logged = true;
    this.#endedAt = performance.now();
    logAccess(
      this.log,
      error,
      "POST",
      GRAPHQL_PATH,
      this.res.statusCode,
      this.graphql,
      this.upstreamCalls,
      this.#elapsed(),
      this.options.countRefusal,
      error === undefined && !this.res.writableFinished,
    );
    // Its operation span, if GraphQL started one (trace export on), ends with the status this line says.
    if (this.trace !== null)
      RequestTracing.end(
        this.trace,
        this.res.statusCode,
        this.graphql,
        error === undefined && !this.res.writableFinished,
      );
  }

  /** The answer is handed to the response: if it had closed already, nothing will close it again. */
  #handed(): void {
    this.#answered = true;
    if (this.#closedEarly) this.#logAccess(undefined);
  }

  readonly #elapsed = () => (this.#endedAt || performance.now()) - this.#startedAt;

  #authenticated(outcome: AuthOutcome): void {
    if (!outcome.ok)
      return this.#send(authRefusal(outcome, this.options.authenticator, this, this.options.unavailableLines));
    acceptClient(this, outcome.client, this.options.authenticated);
    // A client holding its share of admission places is refused before its body is read (Admission.shareFull).
    const admission = this.options.admission;
    const full = admission?.shareFull(clientKey(this));
    if (admission && full) return this.#overloaded(admission, full);
    this.#readBody();
  }

  /** Fastify's rawBody and JSON parser (fastify/lib/content-type-parser.js), with its error codes. */
  #readBody(): void {
    const limit = this.options.bodyLimit;
    const contentLength = Number(this.headers["content-length"]);
    if (contentLength > limit) return this.#bodyFailed(httpError("FST_ERR_CTP_BODY_TOO_LARGE", 413));
    const req = this.req;
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) {
        detach();
        return this.#bodyFailed(httpError("FST_ERR_CTP_BODY_TOO_LARGE", 413));
      }
      chunks.push(chunk);
    };
    const onEnd = (error?: Error & { statusCode?: number }) => {
      detach();
      if (error != null) {
        if (!(typeof error.statusCode === "number" && error.statusCode >= 400)) error.statusCode = 400;
        return this.#bodyFailed(error);
      }
      if (!Number.isNaN(contentLength) && received !== contentLength)
        return this.#bodyFailed(httpError("FST_ERR_CTP_INVALID_CONTENT_LENGTH", 400));
      if (received === 0) return this.#bodyFailed(httpError("FST_ERR_CTP_EMPTY_JSON_BODY", 400));
      const text = chunks.length === 1 ? chunks[0].toString("utf8") : Buffer.concat(chunks, received).toString("utf8");
      try {
        // Two-byte: its short values are not interned into the old generation (util/two-byte-text.ts says why).
        this.body = secureJsonParse(twoByte(text), JSON_PARSE_OPTIONS);
      } catch {
        return this.#bodyFailed(httpError("FST_ERR_CTP_INVALID_JSON_BODY", 400));
      }
      this.#parsed();
    };
    const detach = () => {
      req.removeListener("data", onData);
      req.removeListener("end", onEnd);
      req.removeListener("error", onEnd);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onEnd);
    req.resume();
  }

  /** As Fastify: the client may still be sending, so the connection is closed after the answer. */
  #bodyFailed(error: Error): void {
    this.#headers.connection = "close";
    this.#fail(error);
  }

  /** Admission's refusal (503, Retry-After, OVERLOADED); the connection's next request is read in its turn. */
  #overloaded(admission: Admission, reason: ShedReason): void {
    this.#send({ status: 503, headers: admission.overloadedHeaders, body: admission.overloadedBody(this.id, reason) });
    admission.refused(this.socket);
  }

  #parsed(): void {
    // Admission's place, now that the body has arrived (Admission.take says why not at the door).
    const admission = this.options.admission;
    if (admission !== null) {
      const refused = admission.take(this.res, clientKey(this));
      if (refused !== null) return this.#overloaded(admission, refused);
    }
    const refusal = documentRefusal(this.body as Record<string, unknown> | undefined, this.options.documents, this);
    if (refusal) return this.#send(refusal);
    this.answer(this, this.#elapsed).then(
      (answer) => this.#write(answer),
      (error: unknown) => this.#fail(error),
    );
  }

  #fail(error: unknown): void {
    if (this.res.headersSent) {
      this.res.destroy(error instanceof Error ? error : undefined);
      return;
    }
    // An error of Node's own (the body's `aborted`) may come from another realm than this module's Error (a vm
    // context, as jest's): wrapped, it lost its statusCode 400, and a client hanging up mid-body was answered and
    // logged as a server failure, 500 with an error line (Fastify's route: 400). Any object with a message is one.
    const failure =
      error instanceof Error || (typeof error === "object" && error !== null && "message" in error)
        ? (error as Error)
        : new Error(String(error));
    this.#send(errorAnswer(failure, this));
  }

  #send(answer: EdgeAnswer): void {
    const headers = this.#headers;
    if (answer.headers) Object.assign(headers, answer.headers);
    headers["content-type"] = JSON_TYPE;
    this.#end(answer.status, JSON.stringify(answer.body));
  }

  #write(answer: GraphQLAnswer): void {
    const headers = this.#headers;
    // As reply.header(): a later value replaces an earlier one (Apollo's own Vary would replace CORS's).
    for (const [name, value] of answer.headers) headers[name] = value;
    const { body } = answer;
    if (typeof body === "string") return this.#end(answer.status, body);
    this.#onSend();
    this.res.writeHead(answer.status, headers);
    this.#handed();
    // Fastify's stream send: an error after the headers ends the response (its LogController.streamError lines, a
    // few per 10 s: a client hanging up wrote one each, at will). The producer's own failure (pipeline destroyed the
    // response with it: res.errored) is the access line's error already (start's close): one line for it, not two.
    pipeline(Readable.from(body), this.res, (error) => {
      if (error && this.res.errored !== error) this.options.streamEnds.write(this.log, error, GRAPHQL_PATH);
    });
  }

  /** Fastify's onSend hook of http-server.ts, for the parts that do not touch the payload. */
  #onSend(): void {
    // RESPONSE_WRITE_TIMEOUT_MS: a client that does not read its response is cut (node-limits.ts).
    limitResponseWrite(this.socket, this.options.limits);
    // While draining, a kept-alive socket would otherwise stay open after its last response (http-server.ts).
    if (this.options.closesConnections(this.req)) this.#headers.connection = "close";
  }

  #end(status: number, payload: string): void {
    this.#onSend();
    // A refusal before the body was read (a 401): closed, not read to its end (node-limits.ts closesUnreadBody).
    if (closesUnreadBody(status, this.req, this.options.bodyLimit)) this.#headers.connection = "close";
    // The answer is written: its admission place is given back now, not when the client has read it (Admission.take).
    this.options.admission?.answered(this.res);
    const headers = this.#headers;
    // Error statuses only, as Fastify's onSend (http-server.ts): the refusal's type by Accept (refusalType).
    if (status >= 400) {
      const representation = refusalRepresentation(headers["content-type"], headers.vary, this.headers.accept);
      if (representation) {
        headers["content-type"] = representation.type;
        headers.vary = representation.vary;
      }
    }
    const body = payloadWithRequestId(status, payload, this);
    headers["content-length"] = Buffer.byteLength(body);
    this.res.writeHead(status, headers);
    this.res.end(body);
    this.#handed();
  }
}
