import { execFile, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { type Rule, RULES_FILE, rules } from "../../helpers/alert-rules";

/**
 * Mutation testing of deploy/prometheus/alerts.test.yml: every rule of alerts.yml is changed in one place at a time
 * (a threshold, a comparison, its `for:`, a range window) and the cases of alerts.test.yml must notice, i.e. promtool
 * must report a case whose alerts differ. A case that passes whatever the rule's numbers pins nothing: a threshold
 * edited by mistake, a window shortened, a `for:` lengthened would ship with every case green.
 *
 * Nudges, each one evaluation step or one unit away so that a case must sit at the rule's boundary to catch it:
 * - an integer threshold (a count of events, a circuit state, seconds): -1 and +1;
 * - any other threshold (a ratio, a share, seconds): x0.8 and x1.2, a 20 % error in the number;
 * - a histogram_quantile's quantile: its tail halved and doubled (0.99 -> 0.995 and 0.98);
 * - a comparison: its neighbour (`>` <-> `>=`, `<` <-> `<=`; `==` -> `>=` and `<=`);
 * - `for:`: one evaluation interval (1m, alerts.test.yml's evaluation_interval) shorter and longer; a rule without
 *   `for:` gets `for: 1m`, so a case must show it firing at the first evaluation its expression holds;
 * - a range window `[5m]`: 1m shorter and longer, each occurrence in the expression on its own.
 * Skipped where promtool is not on PATH (as test/unit/deploy/promtool.test.ts; .ci/run fetches it).
 */
const DIR = join(__dirname, "..", "..", "..", "deploy", "prometheus");
const available = spawnSync("promtool", ["--version"], { stdio: "ignore" }).status === 0;

type Kind = "comparison" | "threshold" | "quantile" | "window" | "for" | "reviewed";
interface Mutant {
  alert: string;
  kind: Kind;
  /** e.g. "AopayCircuitOpen: == 2 -> == 1" */
  name: string;
  rule: Rule;
}

/**
 * Mutants that cannot change any alert, whatever the series: each with why. A stale entry (no such mutant generated)
 * fails the generation test below.
 */
const EQUIVALENT: Record<string, string> = {
  "AopayGraphqlDown: == 0 -> <= 0": "up is 0 or 1 (a scrape failed or not): never below 0",
  "AopayCircuitOpen: == 2 -> >= 2": "aopay_circuit_state is 0, 1 or 2 (closed, half-open, open): never above 2",
};

/**
 * The expression with what is not PromQL's own syntax blanked (label matchers in `{}` and string literals), so
 * that numbers and comparison operators are found only where they are the expression's; same length, same offsets.
 */
function blanked(expr: string): string {
  return expr.replace(/\{[^}]*\}|"(?:[^"\\]|\\.)*"/g, (m) => " ".repeat(m.length));
}

const UNIT_MINUTES: Record<string, number> = { s: 1 / 60, m: 1, h: 60 };
const minutes = (d: string): number => {
  const m = /^(\d+)([smh])$/.exec(d);
  if (!m) throw new Error(`duration ${d}: not one number of s, m or h`);
  return Number(m[1]) * UNIT_MINUTES[m[2]];
};
/** A number as PromQL reads it back, without float noise (0.05 * 1.2 is 0.06, not 0.06000000000000001). */
const num = (x: number): string => String(Number(x.toPrecision(6)));

const NEIGHBOURS: Record<string, string[]> = {
  ">": [">="],
  ">=": [">"],
  "<": ["<="],
  "<=": ["<"],
  "==": [">=", "<="],
  "!=": ["=="],
};

