import { aepsResendOtp } from "../../../../src/aopay/endpoints/aeps-resend-otp";
import { type SuccessEnvelope } from "../../../../src/aopay/outcome";
import {
  AEPS_RESEND_INPUT,
  WIRE as wire,
  scrubber,
  successFromFixture as success,
} from "../../../helpers/endpoint-wire";

describe("aeps.resendOtp wire mapping (ResendOTP seed page)", () => {
  const input = AEPS_RESEND_INPUT;

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
