import { type ValidationOptions, ValidateBy } from "class-validator";
import { aadhaarProblem } from "../../pii/aadhaar";
import { isValidMobile } from "../../pii/mobile";
import { canonicalPan } from "../../pii/pan";

/**
 * Field rules for GraphQL inputs. Every message describes the rule only: class-validator's `$value` placeholder is
 * never used, so no message can echo what the client sent (docs/security-requirements.md A8).
 */

/** A valid Aadhaar number (docs/security-requirements.md C1); the message says which rule failed. */
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

/** A 10-digit Indian mobile number starting 6-9, without +91 or 0 (docs/security-requirements.md C2). */
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

/** A PAN (AAAAA9999A with a valid holder-type letter), either case. */
export function IsPan(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: "isPan",
      validator: {
        validate: (value) => typeof value === "string" && canonicalPan(value) !== null,
        defaultMessage: () => "must be a 10-character PAN such as ABCPE1234F",
      },
    },
    options,
  );
}

/** A calendar date written YYYY-MM-DD, from 1900-01-01 up to today (UTC). */
export function IsPastIsoDate(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: "isPastIsoDate",
      validator: {
        validate: (value) => {
          if (typeof value !== "string" || !/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(value)) return false;
          const date = new Date(`${value}T00:00:00Z`);
          return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value && value >= "1900-01-01" && date.getTime() <= Date.now();
        },
        defaultMessage: () => "must be a past date written YYYY-MM-DD",
      },
    },
    options,
  );
}
