// @ts-check
"use strict";
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

module.exports = { machineInfo };
