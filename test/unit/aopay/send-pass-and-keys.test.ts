import { type JsonObject, parseEnvelope, readString } from "../../../src/aopay/envelope";
import { unknownKeysOf } from "../../../src/aopay/client";
import { issueSendPass, redeemSendPass } from "../../../src/aopay/send-pass";

describe("send passes: one call per pass, nothing else is one", () => {
  it("a pass redeems once", () => {
    const pass = issueSendPass("resendAepsOtp");
    expect(pass.field).toBe("resendAepsOtp");
    expect(redeemSendPass(pass)).toBe(true);
    expect(redeemSendPass(pass)).toBe(false);
  });

  it("copies, look-alikes and non-objects are refused, and leave the real pass live", () => {
    const pass = issueSendPass("resendAepsOtp");
    expect(redeemSendPass({ ...pass })).toBe(false);
    expect(redeemSendPass({ field: "resendAepsOtp" })).toBe(false);
    expect(redeemSendPass(Object.create(pass as object))).toBe(false);
    for (const value of [undefined, null, "pass", 1, () => pass]) expect(redeemSendPass(value)).toBe(false);
    expect(redeemSendPass(pass)).toBe(true);
  });
});

describe("unknownKeysOf: exactly the paths not listed in knownKeys", () => {
  it("an integer beyond 2^53 (kept as its digits) is a value, not an object with keys", () => {
    const { body } = <{ body: JsonObject }>(
      parseEnvelope("application/json", Buffer.from('{"status":true,"cibil_id":123456789012345678901}'))
    );
    expect(readString(body.cibil_id)).toBe("123456789012345678901");
    expect(unknownKeysOf(body, ["status", "cibil_id"])).toEqual([]);
  });

  it("allocates no list when every key is known, and lists new ones in body order", () => {
    const known = ["status", "data", "data.message", "data.data"];
    expect(unknownKeysOf({ status: true, data: { message: "x", data: {} } }, known)).toEqual([]);
    expect(unknownKeysOf({ x: 1, data: { message: "x", y: 2 }, status: true, z: null }, known)).toEqual([
      "x",
      "data.y",
      "z",
    ]);
  });

  it("an inner path listed without its parent does not make the parent known", () => {
    expect(unknownKeysOf({ data: { message: "x" } }, ["data.message"])).toEqual(["data"]);
  });

  it("`key.*` admits every key below it; arrays and scalars are not looked into", () => {
    const known = ["result", "result.*", "list", "n"];
    expect(unknownKeysOf({ result: { a: 1, b: { c: 2 } }, list: [{ q: 1 }], n: null }, known)).toEqual([]);
  });

  it("keys with dots match the listed path exactly, as the joined string would", () => {
    expect(unknownKeysOf({ "a.b": 1, a: { "b.c": 1, d: 1 } }, ["a.b", "a", "a.b.c"])).toEqual(["a.d"]);
  });

  it("lists at most 50", () => {
    const body = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`k${i}`, i]));
    expect(unknownKeysOf(body, [])).toHaveLength(50);
  });
});
