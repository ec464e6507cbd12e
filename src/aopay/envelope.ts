/**
 * Folds AOPay's response envelopes into one shape. The documented variants (docs/upstream/aopay-api.md Observations 5-8, and
 * test/fixtures/aopay/):
 *   success  {status:"SUCCESS", message, error_code:"SPC-200", merchant_trans_id, result}        CIBIL GenerateOTP/SubmitOTP
 *   success  {status:true, msg, data:{message, response_code:1, error_code:0, data:{...}}, statusCode:200}   AEPS ResendOTP
 *   failure  {code:"207", description, merchantTrxnRefId, token, status:"False"}                 CIBIL generic error
 *   failure  {status:false, response_code:5, message}                                            AEPS error / 401 schema
 *   failure  {responsecode:int, status:bool, message}                                            CIBIL 401 schema
 * `status` is the signal (boolean or a case-insensitive string); `error_code` is not, since success carries "SPC-200"
 * (Observation 7). HTTP status is interpreted separately (aopay/outcome.ts) because failures arrive inside HTTP 200.
 */

export type JsonObject = { [key: string]: unknown };

interface EnvelopeFields {
  /** The upstream's own code as a string: `code`, `error_code`, `response_code` or `responsecode`, first present. */
  upstreamCode?: string;
  /** `message`, `msg` or `description`, first present. Raw: scrub before it leaves the process. */
  message?: string;
  /** `merchant_trans_id` (success) or `merchantTrxnRefId` (generic error). */
  merchantTransactionId?: string;
}

export type Envelope =
  | ({ kind: "success"; body: JsonObject } & EnvelopeFields)
  | ({ kind: "failure"; body: JsonObject } & EnvelopeFields)
  /** A JSON object without a `status` we can read: its meaning is undocumented. */
  | ({ kind: "unrecognized"; body: JsonObject } & EnvelopeFields)
  /** Empty, HTML, invalid or truncated JSON, or JSON that is not an object. */
  | { kind: "unparseable"; reason: "empty" | "html" | "invalid-json" | "not-object" };

/**
 * The documented words (Observation 6: true/false, "SUCCESS", "False") and the other case of each, nothing more. Words
 * the docs never show ("successful", "failed", "error" were read here once) are not guessed at: the answer is then
 * unrecognized, which on a send is OUTCOME_UNKNOWN (the OTP may have gone: never reported as declined or delivered on
 * a guess) and on a read UPSTREAM_BAD_RESPONSE, and its word shows in the operators' log line as its code does.
 */
const SUCCESS_WORDS = new Set(["true", "success"]);
const FAILURE_WORDS = new Set(["false"]);

/** Reads `status` in any documented form: true/false, "SUCCESS", "False", case-insensitively. */
export function readStatus(value: unknown): boolean | undefined {
  if (typeof value === "boolean") return value;
  if (typeof value === "string") {
    const word = value.trim().toLowerCase();
    if (SUCCESS_WORDS.has(word)) return true;
    if (FAILURE_WORDS.has(word)) return false;
  }
  return undefined;
}

/**
 * Reads one of AOPay's flags in the spellings its examples use: JSON booleans, "true"/"false" strings (GenerateOTP's
 * `LastChanceQuestion`, `skipEligible`, `resendEligible`: the seed page in docs/upstream/seeds), the numbers 0 and 1
 * (SubmitOTP's `is_returning_customer`, docs/upstream/aopay-api.md §1.3), and those numbers as strings, as AOPay writes
 * numbers elsewhere (`"code": "207"`, §1.3; Observation 6: accept strings and booleans), case-insensitively; null
 * for anything else (absent, `"yes"`, `2`): no flag is guessed at. Each field read with one set of spellings lost the
 * others: a returning customer's `"1"` and a question's `0` read null.
 */
export function readFlag(value: unknown): boolean | null {
  if (typeof value === "boolean") return value;
  if (value === 1 || value === 0) return value === 1;
  if (typeof value === "string") {
    const word = value.trim().toLowerCase();
    if (word === "true" || word === "1") return true;
    if (word === "false" || word === "0") return false;
  }
  return null;
}

const INT32_TEXT = /^-?[0-9]{1,10}$/;

