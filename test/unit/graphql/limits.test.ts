import { readFileSync } from "node:fs";
import { join } from "node:path";
import { InMemoryCache } from "@apollo/client";
import { buildSchema, type DocumentNode, parse, print, validate } from "graphql";
import * as generated from "../../../client/src/generated/graphql";
import { DEFAULT_GRAPHQL_LIMITS } from "../../../src/config";
import { TRUSTED_DOCUMENTS } from "../../../src/generated/trusted-documents";
import { GUARDED_MUTATION_NAMES } from "../../../src/graphql/guarded-mutations";
import { limitRules, oncePerDocumentRule } from "../../../src/graphql/limits";
import { countedDocument } from "../../helpers/counted-document";

const schema = buildSchema(readFileSync(join(__dirname, "../../../schema/schema.graphql"), "utf8"));
const errorsOf = (doc: string, production = false) =>
  validate(schema, parse(doc), limitRules(DEFAULT_GRAPHQL_LIMITS, production)).map((e) => e.message);

const SEND = 'generateCibilOtp(input: {cibilId: "1", accessToken: "abcd"}) { __typename }';
const RESEND =
  'resendAepsOtp(input: {userKey: "k", mobile: "9876543210", aadhaar: "234123412346", primaryKeyId: "p", encodeTxnId: "e"}) { __typename }';

describe("each guarded mutation at most once per document (docs/security-requirements.md A2)", () => {
  it("allows one send, and one of each mutation", () => {
    expect(errorsOf(`mutation { ${SEND} }`)).toEqual([]);
    expect(errorsOf(`mutation { ${SEND} ${RESEND} }`)).toEqual([]);
  });

  it.each([
    ["aliases", `mutation { a: ${SEND} b: ${SEND} }`],
    ["an alias and the plain field", `mutation { ${SEND} b: ${SEND} }`],
    ["a fragment spread twice", `mutation { ...F ...F } fragment F on Mutation { ${SEND} }`],
    [
      "two fragments",
      `mutation { ...F ...G } fragment F on Mutation { ${SEND} } fragment G on Mutation { x: ${SEND} }`,
    ],
    [
      "nested fragments",
      `mutation { ...F } fragment F on Mutation { ${SEND} ...G } fragment G on Mutation { y: ${SEND} }`,
    ],
    ["an inline fragment", `mutation { ${SEND} ... on Mutation { z: ${SEND} } }`],
    ["two operations", `mutation A { ${SEND} } mutation B { ${SEND} }`],
  ])("rejects a second generateCibilOtp via %s", (_how, doc) => {
    expect(errorsOf(doc)).toContainEqual(expect.stringMatching(/^generateCibilOtp may appear only once per request/));
  });

  it("counts each fragment once however often it is spread (a chain of 20 fragments spread twice each: 2^20 paths)", () => {
    // The rule read a fragment's selections again at every spread: 2^20 reads here (0.46 s of CPU), and a chain of
    // 48 links (within the token limit of the time) would never have ended. A document whose selection sets count every
    // read.
    const links = Array.from({ length: 20 }, (_, i) => `fragment F${i} on Mutation { ...F${i + 1} ...F${i + 1} }`);
    const doc = `mutation { ...F0 } ${links.join(" ")} fragment F20 on Mutation { ${SEND} }`;
    const { document, reads } = countedDocument(parse(doc, { noLocation: true }));
    const errors = validate(schema, document, [oncePerDocumentRule(GUARDED_MUTATION_NAMES)]).map((e) => e.message);
    expect(errors).toEqual([
      `generateCibilOtp may appear only once per request (found ${2 ** 20}): one OTP per request.`,
    ]);
    // Linear: a couple of reads for each of the 23 selection sets (validate's own visit reads some), not 2^20.
    expect(reads()).toBeLessThanOrEqual(2 * 23);
  });

  it("rejects a second resendAepsOtp too", () => {
    expect(errorsOf(`mutation { a: ${RESEND} b: ${RESEND} }`)).toContainEqual(
      expect.stringMatching(/^resendAepsOtp may appear only once/),
    );
  });
});

/** A document's text passes every default limit: parsed within the token limit, no rule reporting, within the size. */
function expectWithinDefaultLimits(body: string): void {
  expect(
    validate(
      schema,
      parse(body, { maxTokens: DEFAULT_GRAPHQL_LIMITS.maxTokens }),
      limitRules(DEFAULT_GRAPHQL_LIMITS, false),
    ),
  ).toEqual([]);
  expect(body.length).toBeLessThanOrEqual(DEFAULT_GRAPHQL_LIMITS.maxQueryChars);
}

describe("every client operation passes every default limit (a new operation must not be refused by our own server)", () => {
  // As the SDK sends it: the trusted-document text (Apollo Client with createTrustedDocumentLink sends its id).
  const operations = TRUSTED_DOCUMENTS.operations;

  it("has operations to check", () => {
    expect(operations.length).toBeGreaterThanOrEqual(7);
  });

  it.each(operations.map((op) => [op.name, op.body] as const))("%s", (_name, body) => {
    expectWithinDefaultLimits(body);
  });
});

