import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { execute, type GraphQLResolveInfo, parse } from "graphql";
import { Ctx, Info, Mutation, Resolver, buildSchema } from "type-graphql";
import type { GuardedCallOptions } from "../../src/aopay/client";
import { issueSendPass, UnguardedSendError } from "../../src/aopay/send-pass";
import type { GraphQLContext } from "../../src/graphql/context";
import { GUARDED_MUTATION_NAMES, GUARDED_MUTATIONS, GuardedMutation } from "../../src/graphql/guarded-mutations";
import { guardedSend } from "../../src/graphql/guarded-send";
import { createSchema, RESOLVERS } from "../../src/graphql/schema";
import { validateInput } from "../../src/graphql/validation/validate-input";
import { createLogger } from "../../src/logging/logger";
import { GUARDED_SAMPLES, guardedDocument, type SampleValues } from "../helpers/guarded-samples";
import { nextAadhaar, nextAepsRegistration, nextCibilId, nextMobile, nextPan } from "../helpers/identifiers";
import { LogCapture } from "../helpers/log-capture";
import { cibilToken, resultOf } from "../helpers/operations";
import { type ProductionTestStack, startProductionStack, TEST_API_KEY } from "../helpers/stack";

/**
 * The guarded mutations are declared once (GUARDED_MUTATIONS) and every protection derives from that list. These tests
 * walk the schema's Mutation fields, run each one against the production configuration with the real budgets, and
 * prove it went through the guard (once per document, budget, idempotency), with the upstream's call count; then they
 * show that a mutation written outside the list, or calling AOPay around the guard, cannot reach AOPay.
 */
const auth = { "x-api-key": TEST_API_KEY };
const fresh = (cibilId = nextCibilId()): SampleValues => ({
  cibilId,
  accessToken: cibilToken(cibilId),
  otp: "123456",
  mobile: nextMobile(),
  aadhaar: nextAadhaar(),
  ...nextAepsRegistration(),
  pan: nextPan(),
  email: "asha@example.com",
  dateOfBirth: "1990-04-23",
});

