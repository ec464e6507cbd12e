import { scrubbedMessage, scrubbedQuestionText } from "../../../src/aopay/outcome";
import { Scrubber } from "../../../src/pii/scrub";

/**
 * A request's own values (Scrubber.forRequest) echoed by AOPay in another spelling: a name in any script, an identifier
 * or a number re-spelled. A client got `रमेश कुमारी Ζωή already registered` as its upstreamMessage, its own name in
 * clear: the values were folded to `0-9a-z` alone, so a Devanagari or Greek name folded to nothing and was never
 * looked for. Each case is read through the two places such a text is shown (a failure's message, a CIBIL question's
 * text: src/aopay/outcome.ts) and the request's identifier scrub, and none may show the value's letters or digits.
 */
const scrubber = new Scrubber(["BENCH-REG-0001"]);

/** [the request's values, the text AOPay answers, a piece of the value that must not be shown]. */
type Case = [readonly string[], string, string];

const NAMES: Record<string, string> = {
  devanagari: "रमेश कुमारी",
  tamil: "முருகன் செல்வம்",
  bengali: "সৌরভ গাঙ্গুলী",
  gujarati: "નરેન્દ્ર મોદી",
  greek: "Ζωή Παπαδοπούλου",
  cyrillic: "Дмитрий Иванов",
  arabic: "محمد عبدالله",
  cjk: "王小明",
};

/** Re-spellings of a multi-word name: the separators between its words, its letter case, its normal form. */
const RESPELL: [string, (name: string) => string][] = [
  ["as sent", (n) => n],
  ["NFD", (n) => n.normalize("NFD")],
  ["upper case", (n) => n.toUpperCase()],
  ["lower case", (n) => n.toLowerCase()],
  ["two spaces", (n) => n.replace(/ /g, "  ")],
  ["a dash", (n) => n.replace(/ /g, "-")],
  ["a dot", (n) => n.replace(/ /g, ".")],
  ["a comma and a space", (n) => n.replace(/ /g, ", ")],
  ["a no-break space", (n) => n.replace(/ /g, "\u00A0")],
  ["no space", (n) => n.replace(/ /g, "")],
  ["fullwidth space", (n) => n.replace(/ /g, "\u3000")],
];

const cases: Case[] = [
  // The reproduction: first name and last name as the request sent them.
  [["रमेश कुमारी", "Ζωή"], "रमेश कुमारी Ζωή already registered", "रमेश"],
  [["रमेश कुमारी", "Ζωή"], "रमेश कुमारी Ζωή already registered", "Ζωή"],
  [["रमेश कुमारी", "Ζωή"], "ΖΩΉ already registered", "ΖΩΉ"],
  // Greek capitals are written without the accent: a bureau's `ΖΩΗ` for `Ζωή`.
  [["Ζωή"], "ΖΩΗ already registered", "ΖΩΗ"],
  [["Ζωή"], "Name: Zwh ζωη", "ζωη"],
  [["José Ramírez"], "JOSE RAMIREZ already registered", "RAMIREZ"],
  // A final sigma in a name written in capitals, and in small letters again.
  [["Νικόλαος"], "ΝΙΚΟΛΑΟΣ", "ΝΙΚΟΛΑΟΣ"],
  [["ΝΙΚΟΛΑΟΣ"], "νικολαος exists", "νικολαο"],
  // Combining marks and joiners inside a word (a virama and ZWJ/ZWNJ in Devanagari and Bengali).
  [["क्\u200Dष्णा"], "क्ष्णा exists", "ष्णा"],
  [["क्ष्णा"], "क्\u200Cष्णा exists", "ष्णा"],
  [["শ্রী\u200Cরাম"], "শ্রীরাম exists", "রাম"],
  // Three-letter names in a script other than Latin, standing as words.
  [["Ζωή", "Παπαδοπούλου"], "Ζωή Παπαδοπούλου", "Ζωή"],
  [["राम", "कुमार"], "राम कुमार already registered", "राम"],
  [["王明"], "客户王明已注册", "王明"],
  // A name in any letter case and title case (`ǅ`).
  [["ǄURO"], "ǅuro exists", "uro"],
  // An identifier of the request's (a token, a PAN) spelled with separators between its parts.
  [["bench-token-42"], "token bench token 42 expired", "bench"],
  [["bench-token-42"], "token BENCHTOKEN42 expired", "BENCH"],
  [["ABCPE1234F"], "PAN abcpe 1234 f on file", "1234"],
  [["ABCPE1234F"], "PAN ABCPE-1234-F on file", "1234"],
  // The request's own mobile and Aadhaar number split by a letter or other separators (its digits are known).
  [["9876543210"], "ID-98765*43210-X", "98765"],
  [["9876543210"], "mobile 98765 x 43210", "98765"],
  [["9876543210"], "mob98765x43210", "98765"],
  [["9876543210"], "09876x543210 registered", "9876"],
  [["234123412346"], "ID-2341 2341 2346-X", "2341"],
  [["234123412346"], "uid2341x2341x2346", "2341"],
];

for (const [script, name] of Object.entries(NAMES))
  for (const [how, respell] of RESPELL) {
    const text = `${respell(name)} already registered`;
    const word = respell(name).split(/[ \u00A0\u3000,.-]+/)[0];
    cases.push([[name], text, word.normalize("NFC")]);
    // Among other values, and after a prefix of AOPay's.
    cases.push([["482913", name, "bench-token-42"], `${script} ${how}: ${text}`, word.normalize("NFC")]);
  }

/** What a reader reads in `shown`: NFC, without the invisible characters. */
const read = (shown: string) => shown.normalize("NFC").replace(/[\u00AD\u200B-\u200D\u2060\uFEFF]/g, "");

describe("a request's own values in any script and spelling are redacted where AOPay echoes them", () => {
  const places: [string, (values: readonly string[], text: string) => string][] = [
    ["a failure's message", (values, t) => scrubbedMessage(t, scrubber.forRequest(values))],
    ["a CIBIL question's text", (values, t) => scrubbedQuestionText(t, scrubber.forRequest(values))],
    ["an issued identifier", (values, t) => scrubber.forRequest(values).identifier(t)],
  ];

  it.each(places)("%s", (_place, show) => {
    const shown = cases
      .map(([values, text, piece]) => ({ values, text, out: show(values, text), piece }))
      .filter(({ out, piece }) => read(out).toLowerCase().includes(read(piece).toLowerCase()));
    expect(shown).toEqual([]);
  });

  it("keeps the rest of the text, and words that only share letters with a name", () => {
    const request = scrubber.forRequest(["Ζωή", "राम", "9876543210"]);
    expect(request.scrub("रमेश कुमारी Ζωή already registered")).toBe("रमेश कुमारी [REDACTED] already registered");
    // Not a name standing as a word: a longer word holding its letters.
    expect(request.scrub("Ζωήρος and रामायण")).toBe("Ζωήρος and रामायण");
    expect(request.scrub("hex 98765abc43210")).toBe("hex 98765abc43210");
    expect(request.scrub("mob98765x43210")).toBe("mob[REDACTED]");
  });
});
