import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { type Dispatcher, request } from "undici";
import { type GraphQLErrorPayload, requestIdOf } from "../graphql-errors.js";
import { retryAfterSeconds } from "../retry-after.js";
import {
  AopayAbortError,
  AopayClientBadResponseError,
  AopayClientError,
  AopayCredentialsError,
  AopayHttpError,
  AopayNetworkError,
  AopayClientTimeoutError,
} from "./errors.js";

/**
 * The SDK's HTTP side: one POST per call over undici, typed by the generated operations (client/src/generated/sdk.ts).
 *
 * No retries, on purpose. A mutation here sends an SMS that someone pays for and a customer receives: repeating one
 * whose outcome is unknown can send a second OTP (and meet the server's cooldown). The server already retries
 * AOPay calls that provably never left, and answers OutcomeUnknown when it cannot tell; the caller, who knows what
 * the user did, decides whether to ask again. To learn what happened to a call that failed here with
 * `requestMayHaveBeenSent`, repeat it with the same Idempotency-Key: the server replays the first result
 * (`replayed: true`) instead of sending again.
 */

/** Deadline of one call when neither the client nor the call sets `timeoutMs`. */
export const DEFAULT_TIMEOUT_MS = 15_000;
/** Largest response body accepted when `maxResponseBytes` is not set. */
export const DEFAULT_MAX_RESPONSE_BYTES = 1_048_576;
/** How much earlier than the client's deadline the server is asked to finish (`x-request-timeout-ms`), at most. */
const SERVER_DEADLINE_MARGIN_MS = 1_000;
/** How much of a non-GraphQL error body an AopayHttpError keeps (bodyPreview). */
const ERROR_BODY_CHARS = 256;
/** 1 to 255 visible ASCII characters, as the server requires. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
/**
 * Failures that prove the request never left, each with the syscall that must have reported it (null: the code exists
 * only before a request is written: DNS, undici's connect timeout, TLS certificate checks). A socket errno counts only
 * from `connect`: Linux also reports EHOSTUNREACH and ENETUNREACH (from an ICMP unreachable) on an open connection,
 * from `read`/`write`, when the retransmissions of a request already written fail; then it may have run.
 */
const NEVER_SENT: ReadonlyMap<string, string | null> = new Map([
  ["ECONNREFUSED", "connect"],
  ["EHOSTUNREACH", "connect"],
  ["ENETUNREACH", "connect"],
  ["ENOTFOUND", null],
  ["EAI_AGAIN", null],
  ["UND_ERR_CONNECT_TIMEOUT", null],
  ["CERT_HAS_EXPIRED", null],
  ["DEPTH_ZERO_SELF_SIGNED_CERT", null],
  ["SELF_SIGNED_CERT_IN_CHAIN", null],
  ["UNABLE_TO_VERIFY_LEAF_SIGNATURE", null],
  ["ERR_TLS_CERT_ALTNAME_INVALID", null],
]);

/**
 * True only when `error` (a transport failure of one call) proves the request never left: its code (its own, else
 * its cause's, as undici wraps some) is in NEVER_SENT and, for a socket errno, came from `connect`. Anything else,
 * an unknown code included, may have been sent.
 */
export function provablyNeverSent(error: unknown): boolean {
  const holder = [error, (error as { cause?: unknown } | null)?.cause].find(
    (e) => typeof (e as { code?: unknown } | null)?.code === "string",
  ) as { code: string; syscall?: unknown } | undefined;
  if (holder === undefined || !NEVER_SENT.has(holder.code)) return false;
  const syscall = NEVER_SENT.get(holder.code);
  return syscall === null || holder.syscall === syscall;
}

