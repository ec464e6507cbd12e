import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
    // Today's documents; a released client package's older texts follow them (the test below).
    const current = TRUSTED_DOCUMENTS.operations.filter((op) => !("released" in op));
    const byName = new Map<string, { body: string }>(current.map((op) => [op.name, op]));
    for (const { name, query } of sdkQueries) {
      expect(byName.get(name)?.body).toBe(query);
      expect(trustedDocumentIds[name as keyof typeof trustedDocumentIds]).toBe(sha256(query));
    }
    expect(sdkQueries.map((q) => q.name).sort()).toEqual([...byName.keys()].sort());
  });

  describe("documents of released client packages (config.released)", () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), "released-documents-"));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));
    const release = (version: string, bodies: Record<string, string>) =>
      writeFileSync(
        join(dir, `trusted-documents-v${version}.json`),
        JSON.stringify({
          format: "apollo-persisted-query-manifest",
          version: 1,
          operations: Object.entries(bodies).map(([name, body]) => ({ id: sha256(body), name, type: "query", body })),
        }),
      );
    const manifest = () =>
      (
        emitted(plugin(schema, docs, { output: "manifest", released: dir }), "TRUSTED_DOCUMENTS") as {
          operations: Array<{ id: string; name: string; body: string; released?: string }>;
        }
      ).operations;

    it("keeps a released text that changed since, after today's, once, marked with its version", () => {
      release("0.1.0", { Plain: "query Plain{b{__typename x}}", Other: "query Plain{a}" });
      release("0.10.0", { Plain: "query Plain{b{__typename y}}" });
      release("0.2.0", { Plain: "query Plain{b{__typename x}}" });
      writeFileSync(join(dir, "v0.1.0.graphql"), "type Query { a: Int }");
      expect(manifest().map(({ name, body, released }) => ({ name, body, released }))).toEqual([
        { name: "Make", body: expect.stringContaining("mutation Make"), released: undefined },
        { name: "Plain", body: "query Plain{a}", released: undefined },
        // "query Plain{a}" as released is today's text: listed once, as today's.
        { name: "Plain", body: "query Plain{b{__typename x}}", released: "0.1.0" },
        { name: "Plain", body: "query Plain{b{__typename y}}", released: "0.10.0" },
      ]);
      // The client's ids are today's only.
      expect(emitted(plugin(schema, docs, { output: "ids", released: dir }), "trustedDocumentIds")).toEqual({
        Make: expect.any(String),
        Plain: sha256("query Plain{a}"),
      });
    });

    it("fails on a released text the schema no longer serves (a breaking change for apps sending it)", () => {
      release("0.1.0", { Gone: "query Gone{removed}" });
      expect(manifest).toThrow(/trusted-documents-v0\.1\.0\.json: Gone, as released, no longer validates.*removed/);
    });

    it("fails on a released id that is not its text's", () => {
      writeFileSync(
        join(dir, "trusted-documents-v0.1.0.json"),
        JSON.stringify({ operations: [{ id: sha256("x"), name: "Plain", type: "query", body: "query Plain{a}" }] }),
      );
      expect(manifest).toThrow(/Plain's id is not its text's/);
    });

    it("the committed server list has every document of every committed release", () => {
      const releases = join(__dirname, "../../../schema/releases");
      const files = readdirSync(releases).filter((f) => f.startsWith("trusted-documents-v"));
      expect(files).toContain("trusted-documents-v0.1.0.json");
      const listed = new Set<string>(TRUSTED_DOCUMENTS.operations.map((op) => op.id));
      for (const file of files) {
        const { operations } = JSON.parse(readFileSync(join(releases, file), "utf8")) as {
          operations: Array<{ id: string; name: string }>;
        };
        for (const op of operations)
          expect({ file, op: op.name, listed: listed.has(op.id) }).toMatchObject({ listed: true });
      }
    });
  });
});
