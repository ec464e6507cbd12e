import type { ApolloServerPlugin } from "@apollo/server";
import {
  type Context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  type SpanOptions,
  SpanStatusCode,
  type TextMapGetter,
  trace,
} from "@opentelemetry/api";
import type { IncomingHttpHeaders } from "node:http";
import type { GraphQLError } from "graphql";
import type { AccessSummary } from "../../logging/access-log";
import { operationLabel } from "../../observability/metrics";
import type { GraphQLContext, RequestTrace } from "../context";
import { readsAsNumberInside } from "../../pii/scrub";

const tracer = trace.getTracer("aopay-graphql");
const SERVER_SPAN: SpanOptions = Object.freeze({ kind: SpanKind.SERVER });

/** Apollo's HeaderMap (lower-case names) as a carrier for the propagator. */
const HEADER_MAP: TextMapGetter<Map<string, string>> = {
  get: (carrier, key) => carrier.get(key),
  keys: (carrier) => [...carrier.keys()],
};

/** Node's request headers (lower-case names), as the fast path has them, as a carrier for the propagator. */
const NODE_HEADERS: TextMapGetter<IncomingHttpHeaders> = {
  get: (carrier, key) => carrier[key],
  keys: (carrier) => Object.keys(carrier),
};

/**
 * One SERVER span per GraphQL request, the parent of its upstream calls' spans (aopay/client.ts), made only when
 * traces are exported (observability/telemetry.ts): by the plugin below for requests Apollo's pipeline answers, and by
 * the fast path (fast-path.ts) for the ones it answers, through these same steps. It ends when the HTTP layer writes
 * the request's access line (`end`), with the status the client was answered: not before, since the answer can still
 * change after GraphQL's last hook. A W3C `traceparent` from the caller makes it part of the caller's trace (the
 * propagator is the SDK's, OTEL_PROPAGATORS: tracecontext and baggage by default).
 *
 * Attributes are names and codes only (OpenTelemetry's GraphQL conventions where they exist): operation name (the
 * generated clients' only, else `other`) and type, the client id as the logs show it, the result's type name or
 * failure code, the HTTP status, and on GraphQL errors their code; the customers it names as the access line's keyed
 * references (`aopay.customer_refs`, protection/customer-refs.ts).
 * Never the document, variables or error messages: a literal or a coercion error can carry an Aadhaar number.
 * The request id is not an attribute either (a caller chooses it); log lines carry the trace id instead.
 *
 * The parent is handed to upstream calls explicitly (`trace` in the context) rather than through async
 * context, so it holds however Fastify and Apollo schedule the request's work.
 */
export class RequestTracing {
  /**
   * The request's span, started from the caller's trace context, or the one already started for it: a request the
   * fast path hands to Apollo (no resolver ran) keeps its span, so it is exported once.
   */
  start(contextValue: GraphQLContext, parent: () => Context): Span {
    const holder = contextValue.trace;
    if (holder.span) return holder.span;
    const from = parent();
    // Its kind alone at the start, attributes only when it records: the SDK cleans start attributes before its
    // sampler decides, for every request (aopay/client.ts CLIENT_SPAN says why that loses a sampler nothing).
    const span = tracer.startSpan("graphql", SERVER_SPAN, from);
    holder.span = span;
    holder.context = trace.setSpan(from, span);
    if (span.isRecording()) {
      // As the log lines show it (auth/authenticator.ts shownClientId): no scrubber reads an exported span.
      span.setAttributes({ "aopay.client_id": contextValue.client.shown, "url.path": "/graphql" });
      // The log scrubber leaves a `traceId` whole as our own id (pii/scrub.ts ownId). A caller's trace id is its
      // choice: one with a run that reads as a mobile or an Aadhaar number (`a9876543210bcdef…`, about 5.5 % of
      // random ids, 200,000 from randomBytes; 2.4 % before a number glued into a run counted) is not logged, or it
      // would carry the number into every line of the request. The trace still joins the caller's; the request's lines
      // are found by their requestId.
      const traceId = span.spanContext().traceId;
      if (trace.getSpanContext(from) === undefined || !readsAsNumberInside(traceId))
        contextValue.log.setBindings({ traceId });
    }
    return span;
  }

