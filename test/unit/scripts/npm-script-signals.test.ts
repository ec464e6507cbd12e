import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const ROOT = join(__dirname, "../../..");

/**
 * The package.json scripts that run until stopped, or for minutes: a supervisor, an IDE's task runner or a developer
 * stops them by signalling the npm process they started. npm runs a script through `sh -c` and forwards SIGTERM to
 * that shell; dash, Debian's sh, does not pass it on, so without the script's `exec` the shell died and the process
 * under it went on (`npm run dev` left its server on the port, tsc --watch and scripts/dev.js running).
 */
const LONG_RUNNING = [
  "start",
  "dev",
  "simulator",
  "example:web",
  "soak",
  "soak:memory",
  "bench",
  "bench:callgrind",
  "bench:syscalls",
  "jest",
];

/**
 * Stands in for `node` and `vite` under the scripts: records its pid, and on SIGTERM records that it got it and exits.
 * `npm run build` inside a script is npm itself (`#!/usr/bin/env node`), so that goes to the real node.
 */
const FAKE = `#!/bin/sh
case "$(basename "$1")" in npm|npm-cli.js) exec "${process.execPath}" "$@";; esac
echo $$ > "$FAKE_DIR/pid"
trap 'echo TERM > "$FAKE_DIR/signalled"; exit 0' TERM
while :; do sleep 0.05; done
`;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

describe("npm scripts that run until stopped pass npm's SIGTERM to the process they run", () => {
  const scripts = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> })
    .scripts;
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "npm-script-signals-"));
    const bin = join(dir, "node_modules/.bin");
    mkdirSync(bin, { recursive: true });
    for (const name of ["node", "vite"]) {
      writeFileSync(join(bin, name), FAKE);
      chmodSync(join(bin, name), 0o755);
    }
    // The scripts as package.json writes them; `build` (run first by some) compiles nothing here.
    const copied = Object.fromEntries(LONG_RUNNING.map((name) => [name, scripts[name]]));
    writeFileSync(
      join(dir, "package.json"),
      JSON.stringify({ name: "npm-script-signals", private: true, scripts: { ...copied, build: "true" } }),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(LONG_RUNNING)("npm run %s", async (name) => {
    expect(scripts[name]).toBeDefined();
    const fakeDir = mkdtempSync(join(dir, "run-"));
    const npm = spawn("npm", ["run", name, "--silent"], {
      cwd: dir,
      env: { PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ""}`, HOME: dir, FAKE_DIR: fakeDir },
      stdio: "ignore",
    });
    const npmExited = new Promise<void>((resolve) => npm.on("exit", () => resolve()));
    let pid = 0;
    try {
      expect(await waitFor(() => existsSync(join(fakeDir, "pid")), 15_000)).toBe(true);
      pid = Number(readFileSync(join(fakeDir, "pid"), "utf8"));
      npm.kill("SIGTERM");
      await npmExited;
      // The process under the script got the signal and is gone: not left running, orphaned, after npm. An orphan
      // runs until killed, so the wait only has to outlast a busy machine: 3 s missed once under CI's full run
      // (two jest workers on 2 cores), the process exiting later; 10 s.
      expect(await waitFor(() => existsSync(join(fakeDir, "signalled")) && !isAlive(pid), 10_000)).toBe(true);
    } finally {
      if (pid && isAlive(pid)) process.kill(pid, "SIGKILL");
      if (npm.exitCode === null && npm.signalCode === null) npm.kill("SIGKILL");
    }
  });
});
