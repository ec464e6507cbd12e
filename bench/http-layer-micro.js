#!/usr/bin/env node
// @ts-check
"use strict";
/**
 * What the HTTP layer alone costs per request: the question "Fastify against a thin node:http layer in front
 * of executeHTTPGraphQLRequest (measure before you choose)". Each kind of server answers a POST of a 400-byte JSON
 * body with the same 200-byte JSON answer and an `x-request-id` header, and does nothing else (no GraphQL, no
 * upstream), so the difference between kinds is the framework's own work:
 *
 *   node           node:http: collect the body, JSON.parse, write the answer
 *   fastify        Fastify 5 defaults (logger off), one POST route, its JSON body parser (secure-json-parse)
 *   fastify-hooks  the same with the hooks our server registers (src/http/http-server.ts, admission.ts, cors.ts):
 *                  four onRequest, one preHandler, one onSend, and @fastify/cors, each doing no work of its own
 *
 * Each kind runs in its own child process, one at a time, in interleaved rounds; autocannon (in this process) sends
 * `--requests` requests on `--connections` connections after `--warmup`, and the child's CPU time (all threads,
 * /proc/<pid>/stat) over the measured requests is divided by their number. Ratios (differences) of kinds within one
 * round are what to read: the machine's 2 shared cores move the absolute figures.
 *
 * Usage: node bench/http-layer-micro.js [--rounds 5] [--requests 20000] [--warmup 5000] [--connections 32]
 *        [--kinds node,fastify,fastify-hooks]
 */
const { spawn } = require("node:child_process");
const { parseArgs } = require("node:util");
const { cpuMicros, mainThreadCpuMicros } = require("./lib/proc");
const { NODE_FLAGS } = require("./lib/systems");

const BODY = JSON.stringify({
  operationName: "ResendAepsOtp",
  query: "mutation ResendAepsOtp($input: ResendAepsOtpInput!) { resendAepsOtp(input: $input) { __typename } }",
  variables: {
    input: { userKey: "AOP554N3XXXX", mobile: "9876543210", aadhaar: "234123412346", primaryKeyId: "TEST" },
  },
}).padEnd(400, " ");
const ANSWER = JSON.stringify({ data: { resendAepsOtp: { __typename: "AepsOtpResent", x: "y".repeat(140) } } });
const KINDS = ["node", "fastify", "fastify-hooks"];

if (process.argv[2] === "--serve") serve(process.argv[3] ?? "node");
else void main();

/** The child: one kind of server on an ephemeral port; prints the port. @param {string} kind */
async function serve(kind) {
  const id = () => "5ccb9b18-8764-4bd3-91cc-008acf339ff3";
  /** @type {import("node:http").Server} */
  let server;
  if (kind === "node") {
    const http = require("node:http");
    server = http.createServer((req, res) => {
      /** @type {Buffer[]} */
      const chunks = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        if (typeof body.query !== "string") res.statusCode = 400;
        res.setHeader("content-type", "application/json; charset=utf-8");
        res.setHeader("x-request-id", id());
        res.end(ANSWER);
      });
    });
    server.listen(0, "127.0.0.1");
  } else {
    const Fastify = require("fastify");
    const fastify = Fastify({ logger: false });
    if (kind === "fastify-hooks") {
      // The shapes of our hooks (callback style, as src/http/http-server.ts writes them), without their work.
      const pass = (/** @type {any} */ _req, /** @type {any} */ _reply, /** @type {() => void} */ done) => done();
      fastify.addHook("onRequest", (_req, reply, done) => {
        reply.header("x-request-id", id());
        done();
      });
      fastify.addHook("onRequest", pass);
      fastify.addHook("onRequest", pass);
      fastify.addHook("preHandler", pass);
      fastify.addHook("onSend", (_req, _reply, payload, done) => done(null, payload));
      await fastify.register(require("@fastify/cors"), { origin: ["http://localhost:5173"] });
    }
    fastify.post("/graphql", async (request, reply) => {
      const body = /** @type {any} */ (request.body);
      if (typeof body?.query !== "string") reply.code(400);
      if (kind === "fastify") reply.header("x-request-id", id());
      reply.header("content-type", "application/json; charset=utf-8");
      return ANSWER;
    });
    await fastify.listen({ port: 0, host: "127.0.0.1" });
    server = fastify.server;
  }
  server.on("listening", () => undefined);
  const wait = () => new Promise((r) => (server.listening ? r(undefined) : server.once("listening", r)));
  await wait();
  const address = server.address();
  process.stdout.write(`${typeof address === "object" && address ? address.port : 0}\n`);
}

