import { spawnSync } from "node:child_process";
import { join } from "node:path";

/**
 * Prometheus' own checks of the shipped rules (deploy/prometheus/alerts.yml): its syntax (`promtool check rules`) and
 * its unit tests on series shaped as our metrics page (`promtool test rules deploy/prometheus/alerts.test.yml`).
 * Skipped where promtool is not installed (Debian's `prometheus` package has it): CI does not depend on it;
 * test/e2e/alert-rules.test.ts checks the rules against the real server everywhere.
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