/**
 * Reads an integer code of AOPay's (the AEPS `response_code`, "integer" in its pages' 401 schema, `1` in the ResendOTP
 * example: docs/upstream/aopay-api.md §2) as a JSON integer or as its decimal digits in a string, the way AOPay writes
 * its CIBIL `code` (`"207"`, §1.3); null for anything else, and for a value a GraphQL Int cannot hold (32 bits): such a
 * value failed the whole result of a resend whose OTP had gone with a GraphQL error. The docs give no range.
 */
export function readInt32(value: unknown): number | null {
  const n = typeof value === "string" && INT32_TEXT.test(value) ? Number(value) : value;
  return typeof n === "number" && Number.isInteger(n) && n >= -0x80000000 && n <= 0x7fffffff ? n : null;
}

/** A string, or a number as its decimal text: an integer beyond 2^53 as AOPay wrote its digits (exactIntegers). */
export function readString(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  if (isExactInteger(value)) return value.rawJSON;
  return undefined;
}

export function readObject(value: unknown): JsonObject | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) && !isExactInteger(value)
    ? (value as JsonObject)
    : undefined;
}

/**
 * JSON.parse's source text access and JSON.rawJSON (V8 11.4: Node 21 and later, so every Node package.json admits),
 * which TypeScript's ES2022 lib does not declare.
 */
const SOURCE_JSON = JSON as unknown as {
  parse(text: string, reviver: (key: string, value: unknown, context: { source?: string }) => unknown): unknown;
  rawJSON(text: string): { readonly rawJSON: string };
  isRawJSON(value: unknown): value is { readonly rawJSON: string };
};

/** An integer of AOPay's beyond 2^53, kept as the digits it was written with (exactIntegers). */
export function isExactInteger(value: unknown): value is { readonly rawJSON: string } {
  return typeof value === "object" && value !== null && SOURCE_JSON.isRawJSON(value);
}

const INTEGER_TEXT = /^-?[0-9]+$/;

/**
 * JSON.parse's reviver for an answer with a long number in it: an integer JSON.parse cannot hold exactly (beyond 2^53)
 * becomes a JSON.rawJSON of its digits, which readString reads as written and JSON.stringify writes as written (the
 * credit report is handed on so). As a double, `123456789012345678901` read `123456789012345680000`: an identifier
 * the client sends back (a question's key, PrimaryKeyId, a CIBIL id: issuedId) or an account number in a report
 * changed silently (an audit of a hostile upstream). The docs type `cibil_id` as Int (docs/upstream/aopay-api.md §1.2)
 * and give no range for it or any other number; the other identifiers are strings in their examples, with no type
 * documented for the answers (§1, §2: "200 Json").
 */
function exactIntegers(_key: string, value: unknown, context: { source?: string }): unknown {
  if (typeof value !== "number" || Number.isSafeInteger(value)) return value;
  const source = context.source;
  return source !== undefined && INTEGER_TEXT.test(source) ? SOURCE_JSON.rawJSON(source) : value;
}

/**
 * Whether a value JSON.parse made holds an integer beyond 2^53 (or one beyond a double's range: Infinity), at any
 * depth: only then is the text parsed again with exactIntegers, whose reviver call per value the common answer does not
 * pay. Any number the reviver would keep as its digits is one of these (integer text beyond 2^53 reads as a double with
 * no fraction, or as Infinity), so the answer reads as if every one went through it; a number it leaves alone (`1e20`,
 * `1.5e300`) costs the second parse and reads the same. A finite fraction (an amount, `1.5`) is never one: an answer
 * of such numbers is parsed once. A loop over the objects still to read,
 * not recursion: no depth limit of its own (JSON.parse reads a hostile answer nested far deeper than any report).
 * Under callgrind (a loop over the bench's CIBIL answer), 1.3k instructions per answer, where a regular expression over
 * the text for 16 digits after `:`, `,` or `[` (its test until this round) cost 3.1k (docs/performance-runs.md).
 */
