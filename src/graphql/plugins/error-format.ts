import { GraphQLError, type GraphQLFormattedError } from "graphql";
import { shownAsRead } from "../../pii/client-text";
import { maskPanShapes, replaceDigitRuns, type Scrubber } from "../../pii/scrub";
import { fixedMessage } from "./fixed-messages";
import { isSafeMessage } from "./safe-message-error";
import { EdgeCode } from "../edge-code";

/**
 * Codes whose messages are meant for the client. Everything else is masked as INTERNAL_SERVER_ERROR with a fixed
 * message (envelop's useMaskedErrors; docs/security-requirements.md A7), after the original is logged.
 */
export const CLIENT_ERROR_CODES: ReadonlySet<string> = new Set<EdgeCode>([
  EdgeCode.UNAUTHENTICATED,
  EdgeCode.IDEMPOTENCY_KEY_REUSED,
  EdgeCode.GRAPHQL_PARSE_FAILED,
  EdgeCode.GRAPHQL_VALIDATION_FAILED,
  EdgeCode.BAD_USER_INPUT,
  EdgeCode.BAD_REQUEST,
  EdgeCode.PERSISTED_QUERY_NOT_FOUND,
  EdgeCode.PERSISTED_QUERY_NOT_SUPPORTED,
  EdgeCode.OPERATION_RESOLUTION_FAILURE,
]);

export const UNEXPECTED_ERROR_MESSAGE = "Unexpected error.";

/**
 * Client mistakes that reach formatError with no code of their own, by their exact message, and the code they go out
 * with instead of being masked:
 * - Apollo Server's own persisted-query refusals (requestPipeline.ts) carry HTTP 400 but no code;
 * - graphql-js's last variable coercion error, once `maxCoercionErrors` is reached (execution/values.js), has no node,
 *   so Apollo does not make it a UserInputError as it does the others (requestPipeline.js isBadUserInputGraphQLError):
 *   it was answered as INTERNAL_SERVER_ERROR after the request's BAD_USER_INPUT errors and logged at error with its
 *   stack, 2.2 kB of log for a client's mistake.
 */
const CODELESS_CLIENT_ERRORS: ReadonlyMap<string, EdgeCode> = new Map([
  ["provided sha does not match query", EdgeCode.BAD_REQUEST],
  ["Unsupported persisted query version", EdgeCode.BAD_REQUEST],
  ["Too many errors processing variables, error limit reached. Execution aborted.", EdgeCode.BAD_USER_INPUT],
]);

/**
 * graphql-js's argument coercion during execution (execution/values.js getArgumentValues), for field and directive
 * arguments: the client's mistakes validation cannot see, such as a variable with a default, allowed in a non-null
 * position, sent as null (`query($v: Boolean = true) { f @skip(if: $v) }` with `{"v": null}`). They carry no code,
 * and had been answered as INTERNAL_SERVER_ERROR and logged at error with a stack (1.9 kB for a 90-byte request);
 * they are BAD_USER_INPUT, as variable coercion errors are. Only graphql-js words these messages.
 */
export const ARGUMENT_COERCION =
  /^Argument "[A-Za-z_][A-Za-z0-9_]*" (?:of required type "[^"]*" was (?:not provided\.|provided the variable )|of non-null type "[^"]*" must not be null\.|has invalid value )/;

/**
 * At most this many `locations` per error. graphql-js gives some errors one location per occurrence ("There can be
 * only one argument named", a fragment cycle, repeated variables): `f(a:1 a:1 ...)` got back 160 locations, 25 bytes
 * each, for 4 bytes each. The first ones point at the fault; neither graphql-js nor Apollo has an option for this.
 */
export const MAX_ERROR_LOCATIONS = 3;

