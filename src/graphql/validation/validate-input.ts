import { type ValidationError, type ValidationOptions, type ValidatorOptions, validateSync } from "class-validator";
import type { ValidatorFn } from "type-graphql";
import { SafeMessageError } from "../plugins/safe-message-error";
import { canonicalizeInput } from "./canonical";
import { validityCheckOf } from "./compiled-check";
import { EdgeCode } from "../edge-code";

/** One rejected field: its path in the operation's arguments and the rule it broke. Never the value. */
export interface FieldProblem {
  field: string;
  problem: string;
  /**
   * What a development server adds to `problem` (graphql/plugins/error-format.ts; dropped in production), set by the
   * rule that made the problem (`developmentHint` below). A constant of the rule's, never the value.
   */
  developmentHint?: string;
}

/** `options` with `hint` as the rule's development hint (FieldProblem.developmentHint), in class-validator's context. */
export function developmentHint(hint: string, options?: ValidationOptions): ValidationOptions {
  return { ...options, context: { ...(options?.context as object | undefined), developmentHint: hint } };
}

/** The development hint a rule's context carries (developmentHint), if any. */
function hintOf(context: unknown): string | undefined {
  const hint = (context as { developmentHint?: unknown } | undefined)?.developmentHint;
  return typeof hint === "string" ? hint : undefined;
}

/** BAD_USER_INPUT naming every rejected field, without echoing any value. */
export class InputValidationError extends SafeMessageError {
  constructor(readonly problems: FieldProblem[]) {
    super(`Invalid input: ${problems.map((p) => `${p.field} ${p.problem}`).join("; ")}.`, {
      extensions: { code: EdgeCode.BAD_USER_INPUT, fields: problems },
    });
  }
}

/**
 * class-validator options: `target` and `value` left out of its errors at the source (type-graphql's default path
 * copies both into `extensions.validationErrors`, docs/design/stack.md pitfall 12). Unknown properties are impossible
 * here (GraphQL coercion already rejected them), so `forbidUnknownValues` is on.
 */
export const VALIDATOR_OPTIONS: ValidatorOptions = {
  skipMissingProperties: false,
  forbidUnknownValues: true,
  stopAtFirstError: true,
  validationError: { target: false, value: false },
};

/**
 * type-graphql `validateFn`: validates an input object, then canonicalises its identifiers in place (the resolver
 * receives this very object), so that everything after validation sees canonical values only (validation/canonical.ts).
 * Synchronous: every rule is, and class-validator's async `validate` would add promise hops to every mutation.
 * A valid input is recognised by the check compiled from the same rules (compiled-check.ts); only an input it does
 * not pass goes through `validateSync`, which words the errors (and has the last word on validity).
 */
export const validateInput: ValidatorFn = (argValue, _argType, resolverData) => {
  if (argValue === null || typeof argValue !== "object") return;
  const check = validityCheckOf(argValue.constructor);
  if (check?.(argValue)) {
    canonicalizeInput(argValue);
    return;
  }
  const errors = validateSync(argValue as object, VALIDATOR_OPTIONS);
  if (errors.length > 0)
    throw new InputValidationError(flatten(errors, argumentPrefix(argValue as object, resolverData.args)));
  canonicalizeInput(argValue as object);
};

/**
 * The argument a validated object came from, as a path prefix (`input.`): the argument whose value has only keys the
 * object has. An `@Args` class spreads its fields over the arguments themselves, so its fields have no prefix.
 * Argument names come from the schema, never from the client.
 */
function argumentPrefix(value: object, args: Record<string, unknown>): string {
  for (const [name, raw] of Object.entries(args)) {
    if (raw !== null && typeof raw === "object" && !Array.isArray(raw) && Object.keys(raw).every((k) => k in value))
      return `${name}.`;
  }
  return "";
}

function flatten(errors: ValidationError[], prefix: string): FieldProblem[] {
  const out: FieldProblem[] = [];
  for (const error of errors) {
    const field = `${prefix}${error.property}`;
    for (const [rule, problem] of Object.entries(error.constraints ?? {})) {
      const hint = hintOf(error.contexts?.[rule]);
      out.push(hint === undefined ? { field, problem } : { field, problem, developmentHint: hint });
    }
    if (error.children?.length) out.push(...flatten(error.children, `${field}.`));
  }
  return out;
}
