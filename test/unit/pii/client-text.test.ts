import { asRead, shownAsRead } from "../../../src/pii/client-text";
import { maskGlued } from "../../../src/pii/scrub";

/** Percent-escapes of `text`'s UTF-8 bytes, every byte (as a client escapes what it wants a decoder to show). */
const escaped = (text: string) =>
  [...Buffer.from(text, "utf8")].map((b) => `%${b.toString(16).toUpperCase()}`).join("");
/** `text`'s UTF-8 bytes as Node hands a header value over: one latin1 character per byte. */
const asHeaderBytes = (text: string) => Buffer.from(text, "utf8").toString("latin1");

describe("client text as its reader reads it (asRead)", () => {
  it.each([
    ["percent-escaped fullwidth digits", escaped("９８７６５４３２１０"), "９８７６５４３２１０"],
    ["a zero-width space escaped between the groups", "98765%E2%80%8B43210", "98765\u200b43210"],
    ["escaped twice (%25)", escaped(escaped("२३४१२३४१२३४६")), "२३४१२३४१२३४६"],
    ["a stray byte that is not UTF-8 after the number", `${escaped("٩٨٧٦٥٤٣٢١٠")}%FF`, "٩٨٧٦٥٤٣٢١٠\ufffd"],
    [
      "a header's UTF-8 bytes (latin1 characters)",
      asHeaderBytes("http://९८७६५४३२१०.example"),
      "http://९८७६५४३२१०.example",
    ],
    // What a browser sends for a page at `http://९८७६५४३२१०.example` (url.domainToASCII).
    ["a punycode label", "http://xn--d4bbcdefghij.example", "http://९८७६५४३२१०.example"],
  ])("%s", (_, text, read) => {
    expect(asRead(text)).toBe(read);
  });

  it("leaves ordinary text as it is (one scan, nothing decoded)", () => {
    for (const text of ["https://app.example:8443", "mobile-app", "http://localhost:5173", "50%off", "%zz"])
      expect(asRead(text)).toBe(text);
  });
});

describe("client text as a log line shows it (shownAsRead with maskGlued)", () => {
  it.each([
    [escaped("９８７６５４３２１０"), "XXXXXXXXXX"],
    [`http://${escaped("٢٣٤١٢٣٤١٢٣٤٦")}.example`, "http://XXXXXXXXXXXX.example"],
    ["http://98765%E2%80%8B43210.example", "http://XXXXX\u200bXXXXX.example"],
    [`http://${escaped(escaped("9876543210"))}.example`, "http://XXXXXXXXXX.example"],
    [asHeaderBytes("http://९८७६५४३२१०.example"), "http://XXXXXXXXXX.example"],
    ["http://xn--d4bbcdefghij.example", "http://XXXXXXXXXX.example"],
    ["http://abcpe1234f.example", "http://XXXXXX234F.example"],
    ["http://%61bcpe1234f.example", "http://XXXXXX234F.example"],
  ])("%j shows as %j", (text, shown) => {
    const line = shownAsRead(text, maskGlued);
    expect(line).toBe(shown);
    expect(asRead(line).normalize("NFKC")).not.toMatch(/\p{Nd}{10}|abcpe1234f/iu);
  });

  // A second attack review: marks between digit groups the digit-run mask did not read through, escapes of JSON and
  // HTML, and a text that is not a header's bytes holding a latin1 mark (it was re-read as UTF-8: U+FFFD). The same
  // reading serves a client id (auth/authenticator.ts shownClientId), a refused origin and a development message.
  it.each([
    ["98765\u201343210", "XXXXX-XXXXX"],
    ["sub|98765 \u2212 43210", "sub|XXXXX - XXXXX"],
    ["2341\u00b72341\u00b72346", "XXXX-XXXX-XXXX"],
    ["2341'2341'2346", "XXXX-XXXX-XXXX"],
    ["987*654#3210", "XXX-XXX-XXXX"],
    ["98765\uff0a43210", "XXXXX-XXXXX"],
    [[..."9876543210"].map((d) => `\\u003${d}`).join(""), "XXXXXXXXXX"],
    [[..."9876543210"].map((d) => `&#${48 + Number(d)}`).join(""), "XXXXXXXXXX"],
    ["id&#x39;876543210", "idXXXXXXXXXX"],
  ])("%j shows as %j", (text, shown) => {
    expect(shownAsRead(text, maskGlued)).toBe(shown);
  });

  it("keeps a host and its port, dates and short numbers with their marks as written", () => {
    for (const text of ["http://127.0.0.1:4000", "2026\u201312\u201304", "a|b", "12*34", "caf\u00e9", "x&#y"])
      expect(shownAsRead(text, maskGlued)).toBe(text);
  });

  it("keeps an ordinary value's spelling, escapes included, when reading it reveals nothing", () => {
    expect(shownAsRead("https://caf%C3%A9.example:8443", maskGlued)).toBe("https://caf%C3%A9.example:8443");
    expect(shownAsRead("https://uid234123412346.example", maskGlued)).toBe("https://uidXXXXXXXXXXXX.example");
  });
});
