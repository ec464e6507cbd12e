import { shownClientId } from "../../../src/auth/authenticator";
import { maskPanShapes, Scrubber } from "../../../src/pii/scrub";
import { scrubEntryPoints } from "../../helpers/scrub-entry-points";

/**
 * Identifiers written with parenthesized letters and digits and with the circled numbers on black squares: NFKC gives
 * the parenthesized ones as `(a)`, `(A)`, `(1)` (U+249C-24B5, U+1F110-1F129, U+2474-2487), which no mask read as a
 * PAN's letter or a number's digit; the black squares (U+3248-324F, `㉈` CIRCLED NUMBER TEN ON BLACK SQUARE) do not
 * decompose at all. `⒜⒝⒞⒫⒟1234⒡` and `98765 432㉈` passed every entry point whole (src/pii/scrub.ts
 * enclosedLetter, enclosedDigits).
 */
const scrubber = new Scrubber(["AOP-554"]);
const ENTRY_POINTS: Record<string, (text: string) => string> = {
  ...scrubEntryPoints(scrubber),
  maskPanShapes: (t) => maskPanShapes(t),
  "a metrics label (the client id)": (t) => shownClientId(t),
};

/** `text`'s capitals as the code points from `first` (the kind's A). */
const enclosed = (text: string, first: number) =>
  [...text].map((c) => (/[A-Z]/.test(c) ? String.fromCodePoint(first + c.charCodeAt(0) - 65) : c)).join("");

const PANS = [
  enclosed("PAN ABCPD1234F.", 0x249c),
  enclosed("PAN ABCPD 1234 F.", 0x1f110),
  `holder ${enclosed("ABC", 0x249c)}PD1234${enclosed("F", 0x1f110)}, done`,
];
const NUMBERS = [
  "mob 98765 432\u3248.",
  "mob \u324f765 43210.",
  "mob 987654321\u2474 now",
  "mob 98765 \u2477\u2476\u2475\u24740.",
];

describe.each(Object.entries(ENTRY_POINTS))("%s", (name, scrub) => {
  test.each(PANS)("masks the PAN in %j", (text) => {
    // The last letter as written, as read, or as NFKC writes it (a person's reading keeps what the mask kept as
    // written).
    expect(scrub(text)).toMatch(/XXXXXX234(?:F|\u{1F115}|\u24A1|\(F\))/u);
  });
  // maskPanShapes masks PANs alone, and a metrics label's client id no number.
  if (name === "maskPanShapes" || name === "a metrics label (the client id)") return;
  test.each(NUMBERS)("masks the number in %j", (text) => {
    const out = scrub(text);
    expect(out).not.toBe(text);
    expect(out).toMatch(/X{5}/);
  });
});

test("keeps what holds no identifier: a list's parenthesized letters, a score on a black square, a footnote", () => {
  for (const text of [
    "options \u249c \u249d \u249e and \u249f",
    "grade \u3248 of \u324f, step \u2474 of \u2476",
    "see (a), (b) and (c)",
    "scores \u2479\u2476\u2475 and \u3249, page \u2474\u2475",
    `order ${enclosed("A", 0x1f110)}-2024-0001`,
  ]) {
    expect(scrubber.scrub(text)).toBe(text);
    expect(maskPanShapes(text)).toBe(text);
    // The others may write the text as read (NFKC), but mask nothing.
    for (const scrub of Object.values(ENTRY_POINTS)) expect(scrub(text)).not.toMatch(/X{4}/);
  }
});
