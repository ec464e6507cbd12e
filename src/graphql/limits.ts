import { costLimitRule } from "@escape.tech/graphql-armor-cost-limit";
import { maxAliasesRule } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthRule } from "@escape.tech/graphql-armor-max-depth";
import { maxDirectivesRule } from "@escape.tech/graphql-armor-max-directives";
import type { GraphQLArmorRejectCallback } from "@escape.tech/graphql-armor-types";
import {
  type DocumentNode,
  type FragmentDefinitionNode,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationRule,
} from "graphql";
import type { GraphQLLimits } from "./limits.settings";
import { maxRepeatedSelections } from "./document-shape";
import { GUARDED_MUTATION_NAMES } from "./guarded-mutations";
import { SafeMessageError } from "./plugins/safe-message-error";
import { EdgeCode } from "./edge-code";

/**
 * The guarded mutations (GUARDED_MUTATIONS: they send an SMS, burn a verification attempt or create a customer) may
 * each appear at most once per document, whether written twice, aliased, or spread through fragments: top-level
 * mutation fields run serially, so every copy would really send (docs/security-requirements.md A2: Armor's default
 * alias cap alone still allows 16 sends per request).
 *
 * Each fragment is counted once and its counts reused wherever it is spread: walking it again at each spread was
 * exponential, a chain of 22 fragments each spreading the next twice (976 bytes) took 1.9 s of CPU and a chain of
 * 48 (within the token limit) would never have ended (docs/security.md "CPU before refusal").
 */
export function oncePerDocumentRule(fields: readonly string[]): ValidationRule {
  const watched = new Set(fields);
  return (context) => ({
    Document(document: DocumentNode) {
      const fragments = new Map<string, FragmentDefinitionNode>();
      for (const def of document.definitions)
        if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
      /** Watched fields per fragment, spreads included; null while it is being counted (a cycle). */
      const perFragment = new Map<string, Map<string, number> | null>();
      const add = (counts: Map<string, number>, field: string, n: number) =>
        counts.set(field, (counts.get(field) ?? 0) + n);
      const walk = (set: SelectionSetNode, counts: Map<string, number>) => {
        for (const selection of set.selections) {
          if (selection.kind === Kind.FIELD) {
            if (watched.has(selection.name.value)) add(counts, selection.name.value, 1);
          } else if (selection.kind === Kind.INLINE_FRAGMENT) {
            walk(selection.selectionSet, counts);
          } else {
            for (const [field, n] of fragmentCounts(selection.name.value)) add(counts, field, n);
          }
        }
      };
      const fragmentCounts = (name: string): ReadonlyMap<string, number> => {
        const known = perFragment.get(name);
        // A fragment cycle is reported by graphql-js's own NoFragmentCycles rule; just do not loop on it.
        if (known !== undefined) return known ?? NONE;
        const fragment = fragments.get(name);
        if (!fragment) return NONE;
        perFragment.set(name, null);
        const counts = new Map<string, number>();
        walk(fragment.selectionSet, counts);
        perFragment.set(name, counts);
        return counts;
      };
      const counts = new Map<string, number>();
      // Across every mutation operation in the document: a client cannot smuggle a second send into another one.
      for (const def of document.definitions) {
        if (def.kind === Kind.OPERATION_DEFINITION && def.operation === "mutation") walk(def.selectionSet, counts);
      }
      for (const [field, count] of counts) {
        if (count > 1) {
          context.reportError(
            // Names a field of our schema (the watched list), never anything the client invented.
            new SafeMessageError(`${field} may appear only once per request (found ${count}): one OTP per request.`, {
              extensions: { code: EdgeCode.GRAPHQL_VALIDATION_FAILED },
            }),
          );
        }
      }
      return false;
    },
  });
}

const NONE: ReadonlyMap<string, number> = new Map();

/**
 * The spec's Operation Type Existence rule (spec.graphql.org/draft/#sec-Operation-Type-Existence), which graphql-js 16
 * does not have (17 adds it as KnownOperationTypesRule; its wording is kept). Without it `subscription { a }` (30 bytes)
 * passed validation, and graphql-js's execute answered "Schema is not configured to execute subscription operation."
 * with no code: HTTP 200 INTERNAL_SERVER_ERROR and a 1.8 kB error line with a stack in the log, for a client's
 * mistake. The message names an operation type (query, mutation or subscription), never client text.
 */
export const knownOperationTypesRule: ValidationRule = (context) => ({
  OperationDefinition(node: OperationDefinitionNode) {
    if (!context.getSchema().getRootType(node.operation)) {
      context.reportError(
        new SafeMessageError(`The ${node.operation} operation is not supported by the schema.`, {
          nodes: node,
          extensions: { code: EdgeCode.GRAPHQL_VALIDATION_FAILED },
        }),
      );
    }
  },
});

