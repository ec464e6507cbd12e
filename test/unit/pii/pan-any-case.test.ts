import { randomBytes, randomUUID } from "node:crypto";
import { Scrubber } from "../../../src/pii/scrub";
import { scrubEntryPoints } from "../../helpers/scrub-entry-points";

/**
 * A PAN in either case, glued or not, through every entry point of src/pii/scrub.ts that text leaves the process by:
 * the bare scrub (fail-start's stderr), scrubAnyCase (GraphQL error messages), scrubLine (the logger's hook: every log
 * line, a message or a nested field), a request's scrub (what AOPay answers, its own PAN among the values or not, and
 * then maskNumberShapes as aopay/outcome.ts passes it on) and maskGlued (names a client chose). The header of
 * scrub.ts promised "any PAN-shaped token, either case"; lower and mixed case and a PAN glued to a letter, a digit or
 * `_` passed some of them whole (test run against the code before this change: see the commit).
 */
const scrubber = new Scrubber(["AOP-554"]);
const ENTRY_POINTS = scrubEntryPoints(scrubber, ["ABCPE1234F", "482913"]);

const PAN = "ABCPE1234F";
const fullwidth = (text: string) =>
  [...text].map((c) => String.fromCodePoint((c.codePointAt(0) ?? 0) - 0x21 + 0xff01)).join("");
const SPELLINGS = [PAN, PAN.toLowerCase(), "AbCpE1234F", "aBcPe1234f", fullwidth(PAN), fullwidth(PAN.toLowerCase())];
/** Where a PAN stands: alone, after punctuation, glued to letters, digits or `_`, in JSON and after a JSON escape. */
const CONTEXTS = [
  (p: string) => p,
  (p: string) => `PAN ${p} on file`,
  (p: string) => `pan:${p}`,
  (p: string) => `x:${p}`,
  (p: string) => `pan=${p}&x=1`,
  (p: string) => `"${p}"`,
  (p: string) => `pan_${p}`,
  (p: string) => `${p}_pan`,
  (p: string) => `/customers/${p}/report`,
  (p: string) => `PAN${p}X`,
  (p: string) => `id${p}`,
  (p: string) => `${p}x`,
  (p: string) => `1${p}2`,
  (p: string) => `${p}9876`,
  (p: string) => `{"pan":"${p}"}`,
  (p: string) => `{\\"pan\\":\\"${p}\\"}`,
  (p: string) => `\\n${p}`,
  (p: string) => `line one\\n${p}\\tend`,
  (p: string) => `-${p}-`,
];