export function holdsUnsafeNumber(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return beyondSafe(value);
  const pending: object[] = [value];
  while (pending.length > 0) {
    const o = pending.pop() as Record<string, unknown> | unknown[];
    if (Array.isArray(o)) {
      for (let i = 0; i < o.length; i++) if (unsafeOrPushed(o[i], pending)) return true;
    } else for (const key in o) if (unsafeOrPushed(o[key], pending)) return true;
  }
  return false;
}

/** holdsUnsafeNumber's step: an object is added to `pending`; true for a number beyondSafe. */
function unsafeOrPushed(v: unknown, pending: object[]): boolean {
  if (typeof v === "object") {
    if (v !== null) pending.push(v);
    return false;
  }
  return beyondSafe(v);
}

/** A number exactIntegers may keep as digits: not a safe integer, and not a finite fraction. */
function beyondSafe(v: unknown): boolean {
  return typeof v === "number" && !Number.isSafeInteger(v) && (Number.isInteger(v) || !Number.isFinite(v));
}

function firstString(body: JsonObject, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const value = readString(body[key]);
    if (value !== undefined && value !== "") return value;
  }
  return undefined;
}

const CODE_KEYS = ["code", "error_code", "response_code", "responsecode"] as const;
const MESSAGE_KEYS = ["message", "msg", "description"] as const;
const REFERENCE_KEYS = ["merchant_trans_id", "merchantTrxnRefId"] as const;

/**
 * Whether a Content-Type says HTML: asked only of a body that is not JSON, to name what it was in the log. The docs
 * are silent on the header AOPay sends ("RESPONSE BODY Json" only, docs/upstream/aopay-api.md §1, §2), and an ASP.NET
 * page (AOPay's docs are .aspx) writes `text/html` unless told otherwise: the header never decides over a body that
 * parses (Observation 8: always inspect the body). Deciding first, it made AOPay's documented success examples
 * served as `text/html` unreadable, and a delivered OTP OUTCOME_UNKNOWN (test/e2e/upstream-contract.test.ts).
 */
function isHtml(contentType: string | undefined): boolean {
  return contentType !== undefined && contentType.toLowerCase().includes("text/html");
}

/**
 * Whether the top level of `text` (valid JSON, an object) has two or more `status` keys whose values read
 * differently (readStatus). Only texts with a second `"status"` or an escape that could spell one are scanned.
 * The scan reads character codes and decodes no string: on a hostile 1 MiB answer of 60,000 short top-level keys it
 * took 50-85 ms when each top-level string was sliced and parsed, 8-17 ms now (medians of 9, on a 2-core machine).
 */
function statusIsAmbiguous(text: string): boolean {
  if (!twoStatusLiterals(text) && !text.includes("\\u")) return false;
  const seen = new Set<boolean | undefined>();
  let count = 0;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
    else if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (depth === 1 && spellsStatus(text, i, end) && nextNonBlank(text, end) === ":") {
        count++;
        seen.add(readStatus(JSON.parse(scalarAt(text, text.indexOf(":", end) + 1))));
      }
      i = end - 1;
    }
  }
  return count > 1 && seen.size > 1;
}

/**
 * Whether `text` holds `"status"` twice or more (overlapping too: `"status"status"`). Searched as its tail `us"`, each
 * found checked for its head `"stat`: a search stops at every occurrence of its first character, and a JSON answer
 * has far fewer `u`s than `"`s (CIBIL's GenerateOTP example, test/fixtures/aopay: 9 against 66). Under callgrind (a
 * loop of 20,000 calls over the bench's answers), the two searches for `"status"` and the one for `\u` cost 4.2k
 * instructions per CIBIL answer and 2.0k per AEPS answer, this and that one 1.5k and 0.9k (docs/performance-runs.md,
 * round a88c02b).
 */
function twoStatusLiterals(text: string): boolean {
  let found = 0;
  // `"status"` at p has `us"` at p + 5; `us"` cannot overlap itself, so stepping past each one finds every one.
  for (let i = text.indexOf('us"', 5); i !== -1; i = text.indexOf('us"', i + 3))
    if (text.startsWith('"stat', i - 5) && ++found === 2) return true;
  return false;
}

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LETTER_U = 0x75;
const STATUS = "status";
/** `"status"` with every letter escaped (`\u0073` ...): no longer literal can spell it. */
const LONGEST_STATUS_LITERAL = 2 + 6 * STATUS.length;

