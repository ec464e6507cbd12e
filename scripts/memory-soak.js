// @ts-check
"use strict";
/**
 * Heap of the whole server per OTP destination, after forced garbage collection (`npm run build`, then
 * `node --expose-gc scripts/memory-soak.js`; not part of `npm test`). Runs the production build in this process (so
 * that it can call gc()) in front of a stateless stand-in for AOPay (GenerateOTP's documented example, the same for
 * every call: the simulator would keep per-customer state in this heap), in memory (no REDIS_URL), sends N mutations to N distinct
 * destinations over loopback HTTP (each a CIBIL id and its access token: two throttle entries per send since both are
 * budgeted), and prints heapUsed after GC every `--every` sends: the growth per destination
 * while under the cap, and a flat line once MEMORY_THROTTLE_MAX_KEYS is reached (sends past it are refused,
 * PROTECTION_UNAVAILABLE). Figures in docs/security.md "Memory".
 *
 * Flags: --sends 40000  --every 5000  --concurrency 20  --throttle-max-keys 1000000  --idempotency (send an Idempotency-Key)
 */
require("reflect-metadata");
const { join } = require("node:path");
const { Pool } = require("undici");

const ROOT = join(__dirname, "..");
const { loadConfig, SIMULATOR_COMPANY_CODE, SIMULATOR_REGISTRATION_ID } = require(join(ROOT, "dist/config.js"));
const { startStack } = require(join(ROOT, "dist/stack.js"));
const { createServer } = require("node:http");
const { readFileSync } = require("node:fs");
const { createLogger } = require(join(ROOT, "dist/logging/logger.js"));

const { values } = require("./cli").parseCli(
  "usage: npm run soak:memory [-- --sends 40000 --every 5000 --concurrency 20 --throttle-max-keys 1000000\n" +
    "       --idempotency]\n",
  {
    options: {
      ...Object.fromEntries(
        ["sends", "every", "concurrency", "throttle-max-keys"].map((name) => [
          name,
          { type: /** @type {const} */ ("string") },
        ]),
      ),
      idempotency: { type: "boolean" },
    },
  },
);
/** @param {string} name @param {string} fallback */
const flag = (name, fallback) => /** @type {string | undefined} */ (values[name]) ?? fallback;
const SENDS = Number(flag("sends", "40000"));
const EVERY = Number(flag("every", "5000"));
const CONCURRENCY = Number(flag("concurrency", "20"));
const MAX_KEYS = flag("throttle-max-keys", "1000000");
const IDEMPOTENCY = values.idempotency === true;
const GENERATE = `mutation($input: GenerateCibilOtpInput!) { r: generateCibilOtp(input: $input) { __typename ... on Failure { code } } }`;

if (typeof global.gc !== "function") {
  process.stderr.write("run with node --expose-gc\n");
  process.exit(2);
}
const heapMiB = () => {
  global.gc();
  global.gc();
  return Math.round(process.memoryUsage().heapUsed / 1024 / 102.4) / 10;
};

async function main() {
  const answer = readFileSync(join(ROOT, "test/fixtures/aopay/cibil/generate-otp.success.json"));
  const upstream = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end(answer));
  });
  await new Promise((r) => upstream.listen(0, "127.0.0.1", r));
  const upstreamUrl = `http://127.0.0.1:${/** @type {import("node:net").AddressInfo} */ (upstream.address()).port}`;
  const config = loadConfig({
    NODE_ENV: "production",
    HOST: "127.0.0.1",
    PORT: "0",
    METRICS_PORT: "0",
    LOG_LEVEL: "error",
    AOPAY_BASE_URL: upstreamUrl,
    AOPAY_REGISTRATION_ID: SIMULATOR_REGISTRATION_ID,
    AOPAY_COMPANY_CODE: SIMULATOR_COMPANY_CODE,
    HMAC_SECRET: "memory-soak-secret-0123456789abcdefghijklmnop",
    API_KEYS: "soak:" + require("node:crypto").createHash("sha256").update("aopk_soak_key").digest("hex"),
    // The default per-destination budgets (cooldown, window, daily: 3 entries per destination); the shared budgets
    // lifted so that every send to a new destination is allowed.
    OTP_IP_MAX: "10000000",
    OTP_CLIENT_MAX: "10000000",
    OTP_GLOBAL_MAX: "10000000",
    MEMORY_THROTTLE_MAX_KEYS: MAX_KEYS,
    // One client filling the whole table: no per-client share (MEMORY_THROTTLE_CLIENT_SHARE_PERCENT's default half).
    MEMORY_THROTTLE_CLIENT_SHARE_PERCENT: "100",
  });
  const logger = createLogger({ level: "error", format: "json", secrets: [], destination: { write: () => undefined } });
  const stack = await startStack(config, { logger });
  const base = await stack.app.listen();
  const pool = new Pool(base, { connections: CONCURRENCY });
  const codes = {};
  const send = async (i) => {
    const res = await pool.request({
      path: "/graphql",
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-api-key": "aopk_soak_key",
        ...(IDEMPOTENCY ? { "idempotency-key": `mk-${i}` } : {}),
      },
      body: JSON.stringify({
        query: GENERATE,
        variables: {
          input: { cibilId: String(800000000 + i * 1000 + 100 + (i % 100)), accessToken: `soak-token-${i}` },
        },
      }),
    });
    const r = JSON.parse(await res.body.text()).data?.r;
    const code = r ? (r.code ?? r.__typename) : `HTTP_${res.statusCode}`;
    codes[code] = (codes[code] ?? 0) + 1;
  };
  // Warm-up on destinations outside the measured range, then the baseline.
  for (let i = 0; i < 500; i += CONCURRENCY)
    await Promise.all(Array.from({ length: CONCURRENCY }, (_, j) => send(SENDS + 1 + i + j)));
  const baseline = heapMiB();
  const samples = [];
  for (let done = 0; done < SENDS;) {
    const batch = Math.min(EVERY, SENDS - done);
    for (let i = 0; i < batch; i += CONCURRENCY) {
      await Promise.all(Array.from({ length: Math.min(CONCURRENCY, batch - i) }, (_, j) => send(done + i + j)));
    }
    done += batch;
    const heap = heapMiB();
    samples.push({
      sends: done,
      heapMiB: heap,
      bytesPerDestination: Math.round(((heap - baseline) * 1024 * 1024) / done),
    });
  }
  const report = {
    node: process.version,
    sends: SENDS,
    throttleMaxKeys: Number(MAX_KEYS),
    idempotency: IDEMPOTENCY,
    baselineHeapMiB: baseline,
    samples,
    codes,
    rssMiB: Math.round(process.memoryUsage().rss / 1024 / 102.4) / 10,
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  await pool.close();
  await stack.stop();
  upstream.closeAllConnections();
  await new Promise((r) => upstream.close(r));
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
