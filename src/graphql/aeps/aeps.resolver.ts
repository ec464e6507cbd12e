import { Arg, Ctx, Mutation, Resolver } from "type-graphql";
import type { ResendAepsOtpRequest } from "../../aopay/endpoints/aeps-resend-otp";
import { canonicalAadhaar } from "../../pii/aadhaar";
import type { OtpSubject } from "../../protection/otp-throttle";
import { guardOtpSend } from "../otp-guard";
import type { GraphQLContext } from "../context";
import { AepsOtpResent } from "./aeps-otp-resent.type";
import { ResendAepsOtpInput } from "./resend-aeps-otp.input";
import { RESEND_AEPS_OTP_RESULT_TYPES, ResendAepsOtpResult } from "./resend-aeps-otp-result.union";
import { AepsRegistrationVerified } from "./aeps-registration-verified.type";
import { VerifyAepsOtpInput } from "./verify-aeps-otp.input";
import { VERIFY_AEPS_OTP_RESULT_TYPES, VerifyAepsOtpResult } from "./verify-aeps-otp-result.union";

/** The upstream request both AEPS registration calls start from (the input is validated already). */
function registrationRequestOf(input: ResendAepsOtpInput): ResendAepsOtpRequest {
  return {
    userKey: input.userKey,
    mobile: input.mobile,
    // Validated already, so the canonical form exists.
    aadhaar: canonicalAadhaar(input.aadhaar) as string,
    primaryKeyId: input.primaryKeyId,
    encodeTxnId: input.encodeTxnId,
  };
}

/** The SMS goes to the mobile registered for the Aadhaar number: both are budgeted on their own. */
function destinationsOf(request: ResendAepsOtpRequest): OtpSubject["destinations"] {
  return [
    { kind: "mobile", value: request.mobile },
    { kind: "aadhaar", value: request.aadhaar },
  ];
}

/** The AEPS bank-wise registration flow: resend the OTP (when needed) → verify it. */
@Resolver()
export class AepsResolver {
  @Mutation(() => ResendAepsOtpResult, {
    description: "Resends the AEPS registration OTP (AOPay UserRegisterBankWise/ResendOTP).",
  })
  resendAepsOtp(
    @Arg("input", () => ResendAepsOtpInput) input: ResendAepsOtpInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<typeof ResendAepsOtpResult> {
    const request = registrationRequestOf(input);
    return guardOtpSend(ctx, {
      field: "resendAepsOtp",
      destinations: destinationsOf(request),
      input: request,
      call: () => ctx.aopay.aeps.resendOtp(request, ctx.callOptions()),
      toResult: (resent, sent) => AepsOtpResent.from(resent, sent.nextSendAt),
      resultTypes: RESEND_AEPS_OTP_RESULT_TYPES,
    });
  }

  @Mutation(() => VerifyAepsOtpResult, {
    description: "Verifies the AEPS registration OTP the customer received (AOPay UserRegisterBankWise/VerifyOTP).",
  })
  verifyAepsOtp(
    @Arg("input", () => VerifyAepsOtpInput) input: VerifyAepsOtpInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<typeof VerifyAepsOtpResult> {
    const request = { ...registrationRequestOf(input), otp: input.otp };
    return guardOtpSend(ctx, {
      field: "verifyAepsOtp",
      budget: "verify",
      destinations: destinationsOf(request),
      input: request,
      call: () => ctx.aopay.aeps.verifyOtp(request, ctx.callOptions()),
      toResult: AepsRegistrationVerified.from,
      resultTypes: VERIFY_AEPS_OTP_RESULT_TYPES,
    });
  }
}
