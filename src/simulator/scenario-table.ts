import { SCENARIOS } from "./scenarios";

/** docs/simulator.md's "Simulator scenarios" table, generated from SCENARIOS (test/unit/simulator/scenarios.test.ts keeps them equal). */
export function scenarioTableMarkdown(): string {
  const rows = SCENARIOS.map(
    (s) => `| ${s.suffix === null ? "anything else" : `\`…${s.suffix}\``} | \`${s.name}\` | ${s.behaviour} | ${s.result} |`,
  );
  return ["| last 3 digits | scenario | the simulator answers | you get |", "|---|---|---|---|", ...rows].join("\n");
}
