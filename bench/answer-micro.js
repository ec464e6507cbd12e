#!/usr/bin/env node
// @ts-check
"use strict";
/**
 * Instructions per upstream answer on our side of the AOPay call, for the CIBIL send (GenerateOTP) or the AEPS resend,
 * under callgrind: each iteration does what a request does with the bench's answer (test/fixtures/aopay/, as the fake
 * upstream sends it, re-serialised without indentation): a fresh `Scrubber.forRequest` over the request's own values
 * (a new CIBIL id and token, or mobile and ids, per iteration, as in the bench), `interpretResponse` (the envelope, its
 * code and merchant reference scrubbed), `unknownKeysOf` and the endpoint's `fromWire` (the texts it keeps, scrubbed).
 * `--part reference` runs only the CIBIL merchant reference's `scrubbedMerchantReference` (an older build's
 * `scrubbedReference`) on a fresh request scrubber per iteration (with `--part base`, the scrubber alone, to
 * subtract). Reads the compiled server (`npm run build`), or another build given by `--dist` (a `git archive` copy's,
 * to compare two commits).
 *
 *   node bench/answer-micro.js --callgrind [--mutation cibil|aeps] [--part answer|reference|base] [--dist dir]
 *     runs the loop under `valgrind --tool=callgrind` (node --single-threaded) at 5,000 and 25,000 iterations and
 *     prints (instructions at 25,000 − at 5,000) / 20,000: per answer, the JIT's warm-up and the start cancel out
 *     (repeat runs agree within about 0.2 %; a few minutes on a loaded 2-core machine)
 *   node bench/answer-micro.js --iterations N [--mutation ...] [--part ...] [--dist dir]
 *     the loop alone (what --callgrind runs); every iteration's result is checked (the fixture's cibilId or
 *     primaryKeyId, no unknown keys; the reference unchanged): anything else stops the run with exit 1, and a run
 *     that ends prints one JSON line (dist, mutation, part, iterations, checked)
 */
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { execFileSync } = require("node:child_process");
const { parseArgs } = require("node:util");
const { dumpSummary } = require("./lib/valgrind");

const { values } = parseArgs({
  options: {
    mutation: { type: "string", default: "cibil" },
    part: { type: "string", default: "answer" },
    dist: { type: "string" },
    iterations: { type: "string", default: "25000" },
    callgrind: { type: "boolean", default: false },
  },
});
const ROOT = path.join(__dirname, "..");
const dist = path.resolve(values.dist ?? path.join(ROOT, "dist"));
const mutation = values.mutation;
if (mutation !== "cibil" && mutation !== "aeps") throw new Error(`--mutation cibil or aeps, not ${mutation}`);
const part = values.part;
if (!["answer", "reference", "base"].includes(String(part))) throw new Error(`--part answer|reference|base`);

if (values.callgrind) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "answer-micro-"));
  /** @param {number} n */
  const instructions = (n) => {
    const out = path.join(dir, `callgrind.out.${n}`);
    const args = ["--tool=callgrind", `--callgrind-out-file=${out}`, process.execPath, "--single-threaded"];
    args.push(__filename, "--mutation", mutation, "--part", String(part), "--dist", dist, "--iterations", String(n));
    execFileSync("valgrind", args, { stdio: "ignore" });
    return dumpSummary(out).ir;
  };
  const low = instructions(5_000);
  const high = instructions(25_000);
  console.log(
    `${mutation} ${part} (${dist}): ${Math.round((high - low) / 20_000)} instructions per iteration ` +
      `(${high} at 25,000, ${low} at 5,000; dumps in ${dir})`,
  );
  process.exit(0);
}

// A build from before scrubbedMerchantReference (`--dist`, an older commit) scrubbed the reference as any token.
const { interpretResponse, scrubbedReference, scrubbedMerchantReference = scrubbedReference } = require(
  path.join(dist, "aopay/outcome.js"),
);
const { unknownKeysOf } = require(path.join(dist, "aopay/client.js"));
const { Scrubber } = require(path.join(dist, "pii/scrub.js"));