export interface GraphQLClientOptions {
  /** The GraphQL endpoint, e.g. `https://api.example.com/graphql`. Required. */
  url: string;
  /** An API key (from `npm run api-key`), sent as `x-api-key`. Use this or `bearerToken`, not both. */
  apiKey?: string;
  /** A JWT sent as `Authorization: Bearer …`; a function is called before every request (for tokens that rotate). */
  bearerToken?: string | (() => string | Promise<string>);
  /** Headers sent with every request. */
  headers?: Record<string, string>;
  /**
   * Deadline of one call in milliseconds, from dispatch to the last byte of the answer. Defaults to 15,000. The
   * server is asked (`x-request-timeout-ms`) to answer up to a second earlier, so that a slow AOPay ends as a
   * typed result (`OutcomeUnknown`, `UpstreamUnavailable`) rather than an AopayClientTimeoutError here.
   */
  timeoutMs?: number;
  /** The undici dispatcher to send through (an Agent with your pool settings, a ProxyAgent ...). Defaults to undici's global one. */
  dispatcher?: Dispatcher;
  /** Largest response body accepted, in bytes. Defaults to 1 MiB. */
  maxResponseBytes?: number;
}

export interface CallOptions {
  /**
   * `Idempotency-Key` for this call (1 to 255 visible ASCII characters). Make one per user action, e.g.
   * `crypto.randomUUID()` per tap of "Send OTP", and reuse it only to ask again about that same action.
   */
  idempotencyKey?: string;
  /**
   * Sent as `x-request-id`; the server logs it beside the id it makes for the request, as `callerRequestId` (to trace
   * across services), when it is a UUID (e.g. `crypto.randomUUID()`) without a run of ten digits, read through its
   * dashes (about 9 % of random UUIDs have one, and are not logged). The request's id is always the server's own: read
   * `requestId` back.
   */
  requestId?: string;
  /** Headers for this call, over the client's. */
  headers?: Record<string, string>;
  /** Aborts the call (AopayAbortError). */
  signal?: AbortSignal;
  /** This call's deadline in milliseconds, instead of the client's. */
  timeoutMs?: number;
}

/** What a call returns when a GraphQL response arrived, whatever its HTTP status. */
export interface SdkResult<TData> {
  /** The typed result, or null when the request failed with GraphQL errors (validation, authentication ...). */
  data: TData | null;
  /** GraphQL errors, with `extensions.code` and `extensions.requestId`; undefined when there are none. */
  errors: readonly GraphQLErrorPayload[] | undefined;
  /** The response's `extensions`, if any. */
  extensions: Record<string, unknown> | undefined;
  /** The server's id for this request (`x-request-id`, or the errors' `extensions.requestId`): quote it to support. */
  requestId: string | null;
  /** True when the server replayed the stored result of an earlier call with the same Idempotency-Key. */
  replayed: boolean;
  /**
   * The HTTP status: 200 for results; every refusal of the server's own carries GraphQL errors too (400, 401, 403, 404,
   * 405, 406, 408, 413, 415, 417, 422, 431, 503; a 500 INTERNAL_SERVER_ERROR), docs/api.md.
   */
  status: number;
  /**
   * Seconds to wait before sending this request again, from the response's `Retry-After` header; null without one.
   * The server sends it with its refusals that did nothing (no OTP was sent): 503 `OVERLOADED` (admission control),
   * `SERVICE_UNAVAILABLE` (draining) and `AUTH_UNAVAILABLE` (a bearer token while the identity provider is down), and
   * 408 `REQUEST_TIMEOUT`; the same call may be made again after this many seconds. The SDK does not repeat it by
   * itself. (A throttled send is a result, `OtpThrottled.retryAfterSeconds`, not this.)
   */
  retryAfterSeconds: number | null;
}

/** An operation as the SDK sends it; `TData` and `TVariables` exist only for the types. */
export interface SdkOperation<TData, TVariables> {
  readonly kind: "query" | "mutation";
  readonly name: string;
  readonly query: string;
  /** Never set: carries the operation's types, like TypedDocumentNode's `__apiType`. */
  readonly __types?: { readonly data: TData; readonly variables: TVariables };
}

/** Variables are required exactly when the operation declares a required variable. */
export type SdkArgs<TVariables> = {} extends TVariables
  ? [variables?: TVariables, options?: CallOptions]
  : [variables: TVariables, options?: CallOptions];

