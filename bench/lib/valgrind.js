// @ts-check
"use strict";
/**
 * Running a server under callgrind and reading its counters: shared by `bench/callgrind.js` (instructions per
 * request) and `bench/refusal-micro.js --callgrind` (per refusal). Each keeps its dumps in its own directory.
 * `dumpSummary` reads one dump's total, for them and for `bench/answer-micro.js`.
 */
const fs = require("node:fs");
const path = require("node:path");
const { execFileSync } = require("node:child_process");

/**
 * A dump's header counters: its total instructions (`summary:`, every function's self cost) and, with
 * `--separate-threads=yes`, its thread (1 is the main thread; NaN without). Throws when the file has no summary.
 * @param {string} file
 */
function dumpSummary(file) {
  const fd = fs.openSync(file, "r");
  const head = Buffer.alloc(8192);
  const n = fs.readSync(fd, head, 0, head.length, 0);
  fs.closeSync(fd);
  // The header precedes the first cost line; a dump without `summary:` there is cut short or not callgrind's.
  const text = head.subarray(0, n).toString("utf8");
  const ir = /^summary: (\d+)$/m.exec(text)?.[1];
  if (ir === undefined) throw new Error(`no summary in ${file}`);
  return { ir: Number(ir), thread: Number(/^thread: (\d+)$/m.exec(text)?.[1]) };
}

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
      // A file still being written may have no summary yet: skipped, read again on the next poll.
      let d;
      try {
        d = dumpSummary(path.join(outDir, f));
      } catch {
        continue;
      }
      if (Number.isFinite(d.thread)) out[d.thread] = d.ir;
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

module.exports = { callgrindIn, dumpSummary };
