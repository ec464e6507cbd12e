/**
 * What the SDK throws. It throws only when there is no GraphQL answer to return: the server could not be reached,
 * the deadline passed, the caller aborted, or something other than a GraphQL response came back (a proxy's 502 page,
 * a body-size 413). A GraphQL response, whatever its HTTP status, is returned as `{ data, errors }`.
 *
 * Branch on `code`, or use `instanceof`: a program that loads both the ESM and the CommonJS build of this package (an
 * ES-module app with a CommonJS helper that requires it) has two copies of each class, and `instanceof` still holds
 * across them (Symbol.hasInstance below), so `if (!(error instanceof AopayClientError)) throw error` does not rethrow
 * the other copy's network error.
 */

/** Marks an error as the SDK's, whichever copy of the package made it (Symbol.for is shared by every copy). */
const BRAND: unique symbol = Symbol.for("@aopay-graphql/client/AopayClientError") as never;

/** Stable codes of the errors the SDK throws. */
export type AopayClientErrorCode =
  "NETWORK_ERROR" | "TIMEOUT" | "ABORTED" | "HTTP_ERROR" | "BAD_RESPONSE" | "CREDENTIALS_ERROR";

/** Root of every error the SDK throws. */
export class AopayClientError extends Error {
  /**
   * `error instanceof AopayNetworkError` (or any of these classes) is true for an error from either build of this
   * package: the prototype chain as usual, or the shared brand and, for a subclass, its `code`.
   */
  static override [Symbol.hasInstance]<T>(this: abstract new (...args: never[]) => T, value: unknown): value is T {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    if (typeof value !== "object" || value === null || (value as { [BRAND]?: unknown })[BRAND] !== true) return false;
    const code = (this as { readonly errorCode?: AopayClientErrorCode }).errorCode;
    return code === undefined || (value as { code?: unknown }).code === code;
  }

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
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/** The server could not be reached, or the connection broke before a whole response arrived. */
export class AopayNetworkError extends AopayClientError {
  /** The `code` of this class's errors (for `instanceof` across the two builds). */
  static readonly errorCode: AopayClientErrorCode = "NETWORK_ERROR";
  override name = "AopayNetworkError";
  constructor(message: string, options: { sent: boolean; cause: unknown }) {
    super("NETWORK_ERROR", message, options);
  }
}

/**
 * The `bearerToken` function threw, rejected or returned no token: nothing was sent (requestMayHaveBeenSent false);
 * `cause` is what it threw.
 */
export class AopayCredentialsError extends AopayClientError {
  /** The `code` of this class's errors (for `instanceof` across the two builds). */
  static readonly errorCode: AopayClientErrorCode = "CREDENTIALS_ERROR";
  override name = "AopayCredentialsError";
  constructor(message: string, cause: unknown) {
    super("CREDENTIALS_ERROR", message, { sent: false, cause });
  }
}

/** The call's deadline (`timeoutMs`) passed before a whole response arrived. */
export class AopayClientTimeoutError extends AopayClientError {
  /** The `code` of this class's errors (for `instanceof` across the two builds). */
  static readonly errorCode: AopayClientErrorCode = "TIMEOUT";
  override name = "AopayClientTimeoutError";
  readonly timeoutMs: number;
  /** `sent` false when the deadline passed before the request left (the bearerToken function still running). */
  constructor(timeoutMs: number, sent = true) {
    super("TIMEOUT", `No complete response within ${timeoutMs} ms.`, { sent });
    this.timeoutMs = timeoutMs;
  }
}

/** The caller's AbortSignal fired. */
export class AopayAbortError extends AopayClientError {
  /** The `code` of this class's errors (for `instanceof` across the two builds). */
  static readonly errorCode: AopayClientErrorCode = "ABORTED";
  override name = "AopayAbortError";
  constructor(cause: unknown, sent: boolean) {
    super("ABORTED", "The request was aborted by the caller.", { sent, cause });
  }
}

/** The server (or a proxy in front of it) answered with an HTTP error status and no GraphQL response. */
export class AopayHttpError extends AopayClientError {
  /** The `code` of this class's errors (for `instanceof` across the two builds). */
  static readonly errorCode: AopayClientErrorCode = "HTTP_ERROR";
  override name = "AopayHttpError";
  readonly status: number;
  /**
   * The start of the response body, for diagnostics: at most 256 characters, digit runs, PAN, e-mail and token shapes
   * masked (a proxy's page may echo the request). For the whole page, look at the proxy's own log, by `requestId` or
   * time.
   */
  readonly body: string;
  /** The response's `content-type`, or null. */
  readonly contentType: string | null;
  /** The whole body's length in bytes (of which `body` is the masked start). */
  readonly bodyLength: number;
  constructor(
    status: number,
    body: string,
    requestId: string | null,
    details: { contentType?: string | null; bodyLength?: number } = {},
  ) {
    super("HTTP_ERROR", `HTTP ${status} without a GraphQL response.`, { requestId, sent: true });
    this.status = status;
    this.body = body;
    this.contentType = details.contentType ?? null;
    this.bodyLength = details.bodyLength ?? body.length;
  }
}

/** A 2xx answer that is not a GraphQL response (not JSON, no `data` or `errors`, or larger than allowed). */
export class AopayClientBadResponseError extends AopayClientError {
  /** The `code` of this class's errors (for `instanceof` across the two builds). */
  static readonly errorCode: AopayClientErrorCode = "BAD_RESPONSE";
  override name = "AopayClientBadResponseError";
  readonly status: number;
  constructor(status: number, message: string, requestId: string | null) {
    super("BAD_RESPONSE", message, { requestId, sent: true });
    this.status = status;
  }
}
