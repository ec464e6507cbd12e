import {
  holdsUnsafeNumber,
  parseEnvelope,
  readFlag,
  readInt32,
  readObject,
  readStatus,
  readString,
} from "../../../src/aopay/envelope";
import { fixture } from "../../helpers/fixtures";

const JSON_TYPE = "application/json";

describe("parseEnvelope: every documented envelope folds into one shape", () => {
  it('CIBIL GenerateOTP success: status "SUCCESS", error_code SPC-200 is not an error', () => {
    const e = parseEnvelope(JSON_TYPE, fixture("cibil/generate-otp.success"));
    expect(e).toMatchObject({
      kind: "success",
      upstreamCode: "SPC-200",
      message: "success",
      merchantTransactionId: "SPCBL2308181502437743aQaHNGxZM",
    });
  });

  it("CIBIL SubmitOTP success (white-label example)", () => {
    expect(parseEnvelope(JSON_TYPE, fixture("cibil/submit-otp.success"))).toMatchObject({
      kind: "success",
      merchantTransactionId: "SPCBL2308181506522334ZiSHM7bAe",
    });
  });

  it('CIBIL generic error: status "False" with a string code and description', () => {
    expect(parseEnvelope(JSON_TYPE, fixture("cibil/generic-error"))).toMatchObject({
      kind: "failure",
      upstreamCode: "207",
      message: "Amount is Requaired",
    });
  });

  it("AEPS ResendOTP success: status true, message under msg", () => {
    expect(parseEnvelope(JSON_TYPE, fixture("aeps/resend-otp.success"))).toMatchObject({
      kind: "success",
      message: "OTP Resend Request Completed",
    });
  });

  it("AEPS error: status false with response_code", () => {
    expect(parseEnvelope(JSON_TYPE, fixture("aeps/resend-otp.error"))).toMatchObject({
      kind: "failure",
      upstreamCode: "5",
      message: "Invalid signature encoding",
    });
  });

  it("CIBIL 401 schema: responsecode without underscore", () => {
    const body = Buffer.from(JSON.stringify({ responsecode: 401, status: false, message: "Unauthorized" }));
    expect(parseEnvelope(JSON_TYPE, body)).toMatchObject({
      kind: "failure",
      upstreamCode: "401",
      message: "Unauthorized",
    });
  });

  it("a JSON object without a readable status is unrecognized, not success", () => {
    expect(parseEnvelope(JSON_TYPE, Buffer.from('{"result":{}}'))).toMatchObject({ kind: "unrecognized" });
    expect(parseEnvelope(JSON_TYPE, Buffer.from('{"status":"maybe"}'))).toMatchObject({ kind: "unrecognized" });
  });

  it.each([
    ["", "empty"],
    ["   ", "empty"],
    ["\u00a0\ufeff \n", "empty"], // Unicode blanks only: not a `{` after JSON blanks, so the general test reads them
    [" \r\n\t <p>busy</p>", "html"],
    ["<html><body>502 Bad Gateway</body></html>", "html"],
    ['{"status":"SUCCESS","res', "invalid-json"],
    ["[1,2]", "not-object"],
    ["null", "not-object"],
  ])("unparseable body %j is %s", (text, reason) => {
    expect(parseEnvelope(JSON_TYPE, Buffer.from(text))).toEqual({ kind: "unparseable", reason });
  });

  it("reads a success after a UTF-8 byte order mark (RFC 8259 §8.1), as a success", () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    expect(parseEnvelope(JSON_TYPE, Buffer.concat([bom, Buffer.from('{"status":"SUCCESS"}')]))).toMatchObject({
      kind: "success",
    });
    expect(parseEnvelope(JSON_TYPE, Buffer.concat([bom, Buffer.from(" <html>")]))).toMatchObject({ reason: "html" });
  });

  it("two top-level status keys that disagree are unrecognized; agreeing ones, or nested ones, are read", () => {
    const read = (text: string) => parseEnvelope(JSON_TYPE, Buffer.from(text)).kind;
    expect(read('{"status":false,"message":"no","status":"SUCCESS"}')).toBe("unrecognized");
    expect(read('{"status":"SUCCESS","status":false}')).toBe("unrecognized");
    expect(read('{"st\\u0061tus":false,"status":true}')).toBe("unrecognized");
    expect(read('{"status":{"a":1},"status":true}')).toBe("unrecognized");
    expect(read('{"status":"SUCCESS","status":"Success"}')).toBe("success");
    expect(read('{"result":{"status":false},"status":"SUCCESS","m":"\\"status\\": false"}')).toBe("success");
    expect(read('{"status":true,"statusCode":500,"m":"\\u00e9"}')).toBe("success");
  });

  it.each([
    '"status"',
    '"st\\u0061tus"',
    '"\\u0073\\u0074\\u0061\\u0074\\u0075\\u0073"',
    '"\\u0073\\u0074\\u0041\\u0074\\u0075\\u0073"',
    '"statu\\u0073"',
    '"statu\\u0053"',
    '"\\u0053tatus"',
    '"st\\/atus"',
    '"statu"',
    '"statuss"',
    '"status\\u0000"',
    '"\\u0073\\u0074\\u0061\\u0074\\u0075\\u0073\\u0073"',
    '"st\\u0061tu"',
    '"\\\\status"',
  ])("a second top-level key written %s disagrees exactly when it decodes to status", (literal) => {
    // The reference is JSON.parse's own reading of the key: the scan must spell keys as the parser decodes them.
    const spellsStatus = JSON.parse(literal) === "status";
    const kind = parseEnvelope(JSON_TYPE, Buffer.from(`{"status":true,"m":"\\u00e9",${literal}:false}`)).kind;
    expect(kind).toBe(spellsStatus ? "unrecognized" : "success");
  });

  it("reads a JSON body whatever its content type says; text/html only names a body that is not JSON", () => {
    // The docs are silent on AOPay's Content-Type (docs/upstream/aopay-api.md §1, §2: "RESPONSE BODY Json"): a JSON
    // answer served as text/html was unparseable, a delivered OTP OUTCOME_UNKNOWN (test/e2e/upstream-contract.test.ts).
    expect(parseEnvelope("text/html; charset=utf-8", Buffer.from('{"status":true}'))).toMatchObject({
      kind: "success",
    });
    expect(parseEnvelope("TEXT/HTML", Buffer.from(' {"status":"False","code":"207"}'))).toMatchObject({
      kind: "failure",
      upstreamCode: "207",
    });
    expect(parseEnvelope("text/html", Buffer.from('{"status":tru'))).toEqual({ kind: "unparseable", reason: "html" });
    expect(parseEnvelope(JSON_TYPE, Buffer.from('{"status":tru'))).toEqual({
      kind: "unparseable",
      reason: "invalid-json",
    });
    expect(parseEnvelope(JSON_TYPE, Buffer.from("<html>busy</html>"))).toEqual({ kind: "unparseable", reason: "html" });
    expect(parseEnvelope("text/html", Buffer.from("[1]"))).toEqual({ kind: "unparseable", reason: "not-object" });
  });
});

