/**
 * The spelling class of test/unit/pii/spelling-class.test.ts (its header says where it comes from): a mobile or an
 * Aadhaar number in every spelling a reader reads as one number, in a few contexts. Shared with the logger's test
 * (test/unit/logging/log-spellings.test.ts), which writes the same spellings into log lines.
 */
export const MOBILE = "9876543210";
export const AADHAAR = "234123412346";

const PREFIXES = ["", "+91", "91", "0", "+91-", "+91 ", "(+91)", "(+91) ", "+(91)", "091", "0091", "0091-", "0091 "];
const PREFIXES_MORE = ["+0091", "91-", "(0)", "0-", "+91.", "091-"];
const half = (mark: string) => MOBILE.slice(0, 5) + mark + MOBILE.slice(5);
const MOBILE_BODIES = [
  MOBILE,
  half(" "),
  half("-"),
  "987-654-3210",
  half(":"),
  half(": "),
  half("\uFF1A"),
  half("_"),
  half("\u200B"),
  half("\u2011"),
  half("\u2013 "),
  half("\u00B7"),
  half("'"),
  half("*"),
  half("#"),
  half("|"),
  half("~"),
  half("="),
  half(";"),
  half("!"),
  half("?"),
  half("$"),
  half("@"),
  half("&"),
  half("^"),
  half("\u2192"),
  half("%20"),
  "[98765][43210]",
  "{98765}{43210}",
  "९८७६५43210",
  [...MOBILE].join("\u0301"),
  [...MOBILE].map((d) => `${d}\uFE0F\u20E3`).join(""),
];
const quads = AADHAAR.match(/.{4}/g) as string[];
const AADHAAR_BODIES = [
  AADHAAR,
  ...[" ", "-", ":", "*", "\u00B7", "\u2013", "|", "\u200B", "\u2192"].map((mark) => quads.join(mark)),
  "२३४१ 2341 2346",
];
export const CONTEXTS: [string, (x: string) => string][] = [
  ["standing alone", (x) => `call ${x} now`],
  ["glued to upper-case letters", (x) => `MT${x}`],
  ["glued to lower-case letters", (x) => `mt${x}`],
  ["after an underscore", (x) => `REF_${x}`],
  ["glued before letters", (x) => `${x}AB`],
  ["after a key", (x) => `MOBILE:${x}.`],
  ["alone", (x) => x],
];

/** The digits of `text` as a reader reads them: every script's as ASCII, what stands between them dropped. */
export function readDigits(text: string): string {
  return text
    .normalize("NFKC")
    .replace(/%20/g, " ")
    .replace(/\p{Nd}/gu, (d) => {
      const cp = d.codePointAt(0) ?? 0;
      let zero = cp;
      while (cp - zero < 9 && /\p{Nd}/u.test(String.fromCodePoint(zero - 1))) zero--;
      return String(cp - zero);
    })
    .replace(/[^\p{L}0-9]/gu, "");
}

/** readDigits of serialised JSON (a log line, an answer's body): its escapes decoded first (`\u0039`, `\t`, `\"`). */
export function readJsonDigits(text: string): string {
  return readDigits(
    text
      .replace(/\\u([0-9A-Fa-f]{4})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)))
      .replace(/\\[tnrbf"\\/]/g, " "),
  );
}

const cases: [string, string, string][] = [];
for (const [where, context] of CONTEXTS) {
  for (const prefix of [...PREFIXES, ...PREFIXES_MORE])
    for (const body of MOBILE_BODIES) cases.push([where, context(prefix + body), MOBILE]);
  for (const body of AADHAAR_BODIES) cases.push([where, context(body), AADHAAR]);
}

/** Every spelling in every context: [the context's name, the text, the number it spells]. */
export const SPELLINGS: [string, string, string][] = [];
for (const [where, context] of CONTEXTS) {
  for (const prefix of [...PREFIXES, ...PREFIXES_MORE])
    for (const body of MOBILE_BODIES) SPELLINGS.push([where, context(prefix + body), MOBILE]);
  for (const body of AADHAAR_BODIES) SPELLINGS.push([where, context(body), AADHAAR]);
}
