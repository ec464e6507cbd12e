// @ts-check
"use strict";
/**
 * Soak test (`npm run soak`; not part of `npm test`). Runs the production build of the server as a child process in
 * front of the built-in simulator, drives N thousand mixed mutations at it with faults injected at a set rate, and
 * checks the one invariant that matters most: no OTP send is lost or duplicated.
 *
 * Every mutation goes to its own destination (a unique CIBIL id or mobile), whose last three digits pick a simulator
 * scenario (docs/simulator.md "Simulator scenarios"): healthy at (1 - fault rate), otherwise a fault drawn from 401, 207, 500,
 * 503, 504 (no answer), 299 (truncated) and 302. A share of mutations is "double-tapped": sent twice at once with one
 * Idempotency-Key. The simulator reports every request it receives, so for each destination we know how often AOPay
 * was really called, and compare it with what the API answered:
 *   - duplicated: a destination AOPay received more than once;
 *   - lost: the API reported a success but AOPay never received the request;
 *   - false "not sent": the API said nothing was sent (UPSTREAM_TIMEOUT, OVERLOADED, circuit open, throttled ...)
 *     but AOPay did receive it.
 * Exit code 1 when any of the three is non-zero.
 *
 * Flags: --requests 5000  --concurrency 50  --fault-rate 0.1  --double-tap-rate 0.05  --deadline-ms 1000  --json path
 *        --server-env NAME=VALUE,...  (extra server settings, e.g. MEMORY_THROTTLE_MAX_KEYS=20000 to watch the cap)
 * The report's serverRssMiB.timeline samples the server's RSS every 5,000 answers (memory flat once a cap is reached:
 * docs/security.md "Memory").
 */
const { spawn } = require("node:child_process");
const { readFileSync, writeFileSync } = require("node:fs");
const { join } = require("node:path");
const { Pool } = require("undici");

const ROOT = join(__dirname, "..");
const { startSimulator } = require(join(ROOT, "dist/simulator/server.js"));
const { SIMULATOR_COMPANY_CODE, SIMULATOR_REGISTRATION_ID } = require(join(ROOT, "dist/config.js"));

const FLAGS = ["requests", "concurrency", "fault-rate", "double-tap-rate", "deadline-ms", "json", "server-env"];
const { values } = require("./cli").parseCli(
  "usage: npm run soak [-- --requests 5000 --concurrency 50 --fault-rate 0.1 --double-tap-rate 0.05\n" +
    "       --deadline-ms 1000 --json <path> --server-env NAME=VALUE,...]\n",
  { options: Object.fromEntries(FLAGS.map((name) => [name, { type: /** @type {const} */ ("string") }])) },
);
/** @param {string} name @param {string} fallback */
const flag = (name, fallback) => /** @type {string | undefined} */ (values[name]) ?? fallback;
const REQUESTS = Number(flag("requests", "5000"));
// Each job's mobile and CIBIL id carry its serial as 6 digits (100000 + i): past 899,999 jobs the number would grow a
// digit and the server would refuse it as a mobile, counted as a failure of the API rather than of the soak.
if (!(REQUESTS >= 1 && REQUESTS <= 899_999)) throw new Error(`--requests must be 1 to 899,999, got ${REQUESTS}`);
const CONCURRENCY = Number(flag("concurrency", "50"));
const FAULT_RATE = Number(flag("fault-rate", "0.1"));
const DOUBLE_TAP_RATE = Number(flag("double-tap-rate", "0.05"));
const DEADLINE_MS = Number(flag("deadline-ms", "1000"));
const JSON_OUT = flag("json", "");
const SERVER_ENV = Object.fromEntries(
  flag("server-env", "")
    .split(",")
    .filter(Boolean)
    .map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]),
);
const FAULTS = ["401", "207", "500", "503", "504", "299", "302"];
/** Codes that promise the request never reached AOPay. */
const NOT_SENT = new Set([
  "UPSTREAM_TIMEOUT",
  "OVERLOADED",
  "OTP_COOLDOWN",
  "OTP_LIMIT_REACHED",
  "RATE_LIMITED",
  "PROTECTION_UNAVAILABLE",
  "IDEMPOTENCY_IN_FLIGHT",
]);
const SUCCESS = new Set(["CibilOtpChallenge", "AepsOtpResent"]);

