import { Buffer } from "node:buffer";
import { domainToUnicode } from "node:url";

/**
 * Client text that is logged (a refused browser `Origin`, a client id) as its reader would read it: percent-escapes
 * decoded (up to MAX_ESCAPE_LAYERS layers: `%25` is an escaped `%`), punycode labels (`xn--…`) as Unicode, and a header
 * value's bytes read as UTF-8 (Node hands a header's bytes over as latin1 characters: one per byte). An attack review
 * sent `Origin: http://%EF%BC%99%EF%BC%98….example` (a mobile in fullwidth digits, percent-escaped) and
 * `http://98765%E2%80%8B01234.example` (a zero-width space, escaped, between the digit groups): the digit-run mask
 * (pii/scrub.ts maskDigitRuns) saw no digits in either, and both were logged as sent; any URL decoder shows the number.
 * JSON's and HTML's escapes of a character are decoded too, and marks standing between digits read as `-`
 * (GROUP_MARK). The same text unchanged when none of these applies (the usual case: a few scans, nothing copied).
 */
export function asRead(text: string): string {
  let read = text;
  if (LATIN1_ONLY_HIGH.test(read) && !ABOVE_LATIN1.test(read)) {
    // Only when the bytes are UTF-8: a text that is not header bytes (a development message's `2341·2341·2346`, a
    // middle dot U+00B7) read so had its mark turned into U+FFFD, which no mask reads through.
    const utf8 = Buffer.from(read, "latin1").toString("utf8");
    if (!utf8.includes("\uFFFD")) read = utf8;
  }
  for (let layer = 0; layer < MAX_ESCAPE_LAYERS && read.includes("%"); layer++) {
    const decoded = read.replace(ESCAPES, decodeEscapes);
    if (decoded === read) break;
    read = decoded;
  }
  if (PUNYCODE_LABEL.test(read)) read = read.replace(PUNYCODE_LABELS, (label) => domainToUnicode(label) || label);
  if (read.includes("\\u"))
    read = read.replace(JSON_ESCAPE, (_all, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  if (read.includes("&#")) read = read.replace(CHARACTER_REFERENCE, characterOf);
  if (GROUP_MARK_BETWEEN_DIGITS.test(read)) read = read.replace(GROUP_MARKS_BETWEEN_DIGITS, "-");
  return read;
}

/**
 * `text` masked by `mask` as it is shown in a log line: when reading it (asRead) reveals what `mask` masks, the read
 * text masked (the escapes would otherwise carry the number whole); else `text` masked as written, so that an ordinary
 * value (an origin to copy into CORS_ORIGINS) keeps its spelling.
 */
export function shownAsRead(text: string, mask: (text: string) => string): string {
  const read = asRead(text);
  if (read !== text) {
    const readMasked = mask(read);
    if (readMasked !== read) return readMasked;
  }
  return mask(text);
}

/** Escaping an escape twice is what a client does to slip past one decoder; three layers is more than any URL has. */
const MAX_ESCAPE_LAYERS = 3;
const ESCAPES = /(?:%[0-9A-Fa-f]{2})+/g;
const LATIN1_ONLY_HIGH = /[\u0080-\u00ff]/;
const ABOVE_LATIN1 = /[\u0100-\uffff]/;
const PUNYCODE_LABEL = /xn--/i;
const PUNYCODE_LABELS = /xn--[0-9A-Za-z-]+/gi;

/**
 * JSON's `\u0039` and HTML's `&#x39;` or `&#57;` (the `;` optional, as browsers read it): escapes of one character
 * that a reader decodes on sight. A second attack review had a mobile written in either as an operation name and an
 * Origin, named whole in a development message and in the refused origin's warning.
 */
const JSON_ESCAPE = /\\u([0-9A-Fa-f]{4})/g;
const CHARACTER_REFERENCE = /&#(?:[xX]([0-9A-Fa-f]{1,6})|([0-9]{1,7}));?/g;

function characterOf(reference: string, hex: string | undefined, decimal: string | undefined): string {
  const code = hex === undefined ? Number(decimal) : parseInt(hex, 16);
  return code <= 0x10ffff ? String.fromCodePoint(code) : reference;
}

/**
 * Marks a reader reads through between two groups of digits, which the digit-run mask's gaps (pii/scrub.ts RUN_GAP:
 * spaces, format characters and `. - _ / ( ) + ,`) do not know: every dash (`\p{Pd}`: the en dash and the hyphens a
 * word processor puts for `-`) and the minus sign, middle dots and bullets, apostrophes (a thousands separator in some
 * locales) and `* # | ~ = ;` with their fullwidth forms (an obfuscator's). Read as `-` when they stand between digits
 * (a space either side allowed): found by the second attack review (`98765–43210`, `2341·2341·2346`, `98765*43210`
 * were logged and echoed whole). Not `:`: the digit-run masks join runs over it themselves (pii/scrub.ts RUN_GAP, which
 * since reads through any mark), masking a run joined by `:` only when it reads as a number, so that a host and its
 * port (`127.0.0.1:4000`, `localhost:43210`) and a time (`10:30:45`) stay readable and `98765:43210` does not.
 */
const GROUP_MARK =
  String.raw`[\p{Pd}\u2212\u00B7\u2022\u2027\u2219\u22C5\u30FB\uFF65'\u2019\u02BC*#|~=;` +
  String.raw`\uFF07\uFF0A\uFF03\uFF5C\uFF5E\uFF1D\uFF1B]`;
const BETWEEN = String.raw`(?<=\p{Nd}\p{Z}?)${GROUP_MARK}(?=\p{Z}?\p{Nd})`;
const GROUP_MARK_BETWEEN_DIGITS = new RegExp(BETWEEN, "u");
const GROUP_MARKS_BETWEEN_DIGITS = new RegExp(BETWEEN, "gu");

/**
 * A run of escapes as UTF-8, a byte that is not UTF-8 as U+FFFD: never throws. Not decodeURIComponent, which refuses the
 * whole run for one bad byte, so that a stray `%FF` after the number kept it escaped.
 */
function decodeEscapes(run: string): string {
  return Buffer.from(run.replaceAll("%", ""), "hex").toString("utf8");
}
