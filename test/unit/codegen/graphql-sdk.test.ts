import { buildSchema, parse } from "graphql";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { plugin } = require("../../../codegen/graphql-sdk.js") as {
  plugin: (schema: unknown, docs: Array<{ document: unknown }>, config: Record<string, string>) => string;
};

const schema = buildSchema(`
  type Query { a: Int, b: B }
  type B { x: Int, y: Int, c: C }
  type C { z: Int }
  type Mutation { m(n: Int!): Int }
`);

/** The `query` string the plugin emitted for `name`. */
function emittedQuery(out: string, name: string): string {
  const m = new RegExp(`export const ${name}Operation[^=]*= \\{[^}]*?query: ("(?:[^"\\\\]|\\\\.)*")`, "s").exec(out);
  if (!m) throw new Error(`no ${name}Operation in:\n${out}`);
  return JSON.parse(m[1]) as string;
}

describe("graphql-sdk codegen plugin", () => {
  it("emits one operation constant and one SDK function per named query and mutation, sorted", () => {
    const out = plugin(
      schema,
      [
        { document: parse("mutation Zeta($n: Int!) { m(n: $n) } query Alpha { a }") },
        { document: parse("query { a }") },
      ],
      {},
    );
    expect(out).toContain('import type { AlphaDocument, ZetaDocument } from "./graphql";');
    expect(out).toContain('from "../sdk/client";');
    expect(out).toContain("export const AlphaOperation: OperationOf<typeof AlphaDocument> = {");
    expect(out).toContain('  kind: "mutation",\n  name: "Zeta",');
    expect(out).toContain("  alpha: SdkFunctionOf<typeof AlphaDocument>;");
    expect(out).toContain("  zeta: SdkFunctionOf<typeof ZetaDocument>;");
    expect(out).toContain("    zeta: (...args) => client.execute(ZetaOperation, ...args),");
    expect(out.indexOf("alpha:")).toBeLessThan(out.indexOf("zeta:"));
    expect(out).toMatch(/Sent once: the SDK never retries a mutation\. \*\/\n {2}zeta:/);
    expect(out).toMatch(/GENERATED/);
  });

  it("sends each operation with exactly the fragments it spreads, nested ones included, __typename in every object, compactly printed", () => {
    const docs = [
      { document: parse("query WithFragments { b { ...BFields } } query Plain { a }") },
      {
        document: parse(
          "fragment BFields on B { x c { ...CFields } } fragment CFields on C { z } fragment Unused on B { y }",
        ),
      },
    ];
    const out = plugin(schema, docs, {});
    expect(emittedQuery(out, "WithFragments")).toBe(
      "query WithFragments{b{__typename ...BFields}}fragment BFields on B{__typename x c{__typename ...CFields}}fragment CFields on C{__typename z}",
    );
    expect(emittedQuery(out, "Plain")).toBe("query Plain{a}");
    expect(out).not.toContain("Unused");
  });

  it("names each function after its operation, and refuses names client-preset would rename", () => {
    const out = plugin(schema, [{ document: parse("mutation VerifyAepsOtp($n: Int!) { m(n: $n) }") }], {});
    expect(out).toContain("export const VerifyAepsOtpOperation: OperationOf<typeof VerifyAepsOtpDocument>");
    expect(out).toContain("  verifyAepsOtp: SdkFunctionOf<typeof VerifyAepsOtpDocument>;");
    expect(() => plugin(schema, [{ document: parse("mutation verifyAEPSOtp { m(n: 1) }") }], {})).toThrow(
      /must be plain PascalCase/,
    );
  });

  it("honours documentsImport and runtimeImport", () => {
    const out = plugin(schema, [{ document: parse("query A { a }") }], {
      documentsImport: "./docs.js",
      runtimeImport: "@x/runtime",
    });
    expect(out).toContain('import type { ADocument } from "./docs.js";');
    expect(out).toContain('toGraphQLClient } from "@x/runtime";');
  });

  it("refuses an unknown fragment and duplicate operation names", () => {
    expect(() => plugin(schema, [{ document: parse("query A { b { ...Missing } }") }], {})).toThrow(
      /unknown fragment "Missing"/,
    );
    expect(() =>
      plugin(schema, [{ document: parse("query A { a }") }, { document: parse("query A { a }") }], {}),
    ).toThrow(/used twice/);
  });

  it("emits an SDK with no functions when there are no operations", () => {
    const out = plugin(schema, [], {});
    expect(out).toContain("export interface Sdk {\n}");
    expect(out).toContain("export function createSdk(");
    expect(out).not.toContain("import type {");
  });
});
