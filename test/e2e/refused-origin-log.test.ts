import { domainToUnicode } from "node:url";
import { send, sendRaw } from "../helpers/raw-http";
import { type ProductionTestStack, startProductionStack, TEST_API_KEY } from "../helpers/stack";

/**
 * A refused browser `Origin` is client text the server logs (http/cors.ts warnOnce), before any authentication. An
 * attack review (production settings, LOG_LEVEL=trace, real requests) wrote a mobile, an Aadhaar number and a PAN into
 * it in every spelling it could think of and read the log as a person or a tool would: percent-escapes and punycode
 * decoded, every script's digits as digits. Escaped fullwidth, Devanagari and Arabic-Indic digits, an escaped
 * zero-width space between the groups, a lower-case PAN, a punycode host a browser would send, and UTF-8 bytes
 * written raw on the socket were all logged as sent. Each origin here is refused once (at most 10 warnings per 10 s).
 */

const MOBILE = "9876543210";
const AADHAAR = "234123412346";
const PAN = "ABCPE1234F";
/** The zero of each script's digits a client might write: ASCII, Arabic-Indic (two), Devanagari, Bengali, fullwidth. */
const DIGIT_ZEROS = [0x30, 0x660, 0x6f0, 0x966, 0x9e6, 0xff10];
const escaped = (text: string) =>
  [...Buffer.from(text, "utf8")].map((b) => `%${b.toString(16).toUpperCase()}`).join("");
const digitsOf = (text: string, base: number) => text.replace(/[0-9]/g, (d) => String.fromCodePoint(base + Number(d)));

/**
 * What a reader takes `text` for, written independently of the server's pii/client-text.ts: escapes decoded as long as
 * they decode (a bad byte dropped), punycode hosts as Unicode, latin1-read bytes as UTF-8, NFKC, every decimal digit
 * as its ASCII digit, upper case, only letters and digits kept.
 */
function asAReaderSees(text: string): string {
  let read = text;
  for (let i = 0; i < 4; i++)
    read = read.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => Buffer.from(run.replaceAll("%", ""), "hex").toString("utf8"));
  read = read.replace(/xn--[0-9a-z-]+/gi, (label) => domainToUnicode(label) || label);
  read = read + " " + Buffer.from(read, "latin1").toString("utf8");
  return read
    .normalize("NFKC")
    .replace(/\p{Nd}/gu, (d) => {
      const cp = d.codePointAt(0)!;
      const zero = DIGIT_ZEROS.find((z) => cp >= z && cp < z + 10);
      return zero === undefined ? d : String(cp - zero);
    })
    .toUpperCase()
    .replace(/[^\p{L}\p{Nd}]/gu, "");
}

/** An authenticated request from `origin`, answered 200; what the log gained meanwhile. */
async function postFrom(t: ProductionTestStack, origin: string) {
  const before = t.logs.raw().length;
  const res = await send(t.graphqlUrl, {
    method: "POST",
    headers: { origin, "content-type": "application/json", "x-api-key": TEST_API_KEY },
    body: JSON.stringify({ query: "{ serviceInfo { upstream } }" }),
  });
  expect(res.status).toBe(200);
  return { res, written: t.logs.raw().slice(before) };
}

describe("a refused Origin's warning holds no identifier in any spelling (production)", () => {
  let t: ProductionTestStack;
  beforeAll(async () => {
    t = await startProductionStack({ LOG_LEVEL: "trace", CORS_ORIGINS: "https://app.example" });
  });
  afterAll(() => t?.stop());

  const ORIGINS: [string, string][] = [
    ["fullwidth digits, escaped", `http://${escaped(digitsOf(MOBILE, 0xff10))}.example`],
    ["Devanagari digits, escaped", `http://${escaped(digitsOf(MOBILE, 0x966))}.example`],
    ["Arabic-Indic digits, escaped", `http://${escaped(digitsOf(AADHAAR, 0x660))}.example`],
    ["an escaped zero-width space between the groups", "http://98765%E2%80%8B43210.example"],
    ["escaped twice, a stray byte after", `http://${escaped(escaped(MOBILE))}%FF.example`],
    ["a PAN in lower case", `https://${PAN.toLowerCase()}.example`],
    ["a PAN glued to a word, one letter escaped", `https://kyc%41BCPE1234F.example`],
    [
      "a punycode host (what a browser sends for a page at http://९८७६५४३२१०.example)",
      "http://xn--d4bbcdefghij.example",
    ],
  ];

  it.each(ORIGINS)("%s: refused, and its warning shows the identifier masked", async (_, origin) => {
    const { res, written } = await postFrom(t, origin);
    expect(res.headers["access-control-allow-origin"]).toBeUndefined();
    expect(written).toMatch(/CORS: refused requests from the browser origin/);
    const seen = asAReaderSees(written);
    for (const value of [MOBILE, AADHAAR, PAN]) expect(seen).not.toContain(value);
  });

  it("an Origin written as raw UTF-8 bytes (Devanagari digits) is logged masked", async () => {
    const before = t.logs.raw().length;
    const origin = `http://${digitsOf(MOBILE, 0x966)}.example`;
    const body = JSON.stringify({ query: "{ serviceInfo { upstream } }" });
    const res = await sendRaw(
      t.baseUrl,
      `POST /graphql HTTP/1.1\r\nhost: x\r\norigin: ${origin}\r\ncontent-type: application/json\r\nx-api-key: ${TEST_API_KEY}`,
      body,
    );
    expect(res.status).toBe(200);
    const written = t.logs.raw().slice(before);
    expect(written).toMatch(/CORS: refused requests from the browser origin/);
    expect(asAReaderSees(written)).not.toContain(MOBILE);
    // Node hands the bytes over as latin1 characters; the old warning showed them NFKC-folded, 7 of the 10 digits'
    // bytes intact (`à¥®à¥­à¥¬…`, re-read as UTF-8: `८७६…`). Now read as UTF-8, then masked.
    const line = t.logs
      .records()
      .filter((r) => String(r.msg).startsWith("CORS: refused"))
      .at(-1);
    expect(line?.origin).toBe("http://XXXXXXXXXX.example");
  });

  it("an ordinary refused origin is logged as sent, to be copied into CORS_ORIGINS", async () => {
    const before = t.logs.raw().length;
    await send(t.graphqlUrl, {
      method: "OPTIONS",
      headers: { origin: "https://caf%C3%A9.example:8443", "access-control-request-method": "POST" },
    });
    const line = t.logs
      .records()
      .filter((r) => String(r.msg).startsWith("CORS: refused"))
      .at(-1);
    expect(t.logs.raw().length).toBeGreaterThan(before);
    expect(line?.allowWith).toBe("CORS_ORIGINS=https://app.example,https://caf%C3%A9.example:8443");
  });
});

