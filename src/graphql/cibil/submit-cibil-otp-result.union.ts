import { createUnionType } from "type-graphql";
import { OTP_SEND_FAILURES } from "../failures/failure.types";
import { CibilOtpVerified } from "./cibil-otp-verified.type";

/** Every member, for idempotent replay. */
export const SUBMIT_CIBIL_OTP_RESULT_TYPES = [CibilOtpVerified, ...OTP_SEND_FAILURES] as const;

export const SubmitCibilOtpResult = createUnionType({
  name: "SubmitCibilOtpResult",
  description:
    "The verification on success, or a typed failure (a wrong OTP is UpstreamRejected with AOPay's message).",
  types: () => SUBMIT_CIBIL_OTP_RESULT_TYPES,
});
