import { EdgeCode } from "../edge-code";

/**
 * Production texts for the client errors graphql-js and Apollo Server word themselves (docs/security-requirements.md
 * A6, A8). Their messages quote what the client sent: field, argument, type, fragment, variable and operation names
 * from its document ("Cannot query field \"x\"", "Unknown operation named \"…\"": a 30 kB name came back whole), tokens
 * from a syntax error, the keys of its variables ("Field \"cibilid\" is not defined by type …"), and suggestions
 * ("Did you mean \"cibilId\"?") that reveal the schema with introspection off. In production every such message is
 * replaced by the fixed text of its kind below; the error keeps its code, its locations (line and column in the
 * document) and its path, so a developer can still find the fault.
 *
 * Kinds are told apart by the fixed opening words graphql-js 16 and Apollo Server 5 use (their validation rules and
 * coercion functions); a message of no known kind gets its code's general text. Nothing of the original is kept, so a
 * new or reworded upstream message cannot leak anything: at worst it is described less precisely.
 *
 * Variable coercion failures (a wrong type, a missing field, an unknown field) share one text on purpose: separate
 * answers would let a client map an input type field by field by trial, which is what turning introspection off is for.
 */
type Kind = readonly [opening: RegExp, text: string];

const PARSE: readonly Kind[] = [
  [/^Syntax Error: Document contains more tha[nt] [0-9]+ tokens/, "Syntax Error: Document contains too many tokens."],
];

