import { request } from "undici";
import { RESEND_AEPS_OTP } from "../helpers/operations";
import { postGraphQL, type ProductionTestStack, startProductionStack, TEST_API_KEY } from "../helpers/stack";

/**
 * An attack review's spellings of a mobile and an Aadhaar number, sent in production at LOG_LEVEL=debug everywhere a
 * client can put text that is not an input field: request headers (X-Request-Id, Idempotency-Key, User-Agent, Referer,
 * traceparent, Origin, and X-Forwarded-For, Forwarded, X-Forwarded-Host and -Proto from a trusted proxy), the operation
 * name, the body's extensions, unknown variables, a comment in the document, a GET's query string (its variables, one
 * of them coerced to the wrong type, and a parameter of its own). Every output is read as a person reads it (escapes
 * decoded, every script's digits as digits, anything between digits dropped): the answers and their headers, every log
 * line, the metrics page. Nothing failed here on the code of 8cf3e64 (the development messages' escapes and marks did:
 * error-echo.test.ts); kept as regression tests of "No PII in clear" in production.
 */
const MOBILE = "7012983456";
const AADHAAR = "999971658847";
/** The zero of each script's digits: Bengali, Tamil, Gujarati, Arabic-Indic, extended Arabic-Indic, Devanagari, ... */
const ZEROS = [0x9e6, 0xbe6, 0xae6, 0x660, 0x6f0, 0x966, 0xff10, 0x1d7ce];
const inScript = (v: string, zero: number) => [...v].map((d) => String.fromCodePoint(zero + Number(d))).join("");

function spellings(v: string): string[] {
  const half = (mark: string) => v.slice(0, 5) + mark + v.slice(5);
  return [
    v,
    ...ZEROS.map((z) => inScript(v, z)),
    [...v].join("\u200b"),
    [...v].join("\u202e"),
    half("\u00a0"),
    half("\u2009"),
    half("\t"),
    half("\u2013"),
    `+91${v}`,
    `0091${v}`,
    `091${v}`,
    [...v].map((d) => `%3${d}`).join(""),
    [...v].map((d) => `\\u003${d}`).join(""),
    `${"x".repeat(4000)}${v}`,
  ];
}

