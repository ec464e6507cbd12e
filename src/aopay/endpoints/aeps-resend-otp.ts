import { maskAadhaar } from "../../pii/aadhaar";
import { maskMobile } from "../../pii/mobile";
import type { TextScrubber } from "../../pii/scrub";
import { type Endpoint, issuedId, scrubbed, type WireContext } from "../endpoint";
import { readInt32, readObject, readString } from "../envelope";
import type { SuccessEnvelope } from "../outcome";

/**
 * AEPS ResendOTP: `POST /api/AOP/V1/AEPS/UserRegisterBankWise/ResendOTP`.
 * Source: https://readapi.aopay.co.in/ResendOTP.aspx (seed page; fixtures aeps/resend-otp.*.json).
 */
export interface ResendAepsOtpRequest {
  userKey: string;
  /** 10 digits, validated at the edge. */
  mobile: string;
  /** 12 digits, canonical (spaces removed) and validated at the edge. */
  aadhaar: string;
  primaryKeyId: string;
  encodeTxnId: string;
}

export interface AepsResendOtpAnswer {
  upstreamMessage: string | null;
  /** `data.response_code` (1 in the example), a number or its digits (readInt32). Other values are undocumented. */
  upstreamResponseCode: number | null;
  /** `data.error_code` (0 in the example), as a string. Its other values are undocumented. */
  upstreamErrorCode: string | null;
  primaryKeyId: string | null;
  encodeTxnId: string | null;
  maskedAadhaar: string;
  maskedMobile: string;
}

/**
 * The body both AEPS registration calls send. VerifyOTP adds `Otp`, before `RegistrationID` as in its page's Body
 * Parameters block (docs/upstream/aopay-api.md §2.2).
 * Field spellings exactly as the ResendOTP page's Body Parameters block: `Userkey`, `AdhaarNumber` (sic),
 * `PrimaryKeyId`. That page's cURL/Python samples add `"Otp"`, its Body Parameters block does not; a resend has no
 * OTP to send, so we follow the block (whether AOPay accepts an `Otp` there is UNKNOWN, Observation 11).
 */
export function aepsRegistrationWire(
  input: ResendAepsOtpRequest,
  ctx: WireContext,
  otp?: string,
): Record<string, unknown> {
  const wire: Record<string, unknown> = {
    Userkey: input.userKey,
    // "Mobile Integer" on the page; the example is masked and unquoted. Ten digits are exact as a JSON number.
    Mobile: Number(input.mobile),
    Pipe: ctx.aepsPipe,
    AccessModeType: ctx.aepsAccessModeType,
    AdhaarNumber: input.aadhaar,
    PrimaryKeyId: input.primaryKeyId,
    EncodeTxnId: input.encodeTxnId,
  };
  // Added in order (Otp before RegistrationID on the wire), without the conditional spread's extra object per call.
  if (otp !== undefined) wire.Otp = otp;
  wire.RegistrationID = ctx.registrationId;
  return wire;
}

/** What both AEPS registration answers carry: AOPay's message (scrubbed), `data.response_code`, the masked ids. */
export function aepsRegistrationAnswer(envelope: SuccessEnvelope, input: ResendAepsOtpRequest, scrubber: TextScrubber) {
  const outer = readObject(envelope.body.data) ?? {};
  const message = readString(outer.message) ?? envelope.message;
  return {
    upstreamMessage: scrubbed(message, scrubber),
    upstreamResponseCode: readInt32(outer.response_code),
    maskedAadhaar: maskAadhaar(input.aadhaar),
    maskedMobile: maskMobile(input.mobile),
  };
}

/** What AOPay must not echo of an AEPS registration call: the user key, mobile and Aadhaar, and the OTP of a verify. */
export function aepsSensitive(input: ResendAepsOtpRequest & { otp?: string }) {
  return [input.userKey, input.mobile, input.aadhaar, input.otp];
}

export const aepsResendOtp: Endpoint<ResendAepsOtpRequest, AepsResendOtpAnswer> = {
  name: "aeps.resendOtp",
  method: "POST",
  path: "/V1/AEPS/UserRegisterBankWise/ResendOTP",
  sideEffect: true,
  knownKeys: [
    "status",
    "msg",
    "statusCode",
    "data",
    "data.message",
    "data.response_code",
    "data.error_code",
    "data.data",
  ],

  toWire(input, ctx) {
    return aepsRegistrationWire(input, ctx);
  },

  sensitive: aepsSensitive,

  fromWire(envelope, input, scrubber) {
    // {status:true, msg, data:{message, response_code, error_code, data:{primaryKeyId, encodeTxnId}}, statusCode}
    const outer = readObject(envelope.body.data) ?? {};
    const inner = readObject(outer.data) ?? {};
    return {
      ...aepsRegistrationAnswer(envelope, input, scrubber),
      upstreamErrorCode: scrubbed(readString(outer.error_code), scrubber),
      // What the client sends VerifyOTP next: identifiers, handed on as issued (partner credentials aside).
      primaryKeyId: issuedId(readString(inner.primaryKeyId), scrubber),
      encodeTxnId: issuedId(readString(inner.encodeTxnId), scrubber),
    };
  },
};