  /** The operation is known (Apollo's didResolveOperation). */
  resolved(span: Span, type: string, operationName: string | null | undefined): void {
    // A name is client text (an Aadhaar number is a valid one as `_234123412346`): only the generated clients'
    // operations are named, as in the metrics and the access line.
    const name = operationLabel(operationName);
    const known = name !== "other" && name !== "anonymous";
    span.updateName(known ? `${type} ${name}` : type);
    span.setAttribute("graphql.operation.type", type);
    span.setAttribute("graphql.operation.name", name);
  }

  /**
   * GraphQL's answer, before it is serialised (Apollo's willSendResponse): its status and first error code, noted for
   * `end`. The span does not end here: the answer can still become another (a result that cannot be serialised is
   * answered 500; an Accept Apollo cannot serve, found after execution, 406: now refused before GraphQL,
   * http/graphql-route.ts notAcceptable), and a hook that throws before this one is answered 500 without it.
   */
  answered(holder: RequestTrace, status: number, errors: readonly GraphQLError[] | undefined): void {
    holder.graphqlStatus = status;
    if (errors && errors.length > 0) {
      const code = errors[0].extensions?.code;
      holder.errorType = typeof code === "string" ? code : "GRAPHQL_ERROR";
    }
  }

  /**
   * The request's access line is written (both HTTP layers: http-server.ts, http/thin-graphql.ts): its span, if one
   * was started, ends now, once, with the status the client was answered and the access line's result and
   * references. An answer other than GraphQL's own (written after willSendResponse, or without it) carries the access
   * line's code as `error.type`. A client that closed the connection first: `aopay.client_gone`, as the access line's
   * `clientGone` (the status is the one it was to have).
   */
  static end(holder: RequestTrace, status: number, summary: AccessSummary | null, clientGone: boolean): void {
    const span = holder.span;
    if (span === undefined) return;
    holder.span = undefined;
    if (span.isRecording()) {
      if (summary?.result) span.setAttribute("aopay.result", summary.result);
      // Answered 500 after the operation resolved: what it resolved (the access line's `resolved`).
      if (summary?.resolved) span.setAttribute("aopay.resolved", summary.resolved);
      // The customers it names, as the access line's keyed references (graphql/customer-refs.ts), never a value.
      if (summary?.refs) span.setAttribute("aopay.customer_refs", summary.refs);
      span.setAttribute("http.response.status_code", status);
      const errorType =
        status === holder.graphqlStatus
          ? holder.errorType
          : status >= 400
            ? (summary?.result ?? String(status))
            : undefined;
      if (errorType !== undefined) {
        span.setAttribute("error.type", errorType);
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      if (clientGone) span.setAttribute("aopay.client_gone", true);
    }
    span.end();
  }

  /** The caller's trace context from Node's request headers (the fast path). */
  static parentOf(headers: IncomingHttpHeaders): Context {
    return callerSpanOnly(propagation.extract(ROOT_CONTEXT, headers, NODE_HEADERS));
  }
}

/**
 * Of what the propagator read from the caller, its span's ids and sampled flag only: the trace is continued, the
 * caller's `tracestate` and `baggage` are dropped. Both are the caller's free text (tracestate up to 512 characters,
 * which the SDK copies onto every span of the trace, ours and each upstream call's, and exports); an audit's
 * `tracestate: vendor=mob9182736450` was exported whole on both spans. Nothing here propagates them onward (no
 * upstream call carries trace headers), so they would serve nothing but the export. The trace id itself is kept: the
 * propagator takes only 32 lowercase hexadecimal digits (not all zeros), so it can carry no text, and it is what
 * joins the caller's trace (docs/operations.md "Logs and tracing"); it is logged only where it reads as no number
 * (RequestTracing.start).
 */
function callerSpanOnly(extracted: Context): Context {
  const caller = trace.getSpanContext(extracted);
  if (!caller) return ROOT_CONTEXT;
  const { traceId, spanId, traceFlags, isRemote } = caller;
  return trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId, traceFlags, isRemote });
}

/** The span of requests Apollo's pipeline answers (RequestTracing). */
export function tracingPlugin(tracing: RequestTracing): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart({ request, contextValue }) {
      const span = tracing.start(contextValue, () =>
        request.http
          ? callerSpanOnly(propagation.extract(ROOT_CONTEXT, request.http.headers, HEADER_MAP))
          : ROOT_CONTEXT,
      );
      return {
        async didResolveOperation({ operation, operationName }) {
          tracing.resolved(span, operation?.operation ?? "unknown", operationName);
        },
        async willSendResponse({ response, errors }) {
          tracing.answered(contextValue.trace, response.http.status ?? 200, errors);
        },
      };
    },
  };
}
