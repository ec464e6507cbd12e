import { Arg, Ctx, Mutation, Resolver } from "type-graphql";
import type { GraphQLContext } from "../context";
import { guardOtpSend } from "../otp-guard";
import { CibilOtpChallenge } from "./cibil-otp-challenge.type";
import { GenerateCibilOtpInput } from "./generate-cibil-otp.input";
import { GenerateCibilOtpResult } from "./generate-cibil-otp-result.union";

@Resolver()
export class CibilResolver {
  @Mutation(() => GenerateCibilOtpResult, {
    description: "Sends a CIBIL consent OTP to the customer's registered mobile (AOPay CibilScore/GenerateOTP).",
  })
  generateCibilOtp(
    @Arg("input", () => GenerateCibilOtpInput) input: GenerateCibilOtpInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<typeof GenerateCibilOtpResult> {
    const request = { cibilId: input.cibilId, accessToken: input.accessToken };
    return guardOtpSend(ctx, {
      field: "generateCibilOtp",
      // AOPay sends the OTP to the customer's registered mobile, which we never see: the CIBIL id stands for it.
      destinations: [{ kind: "cibil", value: input.cibilId }],
      input: request,
      call: () => ctx.aopay.cibil.generateOtp(request, ctx.callOptions()),
      toResult: CibilOtpChallenge.from,
    });
  }
}
