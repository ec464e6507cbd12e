import type { Endpoint } from "../endpoint";
import {
  aepsRegistrationAnswer,
  aepsRegistrationWire,
  aepsSensitive,
  type ResendAepsOtpRequest,
} from "./aeps-resend-otp";

/**
 * AEPS VerifyOTP: `POST /api/AOP/V1/AEPS/UserRegisterBankWise/VerifyOTP`.
 * Source: https://readapi.aopay.co.in/VerifyOTP.aspx (docs/upstream/aopay-api.md §2.2): the same fields as ResendOTP plus `Otp`.
 * "On success the registration is confirmed and a unique transaction reference is returned"; the reference's field
 * name is UNKNOWN, so it is not exposed (its key name shows in the unknown-keys log line). The answer is read with
 * the ResendOTP envelope's shape, the only AEPS success example.
 */
export interface VerifyAepsOtpRequest extends ResendAepsOtpRequest {
  otp: string;
}

export interface AepsVerifyOtpAnswer {
  upstreamMessage: string | null;
  upstreamResponseCode: number | null;
  maskedAadhaar: string;
  maskedMobile: string;
}

export const aepsVerifyOtp: Endpoint<VerifyAepsOtpRequest, AepsVerifyOtpAnswer> = {
  name: "aeps.verifyOtp",
  method: "POST",
  path: "/V1/AEPS/UserRegisterBankWise/VerifyOTP",
  // Burns a verification attempt: never retried once it may have left.
  sideEffect: true,
  knownKeys: [
    "status",
    "msg",
    "message",
    "statusCode",
    "data",
    "data.message",
    "data.response_code",
    "data.error_code",
    "data.data",
  ],

  toWire(input, ctx) {
    return aepsRegistrationWire(input, ctx, input.otp);
  },

  sensitive: aepsSensitive,

  fromWire(envelope, input, scrubber) {
    return aepsRegistrationAnswer(envelope, input, scrubber);
  },
};
