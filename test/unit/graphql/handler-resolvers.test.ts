import "reflect-metadata";
import { type DocumentNode, execute, type GraphQLSchema, isObjectType, parse } from "graphql";
import { buildSchema, type BuildSchemaOptions, type ValidatorFn } from "type-graphql";
import { GUARDED_MUTATION_NAMES } from "../../../src/graphql/guarded-mutations";
import { rebuildHandlerResolvers, resolverInstances } from "../../../src/graphql/handler-resolvers";
import { createSchema, RESOLVERS } from "../../../src/graphql/schema";
import { GUARDED_SAMPLES, type SampleValues } from "../../helpers/guarded-samples";

/**
 * The rebuilt Query and Mutation resolvers (graphql/handler-resolvers.ts) against type-graphql's own, on two schemas
 * built from the same classes: the same value reaches the validateFn (class, own keys in order, values), the same
 * request reaches the send guard, and the same GraphQL result comes out, whether the validateFn refuses, passes, or
 * passes asynchronously.
 */

const VALUES: SampleValues = {
  cibilId: "000102277100",
  accessToken: "123456542124",
  otp: "123456",
  mobile: "9876543210",
  aadhaar: "2341 2341 2346",
  userKey: "AOP554N3XXXX",
  primaryKeyId: "TEST",
  encodeTxnId: "DEMO",
  pan: "abcpe1234f",
  email: "Asha@Example.COM",
  dateOfBirth: "1990-01-31",
};

const CASES: Array<{ name: string; document: DocumentNode; variables: Record<string, unknown> }> = [
  ...GUARDED_MUTATION_NAMES.map((field) => ({
    name: field,
    document: parse(
      `mutation M($input: ${GUARDED_SAMPLES[field].inputType}!) { ${field}(input: $input) { __typename ... on Failure { code message } } }`,
    ),
    variables: { input: GUARDED_SAMPLES[field].input(VALUES) },
  })),
  {
    name: "registerCibilCustomer with middleName null",
    document: parse(
      "mutation M($input: RegisterCibilCustomerInput!) { registerCibilCustomer(input: $input) { __typename } }",
    ),
    variables: { input: { ...GUARDED_SAMPLES.registerCibilCustomer.input(VALUES), middleName: null } },
  },
  {
    name: "registerCibilCustomer with middleName",
    document: parse(
      "mutation M($input: RegisterCibilCustomerInput!) { registerCibilCustomer(input: $input) { __typename } }",
    ),
    variables: { input: { middleName: "B", ...GUARDED_SAMPLES.registerCibilCustomer.input(VALUES) } },
  },
  {
    name: "cibilCreditHistory and serviceInfo",
    document: parse(
      "query Q($id: String!) { serviceInfo { upstream } cibilCreditHistory(cibilId: $id) { __typename } }",
    ),
    variables: { id: "0042" },
  },
  {
    name: "two aliases of one query",
    document: parse('query Q { a: cibilCreditHistory(cibilId: "1") { __typename } b: serviceInfo { upstream } }'),
    variables: {},
  },
];

type Mode = "refuse" | "pass" | "pass later";

interface Seen {
  events: unknown[];
}

/** A validateFn that notes what it is given (its class, own keys in order, values) and answers as `mode` says. */
function recorder(mode: Mode, seen: Seen): ValidatorFn {
  return (value, type) => {
    seen.events.push({
      validate: typeof type === "function" ? type.name : String(type),
      class: value?.constructor?.name,
      keys: value !== null && typeof value === "object" ? Object.keys(value) : null,
      value,
    });
    if (mode === "refuse") throw new Error("refused by the test's validateFn");
    if (mode === "pass later") return Promise.resolve();
  };
}

