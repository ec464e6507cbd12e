import "reflect-metadata";
import { buildSchema as buildSdl, execute, type GraphQLSchema, parse, type OperationDefinitionNode } from "graphql";
import { compileQuery, isCompiledQuery } from "graphql-jit";
import { getMetadataStorage } from "type-graphql";
import { compilable, compileAccepted } from "../../../src/graphql/compiled-documents";
import { COMPILE_BURST, COMPILES_PER_SECOND, TokenBucket } from "../../../src/graphql/fast-path";
import { createSchema } from "../../../src/graphql/schema";
import { TRUSTED_DOCUMENTS } from "../../../src/generated/trusted-documents";
import { aepsInput } from "../../helpers/operations";
// The bench's documents (the text a TRUSTED_DOCUMENTS=off client sends, not the trusted text): compiled too.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { MUTATIONS } = require("../../../bench/lib/mutations") as {
  MUTATIONS: Record<string, { documents: { union: string } }>;
};

const operationOf = (text: string) => {
  const document = parse(text);
  const operation = document.definitions.find((d) => d.kind === "OperationDefinition") as OperationDefinitionNode;
  return { document, operation };
};
const isCompilable = (text: string) => {
  const { document, operation } = operationOf(text);
  return compilable(document, operation);
};

describe("graphql-jit and string literals (why compiled-documents.ts refuses them)", () => {
  afterEach(() => {
    delete (globalThis as { __jitTest?: number }).__jitTest;
  });

  it("graphql-jit 0.8.9 runs a crafted string literal argument as code", () => {
    // If this stops failing to be safe (a fixed graphql-jit), the rule may be relaxed: see compiled-documents.ts.
    const schema = buildSdl("type Query { echo(s: String): String }");
    const marker = "__MAGIC_DATE__33a9e76d_02e0_4128_8e92_3530ad3da74d0), x: (globalThis.__jitTest = 1), y: (0";
    const compiled = compileQuery(schema, parse(`{ echo(s: ${JSON.stringify(marker)}) }`), undefined);
    expect(isCompiledQuery(compiled)).toBe(true);
    if (isCompiledQuery(compiled)) void compiled.query({ echo: () => "x" }, {}, {});
    expect((globalThis as { __jitTest?: number }).__jitTest).toBe(1);
  });

  it("the same document is not compiled by compileAccepted", () => {
    const schema = buildSdl("type Query { echo(s: String): String }");
    const marker = "__MAGIC_DATE__33a9e76d_02e0_4128_8e92_3530ad3da74d0), x: (globalThis.__jitTest = 1), y: (0";
    const { document, operation } = operationOf(`{ echo(s: ${JSON.stringify(marker)}) }`);
    expect(compileAccepted(schema, document, operation, undefined)).toBeNull();
    expect((globalThis as { __jitTest?: number }).__jitTest).toBeUndefined();
  });
});

describe("compilable", () => {
  it.each(TRUSTED_DOCUMENTS.operations.map((o) => [o.name, o.body]))("the trusted document %s", (_name, body) => {
    expect(isCompilable(body)).toBe(true);
  });

  it.each(Object.entries(MUTATIONS).map(([key, m]) => [key, m.documents.union]))("the bench's %s document", (_k, t) => {
    expect(isCompilable(t)).toBe(true);
  });

  it.each([
    ["a string argument", `{ a(s: "x") }`],
    ["a string in an input object", `mutation { m(input: { s: "x" }) { __typename } }`],
    ["a string in a list", `{ a(l: ["x"]) }`],
    ["a block string", `{ a(s: """x""") }`],
    ["a string default value", `query Q($s: String = "x") { a(s: $s) }`],
    ["a string in a directive argument", `{ a @d(s: "x") }`],
    ["a string in a fragment", `{ ...F } fragment F on Query { a(s: "x") }`],
    ["a root fragment spread", `{ ...F } fragment F on Query { a }`],
    ["a root inline fragment", `{ ... on Query { a } }`],
    ["a root field with a directive", `query Q($b: Boolean!) { a @include(if: $b) }`],
    ["a root field twice under aliases", `{ x: a y: a }`],
  ])("not with %s", (_what, text) => {
    expect(isCompilable(text)).toBe(false);
  });

  it.each([
    [
      "numbers, booleans, enums, null and variables",
      `query Q($v: Int) { a(i: 1, f: 1.5, b: true, e: RED, n: null, v: $v) }`,
    ],
    ["directives below the root", `query Q($b: Boolean!) { a { b @skip(if: $b) } }`],
    ["distinct root fields", `{ a b }`],
  ])("with %s", (_what, text) => {
    expect(isCompilable(text)).toBe(true);
  });
});

