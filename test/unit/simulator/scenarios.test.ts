import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SCENARIOS, scenarioFor } from "../../../src/simulator/scenarios";

/** docs/simulator.md's "Simulator scenarios" table, as SCENARIOS defines it (only this test needs it). */
function scenarioTableMarkdown(): string {
  const rows = SCENARIOS.map(
    (s) =>
      `| ${s.suffix === null ? "anything else" : `\`…${s.suffix}\``} | \`${s.name}\` | ${s.behaviour} | ${s.result} |`,
  );
  return ["| last 3 digits | scenario | the simulator answers | you get |", "|---|---|---|---|", ...rows].join("\n");
}

describe("simulator scenarios", () => {
  it("are picked by the last three digits, defaulting to success", () => {
    expect(scenarioFor("9876543401").name).toBe("unauthorized");
    expect(scenarioFor("102277504").name).toBe("no-answer");
    expect(scenarioFor("102277100").name).toBe("success");
    expect(scenarioFor("1").name).toBe("success");
  });

  it("have unique triggers", () => {
    const suffixes = SCENARIOS.map((s) => s.suffix).filter(Boolean);
    expect(new Set(suffixes).size).toBe(suffixes.length);
  });

  it("are documented in docs/simulator.md exactly as the code defines them", () => {
    const page = readFileSync(join(__dirname, "../../../docs/simulator.md"), "utf8");
    const table = scenarioTableMarkdown();
    if (!page.includes(table)) {
      throw new Error(`docs/simulator.md's simulator table is out of date. Replace it with:\n\n${table}\n`);
    }
  });
});
