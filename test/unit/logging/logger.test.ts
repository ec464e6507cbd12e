import { isInputObjectType } from "graphql";
import type { Endpoint, WireContext } from "../../../src/aopay/endpoint";
import { aepsResendOtp } from "../../../src/aopay/endpoints/aeps-resend-otp";
import { aepsVerifyOtp } from "../../../src/aopay/endpoints/aeps-verify-otp";
import { cibilCreditHistory } from "../../../src/aopay/endpoints/cibil-credit-history";
import { cibilGenerateOtp } from "../../../src/aopay/endpoints/cibil-generate-otp";
import { cibilRegister } from "../../../src/aopay/endpoints/cibil-register";
import { cibilSubmitOtp } from "../../../src/aopay/endpoints/cibil-submit-otp";
import { createSchema } from "../../../src/graphql/schema";
import { createLogger, redactKeys, SENSITIVE_KEYS } from "../../../src/logging/logger";
import { LogCapture } from "../../helpers/log-capture";

describe("log redaction", () => {
  it("redacts sensitive keys at the top level and two levels down, copying only what changes", () => {
    const input = {
      fine: 1,
      otp: "123456",
      input: { aadhaar: "234123412346", nested: { accessToken: "t", ok: true } },
      list: [{ otp: "x" }],
    };
    const out = redactKeys(input);
    expect(out).toEqual({
      fine: 1,
      otp: "[REDACTED]",
      input: { aadhaar: "[REDACTED]", nested: { accessToken: "[REDACTED]", ok: true } },
      list: [{ otp: "x" }],
    });
    expect(input.otp).toBe("123456"); // the caller's object is untouched
    const clean = { a: 1, b: { c: 2 } };
    expect(redactKeys(clean)).toBe(clean);
  });

  it("applies to every log call at any level; child bindings (ids only, by convention) still pass the line scrubber", () => {
    const capture = new LogCapture();
    const log = createLogger({ level: "debug", destination: capture, secrets: ["AOP-554"] });
    log
      .child({ requestId: "r1", mobile: "9876543210" })
      .debug({ variables: { input: { otp: "4071" } }, Userkey: "K1", note: "AOP-554 and 9123456789" }, "x");
    const line = capture.records()[0];
    expect(line).toMatchObject({
      requestId: "r1",
      mobile: "XXXXXX3210",
      variables: "[REDACTED]",
      Userkey: "[REDACTED]",
      note: "[REDACTED] and XXXXXX6789",
    });
    expect(capture.text()).not.toMatch(/4071|9876543210|K1"/);
  });
});

describe("SENSITIVE_KEYS covers every input field and every wire key (a new one cannot be forgotten)", () => {
  /** Keys that hold nothing about a customer or a secret: our generated order ids, fixed routing values, containers. */
  const HARMLESS = new Set(["input", "orderId", "order_id", "client_order_id", "Pipe", "AccessModeType"]);
  const wire: WireContext = {
    registrationId: "R",
    companyCode: "C",
    aepsPipe: "bank6",
    aepsAccessModeType: "SITE",
    dobFormat: "DD/MM/YYYY",
  };
  const sample = {
    cibilId: "1",
    accessToken: "t",
    otp: "1234",
    questionKey: "q",
    answerKey: "a",
    orderId: "1",
    firstName: "A",
    middleName: "B",
    lastName: "C",
    pan: "ABCPE1234F",
    dateOfBirth: "1990-01-01",
    email: "a@b.co",
    mobile: "9876543210",
    userKey: "K",
    aadhaar: "234123412346",
    primaryKeyId: "P",
    encodeTxnId: "E",
  };
  const endpoints: Array<Endpoint<typeof sample, unknown>> = [
    cibilGenerateOtp,
    cibilSubmitOtp,
    cibilCreditHistory,
    cibilRegister("GET"),
    aepsResendOtp,
    aepsVerifyOtp,
  ];

  it("every key an endpoint puts on the wire", () => {
    const keys = new Set(endpoints.flatMap((e) => Object.keys(e.toWire(sample, wire))));
    expect(keys.size).toBeGreaterThan(20);
    expect([...keys].filter((k) => !SENSITIVE_KEYS.has(k) && !HARMLESS.has(k))).toEqual([]);
  });

  it("every input field and argument of the schema", async () => {
    const schema = await createSchema();
    const names = new Set<string>();
    for (const type of Object.values(schema.getTypeMap())) {
      if (isInputObjectType(type) && !type.name.startsWith("__"))
        for (const field of Object.keys(type.getFields())) names.add(field);
    }
    for (const root of [schema.getQueryType(), schema.getMutationType()]) {
      for (const field of Object.values(root?.getFields() ?? {})) for (const arg of field.args) names.add(arg.name);
    }
    expect(names.size).toBeGreaterThan(15);
    expect([...names].filter((k) => !SENSITIVE_KEYS.has(k) && !HARMLESS.has(k))).toEqual([]);
  });
});
