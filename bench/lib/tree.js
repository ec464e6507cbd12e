// @ts-check
"use strict";
/**
 * A system under test as a process tree: its pid and every descendant (a server that forks workers, e.g. with
 * `WEB_CONCURRENCY`, is all of them). CPU time and memory are summed over the tree; "serving processes" are the
 * processes of the tree that hold an established TCP connection on the server's port, which tells, without any help
 * from the server, how many processes actually answer clients (a cluster primary hands accepted sockets to its
 * workers and keeps none itself).
 */
const fs = require("node:fs");
const { cpuMicros, memory } = require("./proc");

/** `root` and all its descendants, found by the parent pid in /proc/<pid>/stat (field 4). */
function treeOf(/** @type {number} */ root) {
  /** @type {Map<number, number[]>} */
  const children = new Map();
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(name));
      children.set(ppid, list);
    } catch {
      // ended meanwhile
    }
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]) ?? []));
  return out;
}

/** CPU time of every pid (µs); a pid that has ended counts 0 (its time is lost with it; it is only read at edges). */
function cpuOf(/** @type {number[]} */ pids) {
  /** @type {Map<number, number>} */
  const out = new Map();
  for (const pid of pids) {
    try {
      out.set(pid, cpuMicros(pid));
    } catch {
      out.set(pid, 0);
    }
  }
  return out;
}

const total = (/** @type {Map<number, number>} */ m) => [...m.values()].reduce((a, b) => a + b, 0);

/** Resident memory of the whole tree now, and the sum of each process's peak (VmHWM), in bytes. */
function treeMemory(/** @type {number[]} */ pids) {
  let rss = 0;
  let hwm = 0;
  for (const pid of pids) {
    try {
      const m = memory(pid);
      rss += m.rss;
      hwm += m.hwm;
    } catch {
      // ended
    }
  }
  return { rss, hwm };
}

/** Inodes of the established TCP connections whose local port is `port` (/proc/net/tcp and tcp6, state 01). */
function establishedInodes(/** @type {number} */ port) {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  /** @type {Set<string>} */
  const inodes = new Set();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = fs.readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      if (f[1].endsWith(`:${hexPort}`) && f[3] === "01") inodes.add(f[9]);
    }
  }
  return inodes;
}

/**
 * The processes of `pids` that hold at least one established connection on `port` (the server's listening port),
 * with how many each holds.
 */
function servingProcesses(/** @type {number[]} */ pids, /** @type {number} */ port) {
  const inodes = establishedInodes(port);
  /** @type {{ pid: number, connections: number }[]} */
  const out = [];
  for (const pid of pids) {
    let n = 0;
    try {
      for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
        try {
          const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
          if (m && inodes.has(m[1])) n += 1;
        } catch {
          // closed meanwhile
        }
      }
    } catch {
      continue;
    }
    if (n > 0) out.push({ pid, connections: n });
  }
  return out;
}

module.exports = { treeOf, cpuOf, total, treeMemory, servingProcesses };
