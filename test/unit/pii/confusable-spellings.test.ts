import { Scrubber } from "../../../src/pii/scrub";
import { changedBy, read, scrubEntryPoints } from "../../helpers/scrub-entry-points";

/**
 * Spellings a person still reads as a PAN, an Aadhaar number or a mobile that the masks did not read: digits written
 * as the letters that look like them (`O` for 0, `l` `I` `|` for 1, Cyrillic `З` for 3) inside a PAN's digits or a
 * number, an emoji or a zero-width character or variation selector inside one, letters of scripts other than Greek,
 * Cyrillic and Cherokee that Unicode's confusables list maps to Latin capitals (Armenian `Օ` `Տ` `Ս`, Lisu, Coptic,
 * Canadian syllabics) and a PAN in lower case written apart. Each through every entry point (scrubEntryPoints); and the
 * other side: prose, codes, ids, dates and amounts (Devanagari ones too) that hold none stay as written.
 */
const scrubber = new Scrubber(["AOP-554"]);
const ENTRY_POINTS = scrubEntryPoints(scrubber, ["CNRPY7315Q", "482913"]);

/** `read` with the letters that stand for digits here read as those digits (the test's spellings use no others). */
const readDigits = (shown: string) =>
  read(
    shown
      .replace(/[lI|]/g, "1")
      .replace(/[OoՕօ]/g, "0")
      .replace(/[ЗƷȜ]/g, "3"),
  );

const PAN = "BEHPK1038M";
const pans = [
  "BEHPKl038M",
  "BEHPK1O38M",
  "BEHPKIO38M",
  "BEHPK|038M",
  "BEHPK10З8M",
  "BEHPKl0З8M",
  "BEHPK l038 M",
  "BEHPK😀1038M",
  "BEH😀PK1038M",
  "BEHPK1038\uFE0FM",
  "BEHPK\u200B1038\u200BM",
  "behpk 1038 m",
  "behpk-1038-m",
  "behpk_1038_m",
  // Unicode confusables.txt: Lisu, Coptic, Canadian syllabics and Armenian letters (prototypes B E H P K M, S O U).
  "ꓐꓰꓧꓑꓗ1038ꓟ",
  "BⲈⲎⲢⲔ1038Ⲙ",
  "ᗷEᕼᑭK1038ᗰ",
];
const ARMENIAN_PAN = ["ՏՕՍPK1038M", "ՏօսPK1038M"];
const aadhaars = [
  "2341 234l 2346",
  "234l234l2346",
  "2З41 2341 2346",
  "2341 2341 234I",
  "2341😀2341😀2346",
  "2341\u200B2341\u200B2346",
  "2341\uFE0F2341\uFE0F2346",
];
const mobiles = [
  "98765 4321O",
  "98765432l0",
  "+91 98765 432I0",
  "98765\u200B43210",
  "98765\u2060432\uFE0F10",
  "98765😀43210",
  "9876😀5432😀10",
];
const CASES: [string, RegExp][] = [
  ...pans.map((s) => [s, /behpk1/] as [string, RegExp]),
  ...ARMENIAN_PAN.map((s) => [s, /pk1038/] as [string, RegExp]),
  ...aadhaars.map((s) => [s, /23412341/] as [string, RegExp]),
  ...mobiles.map((s) => [s, /987654/] as [string, RegExp]),
];
const CONTEXTS = [(s: string) => `holder ${s}, done`, (s: string) => s, (s: string) => `संपर्क: ${s}।`];

describe("identifiers in confusable spellings are masked at every entry point", () => {
  it("each spelling reads as the identifier", () => {
    expect(readDigits("BEHPKl038M")).toBe(PAN.toLowerCase());
    for (const [spelling, secret] of CASES.filter(([s]) => !ARMENIAN_PAN.includes(s) && !/[ꓐⲈᗷ]/.test(s)))
      expect({ spelling, read: readDigits(spelling) }).toEqual({ spelling, read: expect.stringMatching(secret) });
  });

  it.each(Object.keys(ENTRY_POINTS))("%s", (name) => {
    const shown: string[] = [];
    for (const [spelling, secret] of CASES)
      for (const context of CONTEXTS) {
        // A request's scrub is passed on through maskNumberShapes (the row after it) before a number leaves: its own
        // reading is for a PAN's letters (look-alike-spellings.test).
        if (name.startsWith("a request's scrub") && !name.includes("maskNumberShapes") && !secret.source.includes("pk"))
          continue;
        const text = context(spelling);
        const out = ENTRY_POINTS[name](text);
        if (secret.test(readDigits(out))) shown.push(`${JSON.stringify(text)} -> ${JSON.stringify(out)}`);
      }
    expect(shown).toEqual([]);
  });
});

