import { CombinedGraphQLErrors, ServerError } from "@apollo/client/errors";
import { AOPAY_ERROR_CODES, type AopayErrorCode, refusedBeforeRunning } from "../graphql-errors.js";

const CODES: ReadonlySet<string> = new Set(AOPAY_ERROR_CODES);
/** Longest error body read for its code: the server's are a few hundred bytes; a proxy's page is not read whole. */
const MAX_BODY_CHARS = 16_384;

/**
 * The server's error code of an error Apollo Client rejected with (from `mutate()`, `query()`, or a hook's `error`),
 * the one the SDK gives as `errors[0].extensions.code`; null when no answer of this server's arrived.
 *
 * Why it is needed: the server answers some requests before GraphQL runs, with an HTTP error status and a GraphQL
 * body: 401 `UNAUTHENTICATED`, 503 `OVERLOADED` (with `Retry-After`) or `SERVICE_UNAVAILABLE` (draining), 413, 415,
 * 408 ... Sent as `application/graphql-response+json` (what Apollo Client 4 asks for first), Apollo rejects such an
 * answer with a `CombinedGraphQLErrors`, as it does GraphQL errors (`BAD_USER_INPUT`, `IDEMPOTENCY_KEY_REUSED` ...):
 * their first error's code. Sent as `application/json` (servers before that change, a client whose HttpLink asks
 * for JSON only), it is a `ServerError` holding the body only as text (`bodyText`): parsed here, so that an app
 * tells a missing API key from an overload by more than the status.
 *
 * Null for: a network error (server down, connection reset, and a browser origin the server's CORS_ORIGINS refuses,
 * which the browser reports as `TypeError: Failed to fetch` without the server's 403 `ORIGIN_NOT_ALLOWED`: the page
 * cannot tell these apart, docs/clients.md); an answer that is not this server's (a proxy's 502 page); a code this
 * version of the client does not know. Branch on the code with a default case.
 */
export function errorCodeOf(error: unknown): AopayErrorCode | null {
  const errors = serverErrorsOf(error);
  return errors === null
    ? null
    : known((errors[0] as { extensions?: { code?: unknown } } | undefined)?.extensions?.code);
}

/**
 * Whether the request an error Apollo Client rejected with may have done its work (a mutation its send), so that the
 * user's next attempt must reuse the same Idempotency-Key. False only for this server's answer that the operation
 * never ran (refusedBeforeRunning: BAD_USER_INPUT, UNAUTHENTICATED, 503 OVERLOADED ...), as a CombinedGraphQLErrors
 * or a ServerError whose body is this server's. True for everything else: no answer (a network error, a browser's
 * `TypeError: Failed to fetch`), a proxy's page, and a CombinedGraphQLErrors with INTERNAL_SERVER_ERROR, which the
 * server answers also after the OTP went out. `CombinedGraphQLErrors.is(error)` alone does not tell: it is true for
 * that 500 too.
 */
export function mayHaveBeenSent(error: unknown): boolean {
  return !refusedBeforeRunning(serverErrorsOf(error));
}

/** The GraphQL errors of this server's answer that Apollo rejected with, or null when there is none to read. */
function serverErrorsOf(error: unknown): readonly { extensions?: Record<string, unknown> }[] | null {
  if (CombinedGraphQLErrors.is(error)) return error.errors;
  if (!ServerError.is(error) || error.bodyText.length > MAX_BODY_CHARS) return null;
  let body: unknown;
  try {
    body = JSON.parse(error.bodyText);
  } catch {
    return null;
  }
  const errors = (body as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors)) return null;
  // Something other than an error object stands as an error without a code (not a refusal).
  return errors.map((e: unknown) =>
    typeof e === "object" && e !== null ? (e as { extensions?: Record<string, unknown> }) : {},
  );
}

function known(code: unknown): AopayErrorCode | null {
  return typeof code === "string" && CODES.has(code) ? (code as AopayErrorCode) : null;
}
