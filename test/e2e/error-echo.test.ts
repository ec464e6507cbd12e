import { createHash } from "node:crypto";
import { request } from "undici";
import { TRUSTED_DOCUMENTS } from "../../src/generated/trusted-documents";
import {
  postGraphQL,
  type ProductionTestStack,
  startProductionStack,
  startTestStack,
  TEST_API_KEY,
  type TestStack,
} from "../helpers/stack";

/**
 * No error repeats anything the client sent, and none suggests a name (docs/security-requirements.md A6, A8).
 * A canary that is a valid GraphQL name and carries an Aadhaar-shaped number is put in every place a request can carry
 * text: names in the document (fields, arguments, types, fragments, variables, directives, operations, aliases),
 * tokens of a syntax error, variable keys and values, operationName (30 kB too), persisted-query hashes, headers
 * (x-request-id, Idempotency-Key, x-api-key, authorization), the JSON body, the URL path. Against the production
 * configuration every answer is an error whose text holds neither the canary nor a suggestion nor an input type's
 * field or type name, whose `extensions.requestId` equals its `x-request-id` header, which is a fresh UUID; and AOPay
 * sees no call.
 */
const CANARY = "Zq7canary_234123412346";
const LEAKS = [CANARY, "canary", "234123412346", "Did you mean", "XXXX XXXX 2346"];
/** Names of the schema's input types and fields that an error about malformed input must not reveal. */
const SHAPE = ["GenerateCibilOtpInput", "cibilId", "accessToken", "ResendAepsOtpInput", "aadhaar", "userKey"];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const auth = { "x-api-key": TEST_API_KEY, "content-type": "application/json" };

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

const raw = async (url: string, init: Parameters<typeof request>[1] = {}): Promise<Answer> => {
  const res = await request(url, init);
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
};

/** The checks every refused request must pass. */
function expectRefusedWithoutEcho(res: Answer, extraLeaks: string[] = []) {
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  for (const leak of [...LEAKS, ...extraLeaks]) expect(res.text).not.toContain(leak);
  const id = res.headers["x-request-id"];
  expect(id).toMatch(UUID);
  const body = JSON.parse(res.text) as {
    errors: Array<{ message: string; extensions: { code: string; requestId: string } }>;
  };
  expect(body.errors.length).toBeGreaterThan(0);
  for (const error of body.errors) {
    expect(typeof error.extensions.code).toBe("string");
    expect(error.extensions.requestId).toBe(id);
  }
  return body.errors;
}

