import type { IncomingHttpHeaders } from "node:http";
import type { Socket } from "node:net";
import type { UpstreamCallSummary } from "../aopay/client";
import {
  AUTH_UNAVAILABLE_RETRY_AFTER_SECONDS,
  type AuthOutcome,
  type Authenticator,
  type ClientIdentity,
} from "../auth/authenticator";
import type { RequestTrace } from "../graphql/context";
import { EdgeCode } from "../graphql/edge-code";
import { isTrusted, type TrustedDocumentList } from "../graphql/trusted-documents";
import { type AccessSummary, failedAnswer } from "../logging/access-log";
import type { Logger } from "../logging/logger";
import { type SummarisedLines, summaryLines } from "../logging/summarised";
import { errorBody } from "./error-body";
import { withRequestId } from "./request-id";

/**
 * What the GraphQL answer (graphql-route.ts) and its context (graphql-context.ts) read of a request, whichever HTTP
 * layer received it: Fastify's request (decorated with client, upstreamCalls, graphql and trace) or the thin node:http
 * route's (thin-graphql.ts). The last four are written during the request and read by its access line.
 */
export interface GraphQLExchange {
  readonly id: string;
  /** The request's child logger (bindings: requestId, then clientId once authenticated). */
  readonly log: Logger;
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** The client address (X-Forwarded-For only from TRUSTED_PROXIES), as Fastify's `request.ip` gives it. */
  readonly ip: string;
  readonly socket: Socket;
  /** The parsed JSON body of a POST; undefined for a GET. */
  readonly body: unknown;
  client: ClientIdentity;
  upstreamCalls: UpstreamCallSummary[] | null;
  graphql: AccessSummary | null;
  /**
   * The holder of its operation span when traces are exported and GraphQL built its context (graphql-context.ts);
   * the access line's writer ends the span (RequestTracing.end). Null otherwise: no span was started.
   */
  trace: RequestTrace | null;
}

/** An answer of the HTTP layer itself (not GraphQL's): status, our error body, and headers of its own. */
export interface EdgeAnswer {
  status: number;
  body: ReturnType<typeof errorBody>;
  headers?: Record<string, string>;
}

/**
 * Fixed client messages for the HTTP-level errors raised before GraphQL runs (never the input echoed), by their
 * Fastify error code: the thin route raises the same codes for the same faults (thin-graphql.ts).
 */
/** What a GraphQL POST body is, for the messages of a body that is not one. */
const BODY_SHAPE = 'send a JSON object such as {"query": "{ serviceInfo { upstream } }", "variables": {}}.';

const HTTP_ERROR_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: "Request body is too large.",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "Unsupported Content-Type: send application/json.",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "Content-Length does not match the body.",
  // The empty and invalid bodies' messages show the shape to send: a newcomer's curl whose quoting a shell mangled
  // (the walkthrough's commands are POSIX; Windows' cmd and PowerShell quote otherwise) got "not valid JSON" alone.
  FST_ERR_CTP_EMPTY_JSON_BODY: `Request body is empty: ${BODY_SHAPE}`,
  FST_ERR_CTP_INVALID_JSON_BODY: `Request body is not valid JSON: ${BODY_SHAPE}`,
};

/**
 * The answer to an error met while serving a request, by whichever handler met it (the error handler of both layers:
 * errorAnswer; Fastify's router: http-server.ts frameworkErrors): its own 4xx status, anything else 500 "Unexpected
 * error." and an error line with its cause. A 4xx is a refusal: the access line says BAD_REQUEST and `refused` (a
 * fixed reason, never the error's own text, which could carry the client's), the client `message`. A 5xx is no refusal
 * but a failure of ours (an authenticator that rejected, a hook that threw, the router failing):
 * INTERNAL_SERVER_ERROR, not counted in http_requests_refused_total. Before, the handler's was `refused` "unexpected
 * error" and counted as a refusal (as Apollo's own 500 was: payloadWithRequestId).
 */
export function failureAnswer(
  error: Error & { statusCode?: number },
  log: Logger,
  requestId: string,
  refused: string,
  message = "Bad request.",
): EdgeAnswer & { summary: AccessSummary } {
  const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
  if (status >= 500) {
    log.error({ err: error }, "unhandled HTTP error");
    const result = EdgeCode.INTERNAL_SERVER_ERROR;
    return { status, summary: { operation: null, result }, body: errorBody("Unexpected error.", result, requestId) };
  }
  const result = EdgeCode.BAD_REQUEST;
  return { status, summary: { operation: null, result, refused }, body: errorBody(message, result, requestId) };
}

/**
 * The answer to an error thrown while serving a request (the error handler of both layers), failureAnswer's: a 4xx
 * refused with the error's code when it is one of the fixed ones above (and its fixed message), else "bad request".
 */
