import { Arg, Ctx, Mutation, Resolver } from "type-graphql";
import type { GraphQLContext } from "../context";
import { callUpstream } from "../call-upstream";
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
    return callUpstream(
      () => ctx.aopay.cibil.generateOtp({ cibilId: input.cibilId, accessToken: input.accessToken }, ctx.callOptions()),
      CibilOtpChallenge.from,
    );
  }
}