function mutantsOf(rule: Rule): Mutant[] {
  const out: Mutant[] = [];
  const expr = rule.expr;
  const plain = blanked(expr);
  const edit = (kind: Kind, at: number, len: number, by: string, what: string) =>
    out.push({
      alert: rule.alert,
      kind,
      name: `${rule.alert}: ${what}`,
      rule: { ...rule, expr: expr.slice(0, at) + by + expr.slice(at + len) },
    });

  // Comparison operators, and the threshold each compares with (a number right after it).
  for (const m of plain.matchAll(/(==|!=|>=|<=|>|<)(?!=)\s*(-?\d+(?:\.\d+)?)(?![\w.])/g)) {
    const [all, op, value] = m;
    const at = m.index;
    for (const to of NEIGHBOURS[op]) edit("comparison", at, op.length, to, `${op} ${value} -> ${to} ${value}`);
    const v = Number(value);
    const nudged = Number.isInteger(v) ? [v - 1, v + 1] : [v * 0.8, v * 1.2];
    const valueAt = at + all.length - value.length;
    for (const n of nudged) edit("threshold", valueAt, value.length, num(n), `${op} ${value} -> ${op} ${num(n)}`);
  }
  // A quantile: its tail (1 - q) halved and doubled.
  for (const m of plain.matchAll(/histogram_quantile\(\s*(\d*\.\d+)/g)) {
    const q = Number(m[1]);
    const at = m.index + m[0].length - m[1].length;
    for (const n of [1 - (1 - q) / 2, 1 - (1 - q) * 2])
      edit("quantile", at, m[1].length, num(n), `histogram_quantile(${m[1]}) -> histogram_quantile(${num(n)})`);
  }
  // Range windows, each occurrence on its own (the n-th of the expression, counted from 1).
  let nth = 0;
  for (const m of plain.matchAll(/\[(\d+[smh])\]/g)) {
    nth += 1;
    const w = minutes(m[1]);
    for (const n of [w - 1, w + 1].filter((x) => x > 0))
      edit("window", m.index, m[0].length, `[${n}m]`, `[${m[1]}] #${nth} -> [${n}m]`);
  }
  // `for:`, one evaluation interval either way.
  const f = rule.for === undefined ? 0 : minutes(rule.for);
  for (const n of [f - 1, f + 1].filter((x) => x >= 0))
    out.push({
      alert: rule.alert,
      kind: "for",
      name: `${rule.alert}: for ${f}m -> ${n}m`,
      rule: { ...rule, for: `${n}m` },
    });
  return out;
}

/**
 * The hand review's surviving mutants that no single nudge above makes, kept by name so that they stay caught. Its
 * others are generated: EventLoopLag's `for: 6m`, and OtpProtectionUnavailable's 5m -> 4m (a window: the rule has no
 * `for:`).
 */
const REVIEWED: Mutant[] = [
  {
    alert: "AopayCircuitOpen",
    kind: "reviewed",
    name: "AopayCircuitOpen: == 2 -> >= 1 (hand review)",
    rule: { ...rules.find((r) => r.alert === "AopayCircuitOpen")!, expr: "max by (family) (aopay_circuit_state) >= 1" },
  },
];

const mutants: Mutant[] = [...rules.flatMap(mutantsOf), ...REVIEWED];

interface TestFile {
  rule_files: string[];
  tests: Array<{ alert_rule_test: Array<{ alertname: string }> }>;
}
const testFile = parse(readFileSync(join(DIR, "alerts.test.yml"), "utf8")) as TestFile;

/**
 * A folder with one rule (the alert's, mutated or not) and the cases of alerts.test.yml about that alert only: the
 * other rules and cases cannot tell a mutant of this one apart, and a tenth of the file runs in a tenth of the time.
 */
function writeCase(dir: string, rule: Rule): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "alerts.yml"), stringify({ groups: [{ name: "aopay-graphql", rules: [rule] }] }));
  const tests = testFile.tests
    .map((t) => ({ ...t, alert_rule_test: t.alert_rule_test.filter((c) => c.alertname === rule.alert) }))
    .filter((t) => t.alert_rule_test.length > 0);
  writeFileSync(join(dir, "alerts.test.yml"), stringify({ ...testFile, rule_files: ["alerts.yml"], tests }));
}

/** What promtool said of each test file: "SUCCESS", or its failures (a case's exp: and got:, or a load error). */
type Verdicts = Map<string, string>;

/**
 * One promtool process for many test files (an alert's own rule and its mutants): it starts in about 150 ms, longer
 * than it takes to run one alert's cases. It names each file ("Unit Testing:  <file>") before its verdict, on stdout,
 * and its failures on stderr: both into one pipe, in the order written.
 */
function promtoolTest(cwd: string, files: string[]): Promise<Verdicts> {
  return new Promise((resolve, reject) => {
    execFile(
      "sh",
      ["-c", 'exec promtool test rules "$@" 2>&1', "sh", ...files],
      { cwd, timeout: 60_000, maxBuffer: 64 << 20 },
      (err, out) => {
        if (err && err.code !== 1) return reject(new Error(`promtool: ${err.message}\n${out}`));
        const verdicts: Verdicts = new Map();
        for (const part of out.split(/^Unit Testing: +/m).slice(1)) {
          const [file, ...rest] = part.split("\n");
          verdicts.set(file.trim(), rest.join("\n").trim());
        }
        resolve(verdicts);
      },
    );
  });
}

/** At most `size` at once: promtool is quick, but the machine has 2 cores and other suites beside. */
async function pool<T, R>(items: T[], size: number, work: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
  return results;
}

