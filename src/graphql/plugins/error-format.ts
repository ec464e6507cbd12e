import { GraphQLError, type GraphQLFormattedError } from "graphql";
import type { Scrubber } from "../../pii/scrub";
import { hideTokenLimit } from "../limits";

/**
 * Codes whose messages are meant for the client. Everything else is masked as INTERNAL_SERVER_ERROR with a fixed
 * message (envelop's useMaskedErrors; docs/security-requirements.md A7), after the original is logged.
 */
export const CLIENT_ERROR_CODES = new Set([
  "UNAUTHENTICATED",
  "IDEMPOTENCY_KEY_REUSED",
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_USER_INPUT",
  "BAD_REQUEST",
  "PERSISTED_QUERY_NOT_FOUND",
  "PERSISTED_QUERY_NOT_SUPPORTED",
  "OPERATION_RESOLUTION_FAILURE",
]);

export const UNEXPECTED_ERROR_MESSAGE = "Unexpected error.";

/**
 * Apollo Server's own persisted-query refusals (requestPipeline.ts) carry HTTP 400 but no code: they are the
 * client's mistake, so they keep their message under BAD_REQUEST instead of being masked.
 */
const APOLLO_BAD_REQUEST_MESSAGES = new Set(["provided sha does not match query", "Unsupported persisted query version"]);

/**
 * Removes the values graphql-js puts into its messages (docs/security-requirements.md A8):
 *   Variable "$input" got invalid value { aadhaar: "…" } at "input.mobile"; Field "x" of required type … was not provided.
 *   String cannot represent a non string value: 999941057058
 *   Expected value of type "String!", found 999941057058.
 * `reason` is the inner error's own message when graphql-js kept it as `originalError`: it marks exactly where the
 * echoed value ends, whatever characters the value contains.
 */
export function stripEchoedValues(message: string, reason?: string): string {
  let out = message;
  const variable = /^Variable "\$([A-Za-z_][A-Za-z0-9_]*)" got invalid value /.exec(out);
  if (variable) {
    const tailStart = reason && out.endsWith(`; ${reason}`) ? out.length - reason.length - 2 : out.lastIndexOf("; ");
    const head = tailStart >= 0 ? out.slice(0, tailStart) : out;
    const tail = tailStart >= 0 ? out.slice(tailStart + 2) : "";
    const at = / at "([^"]*)"$/.exec(head);
    out = `Variable "$${variable[1]}" got invalid value${at ? ` at "${at[1]}"` : ""}${tail ? `; ${tail}` : "."}`;
  }
  return out
    .replace(/((?:cannot represent|Expected type)[^:;]*?)(?:: [^;]*)(;|$)/g, "$1.$2")
    .replace(/(Expected value of type "[^"]*"), found [^;]*/g, "$1.")
    .replace(/\.\.+/g, ".");
}

/** True for errors whose message may reach the client. */
export function isClientError(code: unknown): boolean {
  return typeof code === "string" && CLIENT_ERROR_CODES.has(code);
}

/**
 * Apollo `formatError`: keeps client errors (values stripped, PII scrubbed), masks everything else. Masked errors are
 * logged with the request's logger by requestPlugin (didEncounterErrors), not here, so the log line has the request id.
 */
export function createFormatError(scrubber: Scrubber, options: { hideLimits: boolean }) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code =
      typeof formatted.extensions?.code === "string"
        ? formatted.extensions.code === "INTERNAL_SERVER_ERROR" && APOLLO_BAD_REQUEST_MESSAGES.has(formatted.message)
          ? "BAD_REQUEST"
          : formatted.extensions.code
        : "INTERNAL_SERVER_ERROR";
    if (isClientError(code)) {
      const original = error instanceof GraphQLError ? error.originalError : undefined;
      const stripped = stripEchoedValues(formatted.message, original?.message);
      const message = scrubber.scrub(options.hideLimits ? hideTokenLimit(stripped) : stripped);
      const fields = formatted.extensions?.fields;
      return {
        message,
        ...(formatted.locations ? { locations: formatted.locations } : {}),
        ...(formatted.path ? { path: formatted.path } : {}),
        extensions: { code, ...(Array.isArray(fields) ? { fields } : {}) },
      };
    }
    return {
      message: UNEXPECTED_ERROR_MESSAGE,
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: "INTERNAL_SERVER_ERROR" },
    };
  };
}
