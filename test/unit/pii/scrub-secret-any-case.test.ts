import { maskNumberShapes, Scrubber } from "../../../src/pii/scrub";

/**
 * A registered secret (a partner credential, a sealing key) that AOPay echoes in another letter case: what a request's
 * scrub (src/pii/scrub.ts RequestScrubber) and an identifier's hand on must hold none of it. Until the any-case match
 * came before the shape masks (Scrubber.scrubAnyCase), a secret holding a number (`pay_9876543210_key`) echoed as
 * `PAY_9876543210_KEY` had its digits masked first, then no longer matched: `PAY_XXXXXX3210_KEY` was shown, the
 * secret's letters and the mask's last four in clear.
 */
const SECRETS = [
  "pay_9876543210_key",
  "ak 234123412346 zz",
  "hm_98765x43210_q",
  "Seal.2341-2341-2346.k",
  "reg+919876543210.live",
];

/** A secret in several letter cases: upper, lower, the first letter upper, alternating. */
function cases(secret: string): string[] {
  const alternating = [...secret].map((c, i) => (i % 2 === 0 ? c.toUpperCase() : c.toLowerCase())).join("");
  const title = secret[0].toUpperCase() + secret.slice(1).toLowerCase();
  return [...new Set([secret.toUpperCase(), secret.toLowerCase(), title, alternating])].filter((c) => c !== secret);
}

/** Each spelling where an upstream text puts it: alone, at the start, in the middle, at the end, quoted, in JSON. */
function placed(spelling: string): string[] {
  return [
    spelling,
    `${spelling}: invalid credential`,
    `Upstream error: key ${spelling} rejected`,
    `rejected: ${spelling}`,
    `"${spelling}"`,
    JSON.stringify({ error: `bad ${spelling}` }),
  ];
}

/** The secret's letters and digits, four at a time: none may be left in what is shown (in any case). */
function pieces(secret: string): string[] {
  const folded = secret.toLowerCase().replace(/[^0-9a-z]/g, "");
  const out: string[] = [];
  for (let i = 0; i + 4 <= folded.length; i++) out.push(folded.slice(i, i + 4));
  return out;
}

function leaked(shown: string, secret: string): string[] {
  const folded = shown
    .toLowerCase()
    .replace(/\[redacted\]/g, "|")
    .replace(/[^0-9a-z|]/g, "");
  return pieces(secret).filter((p) => folded.includes(p) && !/^(redacted|xxxx)$/.test(p));
}

const table = SECRETS.flatMap((secret) =>
  cases(secret).flatMap((spelling) => placed(spelling).map((text) => ({ secret, text }))),
);

describe("a registered secret echoed in another letter case shows nothing of itself", () => {
  const scrubber = new Scrubber(SECRETS);

  it.each(table)("$text", ({ secret, text }) => {
    const request = scrubber.forRequest(["482913", "Ramesh Kumar"]);
    const shown = {
      "request scrub": request.scrub(text),
      "request identifier": request.identifier(text),
      identifier: scrubber.identifier(text),
      "reference (maskNumberShapes after the scrub)": maskNumberShapes(request.scrub(text)),
    };
    for (const [where, out] of Object.entries(shown))
      expect({ where, leaked: leaked(out, secret) }).toEqual({ where, leaked: [] });
    // And what was shown, once on a log line, stays so.
    const line = scrubber.scrubLine(JSON.stringify({ level: "error", msg: request.scrub(text) }));
    expect(leaked(line, secret)).toEqual([]);
  });

  it("keeps the words around it and masks a number beside it", () => {
    const request = scrubber.forRequest([]);
    expect(request.scrub("Upstream error: key PAY_9876543210_KEY rejected")).toBe(
      "Upstream error: key [REDACTED] rejected",
    );
    expect(request.scrub("AK 234123412346 ZZ sent to 9123456789")).toBe("[REDACTED] sent to XXXXXX6789");
    expect(request.scrub("hm_98765X43210_Q,9123456789")).toBe("[REDACTED],XXXXXX6789");
  });

  it("a number that runs across a secret's edge is still masked, as before (the secret's match left to after it)", () => {
    // `d] 9` of `d] 9876543210`, redacted first, would leave `876543210` (test/unit/pii/scrub-equivalence.test.ts).
    const request = new Scrubber(["d] 9"]).forRequest([]);
    expect(request.scrub("D] 9876543210")).not.toMatch(/87654/);
  });
});

/**
 * A request's own value holding a number (a token, a customer id with a mobile in it), echoed as sent or in another
 * case: its number was masked before the request's values were redacted, and then no longer matched
 * (`tok_9876543210_ab` shown as `tok_XXXXXX3210_ab`). Such a value is now held before the masks, as a secret is.
 */
