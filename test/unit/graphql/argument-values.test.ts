import "reflect-metadata";
import {
  buildSchema,
  execute,
  type ExecutionResult,
  type FieldNode,
  getArgumentValues,
  getDirectiveValues,
  GraphQLIncludeDirective,
  type GraphQLSchema,
  isInterfaceType,
  isObjectType,
  Kind,
  parse,
  type OperationDefinitionNode,
  version,
} from "graphql";
import * as values from "graphql/execution/values";
import {
  argumentValuesFunctions,
  CHECKED_GRAPHQL_VERSION,
  skipArgumentCopyWithoutArguments,
} from "../../../src/graphql/argument-values";
import { createSchema } from "../../../src/graphql/schema";

/**
 * src/graphql/argument-values.ts replaces graphql-js's `getArgumentValues` export with one that returns a fresh `{}`
 * for a definition without arguments and calls the original otherwise. Here: it is installed on the graphql this
 * repository pins; graphql's execute calls it (counted through a real `execute`); what each resolver receives is what
 * the original gives (prototype, keys, values, a new object per call), for fields without arguments and with
 * (defaults, variables, null, a missing optional, errors); @include/@skip are untouched.
 */

type GetArgumentValues = typeof values.getArgumentValues;

const installedAs = skipArgumentCopyWithoutArguments();
const functions = argumentValuesFunctions();
if (!functions) throw new Error(`argument-values: not installed (${installedAs})`);
const { original, replacement } = functions;

/** Runs `body` with graphql's export set to `fn`, then puts the replacement back. */
function withExport<T>(fn: GetArgumentValues, body: () => T): T {
  const own = values as { getArgumentValues: GetArgumentValues };
  own.getArgumentValues = fn;
  try {
    return body();
  } finally {
    own.getArgumentValues = replacement;
  }
}

/** The arguments object's shape as a resolver could observe it. */
function shape(args: unknown) {
  const object = args as Record<string, unknown>;
  return {
    prototype: Object.getPrototypeOf(object) as unknown,
    keys: Reflect.ownKeys(object),
    extensible: Object.isExtensible(object),
    frozen: Object.isFrozen(object),
    json: JSON.stringify(object),
  };
}

const SDL = /* GraphQL */ `
  input Filter {
    from: Int = 3
    to: Int
    tags: [String!]
  }
  type Item {
    id: ID
    name: String
    scaled(factor: Int = 2): Int
  }
  type Query {
    plain: String
    item: Item
    items: [Item]
    withDefault(limit: Int = 10): String
    required(id: ID!): String
    optional(note: String): String
    filtered(filter: Filter): String
    mutated: String
    seen: String
  }
`;

/** A schema whose every field records the args its resolver received, by response path. */
function recordingSchema(): { schema: GraphQLSchema; seen: Map<string, unknown> } {
  const schema = buildSchema(SDL);
  const seen = new Map<string, unknown>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith("__")) continue;
    for (const field of Object.values(type.getFields())) {
      field.resolve = (_source, args: Record<string, unknown>, _context, info) => {
        const keys: Array<string | number> = [];
        for (let p: typeof info.path | undefined = info.path; p; p = p.prev) keys.unshift(p.key);
        seen.set(keys.join("."), args);
        if (field.name === "item") return {};
        if (field.name === "items") return [{}, {}];
        if (field.name === "mutated") {
          args.written = "by the first request";
          return "ok";
        }
        return JSON.stringify(args);
      };
    }
  }
  return { schema, seen };
}

const DOCUMENTS: Array<[string, string, Record<string, unknown>]> = [
  ["fields without arguments, nested and in a list", "{ plain item { id name } items { id name } }", {}],
  [
    "a default, a literal, a variable",
    "query($n: Int) { a: withDefault b: withDefault(limit: 3) c: withDefault(limit: $n) }",
    { n: 7 },
  ],
  ["a variable left out, and null", "query($n: Int) { a: withDefault(limit: $n) b: withDefault(limit: null) }", {}],
  [
    "a missing optional, an explicit null, a value",
    '{ a: optional b: optional(note: null) c: optional(note: "x") }',
    {},
  ],
  ["a required argument", "query($id: ID!) { required(id: $id) }", { id: "42" }],
  ["a required argument never given", "{ required }", {}],
  [
    "an input object with a default inside",
    "query($f: Filter) { a: filtered(filter: { to: 9 }) b: filtered(filter: $f) }",
    { f: { tags: ["t"] } },
  ],
  ["an argument on a nested field, in a list", "{ items { scaled s3: scaled(factor: 3) } item { scaled } }", {}],
  [
    "@include and @skip by variable",
    "query($yes: Boolean!, $no: Boolean!) { plain @include(if: $yes) item @skip(if: $no) { id @include(if: $no) name @skip(if: $yes) } }",
    { yes: true, no: false },
  ],
  [
    "@include and @skip the other way",
    "query($yes: Boolean!, $no: Boolean!) { plain @include(if: $no) item @skip(if: $yes) { id } }",
    { yes: true, no: false },
  ],
];

