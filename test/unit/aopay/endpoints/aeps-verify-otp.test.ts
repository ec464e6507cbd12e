import { aepsVerifyOtp } from "../../../../src/aopay/endpoints/aeps-verify-otp";
import { type SuccessEnvelope } from "../../../../src/aopay/outcome";
import { Scrubber } from "../../../../src/pii/scrub";

const wire = {
  registrationId: "AOP-554",
  companyCode: "CMP1045",
  aepsPipe: "bank6",
  aepsAccessModeType: "SITE",
  dobFormat: "DD/MM/YYYY" as const,
};
const scrubber = new Scrubber();
const success = (body: Record<string, unknown>): SuccessEnvelope => ({
  kind: "success",
  body,
  message: body.message as string | undefined,
});

describe("aeps.verifyOtp", () => {
  it("sends the ResendOTP fields plus Otp, and returns masked identifiers only", () => {
    const input = {
      userKey: "K1",
      mobile: "9876543210",
      aadhaar: "234123412346",
      primaryKeyId: "P",
      encodeTxnId: "E",
      otp: "123456",
    };
    expect(aepsVerifyOtp.toWire(input, wire)).toMatchObject({
      Otp: "123456",
      Mobile: 9876543210,
      AdhaarNumber: "234123412346",
      Pipe: "bank6",
    });
    const out = aepsVerifyOtp.fromWire(
      success({ status: true, data: { message: "done", response_code: 1, data: { ref: "R" } } }),
      input,
      scrubber,
    );
    expect(out).toEqual({
      upstreamMessage: "done",
      upstreamResponseCode: 1,
      maskedAadhaar: "XXXX XXXX 2346",
      maskedMobile: "XXXXXX3210",
    });
  });
});