describe("a request's own value holding a number shows nothing of itself", () => {
  const OWN = ["tok_9876543210_ab", "12-9876543210-42", "cust.234123412346.zq", "Ramesh 98765 43210 K"];
  const table = OWN.flatMap((value) =>
    [value, ...cases(value)].flatMap((spelling) => placed(spelling).map((text) => ({ value, text }))),
  );
  const scrubber = new Scrubber(["AOP-554"]);

  it.each(table)("$text", ({ value, text }) => {
    const request = scrubber.forRequest([value, "482913"]);
    const shown = {
      "request scrub": request.scrub(text),
      "request identifier": request.identifier(text),
      "reference (maskNumberShapes after the scrub)": maskNumberShapes(request.scrub(text)),
    };
    for (const [where, out] of Object.entries(shown)) {
      expect({ where, leaked: leaked(out, value) }).toEqual({ where, leaked: [] });
      expect({ where, placeholder: /[\uE000\uE001]/.test(out) }).toEqual({ where, placeholder: false });
    }
  });

  it("keeps a value that is a number alone masked as a number, and the words around a value", () => {
    const request = scrubber.forRequest(["9182736450", "tok_9876543210_ab"]);
    expect(request.scrub("to 9182736450")).toBe("to XXXXXX6450");
    expect(request.scrub("token TOK_9876543210_AB expired, call 9123456789")).toBe(
      "token [REDACTED] expired, call XXXXXX6789",
    );
  });
});

/**
 * What a held secret or value stands as until the masks have run (its first character, a private-use mark, its last)
 * must not change what the masks take: held inside an e-mail address's local part, the mark cut the address, and the
 * part before it was shown (`john.[REDACTED]**@example.com`, where masked first it was `***@example.com`).
 */
describe("a secret or a request's value held inside an e-mail address shows none of the address", () => {
  const scrubber = new Scrubber(["secretkey"]);
  const request = scrubber.forRequest(["tok_9876543210_ab"]);

  it.each([
    ["mail john.SECRETKEY@example.com now", "mail ***@example.com now"],
    ["mail SecretKey.doe@example.com now", "mail ***@example.com now"],
    ["mail ram.TOK_9876543210_AB@example.com now", "mail ***@example.com now"],
    ["x@SECRETKEY.com", "***@[REDACTED].com"],
  ])("%s", (text, expected) => {
    expect(request.scrub(text)).toBe(expected);
    if (!text.includes("TOK")) expect(scrubber.scrubAnyCase(text)).toBe(expected);
  });
});

/**
 * A text that holds the mark itself (U+E000, U+E001: private-use characters a client or an upstream may send) is held
 * nothing: the mark's release paired the text's own mark with a held match's first character and showed the match's
 * last (`a\uE000ALPHAKEY` shown as `[REDACTED]Y`) and the mark. Such a text keeps the old order, masks first: a
 * secret or value holding a number, in another case, in a text that also holds a mark, can still show the rest of
 * itself (docs/security.md).
 */
describe("a text holding the placeholder's character shows no secret's edge nor a mark it was not sent", () => {
  const scrubber = new Scrubber(["alphakey"]);

  it.each(["\uE000", "\uE001"])("%j", (mark) => {
    for (const [text, expected] of [
      [`a${mark}ALPHAKEY z`, `a${mark}[REDACTED] z`],
      [`ALPHAKEY${mark}x z`, `[REDACTED]${mark}x z`],
    ]) {
      expect(scrubber.forRequest([]).scrub(text)).toBe(expected);
      expect(scrubber.scrubAnyCase(text)).toBe(expected);
    }
  });
});

/**
 * Two secrets, one holding the other (a registration id that holds the company code): the redaction as written found
 * the shorter inside an echo of the longer in another case, and the longer was then no longer found: the rest of it
 * was shown (`Reg_[REDACTED]_Live` for `reg_9876543210_live` holding `9876543210`, `bench-[REDACTED]`).
 */
describe("a secret that holds another, echoed in another case, shows nothing of itself", () => {
  const PAIRS = [
    ["reg_9876543210_live", "9876543210"],
    ["BENCH-REG-0001", "REG-0001"],
    ["co.Seal-key", "Seal"],
  ];
  const table = PAIRS.flatMap(([longer, shorter]) =>
    cases(longer).flatMap((spelling) => placed(spelling).map((text) => ({ longer, shorter, text }))),
  );

  it.each(table)("$text", ({ longer, shorter, text }) => {
    const scrubber = new Scrubber([longer, shorter]);
    const request = scrubber.forRequest(["482913"]);
    const shown = {
      "request scrub": request.scrub(text),
      "request identifier": request.identifier(text),
      identifier: scrubber.identifier(text),
      "GraphQL error (scrubAnyCase)": scrubber.scrubAnyCase(text),
      "reference (maskNumberShapes after the scrub)": maskNumberShapes(request.scrub(text)),
    };
    for (const [where, out] of Object.entries(shown)) {
      expect({ where, leaked: leaked(out, longer) }).toEqual({ where, leaked: [] });
      expect({ where, placeholder: /[\uE000\uE001]/.test(out) }).toEqual({ where, placeholder: false });
    }
  });
});
