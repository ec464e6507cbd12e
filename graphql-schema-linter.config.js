// @ts-check
"use strict";
/**
 * The schema lint (`npm run schema:lint`, part of `npm test`): graphql-schema-linter over the emitted
 * schema/schema.graphql. Sandbox's and GraphiQL's docs panels are where a frontend developer learns this API, so
 * every element must say what it is. Descriptions are written in the type-graphql decorators (src/graphql/**);
 * `npm run schema:emit` prints them into the SDL.
 *
 * Rules left out, and why:
 *   type-fields-sorted-alphabetically, enum-values-sorted-alphabetically, input-object-fields-sorted-alphabetically,
 *   interface-fields-sorted-alphabetically   the emitted SDL is sorted by src/graphql/schema.ts (printSdl), so these
 *                                            could never fail
 *   relay-connection-types-spec, relay-connection-arguments-spec, relay-page-info-spec
 *                                            the schema has no lists to page through (no Relay connections)
 */
module.exports = {
  schemaPaths: ["schema/schema.graphql"],
  rules: [
    // Every object, interface, union, enum, input and scalar type has a description (root types included).
    "types-have-descriptions",
    // Every field of an object or interface type has one: what it is, its format or unit, and when it is null.
    "fields-have-descriptions",
    // Every argument (the `input` of each mutation, cibilCreditHistory's `cibilId`) has one.
    "arguments-have-descriptions",
    // Every input field has one: its format with an example, and what happens to the value (masked, never logged).
    "input-object-values-have-descriptions",
    // Every enum value has one: a client branches on these (FailureCode, ThrottleScope ...).
    "enum-values-have-descriptions",
    // Descriptions start with a capital letter: they are sentences, shown as such in the docs panel.
    "descriptions-are-capitalized",
    // A deprecated field or value says what to use instead.
    "deprecations-have-a-reason",
    // No type defined and then never reachable from Query or Mutation (dead schema is misleading documentation).
    "defined-types-are-used",
    // Naming as in GraphQL's own conventions, which the generated clients rely on.
    "types-are-capitalized",
    "fields-are-camel-cased",
    "input-object-values-are-camel-cased",
    "enum-values-all-caps",
  ],
};
