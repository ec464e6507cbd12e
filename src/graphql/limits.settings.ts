import { defineSettings, int, oneOf, type ValuesOf } from "../settings/schema";

/**
 * TRUSTED_DOCUMENTS (docs/security-requirements.md A11): `off` runs any document within the limits, `enforce` only the
 * trusted documents (graphql/trusted-documents.ts).
 */
export type TrustedDocumentsMode = "off" | "enforce";

/** GraphQL document limits (docs/security-requirements.md A2/A3), checked before execution. */
export interface GraphQLLimits {
  maxAliases: number;
  maxDepth: number;
  maxTokens: number;
  maxCost: number;
  maxDirectives: number;
  maxQueryChars: number;
  maxErrors: number;
  maxFieldRepeats: number;
}

/**
 * Sized from our own client operations (at most 115 tokens, depth 4, cost 873 for SubmitCibilOtp with its linked
 * credit history as the SDK sends it, 1,101 as Apollo Client 4 sends it without createTrustedDocumentLink: its cache
 * adds `__typename` to every selection set, inline fragments included; Armor's cost grows 1.5x per level; a response
 * name at most 5 times in a set) and, in development,
 * the introspection query with every option graphql-js has (184 tokens; Sandbox's and GraphiQL's are within it),
 * with headroom; test/unit/graphql/limits.test.ts checks every client operation against them. Tokens: 250 (was 500):
 * what a document may make validation do grows with its tokens, up to their square for repeated selections
 * (docs/security.md "CPU before refusal"); 250 is 2.2 times ours and 1.36 times the introspection query.
 */
export const DEFAULT_GRAPHQL_LIMITS: GraphQLLimits = {
  maxAliases: 3,
  maxDepth: 6,
  maxTokens: 250,
  // 1,500 (was 1,000, which refused Apollo Client 4's SubmitCibilOtp, 1,101: the CIBIL flow could not be completed
  // with a plain HttpLink); 1.36 times our heaviest, within docs/security-requirements.md A3's 5,000.
  maxCost: 1500,
  maxDirectives: 10,
  maxQueryChars: 8_000,
  maxErrors: 10,
  maxFieldRepeats: 16,
};

/** What a GraphQL document may be (src/graphql/limits.ts, src/graphql/trusted-documents.ts; docs/security-requirements.md A2/A3/A11). */
export const limitsSettings = defineSettings({
  title: "GraphQL documents",
  module: "src/graphql/limits.ts",
  prefixes: ["GRAPHQL_", "TRUSTED_"],
  settings: {
    GRAPHQL_MAX_ALIASES: int({
      default: DEFAULT_GRAPHQL_LIMITS.maxAliases,
      min: 0,
      max: 1000,
      doc: "aliases per document",
    }),
    GRAPHQL_MAX_DEPTH: int({
      default: DEFAULT_GRAPHQL_LIMITS.maxDepth,
      min: 1,
      max: 100,
      doc: "field depth (fragments flattened; introspection exempt)",
    }),
    GRAPHQL_MAX_TOKENS: int({
      default: DEFAULT_GRAPHQL_LIMITS.maxTokens,
      min: 10,
      max: 100_000,
      doc: "lexical tokens per document (parsing stops beyond)",
    }),
    GRAPHQL_MAX_COST: int({
      default: DEFAULT_GRAPHQL_LIMITS.maxCost,
      min: 1,
      max: 1_000_000,
      doc: "GraphQL Armor cost units per operation (our heaviest, `SubmitCibilOtp` with its credit report, costs 873 as the SDK sends it, 1101 as Apollo Client 4 sends it)",
    }),
    GRAPHQL_MAX_DIRECTIVES: int({
      default: DEFAULT_GRAPHQL_LIMITS.maxDirectives,
      min: 0,
      max: 1000,
      doc: "directives per document",
    }),
    GRAPHQL_MAX_QUERY_CHARS: int({
      default: DEFAULT_GRAPHQL_LIMITS.maxQueryChars,
      min: 100,
      max: 1_000_000,
      doc: "characters in the `query` string",
    }),
    GRAPHQL_MAX_ERRORS: int({
      default: DEFAULT_GRAPHQL_LIMITS.maxErrors,
      min: 1,
      max: 100,
      doc: "validation errors, and variable coercion errors, reported per request (one more says the rest were not looked for)",
    }),
    GRAPHQL_MAX_FIELD_REPEATS: int({
      default: DEFAULT_GRAPHQL_LIMITS.maxFieldRepeats,
      min: 1,
      max: 1000,
      doc: "times one response name may be selected in one selection set, fragments flattened and the sub-selections of same-named fields merged; refused before validation (ours: 5)",
    }),
    TRUSTED_DOCUMENTS: oneOf(["off", "enforce"], {
      default: "off",
      doc: "`enforce`: run only the operations in `client/operations`, sent in full or by id (see [Trusted documents](docs/security.md#trusted-documents))",
    }),
  },
});

export function graphqlLimits(v: ValuesOf<typeof limitsSettings>): GraphQLLimits {
  return {
    maxAliases: v.GRAPHQL_MAX_ALIASES,
    maxDepth: v.GRAPHQL_MAX_DEPTH,
    maxTokens: v.GRAPHQL_MAX_TOKENS,
    maxCost: v.GRAPHQL_MAX_COST,
    maxDirectives: v.GRAPHQL_MAX_DIRECTIVES,
    maxQueryChars: v.GRAPHQL_MAX_QUERY_CHARS,
    maxErrors: v.GRAPHQL_MAX_ERRORS,
    maxFieldRepeats: v.GRAPHQL_MAX_FIELD_REPEATS,
  };
}