const SYNTAX_ERROR_PREFIX = /^Syntax Error: /;

/**
 * GraphQL Armor's depth, alias, cost and directive limits (docs/security-requirements.md A3), as validation rules that report errors
 * (400 GRAPHQL_VALIDATION_FAILED) instead of throwing out of `validate` (which Apollo would turn into a 500).
 * Development messages include the limits, to help; production messages do not (no probing for the numbers).
 */
export function limitRules(limits: GraphQLLimits, production: boolean): ValidationRule[] {
  const report =
    (productionMessage: string): GraphQLArmorRejectCallback =>
    (ctx, error) => {
      const message = production ? productionMessage : error.message.replace(SYNTAX_ERROR_PREFIX, "");
      ctx?.reportError(new SafeMessageError(message, { extensions: { code: EdgeCode.GRAPHQL_VALIDATION_FAILED } }));
    };
  const common = { exposeLimits: !production, propagateOnRejection: false };
  return [
    // First, though it only reports what documentShape() found before validation began (see there).
    refusedShapeRule,
    knownOperationTypesRule,
    oncePerDocumentRule(GUARDED_MUTATION_NAMES),
    // Every alias counts: Armor's default allow-list exempts `__typename`, both as the aliased field and as the alias
    // (`a1: __typename` ... let 160 aliases through, and `__typename: someField` any field). The generated clients
    // add `__typename` unaliased, which is not an alias at all (test/unit/graphql/limits.test.ts checks every one).
    maxAliasesRule({ ...common, n: limits.maxAliases, allowList: [], onReject: [report("Too many aliases.")] }),
    // Fragments are flattened so that `... on CibilOtpChallenge` does not count as a level. Introspection (`__schema`)
    // is exempt from depth and cost in development only, where Sandbox's introspection query needs it; production
    // refuses introspection anyway, and there no exemption is left for anything to slip through.
    maxDepthRule({
      ...common,
      n: limits.maxDepth,
      flattenFragments: true,
      ignoreIntrospection: !production,
      onReject: [report("Query is too deep.")],
    }),
    costLimitRule({
      ...common,
      maxCost: limits.maxCost,
      ignoreIntrospection: !production,
      onReject: [report("Query is too complex.")],
    }),
    maxDirectivesRule({ ...common, n: limits.maxDirectives, onReject: [report("Too many directives.")] }),
  ];
}

/** The stand-in documents documentShape() hands to validation, each with the message of its refusal. */
const REFUSED_SHAPES = new WeakMap<DocumentNode, string>();

/** Reports the refusal a stand-in document of documentShape() carries (no location: the document is not the client's). */
const refusedShapeRule: ValidationRule = (context) => ({
  Document(document: DocumentNode) {
    const message = REFUSED_SHAPES.get(document);
    if (message !== undefined)
      context.reportError(new SafeMessageError(message, { extensions: { code: EdgeCode.GRAPHQL_VALIDATION_FAILED } }));
    return false;
  },
});

/**
 * The checks on a parsed document that must come before graphql-js validates it, because validation itself is the
 * cost (docs/security.md "CPU before refusal"). graphql-js runs every rule in one pass over the document
 * (visitInParallel), so a limit rule that reports cannot spare the others their work (OverlappingFieldsCanBeMerged
 * compared 496 `__typename` pairwise, 6 ms, whatever the other rules found). Apollo Server has no
 * hook that answers a request between parsing and validation either, so the request plugin (request.plugin.ts,
 * validationDidStart) replaces a document refused here by an empty stand-in whose only error is the refusal:
 * validating it costs nothing, and Apollo answers it as any validation error (400 GRAPHQL_VALIDATION_FAILED).
 * Runs only when Apollo parses a text (not for a document from its cache or the fast path): linear in the document.
 * Returns the stand-in, or null when the document may be validated.
 */
export function documentShape(
  limits: GraphQLLimits,
  production: boolean,
): (document: DocumentNode) => DocumentNode | null {
  const cap = limits.maxFieldRepeats;
  return (document) => {
    if (maxRepeatedSelections(document, cap) <= cap) return null;
    const standIn: DocumentNode = { kind: Kind.DOCUMENT, definitions: [] };
    REFUSED_SHAPES.set(
      standIn,
      production
        ? "A field is selected too many times."
        : `A field is selected more than ${cap} times in one selection set, fragments included (GRAPHQL_MAX_FIELD_REPEATS).`,
    );
    return standIn;
  };
}
