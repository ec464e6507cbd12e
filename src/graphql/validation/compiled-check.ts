import { getMetadataStorage, ValidationTypes, type ValidationArguments } from "class-validator";

/**
 * A yes/no answer to "would class-validator's `validateSync` find no error in this object?", compiled once per input
 * class from class-validator's own metadata (the decorators in decorators.ts), so that a valid input, the common
 * case, costs one call per rule and nothing else.
 *
 * Why not `validateSync` every time: it re-reads and filters the whole metadata store on every call (every rule of
 * every class, then groups them by property), builds a ValidationError per property and a closure and an arguments
 * object per rule, and strips the empty errors again. Measured with `npm run bench:callgrind` (main-thread instructions
 * per request, docs/performance-runs.md, "Instruction counts per change"). Only the verdict is compiled: when it says
 * no, validateInput asks `validateSync` for the errors, so every message still comes from class-validator itself.
 *
 * It compiles only what it can answer exactly as validateSync does with validate-input.ts's options
 * (skipMissingProperties off, no groups, `always` off, stopAtFirstError, async rules ignored): synchronous custom rules
 * (`ValidateBy`, `IsEmail` ...) and conditions (`IsOptional`, `ValidateIf`). A class with anything else (nested
 * validation, `each`, IsDefined, whitelist rules, no rules at all) gets `null`, and validateInput uses validateSync.
 * test/unit/graphql/validation/compiled-check.test.ts compares both verdicts on every input class of the schema.
 */
export type ValidityCheck = (object: object) => boolean;

interface Rule {
  property: string;
  constraints: unknown[];
  validateIf: ((object: object, value: unknown) => boolean) | undefined;
  validate: (value: unknown, args: ValidationArguments) => unknown;
}

interface PropertyRules {
  property: string;
  conditions: Array<(object: object, value: unknown) => boolean>;
  rules: Rule[];
}

const compiled = new Map<Function, ValidityCheck | null>();

/** The compiled check for an input class, or null when validateSync must answer (see above). Compiled on first use. */
export function validityCheckOf(ctor: Function): ValidityCheck | null {
  let check = compiled.get(ctor);
  if (check === undefined) {
    check = compile(ctor);
    compiled.set(ctor, check);
  }
  return check;
}

function compile(ctor: Function): ValidityCheck | null {
  const storage = getMetadataStorage();
  // The same query ValidationExecutor.execute makes for validateSync(object, options) with our options.
  const metadatas = storage.getTargetValidationMetadatas(ctor, undefined as unknown as string, false, false, undefined);
  if (metadatas.length === 0) return null; // forbidUnknownValues: validateSync reports an unknown value
  const byProperty = new Map<string, PropertyRules>();
  for (const m of metadatas) {
    let entry = byProperty.get(m.propertyName);
    if (!entry) byProperty.set(m.propertyName, (entry = { property: m.propertyName, conditions: [], rules: [] }));
    if (m.type === ValidationTypes.CONDITIONAL_VALIDATION) {
      entry.conditions.push(m.constraints[0] as (object: object, value: unknown) => boolean);
      continue;
    }
    if (m.type !== ValidationTypes.CUSTOM_VALIDATION || m.each || !m.constraintCls) return null;
    for (const c of storage.getTargetValidatorConstraints(m.constraintCls)) {
      if (c.async) return null;
      const instance = c.instance as { validate: Rule["validate"] };
      entry.rules.push({
        property: m.propertyName,
        constraints: m.constraints,
        validateIf: m.validateIf,
        validate: instance.validate.bind(instance),
      });
    }
  }
  const properties = [...byProperty.values()];
  const targetName = ctor.name;
  return (object) => {
    const record = object as Record<string, unknown>;
    for (const { property, conditions, rules } of properties) {
      const value = record[property];
      let skip = false;
      for (const condition of conditions) if (!condition(object, value)) skip = true;
      if (skip) continue;
      for (const rule of rules) {
        if (rule.validateIf && !rule.validateIf(object, value)) continue;
        const verdict = rule.validate(value, {
          targetName,
          property,
          object,
          value,
          constraints: rule.constraints,
        });
        // A rule that answers with a promise is not synchronous after all: let validateSync decide.
        if (verdict instanceof Promise) return false;
        if (!verdict) return false;
      }
    }
    return true;
  };
}
