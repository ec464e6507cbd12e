import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SETTINGS_GROUPS } from "../../../src/config";
import { COMMENT_WIDTH, commentLines } from "../../../src/settings/docs";

const ROOT = join(__dirname, "../../..");
const columns = (line: string) => [...line].length;
/** The house width (docs/design/style.md), written out: the check must not lean on what it checks. */
const MAX = 120;

/**
 * .env.example is what docs/configuration.md tells a newcomer to copy and edit ("uncomment and set what you
 * change"). Its comments were each setting's whole description on one line, up to 1,202 columns: in an editor a line
 * ran far off the screen, or wrapped without its `#`. They are wrapped at the house width (docs/design/style.md).
 */
describe(".env.example reads in a pane of 120 columns", () => {
  const text = readFileSync(join(ROOT, ".env.example"), "utf8");

  it("has no line over 120 columns but a comment of one word (a URL)", () => {
    const wide = text
      .split("\n")
      .map((line, i) => ({ line, at: i + 1 }))
      .filter(({ line }) => columns(line) > MAX && !/^# \S+$/.test(line))
      .map(({ line, at }) => `.env.example:${at} (${columns(line)} columns)`);
    expect(wide).toEqual([]);
  });

  it("has a `# NAME=default` line for each setting, in order, and no other (none made by wrapping)", () => {
    const names = [...text.matchAll(/^# ([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]);
    expect(names).toEqual(SETTINGS_GROUPS.flatMap((g) => Object.keys(g.settings)));
  });
});

describe("commentLines", () => {
  it("wraps at the width, keeps every word in order, and leaves a word longer than a line whole", () => {
    const words = Array.from({ length: 60 }, (_, i) => `word${i}`);
    const url = `https://example.com/${"x".repeat(130)}`;
    const lines = commentLines([...words.slice(0, 30), url, ...words.slice(30)].join(" "));
    expect(COMMENT_WIDTH).toBe(MAX);
    expect(lines.length).toBeGreaterThan(3);
    expect(lines.every((l) => l.startsWith("# "))).toBe(true);
    expect(lines.filter((l) => columns(l) > COMMENT_WIDTH)).toEqual([`# ${url}`]);
    expect(lines.map((l) => l.slice(2)).join(" ")).toBe([...words.slice(0, 30), url, ...words.slice(30)].join(" "));
  });

  it("counts characters, not UTF-16 units or bytes (… is one column)", () => {
    const line = commentLines(`${"a".repeat(COMMENT_WIDTH - 4)} …`);
    expect(line).toEqual([`# ${"a".repeat(COMMENT_WIDTH - 4)} …`]);
  });
});
