import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

const ROOT = join(__dirname, "../../..");
const MAX = 120;

/** Every Markdown page of the repository: README.md, docs/ (design/ and upstream/ too), client/, examples/, bench/. */
function pages(dir = ROOT): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.isDirectory())
      return ["node_modules", "dist", ".git", "test-artifacts"].includes(entry.name)
        ? []
        : pages(join(dir, entry.name));
    return entry.name.endsWith(".md") ? [relative(ROOT, join(dir, entry.name))] : [];
  });
}

/**
 * A line that cannot be wrapped without changing what it is: one JSON member whose value is a single string (a JSON
 * string holds no line break: a message as the server sends it) and a response body in an ```http block (curl prints
 * it on one line, and the page shows what curl prints). In a shell command it can: docs/walkthrough.md's curl
 * `"query": "…"` and `--data-urlencode 'query=…'` lines (214 to 334 columns) are cut with `'\` and `'`, which the shell
 * joins (test/e2e/walkthrough-requests.test.ts runs them as wrapped).
 */
function unbreakable(line: string, lang: string): boolean {
  return (lang !== "sh" && /^\s*"[^"]+": "(?:[^"\\]|\\.)*",?$/.test(line)) || (lang === "http" && /^[{[]/.test(line));
}

/** Lines of fenced code blocks longer than MAX columns, as `page:line (columns)`. */
function wideLines(page: string): string[] {
  const wide: string[] = [];
  let lang: string | null = null;
  readFileSync(join(ROOT, page), "utf8")
    .split("\n")
    .forEach((line, i) => {
      const fence = /^\s*```(\S*)/.exec(line);
      if (fence) lang = lang === null ? fence[1] : null;
      else if (lang !== null && [...line].length > MAX && !unbreakable(line, lang))
        wide.push(`${page}:${i + 1} (${[...line].length} columns)`);
    });
  return wide;
}

/**
 * A reader copies code blocks and reads them in a pane of 120 columns (the house limit, docs/design/style.md): a wider
 * line is cut or scrolled sideways, on GitHub and in an editor. Blocks a test runs verbatim (the walkthrough's curl
 * commands, docs/api.md's examples, docs/clients.md's files) are still run as wrapped here.
 */
describe(`code blocks of the Markdown pages have no line over ${MAX} columns`, () => {
  const all = pages();

  it("finds the pages (not vacuous)", () => {
    expect(all).toEqual(expect.arrayContaining(["README.md", "docs/walkthrough.md", "client/README.md"]));
  });

  it.each(all)("%s", (page) => {
    expect(wideLines(page)).toEqual([]);
  });

  it.each([
    ['  "query": "mutation M($input: I!) { m(input: $input) { __typename ' + "x ".repeat(60) + '} }",', "sh", false],
    ["  --data-urlencode 'query=query Q { " + "x ".repeat(60) + "}' \\", "sh", false],
    ['  "notice": "' + "n".repeat(130) + '",', "json", true],
    ['{"data":{"x":"' + "y".repeat(120) + '"}}', "http", true],
    ['  "variables": { "input": { "a": "' + "b".repeat(60) + '", "c": "' + "d".repeat(60) + '" } }', "sh", false],
    ["import { " + "name, ".repeat(20) + '} from "x";', "tsx", false],
    ["mutation { m(input: { " + "a: 1, ".repeat(25) + "}) { x } }", "graphql", false],
    ['{ "id": "1", "text": "' + "t".repeat(120) + '" }', "json", false],
  ])("case %#: a line that can be wrapped is not taken for one that cannot", (line, lang, allowed) => {
    expect(unbreakable(line, lang)).toBe(allowed);
  });
});
