import { request } from "undici";
import { DEFAULT_GRAPHQL_LIMITS } from "../../src/config";
import { MAX_ERROR_LOCATIONS } from "../../src/graphql/plugins/error-format";
import { registrationInput } from "../helpers/identifiers";
import { GENERATE_CIBIL_OTP, REGISTER_CIBIL_CUSTOMER, resultOf, rightAnswer } from "../helpers/operations";
import { productionStackSendingNothing, startTestStack, type TestStack, TEST_API_KEY } from "../helpers/stack";

/**
 * Amplification, from the outside: what a small or cheap request buys in answer bytes and log lines (docs/security.md
 * "Bounded answers"). Sizes, counts and ratios are asserted, never timings. Before these bounds, `{a a a ...}` (216
 * bytes) got 101 errors, 16.9 kB (78x); `f(a:1 a:1 ...)` one error with 160 locations; a variable with 1,500 unknown
 * keys 51 errors, the last one INTERNAL_SERVER_ERROR, and a 2.2 kB error line with a stack in the log.
 */
const MAX_ERRORS = DEFAULT_GRAPHQL_LIMITS.maxErrors + 1; // graphql-js adds one saying it stopped
/**
 * The largest answer an invalid request may get: MAX_ERRORS errors of about 230 bytes (code, request id, locations);
 * in development graphql-js's own messages are longer (names in them are cut at 65 characters).
 */
const MAX_ANSWER_BYTES = { production: 2_600, development: 3_500 };
/** The access line (method, path, status, client, request id, result, duration): about 280 bytes. */
const MAX_LOG_BYTES = 400;

interface Measured {
  status: number;
  bytesIn: number;
  bytesOut: number;
  errors: Array<{ message: string; locations?: unknown[]; extensions?: { code?: string } }>;
  logLines: Array<Record<string, unknown>>;
  logBytes: number;
}

