// @ts-check
"use strict";
/**
 * `npm run -s customer-ref`, then the identifier typed at the prompt or on stdin (never an argument: an argument is in
 * every `ps` listing and /proc/<pid>/cmdline while the tool runs, and in the shell's history after): the keyed
 * references the server's log lines carry for a customer's mobile, Aadhaar, PAN, CIBIL id or
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
 *
 * `npm run customer-ref -- --consent <clientId>` (docs/operations.md "Revoking a consent"): the Redis key of that
 * client's consent to read the customer's credit report, `<REDIS_KEY_PREFIX>consent:<HMAC>`, the key the server writes
 * (protection/consent.ts consentKey, of the CIBIL id read as the server reads it: the validators' canonical form, so
 * `0102277100` and `102277100` give one key), one line per secret as above. REDIS_KEY_PREFIX from the environment, as
 * the server reads it. The CIBIL id comes on stdin (or typed at the prompt) only, never as an argument: an argument is
 * in every `ps` listing and /proc/<pid>/cmdline while the tool runs, and in the shell's history after; the key it
 * grants is the customer's credit report. The client id is no customer's: it may be an argument.
 */
require("reflect-metadata");
const { join } = require("node:path");
const { parseCli } = require("./cli");

const ROOT = join(__dirname, "..");
const { readGroup } = require(join(ROOT, "dist/settings/schema.js"));
const { protectionSettings } = require(join(ROOT, "dist/protection/protection.settings.js"));
const { CustomerRefs } = require(join(ROOT, "dist/protection/customer-refs.js"));
const { customerRefCandidates } = require(join(ROOT, "dist/graphql/customer-refs.js"));
const { KeyHasher } = require(join(ROOT, "dist/protection/key-hasher.js"));
const { consentKey } = require(join(ROOT, "dist/protection/consent.js"));
const { CONSENT_REVOKED: CONSENT_MARK, CONSENT_REVOKE_MS: CONSENT_MARK_MS } = require(
  join(ROOT, "dist/protection/consent-store.js"),
);

const USAGE =
  "usage: HMAC_SECRET=... npm run -s customer-ref [-- --hex]   (then type the mobile, Aadhaar number, PAN, CIBIL id\n" +
  "       or AEPS user key at the prompt, or redirect it from a file: < file; never an argument, which ps shows)\n" +
  "   --hex: the form of lines written before references were letters (the same references, in hex)\n" +
  "   or: HMAC_SECRET=... REDIS_KEY_PREFIX=... npm run -s customer-ref -- --consent <clientId>   (then type the\n" +
  "       CIBIL id): the Redis key of that client's consent for the customer (never the CIBIL id as an argument)\n";

/** @param {string} message */
function fail(message, code = 2) {
  process.stderr.write(`customer-ref: ${message}\n`);
  process.exit(code);
}

/**
 * The flags (scripts/cli.js: `--help` the usage on stdout, exit 0; an unknown flag refused, exit 2) and any argument,
 * refused below: an identifier is never taken from the command line. `--consent` followed by another flag or nothing
 * is refused by parseArgs (its value may not start with `-`).
 */
const ARGS = parseCli(USAGE, {
  options: { hex: { type: "boolean" }, consent: { type: "string" } },
  positionals: true,
  unshown: true,
});

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
 * marked: HMAC_SECRET_PREVIOUS's, HMAC_SECRET_NEXT's, HMAC_SECRET_RETIRED's, in the procedure's order. `retired`:
 * HMAC_SECRET_RETIRED's, under which the server reads no consent (consentLines).
 * @returns {{ secret: Buffer, label: string, retired: boolean }[]}
 */
function otherSecrets() {
  /** @type {{ secret: Buffer, label: string, retired: boolean }[]} */
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
    const all = /** @type {string[]} */ (single ? [value] : value);
    // A consent's key under a secret the servers have retired is read by none of them: the servers' HMAC_SECRET run
    // over by the old one (as the references' search across a rotation does: HMAC_SECRET=<old secret>) would print a
    // key whose mark revokes nothing. Refused, naming no value (docs/operations.md "Revoking a consent").
    if (CONSENT_CLIENT !== undefined && name === "HMAC_SECRET_RETIRED" && all.includes(current ?? ""))
      fail(
        "--consent: HMAC_SECRET is one of HMAC_SECRET_RETIRED's secrets, under which no server reads a consent: a mark " +
          "under its key would revoke nothing. Run with the servers' own HMAC_SECRET",
      );
    const list = all.filter((s) => s !== current);
    list.forEach((s, i) =>
      others.push({
        secret: Buffer.from(s, "utf8"),
        label: single ? label : `${label} ${i + 1}`,
        retired: name === "HMAC_SECRET_RETIRED",
      }),
    );
  }
  return others;
}

/**
 * With `--hex`: the references as lines written before the letters form carry them (the same bits in hex,
 * `m_0fa444d2be09b645`: protection/customer-refs.ts CUSTOMER_REF_ALPHABET), for logs kept from before that version.
 */
const HEX = ARGS.values.hex === true;

/** With `--consent <clientId>`: the consent keys of that client (consentLines), not the references. */
const CONSENT_CLIENT = ARGS.values.consent;
if (CONSENT_CLIENT !== undefined && CONSENT_CLIENT === "")
  fail("--consent needs the client id (API_KEYS' name before the colon)");

