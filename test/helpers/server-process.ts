import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";

/** dist-test/ is compiled from src/ by test/global-setup.js before any suite runs. */
const ENTRY = join(__dirname, "../../dist-test/index.js");

export interface ServerProcess {
  child: ChildProcess;
  /** Resolves with the base URL (http://127.0.0.1:NNNN) once the server logs that it is ready. */
  ready: Promise<string>;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** What it wrote to stdout alone (the JSON log) / to stderr alone. */
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
  /**
   * Resolves once the output holds `text` (at once if it does already); rejects if the process exits first. An event
   * to wait for, where a fixed sleep guesses how long a busy machine takes.
   */
  printed(text: string): Promise<void>;
  /** SIGKILL unless already gone; resolves when it has exited. */
  kill(): Promise<void>;
}

/** Whether a process with this pid exists (signal 0 checks without sending anything). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface SpawnOptions {
  /**
   * A process group of its own (the process leads it, its pid the group's id), so that a test can signal the group as
   * a terminal's Ctrl-C or a supervisor does: `process.kill(-child.pid, signal)`.
   */
  detached?: boolean;
}

/**
 * Runs `node dist-test/index.js` (what `npm start` runs) with only the given environment (plus PATH), on loopback with
 * ephemeral ports unless `env` says otherwise.
 */
export function startServerProcess(env: Record<string, string>, options: SpawnOptions = {}): ServerProcess {
  return spawnServerProcess({ PORT: "0", HOST: "127.0.0.1", METRICS_PORT: "0", ...env }, [], options);
}

/**
 * Runs `node <nodeArgs> dist-test/index.js` with exactly `env` (plus PATH), nothing defaulted: for tests of how the
 * process reads its configuration (test/e2e/config-process.test.ts: `--env-file`, ports and hosts of its own).
 */
export function spawnServerProcess(
  env: Record<string, string>,
  nodeArgs: string[] = [],
  options: SpawnOptions = {},
): ServerProcess {
  // TEST_SERVER_NODE_OPTIONS (unset in CI) reaches the server as NODE_OPTIONS unless the test sets its own: how a
  // timing test is checked against a stalled server (test/fixtures/preload/stall-loop.cjs).
  const extra = process.env.TEST_SERVER_NODE_OPTIONS ? { NODE_OPTIONS: process.env.TEST_SERVER_NODE_OPTIONS } : {};
  const child = spawn(process.execPath, [...nodeArgs, ENTRY], {
    env: { PATH: process.env.PATH ?? "", ...extra, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: options.detached === true,
  });
  let output = "";
  let stdout = "";
  let stderr = "";
  const waiting = new Set<() => void>();
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const ready = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      for (const check of waiting) check();
      const m = /"url":"(http:\/\/[^"]+)\/graphql"[^\n]*"GraphQL server ready"/.exec(output);
      if (m) resolve(m[1]);
    };
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      onData(chunk);
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      onData(chunk);
    });
    void exited.then((code) => reject(new Error(`exited with ${code} before ready:\n${output}`)));
  });
  ready.catch(() => undefined);
  return {
    child,
    ready,
    output: () => output,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    printed(text) {
      return new Promise<void>((resolve, reject) => {
        const check = () => output.includes(text) && (waiting.delete(check), resolve());
        waiting.add(check);
        check();
        void exited.then((code) => {
          waiting.delete(check);
          reject(new Error(`exited with ${code} before printing ${JSON.stringify(text)}:\n${output}`));
        });
      });
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}
