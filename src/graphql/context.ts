import type { Span, Context as TraceContext } from "@opentelemetry/api";
import type { AopayClient, CallOptions } from "../aopay/client";
import type { ClientIdentity } from "../auth/authenticator";
import type { AccessSummary } from "../logging/access-log";
import type { Logger } from "../logging/logger";
import type { Protection } from "../protection";
import type { Loaders } from "./loaders";

/** Per-request state (docs/design/style.md principle 7): built fresh for every GraphQL request. */
export interface GraphQLContext {
  requestId: string;
  /** Child logger carrying the request id and client id. */
  log: Logger;
  aopay: AopayClient;
  upstreamMode: "live" | "simulator";
  /** Who is calling: every request is attributed to a client (anonymous only where auth is optional). */
  client: ClientIdentity;
  /**
   * The caller's IP: the socket address, or X-Forwarded-For when the socket is a trusted proxy; canonical
   * (http/client-ip.ts: an IPv4-mapped address as IPv4, other IPv6 as its /64).
   */
  ip: string;
  /** The raw `Idempotency-Key` header, if sent (validated where it is used). */
  idempotencyKey: string | undefined;
  protection: Protection;
  /** Headers to add to the HTTP response (e.g. `Idempotent-Replayed`). */
  responseHeaders: Map<string, string>;
  /** Options for one upstream call made on behalf of this request. */
  callOptions(): CallOptions;
  /** This request's DataLoaders, made on first use. */
  readonly loaders: Loaders;
  /** How the request ended, for its access line and span: operation name, result type name or failure code. */
  readonly summary: AccessSummary;
  /**
   * The request's operation span, when traces are exported (plugins/tracing.plugin.ts): the parent of its upstream
   * calls' spans. A holder, because Apollo hands resolvers and plugins a shallow copy of this context (cloneObject in
   * @apollo/server), so a value set on one copy would not be seen through the other. `span` is that span itself, so
   * that a request the fast path hands to Apollo keeps the one it started.
   */
  readonly trace: RequestTrace;
}

/**
 * The holder of a request's operation span (GraphQLContext.trace), shared by its context's copies and by its HTTP
 * exchange (http/exchange.ts), whose access line ends the span (plugins/tracing.plugin.ts RequestTracing.end).
 */
export interface RequestTrace {
  context?: TraceContext;
  /** Until the span has ended. */
  span?: Span;
  /** The status of GraphQL's own answer (willSendResponse), before it was serialised and written. */
  graphqlStatus?: number;
  /** The code of that answer's first GraphQL error, when it has errors. */
  errorType?: string;
}
