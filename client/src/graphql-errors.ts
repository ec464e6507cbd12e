/**
 * The shape of this server's GraphQL errors, and helpers to read them. Shared by the React hooks (Apollo Client's
 * `CombinedGraphQLErrors.errors`) and the SDK (`result.errors`): both hold plain GraphQL error objects.
 */

/** One problem with one input field, from `extensions.fields` of a BAD_USER_INPUT error. */
export interface FieldProblem {
  /** The field's path in the variables (`input.mobile`), or `Idempotency-Key` for the header. */
  readonly field: string;
  /** What is wrong, without the value (`must be 10 digits starting 6-9`). */
  readonly problem: string;
}

/**
 * Every `extensions.code` this server puts on a GraphQL error, each with its meaning in docs/api.md ("Results and
 * errors"). The server's own list is src/graphql/edge-code.ts; test/unit/client/error-codes.test.ts keeps the three
 * equal. Expected outcomes are not errors: they are result union members with a `FailureCode`.
 */
export const AOPAY_ERROR_CODES = [
  "BAD_USER_INPUT",
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_REQUEST",
  "UNAUTHENTICATED",
  "IDEMPOTENCY_KEY_REUSED",
  "UNTRUSTED_DOCUMENT",
  "PERSISTED_QUERY_NOT_FOUND",
  "PERSISTED_QUERY_NOT_SUPPORTED",
  "OPERATION_RESOLUTION_FAILURE",
  "OVERLOADED",
  "SERVICE_UNAVAILABLE",
  "AUTH_UNAVAILABLE",
  "INTERNAL_SERVER_ERROR",
  "REQUEST_TIMEOUT",
  "HEADERS_TOO_LARGE",
  "ORIGIN_NOT_ALLOWED",
  "NOT_FOUND",
] as const;

/** A GraphQL error's `extensions.code` from this server: branch on it, never on the message. */
export type AopayErrorCode = (typeof AOPAY_ERROR_CODES)[number];

/**
 * The codes of the errors this server answers before the operation runs: the request was refused or never read, so
 * nothing was done (no OTP sent). Every code but INTERNAL_SERVER_ERROR, which is a failure of ours that can come after
 * the operation ran, a mutation's send included (docs/api.md "Refusals before GraphQL runs": a result that cannot be
 * serialised is answered 500 after the OTP went out). test/unit/client/error-codes.test.ts keeps this list whole.
 * Written out, not derived from AOPAY_ERROR_CODES: a code the server gains fails that test until someone decides
 * whether it can come after a send; derived, it would count as "nothing sent" unseen, and a retry under a new key
 * could send a second SMS.
 */
export const REFUSED_BEFORE_RUNNING_CODES = [
  "BAD_USER_INPUT",
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_REQUEST",
  "UNAUTHENTICATED",
  "IDEMPOTENCY_KEY_REUSED",
  "UNTRUSTED_DOCUMENT",
  "PERSISTED_QUERY_NOT_FOUND",
  "PERSISTED_QUERY_NOT_SUPPORTED",
  "OPERATION_RESOLUTION_FAILURE",
  "OVERLOADED",
  "SERVICE_UNAVAILABLE",
  // HTTP 503: the bearer token could not be checked (the identity provider down), before the body was read.
  "AUTH_UNAVAILABLE",
  "REQUEST_TIMEOUT",
  "HEADERS_TOO_LARGE",
  "ORIGIN_NOT_ALLOWED",
  "NOT_FOUND",
] as const satisfies readonly AopayErrorCode[];

const REFUSED_BEFORE_RUNNING: ReadonlySet<string> = new Set(REFUSED_BEFORE_RUNNING_CODES);

