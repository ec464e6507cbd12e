import {
  buildSchema,
  type DocumentNode,
  execute,
  type ExecutionResult,
  type FieldNode,
  type GraphQLFieldResolver,
  type GraphQLObjectType,
  type GraphQLUnionType,
  type OperationDefinitionNode,
  type GraphQLSchema,
  parse,
} from "graphql";
import * as collect from "graphql/execution/collectFields";
import {
  collectedFieldsFunctions,
  keepCollectedFields,
  reuseCollectedFields,
} from "../../../src/graphql/collected-fields";

/**
 * src/graphql/collected-fields.ts wraps graphql-js's `collectFields` and `collectSubfields` exports: for a selection
 * set of a kept document (keepCollectedFields) with no directive and no fragment spread at its level, the fields are
 * collected once per object type and handed to every later request. Here: installed on the pinned graphql; reused
 * through a real `execute` (the same frozen `info.fieldNodes` in two requests), never for a document not kept, a level
 * with @include/@skip or a fragment spread, or another schema; and every answer is the one graphql's own functions
 * give, for the same variables.
 */

const installedAs = reuseCollectedFields();
const functions = collectedFieldsFunctions();
if (!functions) throw new Error(`collected-fields: not installed (${installedAs})`);

type Exports = { collectFields: typeof collect.collectFields; collectSubfields: typeof collect.collectSubfields };

/** Runs `body` with graphql's own functions in place of the wrappers, then puts the wrappers back. */
function withOriginals<T>(body: () => T): T {
  const own = collect as Exports;
  const wrappers = { collectFields: own.collectFields, collectSubfields: own.collectSubfields };
  own.collectFields = functions!.original.collectFields;
  own.collectSubfields = functions!.original.collectSubfields;
  try {
    return body();
  } finally {
    Object.assign(own, wrappers);
  }
}

const SDL = `
  type Query { send(id: String!): Result! }
  union Result = Sent | Refused
  type Sent { id: String! masked: String! detail: Detail! }
  type Refused { code: String! retryAfter: Int }
  type Detail { a: String! b: String! }
`;

/** The `info.fieldNodes` each `Sent` and `Detail` field's resolver saw, in order, for the identity checks. */
const seen: Array<ReadonlyArray<FieldNode>> = [];
const note =
  (value: (source: Record<string, unknown>) => unknown): GraphQLFieldResolver<Record<string, unknown>, unknown> =>
  (source, _args, _ctx, info) => {
    seen.push(info.fieldNodes);
    return value(source);
  };

function schemaOf(): GraphQLSchema {
  const schema = buildSchema(SDL);
  const fields = (name: string) => (schema.getType(name) as GraphQLObjectType).getFields();
  fields("Query").send.resolve = (_: unknown, args: Record<string, unknown>) =>
    String(args.id).startsWith("r") ? { kind: "Refused", code: "LIMIT", retryAfter: 3 } : { kind: "Sent", id: args.id };
  (schema.getType("Result") as GraphQLUnionType).resolveType = (v: { kind: string }) => v.kind;
  fields("Sent").id.resolve = note((s) => s.id);
  fields("Sent").masked.resolve = note((s) => `XXXX${String(s.id).slice(-2)}`);
  fields("Sent").detail.resolve = note(() => ({ a: "x", b: "y" }));
  fields("Detail").a.resolve = note((s) => s.a);
  return schema;
}

const schema = schemaOf();
const otherSchema = schemaOf();

const UNION = `query Q($id: String!) {
  send(id: $id) {
    __typename
    ... on Sent { id masked detail { a b } }
    ... on Refused { code retryAfter }
  }
}`;

const run = (document: DocumentNode, variableValues: Record<string, unknown>, on = schema) =>
  execute({ schema: on, document, variableValues }) as ExecutionResult;

/** The `Sent.id` resolver's field nodes in one request of `document`. */
function idNodes(document: DocumentNode, on = schema): ReadonlyArray<FieldNode> {
  seen.length = 0;
  expect(run(document, { id: "42" }, on).errors).toBeUndefined();
  return seen[0];
}

it("is installed on the graphql this repository pins", () => {
  expect(installedAs).toBe("installed");
  expect(reuseCollectedFields()).toBe("installed");
});

it("a kept document's fields are collected once: two requests see the same frozen field nodes", () => {
  const document = parse(UNION);
  keepCollectedFields(document, schema);
  const first = idNodes(document);
  const second = idNodes(document);
  expect(second).toBe(first);
  expect(Object.isFrozen(first)).toBe(true);
  // Graphql's own functions collect per request (what this change stops): a new array each time.
  const own = withOriginals(() => [idNodes(document), idNodes(document)]);
  expect(own[1]).not.toBe(own[0]);
});

it("a document not kept, or run on another schema, is collected per request as graphql does", () => {
  const loose = parse(UNION);
  expect(idNodes(loose)).not.toBe(idNodes(loose));
  const document = parse(UNION);
  keepCollectedFields(document, schema);
  expect(idNodes(document, otherSchema)).not.toBe(idNodes(document, otherSchema));
});

it("answers as graphql's own functions do, each member of the union, in field order", () => {
  const document = parse(UNION);
  keepCollectedFields(document, schema);
  for (const id of ["42", "r1", "43", "r2"]) {
    const expected = withOriginals(() => run(parse(UNION), { id }));
    expect(JSON.stringify(run(document, { id }))).toBe(JSON.stringify(expected));
  }
  expect(run(document, { id: "42" }).data).toEqual({
    send: { __typename: "Sent", id: "42", masked: "XXXX42", detail: { a: "x", b: "y" } },
  });
  expect(run(document, { id: "r1" }).data).toEqual({ send: { __typename: "Refused", code: "LIMIT", retryAfter: 3 } });
});

it("a level with @include/@skip or a fragment spread is not kept: variables and fragments decide each request", () => {
  const text = `query Q($id: String!, $more: Boolean!) {
    send(id: $id) {
      ... on Sent { id masked @include(if: $more) detail @skip(if: $more) { ...D } }
      ... on Refused { code }
    }
  }
  fragment D on Detail { a b }`;
  const document = parse(text);
  keepCollectedFields(document, schema);
  const kept = functions.kept;
  const send = (document.definitions[0] as OperationDefinitionNode).selectionSet.selections[0] as FieldNode;
  // The root (no directive) is kept; `send`'s level holds @include and @skip; `detail`'s is a fragment spread.
  expect(kept((document.definitions[0] as OperationDefinitionNode).selectionSet)).toBe(true);
  expect(kept(send.selectionSet!)).toBe(false);
  for (const more of [true, false, true]) {
    const expected = withOriginals(() => run(parse(text), { id: "42", more }));
    const got = run(document, { id: "42", more });
    expect(JSON.stringify(got)).toBe(JSON.stringify(expected));
    expect(Object.keys((got.data!.send as Record<string, unknown>) ?? {})).toEqual(
      more ? ["id", "masked"] : ["id", "detail"],
    );
  }
});
