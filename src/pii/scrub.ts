import { maskAadhaar } from "./aadhaar";
import { maskMobile } from "./mobile";
import { maskPan } from "./pan";
import { CONFUSABLE_DIGITS, CONFUSABLE_LETTERS } from "./confusables";
// The module's Buffer, not the global: that is an accessor, a getter call per read (about 250 main-thread
// instructions under callgrind, read per request here).
import { Buffer } from "node:buffer";

/**
 * The last line of defence for text that leaves the process (log lines, GraphQL error messages, upstream messages we
 * pass on). By construction we never log or echo input values; this catches what slips through anyway:
 * - any 12-digit run that looks like an Aadhaar number (plain, or grouped 4-4-4 by spaces, dots or dashes) becomes
 *   `XXXX XXXX 1234`;
 * - any 10-digit run that looks like an Indian mobile (optionally +91/0-prefixed, separators anywhere) becomes
 *   `XXXXXX1234`;
 * - any PAN shape, either case, glued to letters, digits or `_` or not, fullwidth too, becomes `XXXXXX234F`, but one
 *   inside an identifier of 16 or more hex digits of one case (a request, trace or span id: PAN_SHAPE_SOURCE, inHexId);
 *   so does one written apart (`ABCPE 1234 F`) or with invisible characters between its characters (PAN_SPACED);
 *   the local part of any e-mail address becomes `***`;
 * - every registered secret (partner credentials, API keys) is replaced by `[REDACTED]` wherever it appears.
 * OTPs and tokens cannot be recognised by shape without destroying ordinary numbers, so they are kept out of logs
 * by key-path redaction and by never logging inputs (see logging/logger.ts); what AOPay answers a request is also
 * scrubbed of that request's own values (`forRequest`). Test cases, the audit's spellings among them:
 * test/unit/pii/scrub.test.ts.
 */
// Where a run may start (BEFORE: what the character before its first digit may be): not glued to a letter, a digit,
// `-` or `+` (a digit run inside an identifier token such as the UUID request id
// `68f74483-ff9b-4582-bb53-6281738160bf`, a trace id or a base64 key is not a number someone wrote: left alone; after
// `+` it is a phone number, `+91…`), or right after a JSON escape in a log line (`\n9876543210` is a newline, then a
// number). `_` does not glue: `uid_234123412346` names an Aadhaar number (found by an audit in an upstream key and
// message). Each pattern starts with its first digit and looks behind from there: a pattern that starts with a
// lookbehind is tried at every position of the text, which made the access line's scrub 520 -> 870 ns (a timing loop,
// node 24); this way the tests cost what they did before the separators came in (Aadhaar 314 -> 296 ns, mobile 224 ->
// 204 ns per access line).
const BEFORE = String.raw`(?:^|[^0-9A-Za-z+\-]|\\[bfnrt])`;
const END = "(?![0-9A-Za-z])";
// One separator between digits, as people write numbers: space, dot, dash, and the no-break, figure and thin spaces
// word processors and phones put there (`98765 43210`, `2341.2341.2346`, `98765\u00A043210`).
const SEP = "[ .\\-\\u00A0\\u2007\\u2009\\u202F]";
// 12 digits starting 2-9, plain or grouped 4-4-4 (a separator after either group, or both).
const AADHAAR_RUN = new RegExp(`[2-9](?<=${BEFORE}[2-9])[0-9]{3}${SEP}?[0-9]{4}${SEP}?[0-9]{4}${END}`, "g");
// 10 digits starting 6-9, with any single separators between them (`98765 43210`, `987-654-3210`), after an optional
// prefix (MOBILE_PREFIX), which the mask replaces too. MOBILE_ANY finds the same numbers (from their first digit after
// the prefix, looking behind over it): the test before the replace.
// The prefixes people write before a mobile: the country code `+91`/`91`, written after the international prefix
// `00` (`0091`, `+0091`) or after a trunk `0` (`091`), in brackets or not (`(+91)`, `+(91)`), or the trunk prefix `0`
// alone (`0`, `(0)`); the country code's followed by an optional separator (after a trunk `0`, one made a request's
// own `8_0-693-7079803` read as `8_` and a mobile, whose mask showed a digit the value's redaction had hidden). An
// attack review had `00919876543210` and `0091-98765-43210` in AOPay's text pass whole: after `00` or `0` the number's
// first digit is glued to a digit (BEFORE), and `+91` was the only country-code spelling read. The prefixes cost the
// log line's scrub (the logger's hook) 11.2k -> 11.7k instructions (callgrind, a 470-character access line:
// docs/performance-runs.md); a one-character look-behind over their last characters, tried instead, cost 1k more again.
const MOBILE_PREFIX = String.raw`(?:\(?\+?(?:00?)?\(?91\)?${SEP}?|\(?0\)?)`;
const MOBILE_RUN = new RegExp(`(?<=${BEFORE})${MOBILE_PREFIX}?([6-9](?:${SEP}?[0-9]){9})${END}`, "g");
const MOBILE_ANY = new RegExp(`[6-9](?<=${BEFORE}${MOBILE_PREFIX}?[6-9])(?:${SEP}?[0-9]){9}${END}`);
/**
 * AADHAAR_RUN and MOBILE_RUN with `_`, `/`, a tab or a dash that is not `-` (hyphen, non-breaking hyphen U+2011,
 * figure dash, en and em dash, minus) between the groups too (`98765_43210`, `2341/2341/2346`, `98765\u201343210`):
 * an attack review had these pass the bare scrub and GraphQL errors (test/unit/pii/look-alike-spellings.test.ts),
 * where the log line (readLine) and AOPay's text (maskNumberShapes) read them as runs. In readRuns, after the other
 * masks, not in SEP: a request's scrub is as it was (its own values are redacted before a mask shows their last
 * four), and so is every other use of SEP. Tried only on a text with a digit beside one of them (WIDE_HINT).
 */
const WIDE_SEP = `[_/\\t\\u2010-\\u2015\\u2212]|${SEP}`;
const WIDE_HINT = /[0-9][_/\t\u2010-\u2015\u2212]|[_/\t\u2010-\u2015\u2212][0-9]/;
const AADHAAR_WIDE = new RegExp(
  `[2-9](?<=${BEFORE}[2-9])[0-9]{3}(?:${WIDE_SEP})?[0-9]{4}(?:${WIDE_SEP})?[0-9]{4}${END}`,
  "g",
);
const MOBILE_WIDE = new RegExp(
  `(?<=${BEFORE})${MOBILE_PREFIX.replaceAll(SEP, `(?:${WIDE_SEP})`)}?([6-9](?:(?:${WIDE_SEP})?[0-9]){9})${END}`,
  "g",
);
const WIDE_SEPARATORS = new RegExp(WIDE_SEP, "g");
/**
 * A mobile or an Aadhaar number written apart as people and systems write one in free text: brackets around a group or
 * the prefix (`(98765) 43210`, `+91(98765)43210`, `[+91] 98765 43210`), a trunk `0` with a separator after it
 * (`0-98765-43210`), up to three separators between two groups (`98765 - 43210`, `2341 / 2341 / 2346`, two spaces), a
 * line break or a tab (`98765\n43210`, `\r\n`). The bare scrub (its free text: errors, messages, a client id) read none
 * of these, where the log line (readsAsNumber) read most of them. Narrow on purpose, so that dates, amounts, times and
 * ids stay (test/unit/pii/written-as-people-write.test.ts): standing apart (BEFORE, END), no digit beyond a gap with a
 * mark before or after it (a longer run: `7500.00 - 8250.00`, `06.12.2026 - 07.12.2026`), each group of a mobile two
 * digits or more (`6/12/26 - 7/12/26`, a range of dates, is no mobile), an Aadhaar number four, four and four.
 */
const APART_CHAR = String.raw`[ .\-\u00A0\u2007\u2009\u202F_/\t\n\r\u2010-\u2015\u2212()[\]]`;
const APART_GAP = `${APART_CHAR}{1,3}`;
const APART_PREFIX = String.raw`(?:[([]?\+?(?:00?)?[([]?91[)\]]?|[([]?0[)\]]?|[([])`;
// The edges: no digit within a gap that holds a mark (`-`, `.`, `/`, a bracket...) either side, so that a longer run
// (`7500.00 - 8250.00`) stays; a digit beyond spaces alone is a word of its own (`qty 2 98765 - 43210`, `2026-12-07
// (98765) 43210`, `98765 - 43210 12:30`), which the bare scrub had shown whole: written-as-people-write.test.ts.
const APART_MARK = String.raw`[.\-_/\u2010-\u2015\u2212()[\]]`;
const MARKED_GAP =
  `(?:${APART_MARK}${APART_CHAR}{0,2}|${APART_CHAR}${APART_MARK}${APART_CHAR}?|` + `${APART_CHAR}{2}${APART_MARK})`;
const APART_EDGES = [`(?<=${BEFORE})(?<![0-9]${MARKED_GAP})`, `${END}(?!${MARKED_GAP}[0-9])`];
const MOBILE_APART = new RegExp(
  `${APART_EDGES[0]}(?:${APART_PREFIX}(?:${APART_GAP})?)?([6-9](?:(?:${APART_GAP})?[0-9]){9})${APART_EDGES[1]}`,
  "g",
);
const AADHAAR_APART = new RegExp(
  `${APART_EDGES[0]}[([]?([2-9][0-9]{3}(?:${APART_GAP})?[0-9]{4}(?:${APART_GAP})?[0-9]{4})${APART_EDGES[1]}`,
  "g",
);
/** What only MOBILE_APART and AADHAAR_APART read: a bracket or line break beside a digit, two marks between digits. */
const APART_HINT = /[0-9][\n\r()[\]]|[\n\r()[\]][0-9]|[0-9][^0-9A-Za-z]{2,3}[0-9]|(?<![0-9A-Za-z])0[^0-9A-Za-z][6-9]/;
const NOT_DIGITS_ASCII = /[^0-9]+/;

/** `text` with every number MOBILE_APART or AADHAAR_APART finds masked, a mobile's groups two digits or more. */
function maskApart(text: string): string {
  if (!APART_HINT.test(text)) return text;
  return text
    .replace(AADHAAR_APART, (run, digits: string, at: number, all: string) =>
      paired(run, all[at + run.length], maskAadhaar(digits.replace(NOT_DIGIT_ASCII, ""))),
    )
    .replace(MOBILE_APART, (run, digits: string, at: number, all: string) =>
      digits.split(NOT_DIGITS_ASCII).some((group) => group.length < 2)
        ? run
        : paired(run, all[at + run.length], maskMobile(digits.replace(NOT_DIGIT_ASCII, ""))),
    );
}

/**
 * `mask` with the bracket `run` opened and left open where the character `after` it closes it (`(98765)(43210)` as
 * `(XXXXXX3210)`, which read `XXXXXX3210)`, a bracket closing nothing): the text keeps its shape. `mask` alone else.
 */
function paired(run: string, after: string | undefined, mask: string): string {
  const open = after === ")" ? "(" : after === "]" ? "[" : undefined;
  if (open === undefined) return mask;
  const close = after as string;
  return run.split(open).length > run.split(close).length ? `${open}${mask}` : mask;
}
// A mobile or an Aadhaar number split by letters (`98765x43210`, `987o654o3210`, `2341x2341x2346`): people write a
// letter between groups as they write a separator, and a reader reads the number through it; SEP is no letter, so
// these passed every mask. The rule, narrow on purpose: the token stands alone (BEFORE, END: not glued to a letter, a
// digit, `-` or `+`, so a request id's group `…-bb53-…`, a hex literal `0x9876543210`, AOPay's `SPCBL…` and a time
// `2026-12-04T13:45:12` stay whole); one letter at most stands between two digits, one at least in the token, and
// never a hex digit (`a`-`f`, `A`-`F`: a token of digits and those is a hash or an id, `9876543210bf`); its digits are
// exactly a mobile's (ten from 6-9, a letter or SEP between any two) or an Aadhaar number's (twelve from 2-9, a letter
// or SEP only between groups of four, as AADHAAR_RUN). Kept: letters two in a row or at an edge (`ab9876x43210`,
// `98765x43210x`), another count of digits (`1920x1080`), a prefix glued by a letter (`0x`, `+91x`). Masked as the
// other numbers are (`XXXXXX3210`, `XXXX XXXX 2346`). Three numbers of four digits joined by `x` from 2-9
// (`3840x2160x2346`) read as an Aadhaar number too: the safe side. Read as a separator, a letter stands where SEP may
// stand: in a mobile, between any two digits, beside separators and after the country code (COUNTRY_PREFIX:
// MOBILE_PREFIX but the trunk `0`) as MOBILE_RUN reads them (`987-654x3210`, `98765 43x210`, `+9198765x43210`,
// `0091-98765x43210`). An attack review had these pass every mask, in AOPay's text, an error message and a log line,
// where the same spellings with a separator for the letter were masked. Not after a trunk `0` alone (`09876x543210`
// stays): read so, a registered secret AOPay echoed in another letter case (`…0866469690X9_0…`, scrub-equivalence's
// fuzz) lost its digits to the mask before RequestScrubber.scrub's any-case redaction could find it, and showed the
// rest. Invisible characters beside the letter are read through (INVISIBLE_BETWEEN).
const LETTER = "[g-zG-Z]";
const LETTER_GAP = `(?:${LETTER}|${SEP})`;
const AADHAAR_SPLIT = new RegExp(
  `[2-9](?<=${BEFORE}[2-9])[0-9]{3}${LETTER_GAP}?[0-9]{4}${LETTER_GAP}?[0-9]{4}${END}`,
  "g",
);
const COUNTRY_PREFIX = String.raw`(?:\(?\+?(?:00)?\(?91\)?${SEP}?)`;
const MOBILE_SPLIT = new RegExp(`(?<=${BEFORE})${COUNTRY_PREFIX}?([6-9](?:${LETTER_GAP}?[0-9]){9})${END}`, "g");
/** MOBILE_SPLIT from its first digit after the prefix, looking behind over it (as MOBILE_ANY): for SPLIT_ANY. */
const MOBILE_SPLIT_ANY = `[6-9](?<=${BEFORE}${COUNTRY_PREFIX}?[6-9])(?:${LETTER_GAP}?[0-9]){9}${END}`;
/**
 * The tests before the replaces: a letter between two digits, then either pattern (about 900 ns over a 470-character
 * access line, a timing loop: only where the first found one; in a log line, LINE_RUN_HINT's scan finds it).
 */
const LETTER_AMONG_DIGITS = new RegExp(`[0-9]${LETTER}[0-9]`);
const SPLIT_ANY = new RegExp(`(?:${AADHAAR_SPLIT.source})|(?:${MOBILE_SPLIT_ANY})`);
const NOT_DIGIT_ASCII = /[^0-9]/g;

/**
 * Characters that show nothing (Unicode's format characters a keyboard or a copy leaves between characters: zero-width
 * space, non-joiner and joiner, word joiner, byte order mark, soft hyphen) between two ASCII letters or digits. An
 * attack review had `98765\u200Bx43210` and `2341\u200Bx2341x2346` pass every mask, read as `98765x43210`.
 */
const INVISIBLE = String.raw`[\u00AD\u200B-\u200D\u2060\uFEFF]`;
const INVISIBLE_BETWEEN = new RegExp(`(?<=[0-9A-Za-z])${INVISIBLE}+(?=[0-9A-Za-z])`, "g");
const INVISIBLE_ANY = new RegExp(INVISIBLE_BETWEEN.source);

/**
 * `text` with every number split by letters (AADHAAR_SPLIT, MOBILE_SPLIT) masked, read without the invisible
 * characters between its letters and digits (INVISIBLE_BETWEEN: dropped from the text only where that finds one to
 * mask); others as they were.
 */
function maskLetterSplit(text: string): string {
  const masked = maskLetterSplitAsWritten(text);
  if (masked !== text || isAscii(text) || !INVISIBLE_ANY.test(text)) return masked;
  const seen = text.replace(INVISIBLE_BETWEEN, "");
  const read = maskLetterSplitAsWritten(seen);
  return read === seen ? text : read;
}

/** maskLetterSplit of the text as written. */
function maskLetterSplitAsWritten(text: string): string {
  if (!LETTER_AMONG_DIGITS.test(text) || !SPLIT_ANY.test(text)) return text;
  // Only a run with a letter between two digits (one of SEP alone was MOBILE_RUN's or AADHAAR_RUN's to mask); a
  // mobile's prefix is replaced with it, as MOBILE_RUN replaces it.
  const mask = (run: string, digits: string, as: (digits: string) => string) =>
    LETTER_AMONG_DIGITS.test(digits) ? as(digits.replace(NOT_DIGIT_ASCII, "")) : run;
  return text
    .replace(AADHAAR_SPLIT, (run) => mask(run, run, maskAadhaar))
    .replace(MOBILE_SPLIT, (run, digits: string) => mask(run, digits, maskMobile));
}
/**
 * A PAN's shape in either case (pan.ts: five letters, the fourth the holder type, four digits, a letter), glued to
 * anything or not: every entry point masks it (maskPans). Until this round the log lines and the bare scrub masked it
 * in capitals alone and only standing apart (not after a letter, a digit or `-`, nor before a letter or a digit), so
 * `abcpe1234f`, `AbCpE1234F`, `PANabcpe1234fX`, `pan_ABCPE1234F` and `ａｂｃｐｅ１２３４ｆ` reached log lines, GraphQL
 * error messages and the bare scrub's output whole (test/unit/pii/pan-any-case.test.ts: 537 spellings and entry points
 * shown before). Spelled with both cases' letters: no `i` flag's case folding (`ſ`, the Kelvin sign) in an ASCII shape.
 */
const PAN_SHAPE_SOURCE = "[A-Za-z]{3}[PCHFATBLJGpchfatbljg][A-Za-z][0-9]{4}[A-Za-z]";
const PAN_ANY = new RegExp(PAN_SHAPE_SOURCE, "g");
/**
 * A PAN written as people group it, `ABCPE 1234 F`, `ABCPE-1234-F`, `abcpe.1234f` (one of SEP after the letters, after
 * the digits or both), with invisible characters (INVISIBLE) between any two of its characters: a reader reads the PAN
 * through them, as the digit masks read a number through SEP and INVISIBLE. An attack review had these pass every entry
 * point whole (test/unit/pii/pan-spelled-apart.test.ts). Glued to a word before it too (`MTABCPE 1234 F`,
 * `svcABCPE 1234 F`, an AOPay prefix `SPCBLABCPE 1234 F`), and after it where the word starts in the other case from a
 * PAN in one case (`ABCPE 1234 Fsvc`): a later attack review had these pass every entry point whole, the span attribute
 * aopay.merchant_transaction_id and the client id's label too, where the PAN unglued or unspaced was masked
 * (test/unit/pii/pan-glued-apart.test.ts). A word after in the same case, or a PAN's letters in both cases, is prose or
 * an amount (`TOTAL 1500 INR`, `total 1500 in`, `Batch 2024 Report`), and a shape glued to a word whose letters are
 * all hex digits is an identifier's group (`CAFEBABE-1234-ABCD-…`): both kept (spacedPanMasked). No digit after it
 * (`ABCPE 1234 F9`). `_` and `/` are no SEP: the digit masks do not read through them either.
 */
const PAN_LETTERS =
  `[A-Za-z]${INVISIBLE}*[A-Za-z]${INVISIBLE}*[A-Za-z]${INVISIBLE}*` + `[PCHFATBLJGpchfatbljg]${INVISIBLE}*[A-Za-z]`;
