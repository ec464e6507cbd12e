#!/usr/bin/env node
// @ts-check
"use strict";
/**
 * The cost of one admission refusal (src/http/admission.ts, `guardServer`): our server (dist/, the bench's
 * environment) with ADMISSION_MAX_IN_FLIGHT=1, one request held at a fake upstream that answers after 10 minutes, and
 * every other request refused with the 503 before Fastify. This is what most of the overload scenario's traffic is at
 * 1,500 clients, and every µs of it is taken from the requests being served.
 *
 *   node bench/refusal-micro.js [--connections 32] [--warmup 20000] [--requests 40000]
 *       server CPU µs per refusal: main thread and whole process (/proc/<pid>/task/<pid>/stat and /proc/<pid>/stat),
 *       between the warm-up's last answer and the measured requests' last; noisy on a shared machine
 *   node bench/refusal-micro.js --callgrind [--connections 4] [--warmup 3000] [--requests 3000]
 *       main-thread instructions per refusal under valgrind's callgrind (dump after the warm-up, zeroing the counters,
 *       and after the measured requests), the figure to compare two commits with; the event-loop check is off there
 *       (ADMISSION_MAX_EVENT_LOOP_DELAY_MS=0: under valgrind the loop is late by design)
 *   --cpu-prof: run the server under `node --cpu-prof` (profile in bench/results/profiles/refusal-<pid>/)
 *   --dist dir: run another build's server (dir/index.js) instead of dist/'s
 *
 * The load comes from lib/raw-http.js connections (one request at a time each, kept alive). dist/ must be built
 * (`npm run build`). Every answer must be the 503 refusal; anything else fails the run.
 */
const fs = require("node:fs");
const path = require("node:path");
const { execFileSync, spawnSync } = require("node:child_process");
const { parseArgs } = require("node:util");
const { startChild, killAll } = require("./lib/proc");
const { callgrindIn } = require("./lib/valgrind");
const { systemDefs, ROOT } = require("./lib/systems");
const { systemArgs } = require("./lib/one-system");
const { MUTATIONS, bodyFactory } = require("./lib/mutations");
const { RawConnection, requestHead } = require("./lib/raw-http");

const OUT = path.join(__dirname, "results/refusal");
const cg = callgrindIn(OUT);
const log = (/** @type {string} */ line) => process.stdout.write(`${line}\n`);

/** utime + stime in clock ticks of /proc/<pid>/stat or /proc/<pid>/task/<tid>/stat. @param {string} file */
function ticks(file) {
  const text = fs.readFileSync(file, "utf8");
  const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 (utime, stime), counted from 1 with "pid (comm)" as fields 1-2.
  return Number(f[11]) + Number(f[12]);
}
const TICK_US = 1e6 / Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim() || 100);

