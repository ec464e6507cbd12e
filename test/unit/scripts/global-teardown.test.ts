import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Started } from "../../helpers/started";

const ROOT = join(__dirname, "../../..");
/** Inside the repository (ignored by git), so the nested runs resolve this project's helpers and ts-jest. */
const DIR = join(ROOT, "test-artifacts/global-teardown");

/** Whether `pid` runs (a zombie does not: this machine's init may never reap what the nested runs leave). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** The nested run's marker and pids go through files: the cases below read them after the run has ended. */
interface Run {
  status: number | null;
  output: string;
  ms: number;
  pids: number[];
}

/**
 * Runs Jest on one suite, in band as on a 2-core CI machine, with this project's globalSetup marker and
 * globalTeardown, and without this run's marker (the nested teardown must not see this run's processes).
 */
function nestedJest(name: string, suite: string, env: Record<string, string> = {}): Run {
  const dir = join(DIR, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "case.test.ts"), suite);
  writeFileSync(
    join(dir, "jest.config.js"),
    `module.exports = ${JSON.stringify({
      rootDir: dir,
      testEnvironment: "node",
      testMatch: ["**/case.test.ts"],
      globalSetup: join(ROOT, "test/global-setup.js"),
      globalTeardown: join(ROOT, "test/global-teardown.js"),
      transform: { "^.+\\.tsx?$": ["ts-jest", { tsconfig: join(ROOT, "tsconfig.json") }] },
    })};`,
  );
  const { JEST_RUN_MARKER: _ours, ...outer } = process.env;
  const started = Date.now();
  const run = spawnSync(
    process.execPath,
    [join(ROOT, "node_modules/jest/bin/jest.js"), "--config", join(dir, "jest.config.js"), "--runInBand"],
    { cwd: ROOT, encoding: "utf8", env: { ...outer, ...env }, timeout: 60_000 },
  );
  const pidFile = join(dir, "pids");
  return {
    status: run.status,
    output: run.stdout + run.stderr,
    ms: Date.now() - started,
    pids: existsSync(pidFile) ? readFileSync(pidFile, "utf8").trim().split("\n").map(Number) : [],
  };
}

/** A suite line that starts `sleep <seconds>` and writes its pid where nestedJest reads it. */
const SPAWN_SLEEP = (seconds: number) => `
  const child = require("node:child_process").spawn("sleep", ["${seconds}"], { stdio: "ignore" });
  require("node:fs").appendFileSync(${JSON.stringify("PIDS")}, child.pid + "\\n");
`;

/**
 * CI once ran for its whole 90 minutes and failed without a result: the browser suite's beforeAll timed out, Jest ran
 * its afterAll (nothing to close yet) while the set-up went on and launched Chromium, which then kept Jest from ever
 * exiting. test/global-teardown.js now fails such a run in seconds, naming what was left; test/helpers/started.ts
 * makes a timed-out set-up close what it starts late.
 */