// Not starting on the letter of a JSON escape (`\nAAAG 9999A`, a message as written in a JSON text, is a newline and
// four letters); any other letter may stand before it (a word glued before, above).
const PAN_APART = String.raw`(?<!\\(?=[bfnrt]))`;
// Between the letters and the digits, and between the digits and the last letter: up to three of SEP, `_`, `/`, a tab
// or a dash that is not `-` (PAN_SEP: `ABCPE_1234_F`, `ABCPE/1234/F`, `ABCPE - 1234 - F`, `ABCPE\u20111234\u2011F`; an
// attack review had these pass every entry point), or a line break (`ABCPE\n1234\nF`, `\r\n`: a PAN wrapped across
// lines, which passed every entry point, the log line's too: test/unit/pii/written-as-people-write.test.ts).
// The other line and page breaks too (a vertical tab, a form feed, NEL U+0085, the line and paragraph separators
// U+2028-2029): `ABCPE\v1234\vF` passed every entry point, where `\n` was read.
// And any ASCII punctuation but `%` (PUNCTUATION: `ABCPE:1234:F`, `ABCPE|1234|F`, `ABCPE(1234)F`, `(ABCPE)(1234)(F)`,
// `"ABCPE""1234""F"`): a reader reads a PAN through any mark, and a review had `:` and brackets pass every exit whole,
// where the digit masks already read a number through any of them (RUN_GAP). Not `%`: a percent-escape is read as
// the character it encodes first (readable), and `%20` holds digits.
const PUNCTUATION = String.raw`!-$&-/:-@[-\x60{-~`;
const PAN_SEP = "(?:[_/\\t\\n\\r\\v\\f\\u0085\\u2028\\u2029\\u2010-\\u2015\\u2212" + PUNCTUATION + "]|" + SEP + ")";
const PAN_GAP = `${INVISIBLE}*(?:${PAN_SEP}{1,3}${INVISIBLE}*)?`;
const PAN_SPACED = new RegExp(
  `${PAN_APART}${PAN_LETTERS}${PAN_GAP}[0-9]${INVISIBLE}*[0-9]${INVISIBLE}*[0-9]${INVISIBLE}*[0-9]${PAN_GAP}` +
    `[A-Za-z](?![0-9])([A-Za-z])?`,
  "g",
);
/**
 * A PAN in capitals with a separator inside its letters or its digits too (`ABC PE 1234 F`, `ABCPE 12 34 F`,
 * `A B C P E 1 2 3 4 F`): up to three of PAN_SEP between any two of its characters, standing apart. Capitals only: a
 * PAN is printed in them, and ordinary prose in lower case spells this shape across words (`in the 2024 a`: two words
 * of five letters, the fourth `h`); prose in capitals that does (`IN THE 2024 A`) is masked, the safe side.
 */
const CAPS_GAP = `${PAN_SEP}{0,3}`;
const CAPS_LETTERS = `[A-Z]${CAPS_GAP}[A-Z]${CAPS_GAP}[A-Z]${CAPS_GAP}[PCHFATBLJG]${CAPS_GAP}[A-Z]`;
const CAPS_DIGITS = `[0-9]${CAPS_GAP}[0-9]${CAPS_GAP}[0-9]${CAPS_GAP}[0-9]`;
// A word in lower case may follow glued (`ABC PE 1234 Fsvc`), as PAN_SPACED reads one after a PAN in capitals.
const CAPS_END = `${CAPS_GAP}[A-Z](?![0-9A-Z])`;
const PAN_CAPS_SPACED = new RegExp(`${CAPS_LETTERS}${CAPS_GAP}${CAPS_DIGITS}${CAPS_END}`, "g");
/**
 * PAN_CAPS_SPACED's test from its last letter, a capital not before a capital or a digit (`OK"`, `POST"`, the `F` of
 * `Fsvc`), looking behind over the rest: the look behind runs at such a capital only, and fails at its first step
 * (CAPS_GAP, then a digit) at nearly all of them. From its last digit with the look behind first (until this round), it
 * ran at every digit of a line before the capital it needs was looked for: 1,248 ns over the bench's CIBIL access line
 * against 377 (a timing loop of 10^5 tests, node 24, a shared host: medians of seven), on every log line and on AOPay's
 * texts; the access line's scrubLine 4.1 -> 2.8 µs (1.9 before the capitals' hint), a CIBIL request 2.4 % fewer
 * instructions under callgrind (docs/performance-runs.md, "Round df7c176").
 */
const PAN_CAPS_HINT = new RegExp(`[A-Z](?![0-9A-Z])(?<=${CAPS_LETTERS}${CAPS_GAP}${CAPS_DIGITS}${CAPS_GAP}[A-Z])`);
/**
 * A PAN in either case with the same separator (one to three of PAN_SEP) between every two of its characters
 * (`a.b.c.p.e.1.2.3.4.f`, `a b c p e 1 2 3 4 f`, `a\ne\n…` as a person reads it: personReading), standing apart:
 * a review had it pass every exit whole. In lower case only so: prose spells the shape across words of several
 * letters (`in the 2024 a`), never one letter at a time with one mark between each. PAN_EACH_HINT is its test, from its
 * first digit (a run of four with one repeated gap, then a letter): no log line's number is written so.
 */
const EACH_LETTER = "[A-Za-z]";
const PAN_EACH_SPACED = new RegExp(
  `(?<![0-9A-Za-z])${EACH_LETTER}((?:${PAN_SEP}){1,3})${EACH_LETTER}\\1${EACH_LETTER}\\1[PCHFATBLJGpchfatbljg]\\1` +
    `${EACH_LETTER}\\1[0-9]\\1[0-9]\\1[0-9]\\1[0-9]\\1${EACH_LETTER}(?![0-9A-Za-z])`,
  "g",
);
const PAN_EACH_HINT = /[0-9]([^0-9A-Za-z]{1,3})[0-9]\1[0-9]\1[0-9]\1[A-Za-z]/;
/** The characters of PAN_SPACED that are no letter and no digit: what a match leaves out of its PAN. */
const NOT_PAN_CHARACTER = /[^0-9A-Za-z]/g;
// The marks of a held secret or value (HELD, HELD_OWN) count as an address's characters: one held inside a local part
// (`john.SECRET@example.com` as `john.S\uE000T@…`) cut it, and the mask showed the part before it (`john.`).
const EMAIL = /[A-Za-z0-9._%+\uE000\uE001-]+(@[A-Za-z0-9.\uE000\uE001-]+\.[A-Za-z]{2,})/g;
// The same patterns without `g`, for a test before each replace: almost no text has a match, and a replace with a
// function that finds nothing still cost more than the scan. Measured under callgrind on a 450-character access line:
// the two passes 6.4k -> 4.6k instructions.
const AADHAAR_ANY = new RegExp(AADHAAR_RUN.source);
// The PANs' test before the replace: the shape itself, which AOPay's CIBIL reference `SPCBL2308181502437743…` does
// not hold (its 16 digits follow 5 letters, and no letter follows 4 of them), where the shape's middle
// (`[PCHFATBLJG][A-Z][0-9]{4}`, the test until 0cf7042) made every CIBIL access line run a replace that found nothing.
// From its first digit, looking behind over the letters (as BEFORE's patterns): in either case, the shape from its
// first letter was tried at every letter of a line, 677 ns over the bench's access line against 133 for the capitals
// alone; from the digit 232 ns (a timing loop of 2 x 10^5 tests, node 24, a shared host: medians of three runs).
// The hint also finds the spellings maskPans reads through (PAN_SPACED, invisible characters), so it has no boundary:
// a hint that finds more than maskPans masks only costs a replace that finds nothing.
const PAN_HINT = new RegExp(
  `[0-9](?<=${PAN_LETTERS}${PAN_GAP}[0-9])${INVISIBLE}*[0-9]${INVISIBLE}*[0-9]${INVISIBLE}*[0-9]${PAN_GAP}[A-Za-z]`,
);
const SEPARATORS = new RegExp(SEP, "g");
/**
 * The shortest value redacted wherever it appears, a secret or a request's own: shorter ones would mangle ordinary
 * text, and 4 is a 4-digit OTP, as in AOPay's CIBIL example.
 */
export const MIN_REQUEST_VALUE = 4;

/**
 * The values worth redacting (strings of MIN_REQUEST_VALUE characters or more), longest first (values of one length in
 * the order given). Made for every request that scrubs a text (RequestScrubber): a loop and an insertion sort of the
 * few values, where a spread, a filter and Array#sort cost about 1.5k instructions per request under callgrind.
 */
function redactable(values: Iterable<string | null | undefined>): string[] {
  const given: readonly (string | null | undefined)[] = Array.isArray(values) ? values : [...values];
  const out: string[] = [];
  for (let i = 0; i < given.length; i++) {
    const v = given[i];
    if (typeof v === "string" && v.length >= MIN_REQUEST_VALUE) out.push(v);
  }
  // Stable, as Array#sort: a value moves only past shorter ones.
  for (let i = 1; i < out.length; i++) {
    const v = out[i];
    let j = i;
    for (; j > 0 && out[j - 1].length < v.length; j--) out[j] = out[j - 1];
    out[j] = v;
  }
  return out;
}

/**
 * A request's values worth redacting: `redactable`'s, and the values of two or three characters that hold a letter of
 * a script other than Latin (a Greek `Ζωή`, a Devanagari `राम`, a CJK `王明`: a name a request sends in two or three
 * parts), matched only as words (ownSpelling). Latin names that short are not (`Ram` inside `program`, `Li`): the
 * price of MIN_REQUEST_VALUE, docs/security.md.
 */
function ownRedactable(values: Iterable<string | null | undefined>): string[] {
  const given: readonly (string | null | undefined)[] = Array.isArray(values) ? values : [...values];
  const out = redactable(given);
  for (let i = 0; i < given.length; i++) {
    const v = given[i];
    if (typeof v === "string" && v.length >= 2 && v.length < MIN_REQUEST_VALUE && OTHER_SCRIPT_LETTER.test(v))
      out.push(v);
  }
  return out;
}

/** A letter of a script other than Latin (and not Common: `ǅ` is Latin). */
const OTHER_SCRIPT_LETTER = /(?=\p{L})\P{Script=Latin}/u;

/**
 * One pattern matching any of `values` (from `redactable`: longest first, so a shorter one inside a longer cannot leave
 * the rest of it) in any letter case, or null for none; with `spacedDigits`, a value of digits alone also matches with
 * up to three other characters between its digits. In any case because what echoes a value need not keep its case: an
 * audit had AOPay answer the partner's RegistrationID in lower case and a customer's name in capitals (as bureaus
 * write names). Spaced because it need not keep its spelling either: the same audit had it answer the request's OTP
 * as `4 8 2 9 1 3`, its mobile as `98765  43210` and `(98765) 43210`, its Aadhaar number as `234 123 412 346`,
 * spellings the shape masks do not know and an exact match let through to the client and the log. `flags` "g": as
 * written, for a test of a log line (Scrubber.#secretsAsWritten).
 */
function redactionPattern(values: readonly string[], spacedDigits = false, flags = "gi"): RegExp | null {
  if (values.length === 0) return null;
  if (spacedDigits) return new RegExp(values.map(ownSpelling).join("|"), "giu");
  return new RegExp(values.map(escaped).join("|"), flags);
}