describe("no error echoes client text, in production", () => {
  let t: ProductionTestStack;
  beforeAll(async () => {
    t = await startProductionStack();
  });
  afterAll(() => t?.stop());
  beforeEach(() => t.simulator.resetCalls());
  afterEach(() => {
    expect(t.simulator.calls()).toBe(0);
    // Nor is it logged: the canary may appear in no log line either.
    expect(t.logs.text()).not.toContain("234123412346");
    // Nor its letters: a secret-shaped value (a wrong API key, a token) has no number a scrubber would mask.
    expect(t.logs.text()).not.toMatch(/canary/i);
    // Every request here is a client's mistake: its access line says so, and nothing is logged as a warning or an
    // error (alerts watch those; a line with a stack per refusal would let any client fill the log).
    const loud = t.logs.records().filter((r) => r.level === "error" || r.level === "warn");
    expect(loud.map((r) => r.msg)).toEqual([]);
    t.logs.clear();
  });

  const gql = (payload: unknown, headers: Record<string, string> = {}) =>
    raw(t.graphqlUrl, {
      method: "POST",
      headers: { ...auth, ...headers },
      body: typeof payload === "string" ? payload : JSON.stringify(payload),
    });

  describe("names and tokens from the document", () => {
    it.each([
      ["an unknown field", `{ ${CANARY} }`, "Unknown field."],
      ["a misspelt mutation (no suggestion)", "mutation { generateCibilOt }", "Unknown field."],
      ["an unknown argument", `{ serviceInfo(${CANARY}: 1) { upstream } }`, "Unknown argument."],
      ["an unknown variable type", `query($v: ${CANARY}) { serviceInfo { upstream } }`, "Unknown type."],
      [
        "a misspelt type in a fragment (no suggestion)",
        'mutation { generateCibilOtp(input: {cibilId: "1", accessToken: "abcd"}) { ... on CibilOtpChallengX { status } } }',
        "Unknown type.",
      ],
      ["an unknown fragment", `{ ...${CANARY} }`, "Unknown fragment."],
      [
        "an unused variable",
        `query Q($${CANARY}: String) { serviceInfo { upstream } }`,
        "A variable is defined but never used.",
      ],
      [
        "an undefined variable",
        `{ serviceInfo @include(if: $${CANARY}) { upstream } }`,
        "A variable is used but not defined.",
      ],
      ["an unknown directive", `{ serviceInfo @${CANARY} { upstream } }`, "Unknown directive."],
      [
        "two operations of one name",
        `query ${CANARY} { serviceInfo { upstream } } query ${CANARY} { serviceInfo { upstream } }`,
        "Two operations have the same name.",
      ],
      [
        "an unused fragment",
        `{ serviceInfo { upstream } } fragment ${CANARY} on Query { serviceInfo { upstream } }`,
        "A fragment is never used.",
      ],
      [
        "a syntax error at a name",
        `{ serviceInfo { upstream } } ${CANARY}`,
        "Syntax Error: the document could not be parsed.",
      ],
      ["an unterminated string", `{ serviceInfo(x: "${CANARY}`, "Syntax Error: the document could not be parsed."],
      [
        "an unknown input field written inline (no suggestion)",
        `mutation { generateCibilOtp(input: { cibilid: "1", accessToken: "abcd" }) { __typename } }`,
        "Invalid value in the document.",
      ],
      [
        "a missing input field written inline",
        `mutation { generateCibilOtp(input: { cibilId: "1" }) { __typename } }`,
        "Invalid value in the document.",
      ],
      [
        "a value of the wrong type written inline",
        `{ serviceInfo @include(if: ${CANARY}) { upstream } }`,
        "Invalid value in the document.",
      ],
      [
        "a subfield on a leaf",
        `{ serviceInfo { upstream { ${CANARY} } } }`,
        "A field of a scalar or enum type cannot have a selection.",
      ],
    ])("%s", async (_what, query, text) => {
      const errors = expectRefusedWithoutEcho(await gql({ query }), SHAPE);
      expect(errors.map((e) => e.message)).toContain(text);
    });
  });

  describe("variables (coercion) reveal neither a value nor the input type's shape", () => {
    const GENERATE = "mutation G($input: GenerateCibilOtpInput!) { generateCibilOtp(input: $input) { __typename } }";
    it.each([
      ["an unknown key (the reported attack: no suggestion)", { input: { cibilid: "1" } }],
      ["an unknown key holding the canary", { input: { cibilId: "1", accessToken: "abcd", [CANARY]: CANARY } }],
      ["a missing field", { input: { cibilId: "1" } }],
      ["a number where a string goes", { input: { cibilId: 234123412346, accessToken: "abcd" } }],
      ["an object where a string goes", { input: { cibilId: { a: CANARY }, accessToken: "abcd" } }],
      ["a list where the object goes", { input: [CANARY] }],
      ["null for the required variable", { input: null }],
      ["no variables at all", undefined],
    ])("%s", async (_what, variables) => {
      const errors = expectRefusedWithoutEcho(await gql({ query: GENERATE, variables }), SHAPE);
      for (const e of errors) expect(e.extensions.code).toBe("BAD_USER_INPUT");
      for (const e of errors) expect(e.message).toMatch(/^Invalid input/);
    });

    it("a value of the wrong type for a directive variable", async () => {
      const errors = expectRefusedWithoutEcho(
        await gql({
          query: "query($b: Boolean!) { serviceInfo @include(if: $b) { upstream } }",
          variables: { b: CANARY },
        }),
      );
      expect(errors[0].message).toBe("Invalid input: a variable has an invalid value.");
    });
  });

  describe("operationName", () => {
    it.each([
      ["unknown", CANARY],
      ["30 kB long", `${CANARY}${"X".repeat(30_000)}`],
    ])("%s: never repeated", async (_what, operationName) => {
      const res = await gql({
        query: "query A { serviceInfo { upstream } } query B { serviceInfo { upstream } }",
        operationName,
      });
      const errors = expectRefusedWithoutEcho(res);
      expect(errors[0]).toMatchObject({
        message: "Unknown operation name.",
        extensions: { code: "OPERATION_RESOLUTION_FAILURE" },
      });
      expect(res.text.length).toBeLessThan(400);
    });

    it("in a GET request", async () => {
      const url = `${t.graphqlUrl}?query=${encodeURIComponent("query A { serviceInfo { upstream } }")}&operationName=${CANARY}`;
      expectRefusedWithoutEcho(
        await raw(url, { headers: { "x-api-key": TEST_API_KEY, "apollo-require-preflight": "1" } }),
      );
    });
  });

  describe("persisted queries", () => {
    it("an unknown hash", async () => {
      const res = await gql({ extensions: { persistedQuery: { version: 1, sha256Hash: CANARY } } });
      // Apollo's protocol answers 200 with PERSISTED_QUERY_NOT_FOUND (the client then sends the text).
      expect(res.status).toBe(200);
      expect(res.text).not.toContain(CANARY);
      expect(JSON.parse(res.text).errors[0]).toMatchObject({
        message: "PersistedQueryNotFound",
        extensions: { requestId: res.headers["x-request-id"] },
      });
    });

    /**
     * A client's mistake is logged by its access line only: never as an unexpected error, at error level with a stack
     * (Apollo gives these two refusals no code; one was logged so, about 1.3 kB a request, any client at will).
     */
    const expectNoErrorLine = (res: Answer) => {
      const lines = t.logs.records().filter((r) => r.requestId === res.headers["x-request-id"]);
      expect(lines.map((r) => r.msg)).toEqual(["request completed"]);
      expect(lines[0]).toMatchObject({ level: "info", status: 400, result: "BAD_REQUEST" });
    };

    it("a hash that does not match its text", async () => {
      const res = await gql({
        query: "{ serviceInfo { upstream } }",
        extensions: { persistedQuery: { version: 1, sha256Hash: CANARY } },
      });
      const errors = expectRefusedWithoutEcho(res);
      expect(errors[0].message).toBe("provided sha does not match query");
      expectNoErrorLine(res);
    });

    it("an unsupported version", async () => {
      const res = await gql({ extensions: { persistedQuery: { version: CANARY, sha256Hash: CANARY } } });
      expectRefusedWithoutEcho(res);
      expectNoErrorLine(res);
    });
  });

  describe("headers", () => {
    it.each([
      ["an Aadhaar number", "234123412346"],
      ["the canary", CANARY],
      ["8 kB", "a".repeat(8_000)],
      ["a UUID carrying an Aadhaar number", "00000000-0000-4000-8000-234123412346"],
      ["a UUID carrying a mobile number", "00000000-0000-4000-8000-a9876543210b"],
      ["a UUID of no RFC version", "00000000-0000-0000-0000-000000000000"],
      ["two values", "68f74483-ff9b-4582-bb53-6281738160bf, 68f74483-ff9b-4582-bb53-6281738160bf"],
    ])("x-request-id holding %s is replaced by a fresh UUID", async (_what, id) => {
      const res = await gql({ query: `{ ${CANARY} }` }, { "x-request-id": id });
      expectRefusedWithoutEcho(res, ["9876543210", id.slice(0, 36)]);
      expect(res.headers["x-request-id"]).not.toBe(id);
    });

    it("a UUID x-request-id is logged, lower-cased, as callerRequestId, and sent back nowhere", async () => {
      const id = "68F74483-FF9B-4582-BB53-62817A8160BF";
      const res = await gql({ query: `{ ${CANARY} }` }, { "x-request-id": id });
      expect(res.headers["x-request-id"]).not.toBe(id.toLowerCase());
      expectRefusedWithoutEcho(res, [id.toLowerCase(), id]);
      expect(t.logs.raw()).toContain(`"callerRequestId":"${id.toLowerCase()}"`);
    });

    it("an invalid Idempotency-Key (a resolver error: HTTP 200, data null)", async () => {
      const res = await gql(
        { query: 'mutation { generateCibilOtp(input: {cibilId: "102277100", accessToken: "abcd"}) { __typename } }' },
        { "idempotency-key": `${CANARY} with spaces` },
      );
      expect(res.status).toBe(200);
      expectRefusedWithoutEcho({ ...res, status: 400 });
      expect(JSON.parse(res.text).errors[0].extensions.code).toBe("BAD_USER_INPUT");
    });

    // Twice too: a header sent twice has its own reason and message (Authenticator.refusalMessage), neither built from
    // what was sent; the canary's letters and the good key are looked for in the answer and every log line as well.
    it.each<[string, Record<string, string | string[]>]>([
      ["x-api-key", { "x-api-key": CANARY }],
      ["authorization", { "x-api-key": "", authorization: `Bearer ${CANARY}` }],
      ["x-api-key, twice", { "x-api-key": [CANARY, CANARY] }],
      ["x-api-key, the good key then the canary", { "x-api-key": [TEST_API_KEY, CANARY] }],
      ["x-api-key, one header holding a comma", { "x-api-key": `${CANARY}, ${TEST_API_KEY}` }],
      ["authorization, twice", { authorization: [`Bearer ${CANARY}`, `Bearer ${CANARY}`] }],
      ["authorization, the canary without a scheme, twice", { authorization: [CANARY, CANARY] }],
    ])("a wrong credential in %s (401)", async (_what, headers) => {
      const res = await raw(t.graphqlUrl, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ query: "{ __typename }" }),
      });
      expect(res.status).toBe(401);
      expectRefusedWithoutEcho(res, [TEST_API_KEY, TEST_API_KEY.slice(-16)]);
      expect(JSON.stringify(res.headers)).not.toMatch(/canary|234123412346/i);
      const logged = t.logs.text();
      for (const leak of ["canary", TEST_API_KEY, TEST_API_KEY.slice(-16)]) expect(logged).not.toContain(leak);
      // The refusal was logged (a capture that missed it would pass the checks above).
      expect(t.logs.records().some((r) => r.requestId === res.headers["x-request-id"] && r.refused)).toBe(true);
    });
  });

  describe("HTTP-level refusals carry the request id too", () => {
    it.each<[string, () => Promise<Answer>, number]>([
      ["invalid JSON (400)", () => gql(`{"query": "${CANARY}`), 400],
      ["invalid JSON whose parser message would quote the text (400)", () => gql(`{"query": ${CANARY}}`), 400],
      [
        "JSON with a forbidden __proto__ key (400)",
        () => gql(`{"query": "{ __typename }", "__proto__": {"${CANARY}": 1}}`),
        400,
      ],
      [
        "a body over the limit (413)",
        () => gql({ query: `{ serviceInfo { upstream } } # ${CANARY}${"x".repeat(64 * 1024)}` }),
        413,
      ],
      [
        "an unsupported Content-Type (415)",
        () =>
          raw(t.graphqlUrl, {
            method: "POST",
            headers: { "x-api-key": TEST_API_KEY, "content-type": "application/xml" },
            body: `<q>${CANARY}</q>`,
          }),
        415,
      ],
      [
        "a CSRF-blocked simple request (400)",
        () =>
          raw(t.graphqlUrl, {
            method: "POST",
            headers: { "x-api-key": TEST_API_KEY, "content-type": "text/plain" },
            body: JSON.stringify({ query: `{ ${CANARY} }` }),
          }),
        400,
      ],
      [
        "a mutation over GET (405)",
        () =>
          raw(
            `${t.graphqlUrl}?query=${encodeURIComponent(`mutation ${CANARY} { generateCibilOtp(input: {cibilId: "1", accessToken: "abcd"}) { __typename } }`)}`,
            { headers: { "x-api-key": TEST_API_KEY, "apollo-require-preflight": "1" } },
          ),
        405,
      ],
      ["JSON-array batching (400)", () => gql([{ query: `{ ${CANARY} }` }, { query: `{ ${CANARY} }` }]), 400],
      ["a body without a query (400)", () => gql({ operationName: CANARY }), 400],
      ["a query that is not a string (400)", () => gql({ query: { [CANARY]: 1 } }), 400],
      ["variables that are not an object (400)", () => gql({ query: "{ __typename }", variables: CANARY }), 400],
      [
        "an extensions GET parameter that is not JSON (400)",
        () =>
          raw(`${t.graphqlUrl}?query=${encodeURIComponent("{ __typename }")}&extensions=${CANARY}`, {
            headers: { "x-api-key": TEST_API_KEY, "apollo-require-preflight": "1" },
          }),
        400,
      ],
      ["an unknown path (404)", () => raw(`${t.baseUrl}/${CANARY}?aadhaar=234123412346`), 404],
      [
        "a method /graphql does not take (405)",
        () => raw(`${t.graphqlUrl}?${CANARY}`, { method: "DELETE", headers: { "x-api-key": TEST_API_KEY } }),
        405,
      ],
      ["a malformed URL (400)", () => raw(`${t.baseUrl}/%zz${CANARY}`), 400],
      [
        "a query over the character limit (400)",
        () => gql({ query: `{ serviceInfo { upstream } } #${CANARY}${"x".repeat(15_001)}` }),
        400,
      ],
      [
        "introspection (400)",
        () => gql({ query: `{ __schema { types { name } } } query ${CANARY} { __typename }`, operationName: CANARY }),
        400,
      ],
      [
        "too many aliases (400)",
        () => gql({ query: `{ ${[1, 2, 3, 4].map((i) => `${CANARY}${i}: __typename`).join(" ")} }` }),
        400,
      ],
    ])("%s", async (_what, send, status) => {
      const res = await send();
      expect(res.status).toBe(status);
      expectRefusedWithoutEcho(res);
    });
  });
});

