/**
 * What the SDK throws. It throws only when there is no GraphQL answer to return: the server could not be reached,
 * the deadline passed, the caller aborted, or something other than a GraphQL response came back (a proxy's 502 page,
 * a body-size 413). A GraphQL response, whatever its HTTP status, is returned as `{ data, errors }`.
 *
 * Match on `code` rather than on `instanceof`: a program that loads both the ESM and the CommonJS build of this
 * package has two copies of each class.
 */

/** Stable codes of the errors the SDK throws. */
export type AopayClientErrorCode = "NETWORK_ERROR" | "TIMEOUT" | "ABORTED" | "HTTP_ERROR" | "BAD_RESPONSE";

/** Root of every error the SDK throws. */
export class AopayClientError extends Error {
  override name = "AopayClientError";
  /** The stable code: branch on this. */
  readonly code: AopayClientErrorCode;
  /** The server's `x-request-id` when a response arrived; quote it when asking for support. */
  readonly requestId: string | null;
  /**
   * False only when the request provably never reached the server (the connection was refused or never made).
   * When true, a mutation may have run: ask again with the same Idempotency-Key to learn its result without a
   * second send.
   */
  readonly requestMayHaveBeenSent: boolean;

  constructor(
    code: AopayClientErrorCode,
    message: string,
    options: { requestId?: string | null; sent: boolean; cause?: unknown },
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.requestId = options.requestId ?? null;
    this.requestMayHaveBeenSent = options.sent;
  }
}

/** The server could not be reached, or the connection broke before a whole response arrived. */
export class AopayNetworkError extends AopayClientError {
  override name = "AopayNetworkError";
  constructor(message: string, options: { sent: boolean; cause: unknown }) {
    super("NETWORK_ERROR", message, options);
  }
}

/** The call's deadline (`timeoutMs`) passed before a whole response arrived. */
export class AopayClientTimeoutError extends AopayClientError {
  override name = "AopayClientTimeoutError";
  readonly timeoutMs: number;
  constructor(timeoutMs: number) {
    super("TIMEOUT", `No complete response within ${timeoutMs} ms.`, { sent: true });
    this.timeoutMs = timeoutMs;
  }
}

/** The caller's AbortSignal fired. */
export class AopayAbortError extends AopayClientError {
  override name = "AopayAbortError";
  constructor(cause: unknown, sent: boolean) {
    super("ABORTED", "The request was aborted by the caller.", { sent, cause });
  }
}

/** The server (or a proxy in front of it) answered with an HTTP error status and no GraphQL response. */
export class AopayHttpError extends AopayClientError {
  override name = "AopayHttpError";
  readonly status: number;
  /** The start of the response body (at most 2,048 characters), for diagnostics. */
  readonly body: string;
  constructor(status: number, body: string, requestId: string | null) {
    super("HTTP_ERROR", `HTTP ${status} without a GraphQL response.`, { requestId, sent: true });
    this.status = status;
    this.body = body;
  }
}

/** A 2xx answer that is not a GraphQL response (not JSON, no `data` or `errors`, or larger than allowed). */
export class AopayClientBadResponseError extends AopayClientError {
  override name = "AopayClientBadResponseError";
  readonly status: number;
  constructor(status: number, message: string, requestId: string | null) {
    super("BAD_RESPONSE", message, { requestId, sent: true });
    this.status = status;
  }
}