/** `text` as a pattern's literal. */
function escaped(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * A request's own value as its redaction finds it (redactionPattern with `spacedDigits`; flags `giu`), in any script:
 * - digits alone: each digit, SPACED between two (`4 8 2 9 1 3`, `(98765) 43210`); in a number of ten digits or more
 *   (a mobile, an Aadhaar number: the request's own, whose digits we know) also one letter with a separator either
 *   side at most (`98765x43210`, `98765 x 43210`, `mob98765x43210`, `2341x2341x2346`), which no shape mask reads as a
 *   number when the number is not the request's (docs/security.md gives why);
 * - a value with letters (a name, a token, a PAN): its NFKC form, in any case (Unicode's case folding: `ΖΩΉ` for
 *   `Ζωή`, a final `ς` for `Σ`), its words joined by OWN_GAP (up to three characters that are no letter, mark or
 *   digit, or none: `Ramesh.Kumar`, `रमेश  कुमारी`, `BENCHTOKEN42`), where a word ends at the value's own separators,
 *   between two ideographs (CJK names are written without spaces, or with one after the family name) and, in a PAN,
 *   between its letters and digits (`ABCPE 1234 F`); invisible characters (ZWJ, ZWNJ, a soft hyphen) read through
 *   inside a word; a letter that carries an accent (ACCENTS: Latin, Greek, Cyrillic) also without it, as names are
 *   written in capitals (`ΖΩΗ` for `Ζωή`, `JOSE` for `José`). Not between a value's letters and digits elsewhere: a
 *   token `ThE9` read through `The\n+9` cut a mobile after it, whose mask then showed the rest;
 * - a value of no letter or digit (`----`), or of fewer than MIN_REQUEST_VALUE (` 0c `: `0, C` is no echo of it):
 *   as written.
 * A value shorter than MIN_REQUEST_VALUE with a letter of another script than Latin (ownValues: a Greek `Ζωή`, a
 * Devanagari `राम`, a CJK `王明`) matches only standing as a word (no letter, mark or digit either side), an
 * ideograph's edge excepted.
 * Until this round a value with letters matched only as written (in any case), and a non-Latin one was never looked
 * for at all (fold): `रमेश कुमारी Ζωή already registered` reached the client whole.
 */
function ownSpelling(value: string): string {
  if (DIGITS_ONLY.test(value)) return [...value].join(value.length >= 10 ? LONG_SPACED : SPACED);
  const chars = [...value.normalize("NFKC")];
  const words = chars.filter((c) => WORD_CHAR.test(c)).length;
  if (value.length >= MIN_REQUEST_VALUE ? words < MIN_REQUEST_VALUE : words === 0) return escaped(value);
  let out = "";
  let previous: string | undefined;
  let apart = "";
  const pan = PAN_SHAPE.test(value);
  for (const c of chars) {
    if (!WORD_CHAR.test(c)) {
      apart += c;
      continue;
    }
    // Between two words: the value's own separator as written, or OWN_GAP.
    if (apart !== "") out += `(?:${escaped(apart)}|${OWN_GAP}{0,3})`;
    else if (previous !== undefined)
      out +=
        (pan && DIGIT_CHAR.test(previous) !== DIGIT_CHAR.test(c)) || (IDEOGRAPH.test(previous) && IDEOGRAPH.test(c))
          ? `${OWN_GAP}{0,3}`
          : OWN_INSIDE;
    out += withoutAccent(c);
    previous = c;
    apart = "";
  }
  // The value's own characters before its first word and after its last, as written (`CTED]`, `]1234`: read
  // without them, `]1234` was `1234` anywhere, inside another number, whose mask it then cut).
  const firstWord = chars.findIndex((c) => WORD_CHAR.test(c));
  let lastWord = chars.length - 1;
  while (!WORD_CHAR.test(chars[lastWord])) lastWord--;
  const lead = escaped(chars.slice(0, firstWord).join(""));
  const trail = escaped(chars.slice(lastWord + 1).join(""));
  if (value.length >= MIN_REQUEST_VALUE) return `${lead}${out}${trail}`;
  const before = IDEOGRAPH.test(chars[firstWord]) ? "" : OWN_WORD_BEFORE;
  return `${before}(?:${out})${IDEOGRAPH.test(chars[lastWord]) ? "" : OWN_WORD_AFTER}`;
}

/** `c` as a pattern: the letter, or, where it carries an accent (ACCENTS), the letter with it or without. */
function withoutAccent(c: string): string {
  const bare = c.normalize("NFD").replace(ACCENTS, "");
  return bare === c || bare === "" ? escaped(c) : `(?:${escaped(c)}|${escaped(bare.normalize("NFC"))})`;
}

const WORD_CHAR = /[\p{L}\p{M}\p{N}]/u;
const DIGIT_CHAR = /\p{N}/u;
/** The scripts written without spaces between a name's parts (Han, kana, Hangul syllables). */
const IDEOGRAPH = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
/** The accents of Latin, Greek and Cyrillic letters but the dot above (`İ` is not `I`). */
const ACCENTS = /[\u0300-\u0306\u0308-\u036F]/g;
/** A PAN's shape in either case: its redaction reads separators between its letters and digits (`ABCPE 1234 F`). */
const PAN_SHAPE = /^[A-Za-z]{5}[0-9]{4}[A-Za-z]$/;
/**
 * Between two words of a request's own value (ownSpelling): what people and systems put there, or nothing, up to three
 * characters (or the value's own separator, as written). Not a bracket, nor a held value's mark (HELD, HELD_OWN): a
 * value `ted]1` read through `], ` found its `ted` inside a `[REDACTED]` and showed the rest (`[REDAC[REDACTED]`).
 */
const OWN_GAP = String.raw`[^\p{L}\p{M}\p{N}[\]\uE000\uE001]`;
/** Between two characters of one word: invisible characters only. */
const OWN_INSIDE = `${INVISIBLE}{0,3}`;
const OWN_WORD_BEFORE = String.raw`(?<![\p{L}\p{M}\p{N}])`;
const OWN_WORD_AFTER = String.raw`(?![\p{L}\p{M}\p{N}])`;

/** What may stand between two digits of a request's own number in an echo of it (redactionPattern). */
const SPACED = "[^0-9A-Za-z]{0,3}";
/**
 * SPACED, or one letter with a separator either side at most: between two digits of a request's own long number. Not
 * a letter after a `\` (a JSON escape, `\n`, between two numbers of a log line is no letter someone wrote).
 */
const LONG_SPACED = `(?:${SPACED}|[^0-9A-Za-z\\\\]?(?<!\\\\)\\p{L}[^0-9A-Za-z]?)`;

/**
 * A value of digits alone shorter than this (a 4 to 6-digit OTP, a numeric partner code) counts in an identifier
 * AOPay issued (TextScrubber.identifier) only where it stands as a whole run of digits, no digit right before or
 * after it (wholeRunPattern). Inside a longer run its digits are a different number: a 4-digit company code is found
 * by chance inside about 6 of every 10,000 nine-digit CIBIL ids, and such an id, redacted to `800[REDACTED]02`, could
 * not be sent back to GenerateOTP (the customer's flow ended there), while handing it on shows no one which of its
 * digits the code would be. Values of 8 digits or more (a date of birth folded, a CIBIL id, a mobile, an Aadhaar
 * number) are still found anywhere: by chance about once in 10^7 ids or less, and a run that long inside an id is an
 * echo. Free text is scrubbed as before: a message does not have to be sent back.
 */
const SHORT_NUMBER = 8;

function isShortNumber(value: string): boolean {
  return value.length < SHORT_NUMBER && DIGITS_ONLY.test(value);
}

/**
 * One pattern matching any of `numbers` (short numbers: isShortNumber) standing as a whole run of digits, each spaced
 * as redactionPattern spaces a request's number with `spacedDigits`; null for none.
 */
function wholeRunPattern(numbers: readonly string[], spacedDigits: boolean): RegExp | null {
  if (numbers.length === 0) return null;
  const alternatives = numbers.map((v) => (spacedDigits ? [...v].join(SPACED) : v));
  return new RegExp(`(?<![0-9])(?:${alternatives.join("|")})(?![0-9])`);
}

/**
 * Whether `pattern` (wholeRunPattern) finds a short number standing whole in `read` (readable(text), lower-cased) or
 * in `text` as written, its digits of any script as ASCII digits (asciiDigits), before and after its percent-escapes
 * are decoded: inside a longer number only if it is so in every one of these readings. A digit that exists only once
 * the text is read (a percent-escape `%31`, a superscript `¹` or a circled `①` that NFKC folds to `1`) glued the
 * number in readable's reading alone: an attack review had AOPay's id `4471%31`, `4471①` and `4471¹` handed to the
 * client as issued, the company code standing whole in what it was shown (each was redacted before round 7fb9bd0).
 */
function holdsWholeRun(pattern: RegExp | null, read: string, text: string): boolean {
  if (pattern === null) return false;
  if (pattern.test(read)) return true;
  let written = asciiDigits(text);
  if (pattern.test(written)) return true;
  for (let i = 0; i < 2 && written.includes("%"); i++) {
    written = written.replace(PERCENT_RUN, decodeRun);
    if (pattern.test(written)) return true;
  }
  return false;
}

/**
 * Whether reading `text` (readable: `read`) loses a match of `pattern` (redactionPattern: secrets or a request's
 * values) that the text holds as written. A `%` before a value whose first two characters are hex digits reads as
 * one character: `%BENCH-REG-0001` as U+FFFD and `NCH-REG-0001`, a request's `%482913` as `H2913`. An attack review
 * had such ids handed to the client whole (the value no longer found in their reading) and such messages shown read,
 * most of the value's characters in them. Only for a text that reading changed.
 */
function lostInReading(pattern: RegExp | null, text: string, read: string): boolean {
  return pattern !== null && matchCount(pattern, text) > matchCount(pattern, read);
}

/**
 * `text` with the matches of `secrets` and then of `values` (redactionPattern) redacted as written where reading it
 * (`read`: readable(text)) loses one of them (lostInReading); `text` itself when it loses none.
 */
function writtenFirst(text: string, read: string, secrets: RegExp | null, values: RegExp | null): string {
  if (read === text) return text;
  const written = lostInReading(secrets, text, read) ? redactAnyCase(text, secrets) : text;
  return lostInReading(values, text, read) ? redactAnyCase(written, values) : written;
}

/**
 * What a request's scrub (Scrubber.forRequest) reads of `text` before reading it: writtenFirst with these secrets and
 * values. For the equivalence tests against the frozen scrubbers, which read the text as it came.
 */
export function redactedWhereReadingLoses(
  text: string,
  secrets: readonly string[],
  values: readonly (string | null | undefined)[],
): string {
  return writtenFirst(
    text,
    readable(text),
    redactionPattern(redactable(new Set(secrets))),
    redactionPattern(ownRedactable(values), true),
  );
}

/** How many times `pattern` (global; its matches never empty: values of MIN_REQUEST_VALUE or more) matches `text`. */
function matchCount(pattern: RegExp, text: string): number {
  pattern.lastIndex = 0;
  let count = 0;
  while (pattern.test(text)) count++;
  pattern.lastIndex = 0;
  return count;
}

const NON_ASCII = /[^ -~\t\n\r]/;
const PERCENT_RUN = /(?:%[0-9A-Fa-f]{2})+/g;

/**
 * The last text isAscii found to be printable ASCII, and the last mayHoldPan found to hold no PAN shape in either case:
 * each of AOPay's texts is tested again as it passes on, unchanged (readable, then maskDigitRuns; the request's scrub,
 * then maskPanShapes; the CIBIL question's text, then its answer choice's, the same text), and a test over a text
 * costs about 20 instructions a character under callgrind. What either holds is a fact about the characters of one
 * string (compared with `===`), so a text found again is answered as it was. A reference to the last text tested, kept
 * only until the next one: nothing is written anywhere.
 */
let lastAscii: string | undefined;
let lastWithoutPan: string | undefined;
let lastWithoutRuns: string | undefined;
let lastLongRunsOnly: string | undefined;

/** Whether `text` is printable ASCII (tab, line feed and carriage return too): NON_ASCII finds nothing in it. */
function isAscii(text: string): boolean {
  if (text === lastAscii) return true;
  if (NON_ASCII.test(text)) return false;
  lastAscii = text;
  return true;
}

/**
 * Whether `text` is ASCII (isAscii) and holds no run of ten or more digits (asciiDigitRuns): then it holds no Aadhaar
 * or mobile number either (their digits and separators make such a run) and maskDigitRuns, with `min` 10 or more,
 * finds nothing in it. The last text found so is remembered (lastWithoutRuns), and the last ASCII text whose runs are
 * all long runs of digits alone (lastLongRunsOnly). Each run the scan finds is a whole run: from its first digit the
 * pattern takes every digit it can reach (what stands between two is never a digit), and it fails at the digits of a
 * shorter run.
 */
function withoutRuns(text: string): boolean {
  if (text === lastWithoutRuns) return true;
  if (text === lastLongRunsOnly || !isAscii(text)) return false;
  const scan = ASCII_RUNS_SCAN;
  scan.lastIndex = 0;
  let run = scan.exec(text);
  if (run === null) {
    lastWithoutRuns = text;
    return true;
  }
  for (; run !== null; run = scan.exec(text)) {
    if (run[0].length < LONG_RUN || !DIGITS_ONLY.test(run[0])) {
      scan.lastIndex = 0;
      return false;
    }
  }
  lastLongRunsOnly = text;
  return false;
}

/**
 * The least length of every run in lastLongRunsOnly, the last text withoutRuns found ASCII with runs of ten or more
 * digits (asciiDigitRuns), each of them digits alone (nothing between them) and at least this long: AOPay's merchant
 * reference, `SPCBL` and 16 digits and letters (`SPCBL2308181502437743aQaHNGxZM`, the GenerateOTP seed page in
 * docs/upstream/seeds; §1.3 of docs/upstream/aopay-api.md has `SPCBL2308181506522334ZiSHM7bAe`), which defeats
 * lastWithoutRuns. Such a text holds no Aadhaar or mobile number as maskShapes finds them: each is at most 14 digits
 * with its prefix (`0091` and ten: MOBILE_PREFIX), with a separator, a `+`, a bracket or nothing between them, and
 * stands alone (BEFORE, END), so inside a run of digits alone it is the whole run; maskShapes' tests are skipped for
 * it. Not maskNumberShapes' digit masks: a long run that holds a mobile- or Aadhaar-shaped part is masked there
 * (holdsNumber; until this round such a run passed whole, `9876543210123456`, a mobile and six digits, among them), and
 * the reference is kept whole only in its documented form, by its own function (aopay/outcome.ts
 * scrubbedMerchantReference). 15, not 13 as before round 80da657 (docs/performance-runs.md): `00919876543210` (14
 * digits) was taken for such a run and passed every mask.
 */
const LONG_RUN = 15;
const DIGITS_ONLY = /^[0-9]+$/;

/** Whether `text` holds a PAN shape in either case (PAN_HINT), glued or not. */
function mayHoldPan(text: string): boolean {
  if (text === lastWithoutPan) return false;
  if (PAN_HINT.test(text) || PAN_CAPS_HINT.test(text) || PAN_EACH_HINT.test(text)) return true;
  lastWithoutPan = text;
  return false;
}

/**
 * AOPay's text as its reader would see it, for the scrub of what AOPay answers (RequestScrubber): compatibility forms
 * folded (NFKC: fullwidth digits `９８７６…`), the digits of other scripts written as ASCII digits (NFKC leaves
 * Devanagari `९८७६…` alone, and a message in Hindi writes the customer's mobile so: an attack review had it reach the
 * client and the log whole, the request's own mobile and Aadhaar number included) and percent-escapes decoded, twice
 * at most (`2341%202341%202346` and `mobile%3D9876543210` inside a URL in a message, `%2520` encoded twice), so a
 * value does not pass the masks by hiding behind an encoding or a script.
 */
export function readable(text: string): string {
  let out = isAscii(text) ? text : asciiDigits(unbracketed(text).normalize("NFKC"));
  for (let i = 0; i < 2 && out.includes("%"); i++) out = out.replace(PERCENT_RUN, decodeRun);
  return isAscii(out) ? out : prolongedAsDash(out);
}

/**
 * The katakana prolonged sound mark (U+30FC, what NFKC makes of the halfwidth `ｰ` U+FF70) between two ASCII letters or
 * digits as `-`: it looks like a dash, and a reader reads `98765ｰ43210` and `ABCPEｰ1234ｰF` as a number and a PAN
 * written apart; but Unicode calls it a letter (Lm), which ends a run of digits (RUN_GAP) and a PAN's spelling.
 * Only for a text holding one: one test on non-ASCII text alone (readable), none on an ASCII log line.
 */
function prolongedAsDash(text: string): string {
  return PROLONGED_ANY.test(text) ? text.replace(PROLONGED_BETWEEN, "-") : text;
}
// Halfwidth too: a percent-escape decoded after NFKC (readable) leaves `ｰ` as it is.
const PROLONGED_ANY = /[\u30FC\uFF70]/;
const PROLONGED_BETWEEN = /(?<=[0-9A-Za-z][\u30FC\uFF70]*)[\u30FC\uFF70](?=[\u30FC\uFF70]*[0-9A-Za-z])/g;

/**
 * The enclosed letters and digits NFKC writes in brackets (`⒜` as `(a)`, `⑴` as `(1)`, U+1F110-1F129 as `(A)`) or
 * leaves alone (`㉈`), as a person reads them (enclosedDigits, enclosedLetter): the brackets cut a PAN's letters and a
 * number's digits apart, and `⒜⒝⒞⒫⒟1234⒡` passed the log line and a request's scrub whole.
 */
function unbracketed(text: string): string {
  return BRACKETED_ANY.test(text)
    ? text.replace(BRACKETED, (c) => {
        const code = c.codePointAt(0) ?? 0;
        return enclosedDigits(code) ?? enclosedLetter(code) ?? c;
      })
    : text;
}
const BRACKETED = /[\u2474-\u2487\u249C-\u24B5\u3248-\u324F\u{1F110}-\u{1F129}]/gu;
const BRACKETED_ANY = new RegExp(BRACKETED.source, "u");

/** A decimal digit of a script other than ASCII (what NFKC leaves: Devanagari, Bengali, Arabic-Indic ...). */
const OTHER_DIGIT = /(?![0-9])\p{Nd}/gu;
const OTHER_DIGIT_ANY = new RegExp(OTHER_DIGIT.source, "u");
const DECIMAL_DIGIT = /^\p{Nd}$/u;

/** `text` with every decimal digit of another script as its ASCII digit. */
function asciiDigits(text: string): string {
  return OTHER_DIGIT_ANY.test(text) ? text.replace(OTHER_DIGIT, digitValue) : text;
}

/**
 * The value of a decimal digit: Unicode encodes each script's digits as a run of ten code points from its zero
 * (UnicodeData.txt, general category Nd), so it is how many digits precede it in that run, modulo ten (runs of
 * several such sets in a row, the mathematical digits, were folded to ASCII by NFKC already).
 */
function digitValue(digit: string): string {
  const code = digit.codePointAt(0) ?? 0;
  let before = 0;
  while (before < 64 && DECIMAL_DIGIT.test(String.fromCodePoint(code - before - 1))) before++;
  return String(before % 10);
}

function decodeRun(run: string): string {
  // Bytes that are not UTF-8 become U+FFFD (as a browser shows them), so they cannot glue to a number behind them.
  return Buffer.from(run.replaceAll("%", ""), "hex").toString("utf8");
}

/** Whether `text` holds a match of `pattern` (redactionPattern). */
function holds(text: string, pattern: RegExp | null): boolean {
  if (pattern === null) return false;
  pattern.lastIndex = 0;
  return pattern.test(text);
}

/** `text` with every match of `pattern` (redactionPattern) replaced by `[REDACTED]`. */
function redactAnyCase(text: string, pattern: RegExp | null): string {
  // A test first: almost no text holds one, and replace() would copy it regardless.
  return pattern !== null && holds(text, pattern) ? text.replace(pattern, "[REDACTED]") : text;
}

/**
 * `text` with every one of `values` (from `redactable`: longest first) replaced by `[REDACTED]`, as written: the log
 * lines' pass. Not in any case there: the case-insensitive pattern cost 230 ns per 450-character access line against
 * 75 (a timing loop, node 24), and every text from AOPay that a line can hold was redacted in any case where it came
 * in (RequestScrubber), as the PAN in either case is.
 */
function redact(text: string, values: readonly string[]): string {
  let out = text;
  for (const value of values) if (out.includes(value)) out = out.split(value).join("[REDACTED]");
  return out;
}

/**
 * What stands for a secret Scrubber.scrubAnyCase redacted before the shape masks, until they and the second pass have
 * run: a private-use character, no letter or digit (so a number after it stands alone, as after `[REDACTED]`'s `]`),
 * and in no secret or pattern.
 */
const HELD = "\uE000";
/** A secret held (`held`): HELD and a character either side, whatever the masks made of them. */
const HELD_AT = /[^]\uE000[^]/g;
/** HELD for a request's own value (RequestScrubber), released after the request's own pass, not before it. */
const HELD_OWN = "\uE001";
const HELD_OWN_AT = /[^]\uE001[^]/g;
/** Either mark: a text holding one as it came is held nothing (scrubAnyCase). */
const MARKS = /[\uE000\uE001]/;

/**
 * A secret's match as Scrubber.scrubAnyCase holds it until the masks have run: its first and last characters, `mark`
 * between them. The masks read what stands beside a number (BEFORE, END: a number glued to a letter is no number
 * someone wrote), so each sees the same neighbours as in the text: `Ramesh Kumar6194603102` stays glued, and the
 * request's own value `6194603102` in it is redacted whole after them as before, not shown as `XXXXXX3102`.
 */
function held(match: string, mark = HELD): string {
  return match[0] + mark + match[match.length - 1];
}

/** `text` with each match held with `mark` (`at`: its HELD_AT) replaced by `[REDACTED]`. */
function released(text: string, at = HELD_AT): string {
  return text.replace(at, "[REDACTED]");
}

/**
 * Whether the number masks would show part of a request's own value matched (`tok_9876543210_ab` as
 * `tok_XXXXXX3210_ab`, `12-9876543210-42` as `12-XXXXXX3210-42`): ten ASCII digits or more (a mobile, an Aadhaar
 * number) and, masked, a letter other than the masks' `X` or more than the four last digits a mask keeps. Only such a
 * value is held before them. A value that is a number alone keeps its readable mask (`9182736450` as `XXXXXX6450`),
 * and any other value is left to after them, as before: a PAN keeps the PAN mask's `XXXXXX315Q`, a short value its
 * neighbours for the PAN mask (`ByQcA0385f` glued to it).
 */
function maskShowsPart(match: string): boolean {
  if (fewerDigits(match, 10)) return false;
  const masked = maskShapes(match);
  return !fewerDigits(masked, 5) || OTHER_LETTER.test(masked);
}

const OTHER_LETTER = /[^\P{L}X]/u;

/**
 * Whether a number may run across an edge of the match of `length` characters at `at` in `text`: a digit inside it and
 * one outside with what a mask reads between two digits of one number between them (joinsDigits).
 */
function crossesNumber(text: string, at: number, length: number): boolean {
  const end = at + length;
  return acrossEdge(text, at - 1, -1, at + length) || acrossEdge(text, end, 1, at - 1);
}

/**
 * Whether, going from `from` by `step` (over an edge at `from` - `step` / `from`), a digit on one side and one on the
 * other have at most what joinsDigits allows between them. `stop`: where the match's other edge is (the inside's end).
 */
function acrossEdge(text: string, from: number, step: 1 | -1, stop: number): boolean {
  // The nearest digit inside the match, then the nearest outside: the gap is the characters between them.
  const inside = nearestDigit(text, from - step, step === 1 ? -1 : 1, stop);
  if (inside === -1) return false;
  const outside = nearestDigit(text, from, step, step === 1 ? text.length : -1);
  if (outside === -1) return false;
  const gap = step === 1 ? text.slice(inside + 1, outside) : text.slice(outside + 1, inside);
  return joinsDigits(gap);
}

/** The index of the nearest ASCII digit from `from` by `step`, at most MAX_GAP + 1 steps and not at `stop`; or -1. */
function nearestDigit(text: string, from: number, step: 1 | -1, stop: number): number {
  for (let i = from, n = 0; i !== stop && i >= 0 && i < text.length && n <= MAX_GAP + 4; i += step, n++) {
    const c = text.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) return i;
  }
  return -1;
}

/** The most characters a mask reads between two digits of one number: RUN_GAP's three, and invisible ones. */
const MAX_GAP = 3;

/**
 * Whether what stands between two digits lets a mask read them as one number: up to three characters that are no
 * letters (RUN_GAP, SEP), or one letter (LETTER_GAP), invisible characters beside it not counted (INVISIBLE_BETWEEN).
 */
function joinsDigits(gap: string): boolean {
  const seen = gap.replace(INVISIBLE_CHARS, "");
  if (seen.length > MAX_GAP) return false;
  const letters = seen.replace(NOT_LETTERS, "").length;
  return letters === 0 || (letters === 1 && seen.length === 1);
}

/**
 * One pattern matching either's matches (redactionPattern's, `giu` as a request's values are), the leftmost first and
 * `first`'s where both match at one place: the secrets before a request's own values, as their passes ran one after the
 * other; `then`'s captured.
 */
function anyOf(first: RegExp | null, then: RegExp): RegExp {
  return new RegExp(`${first === null ? "(?!)" : `(?:${first.source})`}|(${then.source})`, "giu");
}

const INVISIBLE_CHARS = new RegExp(INVISIBLE, "g");
const NOT_LETTERS = /[^\p{L}]/gu;

/** `value` as it stands between the quotes of a JSON string (JSON.stringify's escapes, as pino writes a log line's). */
function jsonSpelling(value: string): string {
  return JSON.stringify(value).slice(1, -1);
}

/**
 * How many times a secret's JSON spelling is escaped again for a log line (jsonSpellings): a JSON text inside a
 * logged string (an upstream body, an error's message quoting one) is escaped once by whoever wrote it and once more
 * by pino, so a `"` of the secret stands as `\\\"` and a control character as `\\u0001`; a third level for JSON
 * quoted inside that. Only a secret holding a character JSON escapes has these spellings (most have none).
 */
const JSON_LEVELS = 3;

/**
 * `value`'s spellings in a JSON string escaped once, twice ... JSON_LEVELS times (none where escaping changes none).
 */
function jsonSpellings(value: string): string[] {
  const out: string[] = [];
  for (let v = value, i = 0; i < JSON_LEVELS; i++) {
    const next = jsonSpelling(v);
    if (next === v) break;
    out.push((v = next));
  }
  return out;
}

/**
 * Letters of other scripts that a reader takes for Latin ones (Cyrillic and Greek capitals and the small letters that
 * look alike), read as those: an attack review had `ВЕНРК5678М` (Cyrillic) and `ΒΕΗΡΚ5678Μ` (Greek) pass every entry
 * point as a PAN. Each to one ASCII letter.
 */
const LOOK_ALIKES: Record<string, string> = {
  А: "A",
  В: "B",
  Е: "E",
  К: "K",
  М: "M",
  Н: "H",
  О: "O",
  Р: "P",
  С: "C",
  Т: "T",
  Х: "X",
  Ѕ: "S",
  І: "I",
  Ј: "J",
  Ү: "Y",
  а: "a",
  е: "e",
  о: "o",
  р: "p",
  с: "c",
  у: "y",
  х: "x",
  ѕ: "s",
  і: "i",
  ј: "j",
  һ: "h",
  ԁ: "d",
  Α: "A",
  Β: "B",
  Ε: "E",
  Ζ: "Z",
  Η: "H",
  Ι: "I",
  Κ: "K",
  Μ: "M",
  Ν: "N",
  Ο: "O",
  Ρ: "P",
  Τ: "T",
  Υ: "Y",
  Χ: "X",
  ο: "o",
  ν: "v",
  Ϲ: "C",
  ϲ: "c",
  // Cherokee capitals and Latin small capitals that look like Latin capitals: a review had `ᏴᎬᎻᏢᏦ5678Ꮇ` and
  // `ʙᴇʜᴘᴋ5678ᴍ` pass every entry point as a PAN (neither has a compatibility decomposition: NFKD keeps them).
  Ꭺ: "A",
  Ᏼ: "B",
  Ꮯ: "C",
  Ꭰ: "D",
  Ꭼ: "E",
  Ꮐ: "G",
  Ꮋ: "H",
  Ꭻ: "J",
  Ꮶ: "K",
  Ꮮ: "L",
  Ꮇ: "M",
  Ꮲ: "P",
  Ꮢ: "R",
  Ꮪ: "S",
  Ꭲ: "T",
  Ꮩ: "V",
  Ꮃ: "W",
  Ꮓ: "Z",
  ᴀ: "A",
  ʙ: "B",
  ᴄ: "C",
  ᴅ: "D",
  ᴇ: "E",
  ɢ: "G",
  ʜ: "H",
  ɪ: "I",
  ᴊ: "J",
  ᴋ: "K",
  ʟ: "L",
  ᴍ: "M",
  ɴ: "N",
  ᴏ: "O",
  ᴘ: "P",
  ʀ: "R",
  ꜱ: "S",
  ᴛ: "T",
  ᴜ: "U",
  ᴠ: "V",
  ᴡ: "W",
  ʏ: "Y",
  ᴢ: "Z",
};
/**
 * What a reading (personReading) changes: a mark (a combining accent, the combining grapheme joiner U+034F), a format
 * character (the Mongolian vowel separator U+180E, zero-width ones, direction marks), a Latin letter written with its
 * accent in one code point (U+00C0-024F, U+1E00-1EFF: `É` as a keyboard writes it, NFC, read as `E` as its NFD
 * `E\u0301` was; a review had `BÉHPK5678M` pass every entry point where `BE\u0301HPK5678M` was masked), a look-alike
 * letter (Greek, Cyrillic, Cherokee U+13A0-13FF, small capitals U+0250-02AF, U+1D00-1D2B, U+A731), a digit of another
 * script, a compatibility form, an enclosed letter NFKD reads (circled U+24B6-24E9, squared U+1F130-1F149 and their
 * words U+1F12A-1F14F, U+1F16A-1F16C: `Ⓐ`, `ⓐ`, `🄰`), an enclosed digit or letter NFKD leaves alone or writes in
 * brackets (U+2474-2487, U+24EB-24FF, U+2776-2793, U+3248-324F, U+1F10B-1F10C: enclosedDigits; U+249C-24B5,
 * U+1F110-1F129, U+1F150-1F169, U+1F170-1F19A, U+1F1E6-1F1FF: enclosedLetter). A text
 * without one reads as it is written. maskPanShapes reads no NFKC form but this one: without the circled and squared
 * letters here, `ⒶⒷⒸⓅⒹ1234Ⓕ` passed it whole (the other entry points fold NFKC first).
 */
const READ_OTHERWISE = new RegExp(
  String.raw`[\p{M}\p{Cf}\p{Extended_Pictographic}\u00C0-\u02AF\u0370-\u03FF\u0400-\u052F\u13A0-\u13FF\u1D00-\u1D2B` +
    String.raw`\u1E00-\u1EFF\u2474-\u2487\u249C-\u24E9\u24EB-\u24FF\u2776-\u2793\u3248-\u324F\uA731` +
    String.raw`\uFF00-\uFFEF\u{1F10B}\u{1F10C}\u{1F110}-\u{1F16C}\u{1F170}-\u{1F19A}\u{1F1E6}-\u{1F1FF}${Object.keys(CONFUSABLE_LETTERS).join("")}]` +
    String.raw`|(?![0-9])\p{Nd}`,
  "u",
);
/**
 * A mark, a format character, or an emoji (Extended_Pictographic: `BEHPK😀5678M`, `98765😀43210` read through it as
 * through a zero-width space; a keycap's and a variation selector's parts are marks): read as nothing.
 */
const READ_AS_NOTHING = /^[\p{M}\p{Cf}\p{Extended_Pictographic}]$/u;
/**
 * Letters a person reads as a digit where they stand among digits (readDigitLetters): `O` `o` as 0, `l` `I` `|` as 1
 * (confusables.txt writes 0 as `O` and 1 as `l`; `o` and `I` as a reader takes them in a number), and the letters
 * Unicode's confusables list maps to a digit (CONFUSABLE_DIGITS: Cyrillic `З` as 3, `б` as 6). Those outside the
 * Basic Multilingual Plane (Old Italic, Osage, Warang Citi) are read as the digit wherever they stand.
 */
const DIGIT_LETTERS: Record<string, string> = { O: "0", o: "0", l: "1", I: "1", "|": "1" };
for (const [letter, digit] of Object.entries(CONFUSABLE_DIGITS)) if (letter.length === 1) DIGIT_LETTERS[letter] = digit;
const DIGIT_LETTER = `[${Object.keys(DIGIT_LETTERS).join("").replace("|", "\\|")}]`;
/** A digit letter beside an ASCII digit: a text without one holds no number or PAN written with them. */
const DIGIT_LETTER_HINT = new RegExp(`[0-9]${DIGIT_LETTER}|${DIGIT_LETTER}[0-9]`);
/** DIGIT_LETTER_HINT for an ASCII text (isAscii): every log line is tested (lineMayHoldNumber). */
const ASCII_DIGIT_LETTER_HINT = /[0-9][OolI|]|[OolI|][0-9]/;
/** A stretch of digits and digit letters, two ASCII digits or more among them (readDigitLetters). */
const DIGIT_STRETCH = new RegExp(`(?:[0-9]|${DIGIT_LETTER})+`, "g");
/** A PAN's five letters, then four digits or digit letters, then its last letter: the four read as digits. */
const PAN_DIGIT_LETTERS = new RegExp(
  `(?<![0-9A-Za-z])[A-Za-z]{3}[PCHFATBLJGpchfatbljg][A-Za-z]((?:[0-9]|${DIGIT_LETTER}){4})[A-Za-z](?![0-9A-Za-z])`,
  "g",
);
const LETTER_BESIDE = /\p{L}/u;

/**
 * `text` as a person reads it (each character decomposed, NFKD; marks and format characters dropped; look-alike
 * letters as the Latin ones; digits of any script as ASCII digits), with where each character of the reading comes
 * from in `text` (the index of its code point), or null where the reading is the text.
 */
function personReading(text: string): { read: string; from: number[] } | null {
  const ascii = isAscii(text);
  const other = !ascii && READ_OTHERWISE.test(text);
  // A written-out escape (`\n`, `\t`, `\u0020`: JSON's, as a text quoting JSON or a log shows it) between two
  // letters or digits: read as what it stands for (writtenEscape). A `\` is the cheap test before the pattern's.
  const escapes = text.includes("\\") && WRITTEN_ESCAPE_BETWEEN.test(text);
  if (!other && !escapes && !(ascii ? ASCII_DIGIT_LETTER_HINT : DIGIT_LETTER_HINT).test(text)) return null;
  let read = "";
  const from: number[] = [];
  for (let i = 0; i < text.length;) {
    if (escapes && text.charCodeAt(i) === 0x5c) {
      WRITTEN_ESCAPE.lastIndex = i;
      const escape = WRITTEN_ESCAPE.exec(text);
      if (
        escape !== null &&
        isAsciiAlphanumeric(text.charCodeAt(i - 1)) &&
        isAsciiAlphanumeric(text.charCodeAt(WRITTEN_ESCAPE.lastIndex))
      ) {
        from.push(i);
        read += writtenEscape(escape);
        i = WRITTEN_ESCAPE.lastIndex;
        continue;
      }
    }
    const code = text.codePointAt(i) ?? 0;
    const seen = code < 0x80 || !other ? String.fromCodePoint(code) : codePointReading(code);
    for (let k = 0; k < seen.length; k++) from.push(i);
    read += seen;
    i += code > 0xffff ? 2 : 1;
  }
  read = readDigitLetters(read);
  return read === text ? null : { read, from };
}

/**
 * Escapes written out as JSON writes them, as a text shows them when it quotes JSON or a log line (any number of `\`
 * before them: JSON escapes the `\` again): a line break, a tab, a form feed (`\n`, `\r\n`, `\t`, a run of them read as
 * one space) or a `\u` escape (read as its character, a space for one that is no letter, digit or mark). A review had
 * `98765\n43210`, `2341\t2341\t2346` and `ABCPE\n1234\nF` written out so pass every exit whole: the `n` of `\n` is a
 * letter, which ends a run of digits (RUN_GAP) and a PAN's spelling. Read only between two letters or digits, so that
 * a text's own escapes elsewhere stay as written (looksAs maps what is kept back to the text).
 */
const WRITTEN_ESCAPE = /(?:\\+[nrtfv])+|\\+u([0-9A-Fa-f]{4})/y;
const WRITTEN_ESCAPE_BETWEEN = /[0-9A-Za-z](?:\\+[nrtfv]|\\+u[0-9A-Fa-f]{4})+[0-9A-Za-z]/;
const PRINTED = /[\p{L}\p{N}\p{P}\p{S}]/u;

/** What a person reads of a written-out escape (WRITTEN_ESCAPE's match). */
function writtenEscape(escape: RegExpExecArray): string {
  if (escape[1] === undefined) return " ";
  const c = String.fromCharCode(parseInt(escape[1], 16));
  return PRINTED.test(c) ? c : " ";
}

/**
 * `read` with the letters that stand for digits (DIGIT_LETTERS) as those digits, each for one (the length kept): the
 * four of a PAN's digits (`BEHPKIO38M` as `BEHPK1038M`), and a stretch of digits and such letters holding two ASCII
 * digits or more that stands apart from letters (`98765 4321O`, `234l234l2346`; not glued to a word or an id, whose
 * letters and digits are no number someone wrote: AOPay's reference `SPCBL…897Icl9l27F` keeps its random tail), but a
 * `|` between two digits (a table's column). The masks then decide: `l10n`, `HTTP2` or `IO10` read so are no
 * identifier, and stay as written.
 */
function readDigitLetters(read: string): string {
  if (!DIGIT_LETTER_HINT.test(read)) return read;
  const pans = read.replace(PAN_DIGIT_LETTERS, (pan: string, digits: string) =>
    fewerDigits(digits, 2) ? pan : pan.slice(0, 5) + asDigits(digits) + pan.slice(9),
  );
  return pans.replace(DIGIT_STRETCH, (stretch: string, at: number) =>
    fewerDigits(stretch, 2) ||
    (at > 0 && LETTER_BESIDE.test(pans[at - 1])) ||
    LETTER_BESIDE.test(pans[at + stretch.length] ?? "")
      ? stretch
      : asDigits(stretch),
  );
}

/** `text` with each digit letter as its digit (`|` between two digits kept). */
function asDigits(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    out += c === "|" && isAsciiDigit(text, i - 1) && isAsciiDigit(text, i + 1) ? c : (DIGIT_LETTERS[c] ?? c);
  }
  return out;
}

