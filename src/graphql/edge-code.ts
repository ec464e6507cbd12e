/**
 * Every `extensions.code` (GraphQL errors) and `code` (HTTP error bodies from http/http-server.ts) this server sends:
 * one table (Apollo's ApolloServerErrorCode, extended). Expected outcomes are not here: they are result union members
 * with a FailureCode (failures/failure-code.enum.ts). Clients branch on these codes, never on messages.
 */
export enum EdgeCode {
  /** Anything not deliberately worded for the client: masked, fixed message (plugins/error-format.ts). */
  INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR",
  /** No valid API key or JWT where one is required. HTTP 401. */
  UNAUTHENTICATED = "UNAUTHENTICATED",
  /** The Idempotency-Key was used before with other input. HTTP 422. */
  IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED",
  GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED",
  /** The document breaks a GraphQL rule or one of our limits (limits.ts). */
  GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED",
  /** An argument or header failed validation; `extensions.fields` says which and why. */
  BAD_USER_INPUT = "BAD_USER_INPUT",
  /** The HTTP request itself is malformed (body, content type, method). */
  BAD_REQUEST = "BAD_REQUEST",
  PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND",
  PERSISTED_QUERY_NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED",
  OPERATION_RESOLUTION_FAILURE = "OPERATION_RESOLUTION_FAILURE",
  /** TRUSTED_DOCUMENTS=enforce and the document is not one of the generated clients' operations. HTTP 400. */
  UNTRUSTED_DOCUMENT = "UNTRUSTED_DOCUMENT",
  /** A CORS preflight from a browser origin the allow-list (CORS_ORIGINS) refuses. HTTP 403. */
  ORIGIN_NOT_ALLOWED = "ORIGIN_NOT_ALLOWED",
  /** No such route. HTTP 404. */
  NOT_FOUND = "NOT_FOUND",
  /** The server is draining (shutting down): send the request again, to another replica. HTTP 503 with Retry-After. */
  SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE",
  /** The request's headers or body did not arrive in time (a slow client). HTTP 408, from http/node-limits.ts. */
  REQUEST_TIMEOUT = "REQUEST_TIMEOUT",
  /** The request's headers are larger than allowed. HTTP 431, from http/node-limits.ts. */
  HEADERS_TOO_LARGE = "HEADERS_TOO_LARGE",
  /**
   * A bearer token that could not be checked: the identity provider's key set (AUTH_JWKS_URL) could not be fetched,
   * or the set held lacks the token's key while it cannot be refreshed. Refused before the body was read: nothing was
   * done. HTTP 503 with Retry-After (auth/authenticator.ts AUTH_UNAVAILABLE_RETRY_AFTER_SECONDS).
   */
  AUTH_UNAVAILABLE = "AUTH_UNAVAILABLE",
  /** Admission control refused the request before reading it (too many in flight, or the event loop late). HTTP 503 with Retry-After. */
  OVERLOADED = "OVERLOADED",
}
