import { aepsVerifyOtp } from "../../../../src/aopay/endpoints/aeps-verify-otp";
import { WIRE as wire, scrubber, successOf as success } from "../../../helpers/endpoint-wire";

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
