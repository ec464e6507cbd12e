import { createHash } from "node:crypto";
import { getIntrospectionQuery } from "graphql";
import { request } from "undici";
import { DEFAULT_GRAPHQL_LIMITS } from "../../src/config";
import { aepsInput, RESEND_AEPS_OTP } from "../helpers/operations";
import {
  postGraphQL,
  productionStackSendingNothing,
  startTestStack,
  type TestStack,
  TEST_API_KEY,
} from "../helpers/stack";

/**
 * CPU before refusal, from the outside (docs/security.md "CPU before refusal"): documents within every limit whose
 * validation costs far more than their size, because graphql-js's OverlappingFieldsCanBeMergedRule compares the
 * selections of one response name pairwise, and our once-per-document rule walked a fragment again at each spread.
 * Before: `{ __typename x496 }` was answered 200 after 6 ms of validation, and a chain of 20 fragments each spreading
 * the next twice took 0.46 s (48 links, within the token limit, never ended). Now each is refused before validation
 * with one fixed error; the work counts themselves are asserted in test/unit/graphql/document-shape.test.ts and
 * test/unit/graphql/limits.test.ts (never timings: the machine is shared).
 */
const T = DEFAULT_GRAPHQL_LIMITS.maxTokens;
const list = (n: number, item: (i: number) => string) => Array.from({ length: n }, (_, i) => item(i)).join(" ");

/** Each as large as the token limit allows. */
const SHAPES: Array<[string, string]> = [
  ["one field repeated in one set", `{ ${"__typename ".repeat(T - 2)}}`],
  ["a leaf repeated in an object's set", `{ serviceInfo { ${"upstream ".repeat(T - 5)}} }`],
  ["an object field repeated", `{ ${"serviceInfo { upstream } ".repeat(Math.floor((T - 2) / 4))}}`],
  ["inline fragments selecting one field", `{ ${"... on Query { __typename } ".repeat(Math.floor((T - 2) / 6))}}`],
  [
    "one fragment spread again and again",
    `{ ${"...F ".repeat(Math.floor((T - 9) / 2))}} fragment F on Query { __typename }`,
  ],
  [
    "fragments selecting one field",
    `{ ${list(Math.floor(T / 9), (i) => `...F${i}`)} } ${list(Math.floor(T / 9), (i) => `fragment F${i} on Query { __typename }`)}`,
  ],
  [
    "an object field repeated 12 times, each selecting a leaf 16 times (192 merged)",
    `{ ${`serviceInfo { ${"upstream ".repeat(DEFAULT_GRAPHQL_LIMITS.maxFieldRepeats)}} `.repeat(12)}}`,
  ],
  [
    "a chain of 20 mutation fragments, each spreading the next twice",
    `mutation { ...F0 } ${list(20, (i) => `fragment F${i} on Mutation { ...F${i + 1} ...F${i + 1} }`)} fragment F20 on Mutation { __typename }`,
  ],
];

const PRODUCTION_REFUSAL = [{ message: "A field is selected too many times.", code: "GRAPHQL_VALIDATION_FAILED" }];
const errorsOf = (body: { errors?: Array<{ message: string; extensions?: Record<string, unknown> }> }) =>
  (body.errors ?? []).map((e) => ({ message: e.message, code: e.extensions?.code }));

describe("CPU before refusal, production settings", () => {
  const s = productionStackSendingNothing();
  const auth = { "x-api-key": TEST_API_KEY };

  it.each(SHAPES)("%s: one fixed GRAPHQL_VALIDATION_FAILED, before validation", async (_name, query) => {
    const res = await postGraphQL(s.t.graphqlUrl, { query }, auth);
    expect(res.status).toBe(400);
    expect(errorsOf(res.body)).toEqual(PRODUCTION_REFUSAL);
  });

  it("refused the same way by GET, and when registered as an automatic persisted query", async () => {
    const [, query] = SHAPES[0];
    const get = await request(`${s.t.graphqlUrl}?query=${encodeURIComponent(query)}`, {
      headers: { ...auth, "apollo-require-preflight": "true" },
    });
    expect(get.statusCode).toBe(400);
    expect(errorsOf((await get.body.json()) as { errors?: [] })).toEqual(PRODUCTION_REFUSAL);
    const sha256Hash = createHash("sha256").update(query).digest("hex");
    const apq = await postGraphQL(
      s.t.graphqlUrl,
      { query, extensions: { persistedQuery: { version: 1, sha256Hash } } },
      auth,
    );
    expect(apq.status).toBe(400);
    expect(errorsOf(apq.body)).toEqual(PRODUCTION_REFUSAL);
  });

  it("without credentials the document is never read: 401, whatever it is", async () => {
    const res = await postGraphQL(s.t.graphqlUrl, { query: SHAPES[7][1] }, {});
    expect(res.status).toBe(401);
    expect(errorsOf(res.body)).toEqual([expect.objectContaining({ code: "UNAUTHENTICATED" })]);
  });

  it("a name selected up to the cap passes, and the next one is refused", async () => {
    const at = (n: number) => `{ serviceInfo { ${"upstream ".repeat(n)}} }`;
    const ok = await postGraphQL(s.t.graphqlUrl, { query: at(DEFAULT_GRAPHQL_LIMITS.maxFieldRepeats) }, auth);
    expect(ok.body).toEqual({ data: { serviceInfo: { upstream: "LIVE" } } });
    const over = await postGraphQL(s.t.graphqlUrl, { query: at(DEFAULT_GRAPHQL_LIMITS.maxFieldRepeats + 1) }, auth);
    expect(errorsOf(over.body)).toEqual(PRODUCTION_REFUSAL);
  });
});

describe("CPU before refusal, development settings (anonymous)", () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it.each(SHAPES)("%s: refused, the message naming the limit, never the field", async (_name, query) => {
    const res = await postGraphQL(t.graphqlUrl, { query });
    expect(res.status).toBe(400);
    expect(errorsOf(res.body)).toEqual([
      {
        message: `A field is selected more than ${DEFAULT_GRAPHQL_LIMITS.maxFieldRepeats} times in one selection set, fragments included (GRAPHQL_MAX_FIELD_REPEATS).`,
        code: "GRAPHQL_VALIDATION_FAILED",
      },
    ]);
  });

  it("the introspection query with every option (Sandbox's and GraphiQL's, 184 tokens) still runs", async () => {
    const query = getIntrospectionQuery({
      descriptions: true,
      specifiedByUrl: true,
      directiveIsRepeatable: true,
      schemaDescription: true,
      inputValueDeprecation: true,
      oneOf: true,
    });
    const res = await postGraphQL<{ __schema: { types: unknown[] } }>(t.graphqlUrl, { query });
    expect(res.status).toBe(200);
    expect(res.body.data?.__schema.types.length).toBeGreaterThan(10);
  });

  it("our own operations still run", async () => {
    const res = await t.gql(RESEND_AEPS_OTP, aepsInput("9876543101"));
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
  });
});
