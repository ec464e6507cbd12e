import { Scrubber } from "../../../src/pii/scrub";
import { everyExit } from "../../helpers/every-exit";
import { read } from "../../helpers/scrub-entry-points";

/**
 * The separators a PAN, an Aadhaar number and a mobile can be written apart by, tried systematically at every exit
 * (test/helpers/every-exit.ts): each punctuation mark between the groups, around them (brackets, quotes), between every
 * character, and the escapes JSON and logs write out (`\n`, `\t`, `\r`, `\u0020`). A review had `ABCPE:1234:F`,
 * `(ABCPE)(1234)(F)`, `a.b.c.p.e.1.2.3.4.f`, `ABC PE 1234 Fsvc` and `98765\n43210` pass every exit whole.
 */
const scrubber = new Scrubber(["AOP-554"]);
const EXITS = everyExit(scrubber);

const PAN = ["BEHPK", "5678", "M"];
const AADHAAR = ["2341", "2341", "2346"];
const MOBILES = [
  ["98765", "43210"],
  ["987", "654", "3210"],
];
/** Between groups: punctuation, spaces, and escapes written out as a JSON text or a log shows them. */
const BETWEEN = [
  ...[":", ".", "-", "/", "|", ";", "_", "+", ",", "'", '"', "*", "#", "~", "=", "&", "!", "?", "\\"],
  ...[" ", "  ", " : ", " | ", " / ", ". ", ", ", "\\n", "\\t", "\\r", "\\r\\n", "\\u0020", "\\\\n", "\t", "\n"],
];
/** Around groups: brackets and quotes. */
const AROUND: [string, string][] = [
  ["(", ")"],
  ["[", "]"],
  ["{", "}"],
  ["<", ">"],
  ['"', '"'],
  ["'", "'"],
  ["`", "`"],
];

function spellings(groups: readonly string[], pan: boolean): string[] {
  const whole = groups.join("");
  const out: string[] = [];
  for (const sep of BETWEEN) {
    out.push(groups.join(sep));
    if (pan) out.push(groups.join(sep).toLowerCase(), [...whole].join(sep), [...whole.toLowerCase()].join(sep));
  }
  for (const [open, close] of AROUND) {
    out.push(groups.map((g) => `${open}${g}${close}`).join(""));
    out.push(groups.map((g, i) => (i === 1 ? `${open}${g}${close}` : g)).join(""));
    out.push(`${open}${groups.join(`${close}${open}`)}${close}`);
  }
  if (pan) {
    const [letters, digits, last] = groups;
    for (const sep of [" ", ".", ":", "-"]) {
      out.push(`${letters.slice(0, 3)}${sep}${letters.slice(3)}${sep}${digits}${sep}${last}svc`);
      out.push(`${letters}${sep}${digits}${sep}${last}svc`);
    }
  }
  return out;
}

/** A sentence, a JSON text, a label, an OTP-like context around a spelling. */
const CONTEXTS: ((t: string) => string)[] = [
  (t) => t,
  (t) => `ref ${t} ok`,
  (t) => `OTP sent to ${t}, otp=482913`,
  (t) => `id=${t}&x=1`,
];

/**
 * What a person reads of an exit's output: escapes written out (`\n`, `\t`, `\r`, `\u0020`, any number of `\`
 * before them) as the character they stand for, then `read` (letters and digits alone, lower case).
 */
function personReads(shown: string): string {
  return read(
    shown
      .replace(/\\+u([0-9a-fA-F]{4})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
      .replace(/\\+[nrtbf]/g, " "),
  );
}

const CASES: [string, string][] = [];
for (const context of CONTEXTS) {
  for (const s of spellings(PAN, true)) CASES.push([context(s), "behpk5678m"]);
  for (const s of spellings(AADHAAR, false)) CASES.push([context(s), "23412341"]);
  for (const groups of MOBILES) for (const s of spellings(groups, false)) CASES.push([context(s), "987654"]);
}

describe("an identifier split by any separator is masked at every exit", () => {
  it("each case reads as its identifier", () => {
    for (const [text, secret] of CASES)
      expect({ text, read: personReads(text) }).toEqual({
        text,
        read: expect.stringContaining(secret) as string,
      });
  });

  it.each(Object.keys(EXITS))("%s", (name) => {
    const shown: string[] = [];
    for (const [text, secret] of CASES) {
      const out = EXITS[name](text);
      if (personReads(out).includes(secret)) shown.push(`${JSON.stringify(text)} -> ${JSON.stringify(out)}`);
    }
    expect(shown).toEqual([]);
  });
});

/**
 * What reads through these separators and is no identifier stays unmasked at every exit: prose that spells a PAN's
 * shape across words (in lower case, with separators that differ), versions, times, hosts and ports, paths, JSON, a
 * text's own escapes beside no identifier.
 */
const KEPT = [
  "in the 2024 a report",
  "in: the (2024) a",
  "see a.b.c.d.e.1.2.3.4 and v1.2.3.4",
  "listening on 127.0.0.1:4000 at 12:30:45",
  'took {"ms":1234,"n":5678}',
  "GET /v1/cibil/1234/status 200",
  "line one\\nline two\\t1234",
  "Batch 12 34 files, a | b | 1234 | c",
];

describe("what is no identifier stays unmasked", () => {
  it.each(Object.keys(EXITS))("%s", (name) => {
    const masked = KEPT.filter((text) => /XXXX/.test(EXITS[name](text)));
    expect(masked).toEqual([]);
  });
});