async function measure(t: TestStack, payload: unknown, headers: Record<string, string>): Promise<Measured> {
  const body = JSON.stringify(payload);
  t.logs.clear();
  const res = await request(t.graphqlUrl, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
  const text = await res.body.text();
  // The access line is written when the response has been sent: wait for it rather than for a fixed time.
  for (let i = 0; i < 100 && !t.logs.records().some((r) => r.msg === "request completed"); i++)
    await new Promise((r) => setTimeout(r, 10));
  const parsed = JSON.parse(text) as { errors?: Measured["errors"] };
  return {
    status: res.statusCode,
    bytesIn: Buffer.byteLength(body),
    bytesOut: Buffer.byteLength(text),
    errors: parsed.errors ?? [],
    logLines: t.logs.records(),
    logBytes: Buffer.byteLength(t.logs.raw()),
  };
}

const list = (n: number, item: (i: number) => string) => Array.from({ length: n }, (_, i) => item(i)).join(" ");

const TOKENS = DEFAULT_GRAPHQL_LIMITS.maxTokens;
const REPEATS = DEFAULT_GRAPHQL_LIMITS.maxFieldRepeats;

/**
 * Invalid documents within every document limit (8,000 characters, 250 tokens, 3 aliases, depth 6, a response name at
 * most 16 times in a set), each as large as they allow. With the 500 tokens of the audit: `{a a a ...}` (101 and 490
 * times), 150 unknown arguments, one repeated 160 times, 120 selections on a scalar, 120 unused variables, a cycle of
 * 55 fragments; the same name repeated past 16 is now refused before validation (test/e2e/validation-cost.test.ts).
 */
const INVALID_DOCUMENTS: Array<[string, string]> = [
  ["101 distinct unknown fields", `{${list(101, (i) => `a${i}`)}}`],
  ["unknown fields up to the token limit", `{ ${list(TOKENS - 2, (i) => `a${i}`)} }`],
  ["unknown arguments", `{ serviceInfo(${list(Math.floor((TOKENS - 8) / 3), (i) => `a${i}: 1`)}) { upstream } }`],
  ["one argument repeated", `{ serviceInfo(${"a:1 ".repeat(Math.floor((TOKENS - 8) / 3))}) { upstream } }`],
  ["selections on a scalar", `{ serviceInfo { ${list(REPEATS, (i) => `upstream { a${i} }`)} } }`],
  [
    "unused variables",
    `query(${list(Math.floor((TOKENS - 8) / 4), (i) => `$v${i}: Int`)}) { serviceInfo { upstream } }`,
  ],
  [
    "a cycle of fragments",
    `{ ...F0 } ${list(Math.floor((TOKENS - 4) / 10), (i) => `fragment F${i} on Query { ...F${(i + 1) % Math.floor((TOKENS - 4) / 10)} }`)}`,
  ],
  ["unknown fields under a mutation", `mutation { ${list(REPEATS, (i) => `generateCibilOtp { a${i} }`)} }`],
];

/** A GenerateCibilOtp whose input has 1,500 unknown keys (14 kB, under the 32 KiB body limit). */
const manyKeys = () => ({
  query: GENERATE_CIBIL_OTP,
  variables: { input: Object.fromEntries(Array.from({ length: 1500 }, (_, i) => [`k${i}`, 1])) },
});

/**
 * Explicit nulls where a variable's default let it into a non-null argument (validation allows it: the spec's
 * VariablesInAllowedPosition), for a directive, a field, a mutation's input and an input field: graphql-js refuses them
 * while executing, with no code.
 */
const NULL_ARGUMENTS: Array<[string, { query: string; variables: Record<string, null> }]> = [
  [
    "@skip(if:)",
    { query: "query($v: Boolean = true) { serviceInfo @skip(if: $v) { upstream } }", variables: { v: null } },
  ],
  [
    "a query's argument",
    {
      query: 'query($id: String = "102277100") { cibilCreditHistory(cibilId: $id) { __typename } }',
      variables: { id: null },
    },
  ],
  [
    "a mutation's input",
    {
      query:
        'mutation($i: GenerateCibilOtpInput = {cibilId: "1", accessToken: "a"}) { generateCibilOtp(input: $i) { __typename } }',
      variables: { i: null },
    },
  ],
  [
    "an input field",
    {
      query:
        'mutation($c: String = "1") { generateCibilOtp(input: {cibilId: $c, accessToken: "234123412346"}) { __typename } }',
      variables: { c: null },
    },
  ],
];

/** A field error (HTTP 200, `data` null): BAD_USER_INPUT, nothing logged but the access line, nothing sent. */
function expectNullArgumentRefused(m: Measured) {
  expect(m.status).toBe(200);
  expect(m.errors).toHaveLength(1);
  expect(m.errors[0].extensions?.code).toBe("BAD_USER_INPUT");
  expect(m.logLines.map((l) => l.msg)).toEqual(["request completed"]);
  expect(m.logBytes).toBeLessThanOrEqual(MAX_LOG_BYTES);
}

function expectBounded(m: Measured, code: string, env: keyof typeof MAX_ANSWER_BYTES = "production") {
  expect(m.status).toBe(400);
  expect(m.errors.length).toBeGreaterThan(0);
  expect(m.errors.length).toBeLessThanOrEqual(MAX_ERRORS);
  for (const error of m.errors) {
    expect(error.extensions?.code).toBe(code);
    expect(error.locations?.length ?? 0).toBeLessThanOrEqual(MAX_ERROR_LOCATIONS);
  }
  expect(m.bytesOut).toBeLessThanOrEqual(MAX_ANSWER_BYTES[env]);
  // One line per request, the access line, at debug: nothing at error for a client's mistake.
  expect(m.logLines.map((l) => l.msg)).toEqual(["request completed"]);
  expect(m.logBytes).toBeLessThanOrEqual(MAX_LOG_BYTES);
}

describe("amplification, production settings (logs at debug)", () => {
  const s = productionStackSendingNothing();
  const auth = { "x-api-key": TEST_API_KEY };

  it.each(INVALID_DOCUMENTS)("%s: a bounded list of GRAPHQL_VALIDATION_FAILED errors", async (_name, query) => {
    const m = await measure(s.t, { query }, auth);
    expectBounded(m, "GRAPHQL_VALIDATION_FAILED");
  });

  it("an operation type the schema lacks is a validation error, not an unexpected one logged with its stack", async () => {
    const m = await measure(s.t, { query: "subscription { a }" }, auth);
    expectBounded(m, "GRAPHQL_VALIDATION_FAILED");
    expect(m.errors).toEqual([
      expect.objectContaining({ message: "The subscription operation is not supported by the schema." }),
    ]);
  });

  it.each(NULL_ARGUMENTS)(
    "null for %s: BAD_USER_INPUT, not an unexpected error logged with its stack",
    async (_name, payload) => {
      const m = await measure(s.t, payload, auth);
      expectNullArgumentRefused(m);
      expect(m.errors[0].message).toBe("Invalid input: an argument has an invalid value.");
    },
  );

  it("the answer to a small invalid document is at most 10 times its size (it was 78 times)", async () => {
    // 101 distinct names (`{a a a ...}`, 216 bytes, is refused by the repeat cap now, with one error).
    const m = await measure(s.t, { query: INVALID_DOCUMENTS[0][1] }, auth);
    expect(m.bytesIn).toBeLessThan(500);
    expect(m.bytesOut).toBeLessThanOrEqual(10 * m.bytesIn);
    expect(m.errors.at(-1)?.message).toBe("Too many validation errors: the rest were not looked for.");
    expect(m.errors.slice(0, -1).every((e) => e.message === "Unknown field.")).toBe(true);
  });

  it("1,500 unknown input keys: a bounded list of BAD_USER_INPUT errors, the last one saying it stopped", async () => {
    // Twice: the second request goes through the fast path first (the document was accepted by the first), which hands
    // it back to Apollo since no resolver ran (fast-path.ts).
    for (let i = 0; i < 2; i++) {
      const m = await measure(s.t, manyKeys(), auth);
      expectBounded(m, "BAD_USER_INPUT");
      expect(m.errors.length).toBe(MAX_ERRORS);
      expect(m.errors.at(-1)?.message).toBe("Invalid input: too many errors, the rest were not looked for.");
      expect(m.bytesOut).toBeLessThan(m.bytesIn / 5);
    }
  });

  it("credit reports refused for want of consent: the access line says so, no line of their own", async () => {
    // Three ids (the alias limit), none verified by this client: a request anyone can repeat at will.
    const read = (alias: string, id: string) => `${alias}: cibilCreditHistory(cibilId: "${id}") { __typename }`;
    const query = `{ ${read("a", "102277101")} ${read("b", "102277102")} ${read("c", "102277103")} }`;
    const m = await measure(s.t, { query }, auth);
    expect(m.status).toBe(200);
    expect(m.logLines).toHaveLength(1);
    expect(m.logLines[0]).toMatchObject({
      msg: "request completed",
      result: "CONSENT_REQUIRED,CONSENT_REQUIRED,CONSENT_REQUIRED",
    });
    expect(m.logBytes).toBeLessThanOrEqual(MAX_LOG_BYTES);
  });

  it("many, long or odd headers add nothing to the answer or to the log line", async () => {
    const query = { query: "{ serviceInfo { upstream } }" };
    const plain = await measure(s.t, query, auth);
    for (const headers of [
      Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`x-h${i}`, "v".repeat(50)])),
      { cookie: `a=${"b".repeat(15_000)}` },
      { "user-agent": "u".repeat(15_000) },
      { "x-request-id": "r".repeat(15_000) },
      { traceparent: `00-${"a".repeat(15_000)}` },
    ]) {
      const m = await measure(s.t, query, { ...auth, ...headers });
      expect(m.status).toBe(200);
      expect(m.bytesOut).toBe(plain.bytesOut);
      expect(m.logLines).toHaveLength(1);
      expect(m.logBytes).toBeLessThanOrEqual(plain.logBytes + 10);
    }
  });
});

