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

/**
 * A request's context. `loaders` is a getter on the prototype, not an own property: Apollo Server copies the context
 * once per operation (cloneObject: `Object.assign(Object.create(prototype), context)`); a getter that is an own
 * property would be called by that copy and build the DataLoaders for every request, when most read nothing through
 * them (docs/performance-runs.md, "Instruction counts per change"). On the prototype it runs on first use, on the copy
 * the resolvers see, and stores them as the copy's own `builtLoaders`.
 *
 * A class whose constructor writes every field, not an object literal copied onto `Object.create(prototype)` with
 * `Object.assign` as before: the copy took V8's generic property path, a map transition per field (about 9k
 * instructions per request under callgrind, a loop of 60,000 contexts; the class: docs/performance-runs.md, round of
 * this change). Own properties, their order and values are the same as the literal's
 * (test/unit/http/graphql-context-equivalence.test.ts against the frozen copy of 8cf3e64).
 */
class RequestContext {
  // Declared, not defined: a class field would be an own property of every context from the start (`undefined`),
  // which Apollo's copy and the key order would then carry.
  declare builtLoaders?: Loaders;

  constructor(
    readonly requestId: string,
    readonly log: GraphQLContext["log"],
    readonly aopay: AopayClient,
    readonly upstreamMode: GraphQLContext["upstreamMode"],
    readonly client: GraphQLContext["client"],
    readonly ip: string,
    readonly idempotencyKey: string | undefined,
    readonly protection: Protection,
    readonly responseHeaders: Map<string, string>,
    readonly summary: GraphQLContext["summary"],
    readonly trace: GraphQLContext["trace"],
    readonly callOptions: GraphQLContext["callOptions"],
  ) {}

  get loaders(): Loaders {
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
      storeLines: this.protection.storeLines,
      callOptions: this.callOptions,
      responseHeaders: this.responseHeaders,
    });
    return this.builtLoaders;
  }
}

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
    return new RequestContext(
      request.id,
      log,
      aopay,
      config.aopay.mode,
      client,
      // Canonical: one per-IP budget per address or IPv6 /64, however the socket or a trusted proxy wrote it.
      clientIpKey(request.ip),
      // Several values (a repeated header) cannot be a key: pass them joined, validation rejects the comma.
      Array.isArray(idempotencyKey) ? idempotencyKey.join(", ") : idempotencyKey,
      protection,
      new Map<string, string>(),
      summary,
      traceHolder,
      callOptions,
    );
  };
}
