import { hidePartlyMasked, hidePartlyMaskedIn } from "../../../src/pii/partly-masked";

/**
 * Numbers AOPay masks in part (the first digits shown: `94138****`, `97XXXXXXXX`) have every digit hidden, so that
 * beside our masks (the last four digits: `XXXXXX3210`) they reveal nothing more.
 */
describe("hidePartlyMasked: every digit of a number masked in part", () => {
  it.each([
    // GenerateOTP's question (docs/upstream/seeds, test/fixtures/aopay/cibil/generate-otp.success.json).
    ["The One Time Password is sent to 94138****.", "The One Time Password is sent to *********."],
    // How AOPay's docs write masked values (the first two digits).
    ["97XXXXXXXX", "XXXXXXXXXX"],
    ["sent to 98765*****", "sent to **********"],
    ["OTP sent to 98765-*****", "OTP sent to *****-*****"],
    ["98765 *****", "***** *****"],
    ["98765.xxxxx", "xxxxx.xxxxx"],
    ["2341 XXXX XXXX", "XXXX XXXX XXXX"],
    ["2341-XXXX-XXXX", "XXXX-XXXX-XXXX"],
    ["2341\u00A0XXXX\u00A0XXXX", "XXXX\u00A0XXXX\u00A0XXXX"],
    ["9876XXXX10", "XXXXXXXXXX"],
    ["XXXXX43210", "XXXXXXXXXX"],
    ["98765●●●●●", "●●●●●●●●●●"],
    ["98765•••••", "••••••••••"],
    ["98765#####", "##########"],
    ["+91 98XXXXXXXX", "+XX XXXXXXXXXX"],
    ["uid_94138****", "uid_*********"],
    ["(94138****)", "(*********)"],
    ["mobile: 94138****, pan: XXXXXX234F", "mobile: *********, pan: XXXXXX234F"],
    // Digits of another script are digits to whoever reads them.
    ["९४१३८*****", "**********"],
    ["a 94138**** and b 2341 XXXX XXXX", "a ********* and b XXXX XXXX XXXX"],
    // Groups joined by a space are read as one number: a whole one beside is hidden with it (no digit shown).
    ["9876543210 98765****", "********** *********"],
  ])("%s -> %s", (text, hidden) => {
    expect(hidePartlyMasked(text)).toBe(hidden);
  });

  it.each([
    // Tokens with other letters: an id of AOPay's, its reference, a glued number (masked elsewhere: maskNumberShapes).
    "AOP554N3XXXXX",
    "SPCBL2308181502437743aQaHNGxZM",
    "MT9876543210",
    "94138****AB",
    // Short things, and status classes (no two digits in a row).
    "2xx",
    "HTTP 5xx",
    "4xx/5xx",
    "2xx 3xx 4xx 5xx",
    // AOPay's masked CIBIL id (7 characters): an id the client sent in full.
    "93626**",
    // Numbers that show only their last digits, four at most: ours, and AOPay's own when it masks so.
    "XXXXXX3210",
    "XXXX XXXX 2346",
    "******3210",
    "****-3210",
    "●●●●●●3210",
    // Ordinary text, numbers without a mask, and a single mask character.
    "Success",
    "OTP sent successfully to the registered mobile",
    "9876543210",
    "1920x1080",
    "Rated 4*",
    "2026-12-05 04:10:11",
    "",
  ])("leaves %j as it is", (text) => {
    expect(hidePartlyMasked(text)).toBe(text);
  });
});

describe("hidePartlyMasked: its one-text memory answers for that text alone", () => {
  it("answers the same text alike, and a different text for itself", () => {
    const a = "sent to 94138****.";
    const b = "sent to 97100****.";
    expect([a, a, b, a, "Success", b].map(hidePartlyMasked)).toEqual([
      "sent to *********.",
      "sent to *********.",
      "sent to *********.",
      "sent to *********.",
      "Success",
      "sent to *********.",
    ]);
    // A text like the last one but for a digit is a text of its own.
    expect(hidePartlyMasked("sent to XXXXXX3210.")).toBe("sent to XXXXXX3210.");
    expect(hidePartlyMasked("sent to XXXXX43210.")).toBe("sent to XXXXXXXXXX.");
  });

  it("reads digits beyond the Basic Multilingual Plane as one digit each", () => {
    // MATHEMATICAL BOLD DIGIT NINE, EIGHT (U+1D7D7, U+1D7D6): two code units each.
    expect(hidePartlyMasked("\u{1D7D7}\u{1D7D6}765****")).toBe("*********");
  });
});

describe("hidePartlyMaskedIn: the string values of a parsed report", () => {
  it("hides partly masked numbers in values at every depth, in place, and leaves keys, numbers and the rest", () => {
    // An integer beyond 2^53 as the envelope reads it (aopay/envelope.ts exactIntegers): frozen, never written.
    const exact = (JSON as unknown as { rawJSON(text: string): object }).rawJSON("123456789012345678901");
    const report = {
      customer: { first_name: "Ravi", mobile: "98765****" },
      "98765****": "a key is left as it is",
      accounts: [{ number: "5123XXXXXXXX9876", masked: "XXXXXXXX9876", balance: 12_500, exact }, "2341 XXXX XXXX"],
      deep: { a: { b: [[{ c: "97XXXXXXXX" }]] } },
      score: 742,
      none: null,
    };
    expect(hidePartlyMaskedIn(report)).toBe(report);
    expect(report).toEqual({
      customer: { first_name: "Ravi", mobile: "*********" },
      "98765****": "a key is left as it is",
      accounts: [{ number: "XXXXXXXXXXXXXXXX", masked: "XXXXXXXX9876", balance: 12_500, exact }, "XXXX XXXX XXXX"],
      deep: { a: { b: [[{ c: "XXXXXXXXXX" }]] } },
      score: 742,
      none: null,
    });
    expect(JSON.stringify(report.accounts[0])).toContain('"exact":123456789012345678901');
  });
});