describe("every mutation that reaches AOPay goes through the OTP guard", () => {
  let t: ProductionTestStack;
  beforeAll(async () => {
    t = await startProductionStack({
      OTP_COOLDOWN_SECONDS: "60",
      OTP_WINDOW_MAX: "3",
      OTP_DAILY_MAX: "10",
      OTP_VERIFY_MAX: "1",
    });
  });
  afterAll(() => t?.stop());
  beforeEach(() => t.simulator.resetCalls());

  it("the schema's Mutation fields are exactly the guarded mutations (a new mutation must be declared in GUARDED_MUTATIONS)", async () => {
    const mutation = (await createSchema()).getMutationType();
    expect(Object.keys(mutation?.getFields() ?? {}).sort()).toEqual([...GUARDED_MUTATION_NAMES].sort());
  });

  describe.each(GUARDED_MUTATION_NAMES)("%s", (field) => {
    const sample = GUARDED_SAMPLES[field];
    const spec = GUARDED_MUTATIONS[field];
    const run = (values: SampleValues, headers: Record<string, string> = {}) =>
      t.gql(guardedDocument(field), { input: sample.input(values) }, { ...auth, ...headers });

    it("is refused when written twice in one document, before AOPay", async () => {
      const doc = `mutation($a: ${sample.inputType}!, $b: ${sample.inputType}!) { a: ${field}(input: $a) { __typename } b: ${field}(input: $b) { __typename } }`;
      const res = await t.gql(doc, { a: sample.input(fresh()), b: sample.input(fresh()) }, auth);
      expect(res.status).toBe(400);
      expect(res.body.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
      expect(t.simulator.calls()).toBe(0);
    });

    it("an Idempotency-Key replays the first result: one upstream call", async () => {
      const values = fresh();
      const key = randomUUID();
      const first = await run(values, { "idempotency-key": key });
      expect(resultOf(first.body, field).__typename).not.toBe("OtpThrottled");
      const second = await run(values, { "idempotency-key": key });
      expect(second.headers["idempotent-replayed"]).toBe("true");
      expect(second.body).toEqual(first.body);
      expect(t.simulator.calls(sample.endpoint)).toBe(1);
      expect(t.simulator.calls()).toBe(1);
    });

    it(`takes its budget (${spec.budget ?? "none"}) from the list`, async () => {
      const values = fresh();
      await run(values);
      const second = resultOf((await run(values)).body, field);
      if (spec.budget === "send") expect(second).toMatchObject({ __typename: "OtpThrottled", code: "OTP_COOLDOWN" });
      if (spec.budget === "verify")
        expect(second).toMatchObject({ __typename: "OtpThrottled", code: "VERIFY_LIMIT_REACHED" });
      // A registration's budgets are its IP's and client's, not the customer's (the same customer twice is sent
      // twice: AOPay answers it); their refusal: test/e2e/shared-tables.test.ts.
      const perCustomer = spec.budget === "send" || spec.budget === "verify";
      expect(t.simulator.calls(sample.endpoint)).toBe(perCustomer ? 1 : 2);
    });
  });
});

describe("a mutation cannot reach AOPay around the guard", () => {
  let t: ProductionTestStack;
  beforeAll(async () => {
    t = await startProductionStack();
  });
  afterAll(() => t?.stop());
  beforeEach(() => t.simulator.resetCalls());

  const input = { cibilId: "102277100", accessToken: "tok-rogue-0001" };

  // What a careless new resolver could look like: every one of them must fail without an upstream call.
  @Resolver()
  class RogueResolver {
    @Mutation(() => String, { description: "Calls AOPay directly, with the request's ordinary call options." })
    async rogueDirect(@Ctx() ctx: GraphQLContext): Promise<string> {
      await ctx.aopay.cibil.generateOtp(input, ctx.callOptions() as GuardedCallOptions);
      return "sent";
    }

    @Mutation(() => String, { description: "Forges a pass." })
    async rogueForged(@Ctx() ctx: GraphQLContext): Promise<string> {
      await ctx.aopay.cibil.generateOtp(input, { ...ctx.callOptions(), pass: { field: "generateCibilOtp" } });
      return "sent";
    }

    @Mutation(() => String, { description: "Uses the guard without being in GUARDED_MUTATIONS." })
    async rogueGuarded(@Ctx() ctx: GraphQLContext, @Info() info: GraphQLResolveInfo): Promise<string> {
      await guardedSend(ctx, info, {
        request: input,
        send: ctx.aopay.cibil.generateOtp,
        toResult: () => ({}),
        resultTypes: [],
      });
      return "sent";
    }
  }

  const contextFor = (): GraphQLContext => {
    const log = createLogger({ level: "debug", destination: new LogCapture() });
    return { aopay: t.stack.app.aopay, log, callOptions: () => ({ log }) } as unknown as GraphQLContext;
  };

  it.each(["rogueDirect", "rogueForged", "rogueGuarded"])("%s fails, and AOPay sees no call", async (field) => {
    const schema = await buildSchema({ resolvers: [...RESOLVERS, RogueResolver], validateFn: validateInput });
    const result = await execute({ schema, document: parse(`mutation { ${field} }`), contextValue: contextFor() });
    expect(result.errors?.[0]?.message).toMatch(/send pass|not a mutation in GUARDED_MUTATIONS/);
    expect(t.simulator.calls()).toBe(0);
  });

  it("@GuardedMutation refuses, at startup, a mutation that is not in the list", () => {
    expect(() => {
      @Resolver()
      class Undeclared {
        @GuardedMutation(() => String)
        sendSomethingNew(): string {
          return "x";
        }
      }
      return Undeclared;
    }).toThrow(/add it to GUARDED_MUTATIONS/);
  });

  it("a pass admits one call: a second call with the same pass is refused before AOPay", async () => {
    const log = createLogger({ level: "debug", destination: new LogCapture() });
    const options = { log, pass: issueSendPass("generateCibilOtp") };
    await t.stack.app.aopay.cibil.generateOtp(input, options);
    await expect(t.stack.app.aopay.cibil.generateOtp(input, options)).rejects.toBeInstanceOf(UnguardedSendError);
    expect(t.simulator.calls()).toBe(1);
  });

  it("reads need no pass (the credit history is not a write)", async () => {
    const log = createLogger({ level: "debug", destination: new LogCapture() });
    await t.stack.app.aopay.cibil.creditHistory({ cibilId: "102277100" }, { log }).catch(() => undefined);
    expect(t.simulator.calls("cibil.creditHistory")).toBe(1);
  });

  it("only the guard issues send passes (source scan of src/)", () => {
    const root = join(__dirname, "../..");
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
      );
    const issuers = files(join(root, "src"))
      .filter((f) => /\bissueSendPass\s*\(/.test(readFileSync(f, "utf8")))
      .map((f) => relative(root, f));
    expect(issuers.sort()).toEqual(["src/aopay/send-pass.ts", "src/protection/send-guard.ts"]);
  });
});
