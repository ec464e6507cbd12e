import { shownClientId } from "../../../src/auth/authenticator";
import { maskPanShapes, Scrubber } from "../../../src/pii/scrub";
import { expectPanMasked, scrubEntryPoints } from "../../helpers/scrub-entry-points";

/**
 * A PAN written apart (`ABCPE 1234 F`) and glued to a word: before it (`MTABCPE 1234 F`, `svcABCPE 1234 F`, an AOPay
 * prefix `SPCBLABCPE 1234 F`) or after it in the other case (`ABCPE 1234 Fsvc`). An attack review had these pass every
 * entry point whole, the log line, the span attribute aopay.merchant_transaction_id (aopay/client.ts: maskGlued) and
 * the client id's label (auth/authenticator.ts shownClientId) among them, where the same PAN unglued or unspaced was
 * masked (src/pii/scrub.ts PAN_SPACED).
 */
const scrubber = new Scrubber(["AOP-554"]);
const ENTRY_POINTS: Record<string, (text: string) => string> = {
  ...scrubEntryPoints(scrubber),
  maskPanShapes: (t) => maskPanShapes(t),
  "a metrics label (the client id)": (t) => shownClientId(t),
};

const SPELLINGS = [
  "MTABCPE 1234 F",
  "SPCBLABCPE 1234 F",
  "svcABCPE 1234 F",
  "svcabcpe 1234 f",
  "MTABCPE-1234-F",
  "MTABCPE.1234.F",
  "MTABCPE_1234_F",
  "MTABCPE1234 F",
  "MTABCPE\u00A01234\u00A0F",
  "MTABCPE\n1234\nF",
  "MT\u200BABCPE 1234 F",
  "txn9MTABCPE 1234 F",
  "ABCPE 1234 Fsvc",
  "abcpe 1234 fMT",
  "svcABCPE 1234 Fx",
  "MTABC PE 1234 F",
  "svcA B C P E 1 2 3 4 F",
];

describe.each(Object.entries(ENTRY_POINTS))("%s", (_name, scrub) => {
  test.each(SPELLINGS)("masks %j", (spelling) => {
    expectPanMasked(scrub(`id ${spelling}, done`));
  });
});

describe("keeps what is no PAN glued to a word", () => {
  const KEPT = [
    // Amounts and prose: a word in one case after the last letter is a word, not a PAN's last letter.
    "TOTAL 1500 INR",
    "a total 1500 in cash",
    "subtotal 1500 in cash",
    "Batch 2024 Report",
    // A digit after the last letter (as unglued: `ABCPE 1234 F9`), AOPay references, order and request ids.
    "route MTABCPE 1234 F9",
    "request 3f2c9e4a-1b7d-4c2e-9a11-5d6e7f8a9b0c",
    "request 3F2C9E4A-1B7D-4C2E-9A11-5D6E7F8A9B0C",
    // Hexadecimal identifiers in groups, either case: all their letters are hex digits.
    "trace CAFEBABE-1234-ABCD-0000-000000000000",
    "trace cafebabe-1234-abcd-0000-000000000000",
    "sha 0123456789abcfe 1234 abcdef",
    "base64 dGhpcyBpcyBhIHRlc3Q/1234/aGVsbG8=",
  ];
  test.each(KEPT)("%j", (text) => {
    expect(scrubber.scrub(text)).toBe(text);
    expect(scrubber.scrubAnyCase(text)).toBe(text);
    expect(maskPanShapes(text)).toBe(text);
  });
  // No PAN in them either; but a run of digits that reads as a number (an Aadhaar number's twelve digits from 2-9
  // across `-`, a mobile's ten inside the reference's 16) is masked at every exit as the log line masks it
  // (pii/scrub.ts asLogged; src/pii/kept-forms.ts: AOPay's reference is kept in its own place alone).
  test.each([
    ["SPCBL2308181502437743aQaHNGxZM", "SPCBLXXXXXXXXXXXXXXXXaQaHNGxZM"],
    ["order ORD-20240115-0042-A7", "order ORD-XXXXXXXX-XXXX-A7"],
  ])("%j: no PAN masked, its number as the log line masks it", (text, shown) => {
    expect(scrubber.scrub(text)).toBe(shown);
    expect(scrubber.scrubAnyCase(text)).toBe(shown);
    expect(maskPanShapes(text)).toBe(text);
    const line = JSON.stringify({ level: "info", time: 1, msg: text });
    expect(JSON.parse(scrubber.scrubLine(line))).toMatchObject({ msg: shown });
  });
});
