// @ts-check
"use strict";
/**
 * Running a server under callgrind and reading its counters: shared by `bench/callgrind.js` (instructions per
 * request) and `bench/refusal-micro.js --callgrind` (per refusal). Each keeps its dumps in its own directory.
 */
const fs = require("node:fs");
const path = require("node:path");
const { execFileSync } = require("node:child_process");

/**
 * A callgrind run of one directory: the command that starts `node <nodeArgs>` under valgrind, and the dump step.
 * @param {string} outDir where the dumps (callgrind.out.<pid>.<part>-<thread>) and vgdb's FIFOs go
 */
function callgrindIn(outDir) {
  const vgdbPrefix = path.join(outDir, "vgdb-pipe");

  /** Ir of each thread in the dump files of `part` ("summary:" in each file's header). */
  const irByThread = (/** @type {number} */ pid, /** @type {number} */ part) => {
    /** @type {Record<number, number>} */
    const out = {};
    const prefix = `callgrind.out.${pid}.${part}-`;
    for (const f of fs.readdirSync(outDir).filter((n) => n.startsWith(prefix))) {
      const fd = fs.openSync(path.join(outDir, f), "r");
      const head = Buffer.alloc(8192);
      fs.readSync(fd, head, 0, head.length, 0);
      fs.closeSync(fd);
      const text = head.toString("utf8");
      const thread = Number(/^thread: (\d+)$/m.exec(text)?.[1]);
      const ir = Number(/^summary: (\d+)$/m.exec(text)?.[1]);
      if (Number.isFinite(thread) && Number.isFinite(ir)) out[thread] = ir;
    }
    return out;
  };

  return {
    /** Removes the previous run's dumps and FIFOs (each dump is a few MB): only the latest run's are kept. */
    clean() {
      fs.mkdirSync(outDir, { recursive: true });
      for (const f of fs.readdirSync(outDir))
        if (f.startsWith("callgrind.out.") || f.startsWith("vgdb-pipe"))
          fs.rmSync(path.join(outDir, f), { force: true });
    },
    /** `startChild`'s command and arguments: node under callgrind, one dump file per thread, no per-instruction data. */
    command: (/** @type {string[]} */ nodeArgs) => ({
      command: "valgrind",
      args: [
        "--tool=callgrind",
        "--separate-threads=yes",
        "--dump-instr=no",
        `--vgdb-prefix=${vgdbPrefix}`,
        `--callgrind-out-file=${path.join(outDir, "callgrind.out.%p")}`,
        process.execPath,
        ...nodeArgs,
      ],
    }),
    /**
     * Asks callgrind to write its counters (and zero them), and waits for the files of that part: Ir by thread (1 is
     * the main thread). vgdb finds the process by FIFOs named after the prefix, the pid, and the USER/LOGNAME and
     * HOST variables of *each side*: our server's environment sets HOST (its listen address), so
     * callgrind_control is given the same environment.
     * @param {number} pid @param {number} part @param {string} label @param {Record<string, string>} childEnv
     */
    async dump(pid, part, label, childEnv) {
      const env = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...childEnv };
      const said = execFileSync("callgrind_control", [`--vgdb-prefix=${vgdbPrefix}`, `--dump=${label}`, String(pid)], {
        encoding: "utf8",
        env,
        stdio: ["ignore", "pipe", "pipe"],
      });
      if (!/OK/.test(said)) throw new Error(`callgrind_control --dump ${pid}: ${said}`);
      for (let i = 0; i < 600; i++) {
        const ir = irByThread(pid, part);
        if (ir[1] !== undefined) return ir;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`callgrind wrote no dump ${part} within 2 minutes`);
    },
  };
}

module.exports = { callgrindIn };