/**
 * As Apollo Client 4 sends the generated documents over a plain HttpLink (no createTrustedDocumentLink, which
 * TRUSTED_DOCUMENTS=off allows): its cache adds `__typename` to every selection set, inline fragments included, so
 * its text is not the trusted one and costs more. SubmitCibilOtp cost 1,101 there, over the 1,000 the limit was: the
 * server refused it (GRAPHQL_VALIDATION_FAILED), and the CIBIL flow could not be completed (the line above said
 * Apollo's additions matched the trusted text; they do not).
 */
describe("every client operation as Apollo Client 4 prints it passes every default limit", () => {
  const cache = new InMemoryCache();
  const documents = Object.entries(generated).filter(([name]) => name.endsWith("Document"));

  it("has every operation of the trusted list", () => {
    expect(documents.map(([name]) => name.replace(/Document$/, "")).sort()).toEqual(
      [...new Set(TRUSTED_DOCUMENTS.operations.map((op) => op.name))].sort(),
    );
  });

  it.each(documents)("%s", (_name, document) => {
    const body = print(cache.transformDocument(document as DocumentNode));
    expectWithinDefaultLimits(body);
  });
});

describe("Armor limits (docs/security-requirements.md A3)", () => {
  const aliases = (n: number) =>
    `{ ${Array.from({ length: n }, (_, i) => `a${i}: serviceInfo { upstream }`).join(" ")} }`;

  it("caps aliases overall, stating the limit in development only", () => {
    expect(errorsOf(aliases(DEFAULT_GRAPHQL_LIMITS.maxAliases))).toEqual([]);
    expect(errorsOf(aliases(DEFAULT_GRAPHQL_LIMITS.maxAliases + 1))).toEqual([
      expect.stringMatching(/Aliases limit of 3 exceeded/),
    ]);
    expect(errorsOf(aliases(DEFAULT_GRAPHQL_LIMITS.maxAliases + 1), true)).toEqual(["Too many aliases."]);
  });

  it.each([
    [
      "aliases of __typename",
      (n: number) => `{ ${Array.from({ length: n }, (_, i) => `t${i}: __typename`).join(" ")} }`,
    ],
    [
      "fields aliased as __typename",
      (n: number) => `{ ${Array.from({ length: n }, () => "__typename: serviceInfo { upstream }").join(" ")} }`,
    ],
    [
      "__typename aliases nested in a fragment",
      (n: number) =>
        `{ serviceInfo { ...F } } fragment F on ServiceInfo { ${Array.from({ length: n }, (_, i) => `t${i}: __typename`).join(" ")} }`,
    ],
  ])("counts %s like any alias (Armor's default allow-list exempts them)", (_what, doc) => {
    expect(errorsOf(doc(DEFAULT_GRAPHQL_LIMITS.maxAliases))).toEqual([]);
    expect(errorsOf(doc(DEFAULT_GRAPHQL_LIMITS.maxAliases + 1), true)).toEqual(["Too many aliases."]);
    expect(errorsOf(doc(160), true)).toEqual(["Too many aliases."]);
  });

  it("exempts introspection from depth and cost in development only", () => {
    const deep = "{ __schema { types { fields { type { ofType { ofType { ofType { name } } } } } } } }";
    expect(errorsOf(deep, false)).toEqual([]);
    expect(errorsOf(deep, true)).toEqual(["Query is too deep."]);
  });

  it("caps depth, not counting fragment levels", () => {
    // The schema is shallow, so depth is exercised on introspection-shaped nesting through __type (not exempt).
    const nested = `{ __type(name: "Query") { fields { type { ofType { ofType { ofType { name } } } } } } }`;
    expect(errorsOf(nested)).toEqual([expect.stringMatching(/Query depth limit of 6 exceeded/)]);
    expect(errorsOf(nested, true)).toEqual(["Query is too deep."]);
  });

  it("caps directives", () => {
    const doc = `{ serviceInfo { upstream ${Array.from({ length: 11 }, () => "@include(if: true)").join(" ")} } }`;
    expect(errorsOf(doc, true)).toEqual(["Too many directives."]);
  });

  it("caps cost", () => {
    // Identical unaliased selections merge at execution but each one is parsed, validated and costed.
    const doc = `{ __type(name: "Query") { ${Array.from({ length: 200 }, () => "fields { name type { name kind } }").join(" ")} } }`;
    expect(errorsOf(doc, true)).toEqual(["Query is too complex."]);
  });
});

describe("operation types the schema lacks (the spec's Operation Type Existence; graphql-js 16 lacks the rule)", () => {
  it("refuses a subscription, with a message naming only the operation type, in every environment", () => {
    for (const production of [false, true]) {
      expect(errorsOf("subscription { a }", production)).toEqual([
        "The subscription operation is not supported by the schema.",
      ]);
      expect(errorsOf("subscription S { a } query { serviceInfo { upstream } }", production)).toEqual([
        "The subscription operation is not supported by the schema.",
      ]);
    }
  });

  it("lets queries and mutations through", () => {
    expect(errorsOf("{ serviceInfo { upstream } }")).toEqual([]);
    expect(errorsOf(`mutation { ${SEND} }`)).toEqual([]);
  });
});
