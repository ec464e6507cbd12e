import type { ApolloServerPlugin } from "@apollo/server";
import { propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, type TextMapGetter, trace } from "@opentelemetry/api";
import { operationLabel } from "../../observability/metrics";
import type { GraphQLContext } from "../context";

const tracer = trace.getTracer("aopay-graphql");

/** Apollo's HeaderMap (lower-case names) as a carrier for the propagator. */
const HEADERS: TextMapGetter<Map<string, string>> = {
  get: (carrier, key) => carrier.get(key),
  keys: (carrier) => [...carrier.keys()],
};

/**
 * One SERVER span per GraphQL request, the parent of its upstream calls' spans (aopay/client.ts), installed only when
 * traces are exported (observability/telemetry.ts). A W3C `traceparent` from the caller makes it part of the caller's
 * trace (the propagator is the SDK's, OTEL_PROPAGATORS: tracecontext and baggage by default).
 *
 * Attributes are names and codes only (OpenTelemetry's GraphQL conventions where they exist): operation name (the
 * generated clients' only, else `other`) and type, the client id, the result's type name or failure code, the HTTP
 * status, and on GraphQL errors their code.
 * Never the document, variables or error messages: a literal or a coercion error can carry an Aadhaar number.
 * The request id is not an attribute either (a caller chooses it); log lines carry the trace id instead.
 *
 * The parent is handed to upstream calls explicitly (`trace` in the context) rather than through async
 * context, so it holds however Fastify and Apollo schedule the request's work.
 */
export function tracingPlugin(): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart({ request, contextValue }) {
      const parent = request.http ? propagation.extract(ROOT_CONTEXT, request.http.headers, HEADERS) : ROOT_CONTEXT;
      const span = tracer.startSpan(
        "graphql",
        { kind: SpanKind.SERVER, attributes: { "aopay.client_id": contextValue.client.id, "url.path": "/graphql" } },
        parent,
      );
      contextValue.trace.context = trace.setSpan(parent, span);
      if (span.isRecording()) contextValue.log.setBindings({ traceId: span.spanContext().traceId });
      return {
        async didResolveOperation({ operation, operationName }) {
          const type = operation?.operation ?? "unknown";
          // A name is client text (an Aadhaar number is a valid one as `_234123412346`): only the generated clients'
          // operations are named, as in the metrics and the access line.
          const name = operationLabel(operationName);
          const known = name !== "other" && name !== "anonymous";
          span.updateName(known ? `${type} ${name}` : type);
          span.setAttribute("graphql.operation.type", type);
          span.setAttribute("graphql.operation.name", name);
        },
        async willSendResponse({ response, errors }) {
          const { result } = contextValue.summary;
          if (result) span.setAttribute("aopay.result", result);
          span.setAttribute("http.response.status_code", response.http.status ?? 200);
          const code = errors?.[0]?.extensions?.code;
          if (errors && errors.length > 0) {
            span.setAttribute("error.type", typeof code === "string" ? code : "GRAPHQL_ERROR");
            span.setStatus({ code: SpanStatusCode.ERROR });
          }
          span.end();
        },
      };
    },
  };
}
