import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
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

  // README.md's quick start: npm start, npm run dev and npm test stop at once on an old Node. The refusal above is
  // only worth it if each script runs it first; the server run directly refuses on its own (config-process.test.ts).
  const ROOT = path.join(__dirname, "../../..");
  const OLD_NODE = path.join(ROOT, "test/fixtures/preload/node-version.cjs");

  it.each([
    ["npm start (prestart)", "scripts/build-if-stale.js"],
    ["npm run dev", "scripts/dev.js"],
  ])("%s: on Node 20 %s stops at once, exit 1, saying what to install", (_script, file) => {
    const run = spawnSync(process.execPath, [`--require=${OLD_NODE}`, path.join(ROOT, file)], {
      cwd: ROOT,
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "", FAKE_NODE_VERSION: "20.20.2" },
      timeout: 30_000,
    });
    expect({ status: run.status, stdout: run.stdout }).toEqual({ status: 1, stdout: "" });
    // One line: no stack trace under it (dev.js checks before it runs build-if-stale.js for that reason).
    expect(run.stderr.trimEnd().split("\n")).toEqual([
      expect.stringMatching(/^This is Node\.js 20\.20\.2; aopay-graphql needs Node\.js 24 .*nvm install/),
    ]);
  });

  it("package.json: npm start and npm run dev run those scripts, npm test the check first", () => {
    const { scripts } = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    expect(scripts.prestart).toBe("node scripts/build-if-stale.js");
    expect(scripts.dev).toBe("exec node scripts/dev.js");
    expect(scripts.test).toMatch(/^node scripts\/check-node\.js --tests && /);
  });
});