const VARIABLE_PREFIX = /^Variable "\$([A-Za-z_][A-Za-z0-9_]*)" got invalid value /;
const VARIABLE_AT = / at "([^"]*)"$/;
const AFTER_REPRESENT = /((?:cannot represent|Expected type)[^:;]*?)(?:: [^;]*)(;|$)/g;
const AFTER_FOUND = /(Expected value of type "[^"]*"), found [^;]*/g;
const DOUBLE_DOTS = /\.\.+/g;
/** graphql-js prints the argument's whole value after this (ARGUMENT_COERCION): a literal may hold anything. */
const ARGUMENT_VALUE = /^(Argument "[^"]*" has invalid value) [\s\S]*$/;
/** A quoted name longer than this is shortened in development messages (a 30 kB operation name came back whole). */
const LONG_QUOTED = /"([^"]{65})[^"]+"/g;
/**
 * A run of nine or more digits in a development message (a name such as `x234123412346` in the document), separators
 * between them allowed (`x5783.3163.0123`, found by an audit in an echoed operation name; `x98765_43210`, and digits of
 * any script in a variable's unknown key, by an attack review: pii/scrub.ts digitRuns; `98765:43210`, joined by a
 * colon, only when it reads as a number: replaceDigitRuns): masked. The scrubber leaves runs glued to letters alone
 * (ids and keys), so names need this extra pass; PAN shapes glued to a name likewise.
 */
const LONG_DIGIT_RUN_MIN = 9;
/**
 * graphql-js's syntax errors name the token they stopped at with its value (language/parser.js getTokenDesc), and end
 * there: `Expected Name, found String "९८७६५४३२१०".`, `Unexpected Int "482913".`. A string or number literal is a
 * value the client wrote (an Aadhaar number in any script, an OTP of six digits no digit-run mask catches): its kind
 * alone is kept. A Name's value stays (masked as names are), it is what the client needs to find the mistake.
 */
const LITERAL_TOKEN = /((?:found|Unexpected) (?:Int|Float|String|BlockString)) "[\s\S]*"\.$/;
const NON_ASCII = /[^ -~]/;
const FULLWIDTH = /[\uFF00-\uFFEF]/;

/**
 * A development message's last masks: long digit runs and PANs, NFKC first where a decoded escape left a fullwidth form
 * (a PAN in fullwidth letters); not otherwise, so that a shortened name keeps its `…`.
 */
function maskDevelopmentText(text: string): string {
  const folded = FULLWIDTH.test(text) ? text.normalize("NFKC") : text;
  return maskPanShapes(replaceDigitRuns(folded, LONG_DIGIT_RUN_MIN, "[digits]"));
}

/**
 * Development only: removes the values graphql-js puts into its messages (docs/security-requirements.md A8):
 *   Variable "$input" got invalid value { aadhaar: "…" } at "input.mobile"; Field "x" of required type … was not provided.
 *   String cannot represent a non string value: 999941057058
 *   Expected value of type "String!", found 999941057058.
 * `reason` is the inner error's own message when graphql-js kept it as `originalError`: it marks exactly where the
 * echoed value ends, whatever characters the value contains. Production never shows these messages at all
 * (fixed-messages.ts).
 */
export function stripEchoedValues(message: string, reason?: string): string {
  let out = message;
  const variable = VARIABLE_PREFIX.exec(out);
  if (variable) {
    const tailStart = reason && out.endsWith(`; ${reason}`) ? out.length - reason.length - 2 : out.lastIndexOf("; ");
    const head = tailStart >= 0 ? out.slice(0, tailStart) : out;
    const tail = tailStart >= 0 ? out.slice(tailStart + 2) : "";
    const at = VARIABLE_AT.exec(head);
    out = `Variable "$${variable[1]}" got invalid value${at ? ` at "${at[1]}"` : ""}${tail ? `; ${tail}` : "."}`;
  }
  return out
    .replace(ARGUMENT_VALUE, "$1.")
    .replace(AFTER_REPRESENT, "$1.$2")
    .replace(AFTER_FOUND, "$1.")
    .replace(DOUBLE_DOTS, ".");
}

/** True for errors whose message may reach the client. */
export function isClientError(code: unknown): boolean {
  return typeof code === "string" && CLIENT_ERROR_CODES.has(code);
}

/**
 * The code an error goes out with, from its `extensions.code` and message: its own code, except that the code-less
 * client mistakes (CODELESS_CLIENT_ERRORS, ARGUMENT_COERCION) get theirs, and no code at all is
 * INTERNAL_SERVER_ERROR. Apollo's formatted error carries INTERNAL_SERVER_ERROR for those refusals, the raw
 * GraphQLError (what didEncounterErrors sees) no code: both read the same here, so the answer and the decision to log
 * an error as unexpected agree (one had logged every hash mismatch, a client's mistake, at error with its stack).
 */
export function edgeCodeOf(code: unknown, message: string): string {
  if (typeof code === "string" && code !== EdgeCode.INTERNAL_SERVER_ERROR) return code;
  if (ARGUMENT_COERCION.test(message)) return EdgeCode.BAD_USER_INPUT;
  return CODELESS_CLIENT_ERRORS.get(message) ?? EdgeCode.INTERNAL_SERVER_ERROR;
}

/**
 * Apollo `formatError`: keeps client errors, masks everything else. Masked errors are logged with the request's
 * logger by requestPlugin (didEncounterErrors), not here, so the log line has the request id.
 *
 * A client error's message (docs/security-requirements.md A6, A8):
 * - written by this server (SafeMessageError: input rules, limits, once-per-document, idempotency): kept, with its
 *   `fields`, in every environment; it never contains anything the client sent;
 * - worded by graphql-js or Apollo: in production, the fixed text of its kind (fixed-messages.ts), so no name, token,
 *   value, suggestion or limit the client could see or probe is repeated; in development, the original with values
 *   stripped, long names shortened and long digit runs masked, for debugging.
 * Every kept message is scrubbed of PII-shaped runs and secrets as a last line of defence. The path stays, and the
 * first MAX_ERROR_LOCATIONS locations.
 */
export function createFormatError(scrubber: Scrubber, options: { production: boolean }) {
  const { production } = options;
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = edgeCodeOf(formatted.extensions?.code, formatted.message);
    const where = {
      ...(formatted.locations ? { locations: formatted.locations.slice(0, MAX_ERROR_LOCATIONS) } : {}),
      ...(formatted.path ? { path: formatted.path } : {}),
    };
    if (!isClientError(code))
      return { message: UNEXPECTED_ERROR_MESSAGE, ...where, extensions: { code: EdgeCode.INTERNAL_SERVER_ERROR } };

    if (isSafeMessage(error)) {
      const fields = formatted.extensions?.fields;
      return {
        message: scrubber.scrubAnyCase(formatted.message),
        ...where,
        extensions: {
          code,
          ...(Array.isArray(fields)
            ? {
                fields: withHints(
                  fields.map((f) => scrubbed(f, scrubber)),
                  production,
                ),
              }
            : {}),
        },
      };
    }
    if (production) return { message: fixedMessage(code, formatted.message), ...where, extensions: { code } };

    const original = error instanceof GraphQLError ? error.originalError : undefined;
    const stripped = stripEchoedValues(formatted.message, original?.message).replace(LITERAL_TOKEN, "$1.");
    // NFKC before the masks: a fullwidth `ＣＮＲＰＹ７３１５Ｑ` or `９８７６５４３２１０` is a PAN or a mobile to whoever
    // reads it. Before the shortening too, whose `…` NFKC would make `...`.
    const folded = NON_ASCII.test(stripped) ? stripped.normalize("NFKC") : stripped;
    const message = scrubber.scrubAnyCase(folded.replace(LONG_QUOTED, '"$1…"'));
    // As read (pii/client-text.ts): an operation name or a variable's key is any string, and a second attack review
    // had a number echoed whole in one escaped (`%39%38…`, `\u0039…`, `&#57;…`) or split by an en dash or `*`.
    return { message: shownAsRead(message, maskDevelopmentText), ...where, extensions: { code } };
  };
}

