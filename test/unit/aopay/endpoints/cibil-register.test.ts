import { cibilRegister } from "../../../../src/aopay/endpoints/cibil-register";
import { Scrubber } from "../../../../src/pii/scrub";
import { REGISTRATION_INPUT, WIRE as wire, scrubber, successOf as success } from "../../../helpers/endpoint-wire";

describe("cibil.register (registeration, sic; response undocumented)", () => {
  const input = REGISTRATION_INPUT;

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
    expect(
      cibilRegister("GET").toWire({ ...input, middleName: "R" }, { ...wire, dobFormat: "MM/DD/YYYY" }),
    ).toMatchObject({
      middle_name: "R",
      date_of_birth: "04/23/1990",
    });
  });

  it("reads only the fields sibling CIBIL envelopes carry (result.cibil_id, top-level access_token)", () => {
    const out = cibilRegister("GET").fromWire(
      success({
        status: "SUCCESS",
        message: "success",
        access_token: "tok-1",
        result: { cibil_id: "700000001", extra: 1 },
      }),
      input,
      scrubber,
    );
    expect(out).toEqual({
      orderId: input.orderId,
      cibilId: "700000001",
      issuedCibilId: "700000001",
      accessToken: "tok-1",
      issuedAccessToken: "tok-1",
      upstreamMessage: "success",
      merchantTransactionId: null,
      // Masked here, in the endpoint module (with pii/), like the AEPS answers: the GraphQL type only copies them.
      maskedMobile: "XXXXXX3210",
      maskedPan: "XXXXXX234F",
      maskedEmail: "a***@example.com",
    });
    expect(cibilRegister("GET").fromWire(success({ status: true }), input, scrubber)).toMatchObject({
      cibilId: null,
      issuedCibilId: null,
      accessToken: null,
      issuedAccessToken: null,
    });
  });

  it("keeps the id as issued beside the client's copy, which is scrubbed of the request's values and credentials", () => {
    // The request's own mobile inside the id (the scrubber's `identifier`): the copy shown is scrubbed, the id AOPay
    // issued, which its GenerateOTP sends for, is kept whole for remembering the mobile under it (guarded-send.ts).
    const endpoint = cibilRegister("GET");
    const text = new Scrubber([wire.registrationId, wire.companyCode]).forRequest(endpoint.sensitive(input, wire));
    for (const issued of [`1${input.mobile}`, `7${wire.companyCode}1`]) {
      const out = endpoint.fromWire(success({ status: true, result: { cibil_id: issued } }), input, text);
      expect(out.cibilId).not.toBe(issued);
      expect(out.issuedCibilId).toBe(issued);
    }
    // A number, as GenerateOTP documents the id: its digits.
    const numeric = cibilRegister("GET").fromWire(success({ status: true, cibil_id: 102277100 }), input, scrubber);
    expect(numeric).toMatchObject({ cibilId: "102277100", issuedCibilId: "102277100" });
  });
});
