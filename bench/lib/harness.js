// @ts-check
"use strict";
/**
 * One measured run of one system: start it fresh, drive it, stop it, and account for it.
 *
 * - `withSystem` starts the system (a child process, see lib/proc.js) after resetting the fake upstream's counters,
 *   samples its memory, runs the load, stops it, then checks at the upstream that every correct answer reached it
 *   exactly once (lib/hits.js), deletes the run's Redis keys, and counts warn/error lines in the system's log.
 * - `withSystems` does the same for several systems up at once (the paired unloaded latency).
 * - `cpuWindow` takes the CPU snapshots at a measured window's edges: the system's process tree (lib/tree.js), the
 *   fake upstream, this process (the load generator), the whole machine and every other process (to name what else
 *   kept the machine busy).
 */
const fs = require("node:fs");
const path = require("node:path");
const {
  startChild,
  cpuMicros,
  machineBusyMicros,
  allProcessesCpu,
  topOthers,
  memory,
  ask,
  tcpCounters,
  mainThreadCpuMicros,
} = require("./proc");
const { treeOf, cpuOf, total, treeMemory } = require("./tree");
const { askHits } = require("./hits");
const { cpuCanaryMs } = require("./machine");
const { deletePrefix } = require("./redis");
const { ROOT } = require("./systems");

const RESULTS = path.join(__dirname, "../results");
const LOGS = path.join(RESULTS, "logs");
const PROFILES = path.join(RESULTS, "profiles");

/** @type {{ tag: string, ms: number }[]} CPU canary timings taken before each system start. */
const canaries = [];