/** `text` as a reader reads it, with only letters and digits left. */
function read(text: string): string {
  let out = text;
  for (let i = 0; i < 3; i++)
    out = out.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => Buffer.from(run.replaceAll("%", ""), "hex").toString("utf8"));
  return out
    .replace(/\\u([0-9A-Fa-f]{4})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)))
    .replace(/\\[tnrbf"\\/]/g, " ")
    .normalize("NFKC")
    .replace(/\p{Nd}/gu, (d) => {
      const cp = d.codePointAt(0) ?? 0;
      const zero = [0x30, ...ZEROS].find((z) => cp >= z && cp < z + 10);
      return zero === undefined ? d : String(cp - zero);
    })
    .replace(/[^\p{L}\p{Nd}]/gu, "");
}

/** A query sent over GET, its variables in the URL: a CIBIL id, and a Boolean given text (a coercion error). */
const CREDIT_HISTORY_GET =
  "query Q($id: String!, $show: Boolean!) { cibilCreditHistory(cibilId: $id) { __typename } " +
  "serviceInfo @include(if: $show) { upstream } }";

/** A header value the client can send: ASCII as is, anything else percent-escaped (undici refuses other bytes). */
const headerValue = (v: string) => (/^[\x20-\x7e\t]*$/.test(v) ? v : encodeURIComponent(v));

describe("a mobile and an Aadhaar number in every spelling, outside the input fields (production, debug)", () => {
  let t: ProductionTestStack;
  const outputs: string[] = [];
  const gets: Array<{ status: number; text: string }> = [];
  beforeAll(async () => {
    // Loopback a trusted proxy: the forwarding headers below are read, not ignored.
    t = await startProductionStack({ LOG_LEVEL: "debug", TRUSTED_PROXIES: "127.0.0.1/32,::1/128" });
    const input = {
      userKey: "AOP554N3XXXX",
      mobile: "9876543210",
      aadhaar: "234123412346",
      primaryKeyId: "PK1",
      encodeTxnId: "DEMO",
    };
    for (const v of [...spellings(MOBILE), ...spellings(AADHAAR)]) {
      const h = headerValue(v).slice(0, 255);
      const answers = await Promise.all([
        postGraphQL(
          t.graphqlUrl,
          { query: `${RESEND_AEPS_OTP}\n# ${v}`, variables: { input, [v]: v }, extensions: { note: v } },
          {
            "x-api-key": TEST_API_KEY,
            "x-request-id": h,
            "idempotency-key": h,
            "user-agent": h,
            referer: h,
            traceparent: h,
            "x-forwarded-for": `${h}, 198.51.100.7`,
            forwarded: `for="${h.replaceAll('"', "")}";proto=https`,
            "x-forwarded-host": h,
            "x-forwarded-proto": h,
            origin: `https://${h}.example`,
          },
        ),
        // A GET (a query): the spelling in the variables of the query string, one coerced to the wrong type, and in a
        // parameter of its own.
        request(
          `${t.graphqlUrl}?query=${encodeURIComponent(CREDIT_HISTORY_GET)}` +
            `&variables=${encodeURIComponent(JSON.stringify({ id: v, show: v }))}&${encodeURIComponent(v)}=${encodeURIComponent(v)}`,
          { headers: { "x-api-key": TEST_API_KEY, "apollo-require-preflight": "1", "x-forwarded-for": h } },
        ).then(async (res) => {
          const get = { status: res.statusCode, text: await res.body.text(), headers: res.headers };
          gets.push(get);
          return get;
        }),
        postGraphQL(t.graphqlUrl, { query: RESEND_AEPS_OTP, operationName: v }, { "x-api-key": TEST_API_KEY }),
        postGraphQL(t.graphqlUrl, { query: "{ serviceInfo { upstream } }" }, { "x-api-key": h }),
      ]);
      for (const a of answers) outputs.push(a.text, JSON.stringify(a.headers));
    }
    outputs.push(await (await request(t.stack.app.metricsUrl as string)).body.text());
  }, 60_000);
  afterAll(() => t?.stop());

  it("the requests were served or refused, and the sends reached AOPay", () => {
    expect(t.simulator.calls()).toBeGreaterThan(0);
    expect(t.logs.lines.length).toBeGreaterThan(30);
  });

  it("the GETs reached the coercion of their variables, and refused origins were logged", () => {
    expect(gets).toHaveLength(2 * spellings(MOBILE).length);
    // The spelling after 4,000 `x`s, three times in the URL, is over MAX_HEADER_BYTES: Node's 431.
    const coerced = gets.filter((get) => get.status !== 431);
    expect(coerced).toHaveLength(2 * (spellings(MOBILE).length - 1));
    for (const get of coerced) {
      expect(get.status).toBe(400);
      expect(JSON.parse(get.text).errors[0].message).toBe("Invalid input: a variable has an invalid value.");
    }
    expect(t.logs.records().filter((r) => typeof r.origin === "string").length).toBeGreaterThan(0);
  });

  it("the reader reads every spelling, as sent and as a JSON log line writes it, as the number", () => {
    for (const [value, all] of [
      [MOBILE, spellings(MOBILE)],
      [AADHAAR, spellings(AADHAAR)],
    ] as const)
      for (const v of all) {
        expect(read(v)).toContain(value);
        expect(read(JSON.stringify(v))).toContain(value);
        expect(read(headerValue(v))).toContain(value);
      }
  });

  it.each([
    ["the answers, their headers and the metrics page", () => outputs],
    ["the log lines", () => t.logs.raw().split("\n")],
  ])("%s hold neither number as a reader reads them", (_what, texts) => {
    for (const text of texts()) {
      const seen = read(text);
      expect(seen).not.toContain(MOBILE);
      expect(seen).not.toContain(AADHAAR);
    }
  });
});
