import { readFileSync } from "node:fs";
import { join } from "node:path";

/** A documented AOPay response body from test/fixtures/aopay (the examples on AOPay's pages, docs/upstream/aopay-api.md). */
export function fixture(name: string): Buffer {
  return readFileSync(join(__dirname, "../fixtures/aopay", `${name}.json`));
}

export function fixtureJson(name: string): Record<string, unknown> {
  return JSON.parse(fixture(name).toString("utf8")) as Record<string, unknown>;
}

/** A deep copy of a fixture's body with `change` applied to it: the unusual answers equivalence tests use. */
export function fixtureVariant<T extends Record<string, unknown>>(
  body: T,
  change: (copy: T) => void,
): Record<string, unknown> {
  const copy = structuredClone(body);
  change(copy);
  return copy;
}