/**
 * Whether the JSON string literal text[start, end) (quotes included) decodes to `status`, without decoding it: only
 * a `\uXXXX` escape can spell a letter (the other escapes stand for `"`, `\`, `/` and control characters).
 */
function spellsStatus(text: string, start: number, end: number): boolean {
  if (end - start < 2 + STATUS.length || end - start > LONGEST_STATUS_LITERAL) return false;
  let k = 0;
  for (let i = start + 1; i < end - 1; k++) {
    if (k === STATUS.length) return false;
    let code = text.charCodeAt(i);
    if (code === BACKSLASH) {
      if (text.charCodeAt(i + 1) !== LETTER_U) return false;
      code = Number.parseInt(text.slice(i + 2, i + 6), 16);
      i += 6;
    } else i++;
    if (code !== STATUS.charCodeAt(k)) return false;
  }
  return k === STATUS.length;
}

/** The index just past the JSON string literal starting at `start` (a `"`). */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  for (let c = text.charCodeAt(i); c !== QUOTE; c = text.charCodeAt(i)) i += c === BACKSLASH ? 2 : 1;
  return i + 1;
}

function nextNonBlank(text: string, from: number): string | undefined {
  const m = /\S/.exec(text.slice(from, from + 64));
  return m?.[0];
}

/** The JSON text of the value starting after blanks at `from`: a string literal, or a literal up to `,` or `}`. */
function scalarAt(text: string, from: number): string {
  let i = from;
  while (/\s/.test(text[i])) i++;
  if (text[i] === '"') return text.slice(i, stringEnd(text, i));
  if (text[i] === "{" || text[i] === "[") return "null";
  const end = text.slice(i).search(/[,}\s]/);
  return text.slice(i, end === -1 ? undefined : i + end);
}

/** The index of the first byte that is not a JSON blank (space, tab, CR, LF), or the length. */
function firstNonBlankByte(raw: Buffer): number {
  let i = 0;
  while (i < raw.length) {
    const byte = raw[i];
    if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) break;
    i++;
  }
  return i;
}

export function parseEnvelope(contentType: string | undefined, bytes: Buffer): Envelope {
  // A UTF-8 byte order mark before the JSON: RFC 8259 §8.1 lets a parser ignore it and JSON.parse does not. The docs
  // are silent on AOPay's encoding; its pages are ASP.NET (.aspx), whose UTF-8 writers can put one there, and read as
  // invalid JSON it made every success to a send OUTCOME_UNKNOWN (and count towards opening the circuit).
  const raw = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
  const text = raw.toString("utf8");
  // The common answer starts with `{` (after JSON blanks): read from the bytes, without a regular expression over the
  // text. Anything else takes the general test: the first non-blank character (Unicode blanks too), without copying
  // the body to trim it (JSON.parse ignores surrounding blanks).
  if (raw[firstNonBlankByte(raw)] !== 0x7b) {
    const first = text.search(/\S/);
    if (first === -1) return { kind: "unparseable", reason: "empty" };
    if (text[first] === "<") return { kind: "unparseable", reason: "html" };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
    if (holdsUnsafeNumber(parsed)) parsed = SOURCE_JSON.parse(text, exactIntegers);
  } catch {
    return { kind: "unparseable", reason: isHtml(contentType) ? "html" : "invalid-json" };
  }
  const body = readObject(parsed);
  if (!body) return { kind: "unparseable", reason: "not-object" };
  // JSON.parse keeps the last of two `status` keys. Which one AOPay means is unknowable (RFC 8259 §4: names SHOULD be
  // unique, and parsers differ), so two that disagree make the answer unrecognized rather than a guess either way.
  const status = statusIsAmbiguous(text) ? undefined : readStatus(body.status);
  const kind = status === true ? "success" : status === false ? "failure" : "unrecognized";
  // Built in one literal (a spread of a fields object made a second object and a CopyDataProperties per answer).
  return {
    kind,
    body,
    upstreamCode: firstString(body, CODE_KEYS),
    message: firstString(body, MESSAGE_KEYS),
    merchantTransactionId: firstString(body, REFERENCE_KEYS),
  };
}
