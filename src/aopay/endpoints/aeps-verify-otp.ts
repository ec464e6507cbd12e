import { maskAadhaar } from "../../pii/aadhaar";
import { maskMobile } from "../../pii/mobile";
import type { Endpoint } from "../endpoint";
import { readObject, readString } from "../envelope";
import type { ResendAepsOtpRequest } from "./aeps-resend-otp";

/**
 * AEPS VerifyOTP: `POST /api/AOP/V1/AEPS/UserRegisterBankWise/VerifyOTP`.
 * Source: https://readapi.aopay.co.in/VerifyOTP.aspx (aopay-api.md §2.2): the same fields as ResendOTP plus `Otp`.
 * "On success the registration is confirmed and a unique transaction reference is returned"; the reference's field
 * name is UNKNOWN, so it is not exposed (its key name shows in the unknown-keys log line). The answer is read with
 * the ResendOTP envelope's shape, the only AEPS success example.
 */
export interface VerifyAepsOtpRequest extends ResendAepsOtpRequest {
  otp: string;
}

export interface AepsRegistrationVerified {
  upstreamMessage: string | null;
  upstreamResponseCode: number | null;
  maskedAadhaar: string;
  maskedMobile: string;
}

export const aepsVerifyOtp: Endpoint<VerifyAepsOtpRequest, AepsRegistrationVerified> = {
  name: "aeps.verifyOtp",
  method: "POST",
  path: "/V1/AEPS/UserRegisterBankWise/VerifyOTP",
  // Burns a verification attempt: never retried once it may have left.
  sideEffect: true,
  knownKeys: ["status", "msg", "message", "statusCode", "data", "data.message", "data.response_code", "data.error_code", "data.data"],

  toWire(input, ctx) {
    return {
      Userkey: input.userKey,
      Mobile: Number(input.mobile),
      Pipe: ctx.aepsPipe,
      AccessModeType: ctx.aepsAccessModeType,
      AdhaarNumber: input.aadhaar,
      PrimaryKeyId: input.primaryKeyId,
      EncodeTxnId: input.encodeTxnId,
      Otp: input.otp,
      RegistrationID: ctx.registrationId,
    };
  },

  fromWire(envelope, input, scrubber) {
    const outer = readObject(envelope.body.data) ?? {};
    const message = readString(outer.message) ?? envelope.message;
    const code = outer.response_code;
    return {
      upstreamMessage: message === undefined ? null : scrubber.scrub(message),
      upstreamResponseCode: typeof code === "number" && Number.isInteger(code) ? code : null,
      maskedAadhaar: maskAadhaar(input.aadhaar),
      maskedMobile: maskMobile(input.mobile),
    };
  },
};