export type SdkFunction<TData, TVariables> = (...args: SdkArgs<TVariables>) => Promise<SdkResult<TData>>;

/** The SdkOperation for a client-preset TypedDocumentNode (used by the generated SDK). */
export type OperationOf<TDocument> =
  TDocument extends TypedDocumentNode<infer TData, infer TVariables> ? SdkOperation<TData, TVariables> : never;
/** The SDK function for a client-preset TypedDocumentNode (used by the generated SDK). */
export type SdkFunctionOf<TDocument> =
  TDocument extends TypedDocumentNode<infer TData, infer TVariables> ? SdkFunction<TData, TVariables> : never;

export interface GraphQLClient {
  /** Sends one operation. Resolves with the GraphQL response; rejects with an AopayClientError when there is none. */
  execute<TData, TVariables>(
    operation: SdkOperation<TData, TVariables>,
    ...args: SdkArgs<TVariables>
  ): Promise<SdkResult<TData>>;
}

const CLIENT_OPTIONS = new Set([
  "url",
  "apiKey",
  "bearerToken",
  "headers",
  "timeoutMs",
  "dispatcher",
  "maxResponseBytes",
]);
const CALL_OPTIONS = new Set(["idempotencyKey", "requestId", "headers", "signal", "timeoutMs"]);

