// @ts-check
"use strict";
/**
 * Child processes of the benchmark, and what /proc says about them.
 *
 * Every child is started with `spawn(process.execPath, ...)`, so the pid we hold is the Node process itself (no shell
 * or npm in between) and /proc/<pid> describes exactly the system under test. Its stdout and stderr go straight to a
 * log file (the bench process never reads them on the hot path); readiness is found by polling that file for the
 * JSON "ready" line. Every child is registered so that `killAll()` can end them on exit, error or Ctrl-C.
 */
const { spawn, execFileSync } = require("node:child_process");
const fs = require("node:fs");

/** @type {Set<import("node:child_process").ChildProcess>} */
const children = new Set();

/** The guard that kills registered children if this process dies without cleaning up (lib/reaper.js). */
/** @type {import("node:child_process").ChildProcess | undefined} */
let reaper;
function tellReaper(/** @type {{ add?: number, remove?: number }} */ msg) {
  if (!reaper) {
    reaper = spawn(process.execPath, [require.resolve("./reaper")], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
    reaper.unref();
    reaper.channel?.unref();
  }
  if (reaper.connected) reaper.send(msg);
}

/** Kernel clock ticks per second for utime/stime in /proc/<pid>/stat (`getconf CLK_TCK`, 100 on Linux). */
const CLK_TCK = (() => {
  try {
    const n = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
})();

/**
 * CPU time the process has used so far, user + system, in microseconds, from /proc/<pid>/stat fields 14 (utime)
 * and 15 (stime). They count clock ticks (1 tick = 1e6 / CLK_TCK µs, 10 ms at CLK_TCK=100) and include every thread
 * of the process (V8's GC and compiler threads, libuv's pool).
 */
function cpuMicros(/** @type {number} */ pid) {
  return ticksToMicros(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
}

/**
 * CPU time of the process's main thread alone (the thread whose id is the pid: Node's event loop, where every
 * request's JavaScript runs), in microseconds, from /proc/<pid>/task/<pid>/stat. What the process's total has beyond
 * it is V8's background threads (concurrent and parallel GC, the optimising compilers) and libuv's pool.
 */
function mainThreadCpuMicros(/** @type {number} */ pid) {
  return ticksToMicros(fs.readFileSync(`/proc/${pid}/task/${pid}/stat`, "utf8"));
}

function ticksToMicros(/** @type {string} */ stat) {
  // The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1e6) / CLK_TCK;
}

/** VmRSS (current) and VmHWM (peak since the process started) from /proc/<pid>/status, in bytes. */
function memory(/** @type {number} */ pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (/** @type {string} */ key) => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status);
    return m ? Number(m[1]) * 1024 : 0;
  };
  return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
}

/**
 * CPU time the whole machine has been busy (all cores, everything but idle and iowait) in microseconds, from the
 * first line of /proc/stat (clock ticks, like /proc/<pid>/stat).
 */
function machineBusyMicros() {
  const fields = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already inside user.
  const [user, nice, system, , , irq, softirq, steal] = fields;
  return ((user + nice + system + irq + softirq + (steal ?? 0)) * 1e6) / CLK_TCK;
}

/**
 * CPU time (µs) and command name of every process on the machine now, by pid: to name what else kept the machine
 * busy. The name is kept because short-lived processes (test workers, compilers) may be gone by the time we look.
 */
function allProcessesCpu() {
  /** @type {Map<number, { us: number, comm: string }>} */
  const out = new Map();
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      out.set(Number(name), { us: ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLK_TCK, comm });
    } catch {
      // ended meanwhile
    }
  }
  return out;
}

/**
 * The processes outside `exclude` that used the most CPU between two `allProcessesCpu()` snapshots, with the cores
 * they kept busy over `seconds` and their command line (shortened; the command name if the process has ended).
 * Processes that started and ended between the snapshots are not seen.
 * @param {ReturnType<typeof allProcessesCpu>} before @param {ReturnType<typeof allProcessesCpu>} after
 * @param {Set<number>} exclude @param {number} seconds
 */
