import { unknownKeysOf } from "../../../src/aopay/client";
import { formatDob } from "../../../src/aopay/endpoint";
import { aepsVerifyOtp } from "../../../src/aopay/endpoints/aeps-verify-otp";
import { cibilCreditHistory } from "../../../src/aopay/endpoints/cibil-credit-history";
import { cibilRegister } from "../../../src/aopay/endpoints/cibil-register";
import { cibilSubmitOtp } from "../../../src/aopay/endpoints/cibil-submit-otp";
import { newOrderId } from "../../../src/aopay/order-id";
import { type SuccessEnvelope, interpretResponse } from "../../../src/aopay/outcome";
import { maskEmail } from "../../../src/pii/email";
import { canonicalPan, maskPan } from "../../../src/pii/pan";
import { Scrubber } from "../../../src/pii/scrub";
import { fixture } from "../../helpers/fixtures";

const wire = { registrationId: "AOP-554", companyCode: "CMP1045", aepsPipe: "bank6", aepsAccessModeType: "SITE", dobFormat: "DD/MM/YYYY" as const };
const scrubber = new Scrubber();
const success = (body: Record<string, unknown>): SuccessEnvelope => ({ kind: "success", body, message: body.message as string | undefined });

describe("cibil.register (registeration, sic; response undocumented)", () => {
  const input = {
    orderId: "173200000000012345",
    firstName: "Asha",
    middleName: null,
    lastName: "Kulkarni",
    pan: "ABCPE1234F",
    dateOfBirth: "1990-04-23",
    email: "asha@example.com",
    mobile: "9876543210",
  };

  it("is GET by default (page header), POST when configured (its cURL sample), at the misspelt path", () => {
    expect(cibilRegister("GET")).toMatchObject({ method: "GET", path: "/CibilScore/registeration", sideEffect: true });
    expect(cibilRegister("POST").method).toBe("POST");
  });

  it("builds the documented body: snake_case fields, mobile as a string, DOB in the configured format, no empty middle name", () => {
    expect(cibilRegister("GET").toWire(input, wire)).toEqual({
      order_id: "173200000000012345",
      first_name: "Asha",
      last_name: "Kulkarni",
      pancard: "ABCPE1234F",
      date_of_birth: "23/04/1990",
      email_id: "asha@example.com",
      mobile_number: "9876543210",
      RegistrationID: "AOP-554",
      CompanyCode: "CMP1045",
    });
    expect(cibilRegister("GET").toWire({ ...input, middleName: "R" }, { ...wire, dobFormat: "MM/DD/YYYY" })).toMatchObject({
      middle_name: "R",
      date_of_birth: "04/23/1990",
    });
  });

  it("reads only the fields sibling CIBIL envelopes carry (result.cibil_id, top-level access_token)", () => {
    const out = cibilRegister("GET").fromWire(
      success({ status: "SUCCESS", message: "success", access_token: "tok-1", result: { cibil_id: "700000001", extra: 1 } }),
      input,
      scrubber,
    );
    expect(out).toEqual({
      orderId: input.orderId,
      cibilId: "700000001",
      accessToken: "tok-1",
      upstreamMessage: "success",
      merchantTransactionId: null,
      // Masked here, in the endpoint module (with pii/), like the AEPS answers: the GraphQL type only copies them.
      maskedMobile: "XXXXXX3210",
      maskedPan: "XXXXXX234F",
      maskedEmail: "a***@example.com",
    });
    expect(cibilRegister("GET").fromWire(success({ status: true }), input, scrubber)).toMatchObject({ cibilId: null, accessToken: null });
  });
});

describe("cibil.submitOtp (white-label SubmitOTP example)", () => {
  const input = { cibilId: "9362678", accessToken: "123456542124", otp: "1234", questionKey: "1423489238", answerKey: "USER_TO_INPUT_ANSWER" };

  it("sends cibil_id as a string here (Int on GenerateOTP)", () => {
    expect(cibilSubmitOtp.toWire(input, wire)).toEqual({
      cibil_id: "9362678",
      access_token: "123456542124",
      otp: "1234",
      question_key: "1423489238",
      answer_key: "USER_TO_INPUT_ANSWER",
      RegistrationID: "AOP-554",
      CompanyCode: "CMP1045",
    });
  });

  it("maps the documented success example", () => {
    const envelope = interpretResponse(cibilSubmitOtp, { statusCode: 200, headers: {}, body: fixture("cibil/submit-otp.success") }, scrubber);
    expect(cibilSubmitOtp.fromWire(envelope, input, scrubber)).toEqual({
      cibilIdMasked: "93626**",
      status: "SUCCESS",
      returningCustomer: false,
      scoreFetchDate: null,
      merchantTransactionId: "SPCBL2308181506522334ZiSHM7bAe",
      cibilId: "9362678",
    });
  });
});