/** What a reader reads of `shown`: JSON escapes decoded, NFKC, lower case, letters and digits alone. */
function read(shown: string): string {
  return shown
    .replace(/\\u([0-9A-Fa-f]{4})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)))
    .replace(/\\[tnrbf"\\/]/g, " ")
    .normalize("NFKC")
    .toLowerCase()
    .replace(/[^a-z0-9]/g, "");
}

describe("a PAN in any case, glued or not, is masked at every entry point", () => {
  const cases = SPELLINGS.flatMap((p) => CONTEXTS.map((c) => c(p)));
  cases.push(`\\u0061bcpe1234f`, `\\u0041\\u0042CPE1234F`);

  it.each(Object.keys(ENTRY_POINTS))("%s", (name) => {
    const shown: string[] = [];
    for (const text of cases) {
      // JSON escapes (`\u0061`) are read only where text is a JSON line's: scrubLine.
      if (text.startsWith("\\u") && !name.startsWith("Scrubber.scrubLine")) continue;
      const out = ENTRY_POINTS[name](text);
      // The mask keeps the last four (`XXXXXX234F`): the PAN's first six never shown.
      if (read(out).includes("abcpe1")) shown.push(`${JSON.stringify(text)} -> ${JSON.stringify(out)}`);
    }
    expect(shown).toEqual([]);
  });

  it("the mask is the PAN mask, upper-cased, where the PAN stood", () => {
    expect(scrubber.scrub("pan abcpe1234f on file")).toBe("pan XXXXXX234F on file");
    expect(scrubber.scrub("PANabcpe1234fX")).toBe("PANXXXXXX234FX");
    expect(scrubber.scrub("pan_ABCPE1234F")).toBe("pan_XXXXXX234F");
    expect(scrubber.scrubAnyCase("x:AbCpE1234F")).toBe("x:XXXXXX234F");
    expect(scrubber.scrub(`PAN ${fullwidth(PAN.toLowerCase())}`)).toBe("PAN XXXXXX234F");
    expect(scrubber.forRequest([]).scrub("PAN abcpe1234f.")).toBe("PAN XXXXXX234F.");
    expect(scrubber.scrubLine('{"level":"info","msg":"for cnrpy7315q"}')).toBe(
      '{"level":"info","msg":"for XXXXXX315Q"}',
    );
  });
});

/**
 * What must stay whole (src/pii/scrub.ts PAN_ANY's rule): our request ids (v4 UUIDs), trace and span ids, hex keys in
 * one case (SHA-256 digests, HMACs as hex), AOPay's CIBIL reference and the simulator's ids. A PAN shape in either case
 * inside a run of 16 or more hexadecimal digits of one case (dashes between them allowed) is such an id's, not a PAN.
 */
describe("identifiers keep a PAN shape inside them whole", () => {
  it("hex ids and keys of one case, AOPay's reference and the simulator's ids", () => {
    const kept = [
      "68f74483-ff9b-4582-bb53-abcfe1234abc",
      "req 68F74483-FF9B-4582-BB53-ABCFE1234ABC done",
      "4bf92f3577b34da6abcfe1234aa0e473",
      "traceparent 00-4bf92f3577b34da6abcfe1234aa0e473-00f067aa0ba902b7-01",
      "00f0abcfe1234a02",
      "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934cabcfe1234a",
      "SPCBL2308181506522334ZiSHM7bAe",
      "SPCBL2308181502437743aQaHNGxZM",
      "SIMCBL000000000012",
    ];
    for (const t of kept) {
      // AOPay's reference's 16 digits hold a mobile's shape: in a text, every exit masks them as the log line does
      // (pii/scrub.ts asLogged); its PAN-shaped letters stay (src/pii/kept-forms.ts: kept whole in its own place).
      const shown = t.startsWith("SPCBL") ? t.replace(/[0-9]{16}/, "X".repeat(16)) : t;
      expect({ t, scrub: scrubber.scrub(t) }).toEqual({ t, scrub: shown });
      // AOPay's reference is kept whole on a line under its own key only (scrub.ts ownId): its digits elsewhere.
      const key = t.startsWith("SPCBL") ? "merchantTransactionId" : "msg";
      const line = JSON.stringify({ level: "info", time: 1, [key]: t });
      expect({ t, line: scrubber.scrubLine(line) }).toEqual({ t, line });
    }
  });

  it("a PAN glued to a short hex run, or to hex of mixed case, is still masked", () => {
    expect(scrubber.scrub("abcfe1234a")).toBe("XXXXXX234A");
    expect(scrubber.scrub("ff-abcfe1234a")).toBe("ff-XXXXXX234A");
    expect(scrubber.scrub("AbcfE1234aabcdef0123")).toBe("XXXXXX234Aabcdef0123");
  });

  /**
   * The false-positive rate, measured: 100,000 random ids of each kind, how many the scrubber changes. UUIDs and trace
   * ids: none (their hex runs are kept). Base64url keys (32 random bytes, 43 characters, as key-hasher.ts writes an
   * HMAC) are not exempt: a key holding a PAN shape in either case is masked there, about 0.2 % of them (the figure
   * in scrub.ts's comment above PAN_ANY); no log line holds one (they are Redis keys, and secrets are redacted).
   */
  it("100,000 random UUIDs, trace ids and base64url keys", () => {
    // An id holding a run of ten digits (dashes between them read through) is the digit masks' to rewrite, as before
    // (http/request-id.ts makes and keeps none such): made again, so that what is counted is the PAN rule alone.
    const NUMBER_RUN = /[0-9](?:-?[0-9]){9}/;
    const rate = (make: () => string) => {
      let changed = 0;
      for (let i = 0; i < 100_000; i++) {
        let id = make();
        while (NUMBER_RUN.test(id) || /^[0-9]{8}-/.test(id)) id = make();
        if (scrubber.scrub(id) !== id) changed++;
      }
      return changed / 100_000;
    };
    const uuids = rate(() => randomUUID());
    const traces = rate(() => randomBytes(16).toString("hex"));
    const keys = rate(() => randomBytes(32).toString("base64url"));
    expect({ uuids, traces }).toEqual({ uuids: 0, traces: 0 });
    expect(keys).toBeLessThan(0.005);
  });
});