function topOthers(before, after, exclude, seconds, count = 3) {
  /** @type {{ pid: number, cores: number, command: string }[]} */
  const rows = [];
  for (const [pid, t] of after) {
    if (exclude.has(pid)) continue;
    const used = t.us - (before.get(pid)?.us ?? 0);
    if (used > 0) rows.push({ pid, cores: used / 1e6 / seconds, command: t.comm });
  }
  rows.sort((a, b) => b.cores - a.cores);
  const top = rows.slice(0, count);
  for (const row of top) {
    try {
      const cmd = fs.readFileSync(`/proc/${row.pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
      if (cmd) row.command = cmd.replace(/\s+/g, " ").slice(0, 80);
    } catch {
      row.command = `${row.command} (ended)`;
    }
  }
  return top;
}

/**
 * System-wide TCP counters from /proc/net/netstat that tell of connection trouble: accept-queue overflows
 * (ListenOverflows, ListenDrops) and SYN retransmissions, plus the sockets now in TIME_WAIT. They count every
 * process on the machine.
 */
function tcpCounters() {
  try {
    const lines = fs
      .readFileSync("/proc/net/netstat", "utf8")
      .split("\n")
      .filter((l) => l.startsWith("TcpExt:"));
    const names = lines[0].split(/\s+/);
    const values = lines[1].split(/\s+/).map(Number);
    const get = (/** @type {string} */ n) => values[names.indexOf(n)] ?? NaN;
    // Sockets in TIME_WAIT (/proc/net/sockstat "tw"): each one holds an ephemeral port for 60 s, and a connect() has
    // to search past them, so a run that opens a connection per request leaves the next run more expensive connects.
    const tw = Number(/\btw (\d+)/.exec(fs.readFileSync("/proc/net/sockstat", "utf8"))?.[1] ?? NaN);
    return {
      listenOverflows: get("ListenOverflows"),
      listenDrops: get("ListenDrops"),
      synRetrans: get("TCPSynRetrans"),
      timeWait: tw,
    };
  } catch {
    return { listenOverflows: NaN, listenDrops: NaN, synRetrans: NaN, timeWait: NaN };
  }
}

/** The soft limit on open files of this process (children inherit it). */
function openFilesLimit() {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(fs.readFileSync("/proc/self/limits", "utf8"));
    return m ? (m[1] === "unlimited" ? Infinity : Number(m[1])) : NaN;
  } catch {
    return NaN;
  }
}

/**
 * @typedef {object} Started
 * @property {string} name
 * @property {number} pid
 * @property {string} url         what the ready line announced
 * @property {string} logFile
 * @property {import("node:child_process").ChildProcess} child
 * @property {Promise<number | null>} exited
 * @property {() => Promise<void>} stop  SIGTERM, then SIGKILL after a grace period
 */

/**
 * Starts `node <script>` with `env` (nothing inherited but PATH and HOME), stdout+stderr to `logFile`, and waits for a
 * line matching `readyPattern` (its first group is the URL).
 * `command` replaces node (bench/callgrind.js starts valgrind).
 * @param {{ name: string, args: string[], env: Record<string, string>, logFile: string, readyPattern: RegExp,
 *   ipc?: boolean, cwd?: string, timeoutMs?: number, command?: string }} opts
 * @returns {Promise<Started>}
 */
async function startChild(opts) {
  const fd = fs.openSync(opts.logFile, "w");
  const child = spawn(opts.command ?? process.execPath, opts.args, {
    cwd: opts.cwd,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...opts.env },
    stdio: ["ignore", fd, fd, ...(opts.ipc ? /** @type {const} */ (["ipc"]) : [])],
    // "advanced" (structured clone) carries typed arrays: the fake upstream's list of destinations.
    ...(opts.ipc ? { serialization: /** @type {const} */ ("advanced") } : {}),
  });
  fs.closeSync(fd);
  if (child.pid === undefined) throw new Error(`${opts.name}: could not start`);
  const pid = child.pid;
  children.add(child);
  tellReaper({ add: pid });
  const exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  void exited.then(() => {
    children.delete(child);
    tellReaper({ remove: pid });
  });

  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let exitCode = /** @type {number | null | undefined} */ (undefined);
  void exited.then((c) => (exitCode = c));
  for (;;) {
    const text = fs.readFileSync(opts.logFile, "utf8");
    const m = opts.readyPattern.exec(text);
    if (m) {
      return {
        name: opts.name,
        pid,
        url: m[1],
        logFile: opts.logFile,
        child,
        exited,
        stop: () => stopChild(child, exited),
      };
    }
    if (exitCode !== undefined)
      throw new Error(
        `${opts.name} exited with ${exitCode} before it was ready; log ${opts.logFile}:\n${text.slice(-2000)}`,
      );
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(
        `${opts.name} was not ready within ${opts.timeoutMs ?? 30_000} ms; log ${opts.logFile}:\n${text.slice(-2000)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** SIGTERM (a graceful stop), SIGKILL after `graceMs`. */
async function stopChild(
  /** @type {import("node:child_process").ChildProcess} */ child,
  /** @type {Promise<unknown>} */ exited,
  graceMs = 5000,
) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Kills every child still running (synchronous, so it also works from an 'exit' handler), then the guard. */
function killAll() {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
  }
  if (reaper && reaper.exitCode === null) {
    try {
      reaper.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** Samples VmRSS every `intervalMs` while running; `stop()` returns the peak sampled RSS in bytes. */
function rssSampler(/** @type {number} */ pid, intervalMs = 100) {
  let peak = 0;
  const sample = () => {
    try {
      peak = Math.max(peak, memory(pid).rss);
    } catch {
      // the process is gone
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}

/** Sends `{cmd}` over the child's IPC channel and resolves with its answer of the same id. */
function ask(
  /** @type {import("node:child_process").ChildProcess} */ child,
  /** @type {string} */ cmd,
  timeoutMs = 5000,
) {
  const id = Math.random().toString(36).slice(2);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off("message", onMessage);
      reject(new Error(`no answer to ${cmd}`));
    }, timeoutMs);
    const onMessage = (/** @type {any} */ msg) => {
      if (msg?.id !== id) return;
      clearTimeout(timer);
      child.off("message", onMessage);
      resolve(msg);
    };
    child.on("message", onMessage);
    child.send({ cmd, id });
  });
}

module.exports = {
  mainThreadCpuMicros,
  CLK_TCK,
  cpuMicros,
  machineBusyMicros,
  allProcessesCpu,
  topOthers,
  memory,
  tcpCounters,
  openFilesLimit,
  startChild,
  killAll,
  rssSampler,
  ask,
};
