import { randomUUID } from "node:crypto";
import { maskGlued, maskNumberShapes, maskNumberShapesKeepingLast4, type Scrubber } from "../../src/pii/scrub";

const msgOf = (line: string) => (JSON.parse(line) as { msg: string }).msg;

/**
 * Every entry point of src/pii/scrub.ts that text leaves the process by, as a table of functions of the text: the bare
 * scrub (fail-start's stderr), scrubAnyCase (GraphQL error messages), scrubLine (the logger's hook: every log line, a
 * message, a nested field, the line as written), a request's scrub (what AOPay answers, and then maskNumberShapes as
 * aopay/outcome.ts passes it on, or maskNumberShapesKeepingLast4 as it passes a CIBIL question's texts on) and
 * maskGlued (names a client chose). With `ownValues`, a row for a request's scrub
 * whose own values (its PAN, its OTP) are those too. Shared by the PII spelling tests, so each attacks them all.
 */
export function scrubEntryPoints(
  scrubber: Scrubber,
  ownValues?: readonly string[],
): Record<string, (text: string) => string> {
  const points: Record<string, (text: string) => string> = {
    "Scrubber.scrub": (t) => scrubber.scrub(t),
    "Scrubber.scrubAnyCase": (t) => scrubber.scrubAnyCase(t),
    "Scrubber.scrubLine (a message)": (t) =>
      msgOf(scrubber.scrubLine(JSON.stringify({ level: "info", time: 1, requestId: randomUUID(), msg: t }))),
    "Scrubber.scrubLine (a nested field)": (t) =>
      (
        JSON.parse(
          scrubber.scrubLine(JSON.stringify({ level: "error", err: { message: t, extensions: { x: t } } })),
        ) as { err: { message: string } }
      ).err.message,
    "Scrubber.scrubLine (the line as written)": (t) =>
      scrubber.scrubLine(JSON.stringify({ level: "warn", time: 2, msg: t })),
    "a request's scrub": (t) => scrubber.forRequest(["482913"]).scrub(t),
    "a request's scrub, then maskNumberShapes": (t) => maskNumberShapes(scrubber.forRequest([]).scrub(t)),
    "a request's scrub, then maskNumberShapesKeepingLast4": (t) =>
      maskNumberShapesKeepingLast4(scrubber.forRequest([]).scrub(t)),
    maskGlued: (t) => maskGlued(t),
  };
  if (ownValues !== undefined)
    points["a request's scrub, its own values among them"] = (t) => scrubber.forRequest(ownValues).scrub(t);
  return points;
}

/**
 * The texts entry point `name` (of scrubEntryPoints) changes, as `"text" -> "output"`: for the tests that what holds no
 * identifier stays as written. The line as written is expected as its JSON (scrubLine's row writes it so);
 * `asWritten` gives another row's expected text where it is not the text itself.
 */
export function changedBy(
  points: Record<string, (text: string) => string>,
  name: string,
  texts: readonly string[],
  asWritten: (text: string, name: string) => string = (text) => text,
): string[] {
  const changed: string[] = [];
  for (const text of texts) {
    const out = points[name](text);
    const shown =
      name === "Scrubber.scrubLine (the line as written)"
        ? JSON.stringify({ level: "warn", time: 2, msg: text })
        : asWritten(text, name);
    if (out !== shown) changed.push(`${JSON.stringify(text)} -> ${JSON.stringify(out)}`);
  }
  return changed;
}

/**
 * Cyrillic and Greek letters a reader takes for the Latin ones (keys), digits' zeros of Indian scripts and
 * Arabic-Indic, and `read`: what a person reads of a text, for the tests of spellings at every entry point.
 */
export const CYRILLIC: Record<string, string> = {
  A: "А",
  B: "В",
  E: "Е",
  K: "К",
  M: "М",
  H: "Н",
  O: "О",
  P: "Р",
  C: "С",
};
export const GREEK: Record<string, string> = { A: "Α", B: "Β", E: "Ε", K: "Κ", M: "Μ", H: "Η", P: "Ρ", T: "Τ", X: "Χ" };
const LOOK_ALIKE: Record<string, string> = {};
for (const table of [CYRILLIC, GREEK]) for (const [latin, other] of Object.entries(table)) LOOK_ALIKE[other] = latin;
Object.assign(LOOK_ALIKE, { Т: "T", Х: "X", а: "a", е: "e", о: "o", р: "p", с: "c", х: "x" });
/** Cherokee capitals and Latin small capitals a reader takes for Latin capitals (keys: the Latin letter). */
export const CHEROKEE: Record<string, string> = { B: "Ᏼ", E: "Ꭼ", H: "Ꮋ", P: "Ꮲ", K: "Ꮶ", M: "Ꮇ" };
export const SMALL_CAPITALS: Record<string, string> = { B: "ʙ", E: "ᴇ", H: "ʜ", P: "ᴘ", K: "ᴋ", M: "ᴍ" };
for (const table of [CHEROKEE, SMALL_CAPITALS])
  for (const [latin, other] of Object.entries(table)) LOOK_ALIKE[other] = latin;
export const DIGIT_ZERO = { devanagari: 0x966, bengali: 0x9e6, gujarati: 0xae6, tamil: 0xbe6, arabicIndic: 0x660 };

/** `shown` holds the tests' PAN, ABCPE1234F, masked (`XXXXXX234F`), and nowhere in clear, its marks and case aside. */
export function expectPanMasked(shown: string): void {
  expect(shown).toContain("XXXXXX234F");
  expect(shown.toUpperCase().replace(/[^0-9A-Z]/g, "")).not.toContain("ABCPE1234F");
}

/** What a person reads of `shown`: look-alikes as the letters they look like, digits of any script, no marks. */
export function read(shown: string): string {
  return [...shown.normalize("NFKC")]
    .map((c) => LOOK_ALIKE[c] ?? c)
    .join("")
    .normalize("NFKD")
    .replace(/\p{Nd}/gu, (d) => String(Number.parseInt(d, 10) || digitOf(d)))
    .toLowerCase()
    .replace(/[^a-z0-9]/g, "");
}
function digitOf(d: string): number {
  const code = d.codePointAt(0) ?? 0;
  for (const zero of Object.values(DIGIT_ZERO)) if (code >= zero && code < zero + 10) return code - zero;
  return 0;
}