describe("alert rule mutants, generated", () => {
  it("gives every alert threshold, comparison, window and `for:` mutants", () => {
    const problems = rules.flatMap((r) => {
      const count = (kind: Kind) => mutants.filter((m) => m.alert === r.alert && m.kind === kind).length;
      return [
        ...(count("comparison") >= 1 ? [] : [`${r.alert}: no comparison mutant`]),
        ...(count("threshold") >= 2 ? [] : [`${r.alert}: fewer than 2 threshold mutants`]),
        ...(/\[\d+[smh]\]/.test(r.expr) && count("window") < 2 ? [`${r.alert}: fewer than 2 window mutants`] : []),
        ...(count("for") >= 1 ? [] : [`${r.alert}: no for mutant`]),
      ];
    });
    expect(problems).toEqual([]);
  });

  it("lists as equivalent only mutants it generates", () => {
    const names = new Set(mutants.map((m) => m.name));
    expect(Object.keys(EQUIVALENT).filter((n) => !names.has(n))).toEqual([]);
  });

  it("nudges each kind of number by its own step", () => {
    const names = (expr: string, f?: string) =>
      mutantsOf({ alert: "X", expr, ...(f ? { for: f } : {}) }).map((m) => `${m.name.slice(3)} | ${m.rule.expr}`);
    expect(names('histogram_quantile(0.99, rate(b{le="5"}[5m])) > 0.05', "2m")).toEqual([
      '> 0.05 -> >= 0.05 | histogram_quantile(0.99, rate(b{le="5"}[5m])) >= 0.05',
      '> 0.05 -> > 0.04 | histogram_quantile(0.99, rate(b{le="5"}[5m])) > 0.04',
      '> 0.05 -> > 0.06 | histogram_quantile(0.99, rate(b{le="5"}[5m])) > 0.06',
      'histogram_quantile(0.99) -> histogram_quantile(0.995) | histogram_quantile(0.995, rate(b{le="5"}[5m])) > 0.05',
      'histogram_quantile(0.99) -> histogram_quantile(0.98) | histogram_quantile(0.98, rate(b{le="5"}[5m])) > 0.05',
      '[5m] #1 -> [4m] | histogram_quantile(0.99, rate(b{le="5"}[4m])) > 0.05',
      '[5m] #1 -> [6m] | histogram_quantile(0.99, rate(b{le="5"}[6m])) > 0.05',
      'for 2m -> 1m | histogram_quantile(0.99, rate(b{le="5"}[5m])) > 0.05',
      'for 2m -> 3m | histogram_quantile(0.99, rate(b{le="5"}[5m])) > 0.05',
    ]);
    expect(names('up{job="a=2"} == 0')).toEqual([
      '== 0 -> >= 0 | up{job="a=2"} >= 0',
      '== 0 -> <= 0 | up{job="a=2"} <= 0',
      '== 0 -> == -1 | up{job="a=2"} == -1',
      '== 0 -> == 1 | up{job="a=2"} == 1',
      'for 0m -> 1m | up{job="a=2"} == 0',
    ]);
  });
});

const underPromtool = available
  ? describe
  : (name: string, fn: () => void) => describe.skip(`${name} (skipped: promtool not on PATH)`, fn);
underPromtool("alert rule mutants, under promtool", () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "alert-mutants-"));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("fails alerts.test.yml with every mutant of alerts.yml (but the equivalent ones)", async () => {
    expect(RULES_FILE).toBe(join(DIR, "alerts.yml"));
    // Per alert: its unmutated rule first (else a mutant would count as caught for a failure the split into one
    // folder per rule itself caused), then its mutants.
    const batches = rules.map((r) => [
      { name: `${r.alert}: unmutated`, rule: r },
      ...mutants.filter((m) => m.alert === r.alert),
    ]);
    const verdicts = await pool(batches, 2, (batch, b) => {
      const files = batch.map((m, i) => {
        writeCase(join(root, `${b}`, `${i}`), m.rule);
        return `${b}/${i}/alerts.test.yml`;
      });
      return promtoolTest(root, files).then((v) => batch.map((m, i) => ({ name: m.name, verdict: v.get(files[i]) })));
    });
    const all = verdicts.flat();
    const unmutated = all.filter((v) => v.name.endsWith(": unmutated") && v.verdict !== "SUCCESS");
    // Caught: a case's alerts differed (promtool prints its exp: and got:), not a mutant promtool could not load.
    const caught = (v?: string) => v !== undefined && v.startsWith("FAILED:") && /\bgot:/.test(v);
    const runs = all.filter((v) => !v.name.endsWith(": unmutated"));
    const invalid = runs.filter((v) => !caught(v.verdict) && v.verdict !== "SUCCESS").map((v) => v.name);
    const survivors = runs.filter((v) => v.verdict === "SUCCESS" && !(v.name in EQUIVALENT)).map((v) => v.name);
    const caughtAnyway = runs.filter((v) => v.name in EQUIVALENT && v.verdict !== "SUCCESS").map((v) => v.name);
    expect({ unmutated, invalid, survivors, caughtAnyway }).toEqual({
      unmutated: [],
      invalid: [],
      survivors: [],
      caughtAnyway: [],
    });
  }, 120_000);
});
