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
const { Kind } = require("graphql");

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
  if (config.namingConvention !== undefined) throw new Error(`${pluginName}: namingConvention is not supported (client-preset's default naming is assumed)`);
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
    if (operations[i].name === operations[i - 1].name) throw new Error(`${pluginName}: operation name "${operations[i].name}" is used twice`);
  }
  return operations;
}

/** `GenerateCibilOtp` -> `generateCibilOtp`. */
function lowerFirst(/** @type {string} */ name) {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

module.exports = { collectOperations, lowerFirst };
