/**
 * Canonicalisation at validation (docs/security-requirements.md C1-C3): a field decorator may carry a canonicaliser,
 * and validateInput rewrites the validated input object's fields with it, once, before the resolver runs. From there
 * on resolvers, budgets, consent and idempotency keys, loaders, logs and the wire builders see only canonical values,
 * and nobody canonicalises again.
 *
 * A canonicaliser runs only on a value its field's rules accepted, so it may assume a valid value.
 */
export type Canonicalizer = (valid: string) => string;

type Steps = ReadonlyArray<readonly [property: string, canonicalize: Canonicalizer]>;

/** Canonicalisers declared on each class itself (not inherited ones). */
const declared = new Map<Function, Map<string, Canonicalizer>>();
/** Per class, its own and inherited steps: resolved on first use (every decorator has run by then), then reused. */
const resolved = new Map<Function, Steps>();
const NONE: Steps = [];

/** Declares that the decorated string field is stored in canonical form, computed by `canonicalize`. */
export function Canonical(canonicalize: Canonicalizer): PropertyDecorator {
  return (target, property) => {
    const ctor = target.constructor;
    let own = declared.get(ctor);
    if (!own) declared.set(ctor, (own = new Map()));
    own.set(String(property), canonicalize);
    resolved.clear();
  };
}

/** Rewrites every canonicalised field of a validated input object in place. Cheap: a cached list per class. */
export function canonicalizeInput(input: object): void {
  const steps = stepsOf(input.constructor);
  for (let i = 0; i < steps.length; i++) {
    const [property, canonicalize] = steps[i];
    const value = (input as Record<string, unknown>)[property];
    if (typeof value === "string") (input as Record<string, unknown>)[property] = canonicalize(value);
  }
}

function stepsOf(ctor: Function): Steps {
  let steps = resolved.get(ctor);
  if (steps) return steps;
  const byProperty = new Map<string, Canonicalizer>();
  // Base classes first, so that a subclass's own declaration wins.
  const chain: Function[] = [];
  for (let c: unknown = ctor; typeof c === "function" && c !== Function.prototype; c = Object.getPrototypeOf(c))
    chain.unshift(c);
  for (const c of chain) for (const [property, fn] of declared.get(c) ?? []) byProperty.set(property, fn);
  steps = byProperty.size === 0 ? NONE : [...byProperty];
  resolved.set(ctor, steps);
  return steps;
}

/** The canonicalised fields of an input class, own and inherited (for tests and documentation). */
export function canonicalFieldsOf(ctor: Function): string[] {
  return stepsOf(ctor).map(([property]) => property);
}
