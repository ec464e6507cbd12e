import { parse as secureJsonParse } from "secure-json-parse";
import { parseJsonBody } from "../../../src/http/thin-graphql";

/** What secure-json-parse answers with Fastify's options: the value, or that it threw (and its message). */
function reference(text: string): { value?: unknown; threw?: string } {
  try {
    return { value: secureJsonParse(text, { protoAction: "error", constructorAction: "error" }) };
  } catch (error) {
    return { threw: (error as Error).message };
  }
}

function ours(text: string): { value?: unknown; threw?: boolean } {
  try {
    return { value: parseJsonBody(text) };
  } catch {
    return { threw: true };
  }
}

/** Every spelling of `word` with each letter as written or as its \u escape (upper- and lower-case hex digits). */
function spellings(word: string): string[] {
  let out = [""];
  for (const ch of word) {
    const hex = ch.charCodeAt(0).toString(16).padStart(4, "0");
    const forms = [...new Set([ch, `\\u${hex}`, `\\u${hex.toUpperCase()}`])];
    out = out.flatMap((prefix) => forms.map((form) => prefix + form));
    // 2^11 spellings of "constructor" and more with both cases: a sample keeps the test fast, every letter escaped.
    if (out.length > 400) out = out.filter((_, i) => i % 3 === 0 || i === out.length - 1);
  }
  return out;
}

describe("parseJsonBody: secure-json-parse's answer, without its scans when no match is possible", () => {
  const bodies = [
    '{"query":"mutation ResendAepsOtp($input: ResendAepsOtpInput!) { resendAepsOtp(input: $input) { __typename } }"}',
    '{"query":"{ a }","variables":{"input":{"mobile":"9876543210"}},"operationName":null}',
    "[1,2,3]",
    '"text"',
    "42",
    "null",
    "true",
    " {} ",
    "{",
    "",
    '{"a":1}x',
    '\ufeff{"a":1}',
    "\ufeff",
    '{"a":"\\u0041"}',
    '{"a":"__proto__"}',
    '{"a":"constructor"}',
    '{"constructor":1}',
    '{"constructor" :{"prototype":{}}}',
    '{"a":{"__proto__":{"x":1}}}',
    '{"__proto__" \n : 1}',
    '{"__proto__x":1}',
    '{"constructors":1}',
    '{"b":"\\\\u005f\\\\u005fproto__"}',
  ];
  for (const word of ["__proto__", "constructor"]) {
    for (const spelt of spellings(word)) {
      // secure-json-parse refuses `constructor` only holding a `prototype` (index.js filter): both kinds are here.
      bodies.push(
        `{"${spelt}":{"x":1}}`,
        `{"a":[{"${spelt}" : {"prototype":{"x":1}}}]}`,
        `{"a":"${spelt}"}`,
        `["${spelt}"]`,
      );
    }
  }

  it(`answers as secure-json-parse on ${bodies.length} bodies (values equal, or both refuse)`, () => {
    let refused = 0;
    for (const text of bodies) {
      const expected = reference(text);
      const got = ours(text);
      if (expected.threw !== undefined) {
        refused++;
        expect({ text, threw: got.threw }).toEqual({ text, threw: true });
      } else {
        expect({ text, value: got.value }).toEqual({ text, value: expected.value });
        expect(got.threw).toBeUndefined();
      }
    }
    // The matrix holds refusals of every kind (invalid JSON and both keys in every spelling), not only values.
    expect(refused).toBeGreaterThan(bodies.length / 5);
  });

  it("a key __proto__ or constructor is still refused, as written or escaped", () => {
    expect(() => parseJsonBody('{"__proto__":{"polluted":true}}')).toThrow();
    expect(() => parseJsonBody('{"constructor":{"prototype":{"polluted":true}}}')).toThrow();
    expect(() => parseJsonBody('{"\\u005f_proto__":{"polluted":true}}')).toThrow();
    expect(() => parseJsonBody('{"c\\u006fnstructor":{"prototype":{}}}')).toThrow();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
