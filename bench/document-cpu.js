#!/usr/bin/env node
// @ts-nocheck -- a measurement script of the "CPU before refusal" audit (docs/security.md), kept to repeat it.
"use strict";
/**
 * Server CPU per request for each kind of document an attacker can send within the limits, against a normal
 * resendAepsOtp (docs/security.md "CPU before refusal"). Starts the simulator and two servers from dist/ (production
 * with an API key, development anonymous; ADMISSION_MAX_EVENT_LOOP_DELAY_MS=0, else a blocked loop sheds everything),
 * sends each shape one request at a time, its text varied by a trailing comment so that no cache answers it, until
 * 300 ms of the server's CPU (/proc/<pid>/stat) are counted, and prints the median of the rounds.
 *
 *   node bench/document-cpu.js <label> [rounds=3]
 *   env: ROOT (a directory holding another build's dist/, to measure it), TOKENS (the token limit the shapes are sized
 *   to, default 250), REPEATS (the repeat cap, 16), GRAPHQL_MAX_TOKENS (passed to the servers), ONLY (a regexp of
 *   shape names). Noisy on a shared machine: compare ratios from one run.
 */
const { Lexer, Source, TokenKind, getIntrospectionQuery } = require("graphql");

const rep = (n, f) => Array.from({ length: n }, (_, i) => f(i)).join(" ");
function tokens(s) {
  const l = new Lexer(new Source(s));
  let n = 0;
  while (l.advance().kind !== TokenKind.EOF) n++;
  return n;
}
const RESEND =
  "mutation ResendAepsOtp($input: ResendAepsOtpInput!) { resendAepsOtp(input: $input) { __typename ... on AepsOtpResent { upstreamMessage upstreamResponseCode upstreamErrorCode primaryKeyId encodeTxnId maskedAadhaar maskedMobile resendAvailableInSeconds } } }";
