import { costLimitRule } from "@escape.tech/graphql-armor-cost-limit";
import { maxAliasesRule } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthRule } from "@escape.tech/graphql-armor-max-depth";
import { maxDirectivesRule } from "@escape.tech/graphql-armor-max-directives";
import type { GraphQLArmorRejectCallback } from "@escape.tech/graphql-armor-types";
import {
  type DocumentNode,
  type FragmentDefinitionNode,
  GraphQLError,
  Kind,
  type SelectionSetNode,
  type ValidationRule,
} from "graphql";
import type { GraphQLLimits } from "../config";

/**
 * Mutations that send an SMS, burn a verification attempt or create a customer. Each may appear at most once per document,
 * whether written twice, aliased, or spread through fragments: top-level mutation fields run serially, so every
 * copy would really send (docs/security-requirements.md A2: Armor's default alias cap alone still allows 16 sends per request).
 */
export const ONCE_PER_DOCUMENT_FIELDS = ["registerCibilCustomer", "generateCibilOtp", "submitCibilOtp", "resendAepsOtp", "verifyAepsOtp"] as const;

export function oncePerDocumentRule(fields: readonly string[]): ValidationRule {
  const watched = new Set(fields);
  return (context) => ({
    Document(document: DocumentNode) {
      const fragments = new Map<string, FragmentDefinitionNode>();
      for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
      const counts = new Map<string, number>();
      const walk = (set: SelectionSetNode, path: Set<string>) => {
        for (const selection of set.selections) {
          if (selection.kind === Kind.FIELD) {
            if (watched.has(selection.name.value)) counts.set(selection.name.value, (counts.get(selection.name.value) ?? 0) + 1);
          } else if (selection.kind === Kind.INLINE_FRAGMENT) {
            walk(selection.selectionSet, path);
          } else {
            const fragment = fragments.get(selection.name.value);
            // A fragment cycle is reported by graphql-js's own NoFragmentCycles rule; just do not loop on it.
            if (fragment && !path.has(fragment.name.value)) walk(fragment.selectionSet, new Set(path).add(fragment.name.value));
          }
        }
      };
      // Across every mutation operation in the document: a client cannot smuggle a second send into another one.
      for (const def of document.definitions) {
        if (def.kind === Kind.OPERATION_DEFINITION && def.operation === "mutation") walk(def.selectionSet, new Set());
      }
      for (const [field, count] of counts) {
        if (count > 1) {
          context.reportError(
            new GraphQLError(`${field} may appear only once per request (found ${count}): one OTP per request.`, {
              extensions: { code: "GRAPHQL_VALIDATION_FAILED" },
            }),
          );
        }
      }
      return false;
    },
  });
}

/**
 * GraphQL Armor's depth, alias, cost and directive limits (docs/security-requirements.md A3), as validation rules that report errors
 * (400 GRAPHQL_VALIDATION_FAILED) instead of throwing out of `validate` (which Apollo would turn into a 500).
 * Development messages include the limits, to help; production messages do not (no probing for the numbers).
 */
export function limitRules(limits: GraphQLLimits, production: boolean): ValidationRule[] {
  const report =
    (productionMessage: string): GraphQLArmorRejectCallback =>
    (ctx, error) => {
      const message = production ? productionMessage : error.message.replace(/^Syntax Error: /, "");
      ctx?.reportError(new GraphQLError(message, { extensions: { code: "GRAPHQL_VALIDATION_FAILED" } }));
    };
  const common = { exposeLimits: !production, propagateOnRejection: false };
  return [
    oncePerDocumentRule(ONCE_PER_DOCUMENT_FIELDS),
    maxAliasesRule({ ...common, n: limits.maxAliases, onReject: [report("Too many aliases.")] }),
    // Fragments are flattened so that `... on CibilOtpChallenge` does not count as a level; introspection is exempt.
    maxDepthRule({ ...common, n: limits.maxDepth, flattenFragments: true, ignoreIntrospection: true, onReject: [report("Query is too deep.")] }),
    costLimitRule({ ...common, maxCost: limits.maxCost, ignoreIntrospection: true, onReject: [report("Query is too complex.")] }),
    maxDirectivesRule({ ...common, n: limits.maxDirectives, onReject: [report("Too many directives.")] }),
  ];
}

/**
 * graphql-js's own maxTokens parse error states the limit; production says only that it was exceeded. (graphql
 * 16.15 words it "Document contains more that N tokens"; both spellings are matched.)
 */
export function hideTokenLimit(message: string): string {
  return message.replace(/Document contains more tha[nt] [0-9]+ tokens\. Parsing aborted\./, "Document contains too many tokens.");
}