export function errorAnswer(
  error: Error & { statusCode?: number; code?: string },
  exchange: Pick<GraphQLExchange, "id" | "graphql" | "log">,
) {
  const known = error.code !== undefined && HTTP_ERROR_MESSAGES[error.code] !== undefined;
  const { status, summary, body } = known
    ? failureAnswer(error, exchange.log, exchange.id, error.code!, HTTP_ERROR_MESSAGES[error.code!])
    : failureAnswer(error, exchange.log, exchange.id, "bad request");
  // A 5xx once GraphQL has begun (its summary made: an error thrown after the resolvers, as the fast path's metric
  // could): the summary keeps what the operation did, `resolved` (failedAnswer, as for Apollo's own 500s). Replaced,
  // the access line said INTERNAL_SERVER_ERROR alone for an OTP that was sent (test/e2e/failures-seen.test.ts).
  if (status >= 500 && exchange.graphql !== null) failedAnswer(exchange.graphql);
  else exchange.graphql = summary;
  return { status, body } satisfies EdgeAnswer;
}

/**
 * At most this many "bearer token not checked" warnings (authRefusal) per SUMMARY_INTERVAL_MS (10 s); the others of
 * the interval are counted in one summary line at its end (authUnavailableLines).
 */
export const AUTH_UNAVAILABLE_LINES_PER_INTERVAL = 10;

/**
 * The "bearer token not checked" warnings of one server, shared by both HTTP layers (http-server.ts, thin-graphql.ts):
 * while the identity provider's key set cannot be had, every bearer request is refused 503 AUTH_UNAVAILABLE, and any
 * client can send one (a token naming a kid the set lacks costs nothing to forge: auth/authenticator.ts #stranded).
 * A warning each, with its error's stack (about 1.3 kB), was a log line per attacker request beside the access line;
 * an outage under load filled the log with the same line. Now AUTH_UNAVAILABLE_LINES_PER_INTERVAL of them per 10 s
 * and reason, the rest counted by reason (the refusal's: the jose code, or the fetch failing) in one summary line.
 * http_requests_refused_total{code="AUTH_UNAVAILABLE"} still counts every one (the access line's countRefusal).
 */
export function authUnavailableLines(
  log: Pick<Logger, "info" | "warn" | "error">,
  now?: () => number,
): SummarisedLines {
  return summaryLines(log, {
    perInterval: AUTH_UNAVAILABLE_LINES_PER_INTERVAL,
    fields: { code: EdgeCode.AUTH_UNAVAILABLE },
    head: (n) => `bearer token not checked: ${n} more requests answered 503 AUTH_UNAVAILABLE`,
    now,
  });
}

/**
 * A failed authentication's answer: 401 with `www-authenticate: Bearer`; its access line says UNAUTHENTICATED and the
 * reason (never the credential). A bearer token that could not be checked because the identity provider's key set
 * could not be had (`unavailable`): 503 AUTH_UNAVAILABLE with Retry-After, a refusal before anything ran (counted in
 * http_requests_refused_total) and a warning line with what failed (never the token), summarised (`unavailableLines`:
 * authUnavailableLines). It was a 500 INTERNAL_SERVER_ERROR with an error line, which told the client its mutation may
 * have run (docs/api.md), and paged the operator (RequestsFailed) as a bug of ours (test/e2e/jwks-operation.test.ts).
 */
export function authRefusal(
  outcome: AuthOutcome & { ok: false },
  authenticator: Authenticator,
  exchange: Pick<GraphQLExchange, "id" | "graphql" | "log">,
  unavailableLines: SummarisedLines,
): EdgeAnswer {
  const requestId = exchange.id;
  if (outcome.kind === "unavailable") {
    const code = EdgeCode.AUTH_UNAVAILABLE;
    exchange.graphql = { operation: null, result: code, refused: outcome.reason };
    // The reason is ours (the jose code, or "fetch failed": auth/authenticator.ts #byBearer), never the token's text.
    if (unavailableLines.take(outcome.reason))
      exchange.log.warn(
        { err: outcome.cause, code },
        "bearer token not checked: the identity provider's key set (AUTH_JWKS_URL) cannot be had; answered 503",
      );
    return {
      status: 503,
      headers: { "retry-after": RETRY_AFTER },
      body: errorBody(AUTH_UNAVAILABLE_MESSAGE, code, requestId, AUTH_UNAVAILABLE_RETRY_AFTER_SECONDS),
    };
  }
  exchange.graphql = { operation: null, result: EdgeCode.UNAUTHENTICATED, refused: outcome.reason };
  return {
    status: 401,
    headers: { "www-authenticate": "Bearer" },
    body: errorBody(authenticator.refusalMessage(outcome.kind), EdgeCode.UNAUTHENTICATED, requestId),
  };
}

const AUTH_UNAVAILABLE_MESSAGE =
  "The bearer token could not be checked: the identity provider cannot be reached. Try again after Retry-After " +
  "seconds. Nothing was done.";