const shapesFor = (T, R) => {
  const fit = (f) => {
    for (let n = T; n > 0; n--) {
      const d = f(n);
      if (tokens(d) < T) return d;
    }
    throw new Error("no fit");
  };
  return {
    "dup __typename (one set)": fit((n) => `{ ${"__typename ".repeat(n)}}`),
    "dup leaf in object": fit((n) => `{ serviceInfo { ${"upstream ".repeat(n)}} }`),
    "dup object fields": fit((n) => `{ ${"serviceInfo { upstream } ".repeat(n)}}`),
    "inline fragments same field": fit((n) => `{ ${"... on Query { __typename } ".repeat(n)}}`),
    "one fragment spread many times": fit((n) => `{ ${"...F ".repeat(n)}} fragment F on Query { __typename }`),
    "many fragments same field": fit(
      (n) => `{ ${rep(n, (i) => `...F${i}`)} } ${rep(n, (i) => `fragment F${i} on Query { __typename }`)}`,
    ),
    "fragment chain x2 (query)": fit(
      (n) =>
        `{ ...F0 } ${rep(n, (i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`)} fragment F${n} on Query { __typename }`,
    ),
    "fragment chain x2 (mutation, 20 links)": `mutation { ...F0 } ${rep(20, (i) => `fragment F${i} on Mutation { ...F${i + 1} ...F${i + 1} }`)} fragment F20 on Mutation { __typename }`,
    // At the repeat cap R: as many copies (up to R) of an object field as fit, each with R copies of a leaf.
    "R x R nested repeats": fit((n) => `{ ${rep(Math.min(n, R), () => `serviceInfo { ${"upstream ".repeat(R)}}`)} }`),
    "R repeats of a fragment with R fields": fit(
      (n) =>
        `{ serviceInfo { ${"...F ".repeat(R)}} } fragment F on ServiceInfo { ${"upstream ".repeat(Math.min(n, R))}}`,
    ),
    "many distinct unknown fields": fit((n) => `{ ${rep(n, (i) => `f${i}`)} }`),
    "many operations + operationName": fit((n) => rep(n, (i) => `query Q${i} { __typename }`)),
    "many variable definitions": fit((n) => `query(${rep(n, (i) => `$v${i}: Int`)}) { __typename }`),
    "many directives (skip false)": fit((n) => `{ ${rep(n, () => "__typename @skip(if: false)")} }`),
    "long string argument": `{ cibilCreditHistory(cibilId: "${"1".repeat(7900)}") { __typename } }`,
    "deep list value": fit((n) => `{ serviceInfo(a: ${"[".repeat(n)}${"]".repeat(n)}) { upstream } }`),
    "large object value": fit((n) => `{ serviceInfo(a: {${rep(n, (i) => `k${i}: 1`)}}) { upstream } }`),
    "introspection (all options)": getIntrospectionQuery({
      descriptions: true,
      specifiedByUrl: true,
      directiveIsRepeatable: true,
      schemaDescription: true,
      inputValueDeprecation: true,
      oneOf: true,
    }),
    RESEND,
  };
};

const { spawn, execFileSync } = require("node:child_process");
const fs = require("node:fs");
const { request, Agent } = require("undici");
const { aadhaarFor } = require("./lib/mutations");

const ROOT = process.env.ROOT ?? require("node:path").join(__dirname, "..");
const { SIMULATOR_REGISTRATION_ID, SIMULATOR_COMPANY_CODE } = require(`${ROOT}/dist/config.js`);
const T = Number(process.env.TOKENS ?? 250),
  R = Number(process.env.REPEATS ?? 16);
const ROUNDS = Number(process.argv[3] ?? 3);
const TICK_MS = 1000 / Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
const ticks = (pid) => {
  const t = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = t.slice(t.lastIndexOf(")") + 2).split(" ");
  return Number(f[11]) + Number(f[12]);
};
const API_KEY = "aopk_test_0123456789abcdefghijklmnopqrstuvwxyzABCDEF";
const { hashApiKey } = require(`${ROOT}/dist/auth/authenticator.js`);
const SECURITY = {
  HMAC_SECRET: "test-hmac-secret-0123456789-abcdefghijklmnop",
  API_KEYS: `bench:${hashApiKey(API_KEY)}`,
  STORE_ENCRYPTION_KEYS: `test1:${Buffer.alloc(32, 0x5a).toString("base64")}`,
};
const LENIENT = {
  BREAKER_VOLUME_THRESHOLD: "100000",
  OTP_COOLDOWN_SECONDS: "0",
  // The most these two take (src/protection/otp-throttle.settings.ts MAX_DESTINATION_POINTS): 100000 is refused at
  // start since the destination windows slide (a destination keeps that many send times).
  OTP_WINDOW_MAX: "100",
  OTP_DAILY_MAX: "100",
  OTP_PREFIX_MAX: "100000",
  OTP_IP_MAX: "100000",
  OTP_CLIENT_MAX: "100000",
  OTP_GLOBAL_MAX: "100000",
  OTP_VERIFY_MAX: "100000",
  OTP_VERIFY_IP_MAX: "100000",
  OTP_VERIFY_CLIENT_MAX: "100000",
  MEMORY_THROTTLE_MAX_KEYS: "1000000",
};
function start(args, env, readyRe) {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    const on = (d) => {
      out += d;
      const m = out.match(readyRe);
      if (m) resolve({ child, match: m });
    };
    child.stdout.on("data", on);
    child.stderr.on("data", on);
    child.on("exit", (c) => reject(new Error(`exited ${c}: ${out.slice(-2000)}`)));
  });
}
const shapes = shapesFor(T, R);
let n = 0;
function body(name, doc) {
  n++;
  if (name === "resendAepsOtp (normal, fast path)") {
    const id = 6000000000 + n;
    return JSON.stringify({
      operationName: "ResendAepsOtp",
      query: shapes.RESEND,
      variables: {
        input: {
          userKey: `BK${n.toString(36)}`,
          mobile: String(id),
          aadhaar: aadhaarFor(n),
          primaryKeyId: `PK${n}`,
          encodeTxnId: `TX${n}`,
        },
      },
    });
  }
  if (name.startsWith("variables")) return doc(n);
  if (name === "APQ unknown hash")
    return JSON.stringify({
      extensions: { persistedQuery: { version: 1, sha256Hash: (n.toString(16) + "0".repeat(64)).slice(0, 64) } },
    });
  const op = name === "many operations + operationName" ? { operationName: "Q0" } : {};
  return JSON.stringify({ ...op, query: `${doc}\n#${n}` });
}
async function main() {
  const label = process.argv[2];
  const sim = await start(
    ["dist/simulator/main.js"],
    { SIMULATOR_PORT: "0", LOG_LEVEL: "info" },
    /"url":"(http[^"]+)"/,
  );
  const simUrl = sim.match[1];
  const servers = {};
  for (const mode of ["production", "development"]) {
    const env = {
      ADMISSION_MAX_EVENT_LOOP_DELAY_MS: "0",
      NODE_ENV: mode,
      PORT: "0",
      METRICS_PORT: "0",
      LOG_LEVEL: "info",
      LOG_FORMAT: "json",
      AOPAY_BASE_URL: simUrl,
      AOPAY_REGISTRATION_ID: SIMULATOR_REGISTRATION_ID,
      AOPAY_COMPANY_CODE: SIMULATOR_COMPANY_CODE,
      ...LENIENT,
      ...(mode === "production" ? SECURITY : {}),
      ...(process.env.GRAPHQL_MAX_TOKENS ? { GRAPHQL_MAX_TOKENS: process.env.GRAPHQL_MAX_TOKENS } : {}),
    };
    const s = await start(["dist/index.js"], env, /"url":"(http:\/\/[^"]+)\/graphql"/);
    servers[mode] = { child: s.child, url: s.match[1] };
  }
  console.error(servers.production.url, servers.development.url);
  const cases = [["resendAepsOtp (normal, fast path)", null, "production", true]];
  for (const [name, doc] of Object.entries(shapes))
    if (name !== "RESEND") {
      cases.push([name, doc, "production", true]);
      cases.push([name, doc, "development", false]);
    }
  const bigVars = (depth) => (i) => {
    let v = 1;
    for (let d = 0; d < depth; d++) v = { a: v, b: [v] };
    return JSON.stringify({ query: shapes.RESEND + `\n#${i}`, variables: { input: v } });
  };
  const nested = (i) =>
    `{"query":${JSON.stringify(shapes.RESEND + `\n#${i}`)},"variables":{"input":${"[".repeat(5000)}${"]".repeat(5000)}}}`;
  const dupKeys = (i) =>
    `{"query":${JSON.stringify(shapes.RESEND + `\n#${i}`)},"variables":{"input":{${Array.from({ length: 1200 }, () => '"mobile":"9876543210"').join(",")}}}}`;
  cases.push(["variables: 30 kB nested object", bigVars(11), "production", true]);
  cases.push(["variables: 5,000-deep array", nested, "production", true]);
  cases.push(["variables: 1,200 duplicated keys", dupKeys, "production", true]);
  cases.push(["APQ unknown hash", null, "production", true]);
  cases.push(["pre-auth: 490 dup fields, no credentials", shapes["dup __typename (one set)"], "production", false]);
  cases.push(["pre-auth: bad API key", shapes["dup __typename (one set)"], "production", "bad"]);
  cases.push(["GET: dup __typename", shapes["dup __typename (one set)"], "production", "get"]);
  cases.push(["batched array of 2", null, "production", "batch"]);
  const agent = new Agent({ connections: 1, pipelining: 1 });
  const send = async (c) => {
    const [name, doc, mode, auth] = c;
    const url = servers[mode].url.replace(/\/$/, "") + "/graphql";
    const headers = { "content-type": "application/json" };
    if (auth === true || auth === "batch") headers["x-api-key"] = API_KEY;
    if (auth === "bad") headers["x-api-key"] = "aopk_wrong_0123456789abcdefghijklmnopqrstuvwxyzABCDEF";
    if (auth === "get") {
      headers["x-api-key"] = API_KEY;
      headers["apollo-require-preflight"] = "1";
      const r = await request(`${url}?query=${encodeURIComponent(`${doc}\n#${++n}`)}`, { headers, dispatcher: agent });
      const t = await r.body.text();
      return [r.statusCode, t];
    }
    const b =
      auth === "batch"
        ? JSON.stringify([{ query: `{ __typename }#${++n}` }, { query: "{ __typename }" }])
        : body(name, doc);
    const r = await request(url, { method: "POST", headers, body: b, dispatcher: agent });
    const t = await r.body.text();
    return [r.statusCode, t];
  };
  if (process.env.ONLY) {
    const re = new RegExp(process.env.ONLY);
    for (let i = cases.length - 1; i > 0; i--) if (!re.test(cases[i][0])) cases.splice(i, 1);
  }
  const results = new Map();
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of cases) {
      const pid = servers[c[2]].child.pid;
      // Warm-up (JIT), then requests until 300 ms of server CPU (30 ticks) are counted, at least 20, at most 3000.
      let first;
      for (let i = 0; i < 10; i++) first = await send(c);
      const t0 = ticks(pid);
      let k = 0;
      const w0 = performance.now();
      while (k < 3000 && ((ticks(pid) - t0) * TICK_MS < 300 || k < 20) && performance.now() - w0 < 30000) {
        for (let i = 0; i < 10; i++) await send(c);
        k += 10;
      }
      const ms = ((ticks(pid) - t0) * TICK_MS) / k;
      const key = `${c[0]} [${c[2] === "production" ? "prod" : "dev"}${c[3] === false ? ", anon" : ""}]`;
      if (!results.has(key))
        results.set(key, {
          runs: [],
          answer: `${first[0]} ${first[1].slice(0, 110).replace(/"requestId":"[^"]+"/, "")}`,
        });
      results.get(key).runs.push(ms);
      console.error(`round ${round} ${key} ${ms.toFixed(3)} ms (${k} requests) ${first[0]}`);
    }
  }
  const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const base = med(results.get("resendAepsOtp (normal, fast path) [prod]").runs);
  console.log(
    `# ${label}: TOKENS=${T} REPEATS=${R}, server CPU ms/request, median of ${ROUNDS} rounds [runs]; x = ratio to resendAepsOtp`,
  );
  for (const [key, r] of results)
    console.log(
      `${key.padEnd(58)} ${med(r.runs).toFixed(3).padStart(8)} ms ${(med(r.runs) / base).toFixed(1).padStart(6)}x [${r.runs.map((x) => x.toFixed(2)).join(", ")}]  ${r.answer}`,
    );
  for (const s of Object.values(servers)) s.child.kill();
  sim.child.kill();
  await agent.close();
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
