import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

/**
 * The shipped alert rules (deploy/prometheus/alerts.yml) and just enough PromQL reading to check them against a real
 * metrics page: the vector selectors of an expression (metric, label matchers) and its `by` labels. The rules' shapes
 * are simple (no `offset`, no nested braces, no strings outside matchers); a rule beyond that would fail the checks of
 * test/e2e/alert-rules.test.ts rather than pass them.
 */
export const ROOT = join(__dirname, "..", "..");
export const RULES_FILE = join(ROOT, "deploy", "prometheus", "alerts.yml");

export interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
export const rules: Rule[] = (
  parse(readFileSync(RULES_FILE, "utf8")) as { groups: Array<{ rules: Rule[] }> }
).groups.flatMap((g) => g.rules);

/**
 * Metrics of the rules that no single server process's page has: `up`, Prometheus' own series for each scrape target
 * (never on a page), and `cluster_worker_restarts_total`, which only a cluster's primary (WEB_CONCURRENCY > 1) serves,
 * checked on its page by test/e2e/cluster.test.ts.
 */
export const NOT_ON_A_SERVER_PAGE: ReadonlySet<string> = new Set(["up", "cluster_worker_restarts_total"]);

export interface Series {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A Prometheus text page as series (comments skipped). */
export function parsePage(text: string): Series[] {
  const out: Series[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparsable metrics line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

export interface Matcher {
  label: string;
  op: "=" | "!=" | "=~" | "!~";
  value: string;
}
export interface Selector {
  metric: string;
  matchers: Matcher[];
}
const KEYWORDS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "and",
  "or",
  "unless",
  "bool",
]);

/** The vector selectors of a PromQL expression (metric name and label matchers), and the labels it groups by. */
export function selectorsOf(expr: string): { selectors: Selector[]; groupBy: string[] } {
  const groupBy: string[] = [];
  let rest = expr.replace(/\b(?:by|without)\s*\(([^)]*)\)/g, (_all, labels: string) => {
    groupBy.push(...labels.split(",").map((l) => l.trim()));
    return " ";
  });
  rest = rest.replace(/\[[0-9smhdw]+\]/g, " ");
  const selectors: Selector[] = [];
  for (const m of rest.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?(\s*\()?/g)) {
    if (m[3] !== undefined || KEYWORDS.has(m[1])) continue; // a function call or a keyword
    const matchers: Matcher[] = [];
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g))
      matchers.push({ label: l[1], op: l[2] as Matcher["op"], value: l[3] });
    selectors.push({ metric: m[1], matchers });
  }
  return { selectors, groupBy };
}

export function matches(s: Series, sel: Selector): boolean {
  if (s.name !== sel.metric) return false;
  return sel.matchers.every(({ label, op, value }) => {
    const v = s.labels[label] ?? "";
    if (op === "=") return v === value;
    if (op === "!=") return v !== value;
    const re = new RegExp(`^(?:${value})$`);
    return op === "=~" ? re.test(v) : !re.test(v);
  });
}
