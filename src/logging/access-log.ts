import process from "node:process";
import { type FastifyReply, type FastifyRequest, LogController } from "fastify";
import { lineWriter, type Logger, serialisedBindings } from "./logger";
import { type SummarisedLines, summaryLines } from "./summarised";

/** What the request's access line says about one upstream attempt. */
export interface UpstreamCallSummary {
  endpoint: string;
  outcome: string;
  httpStatus?: number;
  upstreamCode?: string;
  durationMs: number;
}

/** What the GraphQL layer tells the access line about a request (graphql/context.ts `summary`). */
export interface AccessSummary {
  /**
   * The operation's name when it is one of the generated clients' operations, else `other`; `anonymous` when it has
   * none or the document never parsed (observability/metrics.ts operationLabel: a name is client text). Null until
   * the GraphQL layer has set it.
   */
  operation: string | null;
  /**
   * Per root field, the result union member's type name (`CibilOtpChallenge`) or a failure's code (`OTP_COOLDOWN`),
   * comma-separated; or the code of the GraphQL error that stopped the request (`GRAPHQL_VALIDATION_FAILED`).
   */
  result: string | null;
  /**
   * Why the request was refused before GraphQL ran: the authentication failure's reason, or an untrusted document.
   * These, and the two below, are on the access line instead of a line of their own: each is a refusal a client can
   * repeat at will (an unauthenticated one needs no credential at all), and its own line had doubled the log per
   * refused request (about 250 bytes beside an access line of about 300).
   */
  refused?: string;
  /** Per throttled root field, the budget that refused it (`DESTINATION`, `MOBILE_PREFIX` ...), comma-separated. */
  throttled?: string;
  /**
   * Per root field answered from, held by or for its Idempotency-Key, comma-separated: `replayed`, `in-flight`, or
   * `unread` (the store failed before the key's record was read: OUTCOME_UNKNOWN, nothing sent by this request).
   */
  idempotency?: string;
  /**
   * The customers the request names, as pseudonymous keyed references (`m_fvnpbrcsdtgqhpjn`,
   * protection/customer-refs.ts), each once: what support greps for with `npm run customer-ref` (docs/operations.md
   * "Finding a customer's requests"). Absent when the request names no customer (or none passed validation).
   */
  refs?: string[];
  /**
   * Set when the request was answered 500 after its operation had resolved (a result that could not be serialised, a
   * hook that threw after execution): what `result` was before it became INTERNAL_SERVER_ERROR, the operation's own
   * outcome (`AepsOtpResent`: the OTP was sent, the answer failed). Absent on such a 500 when nothing had resolved
   * (a hook that threw before execution: nothing happened). Before, `result` alone said INTERNAL_SERVER_ERROR, and
   * only `upstream` showed that a send had been made (failedAnswer).
   */
  resolved?: string;
  /**
   * Set when the request was answered 5xx after an unexpected error whose cause is already on an error line with the
   * request id (graphql/plugins/request.plugin.ts answeredUnexpectedly), so that the HTTP layer does not log it again.
   * Never on the access line.
   */
  failed?: true;
}

/**
 * The request is answered 500 after an unexpected error whose cause is on an error line with the request id: its
 * result is INTERNAL_SERVER_ERROR, what the operation had resolved kept as `resolved`, and `failed` set.
 */
export function failedAnswer(summary: AccessSummary): void {
  if (summary.result !== null && summary.result !== INTERNAL_SERVER_ERROR) summary.resolved = summary.result;
  summary.result = INTERNAL_SERVER_ERROR;
  summary.failed = true;
}
/** EdgeCode.INTERNAL_SERVER_ERROR (graphql/edge-code.ts: a layer above this one). */
const INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR";

/**
 * Adds `value` to one of the summary's comma-separated notes (a request may have several root fields). No summary:
 * the schema run outside the server (tests executing it directly).
 */
export function noteAccess(summary: AccessSummary | undefined, key: "throttled" | "idempotency", value: string): void {
  if (!summary) return;
  const before = summary[key];
  summary[key] = before === undefined ? value : `${before},${value}`;
}

/**
 * Counts a request refused before GraphQL ran (metrics: http_requests_refused_total), by status and its code (the
 * access summary's `result`, an EdgeCode: a fixed set); and a failure of ours, answered 500 with the code
 * INTERNAL_SERVER_ERROR (http_requests_failed_total: app.ts tells the two apart by that code).
 */
