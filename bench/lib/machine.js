// @ts-check
"use strict";
const crypto = require("node:crypto");
const fs = require("node:fs");
const os = require("node:os");

/** What the numbers were measured on: CPU model (/proc/cpuinfo), cores, memory, kernel, Node, load at start. */
function machineInfo() {
  let cpuModel = os.cpus()[0]?.model ?? "unknown";
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync("/proc/cpuinfo", "utf8"));
    if (m) cpuModel = m[1].trim();
  } catch {
    // not Linux: keep os.cpus()'s
  }
  let autocannonVersion = "unknown";
  try {
    autocannonVersion = JSON.parse(fs.readFileSync(require.resolve("autocannon/package.json"), "utf8")).version;
  } catch {
    // keep unknown
  }
  return {
    cpuModel,
    cores: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    autocannon: autocannonVersion,
    loadAverageAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

/**
 * A fixed piece of CPU work (integer arithmetic and SHA-256), timed in ms: the best of three. Run between the
 * measured runs, it shows whether the CPU itself got slower or faster during the bench (a shared host, frequency
 * changes), which the guest's own accounting does not show.
 */
function cpuCanaryMs() {
  const buf = Buffer.alloc(1 << 20, 7);
  let best = Infinity;
  let x = 0;
  for (let round = 0; round < 3; round++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < 5e6; i++) x = (x + i * 7) % 1000003;
    for (let i = 0; i < 2; i++) crypto.createHash("sha256").update(buf).digest();
    best = Math.min(best, Number(process.hrtime.bigint() - t) / 1e6);
  }
  if (x < 0) throw new Error("unreachable"); // keep the loop from being optimised away
  return best;
}

module.exports = { machineInfo, cpuCanaryMs };
