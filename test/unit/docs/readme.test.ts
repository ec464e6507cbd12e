import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildSchema, type GraphQLObjectType, GraphQLUnionType, getNamedType } from "graphql";

const ROOT = join(__dirname, "../../..");
const readme = readFileSync(join(ROOT, "README.md"), "utf8");
const schema = buildSchema(readFileSync(join(ROOT, "schema/schema.graphql"), "utf8"));

/** Rows of the Markdown table whose header row starts with `| first |`, as arrays of cells. */
function tableRows(markdown: string, first: string): string[][] {
  const lines = markdown.split("\n");
  const start = lines.findIndex((l) => l.startsWith(`| ${first} |`));
  expect(start).toBeGreaterThanOrEqual(0);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith("|")) break;
    rows.push(
      line
        .split("|")
        .slice(1, -1)
        .map((c) => c.trim()),
    );
  }
  return rows;
}

const code = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);

/** The six flow operations (serviceInfo is mentioned apart) and their result unions, from the committed schema. */
function operations(): Map<string, { mutation: boolean; union: GraphQLUnionType }> {
  const ops = new Map<string, { mutation: boolean; union: GraphQLUnionType }>();
  for (const [root, mutation] of [
    [schema.getQueryType(), false],
    [schema.getMutationType(), true],
  ] as const) {
    for (const field of Object.values((root as GraphQLObjectType).getFields())) {
      const type = getNamedType(field.type);
      if (type instanceof GraphQLUnionType) ops.set(field.name, { mutation, union: type });
    }
  }
  return ops;
}

describe("README's operation tables match schema/schema.graphql", () => {
  const ops = operations();

  it("lists every operation with its result union and success type", () => {
    const rows = tableRows(readme, "flow");
    expect(rows.map((r) => code(r[1])[0]).sort()).toEqual([...ops.keys()].sort());
    for (const row of rows) {
      const op = ops.get(code(row[1])[0])!;
      const [unionName, success] = code(row[4]);
      expect({ op: row[1], unionName, success }).toEqual({
        op: row[1],
        unionName: op.union.name,
        success: op.union.getTypes().find((t) => !t.getInterfaces().some((i) => i.name === "Failure"))!.name,
      });
    }
  });

  it("says in which unions each failure type is, and names them all", () => {
    const failures = new Set(
      [...ops.values()].flatMap((o) =>
        o.union
          .getTypes()
          .filter((t) => t.getInterfaces().some((i) => i.name === "Failure"))
          .map((t) => t.name),
      ),
    );
    const rows = tableRows(readme, "failure");
    expect(rows.map((r) => code(r[0])[0]).sort()).toEqual([...failures].sort());
    for (const row of rows) {
      const failure = code(row[0])[0];
      const actual = [...ops]
        .filter(([, o]) => o.union.getTypes().some((t) => t.name === failure))
        .map(([name]) => name)
        .sort();
      const where = row[1];
      const claimed = [...ops]
        .filter(([name, o]) => {
          if (where === "every operation") return true;
          if (where === "every mutation") return o.mutation;
          const but = /^every mutation but `(\w+)`$/.exec(where);
          if (but) return o.mutation && name !== but[1];
          return code(where).includes(name);
        })
        .map(([name]) => name)
        .sort();
      expect({ failure, operations: claimed }).toEqual({ failure, operations: actual });
    }
  });
});

/**
 * The other lists of operations a reader meets: docs/api.md's table and contents, and the root types' descriptions
 * (src/graphql/schema.ts ROOT_TYPE_DESCRIPTIONS: what Sandbox's and GraphiQL's docs panels show first). A newcomer
 * adding an operation by docs/architecture.md's guide left all three without it, and no check failed.
 */
describe("docs/api.md and the root types' descriptions name every operation", () => {
  const ops = operations();
  const api = readFileSync(join(ROOT, "docs/api.md"), "utf8");

  it("docs/api.md's operations table lists each once, and its contents link each", () => {
    const rows = tableRows(api, "flow");
    expect(rows.map((r) => code(r[2])[0]).sort()).toEqual([...ops.keys()].sort());
    const contents = api.slice(0, api.indexOf("\n## "));
    const linked = [...contents.matchAll(/\[`(\w+)`\]\(#/g)].map((m) => m[1]).sort();
    expect(linked).toEqual([...ops.keys()].sort());
  });

  it("the Query and Mutation types' descriptions name each of their fields", () => {
    for (const root of [schema.getQueryType()!, schema.getMutationType()!]) {
      const unnamed = Object.keys(root.getFields()).filter(
        (f) => !new RegExp(`\\b${f}\\b`).test(root.description ?? ""),
      );
      expect({ root: root.name, notInItsDescription: unnamed }).toEqual({ root: root.name, notInItsDescription: [] });
    }
  });
});