function isAsciiDigit(text: string, at: number): boolean {
  const c = text.charCodeAt(at);
  return c >= 0x30 && c <= 0x39;
}

/**
 * How a person reads one code point (personReading), remembered: a text that is read holds few distinct ones, and each
 * took a `normalize` and two tests. A line of 200,000 `é` (scrub-line-attacks.test) took 339 ms in scrubLine without
 * the memory, 48 ms before `é` was read at all. At most READINGS_KEPT of them, so that a text of every code point
 * leaves no more behind.
 */
function codePointReading(code: number): string {
  let seen = readings.get(code);
  if (seen !== undefined) return seen;
  seen = enclosedDigits(code) ?? enclosedLetter(code) ?? "";
  if (seen !== "") return seen;
  for (const part of String.fromCodePoint(code).normalize("NFKD")) {
    if (READ_AS_NOTHING.test(part)) continue;
    seen +=
      LOOK_ALIKES[part] ??
      CONFUSABLE_LETTERS[part] ??
      (part.length === 2 ? CONFUSABLE_DIGITS[part] : undefined) ??
      (OTHER_DIGIT_ANY.test(part) ? digitValue(part) : part);
  }
  if (readings.size < READINGS_KEPT) readings.set(code, seen);
  return seen;
}
const readings = new Map<number, string>();
const READINGS_KEPT = 4096;

/**
 * The number an enclosed digit shows where NFKD leaves it as it is (`①` decomposes to 1, these do not): dingbat
 * circled, sans-serif circled and negative circled 1-10 (U+2776-2793), negative circled 11-20 (U+24EB-24F4), double
 * circled 1-10 (U+24F5-24FE), negative circled 0 (U+24FF), and the dingbat circled and negative circled sans-serif 0
 * (U+1F10B-1F10C: `98765 4321🄋` passed every entry point). Undefined for any other code point.
 */
function enclosedDigits(code: number): string | undefined {
  if (code >= 0x2776 && code <= 0x2793) return String(((code - 0x2776) % 10) + 1);
  // Parenthesized 1-20 (U+2474-2487): NFKD writes `(1)`, whose brackets cut a run of digits (`98765 ⑷⑶⑵⑴0`).
  if (code >= 0x2474 && code <= 0x2487) return String(code - 0x2474 + 1);
  // The circled numbers on black squares (U+3248-324F, CIRCLED NUMBER TEN ON BLACK SQUARE to EIGHTY: Unicode gives them
  // no decomposition): a person reads `㉈` as the 10 its name and glyph show, so it reads as those digits, two of a run.
  if (code >= 0x3248 && code <= 0x324f) return String((code - 0x3248 + 1) * 10);
  if (code >= 0x24eb && code <= 0x24f4) return String(code - 0x24eb + 11);
  if (code >= 0x24f5 && code <= 0x24fe) return String(code - 0x24f5 + 1);
  return code === 0x24ff || code === 0x1f10b || code === 0x1f10c ? "0" : undefined;
}

/**
 * The capital an enclosed letter shows where NFKD leaves it as it is (the squared U+1F130-1F149 and circled U+24B6-24E9
 * decompose to theirs, these do not): negative circled A-Z (U+1F150-1F169, `🅐`), negative squared A-Z (U+1F170-1F189,
 * `🅰`) and the regional indicators A-Z (U+1F1E6-1F1FF, `🇦`: two in a row show a flag where one is defined, the letters
 * elsewhere), and the words squared after them (U+1F18A-1F19A, `🆎` for blood group AB, `🆔`). A PAN spelled with them
 * (`🅰🅱🅲🅿🅳1234🅵`, `🆎CPD1234F`) passed every entry point: the emoji among them (Extended_Pictographic: `🅰 🅱 🅾 🅿 🆎`) were
 * read as nothing, the rest as themselves. Undefined for any other code point.
 */
function enclosedLetter(code: number): string | undefined {
  // Parenthesized small a-z (U+249C-24B5) and capitals A-Z (U+1F110-1F129): NFKD writes `(a)`, `(A)`, whose brackets
  // stood between a PAN's letters (`⒜⒝⒞⒫⒟1234⒡` passed every entry point).
  if (code >= 0x249c && code <= 0x24b5) return String.fromCharCode(0x61 + code - 0x249c);
  if (code >= 0x1f110 && code <= 0x1f129) return String.fromCharCode(0x41 + code - 0x1f110);
  for (const first of ENCLOSED_LETTERS_FROM)
    if (code >= first && code < first + 26) return String.fromCharCode(0x41 + code - first);
  return code >= 0x1f18a ? SQUARED_WORDS[code - 0x1f18a] : undefined;
}
const ENCLOSED_LETTERS_FROM = [0x1f150, 0x1f170, 0x1f1e6];
/** U+1F18A-1F19A as their names spell them (the Unicode code charts; `🆊` is a P crossed out, `🆐` decomposes). */
const SQUARED_WORDS: readonly (string | undefined)[] = "P IC PA SA AB WC DJ CL COOL FREE ID NEW NG OK SOS UP! VS".split(
  " ",
);

/**
 * `done` (what an entry point made of a text) where `mask` (the same entry point's masks) finds an identifier in its
 * reading (personReading) that it did not find as written, with those masked: the rest as written (looksAs maps it
 * back), so a message in Hindi or Russian keeps its script and only the identifier changes. `done` itself where the
 * reading holds nothing more (nearly always: most texts are ASCII, and the reading is made only of a text holding
 * what it changes).
 */
function readAsPerson(done: string, mask: (text: string) => string): string {
  const reading = personReading(done);
  if (reading === null) return done;
  const masked = mask(reading.read);
  return masked === reading.read ? done : looksAs(done, reading.read, reading.from, masked);
}

/** The most edits looksAs aligns a masked reading by (about twenty masked identifiers); past them, the reading. */
const MAX_EDITS = 400;

/**
 * `masked` (a mask of `read`, personReading of `text`) with what the masks kept written as `text` wrote it: `read` and
 * `masked` aligned by the fewest characters deleted and inserted (Myers' diff over what differs between their common
 * start and end), each character of the text whose reading was kept whole shown as written, what the masks wrote as
 * they wrote it. Past MAX_EDITS, `masked` as it is (the reading, masked: the text's spelling lost, nothing shown that
 * the masks hid).
 */
function looksAs(text: string, read: string, from: readonly number[], masked: string): string {
  let start = 0;
  while (start < read.length && start < masked.length && read[start] === masked[start]) start++;
  let endRead = read.length;
  let endMasked = masked.length;
  while (endRead > start && endMasked > start && read[endRead - 1] === masked[endMasked - 1]) {
    endRead--;
    endMasked--;
  }
  const kept = new Uint8Array(read.length).fill(1);
  const inserted = new Array<string>(read.length + 1).fill("");
  if (
    !aligned(read.slice(start, endRead), masked.slice(start, endMasked), kept.subarray(start, endRead), inserted, start)
  )
    return masked;
  let out = "";
  for (let i = 0; i < read.length;) {
    // A group: the characters of the reading from one code point of the text (NFKD may make several).
    let end = i + 1;
    while (end < read.length && from[end] === from[i]) end++;
    const whole = kept.subarray(i, end).every((k) => k === 1);
    for (let g = i; g < end; g++) {
      out += inserted[g];
      if (!whole && kept[g] === 1) out += read[g];
    }
    // Kept whole: the code point as written, and the marks and format characters after it (read as nothing).
    if (whole) out += text.slice(i === 0 ? 0 : from[i], end < read.length ? from[end] : text.length);
    i = end;
  }
  return out + inserted[read.length];
}

/**
 * Myers' diff of `a` and `b`: `kept[i]` 0 where a[i] is deleted, `inserted[offset + i]` what is inserted before a[i]
 * (at a.length: after the last). False past MAX_EDITS.
 */
function aligned(a: string, b: string, kept: Uint8Array, inserted: string[], offset: number): boolean {
  const n = a.length;
  const m = b.length;
  const max = Math.min(n + m, MAX_EDITS);
  const mid = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let edits = -1;
  for (let d = 0; d <= max && edits < 0; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[mid + k - 1] < v[mid + k + 1]) ? v[mid + k + 1] : v[mid + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[mid + k] = x;
      if (x >= n && y >= m) {
        edits = d;
        break;
      }
    }
  }
  if (edits < 0) return false;
  let x = n;
  let y = m;
  for (let d = edits; d > 0; d--) {
    const p = trace[d];
    const k = x - y;
    const down = k === -d || (k !== d && p[mid + k - 1] < p[mid + k + 1]);
    const prevK = down ? k + 1 : k - 1;
    const prevX = p[mid + prevK];
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      x--;
      y--;
    }
    if (down) inserted[offset + x] = b[prevY] + inserted[offset + x];
    else kept[prevX] = 0;
    x = prevX;
    y = prevY;
  }
  return true;
}

/**
 * After maskShapes and the secrets' redaction (a run masked before it would leave a secret's letters, as
 * scrubAnyCase says), in a text that is not ASCII, every run of digits that reads as a mobile or an Aadhaar number as
 * the log line reads it (readString: maskDigitRuns with readsAsNumber, after NFKC, digits of any script, up to three
 * characters that are no letter or digit between two, invisible ones too) as `X`s: for Scrubber.scrub, scrubAnyCase
 * and identifier, the entry points given text as it came, whose shape masks read neither `98765\u200B43210` nor
 * `９８７６５４３２１０`: they passed whole where the log line masked them. The text is given back as written where
 * nothing more is masked (not NFKC'd). Not in a request's scrub (scrubAnyCase's `request`): every text it scrubs is
 * then masked by maskNumberShapes or maskNumberShapesKeepingLast4 (aopay/outcome.ts), which read these runs, the
 * latter keeping the last four digits a CIBIL question's answer choice is told apart by. An ASCII text is as before: a
 * run split only by what SEP does not know (`98765*43210`) is left to maskNumberShapes and to the log line.
 */
