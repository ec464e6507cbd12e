import type { AopayClient } from "../aopay/client";
import type { Config } from "../config";
import type { GraphQLContext } from "../graphql/context";
import { createLoaders, type Loaders } from "../graphql/loaders";
import type { Protection } from "../protection";
import { clientGone } from "./admission";
import { clientIpKey } from "./client-ip";
import { monotonicNow } from "../util/clock";
import type { GraphQLExchange } from "./exchange";

/** The request budget: REQUEST_DEADLINE_MS, or less if the client's `x-request-timeout-ms` asks for less. */
export function requestBudgetMs(header: string | string[] | undefined, maxMs: number): number {
  const asked = typeof header === "string" && /^[0-9]{1,9}$/.test(header) ? Number(header) : NaN;
  return asked > 0 ? Math.min(asked, maxMs) : maxMs;
}

/** Without trace export nothing writes the holder (the tracing plugin is not installed): one shared empty one. */
const NO_TRACE: GraphQLContext["trace"] = Object.freeze({});

/** A context, with its DataLoaders once they are made. */
type LazyContext = GraphQLContext & { builtLoaders?: Loaders };

/**
 * The prototype of every request's context: `loaders` is a getter here, not on the context itself. Apollo Server
 * copies the context once per operation (cloneObject: `Object.assign(Object.create(prototype), context)`); a getter
 * that is an own property would be called by that copy and build the DataLoaders for every request, when most read
 * nothing through them (docs/performance.md, "Instruction counts per change"). On the prototype it runs on first use,
 * on the copy the resolvers see.
 */
const LAZY_LOADERS: object = Object.defineProperty({}, "loaders", {
  get(this: LazyContext): Loaders {
    // Their inputs are read off the context itself: nothing is built for the requests that read no loader.
    this.builtLoaders ??= createLoaders({
      aopay: this.aopay,
      consent: this.protection.consent,
      hasher: this.protection.hasher,
      readHashers: this.protection.readHashers,
      olderRead: this.protection.olderRead,
      unavailable: this.protection.unavailable,
      readBudget: this.protection.readBudget,
      throttled: this.protection.throttled,
      overShare: this.protection.overShare,
      summary: this.summary,
      ip: this.ip,
      clientId: this.client.id,
      log: this.log,
      callOptions: this.callOptions,
      responseHeaders: this.responseHeaders,
    });
    return this.builtLoaders;
  },
});

/**
 * The per-request GraphQL context (docs/design/style.md principle 7), made from the request (Fastify's, or the thin
 * route's: both are a GraphQLExchange) and the milliseconds since it arrived: who calls, from where, with which
 * Idempotency-Key and deadline, and the process-wide services it may use.
 */
export function graphqlContextFactory(config: Config, services: { aopay: AopayClient; protection: Protection }) {
  const { aopay, protection } = services;
  // Synchronous: nothing in it waits (http/graphql-route.ts hands Apollo the promise it wants).
  return (request: GraphQLExchange, elapsedMs: number): GraphQLContext => {
    const { client } = request;
    const log = request.log;
    const idempotencyKey = request.headers["idempotency-key"];
    // The request's deadline runs from its arrival; a client may ask for less (never more) with x-request-timeout-ms.
    const budgetMs = requestBudgetMs(request.headers["x-request-timeout-ms"], config.requestDeadlineMs);
    // On the monotonic clock the transport times it by (util/clock.ts): a step of the wall clock moves neither.
    const deadlineAt = monotonicNow() - elapsedMs + budgetMs;
    // A deadline the client shortened is its own: what it cuts short is not counted against AOPay (aopay/client.ts).
    const deadlineShortened = budgetMs < config.requestDeadlineMs;
    const summary = (request.graphql = { operation: null, result: null });
    const traceHolder: GraphQLContext["trace"] = config.telemetry.enabled ? (request.trace = {}) : NO_TRACE;
    const responseHeaders = new Map<string, string>();
    const callOptions: GraphQLContext["callOptions"] = () => ({
      log,
      deadlineAt,
      deadlineShortened,
      traceContext: traceHolder.context,
      // A send still waiting for an upstream socket when its client has gone is dropped before the write (refunded).
      clientGone: clientGone(request.socket),
      record: (call) => {
        (request.upstreamCalls ??= []).push(call);
      },
    });
    const context: Omit<LazyContext, "loaders"> = {
      requestId: request.id,
      log,
      aopay,
      upstreamMode: config.aopay.mode,
      client,
      // Canonical: one per-IP budget per address or IPv6 /64, however the socket or a trusted proxy wrote it.
      ip: clientIpKey(request.ip),
      // Several values (a repeated header) cannot be a key: pass them joined, validation rejects the comma.
      idempotencyKey: Array.isArray(idempotencyKey) ? idempotencyKey.join(", ") : idempotencyKey,
      protection,
      responseHeaders,
      summary,
      trace: traceHolder,
      callOptions,
    };
    return Object.assign(Object.create(LAZY_LOADERS) as LazyContext, context);
  };
}
