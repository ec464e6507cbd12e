import { Buffer } from "node:buffer";
import { type IncomingMessage, type ServerOptions, type ServerResponse, STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { HttpLimits } from "./server.settings";
import type { RefusalCounter } from "../logging/access-log";
import type { Logger } from "../logging/logger";
import type { Cors } from "./cors";
import { CONNECTIONS_CHECKING_INTERVAL_MS } from "./server.settings";
import { DEFAULT_ADMISSION_RETRY_AFTER_SECONDS } from "./admission.settings";
import { EdgeCode } from "../graphql/edge-code";
import { errorBody, refusalType } from "./error-body";
import { freshRequestId } from "./request-id";

/**
 * Node's own HTTP limits, shared by the API listener (http-server.ts) and the metrics listener. They must be given
 * to http.createServer: on Node 24 a `requestTimeout` or `headersTimeout` assigned to the server afterwards (what
 * fastify's `requestTimeout` option does) is never applied to a request whose body trickles in (measured: a body
 * sent one byte every 300 ms was still open after 6 s with a 2 s limit set afterwards, and answered 408 at 2.0 s with
 * the same limit given at creation). Node looks for expired requests every CONNECTIONS_CHECKING_INTERVAL_MS (its
 * default is 30 s), so a slow request is answered within that much after its limit.
 */
export function nodeServerOptions(limits: HttpLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    maxHeaderSize: limits.maxHeaderBytes,
    connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS,
    // A header sent twice that HTTP allows once (Content-Type, Authorization, Host ...) is joined with ", " rather than
    // its second line dropped (Node's default: the first one wins, silently). A proxy in front may read the other one;
    // joined, the value is refused wherever it is read: a repeated Content-Type by representation.ts (400), two
    // Authorization headers as an invalid bearer token (401), two Idempotency-Keys by its syntax (BAD_USER_INPUT).
    // Node's parser does the same work either way (node:_http_incoming _addHeaderLine).
    joinDuplicateHeaders: true,
    // Node's own answer to an HTTP/1.1 request without Host is a bare 400 (no request id, no error body, no CORS
    // headers, no access line, not counted). Each listener refuses such a request itself (missingHost): the API's first
    // onRequest hook (http-server.ts) as its other 400s, the metrics listener in plain text, both counted.
    requireHostHeader: false,
  };
}

/**
 * Whether the request is HTTP/1.1 without a Host header: RFC 9112 §3.2, "A server MUST respond with a 400 (Bad
 * Request) status code to any HTTP/1.1 request message that lacks a Host header field". The target's authority is
 * what the request means: without it a proxy and this server may read the request differently, and the refused-origin
 * check (cors.ts, same origin by Host) has nothing to compare with. Node's condition (node:_http_server
 * parserOnIncoming, `requireHostHeader`), which this replaces on every listener (nodeServerOptions): HTTP/1.0 had no
 * Host and is served as before.
 */
export function missingHost(req: IncomingMessage): boolean {
  return req.httpVersionMajor === 1 && req.httpVersionMinor === 1 && req.headers.host === undefined;
}

/** Set on a raw response by the listener once it knows the request's id, so that a 408 mid-body carries the same id. */
export const RAW_REQUEST_ID = Symbol("requestId");
/** Set on a raw response whose request answerClientError refused (its line, "request refused by the HTTP parser"). */
const PARSER_REFUSED = Symbol("parserRefused");
type TaggedResponse = ServerResponse & { [RAW_REQUEST_ID]?: string; [PARSER_REFUSED]?: true };

/**
 * Whether answerClientError answered this response's request with a 408 (a body that trickled past
 * REQUEST_TIMEOUT_MS): its line is that request's access line, and the route writes none (the body's read then fails,
 * and the route logged a second line, a 400 its client never received: test/e2e/slow-clients.test.ts).
 */
export function refusedByParser(response: ServerResponse): boolean {
  return (response as TaggedResponse)[PARSER_REFUSED] === true;
}

/** How long a refused connection may take to read its short answer before it is destroyed anyway. */
const CLIENT_ERROR_LINGER_MS = 1_000;

/**
 * `retryAfter`: the refusals whose same request may be sent again as it is (RFC 9110 §15.5.9: after a 408 "the client
 * MAY repeat that request") say when, as the 503s do (ADMISSION_RETRY_AFTER_SECONDS); a 431 or a 400 would be refused
 * again, so they say nothing that invites a retry. A message whose answer sends Retry-After says to wait it, as the
 * 503s' do (test/e2e/refusal-catalogue.test.ts): "timed out" alone read as a server too slow, to be tried at once.
 */
