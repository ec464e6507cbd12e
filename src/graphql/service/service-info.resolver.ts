import { Ctx, Field, ObjectType, Query, Resolver, registerEnumType } from "type-graphql";
import type { GraphQLContext } from "../context";

/**
 * Two values, on purpose: no third for a server pointed at the standalone simulator (`npm run simulator`), though its
 * start line names one (config.ts upstreamOf). UpstreamMode is an output enum that released clients already have
 * (schema/releases/v0.1.0.graphql): codegen writes it as a closed string union (codegen.yml enumsAsTypes), so a value
 * added would reach a client whose `switch` or `===` chain knows two (scripts/schema-check.js rates it DANGEROUS; the
 * example app's header read "connecting…" for good, before its fallback), while it says nothing safer than LIVE does:
 * the start line tells them apart by the simulator's development credentials alone, not by asking the host. LIVE
 * keeps meaning "the host AOPAY_BASE_URL names" (docs/simulator.md). Should clients need it, an added field (additive,
 * ignored by released clients) would carry it, not an enum value.
 */
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
