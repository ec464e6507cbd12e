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

const JIT = "JIT code (V8-compiled JavaScript, no symbols)";
/** A name of the form 0x0000000028180040 (with callgrind's `'2` suffix for a recursion level). */
const ADDRESS_ONLY = /^0x[0-9a-f]+('\d+)?$/;

/**
 * Self Ir by function (or object) of one dump. A `calls=` line's next cost line is the call's inclusive cost, charged
 * to the caller's `cfn`, not the caller's self cost: skipped.
 * @param {string} file @param {"function" | "object"} by
 */
function selfCost(file, by) {
  /** @type {Map<string, string>} compressed ids to names, per kind ("fn", "ob") */
  const names = new Map();
  /** @type {Map<string, number>} */
  const out = new Map();
  let fn = "?";
  let ob = "?";
  let total = 0;
  let skipNext = false;
  /** `(12) name`, `(12)` or `name`: the name, remembering a compressed id's. @param {string} kind @param {string} v */
  const nameOf = (kind, v) => {
    const m = /^\((\d+)\)(?: (.*))?$/.exec(v);
    if (!m) return v;
    const key = `${kind}:${m[1]}`;
    if (m[2] !== undefined) names.set(key, m[2]);
    return names.get(key) ?? `${kind} #${m[1]} (named in an earlier dump)`;
  };
  let summary = NaN;
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    if (line.startsWith("summary: ")) summary = Number(line.slice(9));
    if (line.startsWith("fn=")) fn = nameOf("fn", line.slice(3));
    else if (line.startsWith("ob=")) ob = nameOf("ob", line.slice(3));
    else if (line.startsWith("cfn=")) nameOf("fn", line.slice(4));
    else if (line.startsWith("cob=")) nameOf("ob", line.slice(4));
    else if (line.startsWith("calls=")) skipNext = true;
    else if (/^[0-9+*-]/.test(line)) {
      const ir = Number(line.split(" ")[1] ?? 0);
      if (skipNext) {
        skipNext = false;
        continue;
      }
      total += ir;
      const key = by === "object" ? ob : ADDRESS_ONLY.test(fn) ? JIT : fn;
      out.set(key, (out.get(key) ?? 0) + ir);
    }
  }
  // Each instruction is on exactly one self cost line: a sum that is not the dump's own total means this reader
  // misread the file (a format it does not know), and every row would be wrong.
  if (total !== summary) throw new Error(`${file}: self costs sum to ${total}, the dump's summary says ${summary}`);
  return { out, total };
}

/**
 * The self instructions of a dump's functions whose name matches `pattern`, summed (selfCost). For the SHA-256
 * compression, which valgrind's CPU runs without SHA-NI: bench/README.md, "SHA-256 under valgrind".
 * @param {string} file @param {RegExp} pattern
 */
function functionInstructions(file, pattern) {
  let sum = 0;
  for (const [name, ir] of selfCost(file, "function").out) if (pattern.test(name)) sum += ir;
  return sum;
}

/** SHA-256's block functions in OpenSSL (sha256_block_data_order and its _avx2, _shaext, ... variants). */
const SHA256_BLOCKS = /^sha256_block_data_order/;

module.exports = { callgrindIn, dumpSummary, selfCost, functionInstructions, SHA256_BLOCKS };