export type RefusalCounter = (status: number, code: string) => void;

/** Lines of streamed answers cut short written per reason and SUMMARY_INTERVAL_MS (10 s) (StreamEndLines). */
export const STREAM_END_LINES_PER_INTERVAL = 10;

/** The premature close's reason (Node's code): the client hung up. */
const PREMATURE_CLOSE = "ERR_STREAM_PREMATURE_CLOSE";

/**
 * The lines of a streamed answer that ended before its last byte, of both HTTP layers (Fastify's, through
 * AccessLogController.streamError, and the thin route's, http/thin-graphql.ts): Fastify's own texts, "stream closed
 * prematurely" (info) when the client hung up, "response terminated with an error with headers already sent" (warn)
 * for another error of the response (a stream of ours that failed is its access line's error, not one of these:
 * http-server.ts StreamFaults, thin-graphql.ts). Any client causes the first at will, by closing the connection in
 * the middle of a streamed answer (in development an explorer bundle: monaco's is 2.8 MB; a GraphQL answer streamed by
 * incremental delivery): one line per hang-up beside its access line, which says `clientGone` already. So
 * STREAM_END_LINES_PER_INTERVAL per reason and 10 s, then one summary per level (logging/summarised.ts); reasons the
 * error's Node code, never text.
 */
export class StreamEndLines {
  readonly #closed: SummarisedLines;
  readonly #failed: SummarisedLines;

  constructor(log: Pick<Logger, "info" | "warn" | "error">, now?: () => number) {
    this.#closed = summaryLines(log, {
      level: "info",
      perInterval: STREAM_END_LINES_PER_INTERVAL,
      head: (n) => `stream closed prematurely: ${n} more streamed answers cut by their clients`,
      now,
    });
    this.#failed = summaryLines(log, {
      perInterval: STREAM_END_LINES_PER_INTERVAL,
      head: (n) => `response terminated with an error with headers already sent: ${n} more streamed answers`,
      now,
    });
  }

  /** The line of `error`, which ended the streamed answer on `path` (a route's template), unless summarised. */
  write(log: Pick<Logger, "info" | "warn">, error: Error & { code?: unknown }, path: string): void {
    const code = typeof error.code === "string" && /^[A-Z][A-Z0-9_]{0,63}$/.test(error.code) ? error.code : "error";
    if (code === PREMATURE_CLOSE) {
      if (this.#closed.take(code)) log.info({ path }, "stream closed prematurely");
    } else if (this.#failed.take(code))
      log.warn({ path, err: error }, "response terminated with an error with headers already sent");
  }

  /** Writes the summaries of the interval (the server's close). */
  flush(): void {
    this.#closed.flush();
    this.#failed.flush();
  }
}

/**
 * Fastify's request log lines, rewritten so that no URL is ever logged as the client wrote it: a GraphQL GET carries
 * the document and its variables (Aadhaar, mobile ...) in the query string, and the path of an unknown route is
 * whatever the client typed. Fastify's defaults log `req` (with the full URL) on incoming requests, 5xx errors and
 * 404s. We log one line per request, when it completes, with the matched route's template (`/graphql`, `/healthz`;
 * `(no route)` when none matched) and a summary of the upstream calls it made (a failed call also gets its own warning
 * line, when it happens).
 */
export class AccessLogController extends LogController {
  constructor(
    private readonly countRefusal?: RefusalCounter,
    /**
     * Called once the access line is written, with the status it says and whether the client had gone: the request's
     * operation span ends then (http-server.ts, when traces are exported; none otherwise).
     */
    private readonly logged?: (request: FastifyRequest, status: number, clientGone: boolean) => void,
    /** The lines of streamed answers cut short, shared with the thin route; none written when absent. */
    private readonly streamEnds?: StreamEndLines,
  ) {
    super({ requestIdLogLabel: "requestId" });
  }

  /** Fastify's line per streamed answer cut short (its default: one per client hang-up), summarised. */
  override streamError(error: Error, request: FastifyRequest, reply: FastifyReply): void {
    this.streamEnds?.write(reply.log, error, pathOf(request));
  }

  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    this.#log(error, request, reply, false);
  }

  /**
   * The access line of a request whose client closed the connection before its answer was delivered: Fastify writes
   * none (it waits for the response's `finish` or `error`, and such a response has neither). http-server.ts calls it.
   */
  clientGone(request: FastifyRequest, reply: FastifyReply): void {
    this.#log(null, request, reply, true);
  }

  #log(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply, clientGone: boolean): void {
    const { upstreamCalls: upstream, graphql } = request as FastifyRequest & {
      upstreamCalls?: UpstreamCallSummary[] | null;
      graphql?: AccessSummary | null;
    };
    logAccess(
      reply.log,
      error,
      request.method,
      pathOf(request),
      reply.statusCode,
      graphql,
      upstream,
      reply.elapsedTime,
      this.countRefusal,
      clientGone,
    );
    this.logged?.(request, reply.statusCode, clientGone);
  }

  override defaultErrorLog(error: Error, request: FastifyRequest, reply: FastifyReply): void {
    const fields = { path: pathOf(request), status: reply.statusCode, err: error };
    if (reply.statusCode >= 500) reply.log.error(fields, "request failed");
    else reply.log.info(fields, "request rejected");
  }

  override routeNotFound(request: FastifyRequest): void {
    request.log.info({ method: request.method, path: pathOf(request) }, "route not found");
  }

  override writeHeadError(error: Error, request: FastifyRequest, reply: FastifyReply): void {
    reply.log.warn({ path: pathOf(request), err: error }, "could not write response headers");
  }
}