/** @param {string} file */
const fixtures = (file) => JSON.parse(fs.readFileSync(path.join(ROOT, "test/fixtures/aopay", file), "utf8"));
/** @param {string} file */
const fixture = (file) => Buffer.from(JSON.stringify(fixtures(file)));
// The bench's secrets (bench/lib/systems.js oursEnv: partner credentials and the API key) and partner settings.
const scrubber = new Scrubber(["bench-registration-id", "bench-company-code", "bench-api-key-0123456789"]);
const wire = {
  registrationId: "bench-registration-id",
  companyCode: "bench-company-code",
  aepsPipe: "bank2",
  aepsAccessModeType: "SITE",
  dobFormat: "DD/MM/YYYY",
};
/** @type {any} */
let endpoint;
/** @type {Buffer} */
let body;
/** @type {(i: number) => object} */
let input;
if (mutation === "cibil") {
  endpoint = require(path.join(dist, "aopay/endpoints/cibil-generate-otp.js")).cibilGenerateOtp;
  body = fixture("cibil/generate-otp.success.json");
  input = (i) => ({ cibilId: String(100_000_000_000 + i), accessToken: `bench-token-${i}` });
} else {
  endpoint = require(path.join(dist, "aopay/endpoints/aeps-resend-otp.js")).aepsResendOtp;
  body = fixture("aeps/resend-otp.success.json");
  input = (i) => ({
    userKey: "bench-user",
    mobile: String(9_000_000_000 + i),
    aadhaar: "234123412346",
    primaryKeyId: `PK${i}`,
    encodeTxnId: `TX${i}`,
  });
}
const reference = "SPCBL2308181502437743aQaHNGxZM";
const referenceJson = JSON.stringify(reference);
// What every iteration must come to (the fixture's answer as fromWire hands it on): a loop that measured a throw, or
// an answer read as something else, gave figures for work the server does not do.
const cibilId = fixtures("cibil/generate-otp.success.json").result.cibil_id;
const primaryKeyId = fixtures("aeps/resend-otp.success.json").data.data.primaryKeyId;
/** @type {(answer: any) => boolean} */
const isExpected =
  mutation === "cibil" ? (answer) => answer.cibilId === cibilId : (answer) => answer.primaryKeyId === primaryKeyId;
/** Stops the run (exit 1) with what iteration `i` came to instead. @param {number} i @param {unknown} got */
function wrong(i, got) {
  process.stderr.write(`answer-micro: iteration ${i} came to ${JSON.stringify(got)}, not the fixture's answer\n`);
  process.exit(1);
}
const headers = { "content-type": "application/json; charset=utf-8" };
const n = Number(values.iterations);
let sink = 0;
for (let i = 0; i < n; i++) {
  const given = input(i);
  const text = scrubber.forRequest(endpoint.sensitive(given, wire));
  if (part === "reference") {
    // A fresh string each time, made as an answer's is (JSON.parse).
    const scrubbed = scrubbedMerchantReference(JSON.parse(referenceJson), text);
    if (scrubbed !== reference) wrong(i, scrubbed);
    sink += scrubbed.length;
  } else if (part === "answer") {
    const envelope = interpretResponse(endpoint, { statusCode: 200, headers, body: Buffer.from(body) }, text);
    const unknown = unknownKeysOf(envelope.body, endpoint.knownKeys).length;
    const answer = endpoint.fromWire(envelope, given, text);
    if (unknown !== 0 || !isExpected(answer)) wrong(i, { unknownKeys: unknown, answer });
    sink += unknown + 1;
  } else sink += 1;
}
if (sink < n) throw new Error(`${sink} of ${n} iterations ran`);
// The loop's line (--callgrind's runs discard it): `checked`, every iteration came to the fixture's answer.
const shown = path.relative(process.cwd(), dist) || ".";
process.stdout.write(`${JSON.stringify({ dist: shown, mutation, part, iterations: n, checked: n })}\n`);
