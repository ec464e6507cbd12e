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
 * string holds no line break: a message as the server sends it). A response body in an ```http block can: curl prints
 * it on one line, the page shows it formatted, as its other answers (docs/walkthrough.md says so; its tests parse the
 * body whole). In a shell command it can: docs/walkthrough.md's curl `"query": "…"` and `--data-urlencode 'query=…'`
 * lines (214 to 334 columns) are cut with `'\` and `'`, which the shell joins (test/e2e/walkthrough-requests.test.ts
 * runs them as wrapped).
 */
function unbreakable(line: string, lang: string): boolean {
  return lang !== "sh" && /^\s*"[^"]+": "(?:[^"\\]|\\.)*",?$/.test(line);
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
    ['{"data":{"x":"' + "y".repeat(120) + '"}}', "http", false],
    ['  "variables": { "input": { "a": "' + "b".repeat(60) + '", "c": "' + "d".repeat(60) + '" } }', "sh", false],
    ["import { " + "name, ".repeat(20) + '} from "x";', "tsx", false],
    ["mutation { m(input: { " + "a: 1, ".repeat(25) + "}) { x } }", "graphql", false],
    ['{ "id": "1", "text": "' + "t".repeat(120) + '" }', "json", false],
  ])("case %#: a line that can be wrapped is not taken for one that cannot", (line, lang, allowed) => {
    expect(unbreakable(line, lang)).toBe(allowed);
  });
});

/**
 * Prose lines over 120 columns each page had when this check came (the house limit: prose is wrapped by hand at
 * 120): none may be added, and a page whose long lines are rewrapped must lower its figure here (or leave the list),
 * so that the figure stays the truth.
 */
const LONG_PROSE: Record<string, number> = {
  "docs/design/stack.md": 44,
  "docs/performance-runs.md": 16,
  "docs/security-requirements.md": 87,
  "docs/upstream/aopay-api.md": 80,
  "test/fixtures/vite-react-ts/README.md": 1,
};

/**
 * The lines of `text` (1-based) that are prose (outside code blocks) over MAX columns and could be wrapped: not a table
 * row (a row is one line in Markdown) and not one word alone (a link or a path).
 */
function longProse(text: string): number[] {
  let inCode = false;
  return text.split("\n").flatMap((line, i) => {
    if (/^\s*```/.test(line)) inCode = !inCode;
    const wrappable = !line.trimStart().startsWith("|") && /\S\s+\S/.test(line);
    return !inCode && wrappable && [...line].length > MAX ? [i + 1] : [];
  });
}

describe(`prose lines of the Markdown pages over ${MAX} columns: none added`, () => {
  it.each(pages())("%s", (page) => {
    const text = readFileSync(join(ROOT, page), "utf8");
    const long = longProse(text).map((n) => `${page}:${n} (${[...text.split("\n")[n - 1]].length} columns)`);
    if (long.length > (LONG_PROSE[page] ?? 0))
      throw new Error(`wrap prose at ${MAX} columns by hand (these lines; some were long before):\n${long.join("\n")}`);
    expect(long).toHaveLength(LONG_PROSE[page] ?? 0);
  });

  it("sees a long prose line, and not a table row, a lone link or a code line", () => {
    const prose = "word ".repeat(30);
    const text = [prose, `| ${prose} |`, `https://example.com/${"x".repeat(130)}`, "```sh", prose, "```", prose];
    expect(longProse(text.join("\n"))).toEqual([1, 7]);
  });
});
