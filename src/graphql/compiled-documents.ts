import {
  BREAK,
  defaultFieldResolver,
  type DocumentNode,
  type GraphQLFieldConfigMap,
  type GraphQLFieldResolver,
  GraphQLObjectType,
  GraphQLSchema,
  Kind,
  type OperationDefinitionNode,
  visit,
} from "graphql";
import { type CompiledQuery, compileQuery, isCompiledQuery } from "graphql-jit";

/**
 * graphql-jit (compileQuery) for the fast path (fast-path.ts): an accepted document compiled once into a JavaScript
 * function that reads the result objects field by field, instead of graphql-js `execute` walking (and re-collecting)
 * the document's selections on every request.
 *
 * Which documents: only those Apollo Server accepted (accepted-documents.ts: parsed within the token limit, valid,
 * every validation rule passed, bounded at 256 entries / 1 MiB of text) and, among them, only those `compilable`
 * says yes to, on their first fast-path request (a document sent once is never compiled). graphql-jit turns a
 * document into code with `new Function`. What of a client's document reaches that code: names (GraphQL names match
 * /[_A-Za-z][_0-9A-Za-z]*\/, so they cannot close a quote), numbers, and argument literal values, embedded with
 * `JSON.stringify` and then a regular expression that turns a "__MAGIC_DATE__…" string back into `new Date(…)`:
 * a string literal starting with that marker becomes code (graphql-jit 0.8.9, execution.js objectStringify;
 * test/unit/graphql/compiled-documents.test.ts runs the exploit against graphql-jit itself). So a document with any
 * string literal (a StringValue node: argument, default value, directive argument) is never compiled; it runs with
 * graphql-js as before. Our clients' documents (client/operations) and the bench's pass every value as a variable.
 * The root selection must also be plain fields, no directives, no field selected twice: each root field's resolver
 * result is recorded under its field name (below), so that a request can be finished by graphql-js.
 *
 * Known differences from graphql-js, and how each is kept out of the answers:
 * - variables: graphql-jit coerces them with its own code. The fast path coerces with graphql-js first and hands a
 *   request whose variables do not coerce to Apollo (as before); when graphql-js accepts and graphql-jit refuses, the
 *   request goes to Apollo too (no resolver ran). Where both accept, they agree for JSON values (a JSON body holds no
 *   `undefined`, the case where they differ: graphql-jit makes an input field given as `undefined` null).
 * - errors: any result with errors (a resolver that threw or rejected, a schema violation in a result) is finished
 *   again by graphql-js `execute` over the root fields' recorded results (`replaySchema`: each root field returns
 *   what its resolver returned, or throws what it threw), so no resolver runs twice (no OTP is sent twice) and the
 *   errors, their order, `nodes`, paths, originals and the nulled branches are graphql-js's own (graphql-jit reports
 *   every schema violation under a nulled parent, graphql-js the first; graphql-jit's errors carry locations, not
 *   nodes).
 * - graphql-jit's default field resolver reads a property and does not call it when it is a function (graphql-js
 *   does). No result class of ours holds a function in a field (test/unit/graphql/compiled-documents.test.ts checks
 *   every object type's class); were one to, a leaf would fail to serialise and the request be finished by graphql-js.
 */
export interface Compiled {
  readonly query: CompiledQuery["query"];
  /** The schema graphql-js finishes a request with, from the record the compiled query filled. */
  readonly replaySchema: GraphQLSchema;
}

/** What a root field's resolver threw (recorded, to be thrown again by the replay schema). */
class Thrown {
  constructor(readonly error: unknown) {}
}

/** The root fields' results of one request, by field name (the compiled query's root value). */
export type RootRecord = Record<string, unknown>;

/** The fields' results a record holds: true once any root resolver ran. */
export function ranAny(record: RootRecord): boolean {
  for (const _ in record) return true;
  return false;
}

interface Schemas {
  /** Root resolvers that record what they return or throw in the root value, then return or throw it. */
  readonly recording: GraphQLSchema;
  /** Root resolvers that return (or throw) what the record holds. */
  readonly replay: GraphQLSchema;
}

const schemas = new WeakMap<GraphQLSchema, Schemas>();

/** The compiled query for an accepted document and operation name, or null when it is not to be compiled. */
export function compileAccepted(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  operationName: string | undefined,
): Compiled | null {
  if (!compilable(document, operation)) return null;
  let pair = schemas.get(schema);
  if (!pair)
    schemas.set(
      schema,
      (pair = { recording: withRootResolvers(schema, recording), replay: withRootResolvers(schema, replaying) }),
    );
  const compiled = compileQuery(pair.recording, document, operationName);
  if (!isCompiledQuery(compiled)) return null;
  return { query: compiled.query, replaySchema: pair.replay };
}

/**
 * Whether a document may be compiled (above): no string literal anywhere, and a root selection of distinct plain
 * fields without directives.
 */
export function compilable(document: DocumentNode, operation: OperationDefinitionNode): boolean {
  const names = new Set<string>();
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD || selection.directives?.length || names.has(selection.name.value)) return false;
    names.add(selection.name.value);
  }
  let strings = false;
  visit(document, {
    StringValue() {
      strings = true;
      return BREAK;
    },
  });
  return !strings;
}

type RootResolver = (
  name: string,
  resolve: GraphQLFieldResolver<unknown, unknown>,
) => GraphQLFieldResolver<unknown, unknown>;

const recording: RootResolver = (name, resolve) => (root, args, context, info) => {
  const record = root as RootRecord;
  try {
    // Apollo Server passes no root value: the resolver gets undefined, as under graphql-js.
    const value = resolve(undefined, args, context, info);
    record[name] = value;
    return value;
  } catch (error) {
    record[name] = new Thrown(error);
    throw error;
  }
};

const replaying: RootResolver = (name) => (root) => {
  const value = (root as RootRecord)[name];
  if (value instanceof Thrown) throw value.error;
  return value;
};

/** A schema sharing every type with `schema` but its root types, whose fields get `make`'s resolvers. */
function withRootResolvers(schema: GraphQLSchema, make: RootResolver): GraphQLSchema {
  const config = schema.toConfig();
  const swap = (type: GraphQLObjectType | null | undefined): GraphQLObjectType | undefined => {
    if (!type) return undefined;
    const typeConfig = type.toConfig();
    const fields: GraphQLFieldConfigMap<unknown, unknown> = {};
    for (const [name, field] of Object.entries(typeConfig.fields)) {
      fields[name] = { ...field, resolve: make(name, field.resolve ?? defaultFieldResolver) };
    }
    return new GraphQLObjectType({ ...typeConfig, fields });
  };
  const roots = new Set<unknown>([config.query, config.mutation, config.subscription]);
  return new GraphQLSchema({
    ...config,
    query: swap(config.query),
    mutation: swap(config.mutation),
    subscription: swap(config.subscription),
    types: config.types.filter((type) => !roots.has(type)),
    assumeValid: true,
  });
}