const CLIENT_ERRORS: Record<number, { message: string; code: EdgeCode; retryAfter?: true }> = {
  408: {
    message:
      "Request timed out: its headers or body did not arrive in time. Nothing was done; send it again after " +
      "Retry-After seconds.",
    code: EdgeCode.REQUEST_TIMEOUT,
    retryAfter: true,
  },
  431: { message: "Request headers are too large.", code: EdgeCode.HEADERS_TOO_LARGE },
  400: { message: "Bad request.", code: EdgeCode.BAD_REQUEST },
};

/** The status Node's own answer would have had (node:_http_server socketOnError), for the errors its parser raises. */
function clientErrorStatus(code: string | undefined): number {
  if (code === "ERR_HTTP_REQUEST_TIMEOUT") return 408;
  if (code === "HPE_HEADER_OVERFLOW") return 431;
  return 400;
}

/**
 * Answers what Node's HTTP parser refuses before any handler runs: 408 (HEADERS_TIMEOUT_MS or REQUEST_TIMEOUT_MS
 * passed), 431 (over MAX_HEADER_BYTES, a long URL included) and 400 (malformed). Like every other answer it carries
 * an `x-request-id` header and a GraphQL-shaped JSON error body with the same id: the id of the request if its
 * headers had arrived (a body that trickled), else a fresh one. It repeats nothing the client sent. The connection
 * is then closed. Used as the `clientError` handler of both listeners.
 *
 * `cors` (the API listener's, cors.ts addHeaders) adds the CORS headers as on every other answer, for the request's
 * `Origin` when allowed, so that a page reads a 408 for its trickled body, or a 431 for its too long URL, as such and
 * not as "Failed to fetch". For a request whose headers had arrived the origin is the parsed header's; for one the
 * parser refused (431, 400) it is read from the bytes the parser was given (`rawPacket`, `originInRaw` below), and
 * only when that header line arrived whole. With none known: no Access-Control header. A refused origin is logged
 * once (cors.ts warnRequest), as on every other answer; its same-origin check reads Host and X-Forwarded-Proto the
 * same way. Its Content-Type follows the request's `Accept` as every refusal's does (error-body.ts refusalType), read
 * the same way, so `Vary` names both.
 */
