import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  AOPAY_ERROR_CODES,
  REFUSED_BEFORE_RUNNING_CODES,
  refusedBeforeRunning,
} from "../../../client/src/graphql-errors";
import { EdgeCode } from "../../../src/graphql/edge-code";

/**
 * A GraphQL error's `extensions.code` is typed by the clients as `AopayErrorCode` (AOPAY_ERROR_CODES), documented in
 * docs/api.md's table of GraphQL errors, and sent by the server from one list (src/graphql/edge-code.ts): all three
 * must name the same codes, or a consumer meets a code its types say cannot come, or looks up one the docs omit.
 */
function documentedErrorCodes(): string[] {
  const page = readFileSync(join(__dirname, "../../../docs/api.md"), "utf8");
  const lines = page.split("\n");
  const start = lines.findIndex((l) => l.startsWith("| `extensions.code` |"));
  expect(start).toBeGreaterThanOrEqual(0);
  const codes: string[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith("|")) break;
    const first = line.split("|")[1];
    codes.push(...[...first.matchAll(/`([A-Z_]+)`/g)].map((m) => m[1]));
  }
  return codes.sort();
}

describe("GraphQL error codes: the server's, the clients' type and docs/api.md's", () => {
  const server = Object.values(EdgeCode).sort();

  it("the clients' AOPAY_ERROR_CODES are exactly the codes the server sends", () => {
    expect([...AOPAY_ERROR_CODES].sort()).toEqual(server);
  });

  it("docs/api.md's table of GraphQL errors names every code the server sends, and no other", () => {
    expect(documentedErrorCodes()).toEqual(server);
  });

  // A code the server adds must be placed: a refusal before the operation runs, or not (then an app keeps the
  // Idempotency-Key). INTERNAL_SERVER_ERROR is the one answered also after a mutation's send.
  it("REFUSED_BEFORE_RUNNING_CODES: every code the server sends but INTERNAL_SERVER_ERROR", () => {
    expect([...REFUSED_BEFORE_RUNNING_CODES, "INTERNAL_SERVER_ERROR"].sort()).toEqual(server);
  });
});

describe("refusedBeforeRunning: true only when every error is a refusal before the operation ran", () => {
  const error = (code?: unknown) => ({ message: "m", extensions: code === undefined ? {} : { code } });
  it.each([
    ["BAD_USER_INPUT", [error("BAD_USER_INPUT")], true],
    ["UNAUTHENTICATED and IDEMPOTENCY_KEY_REUSED", [error("UNAUTHENTICATED"), error("IDEMPOTENCY_KEY_REUSED")], true],
    ["OVERLOADED", [error("OVERLOADED")], true],
    // The identity provider down: refused before the body was read (it was a 500, read as "may have been sent").
    ["AUTH_UNAVAILABLE", [error("AUTH_UNAVAILABLE")], true],
    ["INTERNAL_SERVER_ERROR", [error("INTERNAL_SERVER_ERROR")], false],
    ["a refusal beside INTERNAL_SERVER_ERROR", [error("BAD_USER_INPUT"), error("INTERNAL_SERVER_ERROR")], false],
    ["a code this client does not know", [error("SOMETHING_NEW")], false],
    ["an error without a code", [error()], false],
    ["a code that is not a string", [error(401)], false],
    ["no errors", [], false],
    ["undefined", undefined, false],
    ["null", null, false],
  ])("%s: %s", (_name, errors, refused) => {
    expect(refusedBeforeRunning(errors)).toBe(refused);
  });
});
