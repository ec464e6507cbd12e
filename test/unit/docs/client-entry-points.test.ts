import { readFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(__dirname, "../../..");
const read = (file: string) => readFileSync(join(ROOT, file), "utf8");

/** Each entry point of the client package and the file it is built from (client/package.json's `exports`). */
const ENTRY_POINTS: Record<string, string> = {
  "@aopay-graphql/client": "client/src/index.ts",
  "@aopay-graphql/client/react": "client/src/react/index.ts",
  "@aopay-graphql/client/sdk": "client/src/sdk/index.ts",
};
const BASE = "@aopay-graphql/client";

/** The pages with an `| import | ... |` table, one row per entry point: what an app's author reads first. */
const PAGES = ["docs/clients.md", "client/README.md"];

/**
 * The values an entry point's file exports by name (`export { a, b } from`, `export const`), types aside: what was
 * written by hand, as opposed to its `export *` of the generated documents, hooks and SDK functions, which a row
 * names as a group ("documents, types", "the hooks").
 */
export function namedExports(source: string): string[] {
  const names: string[] = [];
  for (const m of source.matchAll(/^export \{([^}]*)\}/gm))
    for (const part of m[1].split(",").map((p) => p.trim()))
      if (part && !part.startsWith("type ")) names.push(part.split(/\s+as\s+/).pop()!);
  for (const m of source.matchAll(/^export (?:const|function|class) (\w+)/gm)) names.push(m[1]);
  return names;
}

/** The rows of a page's import table: entry point, the names its contents cell gives in code, and that cell. */
export function importRows(page: string): Array<{ entry: string; names: string[]; cell: string }> {
  return page
    .split("\n")
    .filter((line) => line.startsWith("| `@aopay-graphql/client"))
    .map((line) => {
      const [first, contents] = line.split(" | ");
      const entry = /`([^`]+)`/.exec(first)![1];
      const names = [...contents.matchAll(/`([A-Za-z_]\w*)(?:\(\))?`/g)].map((m) => m[1]);
      return { entry, names, cell: contents };
    });
}

/**
 * What a row leaves unnamed of the entry point's own exports. A row that starts with "the above" or "all of the
 * above" takes the base row's names too; a row naming `AopayClientError` covers its subclasses (`Aopay…Error`, each
 * in docs/clients.md's errors table).
 */
export function unnamed(row: { entry: string; names: string[]; cell: string }, base: string[], own: string[]) {
  const named = new Set([...row.names, ...(/^(?:all of )?the above\b/.test(row.cell.trim()) ? base : [])]);
  const subclass = (name: string) => named.has("AopayClientError") && /^Aopay\w+Error$/.test(name);
  return own.filter((name) => !named.has(name) && !subclass(name));
}

/**
 * The import tables of docs/clients.md and client/README.md, against the package's entry points. docs/clients.md's
 * table left out `typePolicies`, `refusedBeforeRunning` and `mayHaveBeenSent`, which the React example right below it
 * imports, and the package's own README the SDK's `createGraphQLClient` and error classes: a newcomer reading the
 * table did not know where an import of the page's came from, nor that the base entry point had it.
 */
describe("the client package's import tables name what each entry point exports", () => {
  const own = Object.fromEntries(
    Object.entries(ENTRY_POINTS).map(([entry, file]) => [entry, namedExports(read(file))]),
  );

  it("reads each entry point's own exports (not vacuous)", () => {
    expect(own[BASE]).toEqual(expect.arrayContaining(["possibleTypes", "typePolicies", "isFailure"]));
    expect(own["@aopay-graphql/client/react"]).toEqual(expect.arrayContaining(["mayHaveBeenSent", "errorCodeOf"]));
    expect(own["@aopay-graphql/client/sdk"]).toEqual(expect.arrayContaining(["createGraphQLClient", "AopayHttpError"]));
  });

  for (const page of PAGES) {
    const rows = importRows(read(page));

    it(`${page}: one row per entry point`, () => {
      expect(rows.map((r) => r.entry).sort()).toEqual(Object.keys(ENTRY_POINTS).sort());
    });

    it(`${page}: every name a row gives is exported by that entry point`, async () => {
      const problems: string[] = [];
      for (const row of rows) {
        const module = (await import(join(ROOT, ENTRY_POINTS[row.entry]))) as Record<string, unknown>;
        for (const name of row.names) if (!(name in module)) problems.push(`${row.entry}: ${name}`);
      }
      expect(problems).toEqual([]);
    });

    it(`${page}: every row names each value its entry point exports by hand`, () => {
      const base = rows.find((r) => r.entry === BASE)!.names;
      const problems = rows.flatMap((row) => unnamed(row, base, own[row.entry]).map((name) => `${row.entry}: ${name}`));
      expect(problems).toEqual([]);
    });
  }
});

describe("the import-table check itself", () => {
  it("reads export lists and declarations, not types nor `export *`", () => {
    const source = [
      'export * from "./generated/graphql.js";',
      'export { a, type B, c as d } from "./x.js";',
      "export {\n  e,\n  type F,\n} from './y.js';",
      "export const g = 1;",
      "export type H = string;",
    ].join("\n");
    expect(namedExports(source)).toEqual(["a", "d", "e", "g"]);
  });

  it("takes the base row's names for a row of `the above`, and an error class's subclasses", () => {
    const row = { entry: "x", names: ["h", "AopayClientError"], cell: "all of the above, plus `h`" };
    expect(unnamed(row, ["a"], ["a", "h", "AopayHttpError", "other"])).toEqual(["other"]);
    expect(unnamed({ ...row, cell: "plus `h`" }, ["a"], ["a", "h"])).toEqual(["a"]);
  });
});

/**
 * docs/clients.md's table of generated files, against codegen.yml's outputs in client/src/generated/: it named four,
 * and a newcomer opening the folder found trusted-documents.ts (the ids createTrustedDocumentLink sends) unexplained.
 * client-preset's folder output (`client/src/generated/`: graphql.ts, with its gql.ts and index.ts) is its first row.
 */
describe("docs/clients.md's generated files are codegen.yml's", () => {
  it("names each file codegen.yml writes into client/src/generated/", () => {
    const files = [...read("codegen.yml").matchAll(/^ {2}client\/src\/generated\/([\w.-]+\.ts):$/gm)].map((m) => m[1]);
    expect(files.length).toBeGreaterThanOrEqual(4);
    const page = read("docs/clients.md");
    const table = page.slice(page.indexOf("| generated (`client/src/generated/`) |")).split("\n\n")[0];
    const rows = table.split("\n").map((line) => /^\| `([\w.-]+\.ts)` \|/.exec(line)?.[1]);
    expect(files.filter((file) => !rows.includes(file))).toEqual([]);
  });
});