async function main() {
  const { values } = parseArgs({
    options: {
      rounds: { type: "string", default: "5" },
      requests: { type: "string", default: "20000" },
      warmup: { type: "string", default: "5000" },
      connections: { type: "string", default: "32" },
      kinds: { type: "string", default: KINDS.join(",") },
    },
  });
  const kinds = values.kinds.split(",");
  const requests = Number(values.requests);
  const warmup = Number(values.warmup);
  const connections = Number(values.connections);
  /** @type {Record<string, number[][]>} */
  const results = Object.fromEntries(kinds.map((k) => [k, []]));
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const kind of kinds) {
      const r = await measure(kind, requests, warmup, connections);
      results[kind].push([r.all, r.main]);
      process.stdout.write(
        `round ${round} ${kind.padEnd(14)} ${r.all.toFixed(1).padStart(6)} µs/req (main ${r.main.toFixed(1)})  ${r.rps.toFixed(0)} req/s\n`,
      );
    }
  }
  const median = (/** @type {number[]} */ xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const base = results[kinds[0]];
  process.stdout.write(
    `\nmedians (CPU µs per request, all threads / main thread; difference to ${kinds[0]} per round)\n`,
  );
  for (const kind of kinds) {
    const all = results[kind].map((x) => x[0]);
    const diffs = results[kind].map((x, i) => x[0] - base[i][0]);
    process.stdout.write(
      `  ${kind.padEnd(14)} ${median(all).toFixed(1).padStart(6)} / ${median(results[kind].map((x) => x[1])).toFixed(1)}` +
        `   minus ${kinds[0]}: ${median(diffs).toFixed(1)} µs [${diffs.map((x) => x.toFixed(1)).join(", ")}]\n`,
    );
  }
}

/** @param {string} kind @param {number} requests @param {number} warmup @param {number} connections */
async function measure(kind, requests, warmup, connections) {
  const autocannon = require("autocannon");
  // The Node flags `npm start` ships with, as every system of the bench gets them (lib/systems.js, NODE_FLAGS).
  const child = spawn(process.execPath, [...NODE_FLAGS, __filename, "--serve", kind], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise((resolve, reject) => {
    child.stdout.once("data", (d) => resolve(Number(String(d).trim())));
    child.once("exit", (code) => reject(new Error(`${kind} exited ${code}`)));
  });
  const url = `http://127.0.0.1:${port}/graphql`;
  const opts = {
    url,
    method: /** @type {const} */ ("POST"),
    headers: { "content-type": "application/json", origin: "http://localhost:5173" },
    body: BODY,
    connections,
  };
  await autocannon({ ...opts, amount: warmup });
  const pid = /** @type {number} */ (child.pid);
  const [all0, main0, t0] = [cpuMicros(pid), mainThreadCpuMicros(pid), performance.now()];
  const result = await autocannon({ ...opts, amount: requests });
  const [all1, main1, t1] = [cpuMicros(pid), mainThreadCpuMicros(pid), performance.now()];
  child.kill();
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${kind}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { all: (all1 - all0) / requests, main: (main1 - main0) / requests, rps: requests / ((t1 - t0) / 1000) };
}
