import { domainToUnicode } from "node:url";

/**
 * Client text that is logged (a refused browser `Origin`, a client id) as its reader would read it: percent-escapes
 * decoded (up to MAX_ESCAPE_LAYERS layers: `%25` is an escaped `%`), punycode labels (`xn--…`) as Unicode, and a header
 * value's bytes read as UTF-8 (Node hands a header's bytes over as latin1 characters: one per byte). An attack review
 * sent `Origin: http://%EF%BC%99%EF%BC%98….example` (a mobile in fullwidth digits, percent-escaped) and
 * `http://98765%E2%80%8B01234.example` (a zero-width space, escaped, between the digit groups): the digit-run mask
 * (pii/scrub.ts maskDigitRuns) saw no digits in either, and both were logged as sent; any URL decoder shows the number.
 * The same text unchanged when none of these applies (the usual case: one scan for `%`, `xn--` and 0x80-0xFF).
 */
export function asRead(text: string): string {
  let read = text;
  if (LATIN1_ONLY_HIGH.test(read) && !ABOVE_LATIN1.test(read)) read = Buffer.from(read, "latin1").toString("utf8");
  for (let layer = 0; layer < MAX_ESCAPE_LAYERS && read.includes("%"); layer++) {
    const decoded = read.replace(ESCAPES, decodeEscapes);
    if (decoded === read) break;
    read = decoded;
  }
  if (PUNYCODE_LABEL.test(read)) read = read.replace(PUNYCODE_LABELS, (label) => domainToUnicode(label) || label);
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
 * A run of escapes as UTF-8, a byte that is not UTF-8 as U+FFFD: never throws. Not decodeURIComponent, which refuses the
 * whole run for one bad byte, so that a stray `%FF` after the number kept it escaped.
 */
function decodeEscapes(run: string): string {
  return Buffer.from(run.replaceAll("%", ""), "hex").toString("utf8");
}
