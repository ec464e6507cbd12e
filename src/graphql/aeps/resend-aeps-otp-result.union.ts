import { createUnionType } from "type-graphql";
import { OTP_SEND_FAILURES } from "../failures/failure.types";
import { AepsOtpResent } from "./aeps-otp-resent.type";

export const ResendAepsOtpResult = createUnionType({
  name: "ResendAepsOtpResult",
  description: "The resend confirmation on success, or a typed failure.",
  types: () => [AepsOtpResent, ...OTP_SEND_FAILURES] as const,
});
