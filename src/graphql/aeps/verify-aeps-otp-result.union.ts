import { createUnionType } from "type-graphql";
import { OTP_SEND_FAILURES } from "../failures/failure.types";
import { AepsRegistrationVerified } from "./aeps-registration-verified.type";

/** Every member, for idempotent replay. */
export const VERIFY_AEPS_OTP_RESULT_TYPES = [AepsRegistrationVerified, ...OTP_SEND_FAILURES] as const;

export const VerifyAepsOtpResult = createUnionType({
  name: "VerifyAepsOtpResult",
  description:
    "The confirmed registration on success, or a typed failure (a wrong OTP is UpstreamRejected with AOPay's message).",
  types: () => VERIFY_AEPS_OTP_RESULT_TYPES,
});
