import type { Socket } from "node:net";
import type { AopayClient } from "../../../src/aopay/client";
import type { Config } from "../../../src/config";
import type { GraphQLContext } from "../../../src/graphql/context";
import type { GraphQLExchange } from "../../../src/http/exchange";
import { graphqlContextFactory } from "../../../src/http/graphql-context";
import type { Logger } from "../../../src/logging/logger";
import type { Protection } from "../../../src/protection";
import { monotonicNow } from "../../../src/util/clock";
import { graphqlContextFactory as frozenFactory } from "../../fixtures/frozen/graphql-context-8cf3e64";

/**
 * The request context is built by a class since this round (docs/performance-runs.md), where an object literal was
 * copied onto a prototype holding the `loaders` getter. What Apollo, the fast path and the resolvers see must not
 * change: the same own properties in the same order with the same values, `loaders` on the prototype (never an own
 * property, so Apollo's per-operation copy does not build the DataLoaders), built once on first use, on the copy that
 * reads them. Checked against the frozen copy of 8cf3e64 (test/fixtures/frozen/graphql-context-8cf3e64.ts).
 */

const protection = {
  consent: { name: "consent" },
  hasher: { name: "hasher" },
  readHashers: [],
  olderRead: { name: "olderRead" },
  unavailable: { name: "unavailable" },
  readBudget: { name: "readBudget" },
  throttled: { name: "throttled" },
  overShare: { name: "overShare" },
} as unknown as Protection;
const aopay = { name: "aopay" } as unknown as AopayClient;
const log = { name: "log" } as unknown as Logger;

const config = (telemetry: boolean, mode: "live" | "simulator") =>
  ({ requestDeadlineMs: 15_000, telemetry: { enabled: telemetry }, aopay: { mode } }) as unknown as Config;

const exchange = (headers: Record<string, string | string[]>, ip: string): GraphQLExchange => ({
  id: "5b0c3f4e-8a2b-4c1d-9e7f-0a1b2c3d4e5f",
  log,
  method: "POST",
  url: "/graphql",
  headers,
  ip,
  socket: { destroyed: false } as unknown as Socket,
  body: {},
  client: { id: "bench-client", shown: "bench-client" } as GraphQLExchange["client"],
  upstreamCalls: null,
  graphql: null,
  trace: null,
});

/** Apollo Server's per-operation copy of the context (@apollo/server cloneObject). */
const apolloCopy = <T extends object>(context: T): T =>
  Object.assign(Object.create(Object.getPrototypeOf(context) as object) as T, context);

/** What a context holds, functions called (callOptions) and compared by what they give. */
function described(context: GraphQLContext): unknown[] {
  return Object.keys(context).map((key) => {
    const value = (context as unknown as Record<string, unknown>)[key];
    if (key !== "callOptions") return [key, value];
    const { clientGone, record, ...options } = (value as () => Record<string, unknown>)();
    return [key, options, typeof clientGone, typeof record];
  });
}

const cases: Array<[string, Record<string, string | string[]>, string, boolean, "live" | "simulator"]> = [
  ["no headers", {}, "127.0.0.1", false, "live"],
  ["an Idempotency-Key", { "idempotency-key": "k-1234567890" }, "::ffff:10.0.0.1", false, "live"],
  ["a repeated Idempotency-Key", { "idempotency-key": ["a", "b"] }, "2001:db8::1", true, "simulator"],
  ["a shorter deadline", { "x-request-timeout-ms": "2500" }, "10.1.2.3", true, "live"],
  ["a deadline header not a number", { "x-request-timeout-ms": "25x" }, "10.1.2.3", false, "simulator"],
];

describe("the request context against the frozen copy of 8cf3e64", () => {
  const nowMs = 1.5;
  it.each(cases)("%s: the same own properties, in order, with the same values", (_name, headers, ip, trace, mode) => {
    const before = exchange(headers, ip);
    const after = exchange(headers, ip);
    const started = monotonicNow();
    const old = frozenFactory(config(trace, mode), { aopay, protection })(before, nowMs);
    const now = graphqlContextFactory(config(trace, mode), { aopay, protection })(after, nowMs);
    const took = monotonicNow() - started;
    expect(Object.keys(now)).toEqual(Object.keys(old));
    const [o, n] = [described(old), described(now)];
    // The deadline is read off the monotonic clock at each call: the new one no earlier, and later by no more than the
    // two calls took (measured, not a fixed allowance: a GC pause between them under load once exceeded 50 ms).
    const deadline = (d: unknown[]) => (d.find((e) => (e as unknown[])[0] === "callOptions") as unknown[])[1];
    const [od, nd] = [deadline(o) as { deadlineAt: number }, deadline(n) as { deadlineAt: number }];
    expect(nd.deadlineAt - od.deadlineAt).toBeGreaterThanOrEqual(0);
    expect(nd.deadlineAt - od.deadlineAt).toBeLessThanOrEqual(took);
    nd.deadlineAt = od.deadlineAt;
    expect(n).toEqual(o);
    // What the context wrote on its exchange (the access line's summary, the span holder).
    expect([after.graphql, after.trace]).toEqual([before.graphql, before.trace]);
    expect(now.summary).toBe(after.graphql);
    // Both give the same JSON (what a log line of the context would hold).
    expect(JSON.stringify(now)).toBe(JSON.stringify(old));
  });

  it("keeps `loaders` on the prototype: built on first use, once, on Apollo's copy, never by the copy itself", () => {
    for (const factory of [frozenFactory, graphqlContextFactory]) {
      const context = factory(config(false, "live"), { aopay, protection })(exchange({}, "127.0.0.1"), nowMs);
      expect(Object.getOwnPropertyNames(context)).not.toContain("loaders");
      expect(Object.getOwnPropertyNames(context)).not.toContain("builtLoaders");
      const copy = apolloCopy(context);
      expect(Object.getOwnPropertyNames(copy)).not.toContain("builtLoaders");
      const loaders = copy.loaders;
      // The credit history's DataLoader and the request's consent keys (computed once per CIBIL id:
      // Loaders.consentKeys, every rotation secret's key).
      expect(Object.keys(loaders)).toEqual(["creditHistory", "consentKeys"]);
      expect(copy.loaders).toBe(loaders);
      expect(Object.getOwnPropertyNames(copy)).toContain("builtLoaders");
      expect(Object.getOwnPropertyNames(context)).not.toContain("builtLoaders");
    }
  });

  it("records the upstream calls on the exchange, as before", () => {
    for (const factory of [frozenFactory, graphqlContextFactory]) {
      const request = exchange({}, "127.0.0.1");
      const context = factory(config(false, "live"), { aopay, protection })(request, nowMs);
      const call = { endpoint: "aeps-resend-otp", outcome: "ok", durationMs: 1 };
      context.callOptions().record!(call);
      context.callOptions().record!(call);
      expect(request.upstreamCalls).toEqual([call, call]);
    }
  });
});