describe("compileAccepted on our schema", () => {
  let schema: GraphQLSchema;
  beforeAll(async () => {
    schema = await createSchema();
  });

  it("compiles the bench's documents, and the replay schema answers from the record without calling a resolver", async () => {
    const { document, operation } = operationOf(MUTATIONS.aeps.documents.union);
    const compiled = compileAccepted(schema, document, operation, "ResendAepsOtp");
    expect(compiled).not.toBeNull();
    const rejected = Promise.reject(new Error("recorded"));
    rejected.catch(() => undefined);
    const record = { resendAepsOtp: rejected };
    const result = await execute({
      schema: compiled!.replaySchema,
      document,
      rootValue: record,
      contextValue: {},
      variableValues: { input: aepsInput().input },
    });
    expect(result.data).toBeNull();
    expect(result.errors?.map((e) => [e.message, e.path, e.nodes?.length])).toEqual([
      ["recorded", ["resendAepsOtp"], 1],
    ]);
  });

  it("shares every type but the root types with the server's schema", () => {
    const { document, operation } = operationOf(MUTATIONS.cibil.documents.union);
    const { replaySchema } = compileAccepted(schema, document, operation, undefined)!;
    for (const [name, type] of Object.entries(schema.getTypeMap())) {
      if (name === "Query" || name === "Mutation") expect(replaySchema.getType(name)).not.toBe(type);
      else expect(replaySchema.getType(name)).toBe(type);
    }
  });

  /**
   * graphql-jit's default field resolver reads a property and never calls it; graphql-js's calls a function-valued
   * one. Every field without a resolver of its own must therefore read a value or a getter, never a method.
   */
  it("no result class has a method where a field without a resolver reads", () => {
    const storage = getMetadataStorage();
    const checked: string[] = [];
    for (const objectType of storage.objectTypes) {
      const type = schema.getType(objectType.name);
      if (!type || !("getFields" in type)) continue;
      const fields = type.getFields() as Record<string, { resolve?: unknown }>;
      for (const field of objectType.fields ?? []) {
        if (!fields[field.schemaName] || fields[field.schemaName].resolve) continue;
        let proto: object | null = (objectType.target as { prototype: object }).prototype;
        let descriptor: PropertyDescriptor | undefined;
        while (proto && !descriptor) {
          descriptor = Object.getOwnPropertyDescriptor(proto, field.name);
          proto = Object.getPrototypeOf(proto) as object | null;
        }
        expect([objectType.name, field.name, typeof descriptor?.value]).not.toEqual([
          objectType.name,
          field.name,
          "function",
        ]);
        checked.push(`${objectType.name}.${field.name}${descriptor?.get ? " (getter)" : ""}`);
      }
    }
    // The check saw the result types. A getter field (AepsOtpResent.resendAvailableInSeconds) has type-graphql's
    // resolver, which both executors call.
    expect(checked).toContain("AepsOtpResent.maskedMobile");
    expect(checked.some((c) => c.startsWith("AepsOtpResent.resendAvailableInSeconds"))).toBe(false);
    expect(checked).toContain("CibilOtpChallenge.cibilId");
  });
});

describe("the compile budget (fast-path.ts TokenBucket)", () => {
  it("allows the burst at once, then the rate, never more than the burst", () => {
    let now = 0;
    const bucket = new TokenBucket(3, 10, () => now);
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
    now += 50; // half a token
    expect(bucket.take()).toBe(false);
    now += 50;
    expect([bucket.take(), bucket.take()]).toEqual([true, false]);
    now += 60_000; // a minute idle: back to the burst, not 600
    expect(Array.from({ length: 5 }, () => bucket.take())).toEqual([true, true, true, false, false]);
  });

  it("defaults: 64 at once, 10 per second", () => {
    expect([COMPILE_BURST, COMPILES_PER_SECOND]).toEqual([64, 10]);
  });
});
