// @ts-check
"use strict";

/**
 * What our codegen plugins (apollo-react-hooks.js, graphql-sdk.js) share: the operations to emit code for.
 *
 * The plugins import `${name}Document` from client-preset's graphql.ts. client-preset passes every name through
 * change-case's pascalCase (`verifyAEPSOtp` becomes `VerifyAepsOtpDocument`); the two agree exactly when the name is
 * already in plain PascalCase, so other spellings are refused here with a message instead of emitting an import
 * that does not exist. (graphql-codegen's own name converter cannot be loaded by jest: its dependencies are ES
 * modules only.)
 */
const { Kind, print, stripIgnoredCharacters, visit } = require("graphql");

/** Capitalised words of letters and digits, no underscores, no runs of capitals: names pascalCase leaves alone. */
const PLAIN_PASCAL_CASE = /^[A-Z][a-z0-9]*(?:[A-Z][a-z0-9]+)*$/;

/**
 * @typedef {object} Operation
 * @property {string} name         the operation's name (`GenerateCibilOtp`)
 * @property {"query" | "mutation"} kind
 * @property {string} documentName the TypedDocumentNode client-preset exports for it (`GenerateCibilOtpDocument`)
 * @property {import("graphql").OperationDefinitionNode} node
 */

/**
 * Every named query and mutation in `documents`, sorted by name. Subscriptions and anonymous operations are skipped
 * (the schema has neither).
 *
 * @param {{ document?: import("graphql").DocumentNode }[]} documents
 * @param {{ namingConvention?: unknown }} config
 * @param {string} pluginName for error messages
 * @returns {Operation[]}
 */
function collectOperations(documents, config, pluginName) {
  if (config.namingConvention !== undefined)
    throw new Error(`${pluginName}: namingConvention is not supported (client-preset's default naming is assumed)`);
  /** @type {Operation[]} */
  const operations = [];
  for (const { document } of documents) {
    for (const definition of document?.definitions ?? []) {
      if (definition.kind !== Kind.OPERATION_DEFINITION || !definition.name) continue;
      if (definition.operation !== "mutation" && definition.operation !== "query") continue;
      const name = definition.name.value;
      if (!PLAIN_PASCAL_CASE.test(name)) {
        throw new Error(
          `${pluginName}: operation name "${name}" must be plain PascalCase (e.g. "VerifyAepsOtp": no underscores, no runs of capitals), ` +
            "or client-preset would export its document under another name",
        );
      }
      operations.push({ name, kind: definition.operation, documentName: `${name}Document`, node: definition });
    }
  }
  operations.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (let i = 1; i < operations.length; i++) {
    if (operations[i].name === operations[i - 1].name)
      throw new Error(`${pluginName}: operation name "${operations[i].name}" is used twice`);
  }
  return operations;
}

/** `GenerateCibilOtp` -> `generateCibilOtp`. */
function lowerFirst(/** @type {string} */ name) {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

/** @type {import("graphql").FieldNode} */
const TYPENAME_FIELD = { kind: Kind.FIELD, name: { kind: Kind.NAME, value: "__typename" } };

/**
 * The document with `__typename` selected in every object, as Apollo Client adds it before sending (its
 * addTypenameToDocument, which also repeats it inside inline fragments; the answer is the same without). The server
 * then runs, for the SDK and for a hash from Apollo Client's persisted-query link alike, the very document Apollo
 * Client's cache expects answers for, and the generated types (`nonOptionalTypename`) are true of every object.
 *
 * @template {import("graphql").ASTNode} T
 * @param {T} node
 * @returns {T}
 */
function withTypenames(node) {
  return visit(node, {
    SelectionSet(set, _key, parent) {
      const parentKind =
        parent && !Array.isArray(parent) ? /** @type {import("graphql").ASTNode} */ (parent).kind : undefined;
      // The operation's root needs none; an inline fragment's object is the enclosing selection's, which has one.
      if (parentKind === Kind.OPERATION_DEFINITION || parentKind === Kind.INLINE_FRAGMENT) return undefined;
      if (set.selections.some((s) => s.kind === Kind.FIELD && s.name.value === "__typename")) return undefined;
      return { ...set, selections: [TYPENAME_FIELD, ...set.selections] };
    },
  });
}

/**
 * The text an operation is sent as: the operation followed by every fragment it spreads, directly or through other
 * fragments, sorted by name, with `__typename` added (withTypenames), compactly printed. The SDK sends exactly this,
 * and the trusted-document list holds exactly this, so the two always agree.
 *
 * @param {import("graphql").OperationDefinitionNode} operation
 * @param {Map<string, import("graphql").FragmentDefinitionNode>} fragments every fragment in the documents, by name
 * @param {string} pluginName for error messages
 * @returns {string}
 */
function wireSource(operation, fragments, pluginName) {
  /** @type {Map<string, import("graphql").FragmentDefinitionNode>} */
  const used = new Map();
  /** @param {import("graphql").ASTNode} node */
  const collect = (node) => {
    visit(node, {
      FragmentSpread(spread) {
        const name = spread.name.value;
        if (used.has(name)) return;
        const fragment = fragments.get(name);
        if (!fragment)
          throw new Error(`${pluginName}: operation "${operation.name?.value}" spreads unknown fragment "${name}"`);
        used.set(name, fragment);
        collect(fragment);
      },
    });
  };
  collect(operation);
  const ordered = [...used.values()].sort((a, b) => (a.name.value < b.name.value ? -1 : 1));
  return stripIgnoredCharacters(print(withTypenames({ kind: Kind.DOCUMENT, definitions: [operation, ...ordered] })));
}

/**
 * Every fragment definition in the documents, by name.
 *
 * @param {{ document?: import("graphql").DocumentNode }[]} documents
 * @returns {Map<string, import("graphql").FragmentDefinitionNode>}
 */
function collectFragments(documents) {
  const fragments = new Map();
  for (const { document } of documents) {
    for (const definition of document?.definitions ?? []) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    }
  }
  return fragments;
}

module.exports = { collectFragments, collectOperations, lowerFirst, wireSource, withTypenames };
