import type { GraphQLResolveInfo } from "graphql";
import { Arg, Ctx, Info, Resolver } from "type-graphql";
import type { ResendAepsOtpRequest } from "../../aopay/endpoints/aeps-resend-otp";
import { GuardedMutation } from "../guarded-mutations";
import { guardedSend } from "../guarded-send";
import type { GraphQLContext } from "../context";
import { AepsOtpResent } from "./aeps-otp-resent.type";
import { ResendAepsOtpInput } from "./resend-aeps-otp.input";
import { RESEND_AEPS_OTP_RESULT_TYPES, ResendAepsOtpResult } from "./resend-aeps-otp-result.union";
import { AepsRegistrationVerified } from "./aeps-registration-verified.type";
import { VerifyAepsOtpInput } from "./verify-aeps-otp.input";
import { VERIFY_AEPS_OTP_RESULT_TYPES, VerifyAepsOtpResult } from "./verify-aeps-otp-result.union";

/** The upstream request both AEPS registration calls start from (the input is validated and canonical already). */
function registrationRequestOf(input: ResendAepsOtpInput): ResendAepsOtpRequest {
  return {
    userKey: input.userKey,
    mobile: input.mobile,
    aadhaar: input.aadhaar,
    primaryKeyId: input.primaryKeyId,
    encodeTxnId: input.encodeTxnId,
  };
}

/** The AEPS bank-wise registration flow: resend the OTP (when needed) → verify it. */
@Resolver()
export class AepsResolver {
  @GuardedMutation(() => ResendAepsOtpResult, {
    description: "Resends the AEPS registration OTP (AOPay UserRegisterBankWise/ResendOTP).",
  })
  resendAepsOtp(
    @Arg("input", () => ResendAepsOtpInput, {
      description:
        "The agent's user key, the customer's mobile and Aadhaar, and the two references from the registration step.",
    })
    input: ResendAepsOtpInput,
    @Ctx() ctx: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<typeof ResendAepsOtpResult> {
    return guardedSend(ctx, info, {
      request: registrationRequestOf(input),
      send: ctx.aopay.aeps.resendOtp,
      toResult: (resent, sent) => AepsOtpResent.from(resent, sent.nextSendAt),
      resultTypes: RESEND_AEPS_OTP_RESULT_TYPES,
    });
  }

  @GuardedMutation(() => VerifyAepsOtpResult, {
    description: "Verifies the AEPS registration OTP the customer received (AOPay UserRegisterBankWise/VerifyOTP).",
  })
  verifyAepsOtp(
    @Arg("input", () => VerifyAepsOtpInput, {
      description: "The same customer and references as resendAepsOtp, and the OTP the customer received.",
    })
    input: VerifyAepsOtpInput,
    @Ctx() ctx: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<typeof VerifyAepsOtpResult> {
    return guardedSend(ctx, info, {
      request: { ...registrationRequestOf(input), otp: input.otp },
      send: ctx.aopay.aeps.verifyOtp,
      toResult: AepsRegistrationVerified.from,
      resultTypes: VERIFY_AEPS_OTP_RESULT_TYPES,
    });
  }
}