function contextFor(seen: Seen): object {
  return {
    requestId: "r",
    log: { error() {}, warn() {}, info() {}, debug() {} },
    upstreamMode: "simulator",
    client: { id: "c" },
    ip: "203.0.113.9",
    idempotencyKey: undefined,
    protection: {
      guard: {
        run: async (req: { field: string; input: object; subject: object }) => {
          seen.events.push({ guard: req.field, input: req.input, keys: Object.keys(req.input), subject: req.subject });
          return { kind: "unavailable" };
        },
      },
    },
    aopay: { cibil: {}, aeps: {} },
    responseHeaders: new Map(),
    callOptions: () => ({}),
    loaders: {
      creditHistory: {
        load: async (id: string) => {
          seen.events.push({ load: id });
          throw new Error("no history in this test");
        },
      },
    },
    summary: { operation: null, result: null },
    trace: {},
  };
}

async function schemaFor(mode: Mode, seen: Seen, rebuild: boolean): Promise<GraphQLSchema> {
  const instances = resolverInstances();
  const options: BuildSchemaOptions = { resolvers: RESOLVERS, validateFn: recorder(mode, seen), container: instances };
  const schema = await buildSchema(options);
  if (rebuild) rebuildHandlerResolvers(schema, options, instances);
  return schema;
}

describe("rebuildHandlerResolvers", () => {
  it("rebuilds every Query and Mutation field of our schema", async () => {
    const instances = resolverInstances();
    const options: BuildSchemaOptions = { resolvers: RESOLVERS, validateFn: () => undefined, container: instances };
    const schema = await buildSchema(options);
    const rebuilt = rebuildHandlerResolvers(schema, options, instances);
    const roots = [schema.getQueryType()!, schema.getMutationType()!].flatMap((t) =>
      Object.keys(t.getFields()).map((f) => `${t.name}.${f}`),
    );
    expect(rebuilt.sort()).toEqual(roots.sort());
    expect(rebuilt).toContain("Mutation.resendAepsOtp");
  });

  it("createSchema: only Query, Mutation, @FieldResolver and getter fields have a resolver (simpleFieldReads)", async () => {
    const schema = await createSchema();
    const withResolver = Object.values(schema.getTypeMap())
      .filter((t) => isObjectType(t) && !t.name.startsWith("__"))
      .flatMap((t) => (isObjectType(t) ? Object.values(t.getFields()).map((f) => [t.name, f] as const) : []))
      .filter(([, f]) => f.resolve !== undefined)
      .map(([t, f]) => `${t}.${f.name}`);
    const roots = [schema.getQueryType()!, schema.getMutationType()!].flatMap((t) =>
      Object.keys(t.getFields()).map((f) => `${t.name}.${f}`),
    );
    // A getter with @Field is type-graphql's internal field resolver: it reads the getter from an instance of the class.
    const fieldResolvers = [
      "CibilOtpVerified.creditHistory",
      "AepsOtpResent.resendAvailableInSeconds",
      "CibilOtpChallenge.resendAvailableInSeconds",
    ];
    expect(withResolver.sort()).toEqual([...roots, ...fieldResolvers].sort());
  });

  it("leaves every field alone without a validateFn, or with a global middleware", async () => {
    const instances = resolverInstances();
    const schema = await buildSchema({ resolvers: RESOLVERS, container: instances });
    expect(rebuildHandlerResolvers(schema, { resolvers: RESOLVERS }, instances)).toEqual([]);
    const options: BuildSchemaOptions = {
      resolvers: RESOLVERS,
      validateFn: () => undefined,
      globalMiddlewares: [(_data, next) => next()],
      container: instances,
    };
    expect(rebuildHandlerResolvers(await buildSchema(options), options, instances)).toEqual([]);
  });

  describe.each<Mode>(["refuse", "pass", "pass later"])("validateFn that will %s", (mode) => {
    it.each(CASES.map((c) => [c.name, c] as const))("%s: as type-graphql's own resolver", async (_name, c) => {
      const answers = [];
      for (const rebuild of [false, true]) {
        const seen: Seen = { events: [] };
        const schema = await schemaFor(mode, seen, rebuild);
        const result = await execute({
          schema,
          document: c.document,
          variableValues: c.variables,
          contextValue: contextFor(seen),
        });
        answers.push({ result: JSON.parse(JSON.stringify(result)), seen: seen.events });
      }
      expect(answers[0].seen.length).toBeGreaterThan(0);
      expect(answers[1]).toEqual(answers[0]);
    });
  });
});
