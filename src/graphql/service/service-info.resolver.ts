import { Ctx, Field, ObjectType, Query, Resolver, registerEnumType } from "type-graphql";
import type { GraphQLContext } from "../context";

export enum UpstreamMode {
  LIVE = "LIVE",
  SIMULATOR = "SIMULATOR",
}
registerEnumType(UpstreamMode, {
  name: "UpstreamMode",
  description:
    "SIMULATOR: the built-in AOPay simulator answers (development only). LIVE: the host AOPAY_BASE_URL names answers.",
  valuesConfig: {
    // Not "a real AOPay host": AOPAY_BASE_URL may name the standalone simulator (`npm run simulator`) or another
    // stand-in, which answers as AOPay does; nothing in AOPay's answers tells them apart (docs/upstream/aopay-api.md).
    LIVE: {
      description:
        "The host AOPAY_BASE_URL names (it is set): AOPay, whose OTPs reach real phones, or a stand-in speaking its " +
        "API there (the standalone simulator, `npm run simulator`), which this server cannot tell from AOPay.",
    },
    SIMULATOR: { description: "The built-in simulator (development only): no OTP is sent; the OTP is always 123456." },
  },
});

@ObjectType({ description: "What this server is connected to." })
export class ServiceInfo {
  @Field(() => UpstreamMode, { description: "SIMULATOR or LIVE: who answers this server's calls to AOPay." })
  upstream!: UpstreamMode;
}

@Resolver()
export class ServiceInfoResolver {
  @Query(() => ServiceInfo, { description: "Whether this server talks to the simulator or to AOPay." })
  serviceInfo(@Ctx() ctx: GraphQLContext): ServiceInfo {
    return Object.assign(new ServiceInfo(), {
      upstream: ctx.upstreamMode === "simulator" ? UpstreamMode.SIMULATOR : UpstreamMode.LIVE,
    });
  }
}
