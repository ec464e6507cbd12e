import {
  maskDigitRuns,
  maskGlued,
  maskNumberShapes,
  maskNumberShapesKeepingLast4,
  readsAsNumberInside,
  replaceDigitRuns,
  Scrubber,
} from "../../../src/pii/scrub";

/**
 * Every exported entry point of src/pii/scrub.ts that masks numbers, over one table of numbers split by what the log
 * line's scan reads through (invisible characters, fullwidth and other scripts' digits): none may show the number.
 * The bare Scrubber.scrub (and scrubAnyCase, identifier's free-text scrub) passed `98765\u200B43210` and
 * `９８７６５４３２１０` whole, where scrubLine masked them (readRuns). Not in the table: Scrubber.identifier and a
 * request's identifier (an id AOPay issued is handed on as issued unless it holds a secret or the request's own value:
 * test/unit/pii/scrub.test.ts), secretsAnyCase and maskPanShapes (no number masks), and a request's scrub alone: each
 * text it scrubs is then masked by maskNumberShapes or maskNumberShapesKeepingLast4 (aopay/outcome.ts), as here.
 */
const scrubber = new Scrubber(["AOP-554"]);

const ENTRY_POINTS: Record<string, (text: string) => string> = {
  "Scrubber.scrub": (t) => scrubber.scrub(t),
  "Scrubber.scrubAnyCase": (t) => scrubber.scrubAnyCase(t),
  "Scrubber.scrubLine (a message)": (t) =>
    (JSON.parse(scrubber.scrubLine(JSON.stringify({ level: "info", time: 1, msg: t }))) as { msg: string }).msg,
  "Scrubber.scrubLine (a nested field)": (t) =>
    (
      JSON.parse(scrubber.scrubLine(JSON.stringify({ level: "debug", err: { message: t } }))) as {
        err: { message: string };
      }
    ).err.message,
  "a request's scrub, then maskNumberShapes": (t) => maskNumberShapes(scrubber.forRequest(["x-1234"]).scrub(t)),
  "a request's scrub, then maskNumberShapesKeepingLast4": (t) =>
    maskNumberShapesKeepingLast4(scrubber.forRequest([]).scrub(t)),
  maskDigitRuns: (t) => maskDigitRuns(t),
  maskNumberShapes: (t) => maskNumberShapes(t),
  maskNumberShapesKeepingLast4: (t) => maskNumberShapesKeepingLast4(t),
  maskGlued: (t) => maskGlued(t),
  "replaceDigitRuns (10)": (t) => replaceDigitRuns(t, 10, "[digits]"),
};

const ZW = ["\u200B", "\u200C", "\u200D", "\u2060", "\uFEFF", "\u00AD"];
const fullwidth = (digits: string) => [...digits].map((d) => String.fromCodePoint(0xff10 + Number(d))).join("");
const devanagari = (digits: string) => [...digits].map((d) => String.fromCodePoint(0x0966 + Number(d))).join("");

/** [the number, a spelling of it]: mobiles and Aadhaar numbers split by invisible characters or in other digits. */
const TABLE: [string, string][] = [
  ...ZW.map((z): [string, string] => ["9876543210", `98765${z}43210`]),
  ...ZW.map((z): [string, string] => ["234123412346", `2341${z}2341${z}2346`]),
  ["9876543210", fullwidth("9876543210")],
  ["9876543210", `${fullwidth("98765")} ${fullwidth("43210")}`],
  ["9876543210", `${fullwidth("98765")}\u200B${fullwidth("43210")}`],
  ["234123412346", fullwidth("234123412346")],
  ["9876543210", devanagari("9876543210")],
  ["234123412346", `${devanagari("2341")} ${devanagari("2341")} ${devanagari("2346")}`],
  ["9876543210", `+91\u200B9876543210`],
  ["9876543210", `9\u200B8\u200B7\u200B6\u200B5\u200B4\u200B3\u200B2\u200B1\u200B0`],
];

/** What a reader reads of `shown`: NFKC, every script's digits as ASCII, only digits. */
function digitsRead(shown: string): string {
  return shown
    .normalize("NFKC")
    .replace(/\p{Nd}/gu, (d) => {
      const cp = d.codePointAt(0) ?? 0;
      let zero = cp;
      while (cp - zero < 9 && /\p{Nd}/u.test(String.fromCodePoint(zero - 1))) zero--;
      return String(cp - zero);
    })
    .replace(/[^0-9]/g, "");
}

describe("every entry point masks a number split by invisible characters or written in other digits", () => {
  const cases = TABLE.flatMap(([number, spelled]) =>
    [spelled, `sent to ${spelled}.`, `{"m":"${spelled}"}`, `code 7: ${spelled} (retry)`].map((text) => ({
      number,
      text,
    })),
  );

  it.each(Object.keys(ENTRY_POINTS))("%s", (name) => {
    const shown: string[] = [];
    for (const { number, text } of cases) {
      const out = ENTRY_POINTS[name](text);
      // At most the mask's last four digits: the number's first six never.
      if (digitsRead(out).includes(number.slice(0, 6))) shown.push(`${JSON.stringify(text)} -> ${JSON.stringify(out)}`);
    }
    expect(shown).toEqual([]);
  });

  it("readsAsNumberInside reads them as a number too", () => {
    for (const [, spelled] of TABLE)
      expect({ spelled, reads: readsAsNumberInside(spelled) }).toEqual({ spelled, reads: true });
  });

  it("a text without such a number is given back as written (not NFKC'd)", () => {
    for (const t of ["ﬁle ９ items", "Ｒｅｆ １２３４", "नमस्ते १२३", "zero\u200Bwidth 12\u200B34"])
      expect(scrubber.scrub(t)).toBe(t);
  });
});