export function answerClientError(
  error: Error & { code?: string },
  socket: Socket,
  log: Logger,
  cors?: Pick<Cors, "addHeaders" | "warnRequest">,
  /** Counts the refusal (metrics: http_requests_refused_total); none when absent. */
  countRefusal?: RefusalCounter,
  /** The `Retry-After` of a 408 (ADMISSION_RETRY_AFTER_SECONDS). */
  retryAfterSeconds: number = DEFAULT_ADMISSION_RETRY_AFTER_SECONDS,
): void {
  // A reset connection is gone already: nothing to answer.
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const status = clientErrorStatus(error.code);
  // Node's `_httpMessage` is the response in progress on the socket (no public accessor); once its headers have
  // left, another status line would corrupt the stream: the connection is only closed.
  const response = (socket as Socket & { _httpMessage?: TaggedResponse | null })._httpMessage;
  const requestId = response?.[RAW_REQUEST_ID] ?? freshRequestId();
  log.info({ requestId, status, reason: error.code ?? "unknown" }, "request refused by the HTTP parser");
  countRefusal?.(status, CLIENT_ERRORS[status].code);
  if (socket.writable && !response?.headersSent) {
    // A request cut by REQUEST_TIMEOUT_MS: this answer is its line; the route's, once the body's read fails, would be
    // a second (refusedByParser). A client that hung up mid-body (a 400 here, written to no one) keeps its route's
    // line, which says clientGone.
    if (response && status === 408) response[PARSER_REFUSED] = true;
    const { message, code, retryAfter } = CLIENT_ERRORS[status];
    const body = JSON.stringify(errorBody(message, code, requestId, retryAfter ? retryAfterSeconds : undefined));
    const raw = (error as { rawPacket?: unknown }).rawPacket;
    const parsed = response?.req?.headers;
    let corsLines = "";
    if (cors) {
      // The headers the request's Origin is read from: parsed (a body that trickled past REQUEST_TIMEOUT_MS), else
      // whole lines of the bytes the parser refused (431, 400). None known (a 408 for headers that did not arrive in
      // time: Node gives no bytes): no warning, no Access-Control header; nothing was read that names an origin.
      const read = parsed ?? {
        origin: headerInRaw(raw, "origin"),
        host: headerInRaw(raw, "host"),
        "x-forwarded-proto": headerInRaw(raw, "x-forwarded-proto"),
      };
      // The refused-origin warning, as on every other answer: a page whose request Node refused (a URL over
      // MAX_HEADER_BYTES) sees "Failed to fetch" too, and the origin is named once (cors.ts warnOnce).
      cors.warnRequest(read, socket);
      const headers: Record<string, string | number> = {};
      cors.addHeaders(headers, typeof read.origin === "string" ? read.origin : undefined);
      delete headers.vary;
      // Written as it is: only an allowed origin is echoed, and it passed Node's header parser (no CR or LF).
      for (const [name, value] of Object.entries(headers)) corsLines += `${name}: ${value}\r\n`;
    }
    // The type by Accept, as every refusal's (error-body.ts refusalType); read from the bytes as Origin is, when the
    // parser refused the headers. Vary names both.
    const type = refusalType(typeof parsed?.accept === "string" ? parsed.accept : headerInRaw(raw, "accept"));
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: ${type}\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nx-request-id: ${requestId}\r\n${corsLines}` +
        `vary: ${cors ? "Origin, Accept" : "Accept"}\r\n` +
        `${retryAfter ? `retry-after: ${retryAfterSeconds}\r\n` : ""}connection: close\r\n\r\n${body}`,
    );
    // Closed once the answer is written; a client that does not read even that is cut a second later.
    socket.destroySoon();
    setTimeout(() => socket.destroy(), CLIENT_ERROR_LINGER_MS).unref();
  } else {
    socket.destroy();
  }
}

/**
 * The `Origin` of a request Node's parser refused, from the bytes it was given: Node sets `rawPacket` on a parse error
 * to the chunk being parsed (node:_http_server, `prepareError`). For a request that arrives in one read (a
 * browser's, on loopback) that holds its request line and headers; over a network a long request can arrive in
 * several reads, and an `Origin` after the point of overflow (after a too long URL) is then not in it: no origin.
 * Only a header line that arrived whole (ended by CRLF, inside the header block) and holds one printable ASCII token
 * counts: a line cut by the end of the chunk could be a prefix of the real origin. The value is then only used if
 * cors.ts allows it, and an allowed origin is echoed as configured.
 */
export function originInRaw(raw: unknown): string | undefined {
  return headerInRaw(raw, "origin");
}

/** Raw header lines read as `originInRaw` reads Origin (a whole line); values with spaces inside (Accept's) too. */
const RAW_HEADER_LINES = {
  origin: /\r\norigin:[ \t]*([\x21-\x7e]+)[ \t]*\r\n/i,
  accept: /\r\naccept:[ \t]*([\x20-\x7e]*?)[ \t]*\r\n/i,
  // For the refused-origin warning's same-origin check (cors.ts warnOnce), as Origin is read.
  host: /\r\nhost:[ \t]*([\x21-\x7e]+)[ \t]*\r\n/i,
  "x-forwarded-proto": /\r\nx-forwarded-proto:[ \t]*([\x20-\x7e]*?)[ \t]*\r\n/i,
} as const;

function headerInRaw(raw: unknown, name: keyof typeof RAW_HEADER_LINES): string | undefined {
  if (!Buffer.isBuffer(raw)) return undefined;
  const text = raw.toString("latin1");
  const end = text.indexOf("\r\n\r\n");
  const head = end === -1 ? text : text.slice(0, end + 2);
  return RAW_HEADER_LINES[name].exec(head)?.[1];
}

/**
 * Whether a refusal with `status` is written before its request's announced body has been read to its end, so that
 * its connection must close (`Connection: close`) rather than stay alive. Kept alive, Node reads the rest of the body
 * and drops it to get to the next request, however long: a 401 to a client without credentials read 20 MiB announced
 * after it, 640 times BODY_LIMIT_BYTES (bounded only by REQUEST_TIMEOUT_MS), and so did a 415 for a content type
 * refused unread (test/e2e/http-boundary.test.ts). As the refusals of representation.ts and of a body over the limit
 * already did.
 *
 * A 503 (admission's, before the body: at the door or for the client's share) closes only when the body is over
 * `bodyLimit` (BODY_LIMIT_BYTES) or its length unannounced (chunked): before, it never closed, and a 20 MiB announced
 * after a refused request's headers was read and dropped too. A body within the limit (every request this server
 * would serve) is still read, as it would have been served, so that the connection's next request is read in its
 * turn (refused-reads.ts: under overload, clients reconnecting would cost more than the few KiB read). The drain's
 * 503 closes anyway.
 */
export function closesUnreadBody(status: number, req: IncomingMessage, bodyLimit: number): boolean {
  if (status < 400 || req.complete) return false;
  const length = req.headers["content-length"];
  if (status === 503)
    return length === undefined ? req.headers["transfer-encoding"] !== undefined : +length > bodyLimit;
  return (length !== undefined && length !== "0") || req.headers["transfer-encoding"] !== undefined;
}

/**
 * RESPONSE_WRITE_TIMEOUT_MS: called as a response starts; if no byte of it can be sent for that long (a client that
 * stopped reading, its window full), Node destroys the socket (its socket-timeout handler, node:_http_server, with no
 * other listener). Once the response is written Node replaces this timeout with KEEP_ALIVE_TIMEOUT_MS.
 */
export function limitResponseWrite(socket: Socket | null, limits: HttpLimits): void {
  socket?.setTimeout(limits.responseWriteTimeoutMs);
}