describe("cibil.creditHistory (payload undocumented)", () => {
  it("is a read (no side effect), sends client_order_id, and hands AOPay's result on as the report, unchanged", () => {
    expect(cibilCreditHistory.sideEffect).toBe(false);
    expect(cibilCreditHistory.toWire({ cibilId: "7", orderId: "o1" }, wire)).toEqual({ client_order_id: "o1", cibil_id: "7", RegistrationID: "AOP-554", CompanyCode: "CMP1045" });
    // Not scrubbed: the report is the customer's own data, for the client the customer consented to.
    const result = { score: 700, holder: { mobile: "9876543210" }, cibil_score_fetch_date: 20240131 };
    const out = cibilCreditHistory.fromWire(success({ status: "SUCCESS", message: "ok", result }), { cibilId: "7", orderId: "o1" }, scrubber);
    expect(out).toEqual({ cibilId: "7", orderId: "o1", upstreamMessage: "ok", merchantTransactionId: null, report: result, scoreFetchDate: "20240131" });
    expect(out.report).toBe(result);
  });

  it("has no report when AOPay's answer carries no result object", () => {
    const out = cibilCreditHistory.fromWire(success({ status: "SUCCESS", result: ["not", "an", "object"] }), { cibilId: "7", orderId: "o1" }, scrubber);
    expect(out).toMatchObject({ report: null, scoreFetchDate: null });
  });

  it("knows every key inside the report, so the unknown-keys log line never names one", () => {
    expect(unknownKeysOf({ status: "SUCCESS", result: { "9876543210": 1, name: "x" }, extra: 1 }, cibilCreditHistory.knownKeys)).toEqual(["extra"]);
  });
});

describe("aeps.verifyOtp", () => {
  it("sends the ResendOTP fields plus Otp, and returns masked identifiers only", () => {
    const input = { userKey: "K1", mobile: "9876543210", aadhaar: "234123412346", primaryKeyId: "P", encodeTxnId: "E", otp: "123456" };
    expect(aepsVerifyOtp.toWire(input, wire)).toMatchObject({ Otp: "123456", Mobile: 9876543210, AdhaarNumber: "234123412346", Pipe: "bank6" });
    const out = aepsVerifyOtp.fromWire(success({ status: true, data: { message: "done", response_code: 1, data: { ref: "R" } } }), input, scrubber);
    expect(out).toEqual({ upstreamMessage: "done", upstreamResponseCode: 1, maskedAadhaar: "XXXX XXXX 2346", maskedMobile: "XXXXXX3210" });
  });
});

describe("helpers", () => {
  it("formatDob writes an ISO date in each supported wire format", () => {
    expect(formatDob("2000-01-31", "DD/MM/YYYY")).toBe("31/01/2000");
    expect(formatDob("2000-01-31", "MM/DD/YYYY")).toBe("01/31/2000");
    expect(formatDob("2000-01-31", "YYYY-MM-DD")).toBe("2000-01-31");
  });

  it("newOrderId is 18 digits, unique, below 2^63", () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newOrderId()));
    expect(ids.size).toBeGreaterThan(990);
    for (const id of ids) {
      expect(id).toMatch(/^[0-9]{18}$/);
      expect(BigInt(id) < 2n ** 63n).toBe(true);
    }
  });

  it("unknownKeysOf lists undocumented keys by name, one level deep, never values", () => {
    const body = { status: "SUCCESS", result: { cibil_id: "1", score: { value: 700 } }, extra: "9876543210" };
    expect(unknownKeysOf(body, ["status", "result", "result.cibil_id"])).toEqual(["result.score", "extra"]);
  });

  it("PAN rules and masking", () => {
    expect(canonicalPan("abcpe1234f")).toBe("ABCPE1234F");
    expect(canonicalPan("FRS23456")).toBeNull(); // AOPay's own example is not a PAN
    expect(canonicalPan("ABCXE1234F")).toBeNull(); // X is not a holder type
    expect(maskPan("ABCPE1234F")).toBe("XXXXXX234F");
    expect(maskEmail("asha.k@example.co.in")).toBe("a***@example.co.in");
  });
});
