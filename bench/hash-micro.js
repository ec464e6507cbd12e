#!/usr/bin/env node
// @ts-check
"use strict";
/**
 * What SHA-256 costs here natively against what callgrind counts. The host's CPU has the SHA extensions (SHA-NI,
 * `grep sha_ni /proc/cpuinfo`): natively OpenSSL runs SHA-256 with them (sha256_block_data_order_shaext), but
 * valgrind's CPU model has no SHA-NI, so under callgrind OpenSSL takes its AVX2 code (sha256_block_data_order_avx2),
 * several times the instructions and time. `OPENSSL_ia32cap=:~0x20000000` clears the SHA bit (#64+29) of OpenSSL's
 * capability vector, so a native run takes the AVX2 code as valgrind's does.
 *
 * Measured, in this process's CPU time (process.cpuUsage over batches; median): KeyHasher.hash as the throttle calls
 * it (a fresh 10-digit mobile each time: one HMAC, 4 SHA-256 blocks), and crypto.hash("sha256") of an API key as the
 * authenticator hashes it (47 bytes: 1 block), and the compression alone: crypto.hash("sha256") of 64 KiB (1,024
 * blocks), per block. Reads the compiled server (`npm run build`).
 *
 *   node bench/hash-micro.js [--ops 200000] [--batches 7] [--rounds 3] [--dist dir]
 *     runs itself natively with and without the mask, alternately, `--rounds` times: µs per HMAC and per API-key hash
 *   node bench/hash-micro.js --child [--ops N] [--batches B]     one run, in this process, as it is set up
 *   valgrind --tool=callgrind --separate-threads=yes node --expose-gc bench/hash-micro.js --child --batches 1 --cg
 *     main-thread instructions of one batch per measurement (the dumps of part 1: HMACs; 2: API-key hashes; 3: bulk)
 * On a host whose CPU exposes no hardware counters to perf (`perf stat -e instructions`: <not supported>, a VM
 * without a virtual PMU), time is the native measure: noisy on a shared host, hence the alternation and medians.
 */
const path = require("node:path");
const { spawnSync } = require("node:child_process");
const { parseArgs } = require("node:util");
const { hash } = require("node:crypto");
const { measureBatches } = require("./lib/micro");

const { values } = parseArgs({
  options: {
    ops: { type: "string", default: "200000" },
    batches: { type: "string", default: "7" },
    rounds: { type: "string", default: "3" },
    child: { type: "boolean", default: false },
    cg: { type: "boolean", default: false },
    dist: { type: "string" },
  },
});
const ROOT = path.join(__dirname, "..");
const dist = path.resolve(values.dist ?? path.join(ROOT, "dist"));
/** OpenSSL's capability bit #64+29 (CPUID.(EAX=7,ECX=0).EBX bit 29, SHA): cleared, SHA-256 takes its AVX2 code. */
const NO_SHA_NI = ":~0x20000000";
const log = (/** @type {string} */ line) => process.stdout.write(`${line}\n`);

async function child() {
  const { KeyHasher } = require(path.join(dist, "protection/key-hasher.js"));
  const hasher = new KeyHasher(Buffer.from("bench-hmac-secret-0123456789abcdefghijklmnop", "utf8"));
  const ops = Number(values.ops);
  const batches = Number(values.batches);
  let serial = 0;
  let sink = 0;
  const mobiles = () => Array.from({ length: ops }, () => String(9_000_000_000 + (serial++ % 999_999_999)));
  const apiKey = "aopk_bench_0123456789abcdefghijklmnopqrstuvwxyz";
  // Warm-up: the same calls, not measured (the JIT, the scratch buffer's views).
  for (const m of mobiles()) sink += hasher.hash("destination:mobile", m).length;
  const hmac = await measureBatches({
    batches,
    perBatch: ops,
    cg: values.cg,
    prepare: mobiles,
    run: (list) => {
      for (const m of list) sink += hasher.hash("destination:mobile", m).length;
    },
  });
  const key = await measureBatches({
    batches,
    perBatch: ops,
    cg: values.cg,
    prepare: () => ops,
    run: (n) => {
      for (let i = 0; i < n; i++) sink += hash("sha256", apiKey, "hex").length;
    },
  });
  // The compression alone: 64 KiB a call (1,024 blocks), the call's own cost spread over them.
  const bulk = Buffer.alloc(64 * 1024, 0x61);
  const calls = Math.max(1, Math.ceil(ops / 64));
  const block = await measureBatches({
    batches,
    perBatch: calls * 1024,
    cg: values.cg,
    prepare: () => calls,
    run: (n) => {
      for (let i = 0; i < n; i++) sink += hash("sha256", bulk, "buffer").length;
    },
  });
  /** @type {Figures & { sink: number }} */
  const figures = { hmacUs: hmac.medianUs, apiKeyUs: key.medianUs, blockUs: block.medianUs, sink };
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

/** @typedef {{ hmacUs: number, apiKeyUs: number, blockUs: number }} Figures */
/** The two OpenSSL setups: as it starts here (SHA-NI where the CPU has it), and with the SHA bit cleared (AVX2). */
const SETUPS = /** @type {const} */ ([
  ["SHA-NI", undefined],
  ["AVX2", NO_SHA_NI],
]);
const LABEL = { hmacUs: "HMAC (KeyHasher.hash)", apiKeyUs: "API-key SHA-256", blockUs: "a block in bulk" };

function parent() {
  /** @type {Array<Figures & { name: string }>} */
  const rows = [];
  for (let round = 0; round < Number(values.rounds); round++)
    // Alternately first: a run after the other sees the machine a moment later.
    for (const [name, cap] of round % 2 === 0 ? SETUPS : [...SETUPS].reverse()) {
      const env = { ...process.env };
      // Unset, not empty: an empty OPENSSL_ia32cap clears every capability bit (no AVX2 either).
      if (cap === undefined) delete env.OPENSSL_ia32cap;
      else env.OPENSSL_ia32cap = cap;
      const args = [__filename, "--child", "--ops", values.ops, "--batches", values.batches, "--dist", dist];
      const r = spawnSync(process.execPath, args, { env, encoding: "utf8" });
      if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
      /** @type {Figures} */
      const f = JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}");
      rows.push({ name, ...f });
      log(
        `  round ${round + 1} ${name.padEnd(6)} HMAC ${ns(f.hmacUs)} ns   API-key SHA-256 ${ns(f.apiKeyUs)} ns   ` +
          `a block in bulk ${ns(f.blockUs)} ns`,
      );
    }
  /** @param {string} name @param {keyof Figures} field */
  const median = (name, field) => {
    const xs = rows
      .filter((r) => r.name === name)
      .map((r) => r[field])
      .sort((a, b) => a - b);
    return xs[Math.floor(xs.length / 2)];
  };
  for (const field of /** @type {const} */ (["hmacUs", "apiKeyUs", "blockUs"])) {
    const ni = median("SHA-NI", field);
    const avx2 = median("AVX2", field);
    log(
      `${LABEL[field]}: SHA-NI ${ns(ni)} ns, AVX2 ${ns(avx2)} ns (medians of ${values.rounds} runs): AVX2 ` +
        `${(avx2 / ni).toFixed(2)}x, ${ns(avx2 - ni)} ns more`,
    );
  }
}

/** µs as ns, one decimal. @param {number} us */
const ns = (us) => (us * 1000).toFixed(1);

if (values.child)
  child().catch((error) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
else parent();
