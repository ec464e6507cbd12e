import { createHash } from "node:crypto";
import { buildSchema, parse } from "graphql";
import { TRUSTED_DOCUMENTS } from "../../../src/generated/trusted-documents";
import { trustedDocumentIds } from "../../../client/src/generated/trusted-documents";
import * as sdk from "../../../client/src/generated/sdk";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { plugin } = require("../../../codegen/trusted-documents.js") as {
  plugin: (schema: unknown, docs: Array<{ document: unknown }>, config: Record<string, string>) => string;
};

const schema = buildSchema(`
  type Query { a: Int, b: B }
  interface I { x: Int }
  type B implements I { x: Int, y: Int }
  type Mutation { m(n: Int!): B }
`);
const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

/** The object literal a plugin output assigns to `name`. */
function emitted(out: string, name: string): unknown {
  const m = new RegExp(`export const ${name} = ([\\s\\S]*?) as const;`).exec(out);
  if (!m) throw new Error(`no ${name} in:\n${out}`);
  return JSON.parse(m[1]);
}

describe("trusted-documents codegen plugin", () => {
  const docs = [
    {
      document: parse(
        "mutation Make($n: Int!) { m(n: $n) { ...on I { x } ...BFields } } query Plain { a } fragment BFields on B { y }",
      ),
    },
  ];

  it("emits the server's manifest: every named operation as sent, with __typename, by the SHA-256 of its text", () => {
    const manifest = emitted(plugin(schema, docs, { output: "manifest" }), "TRUSTED_DOCUMENTS") as {
      format: string;
      version: number;
      operations: Array<{ id: string; name: string; type: string; body: string }>;
    };
    expect(manifest.format).toBe("apollo-persisted-query-manifest");
    expect(manifest.version).toBe(1);
    expect(manifest.operations.map(({ name, type, body }) => ({ name, type, body }))).toEqual([
      {
        name: "Make",
        type: "mutation",
        body: "mutation Make($n:Int!){m(n:$n){__typename ...on I{x}...BFields}}fragment BFields on B{__typename y}",
      },
      { name: "Plain", type: "query", body: "query Plain{a}" },
    ]);
    for (const op of manifest.operations) expect(op.id).toBe(sha256(op.body));
  });

  it("emits the client's ids by operation name, the same ids", () => {
    const manifest = emitted(plugin(schema, docs, { output: "manifest" }), "TRUSTED_DOCUMENTS") as {
      operations: Array<{ id: string; name: string }>;
    };
    const ids = emitted(plugin(schema, docs, { output: "ids" }), "trustedDocumentIds");
    expect(ids).toEqual(Object.fromEntries(manifest.operations.map((op) => [op.name, op.id])));
  });

  it("refuses an unknown output", () => {
    expect(() => plugin(schema, docs, { output: "json" })).toThrow(/must be "manifest" or "ids"/);
  });

  it("the committed lists agree with each other and with what the SDK sends", () => {
    const sdkQueries = (Object.values(sdk) as unknown[])
      .filter(
        (value): value is { name: string; query: string } =>
          typeof value === "object" && value !== null && "query" in value,
      )
      .map(({ name, query }) => ({ name, query }));
    expect(sdkQueries.length).toBeGreaterThan(0);
    const byName = new Map<string, { body: string }>(TRUSTED_DOCUMENTS.operations.map((op) => [op.name, op]));
    for (const { name, query } of sdkQueries) {
      expect(byName.get(name)?.body).toBe(query);
      expect(trustedDocumentIds[name as keyof typeof trustedDocumentIds]).toBe(sha256(query));
    }
    expect(sdkQueries.map((q) => q.name).sort()).toEqual([...byName.keys()].sort());
  });
});