describe("with trusted documents enforced", () => {
  let t: ProductionTestStack;
  beforeAll(async () => {
    t = await startProductionStack({ TRUSTED_DOCUMENTS: "enforce" });
  });
  afterAll(() => t?.stop());

  it("an untrusted document, by text or by id, is refused with the request id and no echo", async () => {
    for (const payload of [
      { query: `{ ${CANARY} }` },
      { extensions: { persistedQuery: { version: 1, sha256Hash: CANARY } } },
    ]) {
      const res = await raw(t.graphqlUrl, { method: "POST", headers: auth, body: JSON.stringify(payload) });
      expect(res.status).toBe(400);
      const errors = expectRefusedWithoutEcho(res);
      expect(errors[0].extensions.code).toBe("UNTRUSTED_DOCUMENT");
    }
    expect(t.simulator.calls()).toBe(0);
  });

  it("a trusted document with an unknown operationName: no echo", async () => {
    const op = TRUSTED_DOCUMENTS.operations.find((o) => o.name === "ServiceInfo");
    expect(
      createHash("sha256")
        .update(op?.body ?? "")
        .digest("hex"),
    ).toBe(op?.id);
    const res = await postGraphQL(
      t.graphqlUrl,
      { query: op?.body, operationName: CANARY },
      { "x-api-key": TEST_API_KEY },
    );
    expect(res.status).toBe(400);
    expect(res.text).not.toContain(CANARY);
  });
});

