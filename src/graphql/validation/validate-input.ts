import { type ValidationError, validate } from "class-validator";
import { GraphQLError } from "graphql";
import type { ValidatorFn } from "type-graphql";

/** One rejected field: its path in the operation's arguments and the rule it broke. Never the value. */
export interface FieldProblem {
  field: string;
  problem: string;
}

/** BAD_USER_INPUT naming every rejected field, without echoing any value. */
export class InputValidationError extends GraphQLError {
  constructor(readonly problems: FieldProblem[]) {
    super(`Invalid input: ${problems.map((p) => `${p.field} ${p.problem}`).join("; ")}.`, {
      extensions: { code: "BAD_USER_INPUT", fields: problems },
    });
    Object.setPrototypeOf(this, InputValidationError.prototype);
  }
}

/**
 * type-graphql `validateFn`: runs class-validator on input objects with `target` and `value` left out of its errors
 * at the source (type-graphql's default path copies both into `extensions.validationErrors`, docs/design/stack.md pitfall 12).
 * Unknown properties are impossible here (GraphQL coercion already rejected them), so `forbidUnknownValues` is on.
 */
export const validateInput: ValidatorFn = async (argValue, _argType, resolverData) => {
  if (argValue === null || typeof argValue !== "object") return;
  const errors = await validate(argValue as object, {
    skipMissingProperties: false,
    forbidUnknownValues: true,
    stopAtFirstError: true,
    validationError: { target: false, value: false },
  });
  if (errors.length === 0) return;
  const argName = Object.entries(resolverData.args).find(([, v]) => v === argValue)?.[0] ?? "input";
  throw new InputValidationError(flatten(errors, argName));
};

function flatten(errors: ValidationError[], prefix: string): FieldProblem[] {
  const out: FieldProblem[] = [];
  for (const error of errors) {
    const field = `${prefix}.${error.property}`;
    for (const problem of Object.values(error.constraints ?? {})) out.push({ field, problem });
    if (error.children?.length) out.push(...flatten(error.children, field));
  }
  return out;
}