/** A client for the GraphQL endpoint; createSdk() wraps one with a typed function per operation. */
export function createGraphQLClient(options: GraphQLClientOptions): GraphQLClient {
  checkClientOptions(options);
  const url = new URL(options.url).toString();
  const baseHeaders = {
    ...lowerCaseKeys(options.headers),
    "content-type": "application/json",
    accept: "application/graphql-response+json, application/json",
  };
  const clientTimeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;

  async function authHeaders(): Promise<Record<string, string>> {
    if (options.apiKey !== undefined) return { "x-api-key": options.apiKey };
    if (options.bearerToken === undefined) return {};
    if (typeof options.bearerToken === "string") return { authorization: `Bearer ${options.bearerToken}` };
    // The caller's token function failing (its token service down ...) is a failure of this call, not a bug in the
    // calling code: an AopayClientError as every other, and never sent (nothing has left the process yet).
    let token: unknown;
    try {
      token = await options.bearerToken();
    } catch (error) {
      // Its message is not quoted: it is the caller's own text (a token service's answer, the token itself), and an
      // SDK error's message ends up in logs and crash reports. What it threw stays the `cause`, as it was.
      const what = error instanceof Error ? error.name : typeof error;
      throw new AopayCredentialsError(`bearerToken failed (${what}); what it threw is this error's cause.`, error);
    }
    if (typeof token !== "string" || token === "")
      throw new AopayCredentialsError("bearerToken returned no token (a non-empty string is required).", undefined);
    return { authorization: `Bearer ${token}` };
  }

  async function execute<TData, TVariables>(
    operation: SdkOperation<TData, TVariables>,
    ...args: SdkArgs<TVariables>
  ): Promise<SdkResult<TData>> {
    const [variables, call = {}] = args as [TVariables | undefined, CallOptions | undefined];
    checkCallOptions(call);
    const timeoutMs = call.timeoutMs ?? clientTimeoutMs;
    if (call.signal?.aborted) throw new AopayAbortError(call.signal.reason, false);
    // The deadline and the caller's signal cover the bearerToken function too: one that hangs ends the call at
    // timeoutMs (it was awaited before the deadline started, and hung the call for as long as it did), and an abort
    // while it runs is never sent: nothing has left the process before the token is there.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), timeoutMs);
    const signal = call.signal ? AbortSignal.any([call.signal, deadline.signal]) : deadline.signal;
    let auth: Record<string, string>;
    try {
      auth = await untilAborted(authHeaders(), signal);
    } catch (error) {
      clearTimeout(timer);
      if (!(error instanceof AbortedBeforeSending)) throw error;
      if (call.signal?.aborted) throw new AopayAbortError(call.signal.reason, false);
      throw new AopayClientTimeoutError(timeoutMs, false);
    }
    const headers: Record<string, string> = {
      ...baseHeaders,
      ...lowerCaseKeys(call.headers),
      ...auth,
      "x-request-timeout-ms": String(timeoutMs - Math.min(SERVER_DEADLINE_MARGIN_MS, Math.floor(timeoutMs / 5))),
    };
    if (call.idempotencyKey !== undefined) headers["idempotency-key"] = call.idempotencyKey;
    if (call.requestId !== undefined) headers["x-request-id"] = call.requestId;
    const body = JSON.stringify({ query: operation.query, operationName: operation.name, variables: variables ?? {} });

    try {
      const response = await request(url, { method: "POST", headers, body, signal, dispatcher: options.dispatcher });
      const text = await readText(response.body, maxBytes);
      return interpret<TData>(response.statusCode, response.headers, text, maxBytes);
    } catch (error) {
      if (error instanceof AopayClientError) throw error;
      if (call.signal?.aborted) throw new AopayAbortError(error, true);
      if (deadline.signal.aborted) throw new AopayClientTimeoutError(timeoutMs);
      const sent = !provablyNeverSent(error);
      throw new AopayNetworkError(`Request to the GraphQL server failed: ${errorMessage(error)}`, {
        sent,
        cause: error,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  return { execute };
}

/** The call's signal fired while its headers were being made (the bearerToken function): nothing was sent. */
class AbortedBeforeSending extends Error {}

/** `work`'s value, or AbortedBeforeSending as soon as `signal` fires (`work` is left to settle on its own). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new AbortedBeforeSending());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AbortedBeforeSending());
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/** A GraphQLClient as is, or a new one from options. */
export function toGraphQLClient(clientOrOptions: GraphQLClient | GraphQLClientOptions): GraphQLClient {
  return typeof (clientOrOptions as GraphQLClient).execute === "function"
    ? (clientOrOptions as GraphQLClient)
    : createGraphQLClient(clientOrOptions as GraphQLClientOptions);
}

function interpret<TData>(
  status: number,
  headers: Record<string, string | string[] | undefined>,
  text: string | null,
  maxBytes: number,
): SdkResult<TData> {
  const headerRequestId = firstHeader(headers["x-request-id"]) ?? null;
  if (text === null)
    throw new AopayClientBadResponseError(
      status,
      `The response body is larger than ${maxBytes} bytes.`,
      headerRequestId,
    );
  const parsed = isJson(firstHeader(headers["content-type"])) ? parseJson(text) : undefined;
  if (isGraphQLResponse(parsed)) {
    const errors = Array.isArray(parsed.errors) ? (parsed.errors as GraphQLErrorPayload[]) : undefined;
    return {
      data: (parsed.data ?? null) as TData | null,
      errors,
      extensions: isObject(parsed.extensions) ? parsed.extensions : undefined,
      requestId: headerRequestId ?? requestIdOf(errors),
      replayed: firstHeader(headers["idempotent-replayed"]) === "true",
      status,
      retryAfterSeconds: retryAfterSeconds(firstHeader(headers["retry-after"])),
    };
  }
  if (status >= 300)
    throw new AopayHttpError(status, bodyPreview(text), headerRequestId, {
      contentType: firstHeader(headers["content-type"]) ?? null,
      bodyLength: new TextEncoder().encode(text).length,
    });
  throw new AopayClientBadResponseError(
    status,
    `HTTP ${status} answered with something other than a GraphQL response.`,
    headerRequestId,
  );
}

/** The body as text, or null (and the rest discarded) once it exceeds `limit` bytes. */
async function readText(body: Dispatcher.ResponseData["body"], limit: number): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const bytes = chunk as Buffer;
    size += bytes.length;
    if (size > limit) {
      body.destroy();
      return null;
    }
    chunks.push(bytes);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function isGraphQLResponse(value: unknown): value is { data?: unknown; errors?: unknown; extensions?: unknown } {
  return isObject(value) && ("data" in value || Array.isArray(value.errors));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isJson(contentType: string | undefined): boolean {
  return contentType !== undefined && /^application\/(?:graphql-response\+)?json\s*(?:;|$)/i.test(contentType);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function lowerCaseKeys(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (typeof value !== "string") throw new TypeError(`header "${name}" must be a string`);
    out[name.toLowerCase()] = value;
  }
  return out;
}

function errorCode(error: unknown): string | undefined {
  const own = (error as { code?: unknown } | null)?.code;
  if (typeof own === "string") return own;
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  return typeof cause === "string" ? cause : undefined;
}

/**
 * The start of an error page for AopayHttpError.body: its first ERROR_BODY_CHARS characters, with what can be a
 * request's data masked: token-shaped runs (8 or more letters, digits and `_~+-`, letters and digits mixed: a token,
 * a key, a PAN, a user key; or 32 or more of any) as `[hidden]`, runs of four or more digits (up to three spaces,
 * dots, dashes or slashes between them too: an Aadhaar number, a mobile, an OTP, a date, `999 - 971 - 658 - 847`)
 * as `X`s, an e-mail's local part as `***`.
 * Nothing of the page's own survives that has such a shape (a CDN's ray id). A proxy or WAF page that
 * echoes the request would otherwise carry the caller's customer data into its logs and crash reports (the SDK kept
 * 2,048 characters as they came). A name cannot be told by its shape: the preview is short for that reason. The text
 * is masked on a window a little longer than what is kept, so a run cut at the end is masked whole first.
 */
export function bodyPreview(text: string): string {
  return text
    .slice(0, ERROR_BODY_CHARS + 64)
    .replace(/[A-Za-z0-9_~+-]{8,}/g, (run) =>
      run.length >= 32 || (/[0-9]/.test(run) && /[A-Za-z]/.test(run)) ? "[hidden]" : run,
    )
    .replace(/[0-9](?:[\s./-]{0,3}[0-9]){3,}/g, (run) => run.replace(/[0-9]/g, "X"))
    .replace(/[^\s@<>"'():;,=]+@/g, "***@")
    .slice(0, ERROR_BODY_CHARS);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? `${error.message}${errorCode(error) ? ` (${errorCode(error)})` : ""}` : String(error);
}

function checkTimeout(name: string, value: unknown): void {
  if (value !== undefined && !(Number.isInteger(value) && (value as number) > 0))
    throw new TypeError(`${name} must be a positive integer`);
}

function checkClientOptions(options: GraphQLClientOptions): void {
  if (typeof options !== "object" || options === null)
    throw new TypeError("createGraphQLClient: options are required ({ url })");
  const unknown = Object.keys(options).filter((key) => !CLIENT_OPTIONS.has(key));
  if (unknown.length > 0) throw new TypeError(`createGraphQLClient: unknown option(s) ${unknown.join(", ")}`);
  let protocol = "";
  try {
    protocol = new URL(options.url).protocol;
  } catch {
    // reported below
  }
  if (protocol !== "http:" && protocol !== "https:")
    throw new TypeError("createGraphQLClient: url must be an http(s) URL");
  if (options.apiKey !== undefined && options.bearerToken !== undefined)
    throw new TypeError("createGraphQLClient: set apiKey or bearerToken, not both");
  checkTimeout("timeoutMs", options.timeoutMs);
  checkTimeout("maxResponseBytes", options.maxResponseBytes);
  lowerCaseKeys(options.headers);
}

function checkCallOptions(options: CallOptions): void {
  const unknown = Object.keys(options).filter((key) => !CALL_OPTIONS.has(key));
  if (unknown.length > 0) throw new TypeError(`unknown call option(s) ${unknown.join(", ")}`);
  if (options.idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(options.idempotencyKey)) {
    throw new TypeError("idempotencyKey must be 1 to 255 visible ASCII characters");
  }
  checkTimeout("timeoutMs", options.timeoutMs);
}