const VALIDATION: readonly Kind[] = [
  // graphql-js's last error once GRAPHQL_MAX_ERRORS errors were found (validate's maxErrors).
  [/^Too many validation errors, error limit reached/, "Too many validation errors: the rest were not looked for."],
  [/^GraphQL introspection is not allowed/, "Introspection is not allowed."],
  [/^Maximum introspection depth exceeded/, "Introspection is not allowed."],
  [/^Cannot query field /, "Unknown field."],
  [/^Unknown argument /, "Unknown argument."],
  [/^Unknown type /, "Unknown type."],
  [/^Unknown fragment /, "Unknown fragment."],
  [/^Unknown directive /, "Unknown directive."],
  [/^Field "[^"]*" argument "[^"]*" of type "[^"]*" is required/, "A required argument is missing."],
  [/^Directive "@[^"]*" argument "[^"]*" of type "[^"]*" is required/, "A required directive argument is missing."],
  [/^Directive "@[^"]*" may not be used on /, "A directive is used where it is not allowed."],
  [/^The directive "@[^"]*" can only be used once/, "A directive is repeated."],
  // ValuesOfCorrectType, for values written in the document: one text, like variable coercion (see above).
  [
    /^(?:Expected value of type |Field "[^"]*" of required type |Field "[^"]*" is not defined by type |[A-Za-z_][A-Za-z0-9_]* cannot represent |Enum "[^"]*" cannot represent |Value "[^"]*" does not exist in )/,
    "Invalid value in the document.",
  ],
  [/^Variable "\$[^"]*" is not defined/, "A variable is used but not defined."],
  [/^Variable "\$[^"]*" is never used/, "A variable is defined but never used."],
  [
    /^Variable "\$[^"]*" of type "[^"]*" used in position expecting/,
    "A variable is used where its type is not allowed.",
  ],
  [/^Variable "\$[^"]*" cannot be non-input type/, "A variable's type is not an input type."],
  [/^There can be only one variable named /, "A variable is defined twice."],
  [/^There can be only one operation named /, "Two operations have the same name."],
  [
    /^This anonymous operation must be the only defined operation/,
    "An anonymous operation must be the only operation in the document.",
  ],
  [/^There can be only one fragment named /, "Two fragments have the same name."],
  [/^Fragment "[^"]*" is never used/, "A fragment is never used."],
  [/^Cannot spread fragment /, "A fragment spreads itself."],
  [/^Fragment (?:"[^"]*" )?cannot be spread here/, "A fragment cannot be spread here."],
  [/^Fragment (?:"[^"]*" )?cannot condition on non composite type/, "A fragment cannot apply to this type."],
  [/^Field "[^"]*" must not have a selection/, "A field of a scalar or enum type cannot have a selection."],
  [/^Field "[^"]*" of type "[^"]*" must have a selection of subfields/, "A field needs a selection of subfields."],
  [/^Fields "[^"]*" conflict because /, "Two fields with the same response name conflict."],
  [/^There can be only one argument named /, "An argument is given twice."],
  [/^There can be only one input field named /, "An input field is given twice."],
  [/^The "[^"]*" definition is not executable/, "The document contains a definition that is not executable."],
  [/^(?:Anonymous Subscription|Subscription "[^"]*") must /, "A subscription must select one field."],
];

const USER_INPUT: readonly Kind[] = [
  [
    /^Variable "\$[^"]*" of required type "[^"]*" was not provided/,
    "Invalid input: a required variable was not provided.",
  ],
  [/^Variable "\$[^"]*" of non-null type "[^"]*" must not be null/, "Invalid input: a required variable is null."],
  [/^Variable "\$[^"]*" (?:got|has) invalid value/, "Invalid input: a variable has an invalid value."],
  // graphql-js's argument coercion during execution (error-format.ts ARGUMENT_COERCION).
  [/^Argument "[^"]*" /, "Invalid input: an argument has an invalid value."],
  // graphql-js's last error once GRAPHQL_MAX_ERRORS coercion errors were found (execute's maxCoercionErrors).
  [
    /^Too many errors processing variables, error limit reached/,
    "Invalid input: too many errors, the rest were not looked for.",
  ],
];

const OPERATION: readonly Kind[] = [
  [/^Unknown operation named /, "Unknown operation name."],
  [
    /^Must provide operation name if query contains multiple operations/,
    "The document has several operations: send operationName.",
  ],
  [/^Must provide an operation/, "The document has no operation."],
];

/**
 * Apollo Server's own refusals of malformed HTTP requests: fixed texts in @apollo/server 5 (runHttpQuery.ts,
 * preventCsrf.ts, httpBatching.ts, requestPipeline.ts), kept because they tell a client what to fix; only these exact
 * openings pass. The one with a variable part names an operation type (query, mutation or subscription), never a name.
 */
const BAD_REQUEST: readonly Kind[] = [
  [
    /^This operation has been blocked as a potential Cross-Site Request Forgery/,
    "This operation has been blocked as a potential Cross-Site Request Forgery (CSRF): send Content-Type: application/json, or a non-empty apollo-require-preflight header.",
  ],
  [
    /^GET requests only support query operations/,
    "GET requests only support query operations: send mutations with POST.",
  ],
  [/^Operation batching disabled\.$/, "Operation batching disabled."],
  [
    /^POST body missing, invalid Content-Type, or JSON object has no keys\.$/,
    "POST body missing, invalid Content-Type, or JSON object has no keys.",
  ],
  [
    /^GraphQL operations must contain a non-empty `query` or a `persistedQuery` extension\.$/,
    "GraphQL operations must contain a non-empty `query` or a `persistedQuery` extension.",
  ],
  [/^GraphQL queries must be strings/, "GraphQL queries must be strings."],
  [
    /^`(variables|extensions|operationName)` in a POST body /,
    "`variables` and `extensions` must be objects and `operationName` a string.",
  ],
  [
    /^The '?(query|variables|extensions|operationName)'? search parameter /,
    "A search parameter of the GET request is repeated or not valid JSON.",
  ],
  [
    /^GET requests may not have a content-type header other than application\/json\.$/,
    "GET requests may not have a content-type header other than application/json.",
  ],
  [/^Apollo Server supports only GET\/POST requests\.$/, "Apollo Server supports only GET/POST requests."],
  [
    /^An 'accept' header was provided for this request which does not accept /,
    "The Accept header accepts no JSON media type.",
  ],
  [/^Unsupported persisted query version$/, "Unsupported persisted query version"],
  [/^provided sha does not match query$/, "provided sha does not match query"],
  [/^No operations found in request\.$/, "No operations found in request."],
];

const BY_CODE: Readonly<Partial<Record<string, { kinds: readonly Kind[]; otherwise: string }>>> = {
  [EdgeCode.GRAPHQL_PARSE_FAILED]: { kinds: PARSE, otherwise: "Syntax Error: the document could not be parsed." },
  [EdgeCode.GRAPHQL_VALIDATION_FAILED]: { kinds: VALIDATION, otherwise: "The document is not valid." },
  [EdgeCode.BAD_USER_INPUT]: { kinds: USER_INPUT, otherwise: "Invalid input." },
  [EdgeCode.OPERATION_RESOLUTION_FAILURE]: {
    kinds: OPERATION,
    otherwise: "The operation to run could not be determined.",
  },
  [EdgeCode.BAD_REQUEST]: { kinds: BAD_REQUEST, otherwise: "Bad request." },
  // Apollo Client's persisted-query link recognises these two exact messages.
  [EdgeCode.PERSISTED_QUERY_NOT_FOUND]: { kinds: [], otherwise: "PersistedQueryNotFound" },
  [EdgeCode.PERSISTED_QUERY_NOT_SUPPORTED]: { kinds: [], otherwise: "PersistedQueryNotSupported" },
  [EdgeCode.UNAUTHENTICATED]: { kinds: [], otherwise: "Authentication required." },
  [EdgeCode.IDEMPOTENCY_KEY_REUSED]: {
    kinds: [],
    otherwise: "This Idempotency-Key was already used with different input.",
  },
};

/** The production text for a client error of `code` whose message was not written by this server. */
export function fixedMessage(code: string, message: string): string {
  const family = BY_CODE[code];
  if (!family) return "Bad request.";
  for (const [opening, text] of family.kinds) if (opening.test(message)) return text;
  return family.otherwise;
}