describe("status and boolean readers (Observation 6)", () => {
  it.each([
    [true, true],
    ["SUCCESS", true],
    ["Success", true],
    ["true", true],
    [false, false],
    ["False", false],
    ["FALSE", false],
    // Words the docs never use are not guessed at (an answer with one is unrecognized: OUTCOME_UNKNOWN on a send).
    ["FAILED", undefined],
    ["error", undefined],
    ["successful", undefined],
    ["1", undefined],
    [1, undefined],
    ["Pending", undefined],
    [null, undefined],
  ])("readStatus(%j) = %j", (value, expected) => {
    expect(readStatus(value)).toBe(expected);
  });

  it.each([
    ["true", true],
    ["TRUE", true],
    [" True ", true],
    ["false", false],
    [true, true],
    [false, false],
    [1, true],
    [0, false],
    ["1", true],
    ["0", false],
    ["yes", null],
    [undefined, null],
    [null, null],
    [2, null],
    [-0.5, null],
    ["01", null],
  ])("readFlag(%j) = %j", (value, expected) => {
    expect(readFlag(value)).toBe(expected);
  });

  it.each([
    [1, 1],
    [0, 0],
    [-5, -5],
    ["207", 207],
    ["-1", -1],
    ["007", 7],
    [2147483647, 2147483647],
    [-2147483648, -2147483648],
    [2147483648, null],
    ["2147483648", null],
    ["12345678901", null],
    [1.5, null],
    ["1.0", null],
    ["1e3", null],
    [" 1", null],
    ["", null],
    [true, null],
    [null, null],
    [undefined, null],
  ])("readInt32(%j) = %j", (value, expected) => {
    expect(readInt32(value)).toBe(expected);
  });
});