/**
 * @param {InstanceType<typeof CustomerRefs>} refs
 * @param {Parameters<InstanceType<typeof CustomerRefs>["of"]>[0]} kind
 * @param {string} canonical
 */
const shown = (refs, kind, canonical) => (HEX ? refs.legacyOf(kind, canonical) : refs.of(kind, canonical));

/**
 * The consent keys of CONSENT_CLIENT for a CIBIL id: `consent   <key>`, then one per other secret, marked as the
 * references are (a consent granted under HMAC_SECRET_PREVIOUS is read by the server until the rotation ends).
 * @param {string} identifier
 */
function consentLines(identifier) {
  /** @type {string[]} */
  const problems = [];
  // The server's own reading of the setting (its default, aopay-gql:, when unset).
  const prefix = readGroup(
    protectionSettings,
    { REDIS_KEY_PREFIX: process.env.REDIS_KEY_PREFIX },
    problems,
  ).REDIS_KEY_PREFIX;
  if (problems.length > 0) fail(problems.join("; "));
  const cibil = customerRefCandidates(identifier).find((c) => c.kind === "cibil");
  // Not echoed: the identifier may be a customer's, mistyped.
  if (cibil === undefined) fail("not a valid CIBIL id (the value is not shown)");
  const key = (/** @type {Buffer} */ s) =>
    `${prefix}consent:${consentKey(new KeyHasher(s), CONSENT_CLIENT, /** @type {{ canonical: string }} */ (cibil).canonical)}`;
  const others = otherSecrets();
  // HMAC_SECRET_RETIRED's keys are not printed: no server reads a consent under a retired secret (registered mobiles'
  // records only: protection/index.ts readHashers), so a mark there blocks nothing, and an operator who marked such a
  // key alone (it was printed, as a reference's line is) believed a consent revoked that stood under HMAC_SECRET.
  // stdout is exactly the keys to mark, one a line; stderr counts the rest.
  const read = others.filter((other) => !other.retired);
  const retired = others.length - read.length;
  process.stdout.write(`consent   ${key(secret())}\n`);
  for (const other of read) process.stdout.write(`consent   ${key(other.secret)}  (${other.label})\n`);
  // During a rotation a consent may stand under the keys of HMAC_SECRET, HMAC_SECRET_PREVIOUS and HMAC_SECRET_NEXT:
  // the server reads those, a mark under any one refusing the report and any grant (protection/consent.ts hasConsent,
  // consent-store.ts GRANT): marked under one alone, a replica not yet switched (or one already switched) could still
  // hold it under another. Said on stderr: stdout stays the keys, one a line.
  if (others.length === 0) return;
  const mark = `SET <key> ${CONSENT_MARK} PX ${CONSENT_MARK_MS}`;
  const advice =
    read.length === 0
      ? `1 key the server reads: revoke by marking it: ${mark}`
      : `${read.length + 1} keys the server reads: revoke by marking every one: ${mark}`;
  const unread =
    retired === 0
      ? ""
      : `; ${retired} (retired secret) ${retired === 1 ? "key" : "keys"} not printed: read by no server, a mark ` +
        "there blocks nothing";
  process.stderr.write(`${advice}${unread}\n`);
}

/** @param {string} identifier */
function print(identifier) {
  if (CONSENT_CLIENT !== undefined) return consentLines(identifier);
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

/**
 * A reader that stops early (`| head -1`, a closed pager) closes the pipe: the next write fails EPIPE, which Node
 * raised as an unhandled 'error' event, a stack trace and exit 1 after the lines the reader took. The reader has what
 * it wanted: exit 0, quietly. Any other write failure: a line naming its code (never what was being written), exit 1.
 */
process.stdout.on("error", (/** @type {NodeJS.ErrnoException} */ error) => {
  if (error.code === "EPIPE") process.exit(0);
  fail(`could not write the output (${error.code ?? "error"})`, 1);
});

// The identifier (or a consent's CIBIL id) only on stdin or at the prompt: an argument shows in `ps` while the tool
// runs and stays in the shell's history (see the comment at the top). Refused whatever it is, never shown: no reading
// of it is kept in argv "for scripts", since a script can redirect stdin as easily.
if (ARGS.positionals.length > 0)
  fail(
    "the identifier is read from stdin or the prompt, not an argument: arguments show in ps and the shell's " +
      "history (the value is not shown). Run it without one and type it at the prompt, or redirect it: < file",
  );
// Checked before reading, so that nobody types an identifier for nothing.
secret();
otherSecrets();
const lines = require("node:readline").createInterface({ input: process.stdin, terminal: false });
if (process.stdin.isTTY) process.stderr.write(CONSENT_CLIENT === undefined ? "identifier: " : "CIBIL id: ");
let answered = false;
lines.once("line", (line) => {
  answered = true;
  lines.close();
  // The line's end (CRLF from a Windows paste) and the blanks around a pasted value are no part of any identifier the
  // server takes: trimmed, the value reads as the server reads the same identifier typed cleanly.
  print(line.trim());
});
lines.once("close", () => {
  if (!answered) fail(USAGE.trimEnd());
});