describe("amplification, development settings", () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it.each(INVALID_DOCUMENTS)("%s: the same bounds with graphql-js's own messages", async (_name, query) => {
    expectBounded(await measure(t, { query }, {}), "GRAPHQL_VALIDATION_FAILED", "development");
  });

  it.each(NULL_ARGUMENTS)(
    "null for %s: BAD_USER_INPUT, graphql-js's message without the value",
    async (_name, payload) => {
      const m = await measure(t, payload, {});
      expectNullArgumentRefused(m);
      expect(m.errors[0].message).toMatch(/^Argument "(if|cibilId|input)" /);
      expect(m.errors[0].message).not.toContain("234123412346");
    },
  );

  it("1,500 unknown input keys: the same bounds", async () => {
    const m = await measure(t, manyKeys(), {});
    expectBounded(m, "BAD_USER_INPUT", "development");
    expect(m.errors.at(-1)?.message).toBe(
      "Too many errors processing variables, error limit reached. Execution aborted.",
    );
  });
});

describe("calls to AOPay per request", () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it("one credit-report read per CIBIL id, however many times a request asks for it", async () => {
    const reg = resultOf(
      (await t.gql(REGISTER_CIBIL_CUSTOMER, { input: registrationInput() })).body,
      "registerCibilCustomer",
    );
    const { cibilId, accessToken } = reg as unknown as { cibilId: string; accessToken: string };
    const challenge = resultOf(
      (await t.gql(GENERATE_CIBIL_OTP, { input: { cibilId, accessToken } })).body,
      "generateCibilOtp",
    );
    const input = rightAnswer(cibilId, accessToken, challenge);
    t.simulator?.resetCalls();

    // The verification's own history, selected three times (aliases and a fragment), is one read.
    const history = "... on CibilCreditHistory { cibilId }";
    const submit = await t.gql(
      `mutation($input: SubmitCibilOtpInput!) { submitCibilOtp(input: $input) { ... on CibilOtpVerified {
        a: creditHistory { ${history} } b: creditHistory { ${history} } ...H } } }
       fragment H on CibilOtpVerified { creditHistory { ${history} } }`,
      { input },
    );
    expect(resultOf(submit.body, "submitCibilOtp")).toMatchObject({
      a: { cibilId },
      b: { cibilId },
      creditHistory: { cibilId },
    });
    expect(t.simulator?.calls("cibil.submitOtp")).toBe(1);
    expect(t.simulator?.calls("cibil.creditHistory")).toBe(1);

    // The query three times by alias (the alias limit), one id: one read.
    t.simulator?.resetCalls();
    const read = (alias: string) => `${alias}: cibilCreditHistory(cibilId: $id) { ${history} }`;
    const res = await t.gql(`query($id: String!) { ${read("a")} ${read("b")} ${read("c")} }`, { id: cibilId });
    expect(res.body.data).toEqual({ a: { cibilId }, b: { cibilId }, c: { cibilId } });
    expect(t.simulator?.calls()).toBe(1);
  });
});