/**
 * The access line of one request, for both HTTP layers (Fastify's, through AccessLogController, and the thin GraphQL
 * route, http/thin-graphql.ts): method, the route's template (never the URL), status, the GraphQL summary, the
 * upstream calls, and the time from arrival to the last byte handed to the socket. clientId and requestId are bindings
 * of `log`, the request's child logger. Info, or error with `err` when the response failed.
 */
export function logAccess(
  log: { info(fields: object, message: string): void; error(fields: object, message: string): void },
  error: Error | null | undefined,
  method: string,
  path: string,
  status: number,
  graphql: AccessSummary | null | undefined,
  upstream: UpstreamCallSummary[] | null | undefined,
  elapsedMs: number,
  /**
   * Called for a request refused before GraphQL (its summary has `refused`) and for a failure of ours (status 500,
   * result INTERNAL_SERVER_ERROR); nothing else pays for it.
   */
  countRefusal?: RefusalCounter,
  /** The client closed the connection before its answer was delivered: `clientGone` (its status, never received). */
  clientGone = false,
): void {
  if (graphql) {
    if (graphql.refused !== undefined) {
      // Not for an answer its client never got: one that hung up mid-body was counted by the parser's line
      // (node-limits.ts answerClientError), with the same request id, and would be counted twice.
      if (!clientGone) countRefusal?.(status, graphql.result ?? "none");
    } else if (status === 500 && graphql.result === INTERNAL_SERVER_ERROR) countRefusal?.(status, graphql.result);
  }
  let upstreamMs = 0;
  if (upstream && upstream.length > 0) {
    for (const call of upstream) upstreamMs += call.durationMs;
    upstreamMs = Math.round(upstreamMs * 10) / 10;
  }
  const ms = Math.round(elapsedMs);
  const write = error ? undefined : lineWriter(log);
  if (write !== undefined) {
    if ((log as unknown as Logger).isLevelEnabled("info"))
      write(accessLine(serialisedBindings(log), method, path, status, graphql, upstream, upstreamMs, ms, clientGone));
    return;
  }
  // An error line, or a logger of no createLogger (tests): pino's generic path, the fields as one object.
  const fields: Record<string, unknown> = { method, path, status };
  if (graphql) {
    fields.operation = graphql.operation;
    fields.result = graphql.result;
    if (graphql.resolved !== undefined) fields.resolved = graphql.resolved;
    if (graphql.refused !== undefined) fields.refused = graphql.refused;
    if (graphql.throttled !== undefined) fields.throttled = graphql.throttled;
    if (graphql.idempotency !== undefined) fields.idempotency = graphql.idempotency;
    if (graphql.refs !== undefined) fields.refs = graphql.refs;
  }
  if (upstream && upstream.length > 0) {
    fields.upstream = upstream;
    fields.upstreamMs = upstreamMs;
  }
  fields.ms = ms;
  if (clientGone) fields.clientGone = true;
  if (error) {
    fields.err = error;
    log.error(fields, "request errored");
  } else log.info(fields, "request completed");
}

