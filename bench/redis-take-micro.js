#!/usr/bin/env node
// @ts-check
"use strict";
/**
 * Micro-benchmark of the Redis OTP throttle's send path: `OtpThrottle.reserve(subject, "send")` with the Redis store
 * (one EVALSHA per send, redis-budgets.ts), as an AEPS send makes it: five destinations (mobile, Aadhaar, and the
 * registration's user key, primary key and transaction id), each fresh, so every budget opens a window; one IP, one
 * client; the IP, client, global and prefix budgets at the bench's 10,000,000 so nothing is refused. Sends go one at
 * a time (each awaited), as the sequential callgrind run sends requests. Keys under a prefix of this run's own
 * (`bench-take-<pid>-<time>:`), deleted at the end. Reads the compiled server (`npm run build`), or another build
 * given as the argument (a base copy, to compare two commits).
 *
 *   node bench/redis-take-micro.js [dist dir] [--sends 2000] [--batches 5] [--warm 2000] [--redis-url URL]
 *     prints CPU µs per send (process.cpuUsage over each batch, this process only: not Redis's)
 *   valgrind --tool=callgrind --separate-threads=yes node bench/redis-take-micro.js --batches 1 --cg
 *     main-thread instructions of one batch: the counters are zeroed before it and dumped after it
 *     (callgrind_control), so the thread-1 dump of part 1 holds exactly the batch; divide its summary by --sends
 */
const path = require("node:path");
const { parseArgs } = require("node:util");

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    sends: { type: "string", default: "2000" },
    batches: { type: "string", default: "5" },
    warm: { type: "string", default: "2000" },
    "redis-url": { type: "string", default: process.env.REDIS_URL ?? "redis://127.0.0.1:6379" },
    cg: { type: "boolean", default: false },
  },
});
const ROOT = path.join(__dirname, "..");
const dist = path.resolve(positionals[0] ?? path.join(ROOT, "dist"));
require(require.resolve("reflect-metadata", { paths: [dist, ROOT] }));
const Redis = require(require.resolve("ioredis", { paths: [dist, ROOT] })).default;
const { OtpThrottle } = require(path.join(dist, "protection/otp-throttle.js"));
const { KeyHasher } = require(path.join(dist, "protection/key-hasher.js"));
const { loadConfig } = require(path.join(dist, "config.js"));
const { deletePrefix } = require("./lib/redis");
const { measureBatches, SHARED_BUDGETS_UNBOUNDED, sendSubjects } = require("./lib/micro");

const config = loadConfig(SHARED_BUDGETS_UNBOUNDED);
const N = Number(values.sends);
const B = Number(values.batches);
const W = Number(values.warm);
const keyPrefix = `bench-take-${process.pid}-${Date.now().toString(36)}:`;

/** @param {any} throttle @param {any[]} list */
async function run(throttle, list) {
  let allowed = 0;
  for (let i = 0; i < list.length; i++) if ((await throttle.reserve(list[i], "send")).allowed) allowed++;
  if (allowed !== list.length) throw new Error(`refused ${list.length - allowed} sends: the budgets are too low`);
}

async function main() {
  const redis = new Redis(values["redis-url"], { enableOfflineQueue: false, lazyConnect: true });
  await redis.connect();
  try {
    const hasher = new KeyHasher(Buffer.alloc(32, 1));
    const throttle = new OtpThrottle(config.throttle, hasher, { redis, keyPrefix });
    await run(throttle, sendSubjects(W, true)); // JIT warm-up, and the script loaded on this connection
    const measured = await measureBatches({
      batches: B,
      perBatch: N,
      cg: values.cg,
      prepare: () => sendSubjects(N, true),
      run: (list) => run(throttle, list),
    });
    process.stdout.write(
      `${JSON.stringify({ dist: path.relative(process.cwd(), dist) || ".", sends: N, ...measured })}\n`,
    );
  } finally {
    redis.disconnect();
    await deletePrefix(values["redis-url"], keyPrefix);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
