import { createUnionType } from "type-graphql";
import { OTP_SEND_FAILURES } from "../failures/failure.types";
import { AepsOtpResent } from "./aeps-otp-resent.type";

/** Every member, for idempotent replay. */
export const RESEND_AEPS_OTP_RESULT_TYPES = [AepsOtpResent, ...OTP_SEND_FAILURES] as const;

export const ResendAepsOtpResult = createUnionType({
  name: "ResendAepsOtpResult",
  description: "The resend confirmation on success, or a typed failure.",
  types: () => RESEND_AEPS_OTP_RESULT_TYPES,
});
