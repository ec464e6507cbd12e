import { Arg, Ctx, Mutation, Resolver } from "type-graphql";
import { canonicalAadhaar } from "../../pii/aadhaar";
import { guardOtpSend } from "../otp-guard";
import type { GraphQLContext } from "../context";
import { AepsOtpResent } from "./aeps-otp-resent.type";
import { ResendAepsOtpInput } from "./resend-aeps-otp.input";
import { RESEND_AEPS_OTP_RESULT_TYPES, ResendAepsOtpResult } from "./resend-aeps-otp-result.union";
import { AepsRegistrationVerified } from "./aeps-registration-verified.type";
import { VerifyAepsOtpInput } from "./verify-aeps-otp.input";
import { VERIFY_AEPS_OTP_RESULT_TYPES, VerifyAepsOtpResult } from "./verify-aeps-otp-result.union";

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
    const request = {
      userKey: input.userKey,
      mobile: input.mobile,
      // Validated already, so the canonical form exists.
      aadhaar: canonicalAadhaar(input.aadhaar) as string,
      primaryKeyId: input.primaryKeyId,
      encodeTxnId: input.encodeTxnId,
    };
    return guardOtpSend(ctx, {
      field: "resendAepsOtp",
      // The SMS goes to the mobile registered for the Aadhaar number: both are budgeted on their own.
      destinations: [
        { kind: "mobile", value: request.mobile },
        { kind: "aadhaar", value: request.aadhaar },
      ],
      input: request,
      call: () => ctx.aopay.aeps.resendOtp(request, ctx.callOptions()),
      toResult: AepsOtpResent.from,
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
    const request = {
      userKey: input.userKey,
      mobile: input.mobile,
      aadhaar: canonicalAadhaar(input.aadhaar) as string,
      primaryKeyId: input.primaryKeyId,
      encodeTxnId: input.encodeTxnId,
      otp: input.otp,
    };
    return guardOtpSend(ctx, {
      field: "verifyAepsOtp",
      budget: "verify",
      destinations: [
        { kind: "mobile", value: request.mobile },
        { kind: "aadhaar", value: request.aadhaar },
      ],
      input: request,
      call: () => ctx.aopay.aeps.verifyOtp(request, ctx.callOptions()),
      toResult: AepsRegistrationVerified.from,
      resultTypes: VERIFY_AEPS_OTP_RESULT_TYPES,
    });
  }
}
