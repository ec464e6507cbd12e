import { GraphQLError } from "graphql";
import {
  createFormatError,
  edgeCodeOf,
  MAX_ERROR_LOCATIONS,
  stripEchoedValues,
  UNEXPECTED_ERROR_MESSAGE,
} from "../../../../src/graphql/plugins/error-format";
import { SafeMessageError } from "../../../../src/graphql/plugins/safe-message-error";
import { ResendAepsOtpInput } from "../../../../src/graphql/aeps/resend-aeps-otp.input";
import { InputValidationError, validateInput } from "../../../../src/graphql/validation/validate-input";
import { Scrubber } from "../../../../src/pii/scrub";
import { AADHAAR_CHECK_DIGIT_PROBLEM as CHECK_DIGIT } from "../../../../src/pii/aadhaar";

describe("stripEchoedValues (docs/security-requirements.md A8)", () => {
  it.each([
    [
      'Variable "$input" got invalid value { aadhaar: "999941057058" }; Field "mobile" of required type "String!" was not provided.',
      'Field "mobile" of required type "String!" was not provided.',
      'Variable "$input" got invalid value; Field "mobile" of required type "String!" was not provided.',
    ],
    [
      'Variable "$input" got invalid value 999941057058 at "input.aadhaar"; String cannot represent a non string value: 999941057058',
      "String cannot represent a non string value: 999941057058",
      'Variable "$input" got invalid value at "input.aadhaar"; String cannot represent a non string value.',
    ],
    [
      'Variable "$i" got invalid value { x: "a; b at \\"i.y\\"; c" }; Field "z" is not defined by type "T".',
      'Field "z" is not defined by type "T".',
      'Variable "$i" got invalid value; Field "z" is not defined by type "T".',
    ],
    ['Expected value of type "String!", found 999941057058.', undefined, 'Expected value of type "String!".'],
    [
      "String cannot represent a non string value: 999941057058",
      undefined,
      "String cannot represent a non string value.",
    ],
    [
      'Variable "$input" of required type "GenerateCibilOtpInput!" was not provided.',
      undefined,
      'Variable "$input" of required type "GenerateCibilOtpInput!" was not provided.',
    ],
  ])("%s", (message, reason, expected) => {
    expect(stripEchoedValues(message, reason)).toBe(expected);
  });
});

