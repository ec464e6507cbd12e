import { createUnionType } from "type-graphql";
import { OTP_SEND_FAILURES } from "../failures/failure.types";
import { CibilOtpChallenge } from "./cibil-otp-challenge.type";

/** Every member, for idempotent replay. */
export const GENERATE_CIBIL_OTP_RESULT_TYPES = [CibilOtpChallenge, ...OTP_SEND_FAILURES] as const;

export const GenerateCibilOtpResult = createUnionType({
  name: "GenerateCibilOtpResult",
  description: "The challenge on success, or a typed failure. Upstream failures are data, never GraphQL errors.",
  types: () => GENERATE_CIBIL_OTP_RESULT_TYPES,
});