const GENERATE = `mutation($input: GenerateCibilOtpInput!) { r: generateCibilOtp(input: $input) { __typename ... on Failure { code } } }`;
const RESEND = `mutation($input: ResendAepsOtpInput!) { r: resendAepsOtp(input: $input) { __typename ... on Failure { code } } }`;

function rssMiB(pid) {
  const m = /VmRSS:\s+([0-9]+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : NaN;
}

function percentile(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}

async function freePort() {
  const { createServer } = require("node:net");
  const probe = createServer();
  await new Promise((r) => probe.listen(0, "127.0.0.1", r));
  const { port } = /** @type {import("node:net").AddressInfo} */ (probe.address());
  await new Promise((r) => probe.close(r));
  return port;
}

async function waitReady(url, server) {
  for (let i = 0; i < 100; i++) {
    if (server.exitCode !== null) throw new Error(`server exited with ${server.exitCode}`);
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("server did not become ready in 10 s");
}

async function main() {
  const received = new Map();
  const sim = await startSimulator({
    registrationId: SIMULATOR_REGISTRATION_ID,
    companyCode: SIMULATOR_COMPANY_CODE,
    onRequest: (_endpoint, trigger) => received.set(trigger, (received.get(trigger) ?? 0) + 1),
  });
  const port = await freePort();
  const server = spawn(process.execPath, [join(ROOT, "dist/index.js")], {
    env: {
      PATH: process.env.PATH ?? "",
      NODE_ENV: "production",
      PORT: String(port),
      HOST: "127.0.0.1",
      METRICS_PORT: "0",
      LOG_LEVEL: "warn",
      AOPAY_BASE_URL: sim.url.href,
      AOPAY_REGISTRATION_ID: SIMULATOR_REGISTRATION_ID,
      AOPAY_COMPANY_CODE: SIMULATOR_COMPANY_CODE,
      AOPAY_DEADLINE_MS: String(DEADLINE_MS),
      REQUEST_DEADLINE_MS: String(DEADLINE_MS),
      HMAC_SECRET: "soak-secret-0123456789abcdefghijklmnopqrstuvwxyz",
      AUTH_REQUIRED: "true",
      API_KEYS: "soak:" + require("node:crypto").createHash("sha256").update("aopk_soak_key").digest("hex"),
      // Every destination is used once, so per-destination budgets never bite; service-wide budgets are lifted so
      // that the soak measures the send path, not the global rate limit (which has its own tests).
      OTP_COOLDOWN_SECONDS: "0",
      OTP_WINDOW_MAX: "100",
      OTP_DAILY_MAX: "100",
      OTP_PREFIX_MAX: "1000000",
      OTP_IP_MAX: "1000000",
      OTP_CLIENT_MAX: "1000000",
      OTP_GLOBAL_MAX: "1000000",
      ...SERVER_ENV,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  // The server logs at warn (warnings and errors only); keep its pipes drained and its last words for diagnosis.
  let output = "";
  const keep = (chunk) => (output = (output + chunk.toString()).slice(-20_000));
  server.stdout.on("data", keep);
  server.stderr.on("data", keep);
  const url = `http://127.0.0.1:${port}`;
  await waitReady(url, server).catch((error) => {
    throw new Error(`${error.message}\n${output}`);
  });
  const pool = new Pool(url, { connections: CONCURRENCY * 2, pipelining: 1 });
  const rssBefore = rssMiB(server.pid);
  let rssPeak = rssBefore;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssMiB(server.pid))), 200);

  /** One logical mutation (maybe double-tapped): its destination, and every answer the API gave for it. */
  const jobs = [];
  for (let i = 0; i < REQUESTS; i++) {
    const faulty = Math.random() < FAULT_RATE;
    const suffix = faulty
      ? FAULTS[Math.floor(Math.random() * FAULTS.length)]
      : String(100 + (i % 100)).padStart(3, "0");
    const serial = String(100000 + i).padStart(6, "0");
    const cibil = i % 2 === 0;
    const trigger = cibil ? `9${serial}${suffix}` : `9${serial}${suffix}`;
    jobs.push({ cibil, trigger, tapped: Math.random() < DOUBLE_TAP_RATE, answers: [], latencies: [] });
  }

  const timeline = [];
  let answered = 0;
  const send = async (job, idempotencyKey) => {
    const variables = job.cibil
      ? { input: { cibilId: job.trigger, accessToken: "soak-token-123" } }
      : {
          input: {
            userKey: "SOAK1",
            mobile: job.trigger,
            aadhaar: "234123412346",
            primaryKeyId: "P",
            encodeTxnId: "E",
          },
        };
    const started = performance.now();
    const res = await pool.request({
      path: "/graphql",
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-api-key": "aopk_soak_key",
        ...(idempotencyKey ? { "idempotency-key": idempotencyKey } : {}),
      },
      body: JSON.stringify({ query: job.cibil ? GENERATE : RESEND, variables }),
    });
    const text = await res.body.text();
    job.latencies.push(performance.now() - started);
    if (++answered % 5000 === 0) timeline.push(rssMiB(server.pid));
    try {
      const r = JSON.parse(text).data?.r;
      job.answers.push(r ? (r.code ?? r.__typename) : `HTTP_${res.statusCode}`);
    } catch {
      job.answers.push(`HTTP_${res.statusCode}`);
    }
  };

  const started = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < jobs.length) {
        const job = jobs[next++];
        if (job.tapped) {
          const key = `soak-${job.trigger}`;
          await Promise.all([send(job, key), send(job, key)]);
        } else {
          await send(job);
        }
      }
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  clearInterval(sampler);
  // Let any late (wrong) send arrive before counting.
  await new Promise((r) => setTimeout(r, 300));
  const rssAfter = rssMiB(server.pid);

  const byCode = {};
  const latencies = [];
  let duplicated = 0;
  let lost = 0;
  let falseNotSent = 0;
  for (const job of jobs) {
    for (const a of job.answers) byCode[a] = (byCode[a] ?? 0) + 1;
    latencies.push(...job.latencies);
    const times = received.get(job.trigger) ?? 0;
    if (times > 1) duplicated++;
    if (times === 0 && job.answers.some((a) => SUCCESS.has(a))) lost++;
    if (times > 0 && job.answers.length > 0 && job.answers.every((a) => NOT_SENT.has(a))) falseNotSent++;
  }
  latencies.sort((a, b) => a - b);
  const report = {
    date: new Date().toISOString(),
    node: process.version,
    mutations: REQUESTS,
    requests: latencies.length,
    doubleTapped: jobs.filter((j) => j.tapped).length,
    concurrency: CONCURRENCY,
    faultRate: FAULT_RATE,
    deadlineMs: DEADLINE_MS,
    seconds,
    requestsPerSecond: Math.round(latencies.length / seconds),
    latencyMs: {
      p50: Math.round(percentile(latencies, 50) * 10) / 10,
      p99: Math.round(percentile(latencies, 99) * 10) / 10,
    },
    resultsByCode: Object.fromEntries(Object.entries(byCode).sort(([, a], [, b]) => b - a)),
    upstreamSends: [...received.values()].reduce((a, b) => a + b, 0),
    duplicatedSends: duplicated,
    lostSends: lost,
    falseNotSent,
    serverRssMiB: { before: rssBefore, peak: rssPeak, after: rssAfter, timeline },
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  if (JSON_OUT) writeFileSync(JSON_OUT, `${JSON.stringify(report, null, 2)}\n`);
  await pool.close();
  server.kill("SIGTERM");
  await new Promise((r) => server.once("exit", r));
  await sim.close();
  if (duplicated || lost || falseNotSent) {
    process.stderr.write("SOAK FAILED: duplicated, lost or falsely-not-sent OTP sends\n");
    process.exitCode = 1;
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
