import { cibilSubmitOtp } from "../../../../src/aopay/endpoints/cibil-submit-otp";
import { interpretResponse } from "../../../../src/aopay/outcome";
import { WIRE as wire, scrubber } from "../../../helpers/endpoint-wire";
import { fixture } from "../../../helpers/fixtures";

describe("cibil.submitOtp (white-label SubmitOTP example)", () => {
  const input = {
    cibilId: "9362678",
    accessToken: "123456542124",
    otp: "1234",
    questionKey: "1423489238",
    answerKey: "USER_TO_INPUT_ANSWER",
  };

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
    const envelope = interpretResponse(
      cibilSubmitOtp,
      { statusCode: 200, headers: {}, body: fixture("cibil/submit-otp.success") },
      scrubber,
    );
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