/**
 * The access line at info, made here as pino makes it from the fields object above, byte for byte (pino 10's
 * `_asJson`: level, time, the logger's bindings, each field in order, the message; `formatters.log`, redactKeys, is a
 * no-op for it: none of its keys is a SENSITIVE_KEYS one and it has no nested plain object). Measured under callgrind
 * (a loop of the bench's AEPS summary through the production logger, four secrets, `node --single-threaded`): 36.8k
 * instructions per line through pino's generic path, which walks the object, looks up each key's serializer and
 * stringifier and builds the line key by key; 25.1k made here, 11.6k of them the scrub (docs/performance-runs.md).
 * test/unit/logging/access-line-equivalence.test.ts writes many summaries through both and compares the bytes.
 */
function accessLine(
  bindings: string,
  method: string,
  path: string,
  status: number,
  graphql: AccessSummary | null | undefined,
  upstream: UpstreamCallSummary[] | null | undefined,
  upstreamMs: number,
  ms: number,
  clientGone: boolean,
): string {
  // pino's epochTime (logger.ts) and `formatters.level`; the time's digits as pinoNumber writes a number (why there).
  let line = `{"level":"info","time":${pinoNumber(Date.now())}${bindings},"method":${pinoString(method)}`;
  line += `,"path":${pinoString(path)},"status":${pinoNumber(status)}`;
  if (graphql) {
    line += optional(',"operation":', graphql.operation);
    line += optional(',"result":', graphql.result);
    line += optional(',"resolved":', graphql.resolved);
    line += optional(',"refused":', graphql.refused);
    line += optional(',"throttled":', graphql.throttled);
    line += optional(',"idempotency":', graphql.idempotency);
    if (graphql.refs !== undefined) line += `,"refs":${JSON.stringify(graphql.refs)}`;
  }
  if (upstream && upstream.length > 0)
    line += `,"upstream":${JSON.stringify(upstream)},"upstreamMs":${pinoNumber(upstreamMs)}`;
  line += `,"ms":${pinoNumber(ms)}`;
  if (clientGone) line += ',"clientGone":true';
  return `${line},"msg":"request completed"}\n`;
}

/** A string or null field as pino writes it (null is an object to pino: JSON.stringify); undefined: no field. */
function optional(key: string, value: string | null | undefined): string {
  if (value === undefined) return "";
  return key + (value === null ? "null" : pinoString(value));
}

/**
 * A number as pino writes it: not finite, `null` (as JSON.stringify writes it). JSON.stringify, not String(): V8's
 * String(), template literals and `+` put each number's string in its number-string cache, a table in the old
 * generation, where the string stays until another number takes its place, so the scavenger promotes it; every line's
 * time is a new number, and each cost ~32-40 B of old generation (docs/performance-runs.md, the round "what a request
 * moves into the old generation"). JSON.stringify makes the same digits without that cache.
 */
function pinoNumber(value: number): string {
  return JSON.stringify(value);
}

/**
 * A string as pino 10 writes one on Node before 25 (lib/tools.js `_asString`): over 100 characters, or holding a
 * control character, JSON.stringify; else quoted with only `"` and `\` escaped (a lone surrogate is written as it is,
 * where JSON.stringify escapes it). On Node 25 and later pino uses JSON.stringify for every string.
 */
function pinoString(text: string): string {
  if (PINO_STRING_IS_JSON || text.length > 100) return JSON.stringify(text);
  let out = "";
  let last = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 32) return JSON.stringify(text);
    if (code === 34 || code === 92) {
      out += `${text.slice(last, i)}\\`;
      last = i;
    }
  }
  return out === "" ? `"${text}"` : `"${out}${text.slice(last)}"`;
}
const PINO_STRING_IS_JSON = Number(process.versions.node.split(".")[0]) >= 25;

/** The matched route's template, never the client's URL. */
function pathOf(request: FastifyRequest): string {
  return request.routeOptions?.url ?? "(no route)";
}