describe("integers beyond 2^53: read with the digits AOPay wrote", () => {
  const BIG = "123456789012345678901";
  const parse = (text: string) => parseEnvelope(JSON_TYPE, Buffer.from(text));
  it("an identifier, a code and a reference read exactly; safe and fractional numbers as before", () => {
    const e = parse(`{"status":true,"code":${BIG},"merchant_trans_id":-${BIG},"result":{"id":${BIG},"n":7,"f":1.5}}`);
    expect(e).toMatchObject({ kind: "success", upstreamCode: BIG, merchantTransactionId: `-${BIG}` });
    const result = readObject((e as { body: Record<string, unknown> }).body.result) ?? {};
    expect(readString(result.id)).toBe(BIG);
    expect(result.n).toBe(7);
    expect(result.f).toBe(1.5);
    expect(JSON.stringify(result)).toBe(`{"id":${BIG},"n":7,"f":1.5}`);
  });
  it("at any depth: in a list, a list of lists, an object inside a list, and the result itself", () => {
    const text = `{"status":true,"result":{"list":[1,${BIG},[[-${BIG}]],{"x":[{"y":${BIG}}]}],"z":{"w":{"v":${BIG}}}}}`;
    const e = parse(text) as { body: Record<string, unknown> };
    expect(JSON.stringify(e.body.result)).toBe(
      `{"list":[1,${BIG},[[-${BIG}]],{"x":[{"y":${BIG}}]}],"z":{"w":{"v":${BIG}}}}`,
    );
    const list = (readObject(e.body.result) ?? {}).list as unknown[];
    expect(readString(list[1])).toBe(BIG);
    expect(readString(((list[2] as unknown[])[0] as unknown[])[0])).toBe(`-${BIG}`);
    const listed = parse(`{"status":true,"result":[${BIG}]}`) as { body: Record<string, unknown> };
    expect(readString((listed.body.result as unknown[])[0])).toBe(BIG);
  });
  it("a number not written as an integer's digits reads as JSON.parse reads it, beyond 2^53 too", () => {
    const text = '{"status":true,"a":1e20,"b":-1.5e300,"c":12345678901234567.5,"d":[2e16],"e":9007199254740993.0}';
    const e = parse(text) as { body: Record<string, unknown> };
    expect(e.body).toEqual(JSON.parse(text));
    expect(JSON.stringify(e.body)).toBe(JSON.stringify(JSON.parse(text)));
  });
  it("an integer beyond a double's range (Infinity to JSON.parse) reads as its digits too", () => {
    const HUGE = `1${"0".repeat(400)}`;
    const e = parse(`{"status":true,"result":{"huge":${HUGE},"low":-${HUGE}}}`) as { body: Record<string, unknown> };
    const result = readObject(e.body.result) ?? {};
    expect(readString(result.huge)).toBe(HUGE);
    expect(readString(result.low)).toBe(`-${HUGE}`);
  });
  it("the second parse is asked for by an integer beyond 2^53 or Infinity, never by a finite fraction", () => {
    // A report of amounts (fractions) is parsed once: the check that asks for the reviver's parse skips them.
    expect(holdsUnsafeNumber(JSON.parse('{"a":[1.5,{"b":-0.25}],"c":123456.78,"d":9007199254740991}'))).toBe(false);
    expect(holdsUnsafeNumber(JSON.parse('{"a":[1.5,{"b":[9007199254740992]}]}'))).toBe(true);
    expect(holdsUnsafeNumber(JSON.parse('{"a":{"b":1e20}}'))).toBe(true);
    expect(holdsUnsafeNumber({ a: [Infinity] })).toBe(true);
    expect(holdsUnsafeNumber({ a: [-Infinity] })).toBe(true);
    expect(holdsUnsafeNumber(1.5)).toBe(false);
    expect(holdsUnsafeNumber(2 ** 60)).toBe(true);
  });
  it("such a number is no object (readObject); 2^53 - 1 stays a number; digits inside a string are left alone", () => {
    const text = `{"status":true,"result":${BIG},"max":9007199254740991,"message":"ref:${BIG}","s":"${BIG}"}`;
    const e = parse(text) as { body: Record<string, unknown> };
    expect(readString(e.body.result)).toBe(BIG);
    expect(readObject(e.body.result)).toBeUndefined();
    expect(e.body.max).toBe(Number.MAX_SAFE_INTEGER);
    expect(e.body.message).toBe(`ref:${BIG}`);
    expect(e.body.s).toBe(BIG);
  });
});