describe("development keeps helpful messages but never echoes PII-shaped values", () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack({ NODE_ENV: "development" });
  });
  afterAll(() => t?.stop());

  it.each([
    [`{ ${CANARY} }`, /Cannot query field "Zq7canary_XXXX XXXX 2346"/],
    [`{ ...${CANARY} }`, /Unknown fragment/],
    ["mutation { generateCibilOt }", /Did you mean "generateCibilOtp"\?/],
  ])("%s", async (query, helpful) => {
    const res = await t.gql(query);
    expect(res.body.errors?.[0]?.message).toMatch(helpful);
    expect(res.text).not.toContain("234123412346");
  });

  it.each(["mob 95519 01234", "x5783.3163.0123", "uid_234123412346", "+91 98765-43210"])(
    "an unknown operationName %s is named with its digits masked (an audit's spellings)",
    async (name) => {
      const res = await postGraphQL(t.graphqlUrl, {
        query: "query Q { serviceInfo { upstream } }",
        operationName: name,
      });
      expect(res.body.errors?.[0]?.message).toMatch(/^Unknown operation named ".*"\.$/);
      expect(res.text).not.toMatch(/95519|01234|5783|3163|2341234|98765|43210/);
    },
  );

  /**
   * What a reader of `text` would take for digits and letters: NFKC (fullwidth), every decimal digit of any script as
   * its ASCII digit, upper case, nothing but letters and digits: an echo of a value in any spelling shows as the value.
   */
  const asRead = (text: string) =>
    text
      .normalize("NFKC")
      .replace(/\p{Nd}/gu, (d) => String((d.codePointAt(0) ?? 0) - (/[0-9]/.test(d) ? 48 : 0x966)))
      .toUpperCase()
      .replace(/[^0-9A-Z]/g, "");
  const MOBILE = "9876543210";
  const AADHAAR = "234123412346";
  const PAN = "CNRPY7315Q";
  const OTP = "482913";
  // Found by an attack review: each was echoed in clear by a development message (a syntax error's token, a name, a
  // variable's unknown key), in spellings the scrubber and the digit-run mask did not know.
  it.each([
    ["a string token in Devanagari digits", `{ "९८७६५४३२१०" }`, MOBILE],
    ["a string token in fullwidth digits", `{ "２３４１２３４１２３４６" }`, AADHAAR],
    ["a string token split by zero-width spaces", `{ "98765\u200b43210" }`, MOBILE],
    ["a string token with soft hyphens", `{ "2341\u00ad2341\u00ad2346" }`, AADHAAR],
    ["a string token holding an OTP", `{ "${OTP}" }`, OTP],
    ["an Int token holding an OTP", `{ ${OTP} }`, OTP],
    ["a PAN in lower case in a string token", `{ "cnrpy7315q" }`, PAN],
    ["a PAN in fullwidth letters", `{ "ＣＮＲＰＹ７３１５Ｑ" }`, PAN],
    ["a name with underscores between the digits", "{ x98765_43210 }", MOBILE],
    ["a name with an Aadhaar number in groups", "{ uid_2341_2341_2346 }", AADHAAR],
    ["a name with a PAN glued to it", "{ panCNRPY7315Q }", PAN],
    ["a name with a PAN in lower case", "{ x_cnrpy7315q }", PAN],
  ])("%s is not echoed: %s", async (_name, query, value) => {
    const res = await t.gql(query);
    expect(res.status).toBe(400);
    const messages = (res.body.errors ?? []).map((e) => e.message);
    expect(messages.length).toBeGreaterThan(0);
    for (const message of messages) expect(asRead(message)).not.toContain(value);
  });

  it.each([
    ["Devanagari digits", "९८७६५४३२१०", MOBILE],
    ["fullwidth digits", "９８７６５４３２１０", MOBILE],
    ["a zero-width joiner", "98765\u200d43210", MOBILE],
    ["slashes", "2341/2341/2346", AADHAAR],
    ["a control character", "98765\u000143210", MOBILE],
    ["a fullwidth PAN", "ＣＮＲＰＹ７３１５Ｑ", PAN],
  ])("a variable's unknown key in %s is not echoed", async (_name, key, value) => {
    const res = await t.gql("mutation($input: ResendAepsOtpInput!) { resendAepsOtp(input: $input) { __typename } }", {
      input: { userKey: "k", mobile: MOBILE, aadhaar: AADHAAR, primaryKeyId: "p", encodeTxnId: "e", [key]: 1 },
    });
    expect(res.status).toBe(400);
    const messages = (res.body.errors ?? []).map((e) => e.message);
    expect(messages.join("\n")).toMatch(/is not defined by type/);
    for (const message of messages) expect(asRead(message)).not.toContain(value);
  });

  /**
   * asRead, and before it what a reader decodes on sight: percent-escapes, JSON's `\u0039` and HTML's `&#x39;`; after
   * it, every character that is not a letter or a digit dropped, so any separator between the digits reads through.
   */
  const decoded = (text: string) => {
    let out = text;
    for (let i = 0; i < 3; i++)
      out = out.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => Buffer.from(run.replaceAll("%", ""), "hex").toString("utf8"));
    return asRead(
      out
        .replace(/\\u([0-9a-fA-F]{4})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)))
        .replace(/&#x([0-9a-fA-F]+);?/g, (_m, h: string) => String.fromCodePoint(parseInt(h, 16)))
        .replace(/&#([0-9]+);?/g, (_m, d: string) => String.fromCodePoint(Number(d))),
    );
  };
  // Found by a second attack review: each was named whole in a development message, as the operation name or a
  // variable's unknown key (both any string the client sends), where the digit-run mask knew neither the separator nor
  // the escape.
  const SPELLED: [string, string, string][] = [
    ["an en dash", "98765\u201343210", MOBILE],
    ["a minus sign", "98765\u221243210", MOBILE],
    ["middle dots", "2341\u00b72341\u00b72346", AADHAAR],
    ["katakana middle dots", "2341\u30fb2341\u30fb2346", AADHAAR],
    ["apostrophes", "2341'2341'2346", AADHAAR],
    ["asterisks", "98765*43210", MOBILE],
    ["hashes", "98765#43210", MOBILE],
    ["bars", "987|654|3210", MOBILE],
    ["tildes", "98765~43210", MOBILE],
    ["equals signs", "987=654=3210", MOBILE],
    ["semicolons", "98765;43210", MOBILE],
    ["percent-escapes", "98765%2043210", MOBILE],
    ["percent-escaped digits", [...MOBILE].map((d) => `%3${d}`).join(""), MOBILE],
    ["JSON escapes", [...MOBILE].map((d) => `\\\\u003${d}`).join(""), MOBILE],
    ["HTML character references", [...MOBILE].map((d) => `&#x3${d};`).join(""), MOBILE],
    ["decimal HTML character references", [...MOBILE].map((d) => `&#${48 + Number(d)};`).join(""), MOBILE],
  ].map(([name, text, value]) => [name, JSON.parse(`"${text}"`) as string, value]);

  it.each(SPELLED)("an unknown operationName with %s is not echoed", async (_name, name, value) => {
    const res = await postGraphQL(t.graphqlUrl, { query: "query Q { serviceInfo { upstream } }", operationName: name });
    expect(res.body.errors?.[0]?.message).toMatch(/^Unknown operation named ".*"\.$/);
    expect(decoded(res.text)).not.toContain(value);
  });

  it.each(SPELLED)("a variable's unknown key with %s is not echoed", async (_name, key, value) => {
    const res = await t.gql("mutation($input: ResendAepsOtpInput!) { resendAepsOtp(input: $input) { __typename } }", {
      input: { userKey: "k", mobile: MOBILE, aadhaar: AADHAAR, primaryKeyId: "p", encodeTxnId: "e", [key]: 1 },
    });
    expect(res.status).toBe(400);
    const messages = (res.body.errors ?? []).map((e) => e.message);
    expect(messages.join("\n")).toMatch(/is not defined by type/);
    for (const message of messages) expect(decoded(message)).not.toContain(value);
  });

  it("a syntax error still names the kind of token it stopped at, and a name as written", async () => {
    expect((await t.gql(`{ "${OTP}" }`)).body.errors?.[0]?.message).toBe("Syntax Error: Expected Name, found String.");
    expect((await t.gql("{ serviceInfo { upstream } ]")).body.errors?.[0]?.message).toBe(
      'Syntax Error: Expected Name, found "]".',
    );
    expect((await t.gql("query Q x { serviceInfo { upstream } }")).body.errors?.[0]?.message).toBe(
      'Syntax Error: Expected "{", found Name "x".',
    );
  });

  it("a 30 kB operationName is shortened", async () => {
    const res = await postGraphQL(t.graphqlUrl, {
      query: "query A { serviceInfo { upstream } } query B { serviceInfo { upstream } }",
      operationName: "N".repeat(30_000),
    });
    expect(res.body.errors?.[0]?.message).toMatch(/^Unknown operation named "N{65}…"\.$/);
    expect(res.text.length).toBeLessThan(400);
  });
});
