import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { matches, parsePage, rules, selectorsOf } from "../../helpers/alert-rules";

/**
 * Prometheus' own checks of the shipped rules (deploy/prometheus/alerts.yml): its syntax (`promtool check rules`) and
 * its unit tests on series shaped as our metrics page (`promtool test rules deploy/prometheus/alerts.test.yml`).
 * Skipped where promtool is not on PATH (Debian's `prometheus` package has it): .ci/run fetches it when it can, within
 * 120 s, and says in one line whether these cases run; test/e2e/alert-rules.test.ts checks the rules against the real
 * server everywhere.
 */
const DIR = join(__dirname, "..", "..", "..", "deploy", "prometheus");
const available = spawnSync("promtool", ["--version"], { stdio: "ignore" }).status === 0;

(available ? describe : describe.skip)("promtool", () => {
  it.each([
    ["check", "rules", "alerts.yml"],
    ["test", "rules", "alerts.test.yml"],
  ])("%s %s %s passes", (...args) => {
    const run = spawnSync("promtool", args, { cwd: DIR, encoding: "utf8", timeout: 30_000 });
    expect([run.status, run.stdout + run.stderr]).toEqual([0, expect.stringContaining("SUCCESS")]);
  });
});

interface PromtoolTests {
  rule_files: string[];
  tests: Array<{
    interval: string;
    input_series: Array<{ series: string; values: string }>;
    alert_rule_test: Array<{ eval_time: string; alertname: string; exp_alerts: Array<{ exp_labels: object }> }>;
  }>;
}

/**
 * What can be read of alerts.test.yml without promtool (where it is missing the cases above are skipped): a case
 * written by analogy and never run could name an alert that does not exist, a series no rule selects, or labels the
 * rule cannot give, and pass unseen until someone has promtool.
 */
describe("alerts.test.yml, read without promtool", () => {
  const file = parse(readFileSync(join(DIR, "alerts.test.yml"), "utf8")) as PromtoolTests;
  const ruleOf = (alert: string) => rules.find((r) => r.alert === alert);

  it("tests alerts.yml's rules, each case an alert of it", () => {
    expect(file.rule_files).toEqual(["alerts.yml"]);
    const unknown = file.tests.flatMap((t) => t.alert_rule_test.map((c) => c.alertname)).filter((a) => !ruleOf(a));
    expect(unknown).toEqual([]);
  });

  it("has, for every alert of alerts.yml, a case where it fires and one where it must stay quiet", () => {
    // A rule with no firing case passes promtool whatever its expression (an alert never expected is never checked);
    // one with no quiet case passes with its threshold, window or `for` loosened until it fires on everything.
    const cases = file.tests.flatMap((t) => t.alert_rule_test);
    const missing = rules.flatMap((r) => {
      const mine = cases.filter((c) => c.alertname === r.alert);
      return [
        ...(mine.some((c) => (c.exp_alerts ?? []).length > 0) ? [] : [`${r.alert}: no case where it fires`]),
        ...(mine.some((c) => (c.exp_alerts ?? []).length === 0) ? [] : [`${r.alert}: no case where it stays quiet`]),
      ];
    });
    expect(missing).toEqual([]);
  });

  it("gives each input series as a selector and its values in promtool's expanding notation", () => {
    // `a+bxn`, `a-bxn`, `axn` (n more samples), a number, `_` (no sample) or `stale`, separated by spaces.
    const value = /^(?:-?\d+(?:\.\d+)?(?:[+-]\d+(?:\.\d+)?)?x\d+|-?\d+(?:\.\d+)?|_(?:x\d+)?|stale)$/;
    const bad = file.tests
      .flatMap((t) => t.input_series)
      .filter(
        (s) => !/^[a-z_:][a-z0-9_:]*(\{.*\})?$/i.test(s.series) || !s.values.split(" ").every((v) => value.test(v)),
      )
      .map((s) => s.series);
    expect(bad).toEqual([]);
  });

  it("expects an alert only where an input series of its case is one its rule selects, with the rule's labels", () => {
    const problems: string[] = [];
    for (const t of file.tests) {
      const series = t.input_series.flatMap((s) => parsePage(`${s.series} 0`));
      for (const c of t.alert_rule_test.filter((x) => (x.exp_alerts ?? []).length > 0)) {
        const rule = ruleOf(c.alertname);
        if (!rule) continue;
        const { selectors, groupBy } = selectorsOf(rule.expr);
        if (!series.some((s) => selectors.some((sel) => matches(s, sel))))
          problems.push(`${c.alertname} at ${c.eval_time}: no input series its rule selects`);
        for (const { exp_labels } of c.exp_alerts) {
          const labels = exp_labels as Record<string, string>;
          if (labels.severity !== rule.labels?.severity)
            problems.push(
              `${c.alertname} at ${c.eval_time}: severity ${labels.severity}, the rule's ${rule.labels?.severity}`,
            );
          // An aggregation keeps its `by` labels only (histogram_quantile then drops `le`): any other expected label
          // could never be on the alert.
          const by = groupBy.filter((l) => l !== "le").sort();
          const kept = Object.keys(labels).filter((l) => !(l in (rule.labels ?? {})));
          if (by.length > 0 && kept.sort().join() !== by.join())
            problems.push(`${c.alertname} at ${c.eval_time}: labels ${kept.join()}, the rule keeps ${by.join()}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });
});
