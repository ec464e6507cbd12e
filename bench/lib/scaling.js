// @ts-check
"use strict";
/**
 * The worker-scaling scenario: our server started with `WEB_CONCURRENCY=1`, then `=2` (`--scaling-workers`), each
 * with REDIS_URL (more than one worker needs shared throttle state), driven at saturation like phase A. Reported per
 * setting: requests/s, server CPU per request over the whole process tree, and how many processes actually served
 * clients: the processes of the tree holding established connections on the server's port, read at the end of the
 * measured window (lib/tree.js), so no help from the server is needed. If fewer processes serve than workers were
 * asked for, the setting is reported as **not supported** and no scaling figure is given.
 */
const { drive } = require("./load");
const { MUTATIONS } = require("./mutations");
const { withSystem, cpuWindow } = require("./harness");
const { servingProcesses } = require("./tree");
const { traffic } = require("./phases");
const { median } = require("./stats");
const { fmt, runErrors } = require("./format");

const log = (/** @type {string} */ line) => process.stdout.write(`${line}\n`);

/**
 * @param {import("./options").Options} o @param {Record<string, import("./systems").SystemDef>} defs
 * @param {import("./proc").Started} up
 */
async function scaling(o, defs, up) {
  const m = MUTATIONS[o.scalingMutation];
  const sys = defs.ours;
  log(
    `\nworker scaling — ${m.field}, WEB_CONCURRENCY ${o.scalingWorkers.join(", ")} with REDIS_URL; ${o.connections} connections, CPU over ${fmt(o.requests)} requests, ${o.rounds} round(s)`,
  );
  /** @type {Record<string, any[]>} */
  const byWorkers = {};
  for (let round = 1; round <= o.rounds; round++) {
    for (const workers of o.scalingWorkers) {
      const tag = `scaling-w${workers}-r${round}`;
      const extraEnv = {
        WEB_CONCURRENCY: String(workers),
        REDIS_URL: o.redisUrl,
        REDIS_KEY_PREFIX: `bench-${process.pid}-${tag}-${Date.now().toString(36)}:`,
      };
      const r = await withSystem(
        sys,
        up,
        m,
        tag,
        { keepLogs: o.keepLogs, redisUrl: o.redisUrl, extraEnv },
        async (s, tree) => {
          const w = cpuWindow(s, tree, up);
          /** @type {{ pid: number, connections: number }[]} */
          let serving = [];
          const port = Number(new URL(s.url).port);
          const d = await drive({
            url: s.url,
            ...traffic(sys, m),
            connections: o.connections,
            warmupRequests: o.warmupRequests,
            measureRequests: o.requests,
            // Sampled when the window opens (every connection established after the warm-up) and when it ends, the
            // larger count per process kept: a sample at the end alone caught the load generator closing its
            // connections and once saw one worker of two (34 of 64 connections), reporting workers as unsupported.
            onWindowStart: () => {
              w.start();
              serving = servingProcesses(tree.pids, port);
            },
            onWindowEnd: () => {
              w.end();
              const byPid = new Map(serving.map((p) => [p.pid, p.connections]));
              for (const p of servingProcesses(tree.pids, port))
                byPid.set(p.pid, Math.max(byPid.get(p.pid) ?? 0, p.connections));
              serving = [...byPid].map(([pid, connections]) => ({ pid, connections }));
            },
          });
          return { ...d, ...w.result(d.completed, d.windowSec), serving };
        },
      );
      r.errorTotal = runErrors(r, [r]);
      r.supported = r.serving.length >= workers;
      (byWorkers[workers] ??= []).push(r);
      log(
        `  round ${round} WEB_CONCURRENCY=${workers}: ${fmt(r.okPerSec, 0)} req/s  cpu ${fmt(r.cpuUsPerRequest, 0)} µs/req  ` +
          `${r.processes} process(es), ${r.serving.length} serving (${r.serving.map((/** @type {any} */ p) => p.connections).join("+")} connections)` +
          `${r.supported ? "" : "  → NOT SUPPORTED"}  errors ${r.errorTotal}  upstream ${r.hits.pass ? "✓" : "MISMATCH"}`,
      );
    }
  }
  /** @type {Record<string, any>} */
  const summary = {};
  for (const [workers, runs] of Object.entries(byWorkers)) {
    summary[workers] = {
      rps: median(runs.map((r) => r.okPerSec)),
      cpuUsPerRequest: median(runs.map((r) => r.cpuUsPerRequest)),
      processes: Math.max(...runs.map((r) => r.processes)),
      serving: Math.min(...runs.map((r) => r.serving.length)),
      supported: runs.every((r) => r.supported),
      errors: runs.reduce((a, r) => a + r.errorTotal, 0),
    };
  }
  const base = o.scalingWorkers[0];
  /** @type {Record<string, { median: number, perRound: number[] } | null>} */
  const ratios = {};
  for (const workers of o.scalingWorkers.slice(1)) {
    // Per round, like every other ratio; only when the setting is supported (otherwise it would compare one worker with
    // itself).
    const v = byWorkers[workers].map((r, i) => r.okPerSec / byWorkers[base][i].okPerSec);
    ratios[workers] = summary[workers].supported ? { median: median(v), perRound: v } : null;
  }
  return { mutation: m.key, base, byWorkers, summary, ratios };
}

module.exports = { scaling };