/**
 * What a reader takes for the digits of one number besides what the first review wrote: a dash other than `-` (an
 * en dash or a hyphen a word processor puts there, the minus sign), a middle dot or bullet, an apostrophe (a thousands
 * separator in some locales), ASCII marks an obfuscator puts between digit groups, and JSON's and HTML's escapes of the
 * digits. A second attack review had each of these logged whole: the digit-run mask's gaps knew none of them, and only
 * percent-escapes and punycode were read. A stack of its own: at most 10 warnings per 10 s.
 */
describe("a refused Origin's warning: separators and escapes a reader reads through (production)", () => {
  let t: ProductionTestStack;
  beforeAll(async () => {
    t = await startProductionStack({ LOG_LEVEL: "trace", CORS_ORIGINS: "https://app.example" });
  });
  afterAll(() => t?.stop());

  it.each([
    ["an en dash, escaped", "http://98765%E2%80%9343210.example"],
    ["a minus sign with spaces, escaped", "http://98765%20%E2%88%92%2043210.example"],
    ["a middle dot between Aadhaar groups, escaped", "http://2341%C2%B72341%C2%B72346.example"],
    ["apostrophes", "http://2341'2341'2346.example"],
    ["asterisks and bars", "http://98765*432|10.example"],
    ["semicolons and tildes", "http://98765;43~210.example"],
    ["JSON escapes of the digits", `http://${[...MOBILE].map((d) => `\\u003${d}`).join("")}.example`],
    ["HTML character references", `http://${[...MOBILE].map((d) => `&#x3${d};`).join("")}.example`],
  ])("%s: its warning shows the number masked", async (_, origin) => {
    const { written } = await postFrom(t, origin);
    expect(written).toMatch(/CORS: refused requests from the browser origin/);
    const seen = asAReaderSees(
      written
        .replace(/\\\\u00([0-9a-f]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16)))
        .replace(/&#x([0-9a-f]+);/gi, (_m, h: string) => String.fromCodePoint(parseInt(h, 16))),
    );
    for (const value of [MOBILE, AADHAAR]) expect(seen).not.toContain(value);
  });

  it("an Origin with an en dash written as raw UTF-8 bytes is logged masked", async () => {
    const before = t.logs.raw().length;
    const res = await sendRaw(
      t.baseUrl,
      `POST /graphql HTTP/1.1\r\nhost: x\r\norigin: http://98765\u201343210.example\r\n` +
        `content-type: application/json\r\nx-api-key: ${TEST_API_KEY}`,
      JSON.stringify({ query: "{ serviceInfo { upstream } }" }),
    );
    expect(res.status).toBe(200);
    expect(asAReaderSees(t.logs.raw().slice(before))).not.toContain(MOBILE);
  });
});

/**
 * A colon between the groups, which the digit-run mask did not read through (to keep a host's port readable): logged
 * whole on 21554c8. A run joined by `:` is now masked where it reads as a mobile or an Aadhaar number (pii/scrub.ts
 * maskRuns), and a host's port stays as sent where it does not. A stack of its own: the warning is written at most 10
 * times per 10 s, which the describes above use up.
 */
describe("a refused Origin with a colon between digit groups (production)", () => {
  let t: ProductionTestStack;
  beforeAll(async () => {
    t = await startProductionStack({ LOG_LEVEL: "trace", CORS_ORIGINS: "https://app.example" });
  });
  afterAll(() => t?.stop());
  const lastOrigin = () =>
    t.logs
      .records()
      .filter((r) => String(r.msg).startsWith("CORS: refused"))
      .at(-1)?.origin;

  it.each([
    ["a host and its port", "http://x98765:43210", "http://xXXXXX:XXXXX"],
    ["a colon and an escaped en dash", "http://98765%E2%80%93432:10.example", "http://XXXXX-XXX:XX.example"],
  ])("%s reading as a mobile: its warning shows it masked", async (_, origin, shown) => {
    const { written } = await postFrom(t, origin);
    expect(asAReaderSees(written)).not.toContain(MOBILE);
    expect(lastOrigin()).toBe(shown);
  });

  it.each(["http://127.0.0.1:4000", "http://localhost:43210", "http://10.0.0.1:65432"])(
    "a host and its port stay readable where no mobile is read: %s",
    async (origin) => {
      await postFrom(t, origin);
      expect(lastOrigin()).toBe(origin);
    },
  );
});