/** Text that holds no identifier stays as written at every entry point (a log line: as JSON wrote it). */
describe("what a person reads as no identifier stays as written", () => {
  const kept = [
    "HTTP2 upgrade refused, retry in 10 s",
    "l10n and i18n bundles loaded",
    "O(1) lookup, 1O0 is not a number",
    "version 10.2.1-rc1 built 2026-12-07T10:11:12Z",
    "req_01HF3K2M4N5P6Q7R8S9T",
    "Total INR 1,234.50 paid for ORDER1001",
    "ISO 8601 date 2026-12-07, time 10:11:12",
    "Please check the status of your application",
    "आपका आवेदन प्राप्त हुआ, धन्यवाद",
    "दिनांक ०७/१२/२०२६ को ₹ १,२३४ जमा",
    "₹ १,२३४.५० का भुगतान ०७-१२-२०२६ को",
    "Reporting period 2026-12-01–2026-12-07",
    "अवधि ०१/१२/२०२६–०७/१२/२०२६ तक",
    "from 2026-12-01 – 2026-12-07 and 01/12/2026–07/12/2026",
    "Ответ получен: Оплата ОК",
    "table | 12 | 34 |",
    "class IO10 at level l2",
  ];
  // A request's scrub writes other scripts' digits as ASCII (readable): still the same date and amount.
  const asWritten = (text: string, name: string) =>
    name.startsWith("a request's scrub")
      ? text.replace(/[\u0966-\u096F]/g, (d) => String(d.charCodeAt(0) - 0x966))
      : text;
  it.each(Object.keys(ENTRY_POINTS))("%s", (name) => {
    expect(changedBy(ENTRY_POINTS, name, kept, asWritten)).toEqual([]);
  });
});

/**
 * A digit written as a letter is read wherever the same number written in digits is masked: each entry point, each
 * separator between the groups. The reading's masks are the entry point's own: a log line's string (readString) masked
 * `98765,43210` and `98765\n43210` as written but read `98765,4321O` with the bare scrub's masks only, and a CIBIL
 * question's text (maskNumberShapesKeepingLast4) was not read at all.
 */
describe("a number with a digit written as a letter is masked wherever its digits are", () => {
  const SEPARATORS = [
    " ",
    "-",
    ".",
    "/",
    "\n",
    "\r\n",
    "\t",
    "_",
    ",",
    ":",
    "\u00a0",
    "  ",
    " - ",
    "\u200b",
    "😀",
    "\\",
  ];
  const NUMBERS: [string, (sep: string) => string][] = [
    ["98765{}43210", (s) => `98765${s}4321O`],
    ["+91{}98765{}43210", (s) => `+91${s}98765${s}432l0`],
    ["2341{}2341{}2346", (s) => `2341${s}234l${s}2346`],
    ["2341{}2341{}2346", (s) => `2З41${s}2341${s}2346`],
    ["2341{}2341{}2346", (s) => `2341${s}2341${s}234I`],
  ];
  const asWritten = (name: string, text: string) =>
    name === "Scrubber.scrubLine (the line as written)" ? JSON.stringify({ level: "warn", time: 2, msg: text }) : text;
  // A request's scrub reads a number's digits only as far as its own masks go; its callers' masks (the rows after it)
  // read the rest, as in the first describe.
  const reading = Object.keys(ENTRY_POINTS).filter(
    (name) => !name.startsWith("a request's scrub") || name.includes("maskNumberShapes"),
  );
  it.each(reading)("%s", (name) => {
    const shown: string[] = [];
    for (const [digits, spelled] of NUMBERS)
      for (const sep of SEPARATORS)
        for (const context of CONTEXTS) {
          const inDigits = context(digits.replaceAll("{}", sep));
          if (ENTRY_POINTS[name](inDigits) === asWritten(name, inDigits)) continue;
          const text = context(spelled(sep));
          const out = ENTRY_POINTS[name](text);
          if (out === asWritten(name, text)) shown.push(`${JSON.stringify(text)} -> ${JSON.stringify(out)}`);
        }
    expect(shown).toEqual([]);
  });
});

/**
 * Enclosed digits that NFKD leaves as they are (`①` decomposes to 1, these do not): dingbat circled and negative
 * circled digits (U+2776-2793), double circled and negative circled ones (U+24EB-24FF), read as the digits they show.
 * At most a mask's last four may stay as written.
 */
describe("enclosed digits without a decomposition are read as digits at every entry point", () => {
  const spellings = ["❾❽❼❻❺❹❸❷❶⓿", "➒➑➐➏➎➍➌➋➊0", "➈➇➆➅➄➃➂➁➀0", "⓶⓷⓸⓵ ⓶⓷⓸⓵ ⓶⓷⓸⓺", "98765 ➍➌➋➊0", "BEHPK➀⓿➂➇M"];
  const reading = Object.keys(ENTRY_POINTS).filter(
    (name) => !name.startsWith("a request's scrub") || name.includes("maskNumberShapes"),
  );
  it.each(reading)("%s", (name) => {
    const shown: string[] = [];
    for (const spelling of spellings)
      for (const context of CONTEXTS) {
        const out = ENTRY_POINTS[name](context(spelling)).replace('"time":2', "");
        if ((out.match(/[\u2776-\u2793\u24EB-\u24FF0-9]/gu) ?? []).length > 4) shown.push(`${spelling} -> ${out}`);
      }
    expect(shown).toEqual([]);
  });
});