const RETRY_AFTER = String(AUTH_UNAVAILABLE_RETRY_AFTER_SECONDS);

/**
 * What a request becomes once authenticated, in both layers: attributed to its client, its child logger bound to the
 * client id (so every later line, the access line included, names it), and its connection no longer counted toward
 * the unauthenticated caps (`connectionAuthenticated`: the ConnectionGuard's, connection-guard.ts).
 */
export function acceptClient(
  exchange: { client: ClientIdentity; readonly log: Logger; readonly socket: Socket },
  client: ClientIdentity,
  connectionAuthenticated: (socket: Socket) => void,
): void {
  exchange.client = client;
  connectionAuthenticated(exchange.socket);
  // As shown (a digit run masked: auth/authenticator.ts shownClientId), as on the request's span.
  exchange.log.setBindings({ clientId: client.shown });
}

const UNTRUSTED_DOCUMENT_MESSAGE =
  "This server runs only its trusted documents: send an operation exactly as the generated client does, or its id " +
  "in extensions.persistedQuery.sha256Hash.";

export interface DocumentLimits {
  maxQueryChars: number;
  production: boolean;
  /** The trusted-document list when TRUSTED_DOCUMENTS=enforce; null when any document may run. */
  trustedDocuments: TrustedDocumentList | null;
}

/**
 * The checks on a GraphQL request's document before Apollo parses it (GET: its query string; POST: its body):
 * docs/security-requirements.md A3 (character limit) and A11 (trusted documents). Null: it may go on.
 */
export function documentRefusal(
  params: Record<string, unknown> | undefined,
  limits: DocumentLimits,
  exchange: Pick<GraphQLExchange, "id" | "graphql">,
): EdgeAnswer | null {
  const requestId = exchange.id;
  const source = params?.query;
  if (typeof source === "string" && source.length > limits.maxQueryChars) {
    const message = limits.production
      ? "Query is too large."
      : `Query is too large (over ${limits.maxQueryChars} characters).`;
    return { status: 400, body: errorBody(message, EdgeCode.BAD_REQUEST, requestId) };
  }
  // Its text is never logged (it may carry an Aadhaar number as a literal).
  if (
    limits.trustedDocuments &&
    !isTrusted(limits.trustedDocuments, { query: source, extensions: params?.extensions })
  ) {
    const sentAs = typeof source === "string" && source !== "" ? "text" : "id";
    exchange.graphql = {
      operation: null,
      result: EdgeCode.UNTRUSTED_DOCUMENT,
      refused: `untrusted document (sent as ${sentAs})`,
    };
    return { status: 400, body: errorBody(UNTRUSTED_DOCUMENT_MESSAGE, EdgeCode.UNTRUSTED_DOCUMENT, requestId) };
  }
  return null;
}

/**
 * The payload as it leaves (onSend): refusals Apollo answers before its request pipeline (CSRF prevention, batching,
 * malformed bodies) carry no request id in their body, so it is added. Error statuses only; success bodies are never
 * parsed.
 */
export function payloadWithRequestId(
  status: number,
  payload: string,
  exchange: Pick<GraphQLExchange, "id" | "graphql">,
): string {
  if (status < 400 || payload.includes('"requestId"')) return payload;
  // A 5xx is no refusal: a failure (graphql-route.ts answeredWithoutCause named it INTERNAL_SERVER_ERROR and logged
  // it). Before, Apollo's 500 was written BAD_REQUEST "refused by Apollo (500)" and counted as a refusal.
  if (status >= 500) {
    exchange.graphql ??= { operation: null, result: EdgeCode.INTERNAL_SERVER_ERROR };
    return withRequestId(payload, exchange.id);
  }
  // Apollo's refusals before its pipeline: no GraphQL summary says why on the access line. A fixed reason does. Not
  // an answer Apollo gave after its pipeline (the summary names the operation: its willSendResponse ran): that
  // operation may have run, a mutation's OTP sent, and its line says what it did (graphql-route.ts
  // answeredAfterPipeline). Before, Apollo's 406 after a sent OTP was written `refused`, operation null, and counted.
  const summary = exchange.graphql;
  if (
    payload.includes('"errors"') &&
    (summary === null || (summary.refused === undefined && summary.operation === null))
  ) {
    exchange.graphql = { operation: null, result: EdgeCode.BAD_REQUEST, refused: apolloRefusal(status, payload) };
  }
  return withRequestId(payload, exchange.id);
}

/** A fixed reason for an answer Apollo gave before its request pipeline (never the payload's own text). */
function apolloRefusal(status: number, payload: string): string {
  if (status === 405) return payload.includes("mutation") ? "a mutation over GET" : "method not allowed";
  if (payload.includes("Cross-Site Request Forgery")) return "CSRF prevention (a simple request)";
  if (payload.includes("batching")) return "batched request";
  return `refused by Apollo (${status})`;
}