function readRuns(text: string): string {
  const wide = WIDE_HINT.test(text)
    ? text
        .replace(AADHAAR_WIDE, (run) => maskAadhaar(run.replace(WIDE_SEPARATORS, "")))
        .replace(MOBILE_WIDE, (_run, digits: string) => maskMobile(digits.replace(WIDE_SEPARATORS, "")))
    : text;
  const masked = maskApart(wide);
  if (isAscii(masked)) return masked;
  const read = masked.normalize("NFKC");
  const runs = maskDigitRuns(read, 10, readsAsNumber);
  // And a PAN read so (fullwidth `ａｂｃｐｅ１２３４ｆ`), as the log line reads one (readLine).
  const out = mayHoldPan(runs) ? maskPans(runs) : runs;
  return out === read ? masked : out;
}

/** maskShapes, then readRuns: the masks readAsPerson runs over a reading, for the bare scrub and the log line. */
function shapesAndRuns(text: string): string {
  return readRuns(maskShapes(text));
}

/**
 * Scrubber.scrub after the secrets' redaction: the Aadhaar, mobile, PAN and e-mail masks; without `numbers`, the
 * Aadhaar and mobile ones skipped (a log line lineMayHoldNumber found none in).
 */
function maskShapes(text: string, numbers = true, line = false): string {
  let out = text;
  // A RequestScrubber's text found ASCII and without a run of ten digits (withoutRuns) holds no Aadhaar or mobile
  // number, and one found without a PAN shape in either case (mayHoldPan) holds none as written: those tests skipped.
  const mayHoldNumber = numbers && text !== lastWithoutRuns && text !== lastLongRunsOnly;
  if (mayHoldNumber && AADHAAR_ANY.test(out))
    out = out.replace(AADHAAR_RUN, (run) => maskAadhaar(run.replace(SEPARATORS, "")));
  if (mayHoldNumber && MOBILE_ANY.test(out))
    out = out.replace(MOBILE_RUN, (_run, digits: string) => maskMobile(digits.replace(SEPARATORS, "")));
  // Not behind mayHoldNumber: a number split by letters is no run of digits to withoutRuns.
  if (numbers) out = maskLetterSplit(out);
  // The last two passes cannot match without these characters; skipping them saves most of their cost on log lines.
  if (mayHoldPan(out)) out = maskPans(out, false, line);
  return maskEmails(out);
}

/**
 * `text` (which mayHoldPan found a PAN shape in) with every PAN shape, either case, glued or not, as `XXXXXX234F`
 * (upper-cased, as pan.ts canonicalPan writes a PAN), but one inside an identifier of hexadecimal digits (inHexId).
 */
function maskPans(text: string, keepMasks = false, line = false): string {
  const glued = maskGluedPans(text, keepMasks);
  if (isAscii(glued) && !ASCII_PAN_SEP.test(glued)) return glued;
  // Spelled apart (PAN_SPACED). One with invisible characters alone (no SEP) is read without them, as the glued shape
  // with its identifier exemption (inHexId): `0123456789ab\u200Bcfe1234a` is no more a PAN than without.
  // On a log line as written (`line`), a spelling across a `"` or a `\` is the line's JSON, not a text's marks: kept
  // (masked there, the line would no longer parse); readLine reads each of its strings, those marks and all.
  const spaced = glued.replace(PAN_SPACED, (match: string, after: string | undefined, at: number, all: string) =>
    line && LINE_SYNTAX.test(match) ? match : spacedPanMasked(match, after, at, all),
  );
  const caps = PAN_CAPS_HINT.test(spaced)
    ? spaced.replace(PAN_CAPS_SPACED, (pan: string) =>
        line && LINE_SYNTAX.test(pan) ? pan : maskPan(pan.replace(NOT_PAN_CHARACTER, "")),
      )
    : spaced;
  return PAN_EACH_HINT.test(caps)
    ? caps.replace(PAN_EACH_SPACED, (pan: string) =>
        line && LINE_SYNTAX.test(pan) ? pan : maskPan(pan.replace(NOT_PAN_CHARACTER, "").toUpperCase()),
      )
    : caps;
}

/**
 * PAN_SPACED's match (`match`, at `at` of `text`; `after`, a letter glued after it, is no part of the PAN) as masked,
 * or kept where it is no PAN (PAN_SPACED says which).
 */
function spacedPanMasked(match: string, after: string | undefined, at: number, text: string): string {
  const pan = after === undefined ? match : match.slice(0, -1);
  const read = pan.replace(NOT_PAN_CHARACTER, "");
  // Invisible characters alone (no SEP): the glued shape's, read without them (maskGluedPans).
  if (pan.replace(INVISIBLE_CHARS, "").length === read.length) return match;
  const letters = read.slice(0, 5) + read.slice(9);
  if (after !== undefined) {
    const upper = letters.toUpperCase();
    const oneCase = letters === upper || letters === letters.toLowerCase();
    if (!oneCase || (after === after.toUpperCase()) === (letters === upper)) return match;
  }
  // A group of a hexadecimal identifier: the shape's letters and the word glued to it all hex digits.
  if (HEX.test(letters) && (after !== undefined ? HEX.test(after) : true)) {
    let from = at;
    while (from > 0 && isAsciiAlphanumeric(text.charCodeAt(from - 1))) from--;
    if (from < at ? HEX.test(text.slice(from, at)) : after !== undefined) return match;
  }
  return maskPan(read.toUpperCase()) + (after ?? "");
}
const HEX = /^[0-9A-Fa-f]+$/;
/** What stands between a log line's JSON strings or escapes a character in one: maskPans' `line`. */
const LINE_SYNTAX = /["\\]/;

/** What PAN_SEP holds in ASCII: an ASCII text without one holds no PAN spelled apart. */
const ASCII_PAN_SEP = new RegExp(`[ _\\t\\n\\r\\v\\f${PUNCTUATION}]`);

/** maskPans of the PAN shapes written glued (PAN_ANY), read through invisible characters between them too. */
function maskGluedPans(text: string, keepMasks: boolean): string {
  const masked = maskPansAsWritten(text, keepMasks);
  if (isAscii(text) || !INVISIBLE_ANY.test(text)) return masked;
  const seen = masked.replace(INVISIBLE_BETWEEN, "");
  const read = maskPansAsWritten(seen, keepMasks);
  return read === seen ? masked : read;
}

/** maskPans of the PAN shapes as written, glued or not (PAN_ANY), but one in a hex identifier (inHexId). */
function maskPansAsWritten(text: string, keepMasks: boolean): string {
  // A run of letters and digits is read for an identifier once (inHexId), not once a shape in it: 20,000 shapes in one
  // 200,000-character run (`ABCPE1234ABCPE1234…`, test/unit/pii/scrub-line-attacks.test.ts) took 28 s read each.
  let runEnd = -1;
  let kept = false;
  return text.replace(PAN_ANY, (pan: string, at: number) => {
    if (at >= runEnd) {
      runEnd = at + pan.length;
      while (runEnd < text.length && isAsciiAlphanumeric(text.charCodeAt(runEnd))) runEnd++;
      kept = inHexId(text, at, runEnd);
    }
    return kept || (keepMasks && ofMaskRun(text, at)) ? pan : maskPan(pan.toUpperCase());
  });
}

/**
 * A frozen scrubber's output (`text`) with the PAN shapes masked that every entry point masks since they are read in
 * either case and glued (maskPans): for the equivalence tests, which compare with frozen scrubbers that masked fewer
 * (capitals standing apart), so that a difference that is only such a PAN masked is told from any other. Not a shape
 * whose letters hold a run of the masks' `X`s (`XXXCq2944R`, `…XXXqpam7030w`): the frozen digit masks made it, after
 * the PAN pass, where today's PAN pass saw digits (with `keepMaskRuns`; without, for a shape glued to a number the
 * frozen copy masked, `9876543210XYZPQ9876Z`, which today's PAN pass saw whole). Read as NFKC where that finds one more
 * (fullwidth letters), as readRuns and readLine read. With `line`, `text` is a log line (a frozen scrubLine's), read as
 * scrubLine reads one as written: no PAN across a `"` or a `\` (maskPans).
 */
export function maskedPansAsScrubbed(text: string, keepMaskRuns = true, line = false): string {
  const masked = frozenPansMasked(text, keepMaskRuns, line);
  if (isAscii(masked)) return masked;
  const read = masked.normalize("NFKC");
  const again = frozenPansMasked(read, keepMaskRuns, line);
  return again === read ? masked : again;
}

/** Whether one of the five letters of the PAN shape at `at` is an `X` beside another: a run of the masks' `X`s. */
function ofMaskRun(text: string, at: number): boolean {
  for (let i = at; i < at + 5; i++) if (text[i] === "X" && (text[i - 1] === "X" || text[i + 1] === "X")) return true;
  return false;
}

function frozenPansMasked(text: string, keepMaskRuns: boolean, line: boolean): string {
  return mayHoldPan(text) ? maskPans(text, keepMaskRuns, line) : text;
}

/**
 * Whether the PAN shape at `from` in `text`, in a run of ASCII letters and digits that ends at `end`, lies in an
 * identifier that is no one's PAN: that run is hexadecimal digits of one case, and with the runs of such digits joined
 * to it by single dashes it holds HEX_ID_DIGITS or more of them. So stay whole: our request ids (v4 UUIDs, lower case:
 * the shape can only be in the last group, `…-bb53-abcfe1234abc`), trace ids (32 digits), span ids (16), SHA-256
 * digests and HMACs written as hex, of one case. A lower-case hex id holds a PAN shape more often than one would guess:
 * the fourth letter from `a b c f`, the other four from `a`-`f`, four digits between letters: about 2.8 in 10,000 of
 * its positions, so about 0.9 % of random trace ids and 0.08 % of UUIDs (test/unit/pii/pan-any-case.test.ts measures
 * 100,000 of each: none changed with this rule). What it costs: a PAN whose letters are all `a`-`f` (or `A`-`F`) glued
 * into such a run is kept (`deadbeef00abcfe1234a`); glued to any other letter, to a short hex run (`ff-abcfe1234a`), or
 * in mixed case it is masked. Not exempt: base64 keys (upper and lower case letters, digits), of which about 0.2 % hold
 * a PAN shape in either case and are masked there (the same test; 43 characters, as key-hasher.ts writes an HMAC): the
 * safe side, and no log line writes one (they are Redis keys). AOPay's CIBIL reference (`SPCBL` and 16 digits,
 * PAN_HINT) and the simulator's ids (`SIMCBL` and 12 digits) hold no PAN shape.
 */
function inHexId(text: string, from: number, end: number): boolean {
  // The shape's five letters fix the case: HEX_LOWER or HEX_UPPER, or neither (NOT_HEX: most shapes, a `P` or a `p`).
  if (hexKind(text, from, from + 10) === NOT_HEX) return false;
  let start = from;
  while (start > 0 && isAsciiAlphanumeric(text.charCodeAt(start - 1))) start--;
  const kind = hexKind(text, start, end);
  if (kind === NOT_HEX) return false;
  let digits = end - start;
  // The runs joined by single dashes before and after, while they are hex of the same case (or digits alone).
  for (let at = start; digits < HEX_ID_DIGITS && at >= 2 && text.charCodeAt(at - 1) === 0x2d;) {
    let j = at - 1;
    while (j > 0 && isAsciiAlphanumeric(text.charCodeAt(j - 1))) j--;
    if (j === at - 1 || (hexKind(text, j, at - 1) & kind) === 0) break;
    digits += at - 1 - j;
    at = j;
  }
  for (let at = end; digits < HEX_ID_DIGITS && at < text.length - 1 && text.charCodeAt(at) === 0x2d;) {
    let j = at + 1;
    while (j < text.length && isAsciiAlphanumeric(text.charCodeAt(j))) j++;
    if (j === at + 1 || (hexKind(text, at + 1, j) & kind) === 0) break;
    digits += j - at - 1;
    at = j;
  }
  return digits >= HEX_ID_DIGITS;
}

/** The fewest hexadecimal digits of an identifier inHexId keeps: a span id's 16 (a trace id 32, a UUID 32). */
const HEX_ID_DIGITS = 16;
/** hexKind's answers, as bits: digits alone are both cases' (HEX_DIGITS_ONLY). */
const NOT_HEX = 0;
const HEX_LOWER = 1;
const HEX_UPPER = 2;
const HEX_DIGITS_ONLY = HEX_LOWER | HEX_UPPER;

/**
 * Whether `text` from `from` to `to` is hexadecimal digits of one case (HEX_LOWER, HEX_UPPER), digits alone, or not.
 */
function hexKind(text: string, from: number, to: number): number {
  let kind = HEX_DIGITS_ONLY;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) continue;
    if (c >= 0x61 && c <= 0x66) kind &= HEX_LOWER;
    else if (c >= 0x41 && c <= 0x46) kind &= HEX_UPPER;
    else return NOT_HEX;
    if (kind === NOT_HEX) return NOT_HEX;
  }
  return kind;
}

