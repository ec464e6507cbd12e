import type { GraphQLResolveInfo } from "graphql";
import { Arg, Ctx, Info, Resolver } from "type-graphql";
import type { GraphQLContext } from "../context";
import { GuardedMutation } from "../guarded-mutations";
import { guardedSend } from "../guarded-send";
import { CibilCustomerRegistered } from "./cibil-customer-registered.type";
import { CibilOtpChallenge, CibilStatus } from "./cibil-otp-challenge.type";
import { CibilOtpVerified } from "./cibil-otp-verified.type";
import { GenerateCibilOtpInput } from "./generate-cibil-otp.input";
import { GENERATE_CIBIL_OTP_RESULT_TYPES, GenerateCibilOtpResult } from "./generate-cibil-otp-result.union";
import { RegisterCibilCustomerInput } from "./register-cibil-customer.input";
import {
  REGISTER_CIBIL_CUSTOMER_RESULT_TYPES,
  RegisterCibilCustomerResult,
} from "./register-cibil-customer-result.union";
import { SubmitCibilOtpInput } from "./submit-cibil-otp.input";
import { SUBMIT_CIBIL_OTP_RESULT_TYPES, SubmitCibilOtpResult } from "./submit-cibil-otp-result.union";

/** The CIBIL flow: register once → generate an OTP → submit it → read the credit history (cibil-history.resolver.ts). */
@Resolver()
export class CibilResolver {
  @GuardedMutation(() => RegisterCibilCustomerResult, {
    description: "Registers a customer for CIBIL checks, once per customer (AOPay CibilScore/registeration).",
  })
  registerCibilCustomer(
    @Arg("input", () => RegisterCibilCustomerInput, {
      description:
        "The customer's name, PAN, date of birth, e-mail and mobile; every field is validated before anything is sent.",
    })
    input: RegisterCibilCustomerInput,
    @Ctx() ctx: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<typeof RegisterCibilCustomerResult> {
    // Every identifier is canonical already (validation/canonical.ts): PAN upper-cased, e-mail domain lower-cased.
    const request = {
      firstName: input.firstName,
      middleName: input.middleName ?? null,
      lastName: input.lastName,
      pan: input.pan,
      dateOfBirth: input.dateOfBirth,
      email: input.email,
      mobile: input.mobile,
    };
    return guardedSend(ctx, info, {
      // The fingerprint covers what the client sent; AopayClient makes the order id per call.
      request,
      send: ctx.aopay.cibil.register,
      toResult: CibilCustomerRegistered.from,
      resultTypes: REGISTER_CIBIL_CUSTOMER_RESULT_TYPES,
    });
  }

  @GuardedMutation(() => GenerateCibilOtpResult, {
    description: "Sends a CIBIL consent OTP to the customer's registered mobile (AOPay CibilScore/GenerateOTP).",
  })
  generateCibilOtp(
    @Arg("input", () => GenerateCibilOtpInput, {
      description: "Which customer to send the OTP to: the cibilId and accessToken registerCibilCustomer returned.",
    })
    input: GenerateCibilOtpInput,
    @Ctx() ctx: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<typeof GenerateCibilOtpResult> {
    // cibilId is canonical (no leading zeros): the budget key and the number GenerateOTP sends are the same value.
    return guardedSend(ctx, info, {
      request: { cibilId: input.cibilId, accessToken: input.accessToken },
      send: ctx.aopay.cibil.generateOtp,
      toResult: (challenge, sent) => CibilOtpChallenge.from(challenge, sent.nextSendAt),
      resultTypes: GENERATE_CIBIL_OTP_RESULT_TYPES,
    });
  }

  @GuardedMutation(() => SubmitCibilOtpResult, {
    description:
      "Answers the challenge with the OTP the customer received (AOPay CibilScore/SubmitOTP). On success this client may " +
      "read the customer's credit history for CIBIL_CONSENT_TTL_SECONDS.",
  })
  submitCibilOtp(
    @Arg("input", () => SubmitCibilOtpInput, {
      description:
        "The customer, the OTP they received, and the question and answer keys from generateCibilOtp's challenge.",
    })
    input: SubmitCibilOtpInput,
    @Ctx() ctx: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<typeof SubmitCibilOtpResult> {
    const { cibilId, accessToken, otp, questionKey, answerKey } = input;
    return guardedSend(ctx, info, {
      request: { cibilId, accessToken, otp, questionKey, answerKey },
      send: ctx.aopay.cibil.submitOtp,
      toResult: CibilOtpVerified.from,
      resultTypes: SUBMIT_CIBIL_OTP_RESULT_TYPES,
      // Only the request whose call was answered SUCCESS grants: a replay of its Idempotency-Key returns the stored
      // answer and grants nothing (no new OTP, no new consent window).
      afterSent: async (result) => {
        if (!(result instanceof CibilOtpVerified) || result.status !== CibilStatus.SUCCESS) return;
        try {
          // The request's keys (Loaders.consentKeys): its nested creditHistory checks under the same ones, not hashed
          // again. During a rotation the other secrets' keys are read for a revoke mark in the same script.
          const { key, others } = ctx.loaders.consentKeys(result.verifiedCibilId);
          const written = await ctx.protection.consent.grant(key, ctx.protection.consentTtlMs, others);
          // An operator's revoke mark stands at the key, or during a rotation under another secret's key
          // (docs/operations.md "Revoking a consent"): not written over, the revoke kept until its PX or an operator's
          // DEL; the verification stands and the reads answer CONSENT_REQUIRED. Not unrecorded: nothing failed, the
          // operator's decision holds.
          if (written === "revoked") ctx.log.info("CIBIL consent not recorded: a revoke mark stands at its key");
        } catch (error) {
          // The verification stands; a later history read answers ProtectionUnavailable/ConsentRequired instead. With
          // Redis, a grant it refuses is held and written again (protection/consent-store.ts HeldConsentStore): this
          // is reached only when it cannot be held (MAX_HELD_GRANTS, a shutdown, no retry time), or without Redis
          // when the table is full.
          // Counted (aopay_unrecorded_writes_total, AopayUnrecordedWrites): before, an error line alone said the
          // customer's OTP was spent for nothing.
          ctx.log.error({ err: error }, "could not record CIBIL consent");
          ctx.protection.unrecorded(info.fieldName);
        }
      },
    });
  }
}
