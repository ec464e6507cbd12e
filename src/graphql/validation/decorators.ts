import { type ValidationOptions, ValidateBy } from "class-validator";
import { aadhaarProblem } from "../../pii/aadhaar";
import { isValidMobile } from "../../pii/mobile";

/**
 * Field rules for GraphQL inputs. Every message describes the rule only: class-validator's `$value` placeholder is
 * never used, so no message can echo what the client sent (SECURITY.md A8).
 */

/** A valid Aadhaar number (SECURITY.md C1); the message says which rule failed. */
export function IsAadhaar(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: "isAadhaar",
      validator: {
        validate: (value) => typeof value === "string" && aadhaarProblem(value) === null,
        defaultMessage: (args) => (typeof args?.value === "string" ? aadhaarProblem(args.value) : null) ?? "must be a string",
      },
    },
    options,
  );
}

/** A 10-digit Indian mobile number starting 6-9, without +91 or 0 (SECURITY.md C2). */
export function IsIndianMobile(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: "isIndianMobile",
      validator: {
        validate: (value) => typeof value === "string" && isValidMobile(value),
        defaultMessage: () => "must be 10 digits starting with 6, 7, 8 or 9, without +91 or a leading 0",
      },
    },
    options,
  );
}

/** A string matching `pattern`; `rule` is the human description used as the message. */
export function MatchesRule(pattern: RegExp, rule: string, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: "matchesRule",
      validator: {
        validate: (value) => typeof value === "string" && pattern.test(value),
        defaultMessage: () => rule,
      },
    },
    options,
  );
}
