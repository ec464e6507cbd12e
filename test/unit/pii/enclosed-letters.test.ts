import { shownClientId } from "../../../src/auth/authenticator";
import { maskGlued, maskNumberShapes, maskPanShapes, Scrubber } from "../../../src/pii/scrub";

/**
 * A PAN spelled with enclosed letters NFKD leaves as they are: negative squared (U+1F170-1F189, `🅰`), negative circled
 * (U+1F150-1F169, `🅐`), regional indicators (U+1F1E6-1F1FF, `🇦`), the squared words (`🆎`). The emoji among them were
 * read as nothing, the others as themselves: `🅰🅱🅲🅿🅳1234🅵` passed every entry point (pii/scrub.ts enclosedLetter).
 * The squared (U+1F130-1F149) and circled (U+24B6-24E9) ones NFKD reads, and every entry point that folds NFKC first
 * masked them; maskPanShapes, which reads no NFKC form, passed them whole (pii/scrub.ts READ_OTHERWISE).
 */
const scrubber = new Scrubber(["AOP-554"]);
const ENTRY_POINTS: [string, (text: string) => string][] = [
  ["Scrubber.scrub", (t) => scrubber.scrub(t)],
  ["Scrubber.scrubAnyCase", (t) => scrubber.scrubAnyCase(t)],
  [
    "a log line's message",
    (t) => (JSON.parse(scrubber.scrubLine(JSON.stringify({ level: "info", time: 1, msg: t }))) as { msg: string }).msg,
  ],
  ["a request's scrub, then maskNumberShapes", (t) => maskNumberShapes(scrubber.forRequest([]).scrub(t))],
  ["maskGlued", (t) => maskGlued(t)],
  ["maskPanShapes", (t) => maskPanShapes(t)],
  ["a metrics label (the client id)", (t) => shownClientId(t)],
];

const KINDS: [string, number][] = [
  ["negative squared", 0x1f170],
  ["negative circled", 0x1f150],
  ["regional indicators", 0x1f1e6],
  ["squared", 0x1f130],
  ["circled", 0x24b6],
  ["circled small", 0x24d0],
];
/** `text`'s capitals from `first` (the kind's A); with `every`, the first and third of them only. */
const enclosed = (text: string, first: number, every = 1) => {
  let n = 0;
  return [...text]
    .map((c) => (/[A-Z]/.test(c) && n++ % every === 0 ? String.fromCodePoint(first + c.charCodeAt(0) - 65) : c))
    .join("");
};
const PANS = KINDS.flatMap(([kind, first]) =>
  ["ABCPD1234F", "PAN ABCPD 1234 F.", "pan:ABCPD1234F"].flatMap((text) => [
    [kind, enclosed(text, first)],
    [`${kind}, some letters`, enclosed(text, first, 2)],
  ]),
).concat([
  ["kinds mixed", "🅰Ⓑ🄲🇵🅓1234🅵"],
  ["emoji with variation selectors", "🅰️🅱️🅲🅿️🅳 1234 🅵"],
  ["blood group AB, one emoji", "🆎🅲🅿🅳1234🅵"],
  ["blood group AB, then capitals", "PAN 🆎CPD1234F."],
]);

/** The letters and digits of `shown`, enclosed ones read as the capitals they show. */
const read = (shown: string) =>
  [...shown]
    .map((c) => {
      const code = c.codePointAt(0) ?? 0;
      for (const [, first] of KINDS)
        if (code >= first && code < first + 26) return String.fromCharCode(65 + code - first);
      return code === 0x1f18e ? "AB" : c;
    })
    .join("")
    .replace(/[^0-9A-Za-z]/g, "")
    .toUpperCase();

describe("a PAN spelled with enclosed letters", () => {
  it("the table reads as the PAN", () => {
    for (const [, text] of PANS) expect(read(text)).toContain("ABCPD1234F");
  });

  it.each(ENTRY_POINTS)("%s masks every spelling", (_name, show) => {
    expect(PANS.filter(([, text]) => read(show(text)).includes("ABCPD1234F"))).toEqual([]);
  });

  it("shows the mask as the other PAN masks do", () => {
    expect(scrubber.scrub("PAN 🅰🅱🅲🅿🅳1234🅵 sent")).toBe("PAN XXXXXX234🅵 sent");
    expect(scrubber.scrub("🇦🇧🇨🇵🇩 1234 🇫")).toBe("XXXXXX234🇫");
  });

  it.each(ENTRY_POINTS.filter(([name]) => name !== "maskPanShapes"))(
    "%s masks a mobile ending in an enclosed zero NFKD leaves alone",
    (_name, show) => {
      // U+1F10B and U+1F10C, the dingbat circled and negative circled sans-serif 0 (pii/scrub.ts enclosedDigits).
      for (const zero of ["🄋", "🄌"]) expect(show(`call 98765 4321${zero} now`)).not.toContain("98765");
    },
  );

  it.each(ENTRY_POINTS)("%s keeps enclosed letters that spell no identifier", (_name, show) => {
    const texts = ["🅰 grade, 🇮🇳 flag, 🅿 parking 1234", "🅐🅑🅒 sale 2026-12-07", "blood 🅾 🅰🅱 🆎", "🇬🇧 +44 20 7946"];
    // Not the circled or squared ones NFKD reads: the entry points that fold NFKC first show them as letters.
    texts.push("🆗 🆔 🆕 1234, ⓿ 🄋 done");
    expect(texts.filter((t) => show(t) !== t)).toEqual([]);
  });
});