describe("formatError", () => {
  const format = createFormatError(new Scrubber(["AOP-554"]), { production: true });
  const dev = createFormatError(new Scrubber(["AOP-554"]), { production: false });

  it("development: keeps graphql-js's message with echoed values stripped, and drops every extension except code", () => {
    const error = new GraphQLError(
      'Variable "$input" got invalid value 999941057058 at "input.aadhaar"; String cannot represent a non string value: 999941057058',
    );
    const out = dev(
      {
        message: error.message,
        extensions: { code: "BAD_USER_INPUT", validationErrors: [{ value: "999941057058" }], stacktrace: ["x"] },
      },
      error,
    );
    expect(out).toEqual({
      message: 'Variable "$input" got invalid value at "input.aadhaar"; String cannot represent a non string value.',
      extensions: { code: "BAD_USER_INPUT" },
    });
  });

  it("development: shortens a long quoted name (a 30 kB operation name does not come back whole)", () => {
    const name = "X".repeat(30_000);
    const out = dev(
      { message: `Unknown operation named "${name}".`, extensions: { code: "OPERATION_RESOLUTION_FAILURE" } },
      undefined,
    );
    expect(out.message.length).toBeLessThan(120);
    expect(out.message).toBe(`Unknown operation named "${"X".repeat(65)}…".`);
  });

  it("production: the same error gets a fixed text, with its locations, and no fields or values", () => {
    const error = new GraphQLError(
      'Variable "$input" got invalid value 999941057058 at "input.aadhaar"; String cannot represent a non string value: 999941057058',
    );
    const out = format(
      { message: error.message, locations: [{ line: 1, column: 10 }], extensions: { code: "BAD_USER_INPUT" } },
      error,
    );
    expect(out).toEqual({
      message: "Invalid input: a variable has an invalid value.",
      locations: [{ line: 1, column: 10 }],
      extensions: { code: "BAD_USER_INPUT" },
    });
  });

  /** The validator's own refusal of an AEPS input with `change` (a real input class through validateInput). */
  function refusal(change: Record<string, string>): InputValidationError {
    const input = Object.assign(new ResendAepsOtpInput(), {
      userKey: "AOP554N3XXXX",
      mobile: "9876543210",
      aadhaar: "234123412346",
      primaryKeyId: "TEST",
      encodeTxnId: "DEMO",
      ...change,
    });
    try {
      void validateInput(input, undefined as never, { args: { input } } as never);
    } catch (error) {
      if (error instanceof InputValidationError) return error;
      throw error;
    }
    throw new Error("the input was accepted");
  }

  /** `error` as Apollo hands it to formatError. */
  const formatted = (error: InputValidationError) => ({
    message: error.message,
    path: ["resendAepsOtp"],
    extensions: { ...error.extensions },
  });
  const wrapped = (error: InputValidationError) => new GraphQLError(error.message, { originalError: error });
  const HINT = "; for a test, docs/walkthrough.md uses 2341 2341 2346";

  it("keeps a message this server wrote (SafeMessageError), with its fields, in production too, without hints", () => {
    const error = refusal({ aadhaar: "234123412347" });
    const out = format(formatted(error), wrapped(error));
    expect(out).toEqual({
      message:
        "Invalid input: input.aadhaar has an invalid check digit: probably a typo (its last digit is a Verhoeff " +
        "checksum of the other eleven).",
      path: ["resendAepsOtp"],
      extensions: { code: "BAD_USER_INPUT", fields: [{ field: "input.aadhaar", problem: CHECK_DIGIT }] },
    });
  });

  it("outside production, names the docs' valid test Aadhaar number beside a check digit refusal (fields only)", () => {
    const error = refusal({ aadhaar: "2341 2341 2347", mobile: "12345" });
    const out = dev(formatted(error), wrapped(error));
    expect(out.message).toBe(error.message);
    expect(out.message).not.toContain("walkthrough");
    expect(out.extensions?.fields).toEqual([
      { field: "input.mobile", problem: "must be 10 digits starting with 6, 7, 8 or 9, without +91 or a leading 0" },
      { field: "input.aadhaar", problem: `${CHECK_DIGIT}${HINT}` },
    ]);
  });

  it("the hint is the refusing rule's: the validator sets it on the check-digit problem alone", () => {
    expect(refusal({ aadhaar: "234123412347" }).problems).toEqual([
      { field: "input.aadhaar", problem: CHECK_DIGIT, developmentHint: HINT },
    ]);
    // Every other Aadhaar refusal (its spelling, its first digit, a palindrome) has none, nor does the other rule.
    for (const aadhaar of ["23412341234", "134123412346", "234565432", "2345 6776 5432", "a"])
      for (const problem of refusal({ aadhaar }).problems) expect(problem).not.toHaveProperty("developmentHint");
  });

  it("a field gets a hint only from the rule that refused it, never from what its problem says", () => {
    // The same words from elsewhere (another rule, a hand-made error) are not the check-digit rule's refusal.
    const error = new InputValidationError([{ field: "input.other", problem: CHECK_DIGIT }]);
    expect(dev(formatted(error), wrapped(error)).extensions?.fields).toEqual([
      { field: "input.other", problem: CHECK_DIGIT },
    ]);
    const hinted = new InputValidationError([{ field: "input.x", problem: "is wrong", developmentHint: "; try y" }]);
    expect(dev(formatted(hinted), wrapped(hinted)).extensions?.fields).toEqual([
      { field: "input.x", problem: "is wrong; try y" },
    ]);
    expect(format(formatted(hinted), wrapped(hinted)).extensions?.fields).toEqual([
      { field: "input.x", problem: "is wrong" },
    ]);
  });

  it("masks everything that is not a client error, whatever its message", () => {
    const error = new Error("connect ECONNREFUSED 10.1.2.3:443 RegistrationID=AOP-554");
    const out = format(
      { message: error.message, path: ["generateCibilOtp"], extensions: { code: "INTERNAL_SERVER_ERROR" } },
      error,
    );
    expect(out).toEqual({
      message: UNEXPECTED_ERROR_MESSAGE,
      path: ["generateCibilOtp"],
      extensions: { code: "INTERNAL_SERVER_ERROR" },
    });
  });

  it("keeps Apollo's code-less persisted-query refusals as BAD_REQUEST, and only those exact messages", () => {
    const refusal = { message: "provided sha does not match query", extensions: { code: "INTERNAL_SERVER_ERROR" } };
    expect(format(refusal, undefined)).toEqual({
      message: "provided sha does not match query",
      extensions: { code: "BAD_REQUEST" },
    });
    const lookalike = {
      message: "provided sha does not match query: 10.1.2.3",
      extensions: { code: "INTERNAL_SERVER_ERROR" },
    };
    expect(format(lookalike, undefined)).toEqual({
      message: UNEXPECTED_ERROR_MESSAGE,
      extensions: { code: "INTERNAL_SERVER_ERROR" },
    });
  });

  it("reads Apollo's refusals the same raw (no code: what the masked-error log sees) as formatted", () => {
    const mismatch = "provided sha does not match query";
    expect(edgeCodeOf(undefined, mismatch)).toBe("BAD_REQUEST");
    expect(edgeCodeOf("INTERNAL_SERVER_ERROR", mismatch)).toBe("BAD_REQUEST");
    expect(edgeCodeOf(undefined, "Unsupported persisted query version")).toBe("BAD_REQUEST");
    expect(edgeCodeOf(undefined, `${mismatch}: 10.1.2.3`)).toBe("INTERNAL_SERVER_ERROR");
    expect(edgeCodeOf(undefined, "Cannot read properties of undefined")).toBe("INTERNAL_SERVER_ERROR");
    expect(edgeCodeOf("BAD_USER_INPUT", mismatch)).toBe("BAD_USER_INPUT");
  });

  it("answers graphql-js's code-less last coercion error (maxCoercionErrors reached) as BAD_USER_INPUT", () => {
    // execution/values.js: no node, so Apollo leaves it without a code; it had been masked and logged at error.
    const message = "Too many errors processing variables, error limit reached. Execution aborted.";
    expect(edgeCodeOf(undefined, message)).toBe("BAD_USER_INPUT");
    expect(format({ message, extensions: { code: "INTERNAL_SERVER_ERROR" } }, new GraphQLError(message))).toEqual({
      message: "Invalid input: too many errors, the rest were not looked for.",
      extensions: { code: "BAD_USER_INPUT" },
    });
    expect(dev({ message, extensions: { code: "INTERNAL_SERVER_ERROR" } }, undefined)).toEqual({
      message,
      extensions: { code: "BAD_USER_INPUT" },
    });
  });

  it.each([
    'Argument "if" of non-null type "Boolean!" must not be null.',
    'Argument "cibilId" of required type "String!" was provided the variable "$id" which was not provided a runtime value.',
    'Argument "cibilId" of required type "String!" was not provided.',
    'Argument "input" has invalid value {cibilId: $c, accessToken: "234123412346"}.',
  ])("answers graphql-js's argument coercion during execution as BAD_USER_INPUT: %s", (message) => {
    expect(edgeCodeOf(undefined, message)).toBe("BAD_USER_INPUT");
    expect(format({ message, extensions: { code: "INTERNAL_SERVER_ERROR" } }, new GraphQLError(message))).toEqual({
      message: "Invalid input: an argument has an invalid value.",
      extensions: { code: "BAD_USER_INPUT" },
    });
    const shown = dev({ message, extensions: { code: "INTERNAL_SERVER_ERROR" } }, undefined).message;
    expect(shown).toMatch(/^Argument "/);
    expect(shown).not.toContain("234123412346");
  });

  it("leaves other code-less messages that merely start alike masked", () => {
    expect(edgeCodeOf(undefined, 'Argument "x" broke: connect ECONNREFUSED 10.1.2.3')).toBe("INTERNAL_SERVER_ERROR");
    expect(edgeCodeOf(undefined, "Argument must not be null.")).toBe("INTERNAL_SERVER_ERROR");
  });

  it("words graphql-js's last validation error (maxErrors reached) without a number in production", () => {
    const message = "Too many validation errors, error limit reached. Validation aborted.";
    expect(format({ message, extensions: { code: "GRAPHQL_VALIDATION_FAILED" } }, undefined)).toEqual({
      message: "Too many validation errors: the rest were not looked for.",
      extensions: { code: "GRAPHQL_VALIDATION_FAILED" },
    });
  });

  it(`keeps at most ${MAX_ERROR_LOCATIONS} locations per error, in every environment and for every kind`, () => {
    const locations = Array.from({ length: 240 }, (_, i) => ({ line: 1, column: 14 + 4 * i }));
    const formatted = { message: 'There can be only one argument named "a".', locations };
    for (const f of [format, dev]) {
      for (const code of ["GRAPHQL_VALIDATION_FAILED", "INTERNAL_SERVER_ERROR"]) {
        expect(f({ ...formatted, extensions: { code } }, undefined).locations).toEqual(
          locations.slice(0, MAX_ERROR_LOCATIONS),
        );
      }
      const safe = new SafeMessageError("Too many aliases.", { extensions: { code: "GRAPHQL_VALIDATION_FAILED" } });
      expect(f({ ...formatted, extensions: { code: "GRAPHQL_VALIDATION_FAILED" } }, safe).locations).toHaveLength(
        MAX_ERROR_LOCATIONS,
      );
    }
  });

  it("hides the token limit's number in production", () => {
    // graphql 16.15's own wording, typo included.
    const message = "Syntax Error: Document contains more that 500 tokens. Parsing aborted.";
    expect(format({ message, extensions: { code: "GRAPHQL_PARSE_FAILED" } }, undefined).message).toBe(
      "Syntax Error: Document contains too many tokens.",
    );
    expect(dev({ message, extensions: { code: "GRAPHQL_PARSE_FAILED" } }, undefined).message).toBe(message);
  });

  it("development: scrubs PII and secrets that slipped into a client error's message", () => {
    const out = dev(
      { message: 'Field "999941057058" is not defined; AOP-554', extensions: { code: "GRAPHQL_VALIDATION_FAILED" } },
      undefined,
    );
    expect(out.message).toBe('Field "XXXX XXXX 7058" is not defined; [REDACTED]');
  });

  it("production: scrubs a SafeMessageError's message too (last line of defence)", () => {
    const error = new SafeMessageError("limit reached for 999941057058 AOP-554", {
      extensions: { code: "GRAPHQL_VALIDATION_FAILED" },
    });
    expect(format({ message: error.message, extensions: { code: "GRAPHQL_VALIDATION_FAILED" } }, error).message).toBe(
      "limit reached for XXXX XXXX 7058 [REDACTED]",
    );
  });

  it("a secret holding a number, in another letter case, in either environment's message (src/pii/scrub.ts)", () => {
    const secret = "pay_9876543210_key";
    const dev2 = createFormatError(new Scrubber([secret]), { production: false });
    const prod2 = createFormatError(new Scrubber([secret]), { production: true });
    const error = new SafeMessageError("refused PAY_9876543210_KEY", { extensions: { code: "BAD_USER_INPUT" } });
    const safe = prod2({ message: error.message, extensions: { code: "BAD_USER_INPUT" } }, error);
    expect(safe.message).toBe("refused [REDACTED]");
    const raw = {
      message: 'Field "Pay_9876543210_Key" is not defined',
      extensions: { code: "GRAPHQL_VALIDATION_FAILED" },
    };
    expect(dev2(raw, undefined).message).toBe('Field "[REDACTED]" is not defined');
  });
});

/**
 * Every kind of client error graphql-js 16 and Apollo Server 5 word, as they word it, with client text in every place
 * it can appear: production answers with a fixed text that repeats none of it and suggests nothing.
 */
describe("production texts for graphql-js and Apollo messages (no echo, no suggestion)", () => {
  const format = createFormatError(new Scrubber(), { production: true });
  const CLIENT = "Zq_234123412346";
  const cases: Array<[code: string, message: string, text: string]> = [
    [
      "GRAPHQL_PARSE_FAILED",
      `Syntax Error: Unexpected Name "${CLIENT}".`,
      "Syntax Error: the document could not be parsed.",
    ],
    [
      "GRAPHQL_PARSE_FAILED",
      `Syntax Error: Invalid character escape sequence: "\\${CLIENT}".`,
      "Syntax Error: the document could not be parsed.",
    ],
    ["GRAPHQL_PARSE_FAILED", `Syntax Error: Unterminated string.`, "Syntax Error: the document could not be parsed."],
    [
      "GRAPHQL_VALIDATION_FAILED",
      `Cannot query field "${CLIENT}" on type "Mutation". Did you mean "generateCibilOtp"?`,
      "Unknown field.",
    ],
    [
      "GRAPHQL_VALIDATION_FAILED",
      `Unknown argument "${CLIENT}" on field "Query.serviceInfo". Did you mean "x"?`,
      "Unknown argument.",
    ],
    ["GRAPHQL_VALIDATION_FAILED", `Unknown type "${CLIENT}". Did you mean "String"?`, "Unknown type."],
    ["GRAPHQL_VALIDATION_FAILED", `Unknown fragment "${CLIENT}".`, "Unknown fragment."],
    ["GRAPHQL_VALIDATION_FAILED", `Unknown directive "@${CLIENT}".`, "Unknown directive."],
    [
      "GRAPHQL_VALIDATION_FAILED",
      `Variable "$${CLIENT}" is never used in operation "${CLIENT}".`,
      "A variable is defined but never used.",
    ],
    [
      "GRAPHQL_VALIDATION_FAILED",
      `Variable "$${CLIENT}" is not defined by operation "${CLIENT}".`,
      "A variable is used but not defined.",
    ],
    ["GRAPHQL_VALIDATION_FAILED", `Fragment "${CLIENT}" is never used.`, "A fragment is never used."],
    [
      "GRAPHQL_VALIDATION_FAILED",
      `There can be only one operation named "${CLIENT}".`,
      "Two operations have the same name.",
    ],
    [
      "GRAPHQL_VALIDATION_FAILED",
      `Field "cibilid" is not defined by type "GenerateCibilOtpInput". Did you mean "cibilId"?`,
      "Invalid value in the document.",
    ],
    [
      "GRAPHQL_VALIDATION_FAILED",
      `Field "GenerateCibilOtpInput.accessToken" of required type "String!" was not provided.`,
      "Invalid value in the document.",
    ],
    [
      "GRAPHQL_VALIDATION_FAILED",
      `Value "${CLIENT}" does not exist in "CibilStatus" enum. Did you mean the enum value "SUCCESS"?`,
      "Invalid value in the document.",
    ],
    [
      "GRAPHQL_VALIDATION_FAILED",
      `Expected value of type "String!", found ${CLIENT}.`,
      "Invalid value in the document.",
    ],
    [
      "GRAPHQL_VALIDATION_FAILED",
      `Fields "${CLIENT}" conflict because they return conflicting types. Use different aliases.`,
      "Two fields with the same response name conflict.",
    ],
    [
      "GRAPHQL_VALIDATION_FAILED",
      `Field "serviceInfo" of type "ServiceInfo!" must have a selection of subfields. Did you mean "serviceInfo { ... }"?`,
      "A field needs a selection of subfields.",
    ],
    [
      "GRAPHQL_VALIDATION_FAILED",
      `A rule nobody has written yet, about "${CLIENT}". Did you mean "y"?`,
      "The document is not valid.",
    ],
    [
      "BAD_USER_INPUT",
      `Variable "$input" got invalid value { cibilid: "${CLIENT}" }; Field "cibilid" is not defined by type "GenerateCibilOtpInput". Did you mean "cibilId"?`,
      "Invalid input: a variable has an invalid value.",
    ],
    [
      "BAD_USER_INPUT",
      `Variable "$input" got invalid value { cibilId: "1" }; Field "accessToken" of required type "String!" was not provided.`,
      "Invalid input: a variable has an invalid value.",
    ],
    [
      "BAD_USER_INPUT",
      `Variable "$s" got invalid value "${CLIENT}"; Value "${CLIENT}" does not exist in "CibilStatus" enum. Did you mean the enum value "SUCCESS"?`,
      "Invalid input: a variable has an invalid value.",
    ],
    [
      "BAD_USER_INPUT",
      `Variable "$${CLIENT}" of required type "GenerateCibilOtpInput!" was not provided.`,
      "Invalid input: a required variable was not provided.",
    ],
    [
      "BAD_USER_INPUT",
      `Variable "$${CLIENT}" of non-null type "String!" must not be null.`,
      "Invalid input: a required variable is null.",
    ],
    ["OPERATION_RESOLUTION_FAILURE", `Unknown operation named "${CLIENT.repeat(2000)}".`, "Unknown operation name."],
    [
      "OPERATION_RESOLUTION_FAILURE",
      "Must provide operation name if query contains multiple operations.",
      "The document has several operations: send operationName.",
    ],
    ["BAD_REQUEST", `Something Apollo may say one day about "${CLIENT}".`, "Bad request."],
    ["PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound", "PersistedQueryNotFound"],
  ];

  it.each(cases)("%s: %s", (code, message, text) => {
    const out = format(
      { message, locations: [{ line: 1, column: 3 }], extensions: { code } },
      new GraphQLError(message),
    );
    expect(out).toEqual({ message: text, locations: [{ line: 1, column: 3 }], extensions: { code } });
    expect(out.message).not.toMatch(/Did you mean|234123412346|cibilid|cibilId|GenerateCibilOtpInput/);
  });
});
