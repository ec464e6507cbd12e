import { readFileSync } from "node:fs";
import { join } from "node:path";

/** A documented AOPay response body from test/fixtures/aopay (the examples on AOPay's pages, docs/upstream/aopay-api.md). */
export function fixture(name: string): Buffer {
  return readFileSync(join(__dirname, "../fixtures/aopay", `${name}.json`));
}

export function fixtureJson(name: string): Record<string, unknown> {
  return JSON.parse(fixture(name).toString("utf8")) as Record<string, unknown>;
}
