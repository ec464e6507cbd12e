// @ts-check
"use strict";
/**
 * `npm run customer-ref -- <identifier>` (or the identifier on stdin, which keeps it out of the shell's history and the
 * process list): the keyed references the server's log lines carry for a customer's mobile, Aadhaar, PAN, CIBIL id or
 * AEPS user key (docs/operations.md "Finding a customer's requests"). Reads HMAC_SECRET from the environment, as the
 * server does (the same setting and check), and refuses to run without it: a server without one used a random secret
 * no one can compute a reference under. The identifier is read as the server reads it (the validators' own functions,
 * dist/graphql/customer-refs.js) and never printed: one line per kind it is valid as, `kind  reference` (with `--hex`,
 * the form of lines written before references were letters). During a
 * rotation, the same settings as on the server, then one line per kind and other secret, marked: HMAC_SECRET_PREVIOUS
 * `(previous secret n)` and HMAC_SECRET_RETIRED `(retired secret n)`, the lines written before the switch;
 * HMAC_SECRET_NEXT `(next secret)`, the lines of replicas already switched (docs/security.md "Rotating the HMAC
 * secret": at every step a customer's lines are under one of these). A setting equal to HMAC_SECRET adds nothing, as on
 * the server (config.ts).
 */
require("reflect-metadata");
const { join } = require("node:path");

const ROOT = join(__dirname, "..");
const { readGroup } = require(join(ROOT, "dist/settings/schema.js"));
const { protectionSettings } = require(join(ROOT, "dist/protection/protection.settings.js"));
const { CustomerRefs } = require(join(ROOT, "dist/protection/customer-refs.js"));
const { customerRefCandidates } = require(join(ROOT, "dist/graphql/customer-refs.js"));

const USAGE =
  "usage: HMAC_SECRET=... npm run -s customer-ref -- [--hex] <mobile | Aadhaar | PAN | CIBIL id | AEPS user key>\n" +
  "   or: HMAC_SECRET=... npm run -s customer-ref [-- --hex]   (then type the identifier: kept out of shell history)\n" +
  "   --hex: the form of lines written before references were letters (the same references, in hex)\n";

/** @param {string} message */
function fail(message, code = 2) {
  process.stderr.write(`customer-ref: ${message}\n`);
  process.exit(code);
}

/** @returns {Buffer} */
function secret() {
  const raw = process.env.HMAC_SECRET || undefined;
  if (raw === undefined) {
    fail(
      "HMAC_SECRET is not set: run with the server's HMAC_SECRET (a server without one used a random secret per " +
        "process, and its references cannot be computed)",
    );
  }
  /** @type {string[]} */
  const problems = [];
  // The server's own declaration and check (protection/protection.settings.ts); messages never show the value.
  readGroup(protectionSettings, { HMAC_SECRET: raw }, problems);
  if (problems.length > 0) fail(problems.join("; "));
  // As config.ts: the secret's UTF-8 bytes.
  return Buffer.from(/** @type {string} */ (raw), "utf8");
}

/**
 * The other secrets of a rotation, each checked as the server checks it (none when unset), with how its lines are
 * marked: HMAC_SECRET_PREVIOUS's, HMAC_SECRET_NEXT's, HMAC_SECRET_RETIRED's, in the procedure's order.
 * @returns {{ secret: Buffer, label: string }[]}
 */
function otherSecrets() {
  /** @type {{ secret: Buffer, label: string }[]} */
  const others = [];
  const current = process.env.HMAC_SECRET;
  for (const [name, label, single] of /** @type {const} */ ([
    ["HMAC_SECRET_PREVIOUS", "previous secret", false],
    ["HMAC_SECRET_NEXT", "next secret", true],
    ["HMAC_SECRET_RETIRED", "retired secret", false],
  ])) {
    const raw = process.env[name] || undefined;
    if (raw === undefined) continue;
    /** @type {string[]} */
    const problems = [];
    // Messages name the setting, never the value.
    const value = readGroup(protectionSettings, { [name]: raw }, problems)[name];
    if (problems.length > 0) fail(problems.join("; "));
    const list = /** @type {string[]} */ (single ? [value] : value).filter((s) => s !== current);
    list.forEach((s, i) =>
      others.push({ secret: Buffer.from(s, "utf8"), label: single ? label : `${label} ${i + 1}` }),
    );
  }
  return others;
}

/**
 * With `--hex`: the references as lines written before the letters form carry them (the same bits in hex,
 * `m_0fa444d2be09b645`: protection/customer-refs.ts CUSTOMER_REF_ALPHABET), for logs kept from before that version.
 */
const HEX = process.argv.includes("--hex");

/**
 * @param {InstanceType<typeof CustomerRefs>} refs
 * @param {Parameters<InstanceType<typeof CustomerRefs>["of"]>[0]} kind
 * @param {string} canonical
 */
const shown = (refs, kind, canonical) => (HEX ? refs.legacyOf(kind, canonical) : refs.of(kind, canonical));

/** @param {string} identifier */
function print(identifier) {
  const refs = new CustomerRefs(secret());
  const others = otherSecrets().map(({ secret: other, label }) => ({ refs: new CustomerRefs(other), label }));
  const candidates = customerRefCandidates(identifier);
  if (candidates.length === 0) {
    // Not echoed: the identifier may be a customer's, mistyped.
    fail("not a valid mobile, Aadhaar number, PAN, CIBIL id or AEPS user key (the value is not shown)");
  }
  for (const { kind, canonical } of candidates) {
    process.stdout.write(`${kind.padEnd(10)}${shown(refs, kind, canonical)}\n`);
  }
  for (const other of others) {
    for (const { kind, canonical } of candidates)
      process.stdout.write(`${kind.padEnd(10)}${shown(other.refs, kind, canonical)}  (${other.label})\n`);
  }
}

const args = process.argv.slice(2).filter((arg) => arg !== "--hex");
if (args.length > 1 || args[0] === "-h" || args[0] === "--help") fail(USAGE.trimEnd());
if (args.length === 1) print(args[0]);
else {
  // Checked before reading, so that nobody types an identifier for nothing.
  secret();
  otherSecrets();
  const lines = require("node:readline").createInterface({ input: process.stdin, terminal: false });
  if (process.stdin.isTTY) process.stderr.write("identifier: ");
  let answered = false;
  lines.once("line", (line) => {
    answered = true;
    lines.close();
    print(line.replace(/\r$/, ""));
  });
  lines.once("close", () => {
    if (!answered) fail(USAGE.trimEnd());
  });
}
