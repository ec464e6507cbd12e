import { readdirSync, readFileSync } from "node:fs";
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

  it("are named by their triggers where the example app and its pages point to them", () => {
    const root = join(__dirname, "../../../");
    const web = join(root, "examples/web/src");
    // "Simulator: ending 207 rejected, 401 unauthorized, ..." (the forms' hints) and "`…207` rejected" (the pages).
    const named: { where: string; suffix: string; words: string }[] = [];
    for (const file of readdirSync(web).filter((name) => name.endsWith(".tsx"))) {
      for (const hint of readFileSync(join(web, file), "utf8").matchAll(/Simulator: ending ([^"]+)"/g)) {
        for (const [, suffix, words] of hint[1].matchAll(/([0-9]{3}) ([a-z ]+)/g)) {
          named.push({ where: file, suffix, words: words.trim() });
        }
      }
    }
    for (const page of ["docs/clients.md", "examples/web/README.md", "README.md"]) {
      for (const [, suffix, words] of readFileSync(join(root, page), "utf8").matchAll(/`…([0-9]{3})` ([a-z]+)/g)) {
        named.push({ where: page, suffix, words });
      }
    }
    expect(named.length).toBeGreaterThanOrEqual(8);
    // A scenario is named by the start of its name: "unavailable" (unavailable-retry-after), "no answer" (no-answer).
    const wrong = named.filter(
      ({ suffix, words }) => !scenarioFor(`102277${suffix}`).name.startsWith(words.replace(/ /g, "-")),
    );
    expect(wrong).toEqual([]);
  });
});