function run(schema: GraphQLSchema, text: string, variableValues: Record<string, unknown>): ExecutionResult {
  const result = execute({ schema, document: parse(text), variableValues });
  if (result instanceof Promise) throw new Error("expected a synchronous result");
  return result;
}

describe("graphql-js getArgumentValues replacement (src/graphql/argument-values.ts)", () => {
  it("is installed on the graphql this repository pins (another version: read values.js and its callers again)", () => {
    expect(version).toBe(CHECKED_GRAPHQL_VERSION);
    expect(installedAs).toBe("installed");
    expect(skipArgumentCopyWithoutArguments()).toBe("installed");
    // graphql's own index reads the same export (execution/index.js is a getter over values.js's).
    expect(getArgumentValues).toBe(replacement);
    expect(values.getArgumentValues).toBe(replacement);
  });

  it("is what graphql's execute calls, once per field executed", () => {
    const { schema } = recordingSchema();
    const calls: Array<[string, number]> = [];
    const counting: GetArgumentValues = (def, node, variableValues) => {
      calls.push([def.name, def.args.length]);
      return replacement(def, node, variableValues);
    };
    const result = withExport(counting, () => run(schema, "{ plain item { id name } items { id name } }", {}));
    expect(result.errors).toBeUndefined();
    // plain, item, item.id, item.name, items, and id and name for each of its 2 entries.
    expect(calls).toEqual([
      ["plain", 0],
      ["item", 0],
      ["id", 0],
      ["name", 0],
      ["items", 0],
      ["id", 0],
      ["name", 0],
      ["id", 0],
      ["name", 0],
    ]);
  });

  it.each(DOCUMENTS)("gives each resolver what the original gives: %s", (_name, text, variables) => {
    const { schema, seen } = recordingSchema();
    const before = withExport(original, () => run(schema, text, variables));
    const expected = new Map([...seen].map(([path, args]) => [path, shape(args)]));
    seen.clear();
    const after = run(schema, text, variables);
    const actual = new Map([...seen].map(([path, args]) => [path, shape(args)]));
    expect(actual).toEqual(expected);
    expect([...actual.values()].every((s) => s.prototype === Object.prototype)).toBe(true);
    expect(JSON.stringify(after)).toBe(JSON.stringify(before));
  });

  it("gives every call a new object: what one request's resolver writes into its args, the next does not see", () => {
    const { schema, seen } = recordingSchema();
    run(schema, "{ mutated }", {});
    expect(seen.get("mutated")).toEqual({ written: "by the first request" });
    run(schema, "{ mutated seen plain }", {});
    expect(shape(seen.get("mutated"))).toEqual(shape({ written: "by the first request" }));
    expect(shape(seen.get("seen"))).toEqual(shape({}));
    expect(shape(seen.get("plain"))).toEqual(shape({}));
    expect(seen.get("seen")).not.toBe(seen.get("plain"));
  });

  it("leaves @include and @skip (getDirectiveValues) to graphql's own function", () => {
    const operation = parse("query($v: Boolean!) { plain @include(if: $v) }").definitions[0] as OperationDefinitionNode;
    const node = operation.selectionSet.selections[0] as FieldNode;
    expect(getDirectiveValues(GraphQLIncludeDirective, node, { v: false })).toEqual({ if: false });
    const throwing: GetArgumentValues = () => {
      throw new Error("the export was called");
    };
    withExport(throwing, () => {
      expect(getDirectiveValues(GraphQLIncludeDirective, node, { v: true })).toEqual({ if: true });
    });
  });

  describe("every field of our schema", () => {
    let schema: GraphQLSchema;
    beforeAll(async () => {
      schema = await createSchema();
    });

    /** Every field of the schema's object and interface types, with or without declared arguments. */
    const fieldsOf = (withArguments: boolean) =>
      Object.values(schema.getTypeMap())
        .filter((type) => isObjectType(type) || isInterfaceType(type))
        .flatMap((type) => Object.values(type.getFields()))
        .filter((field) => (field.args.length !== 0) === withArguments);
    const node: FieldNode = { kind: Kind.FIELD, name: { kind: Kind.NAME, value: "x" } };

    it("without arguments: the same arguments object as the original's, a new one per call", () => {
      const fields = fieldsOf(false);
      for (const field of fields) {
        const first = replacement(field, node, {});
        expect(shape(first)).toEqual(shape(original(field, node, {})));
        expect(replacement(field, node, {})).not.toBe(first);
      }
      // CibilOtpChallenge's 16 fields alone are more than this; the count shows the loop saw the schema.
      expect(fields.length).toBeGreaterThan(16);
    });

    it("with arguments: the original's result, including a missing required argument's error", () => {
      const fields = fieldsOf(true);
      for (const field of fields) {
        const outcome = (fn: GetArgumentValues) => {
          try {
            return { value: shape(fn(field, node, {})) };
          } catch (error) {
            return { error: String(error) };
          }
        };
        expect(outcome(replacement)).toEqual(outcome(original));
      }
      expect(fields.length).toBeGreaterThan(0);
    });
  });
});
