import { spawnSync } from "node:child_process";
import path from "node:path";

// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS script, run before any build
const { refusal } = require("../../../scripts/check-node.js") as {
  refusal: (what: "server" | "tests", version: string) => string | null;
};

/**
 * A newcomer on the machine's Node 20 saw `npm start` serve without a word and `npm test` fail late on a dependency's
 * ES module error: npm start, npm run dev and npm test now stop first, saying what to install (scripts/check-node.js).
 */
describe("scripts/check-node.js", () => {
  it.each([
    ["server", "20.20.2", false],
    ["server", "22.14.0", false],
    ["server", "22.15.0", true],
    ["server", "23.1.0", true],
    ["server", "24.22.3", true],
    ["tests", "22.15.0", false],
    ["tests", "23.11.1", false],
    ["tests", "24.0.0", true],
    ["tests", "26.1.0", true],
  ] as const)("%s on Node %s: allowed %s", (what, version, allowed) => {
    const message = refusal(what, version);
    if (allowed) expect(message).toBeNull();
    else
      expect(message).toMatch(
        new RegExp(`^This is Node.js ${version.replaceAll(".", "\\.")}; .*needs Node.js 24.*nvm install`),
      );
  });

  it("as a command, exits 0 on this Node (24) and says nothing", () => {
    const run = spawnSync(process.execPath, [path.join(__dirname, "../../../scripts/check-node.js"), "--tests"], {
      encoding: "utf8",
    });
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: "" });
  });
});