/** Whether a character code is an ASCII letter or digit. */
function isAsciiAlphanumeric(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** `text` with each e-mail address's local part masked (EMAIL): maskShapes' last pass. */
function maskEmails(text: string): string {
  return text.includes("@") ? text.replace(EMAIL, (_all, domain: string) => `***${domain}`) : text;
}

/**
 * Where a run of ten or more digits may start in an ASCII log line without `\` (lineMayHoldNumber): a digit, then
 * nine characters that are neither letters nor `"`. Such a run inside a JSON string (no `"` in it without a `\`)
 * spans at least ten characters from its first digit, none a letter; a pattern that is cheap where a run is not (a
 * letter or a quote ends the test), unlike the run's own (LINE_RUN), tried at every digit.
 */
// Spelled out nine times: `{9}` cost half as much again (390 against 250 ns over the access line, a timing loop).
// Or a digit, a letter and a digit (LETTER_AMONG_DIGITS: where a number split by letters may be, maskLetterSplit): in
// this scan, not a scan of its own, which cost the access line's scrub 1.5 -> 2.2 µs (process.cpuUsage, median).
const LINE_RUN_HINT = new RegExp(`[0-9](?:${'[^A-Za-z"]'.repeat(9)}|${LETTER}[0-9])`, "g");
/** The start of a line as logging/logger.ts has pino write it: the level's label, then the time in milliseconds. */
const LINE_TIME = /\{"level":"[a-z]{1,10}","time":[0-9]+,/y;
/** asciiDigitRuns' run (up to three non-letters between digits), from where LINE_RUN_HINT found one may start. */
const LINE_RUN = /[0-9](?:[^0-9A-Za-z]{0,3}[0-9]){9,}/y;
/**
 * The identifiers a log line holds that the server wrote itself, each under its own key and in the exact form it is
 * written: the request id (`requestId`, a random v4 UUID: http/request-id.ts freshRequestId), the trace id
 * (`traceId`, 32 lower-case hex digits: the SDK's, or a caller's traceparent's only when no run of it reads as a
 * number, graphql/plugins/tracing.plugin.ts) and AOPay's merchant reference as the request's lines carry it
 * (`merchantTransactionId`, in its documented form: AOPAY_REFERENCE). The access line's customer references (`refs`)
 * were a third until they were written in letters (protection/customer-refs.ts CUSTOMER_REF_ALPHABET): they hold no
 * digit now, and need no exemption. Their digits are no number someone wrote, though
 * a group of them can read as one (`…-bb53-6281738160bf`: `53-6281738160` is an Aadhaar number's length and first
 * digit to readsAsNumber), so they stay whole, and support can grep for them. Only there: the shape alone was exempt
 * before, anywhere in a line, so a client's or AOPay's text shaped like an id (`9876543210abcdef`,
 * `M_9876543210abcdef`, a UUID or 32 digits) came out with the number readable, in `msg` or any key. A caller's
 * `x-request-id` (`callerRequestId`) is not exempt: it is kept only without such a run (request-id.ts), so the masks
 * find nothing in it. And only as keys of the line itself (topLevelKey), where our code writes them (logger.ts
 * bindings, access-log.ts): until this round at any depth, so an object logged inside a line whose keys someone else
 * chose (a library's error serialised under `err`, its `cause` or extensions; an upstream body, should one ever be
 * logged) could carry a `traceId` of 32 digits or a `requestId` with a number in its groups, passed whole. No line
 * logs such an object today with those keys (the keys under `err` are its class's and ours: a GraphQL error's
 * `extensions.requestId`, graphql/plugins/request.plugin.ts, is our own id, masked there if a run in it reads as a
 * number and whole on the line's own `requestId`): the depth is the rule, not a finding.
 */
const OWN_REQUEST_ID = /^"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"$/;
const OWN_TRACE_ID = /^"[0-9a-f]{32}"$/;
/**
 * AOPay's merchant reference (`merchant_trans_id`, `merchantTrxnRefId`: aopay/envelope.ts REFERENCE_KEYS) in the one
 * form its documentation shows: `SPCBL`, 16 digits, 9 letters or digits (`SPCBL2308181506522334ZiSHM7bAe`,
 * docs/upstream/aopay-api.md §1.3; `SPCBL2308181502437743aQaHNGxZM`, the GenerateOTP page in docs/upstream/seeds).
 * The docs are silent on its grammar and meaning (§1.3, §5 item 5: no length, alphabet or field description); both
 * examples' first twelve digits read as a date and time (`230818 150652`, `230818 150243`, yyMMdd HHmmss), then four
 * more. Only that is kept: 16 digits hold a mobile-shaped part (holdsNumber) in every example, so the shape of the
 * examples, the time's fields in their ranges, is what separates an issued reference from a number glued after
 * `SPCBL`. Any other form, the time's fields out of range, the white-label error example's key (`merchantTrxnRefId`,
 * null there: no form documented) with any other value, is masked as any text (the safe side).
 */
export const AOPAY_REFERENCE =
  /^SPCBL[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])(?:[01][0-9]|2[0-3])[0-5][0-9][0-5][0-9][0-9]{4}[0-9A-Za-z]{9}$/;

/** The most days of each month (February's in a leap year). */
const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
/** Where AOPAY_REFERENCE's 16 digits start and end (after `SPCBL`). */
const REFERENCE_DIGITS_FROM = 5;
const REFERENCE_DIGITS_TO = 21;

/**
 * Whether `text` is AOPay's merchant reference as it is kept whole (ownId, aopay/outcome.ts scrubbedMerchantReference):
 * in its documented form (AOPAY_REFERENCE), its date a day of the calendar (the form's ranges let `230231` pass, a
 * February 31st), and no mobile- or Aadhaar-shaped part (holdsNumber) in its digits that ends past the 16 the form
 * fixes. The form alone left 13 characters free: the four digits and the nine letters or digits, which may all be
 * digits (`SPCBL230818150652` then `9876543210abc`, or `234123412346a`), so any mobile or Aadhaar number AOPay's answer
 * put there reached the client and the log whole. What stays: a number-shaped part inside the 16, which the date and
 * time shape (every reference of a year 2020-2099 starts with one): the price of quoting the reference at all.
 */
export function keptAopayReference(text: string): boolean {
  return keptAopayReferenceIn(text, 0, text.length);
}

/**
 * keptAopayReference of `text`'s characters from `from` to `to` (excluded): for a log line's string between its quotes
 * (ownId, ownReferenceAt), without a copy. The form by AOPAY_REFERENCE where it stands (REFERENCE_AT, sticky), the
 * calendar by the character codes of the month and day (the year's only for a February 29th), the digits after the 16
 * read only where the nine characters start with one. Round 087d21e's slices and `Number`s cost the CIBIL access line
 * about 1.2k instructions under callgrind, and under it each `charCodeAt` of a line (a flattened concatenation, as pino
 * builds it) costs about 45: a loop over the 30 characters cost more than the pattern (docs/performance-runs.md).
 */
function keptAopayReferenceIn(text: string, from: number, to: number): boolean {
  if (to - from !== REFERENCE_LENGTH) return false;
  REFERENCE_AT.lastIndex = from;
  const formed = REFERENCE_AT.test(text);
  REFERENCE_AT.lastIndex = 0;
  return formed && calendarKept(text, from, to);
}

/**
 * keptAopayReferenceIn's tests after the form's (which the caller has made): the date a day of the calendar, and no
 * number in the digits after the 16.
 */
function calendarKept(text: string, from: number, to: number): boolean {
  const digits = from + REFERENCE_DIGITS_FROM;
  const day = twoDigits(text, digits + 4);
  // Every month has 28 days. 20yy: a leap year every fourth (2000 one). A table, not a Date: this runs on every CIBIL
  // line (ownId).
  if (day > 28) {
    const month = twoDigits(text, digits + 2);
    if (day > MONTH_DAYS[month - 1] || (month === 2 && day === 29 && twoDigits(text, digits) % 4 !== 0)) return false;
  }
  let end = from + REFERENCE_DIGITS_TO;
  while (end < to && text.charCodeAt(end) <= 0x39) end++;
  // No digit after the 16: no number ends past them.
  return (
    end === from + REFERENCE_DIGITS_TO ||
    !holdsNumberIn(text, digits, end, true, REFERENCE_DIGITS_TO - REFERENCE_DIGITS_FROM)
  );
}

/** AOPAY_REFERENCE where it stands in a text (sticky: from lastIndex), its 30 characters (REFERENCE_LENGTH). */
const REFERENCE_AT = new RegExp(AOPAY_REFERENCE.source.slice(1, -1), "y");

/** AOPAY_REFERENCE's length: `SPCBL`, 16 digits, 9 letters or digits. */
const REFERENCE_LENGTH = 30;

/** The value of the two ASCII digits at `at` in `text`. */
function twoDigits(text: string, at: number): number {
  return (text.charCodeAt(at) - 0x30) * 10 + text.charCodeAt(at + 1) - 0x30;
}

/**
 * Whether the JSON string from `open` to `close` (its quotes) in `line` is one of our own identifiers (OWN_REQUEST_ID
 * above) as a value under its key, a key of the line itself (topLevelKey). A `"` in a line that is not the edge of a
 * JSON string follows a `\`, so `"requestId":` before `open` is the key of that value, never text inside another
 * string. Called only for a string that holds a run of ten or more digits (lineMayHoldNumber found one, and on every
 * CIBIL line AOPay's reference does: ownReferenceAt reads it there first); the reference is read in place
 * (keptAopayReferenceIn), not copied.
 */
function ownId(line: string, open: number, close: number): boolean {
  if (open >= 24 && line.startsWith('"merchantTransactionId":', open - 24))
    return keptAopayReferenceIn(line, open + 1, close) && topLevelKey(line, open - 24);
  if (open >= 12 && line.startsWith('"requestId":', open - 12))
    return OWN_REQUEST_ID.test(line.slice(open, close + 1)) && topLevelKey(line, open - 12);
  if (open >= 10 && line.startsWith('"traceId":', open - 10))
    return OWN_TRACE_ID.test(line.slice(open, close + 1)) && topLevelKey(line, open - 10);
  return false;
}

/**
 * Whether the run of digits found at `digit` in a line without `\` (lineMayHoldNumber) starts AOPay's reference
 * kept under the line's own `merchantTransactionId` (ownId): `"merchantTransactionId":"SPCBL` before it, the
 * reference's closing quote where its form ends, the reference kept (keptAopayReferenceIn) and its key the line's own
 * (topLevelKey). `referenceEnd`: ownReferenceEnd(line).
 */
function ownReferenceAt(line: string, digit: number, referenceEnd: number): boolean {
  const open = digit - REFERENCE_DIGITS_FROM - 1;
  const key = open - 24;
  if (key < 0) return false;
  // The access line's case: one sticky pattern answers the quote, the key, the form and the depth at once.
  if (referenceEnd === open + REFERENCE_LENGTH + 2) return calendarKept(line, open + 1, open + REFERENCE_LENGTH + 1);
  return (
    line.charCodeAt(open + REFERENCE_LENGTH + 1) === 0x22 &&
    line.startsWith('"merchantTransactionId":"SPCBL', key) &&
    keptAopayReferenceIn(line, open + 1, open + REFERENCE_LENGTH + 1) &&
    (afterSimpleMembers(line, key) || topLevelKey(line, key))
  );
}

/**
 * Where OWN_REFERENCE, from the line's start, ends (after the closing quote of the reference it finds), or -1 for
 * nowhere. Read once a line (lineMayHoldNumber), not once a run: it reads the line's simple members up to the key, or
 * all of them where no key of them holds a reference, and round 612a00d's test of it for every run LINE_RUN_HINT found
 * made a line's cost its length times its runs (an 80 kB text of `1.........`: 0.5 ms -> 740 ms;
 * test/unit/pii/scrub-line-cost.test.ts).
 */
function ownReferenceEnd(line: string): number {
  const pattern = OWN_REFERENCE;
  pattern.lastIndex = 0;
  const end = pattern.test(line) ? pattern.lastIndex : -1;
  pattern.lastIndex = 0;
  return end;
}

/** lineMayHoldNumber's referenceEnd before ownReferenceEnd has read the line. */
const NOT_READ = -2;

/**
 * The line's opening brace, then members whose keys and values hold no `"` or `\` inside and no value of which is an
 * object or an array, the first of which is followed by the key (`"merchantTransactionId":`): how pino writes the
 * access line's bindings before it. Sticky, from the line's start.
 */
const OWN_REFERENCE_KEY_SOURCE =
  String.raw`\{(?:"[^"\\]*":(?:"[^"\\]*"|[^"\\{}[\],]*),)*?` + String.raw`"merchantTransactionId":`;
const OWN_REFERENCE_KEY = new RegExp(OWN_REFERENCE_KEY_SOURCE, "y");

/**
 * OWN_REFERENCE_KEY, then the key's value: AOPay's reference in its form (REFERENCE_AT's pattern) and its closing
 * quote. Where it ends at the closing quote ownReferenceAt looks for, every test before keptAopayReferenceIn's calendar
 * holds: the quote, the key before `SPCBL` (the value's quotes hold no `"`), the form, and the key's depth (what stands
 * before it is the line's brace and simple members: topLevelKey is true of it, whether or not an earlier member had
 * the key too). One pattern instead of a `charCodeAt`, a `startsWith` and two sticky tests: under callgrind about 1.9k
 * instructions less per CIBIL access line (a loop of scrubLine, 23.4k -> 21.6k; docs/performance-runs.md). Where it
 * finds nothing or ends elsewhere, ownReferenceAt runs those tests one by one, as before.
 */
const OWN_REFERENCE = new RegExp(`${OWN_REFERENCE_KEY_SOURCE}"${REFERENCE_AT.source}"`, "y");

/**
 * Whether OWN_REFERENCE_KEY finds the key whose opening quote is at `key` after the line's simple members alone: then
 * topLevelKey is true of it (one brace open, each string closed before the next, no escape in any), found by one
 * pattern instead of a search per string (under callgrind about 2k instructions less per CIBIL access line). Where it
 * finds nothing or another key, topLevelKey reads the line.
 */
function afterSimpleMembers(line: string, key: number): boolean {
  const pattern = OWN_REFERENCE_KEY;
  pattern.lastIndex = 0;
  const found = pattern.test(line) && pattern.lastIndex === key + 24;
  pattern.lastIndex = 0;
  return found;
}

/**
 * Whether the key whose opening quote is at `key` in a serialised line is one of the line's own keys: outside every
 * string, one object deep (the line's braces), no array or object of a value around it. A scan of the characters
 * before it, each string jumped over to its closing quote (indexOf); only for a string ownId already found in our
 * identifiers' form: on every CIBIL line that carries AOPay's reference (its 16 digits now read as holding a number),
 * the scrub of the access line 1.6-1.8 -> 2.1-2.3 µs (process.cpuUsage, median of 5 × 10^5 calls, a shared host).
 */
function topLevelKey(line: string, key: number): boolean {
  let depth = 0;
  for (let i = 0; i < key; i++) {
    const c = line.charCodeAt(i);
    if (c === 0x22) {
      let end = line.indexOf('"', i + 1);
      while (end > 0 && escapedAt(line, end)) end = line.indexOf('"', end + 1);
      if (end < 0 || end >= key) return false;
      i = end;
    } else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return depth === 1;
}

/** Whether the character at `at` follows an odd number of `\`s: escaped, inside a JSON string. */
function escapedAt(line: string, at: number): boolean {
  let slashes = 0;
  while (at - slashes - 1 >= 0 && line.charCodeAt(at - slashes - 1) === 0x5c) slashes++;
  return slashes % 2 === 1;
}

/** A JSON string in a serialised line: its quotes, and any character or escape between them. */
const JSON_STRING = /"(?:[^"\\]|\\.)*"/g;
/**
 * A JSON string, or a number standing as a JSON value (after `:`, `[` or `,`, before `,`, `]` or `}`): numbers are
 * found only outside strings, the strings matched whole first.
 */
const JSON_STRING_OR_NUMBER = /"(?:[^"\\]|\\.)*"|(?<=[:[,])-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?(?=[,\]}])/g;

/**
 * Each JSON number of a line that reads as a mobile or an Aadhaar number (readsAsNumber) written as a string, which
 * the masks then mask: masked where it stood, `"n":XXXXXX3210` was no JSON (a log reader dropped the line, and the
 * development logger's pino-pretty with it). Such a number keeps its digits only in a logged value of ours that is
 * a JSON number (`log.info({ mobile: 9876543210 })`), which no code path writes today: the net's case. `ms`, counts
 * and status codes read as no number and stay numbers; the line's epoch time (LINE_TIME), whose 13 digits hold a
 * mobile-shaped part (`1796392274221`: holdsNumber), is passed over, as lineMayHoldNumber passes over it.
 */
function quoteNumbers(line: string): string {
  LINE_TIME.lastIndex = 0;
  const from = LINE_TIME.test(line) ? LINE_TIME.lastIndex : 0;
  const rest = from === 0 ? line : line.slice(from);
  const quoted = rest.replace(JSON_STRING_OR_NUMBER, (token) =>
    token.charCodeAt(0) === 34 || !readsAsNumber(token) ? token : `"${token}"`,
  );
  return from === 0 ? quoted : line.slice(0, from) + quoted;
}

/**
 * Whether a log line (or one JSON string of it, quotes included) may hold a number readLine would mask: it is not
 * ASCII (another script's digits, a mark between groups), holds a JSON escape or a percent-escape, or a run of ten or
 * more digits (LINE_RUN) that is not both digits alone and of no number's length (numberDigits: the line's epoch time,
 * `1796392274221`, is 13 digits from 1) and is not inside one of our own identifiers (ownId). Without one, the
 * Aadhaar and mobile masks' tests (maskShapes) are skipped too: they find nothing where this finds no run.
 */
function lineMayHoldNumber(line: string): boolean {
  // Not ASCII: a character of more than one byte in UTF-8 (a `Buffer.byteLength`, which costs a tenth of NON_ASCII's
  // test over a 470-character line: a timing loop, node 24).
  if (Buffer.byteLength(line) !== line.length || line.includes("\\") || line.includes("%")) return true;
  // A digit written as the letter it looks like beside a digit (`98765432l0`, `BEHPKIO38M`): read (personReading).
  if (ASCII_DIGIT_LETTER_HINT.test(line)) return true;
  const hint = LINE_RUN_HINT;
  // From after the line's epoch time (logger.ts: the level, then the time, as pino writes them), a run of 13 digits
  // that is ours and no number's: the hint and the run's test there cost 80 ns a line (timing loop).
  // LINE_TIME is sticky: a match leaves its lastIndex at the match's end, where the next line's test would start.
  LINE_TIME.lastIndex = 0;
  hint.lastIndex = LINE_TIME.test(line) ? LINE_TIME.lastIndex : 0;
  let splitRead = false;
  // Where OWN_REFERENCE ends in this line (ownReferenceEnd), read at the first run that needs it: once a line, not once
  // a run (NOT_READ until then).
  let referenceEnd = NOT_READ;
  for (let found = hint.exec(line); found !== null; found = hint.exec(line)) {
    // A letter between two digits (LINE_RUN_HINT's second form): the line is read for a number split by letters once.
    if (found[0].length === 3) {
      if (!splitRead && SPLIT_ANY.test(line)) return true;
      splitRead = true;
      hint.lastIndex = found.index + 1;
      continue;
    }
    // AOPay's reference under the line's own key, on every CIBIL line: read where it stands (ownReferenceAt), the run's
    // match, its copy and the search for its quotes skipped. What follows would keep it too (ownId), from the same
    // tests; the next run is looked for after its closing quote, where no run can start nearer (a run of ten spans ten
    // characters without a `"`).
    if (referenceEnd === NOT_READ) referenceEnd = ownReferenceEnd(line);
    if (ownReferenceAt(line, found.index, referenceEnd)) {
      hint.lastIndex = found.index + REFERENCE_LENGTH - REFERENCE_DIGITS_FROM + 1;
      continue;
    }
    LINE_RUN.lastIndex = found.index;
    const match = LINE_RUN.exec(line);
    if (match === null) {
      hint.lastIndex = found.index + 1;
      continue;
    }
    const run = match[0];
    hint.lastIndex = found.index + run.length;
    if (DIGITS_ONLY.test(run) && !holdsNumber(run)) continue;
    // No `\` in the line, so the quotes around the run delimit its string.
    const open = line.lastIndexOf('"', found.index);
    const close = line.indexOf('"', found.index + run.length);
    if (open < 0 || close < 0 || !ownId(line, open, close)) return true;
  }
  return false;
}

/**
 * A log line with each of its JSON strings that may hold a number (lineMayHoldNumber) read as AOPay's text is read:
 * its escapes decoded (JSON.parse), readable (NFKC, other scripts' digits, percent-escapes), the scrubber's masks
 * (maskShapes), then every run that reads as a mobile or an Aadhaar number as `X`s (maskDigitRuns with readsAsNumber;
 * our own identifiers left whole: ownId). A string that changes is written again as JSON (JSON.stringify), so the
 * line still parses; every other string, and what is between them, stays as it was written.
 */
function readLine(line: string): string {
  return line.replace(JSON_STRING, (literal: string, open: number) =>
    lineMayHoldNumber(literal) && !ownId(line, open, open + literal.length - 1) ? readString(literal) : literal,
  );
}

function readString(literal: string): string {
  let value: unknown;
  try {
    value = JSON.parse(literal);
  } catch {
    return literal;
  }
  if (typeof value !== "string") return literal;
  const read = readable(value);
  const masked = loggedReading(read);
  return masked === read ? literal : JSON.stringify(masked);
}

/**
 * The one reading of PII every exit ends with: a log line's string's (readString), given `read` (readable(text)). The
 * reading (`98765,4321O`, `2341\n234l\n2346`) with the masks the string as written has (stringMasked), then as a
 * person reads it (readAsPerson). The bare scrub's own masks (shapesAndRuns) read no number across `,` `:` `*` a line
 * break or two spaces, nor through a percent-escape, which this does: Scrubber.scrub, scrubAnyCase and maskGlued end
 * with it too (asLogged), so that no exit passes whole what the log line masks (test/unit/pii/exits-agree.test.ts).
 * What is kept in clear on purpose is kept by the same rules at every exit: src/pii/kept-forms.ts.
 */
function loggedReading(read: string): string {
  return readAsPerson(stringMasked(read), stringMasked);
}

/**
 * `text` (an exit's output so far) read as a log line reads one of its strings (loggedReading): the text as it is
 * where that masks nothing more (not NFKC'd, its escapes kept), else the reading masked.
 */
export function asLogged(text: string): string {
  const read = readable(text);
  const masked = loggedReading(read);
  return masked === read ? text : masked;
}

/** The masks of a log line's string (readString), as written or as a person reads it. */
function stringMasked(text: string): string {
  return maskEscapedPans(maskDigitRuns(maskShapes(text), 10, readsAsNumber));
}

/**
 * A string of a log line (readString) with a PAN spelled with JSON's `\u` escapes in it (a JSON text inside a logged
 * string, escaped once more by pino: `\\u0061bcpe1234f` on the line) masked, the escapes decoded: the digit masks
 * read through them (`\u0039876543210`'s run), the PAN's letters were hidden by them. Only where one is found.
 */
