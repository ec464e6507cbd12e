import DataLoader from "dataloader";
import { isAopayError } from "../aopay/errors";
import { newOrderId } from "../aopay/order-id";
import { ProtectionStoreError } from "../protection/errors";
import { CibilCreditHistory } from "./cibil/cibil-credit-history.type";
import type { GraphQLContext } from "./context";
import type { ConsentRequired, ProtectionUnavailable, UpstreamFailure } from "./failures/failure.types";
import { consentRequired, protectionUnavailable, toFailure } from "./failures/to-failure";

export type CreditHistoryMember = CibilCreditHistory | ConsentRequired | ProtectionUnavailable | UpstreamFailure;

/**
 * The prototype of every request's context: `loaders` is a getter here, not on the context itself. Apollo Server
 * copies the context once per operation (cloneObject: `Object.assign(Object.create(prototype), context)`); a getter
 * that is an own property would be called by that copy and build the DataLoaders for every request, when most read
 * nothing through them (docs/performance.md, "Instruction counts per change"). On the prototype it runs on first use, on the copy the resolvers see.
 */
const LAZY_LOADERS: object = Object.defineProperty({}, "loaders", {
  get(this: GraphQLContext & { builtLoaders?: Loaders }): Loaders {
    return (this.builtLoaders ??= createLoaders(this));
  },
});

/** A context with `loaders` made on first use (see LAZY_LOADERS). */
export function withLazyLoaders(fields: Omit<GraphQLContext, "loaders">): GraphQLContext {
  return Object.assign(Object.create(LAZY_LOADERS) as GraphQLContext, fields);
}

/**
 * Per-request DataLoaders (docs/design/style.md principle 7): built on first use in a request, never shared between requests.
 * They dedupe and batch reads only, never OTP sends: one operation asking for the same credit history several
 * times, directly or through verification results, makes one upstream call per distinct CIBIL id. (AOPay has no batch
 * endpoint, so a batch is concurrent single calls.)
 */
export interface Loaders {
  creditHistory: DataLoader<string, CreditHistoryMember>;
}

export function createLoaders(ctx: GraphQLContext): Loaders {
  return {
    creditHistory: new DataLoader<string, CreditHistoryMember>((cibilIds) => Promise.all(cibilIds.map((id) => loadCreditHistory(ctx, id))), {
      maxBatchSize: 10,
    }),
  };
}

/**
 * The consent check, then the read. Failures are result members (the union), never thrown, unless they are bugs.
 * The answer (a credit report, when consented) is handed to this request only: it is not cached beyond the
 * request's DataLoader, not stored, not logged, and the response says `Cache-Control: no-store` so that no browser or
 * proxy keeps it either (a query may come as a GET).
 */
async function loadCreditHistory(ctx: GraphQLContext, cibilId: string): Promise<CreditHistoryMember> {
  ctx.responseHeaders.set("cache-control", "no-store");
  try {
    if (!(await ctx.protection.consent.has(consentKey(ctx, cibilId)))) {
      ctx.log.info({ creditHistory: { consent: "missing" } }, "credit history refused: no verified OTP on record for this client");
      return consentRequired();
    }
  } catch (error) {
    if (!(error instanceof ProtectionStoreError)) throw error;
    ctx.log.error({ err: error }, "credit history refused: consent store unavailable");
    return protectionUnavailable();
  }
  try {
    return CibilCreditHistory.from(await ctx.aopay.cibil.creditHistory({ cibilId, orderId: newOrderId() }, ctx.callOptions()));
  } catch (error) {
    if (isAopayError(error)) return toFailure(error);
    throw error;
  }
}

/** Consent is per (client, customer): another client's verification does not open a history to this one. */
export function consentKey(ctx: GraphQLContext, cibilId: string): string {
  return ctx.protection.hasher.hash("consent", `${ctx.client.id}\n${cibilId}`);
}
