import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { SETTINGS_GROUPS } from "../../../src/config";
import { Metrics } from "../../../src/observability/metrics";
import { rules } from "../../helpers/alert-rules";

/**
 * What an operator reads (README.md, docs/deploying.md, docs/operations.md, docs/configuration.md, docs/security.md)
 * names things that must exist as named: settings, metrics and the labels written beside them, the npm scripts and
 * the files it runs; and each shipped alert has a runbook entry. The other halves are tested elsewhere:
 * docs/configuration.md's tables equal the declarations (test/unit/settings/settings.test.ts), the metrics table's types and
 * labels are those of a real page (test/e2e/alert-rules.test.ts).
 */
const ROOT = join(__dirname, "..", "..", "..");
const PAGES = ["README.md", "docs/deploying.md", "docs/operations.md", "docs/configuration.md", "docs/security.md"];
const read = (file: string) => readFileSync(join(ROOT, file), "utf8");
/** The text of every `code span` of a page (fenced blocks included: their lines have no backticks of their own). */
const codeOf = (doc: string): string[] => [
  ...[...doc.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => m[1]),
  ...[...doc.replace(/```[a-z]*\n[\s\S]*?```/g, "").matchAll(/`([^`\n]+)`/g)].map((m) => m[1]),
];

function sourceText(dir: string): string {
  return readdirSync(dir, { withFileTypes: true })
    .map((e) =>
      e.isDirectory()
        ? sourceText(join(dir, e.name))
        : /\.[cm]?[jt]s$/.test(e.name)
          ? readFileSync(join(dir, e.name), "utf8")
          : "",
    )
    .join("\n");
}

describe("the operator's pages name what exists", () => {
  const SETTINGS = new Set(SETTINGS_GROUPS.flatMap((g) => Object.keys(g.settings)));
  const SRC = sourceText(join(ROOT, "src"));

  it("every UPPER_SNAKE name in code is a setting, a code the server uses, or the named tool's", () => {
    /** Names of other tools, each checked in that tool's files ("": a tool not installed here). */
    const elsewhere: Record<string, string> = {
      BUILDAH_FORMAT: "", // buildah's and podman's (their `build` man pages)
      NODE_IMAGE: "Dockerfile",
      UND_ERR_CONNECT_TIMEOUT: "node_modules/undici/lib/core/errors.js",
      ERR_JOSE_ALG_NOT_ALLOWED: "node_modules/jose/dist/webapi/util/errors.js",
    };
    const problems: string[] = [];
    for (const page of PAGES)
      for (const code of codeOf(read(page)))
        for (const [name] of code.matchAll(/\b[A-Z][A-Z0-9]*(?:_[A-Z0-9*]+)+\b/g)) {
          if (name.includes("*")) {
            // A family (`MEMORY_*_MAX_KEYS`): at least one setting of that shape.
            const re = new RegExp(`^${name.replace(/\*/g, "[A-Z0-9_]+")}$`);
            if (![...SETTINGS].some((s) => re.test(s))) problems.push(`${page}: ${name} matches no setting`);
          } else if (name in elsewhere) {
            if (elsewhere[name] !== "" && !read(elsewhere[name]).includes(name))
              problems.push(`${page}: ${name} not in ${elsewhere[name]}`);
          } else if (!SETTINGS.has(name) && !new RegExp(`["'\`]${name}["'\`]|\\b${name}\\s*[=:]`).test(SRC)) {
            problems.push(`${page}: ${name} is neither a setting nor a code of src/`);
          }
        }
    expect(problems).toEqual([]);
  });

  it("every metric is registered, with the labels the metrics table gives it", async () => {
    const metrics = new Metrics(() => ({ inFlight: 0, queued: 0 }));
    const registered = new Set(
      (await metrics.registry.getMetricsAsJSON()).flatMap((m) =>
        String(m.type) === "histogram" ? [m.name, `${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`] : [m.name],
      ),
    );
    metrics.close();
    const ops = read("docs/operations.md");
    const table = ops.slice(ops.indexOf("| metric | labels | what |"), ops.indexOf("## Sample alerts"));
    /** The label names the table's row gives a metric (its second column's first backticked word per part). */
    const labelsOf = (metric: string): string[] | undefined => {
      const row = table.split("\n").find((l) => l.startsWith("| ") && l.split(" | ")[0].includes(`\`${metric}\``));
      if (!row) return undefined;
      const labels = row.split(" | ")[1];
      return labels === "–" ? [] : labels.split(/,(?![^(]*\))/).map((part) => /`([a-z_]+)`/.exec(part)?.[1] ?? part);
    };
    const problems: string[] = [];
    let seen = 0;
    for (const page of PAGES)
      for (const code of codeOf(read(page)))
        for (const m of code.matchAll(/\b((?:aopay|graphql|log_lines|nodejs|process)_[a-z0-9_*]+)(\{[^}]*\})?/g)) {
          const [, name, selector] = m;
          seen += 1;
          if (name.includes("*")) {
            const re = new RegExp(`^${name.replace(/\*/g, "[a-z0-9_]*")}$`);
            if (![...registered].some((r) => re.test(r))) problems.push(`${page}: ${name} matches no metric`);
            continue;
          }
          if (!registered.has(name)) {
            problems.push(`${page}: ${name} is not a metric`);
            continue;
          }
          const family = name.replace(/_(bucket|sum|count)$/, "");
          const documented = labelsOf(family) ?? labelsOf(name);
          for (const [, label] of (selector ?? "").matchAll(/([a-zA-Z_]+)\s*(?:=~|!~|!=|=)/g)) {
            if (label === "le" && name.endsWith("_bucket")) continue;
            if (documented && !documented.includes(label))
              problems.push(
                `${page}: ${name}{${label}} but the metrics table gives ${family} ${documented.join(", ") || "no labels"}`,
              );
          }
        }
    expect(seen).toBeGreaterThan(40);
    expect(problems).toEqual([]);
  });

  it("every npm script and file it runs exists", () => {
    const scripts = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts;
    const problems: string[] = [];
    for (const page of PAGES)
      for (const code of codeOf(read(page))) {
        for (const [, name] of code.matchAll(/\bnpm run (?:-s )?([a-z][a-z:-]*)/g))
          if (!(name in scripts)) problems.push(`${page}: npm run ${name}`);
        for (const [, name] of code.matchAll(/\bnpm (start|test)\b/g))
          if (!(name in scripts)) problems.push(`${page}: npm ${name}`);
        for (const [, file] of code.matchAll(/\bnode (?:--[a-z-]+=\S+ )*((?:dist|scripts|bench)\/[\w./-]+\.js)/g)) {
          // dist/ is built from src/ (`npm run build`).
          const source = file.startsWith("dist/") ? file.replace(/^dist\//, "src/").replace(/\.js$/, ".ts") : file;
          if (!existsSync(join(ROOT, source))) problems.push(`${page}: node ${file} (no ${source})`);
        }
      }
    expect(problems).toEqual([]);
  });
});

describe("docs/operations.md's runbook", () => {
  const ops = read("docs/operations.md");
  const runbook = ops.slice(ops.indexOf("\n## Runbook\n"), ops.indexOf("\n## ", ops.indexOf("\n## Runbook\n") + 1));

  it("has an entry for each shipped alert, and none for an alert not shipped", () => {
    expect(runbook.length).toBeGreaterThan(100);
    const entries = [...runbook.matchAll(/^### (\S+)$/gm)].map((m) => m[1]);
    expect(entries).toEqual(rules.map((r) => r.alert));
  });

  it("says in each entry what to look at and what to do", () => {
    const entries = runbook.split(/^### /m).slice(1);
    const problems = entries
      .filter((e) => !/^- \*\*Look at\*\*: \S/m.test(e) || !/^- \*\*Do\*\*: \S/m.test(e))
      .map((e) => e.split("\n")[0]);
    expect(problems).toEqual([]);
  });
});