/**
 * A field of a validation error's `fields` with each string it holds scrubbed (scrubAnyCase), as the message is: the
 * rules write them from constants, never the value, but they reach the client beside the message, and until this
 * round no mask read them at all (a number or a PAN a rule's text ever held would have gone out whole:
 * test/unit/pii/written-as-people-write.test.ts). Other values (the field's path as an array, numbers) as they are,
 * and the rule's `developmentHint` (withHints): a constant that names the docs' valid test Aadhaar number on purpose.
 */
function scrubbed(field: unknown, scrubber: Scrubber): unknown {
  if (typeof field !== "object" || field === null || Array.isArray(field)) return field;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(field))
    out[key] = typeof value === "string" && key !== "developmentHint" ? scrubber.scrubAnyCase(value) : value;
  return out;
}

/**
 * A validation error's `fields` as the client sees them: a field's `developmentHint` (set by the rule that refused it,
 * validation/validate-input.ts FieldProblem) appended to its problem on a development server and dropped in
 * production (an Aadhaar number refused for its check digit gets the valid test number of the docs there). A constant
 * of the rule's, never the value.
 */
function withHints(fields: unknown[], production: boolean): unknown[] {
  return fields.map((f) => {
    if (typeof f !== "object" || f === null || !("developmentHint" in f)) return f;
    const { developmentHint, ...rest } = f as { developmentHint: unknown; problem?: unknown };
    return production || typeof developmentHint !== "string" || typeof rest.problem !== "string"
      ? rest
      : { ...rest, problem: rest.problem + developmentHint };
  });
}