function maskEscapedPans(text: string): string {
  if (!text.includes("\\u")) return text;
  const decoded = text.replace(UNICODE_ESCAPE, (_all, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  const masked = mayHoldPan(decoded) ? maskPans(decoded) : decoded;
  return masked === decoded ? text : masked;
}

const UNICODE_ESCAPE = /\\u([0-9A-Fa-f]{4})/g;

/**
 * Whether the log scrubber would mask a run of `text` as a mobile or an Aadhaar number (readsAsNumber), were it not one
 * of our own identifiers (ownId): for an identifier a caller chose that would be logged as ours (a traceparent's trace
 * id, graphql/plugins/tracing.plugin.ts).
 */
export function readsAsNumberInside(text: string): boolean {
  return maskDigitRuns(text, 10, readsAsNumber) !== text;
}

/** What masks text: the Scrubber, or one bound to a request's own values (Scrubber.forRequest). */
export interface TextScrubber {
  /** Free text (a message, a code, a reference): PII shapes masked, secrets and the request's own values redacted. */
  scrub(text: string): string;
  /**
   * An identifier AOPay issued that the client must send back exactly as received (a question or answer key, the
   * PrimaryKeyId/EncodeTxnId of AEPS, the CIBIL id and token of a registration). The shape masks would break a good
   * one (AOPay's own example answer id `4220112750` is a digit away from reading as a mobile), so it is returned as it
   * came unless it holds a registered secret (partner credential) or one of the request's own values, in any case or
   * encoding: then it cannot be handed on, and is returned scrubbed as free text.
   */
  identifier(text: string): string;
}

export class Scrubber {
  readonly #secrets: string[];
  readonly #secretsLower: string[];
  readonly #secretsAnyCase: RegExp | null;
  /**
   * The secrets that hold another, in any case (a registration id holding the company code), or null (nearly always):
   * scrubAnyCase holds their matches in any case before the redaction as written, which redacted the one inside an
   * echo of the other in another case and left the rest of it shown (`Reg_[REDACTED]_Live` for secrets
   * `reg_9876543210_live` and `9876543210`).
   */
  readonly #containers: RegExp | null;
  /**
   * The length of the shortest lower-cased secret (Infinity for none): a text shorter holds none. Most of AOPay's texts
   * are shorter than a partner credential (a code `SPC-200`, ids, a step name): holdsSecretLower's `includes` per
   * secret and text, each about 90 instructions under callgrind, skipped for them.
   */
  readonly #shortestSecret: number;
  /**
   * The secrets an identifier is searched for anywhere (lower-cased), and the short numbers' whole runs (SHORT_NUMBER).
   */
  readonly #secretsInIds: string[];
  readonly #shortSecretRuns: RegExp | null;
  /**
   * Any of #lineSecrets as written (redactionPattern's alternatives, case kept), or null for none: one scan of a log
   * line for all of them, where redact's `includes` per secret searched the line once each. The bench's four secrets
   * over the CIBIL access line: about 1k instructions less per line under callgrind (docs/performance-runs.md).
   */
  readonly #secretsAsWritten: RegExp | null;
  /**
   * The secrets and, for each holding a character JSON escapes (`"`, `\`, a control character), its spellings in a JSON
   * string, escaped once and again (jsonSpellings: a JSON text quoted in a logged string), longest first: what
   * scrubLine redacts. pino writes every string of a line as JSON does, so a
   * secret setting's value with a `"` (config.ts secretValues: a Redis password, HMAC_SECRET) was never found there.
   */
  readonly #lineSecrets: string[];

  /** Secrets shorter than 4 characters (MIN_REQUEST_VALUE) are refused: scrubbing them would mangle ordinary text. */
  constructor(secrets: Iterable<string> = []) {
    this.#secrets = redactable(new Set(secrets));
    this.#secretsLower = this.#secrets.map((v) => v.toLowerCase());
    this.#secretsAnyCase = redactionPattern(this.#secrets);
    this.#containers = redactionPattern(
      this.#secrets.filter((v, i) => this.#secretsLower.some((w, j) => j !== i && v.toLowerCase().includes(w))),
    );
    this.#shortestSecret = Math.min(...this.#secretsLower.map((v) => v.length));
    this.#secretsInIds = this.#secretsLower.filter((v) => !isShortNumber(v));
    this.#shortSecretRuns = wholeRunPattern(this.#secretsLower.filter(isShortNumber), false);
    this.#lineSecrets = redactable(new Set([...this.#secrets, ...this.#secrets.flatMap(jsonSpellings)]));
    this.#secretsAsWritten = redactionPattern(this.#lineSecrets, false, "g");
  }

  /** TextScrubber.identifier, for an answer to no request in particular (no values of its own). */
  identifier(text: string): string {
    const plain = readable(text);
    const holds =
      this.holdsSecretInIdentifier(plain.toLowerCase(), text) ||
      (plain !== text && this.holdsSecretInIdentifier(asciiDigits(text).toLowerCase(), text));
    return holds ? this.scrubAnyCase(this.read(text, plain)) : text;
  }

  /**
   * `read` (readable(text)), or, where reading the text loses a secret it holds as written (lostInReading), the
   * reading of the text with its secrets redacted as written first (writtenFirst).
   */
  read(text: string, read: string): string {
    const written = writtenFirst(text, read, this.#secretsAnyCase, null);
    return written === text ? read : readable(written);
  }

  /** The registered secrets' pattern (redactionPattern), for a request's scrub (writtenFirst). */
  get secretsPattern(): RegExp | null {
    return this.#secretsAnyCase;
  }

  /**
   * holdsSecretLower for an identifier AOPay issued (`lower`: readable and lower-cased; `text`: as AOPay wrote it): a
   * secret of digits alone shorter than SHORT_NUMBER counts only as a whole run of digits (holdsWholeRun). Nearly no
   * id holds any secret: holdsSecretLower first.
   */
  holdsSecretInIdentifier(lower: string, text: string): boolean {
    if (!this.holdsSecretLower(lower)) return false;
    for (let i = 0; i < this.#secretsInIds.length; i++) if (lower.includes(this.#secretsInIds[i])) return true;
    return holdsWholeRun(this.#shortSecretRuns, lower, text);
  }

  /** The registered secrets redacted in any letter case: for what AOPay answers (RequestScrubber). */
  secretsAnyCase(text: string): string {
    return this.holdsSecret(text) ? redactAnyCase(text, this.#secretsAnyCase) : text;
  }

  /**
   * Whether `text`, already readable(), holds a registered secret in any case. A lower-cased copy and `includes`: the
   * case-insensitive pattern's test cost three times as much on a text that holds none (nearly all of them).
   */
  holdsSecret(text: string): boolean {
    return this.#secretsLower.length !== 0 && this.holdsSecretLower(text.toLowerCase());
  }

  /** holdsSecret of a text given lower-cased (`text.toLowerCase()`), for a caller that needs that copy too. */
  holdsSecretLower(lower: string): boolean {
    if (lower.length < this.#shortestSecret) return false;
    const secrets = this.#secretsLower;
    for (let i = 0; i < secrets.length; i++) if (lower.includes(secrets[i])) return true;
    return false;
  }

  scrub(text: string): string {
    // Then as a person reads it (readAsPerson: look-alike letters, marks, other scripts' digits), then as the log line
    // reads it (asLogged): the one reading every exit shares.
    return asLogged(readAsPerson(readRuns(maskShapes(redact(text, this.#secrets))), shapesAndRuns));
  }

  /**
   * scrub, with the registered secrets redacted in any letter case too: for what AOPay answers (RequestScrubber) and
   * the identifiers it issued. A match in another case that no number crosses is redacted BEFORE the shape masks: after
   * them, an echo such as `PAY_9876543210_KEY` of the secret `pay_9876543210_key` read `PAY_XXXXXX3210_KEY`, the mask
   * having taken its digits, and the secret was no longer found: its letters (and the mask's last four) were shown. A
   * match that a number crosses (crossesNumber: a digit at its edge, another within three characters outside it) is
   * left to the pass after the masks, as before: redacted first, it would leave the rest of that number in clear
   * (`d] 9` of `d] 9876543210` leaving `876543210`), where the mask hides it (test/unit/pii/scrub-equivalence.test.ts
   * compares with the frozen copies, which masked first). The matches redacted first stand as HELD until the end, so
   * the later pass cannot find a secret inside their `[REDACTED]` (a secret `CTED]`). Then readRuns, but for a
   * request's scrub (`request`: RequestScrubber, whose callers mask the runs after it).
   */
  scrubAnyCase(text: string, request = false, own: RegExp | null = null): string {
    const containers = this.#containers;
    const first =
      containers !== null && !MARKS.test(text) && holds(text, containers)
        ? text.replace(containers, (match: string, at: number) =>
            crossesNumber(text, at, match.length) ? match : held(match),
          )
        : text;
    const written = redact(first, this.#secrets);
    const pattern = this.#secretsAnyCase;
    // A request's own values (RequestScrubber, `own`: only for a text that holds one, and only those maskShowsPart
    // finds) are held in the same one pass, so no two held matches share a character; with HELD_OWN, released by the
    // RequestScrubber after its own pass. Nothing is held in a text that already holds a mark (HELD_AT would pair the
    // text's own with a held match's edge and show that edge and the mark): the old order, masks first, for it.
    const hold = (match: string, at: number, isOwn: boolean): string =>
      crossesNumber(written, at, match.length) || (isOwn && !maskShowsPart(match))
        ? match
        : held(match, isOwn ? HELD_OWN : HELD);
    const hidden =
      MARKS.test(text) || !(holds(written, pattern) || holds(written, own))
        ? written
        : own === null
          ? written.replace(pattern as RegExp, (match: string, at: number) => hold(match, at, false))
          : written.replace(anyOf(pattern, own), (match: string, isOwn: string | undefined, at: number) =>
              hold(match, at, isOwn !== undefined),
            );
    const shaped = maskShapes(hidden);
    const out = this.holdsSecret(shaped) ? redactAnyCase(shaped, pattern) : shaped;
    const redacted = hidden === written && first === text ? out : released(out);
    return request ? redacted : asLogged(readAsPerson(readRuns(redacted), shapesAndRuns));
  }

  /**
   * scrub for a serialised JSON log line (logging/logger.ts: pino's streamWrite hook and the access line's writer), the
   * last net for text that reached a line unmasked: it also reads a number as AOPay's text is read (RequestScrubber,
   * then maskNumberShapes' digit masks), inside each JSON string of the line, its escapes read (`\u0039`, `\t`, `\"`
   * between digits): readLine. A line lineMayHoldNumber finds nothing in (ASCII, no `\` or `%`, every run of ten or
   * more digits digits alone and not a number's length, or inside an id) skips the Aadhaar and mobile masks too.
   */
  scrubLine(line: string): string {
    // Neither a secret nor a PAN's shape: no redaction, and maskShapes without numbers would only mask e-mail
    // addresses. Two tests, not one scan for both (round dad07e8's #secretOrPan, the secrets' alternatives and the
    // shape's in one pattern): the shape in either case from its first digit (PAN_HINT) cannot start there, and the
    // one scan cost 927 ns over the bench's access line with its four secrets, against 110 + 232 for the two (a
    // timing loop, as PAN_HINT's). The access line's scrubLine, before this round and after: 1,250 -> 1,162 ns (the
    // median of the last five of seven loops of 10^5 lines, both builds in one process, a shared host).
    const secret = holds(line, this.#secretsAsWritten);
    if (!secret && !mayHoldPan(line))
      return lineMayHoldNumber(line) ? readLine(maskShapes(quoteNumbers(line), true, true)) : maskEmails(line);
    const out = secret ? redact(line, this.#lineSecrets) : line;
    return lineMayHoldNumber(out) ? readLine(maskShapes(quoteNumbers(out), true, true)) : maskShapes(out, false, true);
  }

  /**
   * This scrubber, also redacting the given values of one request (its OTP, token, identifiers, names) wherever they
   * appear in a text, in any letter case, and the registered secrets in any case too: for what AOPay answers that
   * request, where an echo of them has no shape to recognise (a 6-digit OTP as an error code, a mobile glued into
   * `MT9876543210…`). The shapes are masked first, so a number that has one keeps its readable mask. Values shorter
   * than MIN_REQUEST_VALUE are ignored.
   */
  forRequest(values: ReadonlyArray<string | null | undefined>): TextScrubber {
    return new RequestScrubber(this, values);
  }
}

/**
 * Scrubber.forRequest's scrubber: PII shapes (PANs in either case too), then the request's own values, as the
 * Scrubber redacts its secrets. The values are sorted at the first text, not when the call starts: a call that
 * scrubs nothing pays nothing (a Set, a filter and a sort per upstream call measured about 400 ns in a timing loop).
 * What it redacts is the same, text for text, as at a88c02b (test/unit/pii/scrub-equivalence.test.ts runs a frozen
 * copy of that one beside it), with fewer passes over each text: one lower-cased copy for the secrets' test and the
 * values' fold, the fold's replace only for a text holding every character of a value, and the last text's scrub
 * remembered (CIBIL's question and answer texts are the same text).
 */
class RequestScrubber implements TextScrubber {
  /**
   * The request's values worth redacting (ownRedactable), each read as a text is (NFKC) and folded as `alphanumeric`
   * folds a text, with the ASCII characters each holds (distinctChars), whether its fold is beyond ASCII (`wide`: in no
   * ASCII text) or a number of ten digits or more (`long`: found in the text's digits alone too, LONG_SPACED), and
   * the shortest folded length: made at first use.
   */
  #own:
    | { values: string[]; folded: { text: string; chars: string[]; wide: boolean; long: boolean }[]; shortest: number }
    | undefined;
  #pattern: RegExp | null | undefined;
  /** The last text scrub() was given and what it returned: a text repeated within an answer is scrubbed once. */
  #lastText: string | undefined;
  #lastScrub = "";

  constructor(
    private readonly scrubber: Scrubber,
    private readonly values: ReadonlyArray<string | null | undefined>,
  ) {}

  scrub(text: string): string {
    if (text === this.#lastText) return this.#lastScrub;
    const plain = this.#read(text);
    // Two tests over the text first, each remembered for it (lastAscii says why): a PAN shape in either case, and, in
    // an ASCII text, a run of ten digits, without which it holds no Aadhaar or mobile number. AOPay's texts have
    // neither (nearly all), and the later tests for them are skipped: the Scrubber's (maskShapes), the one below, and
    // maskDigitRuns' and maskPanShapes' after this (outcome.ts scrubbedReference, scrubbedQuestionText).
    mayHoldPan(plain);
    withoutRuns(plain);
    // One lower-cased copy for the secrets' tests and the fold, made again only if a replace changed the text. An ASCII
    // text holding no secret lower-cased holds none as written (lower-casing ASCII maps each letter to one letter; not
    // so beyond it: a final `Σ`), and the Scrubber's redaction as written is skipped.
    let lower: string | undefined = plain.toLowerCase();
    const secretFree = isAscii(plain) && !this.scrubber.holdsSecretLower(lower);
    // Secrets in any case and the request's own values, before the shapes where no number crosses them
    // (Scrubber.scrubAnyCase): after them, a value holding a number (`tok_9876543210_ab`) lost its digits to the mask
    // and was no longer found, its letters and the mask's last four shown (`tok_XXXXXX3210_ab`). Its pattern is made
    // only for a text that holds one (#holdsOwn, a few `includes`, as after the masks).
    const own = this.#holdsOwn(lower) ? this.#ownPattern() : null;
    let out = secretFree && own === null ? maskShapes(plain) : this.scrubber.scrubAnyCase(plain, true, own);
    if (out !== plain) lower = out.toLowerCase();
    // A mask can make a secret's spelling (a secret `XXXXXX1`): found after the masks, as before them.
    if (secretFree && own === null && out !== plain && this.scrubber.holdsSecretLower(lower)) {
      out = this.scrubber.secretsAnyCase(out);
      lower = undefined;
    }
    if (mayHoldPan(out)) {
      const before = out;
      out = maskPans(out);
      if (out !== before) lower = undefined;
    }
    // Where the text held one before the masks too: what held it may now be held (a value of no letter a-z or digit,
    // `ΑΣΑΣ`, is found by no fold, and was redacted beside one that is). Else asked again only of a text a pass
    // changed (a mask can make a value: `XXXXXX1`): #holdsOwn's answer for `plain` was no.
    if (own !== null || (out !== plain && this.#holdsOwn(lower ?? out.toLowerCase())))
      out = redactAnyCase(out, this.#ownPattern());
    // The own values scrubAnyCase held, after the pass above: released before it, a value `CTED]` was found again in
    // the `[REDACTED]` of a value held (the secrets' are released before it, as their redaction ran before it).
    if (own !== null && out.includes(HELD_OWN) && !MARKS.test(plain)) out = released(out, HELD_OWN_AT);
    // As a person reads it (readAsPerson), for a PAN: the digits are read already (readable) and what stands between
    // them is its callers' to read (aopay/outcome.ts: maskNumberShapes' runs); a mask here would show an own value's
    // last four digits that its redaction hides.
    out = readAsPerson(out, panShapesMasked);
    this.#lastText = text;
    this.#lastScrub = out;
    return out;
  }

  identifier(text: string): string {
    const read = readable(text);
    const lower = read.toLowerCase();
    if (this.scrubber.holdsSecretInIdentifier(lower, text) || this.#holdsOwnInIdentifier(lower, text))
      return this.scrub(text);
    // As written too, where reading changed it: `%482913` reads as `H2913` (lostInReading).
    if (read === text) return text;
    // Its digits of any script as ASCII (the short numbers' whole-run test reads them so: holdsWholeRun).
    const written = asciiDigits(text).toLowerCase();
    return this.scrubber.holdsSecretInIdentifier(written, text) || this.#holdsOwnInIdentifier(written, text)
      ? this.scrub(text)
      : text;
  }

  /**
   * readable(text), or, where reading it loses a secret or one of the request's values that the text holds as written
   * (lostInReading), the reading of the text with those redacted as written first.
   */
  #read(text: string): string {
    const plain = readable(text);
    if (plain === text) return plain;
    const written = writtenFirst(text, plain, this.scrubber.secretsPattern, this.#ownPattern());
    return written === text ? plain : readable(written);
  }

  /**
   * #holdsOwn for an identifier AOPay issued: a value folding to a short number (SHORT_NUMBER) counts only as a whole
   * run of digits (holdsWholeRun: in `lower`, readable's reading, or in `text` as written), spaced as the redaction
   * reads it. #holdsOwn first: nearly no id holds any of the request's values.
   */
  #holdsOwnInIdentifier(lower: string, text: string): boolean {
    if (!this.#holdsOwn(lower)) return false;
    const folded = this.#own?.folded ?? [];
    const shortNumbers: string[] = [];
    let alnum: string | undefined;
    for (let i = 0; i < folded.length; i++) {
      const v = folded[i].text;
      if (isShortNumber(v)) shortNumbers.push(v);
      else if ((alnum ??= alphanumeric(lower)).includes(v) || (folded[i].long && digitsOf(alnum).includes(v)))
        return true;
    }
    return holdsWholeRun(wholeRunPattern(shortNumbers, true), lower, text);
  }

  /**
   * Whether a text, given lower-cased, may hold one of the request's values, in any case or spacing: the folded text
   * includes a folded value. A superset of what the pattern matches, and cheap: the pattern (a RegExp made per request)
   * is built and run only for a text that passes, almost never (it cost 4 µs per upstream call when every text ran it;
   * timing loop). Before the fold (a replace over the whole text): a text shorter than every folded value cannot hold
   * one (the fold only removes), nor can a text lacking one of a value's letters or digits: each looked for with
   * `includes` (a memchr), the first missing one ending the search. A mask of the text's letters and digits (a loop
   * over every character, until this round) cost about 25 instructions a character under callgrind, an `includes`
   * about 90 whatever the length: most texts lack the first or second character looked for.
   */
  #holdsOwn(lower: string): boolean {
    if (this.#own === undefined) {
      // A value twice would be harmless (the second finds nothing left), so no Set here.
      const values = ownRedactable(this.values);
      const folded: { text: string; chars: string[]; wide: boolean; long: boolean }[] = [];
      let shortest = Infinity;
      for (let i = 0; i < values.length; i++) {
        const lower = (isAscii(values[i]) ? values[i] : values[i].normalize("NFKC")).toLowerCase();
        const text = alphanumeric(lower);
        if (text === "") continue;
        // The characters a text must hold as they are: of the value before its accents were folded away.
        folded.push({ text, chars: distinctChars(lower), wide: !isAscii(text), long: isLongNumber(text) });
        shortest = Math.min(shortest, text.length);
      }
      this.#own = { values, folded, shortest };
    }
    const own = this.#own;
    if (own.folded.length === 0 || lower.length < own.shortest) return false;
    let text: string | undefined;
    let wide: boolean | undefined;
    // Indexed loops here and in holdsSecretLower: for-of cost an array iterator's calls per text under callgrind.
    for (let i = 0; i < own.folded.length; i++) {
      const v = own.folded[i];
      if (!includesEvery(lower, v.chars)) continue;
      // A value folded with letters beyond ASCII is in no ASCII text.
      if (v.wide && !(wide ??= NON_ASCII.test(lower))) continue;
      text ??= alphanumeric(lower);
      if (text.includes(v.text) || (v.long && digitsOf(text).includes(v.text))) return true;
    }
    return false;
  }

  #ownPattern(): RegExp | null {
    // The values as #holdsOwn keeps them, or, before it ran, the same made here (#read may ask first).
    if (this.#pattern === undefined)
      this.#pattern = redactionPattern(this.#own?.values ?? ownRedactable(this.values), true);
    return this.#pattern;
  }
}

const NOT_ALPHANUMERIC = /[^0-9a-z]+/g;
const HAS_NOT_ALPHANUMERIC = /[^0-9a-z]/;

/**
 * A lower-cased text without what is not a letter or a digit (foldWide for a text beyond ASCII). A test first: a global
 * replace is a call into the runtime even when it finds nothing, and most of what is folded is letters and digits alone
 * (a CIBIL id, AOPay's reference and ids). Under callgrind, with the secrets' length bound (Scrubber), the scrub of a
 * CIBIL answer's first text `SPC-200` (where a request's values are folded) 10.8k -> 9.9k instructions, the whole
 * answer 79.1k -> 78.6k.
 */
function alphanumeric(lower: string): string {
  if (!HAS_NOT_ALPHANUMERIC.test(lower)) return lower;
  return NON_ASCII.test(lower) ? foldWide(lower) : lower.replace(NOT_ALPHANUMERIC, "");
}

/**
 * A lower-cased text beyond ASCII as RequestScrubber compares it: its letters, marks and digits of every script (the
 * vowel signs, viramas and nuktas of Indian scripts are marks: a name without them is another name), without the
 * accents a name may be written without in capitals (ACCENTS, after NFKD: ownSpelling reads a letter with or
 * without its accent) and with a final `ς` as `σ` (lower-casing writes a capital `Σ` at a word's end as `ς`). Until
 * this round only `0-9a-z` were kept, and a name in any other script folded to nothing and was never looked for.
 */
function foldWide(lower: string): string {
  return lower.normalize("NFKD").replace(NOT_WORD_OR_ACCENT, "").replaceAll("ς", "σ");
}

const NOT_WORD_OR_ACCENT = /[^\p{L}\p{M}\p{N}]+|[\u0300-\u0306\u0308-\u036F]+/gu;

/** Whether a folded value is a number of ten digits or more: its redaction reads a letter between digits too. */
function isLongNumber(folded: string): boolean {
  return folded.length >= 10 && DIGITS_ONLY.test(folded);
}

/** A folded text's ASCII digits alone (for a long number split by letters: LONG_SPACED). */
function digitsOf(folded: string): string {
  return folded.replace(NOT_DIGIT_ASCII, "");
}

/**
 * The ASCII letters and digits of a value lower-cased (before alphanumeric's fold), each once, in the order they first
 * appear: those a text lower-cased must hold as they are to hold the value. Letters beyond ASCII are not listed:
 * folded (foldWide) they may stand otherwise in the text (an accent dropped, `ς` for `σ`); `alphanumeric`'s fold of
 * the text finds them.
 */
function distinctChars(folded: string): string[] {
  const chars: string[] = [];
  let digits = 0;
  let letters = 0;
  for (let i = 0; i < folded.length; i++) {
    const c = folded.charCodeAt(i);
    if (c < 0x30 || c > 0x7a || (c > 0x39 && c < 0x61)) continue;
    if (c <= 0x39) {
      if ((digits & (1 << (c - 0x30))) !== 0) continue;
      digits |= 1 << (c - 0x30);
    } else {
      if ((letters & (1 << (c - 0x61))) !== 0) continue;
      letters |= 1 << (c - 0x61);
    }
    chars.push(folded[i]);
  }
  return chars;
}

/** Whether `text` includes every one of `chars`. */
function includesEvery(text: string, chars: readonly string[]): boolean {
  for (let i = 0; i < chars.length; i++) if (!text.includes(chars[i])) return false;
  return true;
}

/**
 * Every run of `min` or more digits (glued to anything) as `X`s: for client text that is logged or echoed where the
 * scrubber's rule for tokens (a run glued to letters is left alone) would let `x234123412346.example` through. Default
 * 10: a mobile number's length; shorter runs (ports, years) stay readable. Digits of any script count, after NFKC
 * (fullwidth `９８７６…` and Devanagari `९८७६…` are digits to whoever reads them), and so do runs split by what
 * people and obfuscators put between digits (RUN_GAP): an attack review had `x98765_43210`, `(98765) 43210` and
 * `98765<U+200B>43210` shown whole in development error messages and client ids. With `which`, only the runs it
 * accepts are masked (maskNumberShapes: those that read as a mobile or an Aadhaar number); with `keep`, each masked
 * run's last `keep` digits stay (maskNumberShapesKeepingLast4).
 */
export function maskDigitRuns(text: string, min = 10, which?: (run: string) => boolean, keep = 0): string {
  if (text === lastWithoutRuns && min >= 10 && Number.isInteger(min)) return text;
  if (!isAscii(text)) return maskRuns(text.normalize("NFKC"), digitRuns(min), which, keep);
  // An ASCII text's digits are 0-9 and what may stand between them ASCII (RUN_GAP's share of it): asciiDigitRuns finds
  // the same runs as digitRuns (Unicode classes), after one test that finds none in nearly every text. It replaces
  // round 0cf7042's count of digits (a loop, about 25 instructions a character under callgrind).
  const runs = asciiDigitRuns(min);
  if (runs !== null) return runs.any.test(text) ? maskRuns(text, runs.every, which, keep) : text;
  // A `min` no pattern is made for here (not a whole number from 1): as before this path, which digitRuns refuses.
  return fewerDigits(text, min) ? text : maskRuns(text, digitRuns(min), which, keep);
}

/** maskDigitRuns' replace: every run `runs` finds that `which` accepts masked (all its digits, or all but `keep`). */
function maskRuns(text: string, runs: RegExp, which: ((run: string) => boolean) | undefined, keep: number): string {
  return replaceRuns(text, runs, (run) =>
    which === undefined || which(run)
      ? keep === 0
        ? run.replace(ANY_DIGIT, "X")
        : maskAllButLastDigits(run, keep)
      : run,
  );
}

/**
 * Every run `runs` finds as `replace` makes it, for maskDigitRuns and replaceDigitRuns. A run joined by `:` (RUN_GAP)
 * is one run only when it reads as a mobile or an Aadhaar number (readsAsNumber: `98765:43210`, `2341:2341:2346`); else
 * each piece between its colons is a text of its own, its runs found by the same pattern, so that a host's port
 * (`127.0.0.1:4000`, `localhost:43210`) and a time (`10:30:45`) stay as readable as before the colon joined runs.
 */
function replaceRuns(text: string, runs: RegExp, replace: (run: string) => string): string {
  return text.replace(runs, (run) =>
    run.includes(":") && !readsAsNumber(run)
      ? run
          .split(":")
          .map((piece) => replaceRuns(piece, runs, replace))
          .join(":")
      : replace(run),
  );
}

/** Whether `text` holds fewer than `min` of the digits 0-9. */
function fewerDigits(text: string, min: number): boolean {
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39 && ++digits >= min) return false;
  }
  return true;
}

/**
 * digitRuns for an ASCII text (isAscii): `\p{Nd}` is `[0-9]` there, and RUN_GAP `[^0-9A-Za-z]` (`\p{L}` is `[A-Za-z]`),
 * without the `u` flag; `any` to test, `every` to replace. Null for a `min` that is not a whole number from 1 (made
 * once per `min`).
 */
function asciiDigitRuns(min: number): { any: RegExp; every: RegExp } | null {
  let runs = ASCII_DIGIT_RUNS.get(min);
  if (runs === undefined) {
    const source = `[0-9](?:${ASCII_RUN_GAP}[0-9]){${min - 1},}`;
    runs = Number.isInteger(min) && min >= 1 ? { any: new RegExp(source), every: new RegExp(source, "g") } : null;
    ASCII_DIGIT_RUNS.set(min, runs);
  }
  return runs;
}

const ASCII_RUN_GAP = String.raw`[^0-9A-Za-z]{0,3}`;
const ASCII_DIGIT_RUNS = new Map<number, { any: RegExp; every: RegExp } | null>();
/** asciiDigitRuns(10).every's runs, for withoutRuns' own scan (a pattern of its own: its own lastIndex). */
const ASCII_RUNS_SCAN = new RegExp((asciiDigitRuns(10) as { every: RegExp }).every.source, "g");

/**
 * maskDigitRuns, and every PAN shape in either case even glued to letters or digits (`panCNRPY7315Q`, `x_cnrpy7315q`),
 * which the scrubber's PAN rule leaves alone: for names chosen by a client (aliases, field names, client ids).
 */
export function maskGlued(text: string, min = 10): string {
  // As written, then as a person reads it (readAsPerson: `98765432l0`, `98765😀43210`), the runs with the PAN shapes.
  const masked = (t: string) => panShapesMasked(maskDigitRuns(t, min, notDatesOnly));
  const written = readAsPerson(masked(text), masked);
  // And with the enclosed letters and digits NFKC writes in brackets read (unbracketed: `⒜⒝⒞⒫⒟1234⒡`), where that
  // masks more: maskDigitRuns gives the text NFKC'd, whose brackets the reading no longer knows from the text's own.
  const seen = unbracketed(text);
  if (seen === text) return asLogged(written);
  const read = readAsPerson(masked(seen), masked);
  // Then as the log line reads it (asLogged: percent-escapes among them), the one reading every exit shares.
  return asLogged(read === seen.normalize("NFKC") ? written : read);
}

/** Every PAN shape in `text`, either case, glued to anything or not, as `XXXXXX234F`: ASCII only (NFKC it first). */
export function maskPanShapes(text: string): string {
  // Then maskPans for the spellings read through (PAN_SPACED, invisible characters): the glued ones are masked by then.
  return readAsPerson(panShapesMasked(text), panShapesMasked);
}

/**
 * A frozen scrubber's output (`text`) with the PANs masked that a person's reading of it holds (readAsPerson:
 * look-alike letters, marks, format characters): for the equivalence tests, as maskedPansAsScrubbed, so that a
 * difference that is only such a PAN masked is told from any other.
 */
export function maskedPansAsRead(text: string): string {
  return readAsPerson(text, panShapesMasked);
}

/** maskPanShapes of `text` as written. */
function panShapesMasked(text: string): string {
  return mayHoldPan(text) ? maskPans(text.replace(PAN_ANY, (pan) => maskPan(pan.toUpperCase()))) : text;
}
const ANY_DIGIT = /\p{Nd}/gu;

/**
 * What may stand between two digits of one run (digitRuns): up to three characters that are neither letters nor digits,
 * whatever they are. Before round 80da657 a list (spaces, control and format characters, `. - _ / ( ) + ,`), and an
 * attack review found a reader reading through what it left out: `98765:43210`, `98765–43210`, `98765·43210`,
 * `98765*43210`, `98765→43210`, `[98765][43210]`, `98765!43210`, a combining accent or a keycap (`9️⃣8️⃣…`) on each
 * digit, each half five digits, no mask's run, in AOPay's text, development messages and client ids. `:` joins too, a
 * run masked whole only when it reads as a number (maskRuns: a host's port, a time stay readable). Letters end a run.
 */
const RUN_GAP = String.raw`[^\p{L}\p{Nd}]{0,3}`;

/**
 * Every run of `min` or more digits of any script (digitRuns) as `replacement`, a run joined by `:` as replaceRuns
 * reads it: for development messages (graphql/plugins/error-format.ts), which show `[digits]`.
 */
export function replaceDigitRuns(text: string, min: number, replacement: string): string {
  return replaceRuns(text, digitRuns(min), () => replacement);
}

/** A global pattern for runs of `min` or more digits of any script, RUN_GAP between them (made once per `min`). */
export function digitRuns(min: number): RegExp {
  let runs = DIGIT_RUNS.get(min);
  if (!runs) DIGIT_RUNS.set(min, (runs = new RegExp(`\\p{Nd}(?:${RUN_GAP}\\p{Nd}){${min - 1},}`, "gu")));
  return runs;
}

const DIGIT_RUNS = new Map<number, RegExp>();

/**
 * Every run of digits (of any script, RUN_GAP between them, glued to anything) that reads whole as an Indian mobile
 * (10 digits from 6-9, or after `0` or `91`) or an Aadhaar number (12 digits from 2-9) as `X`s, and every PAN shape,
 * glued or not (maskPanShapes): for an identifier AOPay issued that is logged and shown (its merchant reference, a
 * code), where the scrubber leaves a number glued to letters alone (`MT9876543210`: an attack review). Narrower than
 * maskDigitRuns on purpose: the documented reference `SPCBL2308181506522334ZiSHM7bAe` (docs/upstream/aopay-api.md
 * §1.3) holds a run of 16 digits, and masked it could no longer be quoted to AOPay. A run that is not ASCII after
 * NFKC (Devanagari digits) counts from ten digits: no reference of AOPay's is written so.
 */
export function maskNumberShapes(text: string): string {
  return readAsPerson(numberShapesMasked(text), numberShapesMasked);
}

/**
 * Whether a run of digits (digitRuns) is dates alone, nothing else (`2026-12-01–2026-12-07`, `०७/१२/२०२६`,
 * `01/12/2026 - 07/12/2026`): each year-month-day or day-month-year with one of `-` `/` `.` twice, a month 1-12, a
 * day 1-31, a year 1900-2099, up to three characters that are no digit between two. A person reads dates there, not an
 * identifier: maskGlued keeps them (every other run of ten digits it masks). A date and a time (`2026-12-04 13:45`)
 * is no run of dates alone, masked as before; nor is a run of twenty characters or fewer (one date at most).
 */
function datesOnly(run: string): boolean {
  // Two dates at least: twenty characters or more (a run of one date is read as any other run). Here, so that each
  // caller (readsAsNumber, maskGlued's notDatesOnly) asks this alone.
  if (run.length <= 20) return false;
  const digits = asciiDigits(run);
  for (let at = 0; ;) {
    DATE_AT.lastIndex = at;
    const date = DATE_AT.exec(digits);
    if (date === null) return false;
    const [year, month, day] = date[1] === undefined ? [date[8], date[7], date[5]] : [date[1], date[3], date[4]];
    if (+month < 1 || +month > 12 || +day < 1 || +day > 31 || +year < 1900 || +year > 2099) return false;
    at = DATE_AT.lastIndex;
    if (at === digits.length) return true;
    DATE_GAP.lastIndex = at;
    if (!DATE_GAP.test(digits)) return false;
    at = DATE_GAP.lastIndex;
  }
}
const DATE_AT = /([0-9]{4})([-/.])([0-9]{2})\2([0-9]{2})|([0-9]{2})([-/.])([0-9]{2})\6([0-9]{4})/y;
const DATE_GAP = /[^0-9]{1,3}/y;
const notDatesOnly = (run: string): boolean => !datesOnly(run);

/** maskNumberShapes of `text` as written. */
function numberShapesMasked(text: string): string {
  return panShapesMasked(maskDigitRuns(text, 10, readsAsNumber));
}

/**
 * Whether a run of digits (digitRuns) reads as a mobile or an Aadhaar number: a group of digits alone (nothing between
 * them) that holds one (holdsNumber: the run whole, when it is digits alone, or any of its groups), or any of its
 * groups in a row that are one (numberDigits; what stands between two groups of digits in it splits them), as a reader
 * reads `MT9876543210 1234` as a mobile and a number after it, where the whole run's 14 digits are no number's; and as
 * the run ended at a `%` until RUN_GAP read through any mark, `x4353055367%2066881.85672` held an Aadhaar-shaped
 * `2066881.85672`. Not an Aadhaar number inside a run across a `:` (a date and time with seconds, `2026-12-04
 * 13:45:12`, holds twelve digits from 2-9 in a row) nor next to a `-` (a request id's last group,
 * `…-bb53-628173816012`): both stay readable. A run whose twelve digits are all it holds is masked (`2026-12-04 13:45`
 * too: the one spelling of a time this reads as a number, docs/security.md). Groups in a row count only when they are
 * exactly a number (a prefix and ten, twelve): an IP address (`192.168.100.200`) or a time holds a mobile-shaped part
 * across its separators, and is no number someone wrote.
 */
function readsAsNumber(run: string): boolean {
  // A range of dates alone is read as dates (datesOnly).
  if (datesOnly(run)) return false;
  const digits = run.replace(NOT_DIGIT, "");
  if (!DIGITS_ONLY.test(digits)) return true;
  if (digits.length === run.length) return holdsNumber(digits);
  if (numberDigits(digits)) return true;
  if (digits.length < 10) return false;
  const groups = run.split(NOT_DIGITS);
  const gaps = run.match(NOT_DIGITS_ALL) ?? [];
  // A run starts and ends with a digit (digitRuns): gaps[k] stands between groups[k] and groups[k + 1].
  for (let i = 0; i < groups.length; i++) {
    let joined = "";
    let colon = false;
    for (let j = i; j < groups.length && joined.length < 14; j++) {
      if (j > i && gaps[j - 1].includes(":")) colon = true;
      joined += groups[j];
      const dashed = (i > 0 && gaps[i - 1].includes("-")) || (j < gaps.length && gaps[j].includes("-"));
      if (joined.length < 10) continue;
      // One group alone: digits glued to digits, a number inside them as inside a run of digits alone.
      if (j === i ? holdsNumber(joined, !dashed) : numberDigits(joined, !colon && !dashed)) return true;
    }
  }
  return false;
}

/**
 * Whether ASCII digits with nothing between them hold a mobile (ten digits from 6-9) or, with `aadhaar`, an Aadhaar
 * number (twelve from 2-9) anywhere in them: glued to other digits, a number is still the number (`9876543210123456`, a
 * mobile and six digits, `98765432100000000000000000000000`, a caller's traceparent `…0002341234123460…`). Until this
 * round only a run of 10 to 14 digits that was a number whole (numberDigits) was masked, so that AOPay's references
 * (`SPCBL` and 16 digits) passed: they are kept in their documented form by their own rule now (ownId,
 * aopay/outcome.ts scrubbedMerchantReference). Every prefixed mobile (`0`, `91`, `0091` and ten digits) holds the ten.
 * What stays readable: fewer than ten digits, and runs whose digits before the last ten are all 0-5 and before the last
 * twelve all 0-1 (`1234567890`, `10000000000000000000`). The epoch time in milliseconds (`1796392274221`) holds a
 * mobile-shaped part: the log line's own `time` is passed over (lineMayHoldNumber, quoteNumbers), one in a message is
 * masked. A loop over the digits' first characters: about ten instructions a digit, on the slow path only. With
 * `endsPast`, only a number that ends past that many digits counts (keptAopayReference: past the reference's fixed 16).
 */
function holdsNumber(digits: string, aadhaar = true, endsPast = 0): boolean {
  return holdsNumberIn(digits, 0, digits.length, aadhaar, endsPast);
}

/** holdsNumber of `text`'s digits from `from` to `to` (excluded), without a copy (keptAopayReferenceIn). */
function holdsNumberIn(text: string, from: number, to: number, aadhaar: boolean, endsPast: number): boolean {
  const n = to - from;
  for (let i = 0; i + 10 <= n; i++) {
    const c = text.charCodeAt(from + i);
    if ((c >= 0x36 && i + 10 > endsPast) || (aadhaar && c >= 0x32 && i + 12 <= n && i + 12 > endsPast)) return true;
  }
  return false;
}

/**
 * Whether ASCII digits are a mobile's (10 from 6-9, after a prefix: `0`, `91`, `091`, `0091`, MOBILE_PREFIX) or, with
 * `aadhaar`, an Aadhaar number's (12 from 2-9) length and first digits.
 */
function numberDigits(digits: string, aadhaar = true): boolean {
  switch (digits.length) {
    case 10:
      return /^[6-9]/.test(digits);
    case 11:
      return /^0[6-9]/.test(digits);
    case 12:
      return aadhaar ? /^(?:91[6-9]|[2-9])/.test(digits) : /^91[6-9]/.test(digits);
    case 13:
      return /^091[6-9]/.test(digits);
    case 14:
      return /^0091[6-9]/.test(digits);
    default:
      return false;
  }
}

const NOT_DIGIT = /\P{Nd}/gu;
const NOT_DIGITS = /\P{Nd}+/u;
const NOT_DIGITS_ALL = /\P{Nd}+/gu;

/**
 * maskNumberShapes with each masked number's last four digits kept (`MT9876543210` as `MTXXXXXX3210`): for the CIBIL
 * question's and answer choices' texts, which the customer must still be able to answer. A number standing alone there
 * is already shown so by the scrubber (`XXXXXX3210`, `XXXX XXXX 2346`); one glued into a word (another customer's
 * mobile in `MT9876543210`) passed whole. Masked whole as in a message, an answer choice naming the customer's own
 * account by such a number would read `MTXXXXXXXXXX` in every choice alike, and the question could not be answered:
 * the last four digits are what a bank prints for the customer to recognise an account by, and all the mobile and
 * Aadhaar masks show.
 */
export function maskNumberShapesKeepingLast4(text: string): string {
  // As written, then as a person reads it (readAsPerson: `98765 4321O`, `2341😀234l😀2346`), as maskNumberShapes does.
  return readAsPerson(numberShapesKeepingLast4(text), numberShapesKeepingLast4);
}

/** maskNumberShapesKeepingLast4 of `text` as written. */
function numberShapesKeepingLast4(text: string): string {
  return panShapesMasked(maskDigitRuns(text, 10, readsAsNumber, 4));
}

/** `run` with every digit but its last `keep` as `X` (what stands between them kept). */
function maskAllButLastDigits(run: string, keep: number): string {
  let total = 0;
  for (const _ of run.matchAll(ANY_DIGIT)) total++;
  let seen = 0;
  return run.replace(ANY_DIGIT, (digit) => (++seen > total - keep ? digit : "X"));
}
