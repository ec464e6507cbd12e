#!/usr/bin/env node
// @ts-check
"use strict";
/**
 * Micro-benchmark of the GraphQL execution and resolver layer alone: graphql-js `execute` of the bench's document
 * (lib/mutations.js, the union document our server gets) on the real schema (`createSchema`: type-graphql, the
 * validation and canonicalisation, guardedSend, the result union), as FastPath.run calls it, then `JSON.stringify` of
 * the result. No HTTP, no Apollo: the context's send guard calls the upstream stub at once and settles (what
 * SendGuard.run does when nothing is claimed or throttled), and the upstream stub answers the documented example
 * (AepsResendOtpAnswer / CibilGenerateOtpAnswer) at once. Every request has fresh variables (lib/mutations.js), and
 * every result is checked. Reads the compiled server (`npm run build`), or another build given as the argument (a base
 * copy, to compare two commits interleaved).
 *
 *   node bench/resolver-micro.js [dist dir] [--mutation aeps|cibil] [--ops 20000] [--batches 7] [--warm 20000]
 *     prints CPU µs per operation (process.cpuUsage over each batch; median and every batch)
 *   valgrind --tool=callgrind --separate-threads=yes node --expose-gc bench/resolver-micro.js --batches 1 --cg
 *     main-thread instructions of one batch: the counters are zeroed before it and dumped after it
 *     (callgrind_control), so the thread-1 dump of part 1 holds exactly the batch; divide its summary by --ops
 */
const path = require("node:path");
const { parseArgs } = require("node:util");
const { measureBatches } = require("./lib/micro");
const { MUTATIONS } = require("./lib/mutations");
const { fixtures } = require("./lib/aopay-wire");

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    mutation: { type: "string", default: "aeps" },
    ops: { type: "string", default: "20000" },
    batches: { type: "string", default: "7" },
    warm: { type: "string", default: "20000" },
    cg: { type: "boolean", default: false },
  },
});
// As the bench runs every server (lib/systems.js): graphql-js's instanceOf, among others, checks more outside
// production.
process.env.NODE_ENV = "production";
const ROOT = path.join(__dirname, "..");
const dist = path.resolve(positionals[0] ?? path.join(ROOT, "dist"));
const req = (/** @type {string} */ id) => require(require.resolve(id, { paths: [dist, ROOT] }));
req("reflect-metadata");
const { execute, parse } = req("graphql");
const { createSchema } = require(path.join(dist, "graphql/schema.js"));
const { CustomerRefs } = require(path.join(dist, "protection/customer-refs.js"));

const key = values.mutation === "cibil" ? "cibil" : "aeps";
const m = MUTATIONS[key];
const N = Number(values.ops);
const B = Number(values.batches);
const W = Number(values.warm);

const cibil = fixtures.cibil;
const q = cibil.result.questions;
/** The documented examples' answers, as the AopayClient methods return them (src/aopay/endpoints). */
const upstream = {
  aeps: {
    resendOtp: async (/** @type {any} */ input) => ({
      upstreamMessage: "OTP Resend Request Completed",
      upstreamResponseCode: 1,
      maskedAadhaar: `XXXX XXXX ${input.aadhaar.slice(-4)}`,
      maskedMobile: `XXXXXX${input.mobile.slice(-4)}`,
      upstreamErrorCode: "0",
      primaryKeyId: fixtures.aeps.data.data.primaryKeyId,
      encodeTxnId: fixtures.aeps.data.data.encodeTxnId,
    }),
  },
  cibil: {
    generateOtp: async () => ({
      cibilId: cibil.result.cibil_id,
      status: "PENDING",
      question: {
        key: q.Key,
        text: q.FullQuestionText,
        lastChance: false,
        skipEligible: false,
        resendEligible: true,
        answerChoices: [
          { id: q.AnswerChoice.AnswerChoiceId, key: q.AnswerChoice.Key, text: q.AnswerChoice.AnswerChoiceText },
        ],
      },
      nextStep: "VERIFY_ANSWERS",
      nextStepName: cibil.result.next_api_call,
      merchantTransactionId: cibil.merchant_trans_id,
    }),
  },
};

/** SendGuard.run without an Idempotency-Key and with every budget open: call once, settle, "sent". */
const guard = {
  async run(/** @type {any} */ r) {
    const value = await r.call({});
    return { kind: "sent", result: r.settle({ value }, { nextSendAt: 0 }) };
  },
};

/**
 * The log's customer references as the server keys them (one HMAC per identifier the request names): the resolvers
 * note them on the summary (graphql/customer-refs.ts), so they are this layer's work. A context without them failed
 * every operation ("reading 'note'") since the references moved into the resolvers.
 */
const customerRefs = new CustomerRefs(Buffer.alloc(32, 2));

/** A GraphQLContext as http/graphql-route.ts builds one, with what this layer reads. */
function context() {
  return {
    requestId: "r",
    log: { error() {}, warn() {}, info() {}, debug() {} },
    aopay: upstream,
    upstreamMode: "simulator",
    client: { id: "bench-client" },
    ip: "203.0.113.9",
    idempotencyKey: undefined,
    // registeredMobiles: a store without sendMark, as the in-memory one (the Redis store's marks its budgets' take;
    // the stub guard above never calls `prepare`, so nothing else of it is read).
    protection: { guard, customerRefs, registeredMobiles: {} },
    responseHeaders: new Map(),
    callOptions: () => ({}),
    loaders: undefined,
    summary: { operation: null, result: null },
    trace: {},
  };
}

/** @param {number} n */
function inputs(n) {
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = m.request(i);
  return out;
}

/** @param {any} schema @param {any} document @param {Array<{ id: number, input: object }>} list */
async function run(schema, document, list) {
  for (let i = 0; i < list.length; i++) {
    const { id, input } = list[i];
    const result = await execute({
      schema,
      document,
      contextValue: context(),
      variableValues: { input },
      operationName: m.operationName,
    });
    const body = JSON.stringify({ data: result.data }) + "\n";
    if (result.errors || !m.isOk(body, id)) throw new Error(`wrong answer: ${body}`);
  }
}

async function main() {
  const schema = await createSchema();
  const document = parse(m.documents.union);
  await run(schema, document, inputs(W)); // JIT warm-up
  const measured = await measureBatches({
    batches: B,
    perBatch: N,
    cg: values.cg,
    prepare: () => inputs(N),
    run: (list) => run(schema, document, list),
  });
  process.stdout.write(
    `${JSON.stringify({ dist: path.relative(process.cwd(), dist) || ".", mutation: key, ops: N, ...measured })}\n`,
  );
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
