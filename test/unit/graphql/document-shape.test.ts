import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  buildSchema,
  type DocumentNode,
  getIntrospectionQuery,
  parse,
  specifiedRules,
  validate,
  type ValidationRule,
} from "graphql";
import { DEFAULT_GRAPHQL_LIMITS } from "../../../src/config";
import { TRUSTED_DOCUMENTS } from "../../../src/generated/trusted-documents";
import { maxRepeatedSelections } from "../../../src/graphql/document-shape";
import { documentShape, limitRules } from "../../../src/graphql/limits";
import { countedDocument as counted } from "../../helpers/counted-document";

const schema = buildSchema(readFileSync(join(__dirname, "../../../schema/schema.graphql"), "utf8"));
const CAP = DEFAULT_GRAPHQL_LIMITS.maxFieldRepeats;
const list = (n: number, item: (i: number) => string) => Array.from({ length: n }, (_, i) => item(i)).join(" ");

/**
 * Documents within the token limit of the last audit (500) whose validation cost grows faster than their size
 * (docs/security.md "CPU before refusal"), each with the largest count of one response name in one set.
 */
const REPEATED_SELECTIONS: Array<[string, string, number]> = [
  ["496 __typename in one set", `{ ${"__typename ".repeat(496)}}`, 496],
  ["490 copies of a leaf in an object's set", `{ serviceInfo { ${"upstream ".repeat(490)}} }`, 490],
  ["120 copies of an object field", `{ ${"serviceInfo { upstream } ".repeat(120)}}`, 120],
  ["80 inline fragments selecting one field", `{ ${"... on Query { __typename } ".repeat(80)}}`, 80],
  ["one fragment spread 240 times", `{ ${"...F ".repeat(240)}} fragment F on Query { __typename }`, 240],
  [
    "40 fragments selecting one field",
    `{ ${list(40, (i) => `...F${i}`)} } ${list(40, (i) => `fragment F${i} on Query { __typename }`)}`,
    40,
  ],
  [
    "16 copies of an object field, each selecting a leaf 16 times (256 merged)",
    `{ ${"serviceInfo { upstream upstream upstream upstream upstream upstream upstream upstream upstream upstream upstream upstream upstream upstream upstream upstream } ".repeat(16)}}`,
    256,
  ],
  [
    "a chain of 48 fragments, each spreading the next twice",
    `{ ...F0 } ${list(48, (i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`)} fragment F48 on Query { __typename }`,
    2 ** 48,
  ],
  [
    "the same chain under a mutation",
    `mutation { ...F0 } ${list(48, (i) => `fragment F${i} on Mutation { ...F${i + 1} ...F${i + 1} }`)} fragment F48 on Mutation { __typename }`,
    2 ** 48,
  ],
];

describe("maxRepeatedSelections: one response name's count in one selection set, fragments flattened", () => {
  it.each(TRUSTED_DOCUMENTS.operations.map((op) => [op.name, op.body] as const))(
    "%s, our own operation, selects a name at most 5 times in a set",
    (_name, body) => {
      // retryAfterSeconds in FailureFields' five failure types that have it (docs/security.md "CPU before refusal").
      expect(maxRepeatedSelections(parse(body), 1000)).toBeLessThanOrEqual(5);
    },
  );

  it("the introspection queries (GraphiQL's, Sandbox's) select each name once per set", () => {
    for (const options of [
      {},
      { descriptions: true, inputValueDeprecation: true, oneOf: true, schemaDescription: true },
    ])
      expect(maxRepeatedSelections(parse(getIntrospectionQuery(options)), 1000)).toBe(1);
  });

  it("a name selected in every member of the largest union, and once more, is within the default cap", () => {
    // Eight members (ResendAepsOtpResult): a hand-written query may select `code` in each one's inline fragment.
    const members = ["AepsOtpResent", "IdempotencyConflict", "OtpThrottled", "OutcomeUnknown", "ProtectionUnavailable"];
    const doc = `mutation { resendAepsOtp(input: {}) { __typename ${members.map((m) => `... on ${m} { __typename }`).join(" ")} } }`;
    expect(maxRepeatedSelections(parse(doc), CAP)).toBe(members.length + 1);
    expect(2 * 8).toBeLessThanOrEqual(CAP);
  });

  it.each(REPEATED_SELECTIONS)("%s: counted, or cut at the cap", (_name, doc, repeats) => {
    expect(maxRepeatedSelections(parse(doc), 1e18)).toBe(repeats);
    expect(maxRepeatedSelections(parse(doc), CAP)).toBe(CAP + 1);
  });

  it("reads each selection set once, however often its fragment is spread (the chain of 48: 2^48 paths)", () => {
    const { document, reads } = counted(parse(REPEATED_SELECTIONS[7][1], { noLocation: true }));
    expect(maxRepeatedSelections(document, 1e18)).toBe(2 ** 48);
    expect(reads()).toBe(50);
  });

  it("a chain of 40 fragments branching into two names each (2^40 paths, no repeat) is read linearly too", () => {
    const links = list(40, (i) => `fragment F${i} on Query { x { ...F${i + 1} } y { ...F${i + 1} } }`);
    const { document, reads } = counted(parse(`{ ...F0 } ${links} fragment F40 on Query { z }`, { noLocation: true }));
    expect(maxRepeatedSelections(document, CAP)).toBe(1);
    // 1 + 41 fragment sets + 80 field sets: each read at most twice (flattened, then measured).
    expect(reads()).toBeLessThanOrEqual(2 * 122);
  });

  it("a fragment cycle or an unknown fragment counts as nothing (graphql-js's own rules refuse them)", () => {
    expect(maxRepeatedSelections(parse("{ ...A } fragment A on Query { ...A __typename }"), CAP)).toBe(1);
    expect(maxRepeatedSelections(parse("{ ...Nope __typename }"), CAP)).toBe(1);
  });
});

describe("documentShape: refused before graphql-js validates it", () => {
  /** Selection sets entered by a validation pass: the work of OverlappingFieldsCanBeMergedRule's visitor. */
  const selectionSetVisits = (document: DocumentNode, production: boolean) => {
    let visits = 0;
    const counter: ValidationRule = () => ({ SelectionSet: () => void visits++ });
    const errors = validate(
      schema,
      document,
      [counter, ...specifiedRules, ...limitRules(DEFAULT_GRAPHQL_LIMITS, production)],
      { maxErrors: DEFAULT_GRAPHQL_LIMITS.maxErrors },
    );
    return { visits, errors: errors.map((e) => [e.message, e.extensions.code]) };
  };

  it.each(REPEATED_SELECTIONS.slice(0, 7))("%s: validation sees an empty stand-in with one error", (_name, doc) => {
    const parsed = parse(doc);
    expect(selectionSetVisits(parsed, true).visits).toBeGreaterThan(0);
    for (const production of [true, false]) {
      const standIn = documentShape(DEFAULT_GRAPHQL_LIMITS, production)(parsed);
      expect(standIn).not.toBeNull();
      const { visits, errors } = selectionSetVisits(standIn!, production);
      expect(visits).toBe(0);
      expect(errors).toEqual([
        [
          production
            ? "A field is selected too many times."
            : `A field is selected more than ${CAP} times in one selection set, fragments included (GRAPHQL_MAX_FIELD_REPEATS).`,
          "GRAPHQL_VALIDATION_FAILED",
        ],
      ]);
    }
  });

  it("lets our operations and the introspection query through unchanged", () => {
    const check = documentShape(DEFAULT_GRAPHQL_LIMITS, false);
    for (const op of TRUSTED_DOCUMENTS.operations) expect(check(parse(op.body))).toBeNull();
    expect(check(parse(getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true })))).toBeNull();
  });
});