/** CPU time of this process (the load generator), user + system, in µs. */
function selfCpuMicros() {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/**
 * @typedef {object} RunOptions
 * @property {Record<string, string>} [extraEnv]   e.g. the overload scenario's AOPAY_CONNECTIONS, WEB_CONCURRENCY
 * @property {boolean} [cpuProf]
 * @property {boolean} [keepLogs]
 * @property {string} redisUrl
 */

/**
 * One system started for a run: its process, the tree its memory is sampled over, and `stop()`, which returns the
 * peak RSS. The tree is found again at each window start (workers fork after the ready line).
 * @param {import("./systems").SystemDef} sys @param {import("./proc").Started} up
 * @param {string} tag  names the log file and the Redis prefix @param {RunOptions} o
 */
async function launch(sys, up, tag, o) {
  const canaryMs = cpuCanaryMs();
  canaries.push({ tag: `${sys.key}-${tag}`, ms: canaryMs });
  const logFile = path.join(LOGS, `${sys.key}-${tag}.log`);
  const profile =
    o.cpuProf && tag.startsWith("A-")
      ? ["--cpu-prof", `--cpu-prof-dir=${path.join(PROFILES, `${sys.key}-${tag}`)}`]
      : [];
  const runTag = `${tag}-${Date.now().toString(36)}`;
  const started = await startChild({
    name: sys.label,
    args: [...profile, ...sys.args],
    env: { ...sys.env({ upstreamUrl: up.url, runTag }), ...o.extraEnv },
    logFile,
    readyPattern: sys.ready,
    ipc: sys.ipc,
    cwd: ROOT,
  });
  const tree = { pids: [started.pid] };
  let peakRss = 0;
  const timer = setInterval(() => (peakRss = Math.max(peakRss, treeMemory(tree.pids).rss)), 100);
  return {
    sys,
    started,
    tree,
    runTag,
    logFile,
    canaryMs,
    async stop() {
      clearInterval(timer);
      peakRss = Math.max(peakRss, treeMemory(tree.pids).hwm);
      await started.stop();
      return peakRss;
    },
  };
}

/** @typedef {Awaited<ReturnType<typeof launch>>} Launched */

/**
 * After a run's process stopped: deletes its Redis keys and counts warn/error lines in its log (the log is removed
 * unless kept or telling). @param {Launched} run @param {RunOptions} o
 */
async function settle(run, o) {
  const { sys, runTag, logFile } = run;
  let redisKeysDeleted = 0;
  if (sys.redisPrefix || o.extraEnv?.REDIS_KEY_PREFIX) {
    redisKeysDeleted = await deletePrefix(
      o.redisUrl,
      o.extraEnv?.REDIS_KEY_PREFIX ?? /** @type {any} */ (sys.redisPrefix)(runTag),
    );
  }
  const text = fs.readFileSync(logFile, "utf8");
  const logWarnings = (text.match(/"level":"warn"/g) ?? []).length;
  const logErrors = (text.match(/"level":"(error|fatal)"/g) ?? []).length;
  // Our server logs "undocumented fields" at info when an answer has keys the docs do not show: never with fixtures.
  const undocumented = (text.match(/undocumented fields/g) ?? []).length;
  if (!o.keepLogs && logWarnings + logErrors + undocumented === 0) fs.rmSync(logFile, { force: true });
  return {
    logWarnings,
    logErrors,
    undocumented,
    canaryMs: run.canaryMs,
    redisKeysDeleted,
    logFile: path.relative(ROOT, logFile),
  };
}

/**
 * The upstream check since the last reset: every correct answer reached the upstream exactly once (lib/hits.js).
 * @param {import("./proc").Started} up @param {import("./mutations").Mutation} mutation
 * @param {number[]} okIds @param {number[] | undefined} shedIds
 */
async function upstreamCheck(up, mutation, okIds, shedIds) {
  const { hits, stats } = await askHits(up, mutation.key, okIds, shedIds);
  // New TCP connections the upstream accepted per call it answered: ~0 when a system reuses its sockets, 1 when not.
  const upstream = { ...stats, connectionsPerCall: stats.answered > 0 ? stats.connections / stats.answered : NaN };
  return { hits, upstream };
}

/**
 * @template {{ okIds: number[], shedIds?: number[] }} T
 * @param {import("./systems").SystemDef} sys @param {import("./proc").Started} up
 * @param {import("./mutations").Mutation} mutation @param {string} tag  names the log file and the Redis prefix
 * @param {RunOptions} o
 * @param {(s: import("./proc").Started, tree: { pids: number[] }) => Promise<T>} body
 * @returns {Promise<any>} the body's result without its id lists, plus the accounting
 */
async function withSystem(sys, up, mutation, tag, o, body) {
  await ask(up.child, "reset");
  const run = await launch(sys, up, tag, o);
  /** @type {T} */
  let result;
  let peakRss = 0;
  try {
    result = await body(run.started, run.tree);
  } finally {
    peakRss = await run.stop();
  }
  const { hits, upstream } = await upstreamCheck(up, mutation, result.okIds, result.shedIds);
  const { okIds, shedIds, ...rest } = result;
  return { ...rest, hits, upstream, peakRss, ...(await settle(run, o)) };
}

/**
 * Several systems up at once for one run (the paired unloaded latency, lib/phases.js phase C): started one after the
 * other, driven together by `body`, stopped together. The fake upstream cannot tell their calls apart, so the upstream
 * check covers their correct answers together and each system's result carries that one check.
 * @template {{ okIds: number[] }} T
 * @param {import("./systems").SystemDef[]} systems @param {import("./proc").Started} up
 * @param {import("./mutations").Mutation} mutation @param {string} tag @param {RunOptions} o
 * @param {(runs: Launched[]) => Promise<Record<string, T>>} body  results by system key
 * @returns {Promise<Record<string, any>>} by system key: its result without its ids, plus the accounting
 */
async function withSystems(systems, up, mutation, tag, o, body) {
  await ask(up.child, "reset");
  /** @type {Launched[]} */
  const runs = [];
  /** @type {Record<string, T>} */
  let results;
  /** @type {Record<string, number>} */
  const peakRss = {};
  try {
    for (const sys of systems) runs.push(await launch(sys, up, tag, o));
    results = await body(runs);
  } finally {
    for (const run of runs) peakRss[run.sys.key] = await run.stop();
  }
  const { hits, upstream } = await upstreamCheck(
    up,
    mutation,
    Object.values(results).flatMap((r) => r.okIds),
    undefined,
  );
  /** @type {Record<string, any>} */
  const out = {};
  for (const run of runs) {
    const { okIds, ...rest } = results[run.sys.key];
    out[run.sys.key] = { ...rest, hits, upstream, peakRss: peakRss[run.sys.key], ...(await settle(run, o)) };
  }
  return out;
}

/**
 * CPU snapshots at a window's edges. `start()` and `end()` are synchronous (they run inside a response callback of
 * the load generator, so the edges and the snapshots coincide); `result(requests, seconds)` turns them into figures.
 * @param {{ pid: number }} sys @param {{ pids: number[] }} tree @param {{ pid: number }} up
 */
function cpuWindow(sys, tree, up) {
  /** @type {any} */
  let a = null;
  /** @type {any} */
  let b = null;
  const snap = () => ({
    sys: cpuOf(tree.pids),
    main: mainThreadCpuOf(sys.pid),
    up: cpuMicros(up.pid),
    self: selfCpuMicros(),
    machine: machineBusyMicros(),
    procs: allProcessesCpu(),
    tcp: tcpCounters(),
  });
  return {
    start() {
      tree.pids = treeOf(sys.pid);
      a = snap();
    },
    end() {
      b = snap();
    },
    /** @param {number} requests answers completed in the window @param {number} seconds the window's length */
    result(requests, seconds) {
      if (!a || !b) throw new Error("the measured window never opened or closed");
      // A process that ended inside the window reads 0 at the end: count only what it had at the start as lost.
      const sysUs = total(b.sys) - total(a.sys);
      const perProcessUs = Object.fromEntries([...b.sys].map(([pid, us]) => [pid, us - (a.sys.get(pid) ?? 0)]));
      const upUs = b.up - a.up;
      const selfUs = b.self - a.self;
      const per = (/** @type {number} */ us) => (requests > 0 ? us / requests : NaN);
      return {
        processes: tree.pids.length,
        perProcessCpuUs: perProcessUs,
        cpuUsPerRequest: per(sysUs),
        // The root process's event-loop thread alone (NaN for a cluster primary, whose workers do the requests).
        mainThreadCpuUsPerRequest: tree.pids.length === 1 ? per(b.main - a.main) : NaN,
        cpuUtilisation: sysUs / 1e6 / seconds,
        upstreamCpuUsPerRequest: per(upUs),
        loadGeneratorCpuUsPerRequest: per(selfUs),
        // Cores the rest of the machine kept busy: everything /proc/stat counts as busy minus the system, the fake
        // upstream and this process (kernel networking not charged to a process shows up here too).
        otherCores: (b.machine - a.machine - sysUs - upUs - selfUs) / 1e6 / seconds,
        machineCores: (b.machine - a.machine) / 1e6 / seconds,
        topOthers: topOthers(a.procs, b.procs, new Set([...tree.pids, up.pid, process.pid]), seconds),
        tcp: {
          listenOverflows: b.tcp.listenOverflows - a.tcp.listenOverflows,
          synRetrans: b.tcp.synRetrans - a.tcp.synRetrans,
          timeWaitAtStart: a.tcp.timeWait,
        },
      };
    },
  };
}

/** The main thread's CPU time of `pid` (µs), 0 once it has ended. */
function mainThreadCpuOf(/** @type {number} */ pid) {
  try {
    return mainThreadCpuMicros(pid);
  } catch {
    return 0;
  }
}

/** The resident memory of `pid` now (for the overload scenario's samples). */
const rssOf = (/** @type {number} */ pid) => {
  try {
    return memory(pid).rss;
  } catch {
    return 0;
  }
};

module.exports = { withSystem, withSystems, cpuWindow, canaries, selfCpuMicros, rssOf, RESULTS, LOGS, PROFILES };