describe("test/global-teardown.js and test/helpers/started.ts", () => {
  afterAll(() => rmSync(DIR, { recursive: true, force: true }));
  const pidsFile = (name: string) => join(DIR, name, "pids");

  it("a clean run exits 0 at once", () => {
    const run = nestedJest("clean", `it("adds", () => { expect(1 + 1).toBe(2); });`);
    expect(run.status).toBe(0);
    expect(run.output).not.toMatch(/outlived|still running/);
    expect(run.ms).toBeLessThan(20_000);
  });

  it.each([
    ["a child process", false],
    ["an orphaned, detached process (found by the run's marker)", true],
  ])("%s left running fails the run, named, and is killed", (_what, detached) => {
    const name = detached ? "orphan" : "child";
    const spawnLine = detached
      ? // A shell that starts sleep in the background and exits: sleep's parent is then init, not Jest.
        `const sh = require("node:child_process").spawnSync("sh", ["-c", "sleep 1001 >/dev/null 2>&1 & echo $!"], {
           encoding: "utf8",
         });
         require("node:fs").appendFileSync(${JSON.stringify(pidsFile(name))}, sh.stdout.trim() + "\\n");`
      : SPAWN_SLEEP(1000).replace('"PIDS"', JSON.stringify(pidsFile(name)));
    const run = nestedJest(name, `it("leaves a process", () => { ${spawnLine} expect(1).toBe(1); });`);
    expect(run.status).toBe(1);
    expect(run.output).toContain("1 process(es) outlived the suites that started them");
    expect(run.output).toMatch(new RegExp(`${run.pids[0]}: sleep 100[01]`));
    expect(run.ms).toBeLessThan(20_000);
    expect(run.pids).toHaveLength(1);
    expect(running(run.pids[0])).toBe(false);
  });

  it("a server left listening in Jest's own process fails the run once the grace is over, instead of a hang", () => {
    const run = nestedJest(
      "listening",
      `it("listens", async () => {
         await new Promise<void>((resolve) => require("node:http").createServer().listen(0, "127.0.0.1", resolve));
       });`,
      { JEST_EXIT_GRACE_MS: "1500" },
    );
    expect(run.status).toBe(1);
    expect(run.output).toContain("Jest is still running 1.5 s after the last suite: a suite left a handle open");
    expect(run.ms).toBeLessThan(20_000);
  });

  it.each([
    ["without Started, what a timed-out beforeAll starts late outlives the run", false],
    ["with Started, it is closed as it comes up, and the run ends on the hook's timeout alone", true],
  ])("%s", (_what, withStarted) => {
    const name = withStarted ? "late-kept" : "late-lost";
    const spawn = SPAWN_SLEEP(1002).replace('"PIDS"', JSON.stringify(pidsFile(name)));
    const run = nestedJest(
      name,
      `import { Started } from ${JSON.stringify(join(ROOT, "test/helpers/started"))};
       const started = new Started();
       let child: import("node:child_process").ChildProcess | undefined;
       describe("a set-up that takes longer than its hook may", () => {
         beforeAll(async () => {
           await new Promise((resolve) => setTimeout(resolve, 600));
           const late = (async () => { ${spawn} return child; })();
           child = ${withStarted} ? await started.keep(late, (c) => { c.kill("SIGKILL"); }) : await late;
         }, 300);
         afterAll(async () => { await started.closeAll(); child?.kill("SIGKILL"); });
         it("runs", () => { expect(child).toBeDefined(); });
       });
       // The rest of the run goes on meanwhile (in CI, a hundred suites), so the late start happens within it.
       it("a later suite", async () => { await new Promise((resolve) => setTimeout(resolve, 1500)); });`,
    );
    expect(run.status).toBe(1);
    expect(run.output).toContain("Exceeded timeout of 300 ms for a hook");
    expect(run.pids).toHaveLength(1);
    if (withStarted) expect(run.output).not.toContain("outlived");
    else expect(run.output).toMatch(new RegExp(`1 process\\(es\\) outlived[^]*${run.pids[0]}: sleep 1002`));
    expect(running(run.pids[0])).toBe(false);
    expect(run.ms).toBeLessThan(20_000);
  });

  describe("Started", () => {
    it("closes what it kept, latest first, each even when an earlier close failed; aborts its signal", async () => {
      const started = new Started();
      const closed: string[] = [];
      await started.keep("a", (v) => closed.push(v));
      await started.keep(Promise.resolve("b"), () => {
        closed.push("b");
        throw new Error("b would not close");
      });
      await started.keep("c", (v) => closed.push(v));
      expect(started.signal.aborted).toBe(false);
      await expect(started.closeAll()).rejects.toThrow("b would not close");
      expect(closed).toEqual(["c", "b", "a"]);
      expect(started.signal.aborted).toBe(true);
    });

    it("once closed, closes what comes up at once and stops the set-up", async () => {
      const started = new Started();
      await started.closeAll();
      const closed: string[] = [];
      await expect(started.keep("late", (v) => closed.push(v))).rejects.toThrow(/torn down before its set-up/);
      expect(closed).toEqual(["late"]);
    });
  });
});
