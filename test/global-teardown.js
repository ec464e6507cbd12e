// @ts-check
"use strict";
/**
 * Jest globalTeardown: no process a suite started may outlive the run. A child left running (a server, Redis, the
 * browser whose launch finished after its suite's beforeAll had timed out and its afterAll had found nothing to close)
 * keeps Jest's process alive after the last result: CI then waits for its own time limit (90 minutes) instead of
 * failing in seconds. This finds such processes, kills them and fails the run naming them (pid and command, which hold
 * no PII: the suites pass identifiers in environments and bodies, never in arguments).
 *
 * Found two ways, so both Jest's modes are covered: descendants of this process (on 2 cores Jest runs the suites in
 * band, in this very process), and processes carrying the run's marker in their environment (set by
 * test/global-setup.js; inherited by workers and by anything they spawn with process.env, even once orphaned).
 * Linux only (/proc); elsewhere it does nothing.
 */
const fs = require("node:fs");

const MARKER = "JEST_RUN_MARKER";

/** @returns {{ pid: number, ppid: number, state: string }[]} */
function processes() {
  /** @type {{ pid: number, ppid: number, state: string }[]} */
  const all = [];
  for (const name of fs.readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
      // pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after the last ")".
      const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      all.push({ pid: Number(name), ppid: Number(ppid), state });
    } catch {
      // Gone between readdir and read.
    }
  }
  return all;
}

/** @param {number} pid */
function read(pid, file) {
  try {
    return fs.readFileSync(`/proc/${pid}/${file}`, "utf8");
  } catch {
    return "";
  }
}

/** Processes this run started that are still alive, except Jest's own workers. */
function leftovers(runId) {
  const all = processes().filter((p) => p.state !== "Z" && p.pid !== process.pid);
  const children = new Map();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  const found = new Set();
  const queue = [...(children.get(process.pid) ?? [])];
  while (queue.length > 0) {
    const pid = queue.shift();
    if (found.has(pid)) continue;
    found.add(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  if (runId) {
    for (const p of all) if (read(p.pid, "environ").split("\0").includes(`${MARKER}=${runId}`)) found.add(p.pid);
  }
  return [...found]
    .map((pid) => ({ pid, command: read(pid, "cmdline").split("\0").join(" ").trim() }))
    .filter((p) => p.command !== "" && !/jest-worker|processChild\.js/.test(p.command));
}

/**
 * How long Jest may take to exit after this teardown before the run fails: its own work after the last suite takes
 * well under a second, and keep-alive sockets a suite left idle close within undici's 4 s (its default). Default
 * 30 s; JEST_EXIT_GRACE_MS shortens it for test/unit/scripts/global-teardown.test.ts.
 */
const EXIT_GRACE_MS = Number(process.env.JEST_EXIT_GRACE_MS ?? 30_000);

module.exports = async function globalTeardown() {
  // A handle left open inside this process (a server listening, a socket, an interval) is not a process to find:
  // Jest then prints "did not exit one second after the test run" and waits for ever. Fail the run instead, once
  // the grace is over; unref'd, so a clean exit does not wait for it.
  setTimeout(() => {
    process.stderr.write(
      `Jest is still running ${EXIT_GRACE_MS / 1000} s after the last suite: a suite left a handle open (a server, ` +
        "socket or timer; `npm run jest -- --detectOpenHandles <suite>` names it). Failing the run.\n",
    );
    process.exit(1);
  }, EXIT_GRACE_MS).unref();
  if (!fs.existsSync("/proc/self/stat")) return;
  const leaked = leftovers(process.env[MARKER]);
  if (leaked.length === 0) return;
  for (const { pid } of leaked) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  const list = leaked.map(({ pid, command }) => `  ${pid}: ${command.slice(0, 200)}`).join("\n");
  throw new Error(
    `${leaked.length} process(es) outlived the suites that started them (killed now, so Jest can exit):\n${list}\n` +
      "A suite's afterAll must stop what its beforeAll started, also when the beforeAll timed out and went on.",
  );
};
