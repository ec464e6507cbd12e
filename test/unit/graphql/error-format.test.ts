import { GraphQLError } from "graphql";
import { createFormatError, stripEchoedValues, UNEXPECTED_ERROR_MESSAGE } from "../../../src/graphql/plugins/error-format";
import { Scrubber } from "../../../src/pii/scrub";

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
    ["String cannot represent a non string value: 999941057058", undefined, "String cannot represent a non string value."],
    ['Variable "$input" of required type "GenerateCibilOtpInput!" was not provided.', undefined, 'Variable "$input" of required type "GenerateCibilOtpInput!" was not provided.'],
  ])("%s", (message, reason, expected) => {
    expect(stripEchoedValues(message, reason)).toBe(expected);
  });
});

describe("formatError", () => {
  const format = createFormatError(new Scrubber(["AOP-554"]), { hideLimits: true });

  it("keeps client errors, strips echoed values and drops every extension except code and fields", () => {
    const error = new GraphQLError('Variable "$input" got invalid value 999941057058 at "input.aadhaar"; String cannot represent a non string value: 999941057058');
    const out = format(
      { message: error.message, extensions: { code: "BAD_USER_INPUT", validationErrors: [{ value: "999941057058" }], stacktrace: ["x"] } },
      error,
    );
    expect(out).toEqual({
      message: 'Variable "$input" got invalid value at "input.aadhaar"; String cannot represent a non string value.',
      extensions: { code: "BAD_USER_INPUT" },
    });
  });

  it("masks everything that is not a client error, whatever its message", () => {
    const error = new Error("connect ECONNREFUSED 10.1.2.3:443 RegistrationID=AOP-554");
    const out = format({ message: error.message, path: ["generateCibilOtp"], extensions: { code: "INTERNAL_SERVER_ERROR" } }, error);
    expect(out).toEqual({ message: UNEXPECTED_ERROR_MESSAGE, path: ["generateCibilOtp"], extensions: { code: "INTERNAL_SERVER_ERROR" } });
  });

  it("keeps Apollo's code-less persisted-query refusals as BAD_REQUEST, and only those exact messages", () => {
    const refusal = { message: "provided sha does not match query", extensions: { code: "INTERNAL_SERVER_ERROR" } };
    expect(format(refusal, undefined)).toEqual({ message: "provided sha does not match query", extensions: { code: "BAD_REQUEST" } });
    const lookalike = { message: "provided sha does not match query: 10.1.2.3", extensions: { code: "INTERNAL_SERVER_ERROR" } };
    expect(format(lookalike, undefined)).toEqual({ message: UNEXPECTED_ERROR_MESSAGE, extensions: { code: "INTERNAL_SERVER_ERROR" } });
  });

  it("hides the token limit's number when limits are hidden (production)", () => {
    // graphql 16.15's own wording, typo included.
    const message = "Syntax Error: Document contains more that 500 tokens. Parsing aborted.";
    expect(format({ message, extensions: { code: "GRAPHQL_PARSE_FAILED" } }, undefined).message).toBe("Syntax Error: Document contains too many tokens.");
    const dev = createFormatError(new Scrubber(), { hideLimits: false });
    expect(dev({ message, extensions: { code: "GRAPHQL_PARSE_FAILED" } }, undefined).message).toBe(message);
  });

  it("scrubs PII and secrets that slipped into a client error's message", () => {
    const out = format({ message: 'Field "999941057058" is not defined; AOP-554', extensions: { code: "GRAPHQL_VALIDATION_FAILED" } }, undefined);
    expect(out.message).toBe('Field "XXXX XXXX 7058" is not defined; [REDACTED]');
  });
});
