import { IsEmail, type ValidationOptions, ValidateBy } from "class-validator";
import {
  AADHAAR_CHECK_DIGIT_PROBLEM,
  AADHAAR_TEST_NUMBER_HINT,
  aadhaarShapeProblem,
  canonicalAadhaar,
  hasAadhaarCheckDigit,
} from "../../pii/aadhaar";
import { developmentHint } from "./validate-input";
import { CIBIL_ID_RULE, canonicalCibilId } from "../../pii/cibil-id";
import { canonicalEmail, EMAIL_ASCII_RULE, isAsciiEmailSpelling } from "../../pii/email";
import { isValidMobile } from "../../pii/mobile";
import { canonicalPan } from "../../pii/pan";
import { canonicalPersonName, PERSON_NAME_RULE } from "../../pii/person-name";
import { Canonical } from "./canonical";

/**
 * Field rules for GraphQL inputs. Every message describes the rule only: class-validator's `$value` placeholder is
 * never used, so no message can echo what the client sent (docs/security-requirements.md A8).
 *
 * Identifiers are canonicalised here, once (validation/canonical.ts): a rule that admits several spellings of one
 * identifier carries the canonicaliser that maps them to the one spelling AOPay receives. A rule without one admits
 * exactly one spelling per identifier (mobile) or treats spellings as distinct identifiers (MatchesRule: user keys,
 * registration references, tokens), and its comment says why.
 */

/** Applies several property decorators as one. */
function both(...decorators: PropertyDecorator[]): PropertyDecorator {
  return (target, property) => {
    for (const decorate of decorators) decorate(target, property);
  };
}

/**
 * A valid Aadhaar number (docs/security-requirements.md C1), written as 12 digits or as three groups of four separated
 * by single spaces; canonical form: the 12 digits. The message says which rule failed. Two rules, of which at most
 * one fails: its spelling (`isAadhaar`), then its check digit (`isAadhaarCheckDigit`, passed by a value the first
 * refuses), whose refusal carries the docs' test number as its development hint (validate-input.ts developmentHint).
 */
export function IsAadhaar(options?: ValidationOptions): PropertyDecorator {
  return both(
    ValidateBy(
      {
        name: "isAadhaar",
        validator: {
          validate: (value) => typeof value === "string" && aadhaarShapeProblem(value) === null,
          defaultMessage: (args) =>
            (typeof args?.value === "string" ? aadhaarShapeProblem(args.value) : null) ?? "must be a string",
        },
      },
      options,
    ),
    ValidateBy(
      {
        name: "isAadhaarCheckDigit",
        validator: {
          validate: (value) =>
            typeof value !== "string" || aadhaarShapeProblem(value) !== null || hasAadhaarCheckDigit(value),
          defaultMessage: () => AADHAAR_CHECK_DIGIT_PROBLEM,
        },
      },
      developmentHint(AADHAAR_TEST_NUMBER_HINT, options),
    ),
    Canonical((valid) => canonicalAadhaar(valid) ?? valid),
  );
}

/**
 * A 10-digit Indian mobile number starting 6-9, without +91 or 0 (docs/security-requirements.md C2). Exactly one
 * spelling is accepted (pii/mobile.ts), so there is nothing to canonicalise.
 */
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

/** A CIBIL id: 1 to 15 digits; canonical form: without leading zeros (pii/cibil-id.ts explains why). */
export function IsCibilId(options?: ValidationOptions): PropertyDecorator {
  return both(
    ValidateBy(
      {
        name: "isCibilId",
        validator: {
          validate: (value) => typeof value === "string" && canonicalCibilId(value) !== null,
          defaultMessage: () => CIBIL_ID_RULE,
        },
      },
      options,
    ),
    Canonical((valid) => canonicalCibilId(valid) ?? valid),
  );
}

/**
 * A string matching `pattern`; `rule` is the human description used as the message. No canonical form: what matches
 * is sent exactly as written, and two spellings are two values.
 */
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

/** A PAN (AAAAA9999A with a valid holder-type letter), either case; canonical form: upper case. */
export function IsPan(options?: ValidationOptions): PropertyDecorator {
  return both(
    ValidateBy(
      {
        name: "isPan",
        validator: {
          validate: (value) => typeof value === "string" && canonicalPan(value) !== null,
          // The shape in words, no example: the problem reaches the client through the scrubber
          // (plugins/error-format.ts scrubbed), which masked an example PAN to `XXXXXX234F`.
          defaultMessage: () =>
            "must be a 10-character PAN: five letters, four digits and a letter, the fourth letter the holder " +
            "type (P for a person)",
        },
      },
      options,
    ),
    Canonical((valid) => canonicalPan(valid) ?? valid),
  );
}

/**
 * An e-mail address (validator.js syntax, at most 254 characters) in ASCII without quotes; canonical form: domain
 * lower-cased, local part as typed (pii/email.ts explains the policy).
 */
export function IsEmailAddress(options?: ValidationOptions): PropertyDecorator {
  return both(
    ValidateBy(
      {
        name: "isEmailSpelling",
        validator: {
          validate: (value) => typeof value === "string" && value.length <= 254 && isAsciiEmailSpelling(value),
          defaultMessage: (args) =>
            typeof args?.value === "string" && args.value.length > 254
              ? "must be at most 254 characters"
              : EMAIL_ASCII_RULE,
        },
      },
      options,
    ),
    IsEmail(
      { allow_utf8_local_part: false, allow_ip_domain: false, require_tld: true, allow_display_name: false },
      { ...options, message: "must be an e-mail address" },
    ),
    Canonical(canonicalEmail),
  );
}

/** A person's name (pii/person-name.ts); canonical form: Unicode NFC. */
export function IsPersonName(options?: ValidationOptions): PropertyDecorator {
  return both(
    ValidateBy(
      {
        name: "isPersonName",
        validator: {
          validate: (value) => typeof value === "string" && canonicalPersonName(value) !== null,
          defaultMessage: () => PERSON_NAME_RULE,
        },
      },
      options,
    ),
    Canonical((valid) => canonicalPersonName(valid) ?? valid),
  );
}

/** A calendar date written YYYY-MM-DD, from 1900-01-01 up to today (UTC). One spelling per date: no canonical form. */
export function IsPastIsoDate(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: "isPastIsoDate",
      validator: {
        validate: (value) => {
          if (typeof value !== "string" || !ISO_DATE.test(value)) return false;
          const date = new Date(`${value}T00:00:00Z`);
          return (
            !Number.isNaN(date.getTime()) &&
            date.toISOString().slice(0, 10) === value &&
            value >= "1900-01-01" &&
            date.getTime() <= Date.now()
          );
        },
        defaultMessage: () => "must be a past date written YYYY-MM-DD",
      },
    },
    options,
  );
}

const ISO_DATE = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/;