async function main() {
  const { values } = parseArgs({
    options: {
      callgrind: { type: "boolean", default: false },
      "cpu-prof": { type: "boolean", default: false },
      connections: { type: "string" },
      warmup: { type: "string" },
      requests: { type: "string" },
      dist: { type: "string" },
    },
    strict: true,
  });
  const useCg = values.callgrind;
  const connections = Number(values.connections ?? (useCg ? 4 : 32));
  const warmup = Number(values.warmup ?? (useCg ? 3000 : 20000));
  const requests = Number(values.requests ?? (useCg ? 3000 : 40000));
  cg.clean();
  const defs = systemDefs({ oursEnv: {}, oursHeaders: {}, floorReset: false, redisUrl: "" });
  const sys = defs.ours;
  // dist/index.js, or --dist's build in its place.
  const serverArgs = systemArgs(sys, values.dist);
  const entry = serverArgs[serverArgs.length - 1];
  if (!fs.existsSync(entry)) throw new Error(`${entry} is not built: npm run build`);
  if (useCg && spawnSync("valgrind", ["--version"]).status !== 0) throw new Error("valgrind is not installed");

  const up = await startChild({
    name: "fake upstream (10 min)",
    args: [path.join(__dirname, "fake-upstream.js")],
    env: { UPSTREAM_DELAY_MS: "600000" },
    logFile: path.join(OUT, "upstream.log"),
    readyPattern: /"msg":"fake upstream ready","url":"([^"]+)"/,
    ipc: true,
  });
  const childEnv = {
    ...sys.env({ upstreamUrl: up.url, runTag: "refusal" }),
    ADMISSION_MAX_IN_FLIGHT: "1",
    // The held request must outlive the run (under callgrind, minutes): at the defaults (10 s) it ends as
    // OUTCOME_UNKNOWN and the next request is admitted, a whole pipeline counted among the refusals.
    REQUEST_DEADLINE_MS: "120000",
    AOPAY_DEADLINE_MS: "120000",
    AOPAY_HEADERS_TIMEOUT_MS: "120000",
    MAX_UNAUTHENTICATED_CONNECTIONS_PER_IP: String(Math.max(256, connections + 64)),
    ...(useCg ? { ADMISSION_MAX_EVENT_LOOP_DELAY_MS: "0" } : {}),
  };
  const profDir = path.join(__dirname, `results/profiles/refusal-${Date.now().toString(36)}`);
  const nodeArgs = [...(values["cpu-prof"] ? ["--cpu-prof", `--cpu-prof-dir=${profDir}`] : []), ...serverArgs];
  const s = await startChild({
    name: "ours",
    ...(values.callgrind ? cg.command(nodeArgs) : { args: nodeArgs }),
    env: childEnv,
    logFile: path.join(OUT, "ours.log"),
    readyPattern: sys.ready,
    cwd: ROOT,
    timeoutMs: 600_000,
  });
  const target = new URL(s.url);
  const head = requestHead(target, { "content-type": "application/json", ...sys.headers });
  const conn = () => new RawConnection({ host: target.hostname, port: Number(target.port), head });
  const bodies = bodyFactory(MUTATIONS.aeps, sys.flavour);
  // The one admitted request, held at the upstream: every other one is refused.
  const holder = conn();
  void holder.request(bodies.next().body, 3_600_000).catch(() => undefined);
  await new Promise((r) => setTimeout(r, useCg ? 5000 : 300));

  let bad = 0;
  /** @param {number} n */
  async function refusals(n) {
    let left = n;
    const conns = Array.from({ length: connections }, conn);
    await Promise.all(
      conns.map(async (c) => {
        while (left > 0) {
          left -= 1;
          const r = await c.request(bodies.next().body, 600_000);
          if (r.status !== 503 || !r.text.includes('"code":"OVERLOADED"')) {
            if (bad === 0) log(`  not a refusal: HTTP ${r.status} ${r.text.slice(0, 200)}`);
            bad += 1;
          }
        }
        c.destroy();
      }),
    );
  }
  const procStat = `/proc/${s.pid}/stat`;
  const mainStat = `/proc/${s.pid}/task/${s.pid}/stat`;
  log(`warm-up: ${warmup} refusals over ${connections} connections ...`);
  await refusals(warmup);
  const ir0 = useCg ? (await cg.dump(s.pid, 1, "p1", childEnv))[1] : 0;
  const [p0, m0, t0] = [ticks(procStat), ticks(mainStat), performance.now()];
  log(`measured: ${requests} refusals ...`);
  await refusals(requests);
  const [p1, m1, t1] = [ticks(procStat), ticks(mainStat), performance.now()];
  const ir = useCg ? (await cg.dump(s.pid, 2, "p2", childEnv))[1] : 0;
  holder.destroy();
  // The upstream first: its held call fails, so the server's drain ends at once and it exits by itself (a profile is
  // written only then).
  await up.stop();
  await s.stop();
  log("");
  log(
    `refusals: ${requests} after ${warmup} warm-up, ${connections} connections; answers not a 503 OVERLOADED: ${bad}`,
  );
  if (useCg) {
    log(
      `  main thread: ${Math.round(ir / requests).toLocaleString("en")} instructions per refusal (${ir0 > 0 ? "after the warm-up dump" : ""})`,
    );
    log(`  dumps: ${path.relative(process.cwd(), OUT)}/callgrind.out.${s.pid}.2-01`);
  } else {
    log(
      `  server CPU per refusal: main thread ${(((m1 - m0) * TICK_US) / requests).toFixed(1)} µs, whole process ${(((p1 - p0) * TICK_US) / requests).toFixed(1)} µs; ` +
        `${Math.round(requests / ((t1 - t0) / 1000))} refusals/s`,
    );
  }
  if (values["cpu-prof"]) log(`  profile: ${path.relative(process.cwd(), profDir)}/`);
  if (bad > 0) process.exitCode = 1;
}

process.on("exit", killAll);
main().catch((error) => {
  process.stderr.write(`\nrefusal-micro failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  killAll();
  process.exit(1);
});