/** The extensions this server puts on GraphQL errors (docs/api.md "Results and errors"). */
export interface AopayErrorExtensions {
  /** One of AOPAY_ERROR_CODES: `BAD_USER_INPUT`, `UNAUTHENTICATED`, `IDEMPOTENCY_KEY_REUSED`, `OVERLOADED` ... */
  readonly code?: AopayErrorCode;
  /** The request's id (also in the `x-request-id` response header): quote it when asking for support. */
  readonly requestId?: string;
  /** Every bad input field (BAD_USER_INPUT only). */
  readonly fields?: readonly FieldProblem[];
  /**
   * Seconds to wait before sending the same request again, as the answer's `Retry-After` header says (OVERLOADED,
   * SERVICE_UNAVAILABLE, AUTH_UNAVAILABLE, REQUEST_TIMEOUT): nothing was done. Absent on the other codes.
   */
  readonly retryAfterSeconds?: number;
  readonly [key: string]: unknown;
}

/** A GraphQL error as it arrives over HTTP. */
export interface GraphQLErrorPayload {
  readonly message: string;
  readonly path?: readonly (string | number)[];
  readonly locations?: readonly { readonly line: number; readonly column: number }[];
  readonly extensions?: AopayErrorExtensions;
}

/** Anything with GraphQL errors' `extensions`: our payloads, Apollo Client's, graphql-js's. */
type ErrorsLike = readonly { readonly extensions?: { readonly [key: string]: unknown } }[] | null | undefined;

/**
 * The problems of every bad input field in `errors`, keyed by the server's field path (`input.mobile`). Two
 * problems with one field are joined with "; ". Empty when there is no BAD_USER_INPUT error.
 */
export function fieldProblems(errors: ErrorsLike): Record<string, string> {
  const out: Record<string, string> = {};
  for (const error of errors ?? []) {
    const fields = error.extensions?.fields;
    if (error.extensions?.code !== "BAD_USER_INPUT" || !Array.isArray(fields)) continue;
    for (const entry of fields as unknown[]) {
      if (typeof entry !== "object" || entry === null) continue;
      const { field, problem } = entry as { field?: unknown; problem?: unknown };
      if (typeof field !== "string" || typeof problem !== "string") continue;
      out[field] = out[field] ? `${out[field]}; ${problem}` : problem;
    }
  }
  return out;
}

/** The request id the server stamped on the first error that carries one, or null. */
export function requestIdOf(errors: ErrorsLike): string | null {
  for (const error of errors ?? []) {
    const id = error.extensions?.requestId;
    if (typeof id === "string" && id.length > 0) return id;
  }
  return null;
}

/**
 * The wait the server gave on the first error that carries one (`extensions.retryAfterSeconds`, the same seconds as
 * its `Retry-After` header: 503 OVERLOADED, SERVICE_UNAVAILABLE and AUTH_UNAVAILABLE, 408 REQUEST_TIMEOUT), or null.
 * Read where the header is out of reach: Apollo Client 4 hands such a refusal on as GraphQL errors
 * (CombinedGraphQLErrors).
 */
export function retryAfterOf(errors: ErrorsLike): number | null {
  for (const error of errors ?? []) {
    const seconds = error.extensions?.retryAfterSeconds;
    if (typeof seconds === "number" && Number.isFinite(seconds) && seconds >= 0) return seconds;
  }
  return null;
}

/**
 * True when `errors` say for certain that the operation did not run: there is at least one, and every one carries a
 * code of REFUSED_BEFORE_RUNNING_CODES (a bad input, a missing API key, an overload ...). Then nothing was sent, the
 * server holds no result for the request's Idempotency-Key, and the user's next attempt may take a new key.
 *
 * False otherwise, and then a mutation may have done its work: INTERNAL_SERVER_ERROR (the server failed after the OTP
 * went out, e.g. writing the answer), a code this version of the client does not know, an error without a code. Keep
 * the Idempotency-Key and send the same input again with it: the server replays the stored result, or answers
 * OutcomeUnknown, and never sends a second OTP under that key (docs/security.md "Idempotency keys"). A key made
 * afresh there is a new send: a second SMS once the cooldown has passed.
 */
export function refusedBeforeRunning(errors: ErrorsLike): boolean {
  if (!errors || errors.length === 0) return false;
  return errors.every((error) => {
    const code = error.extensions?.code;
    return typeof code === "string" && REFUSED_BEFORE_RUNNING.has(code);
  });
}
