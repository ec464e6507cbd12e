import { aepsResendOtp } from "../../../../src/aopay/endpoints/aeps-resend-otp";
import { type SuccessEnvelope, interpretResponse } from "../../../../src/aopay/outcome";
import { Scrubber } from "../../../../src/pii/scrub";
import { fixture } from "../../../helpers/fixtures";

const wire = {
  registrationId: "AOP-554",
  companyCode: "CMP1045",
  aepsPipe: "bank6",
  aepsAccessModeType: "SITE",
  dobFormat: "DD/MM/YYYY" as const,
};
const scrubber = new Scrubber();
const success = (name: string, endpoint: { name: string; sideEffect: boolean }): SuccessEnvelope =>
  interpretResponse(
    endpoint,
    { statusCode: 200, headers: { "content-type": "application/json" }, body: fixture(name) },
    scrubber,
  );

describe("aeps.resendOtp wire mapping (ResendOTP seed page)", () => {
  const input = {
    userKey: "AOP554N3XXXX",
    mobile: "9876543210",
    aadhaar: "234123412346",
    primaryKeyId: "TEST",
    encodeTxnId: "DEMO",
  };

  it("is POST at /V1/AEPS/UserRegisterBankWise/ResendOTP and has side effects", () => {
    expect(aepsResendOtp).toMatchObject({
      method: "POST",
      path: "/V1/AEPS/UserRegisterBankWise/ResendOTP",
      sideEffect: true,
    });
  });

  it("builds the documented body with the upstream's spellings, Mobile as a number and no Otp", () => {
    expect(aepsResendOtp.toWire(input, wire)).toEqual({
      Userkey: "AOP554N3XXXX",
      Mobile: 9876543210,
      Pipe: "bank6",
      AccessModeType: "SITE",
      AdhaarNumber: "234123412346",
      PrimaryKeyId: "TEST",
      EncodeTxnId: "DEMO",
      RegistrationID: "AOP-554",
    });
  });

  it("maps the documented success example, returning Aadhaar and mobile masked only", () => {
    const out = aepsResendOtp.fromWire(success("aeps/resend-otp.success", aepsResendOtp), input, scrubber);
    expect(out).toEqual({
      upstreamMessage: "OTP Resend Request Completed",
      upstreamResponseCode: 1,
      upstreamErrorCode: "0",
      primaryKeyId: "TEST",
      encodeTxnId: "DEMO",
      maskedAadhaar: "XXXX XXXX 2346",
      maskedMobile: "XXXXXX3210",
    });
  });

  it("tolerates a success without the nested data block", () => {
    const envelope: SuccessEnvelope = { kind: "success", body: { status: true }, message: "ok" };
    expect(aepsResendOtp.fromWire(envelope, input, scrubber)).toMatchObject({
      upstreamMessage: "ok",
      upstreamResponseCode: null,
      primaryKeyId: null,
      encodeTxnId: null,
    });
  });
});
