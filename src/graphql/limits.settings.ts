import { defineSettings, int, oneOf, type ValuesOf } from "../settings/schema";

export interface GraphQLLimits {
  maxAliases: number;
  maxDepth: number;
  maxTokens: number;
  maxCost: number;
  maxDirectives: number;
  maxQueryChars: number;
  maxErrors: number;
}

/**
 * Sized from our own client operations (at most 108 tokens, depth 4, cost 699 for SubmitCibilOtp with its linked
 * credit history; Armor's cost grows 1.5x per level) and Sandbox's introspection (183 tokens), with headroom;
 * test/unit/graphql/limits.test.ts checks every client operation against them.
 */
export const DEFAULT_GRAPHQL_LIMITS: GraphQLLimits = {
  maxAliases: 3,
  maxDepth: 6,
  maxTokens: 500,
  maxCost: 1000,
  maxDirectives: 10,
  maxQueryChars: 8_000,
  maxErrors: 10,
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
      doc: "GraphQL Armor cost units per operation (our heaviest, `SubmitCibilOtp` with its credit report, costs 699)",
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
  };
}
