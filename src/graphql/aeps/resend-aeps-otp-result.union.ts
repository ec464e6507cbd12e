import { createUnionType } from "type-graphql";
import { UPSTREAM_FAILURES } from "../failures/failure.types";
import { AepsOtpResent } from "./aeps-otp-resent.type";

export const ResendAepsOtpResult = createUnionType({
  name: "ResendAepsOtpResult",
  description: "The resend confirmation on success, or a typed failure.",
  types: () => [AepsOtpResent, ...UPSTREAM_FAILURES] as const,
});
