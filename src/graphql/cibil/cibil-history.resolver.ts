import { Args, Ctx, FieldResolver, Query, Resolver, Root } from "type-graphql";
import type { GraphQLContext } from "../context";
import { noteCustomerRef } from "../customer-refs";
import { CibilCreditHistoryResult } from "./cibil-credit-history-result.union";
import { CibilCreditHistoryArgs } from "./cibil-credit-history.args";
import { CibilOtpVerified } from "./cibil-otp-verified.type";

/** Credit history reads, through the request's DataLoader (one upstream call per distinct CIBIL id per request). */
@Resolver(() => CibilOtpVerified)
export class CibilHistoryResolver {
  @Query(() => CibilCreditHistoryResult, {
    description:
      "The customer's credit report (AOPay CibilScore/GetCreditHistory), for a customer whose CIBIL OTP this client " +
      "verified recently; ConsentRequired otherwise. The response says Cache-Control: no-store.",
  })
  cibilCreditHistory(
    @Args(() => CibilCreditHistoryArgs) args: CibilCreditHistoryArgs,
    @Ctx() ctx: GraphQLContext,
  ): Promise<typeof CibilCreditHistoryResult> {
    // The customer whose report is read, on the access line (customer-refs.ts): canonical since validation.
    noteCustomerRef(ctx, "cibil", args.cibilId);
    return ctx.loaders.creditHistory.load(args.cibilId);
  }

  @FieldResolver(() => CibilCreditHistoryResult, {
    description: "The verified customer's credit report, read lazily: only when selected.",
  })
  creditHistory(
    @Root() verified: CibilOtpVerified,
    @Ctx() ctx: GraphQLContext,
  ): Promise<typeof CibilCreditHistoryResult> {
    return ctx.loaders.creditHistory.load(verified.verifiedCibilId);
  }
}
