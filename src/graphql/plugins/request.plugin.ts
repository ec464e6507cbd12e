import type {
  ApolloServerPlugin,
  GraphQLRequestContextDidEncounterErrors,
  GraphQLRequestContextWillSendResponse,
} from "@apollo/server";
import { unwrapResolverError } from "@apollo/server/errors";
import { type Metrics, operationLabel } from "../../observability/metrics";
import type { GraphQLContext } from "../context";
import { isClientError } from "./error-format";

/**
 * Per-request bookkeeping at the GraphQL layer:
 * - logs every error that will be masked, with the request's logger (so the line carries the request id);
 * - stamps the request id on every error's extensions, so a client can quote it to support (the same id is in the
 *   `x-request-id` response header);
 * - copies headers resolvers asked for (`Idempotent-Replayed`) onto the HTTP response;
 * - completes the access line's summary: the operation name, and the error code when no result was resolved;
 * - observes the operation's duration (graphql_operation_duration_seconds) when metrics are on.
 * One plugin with synchronous hooks rather than one per concern with async ones: Apollo awaits every hook of every
 * plugin, and each async function is one more promise per request (docs/performance.md, "Instruction counts per change").
 */
export function requestPlugin(metrics: Metrics | null = null): ApolloServerPlugin<GraphQLContext> {
  const plugin = {
    requestDidStart() {
      const started = metrics ? performance.now() : 0;
      return {
        didEncounterErrors({
          errors,
          contextValue,
          operationName,
        }: GraphQLRequestContextDidEncounterErrors<GraphQLContext>) {
          for (const error of errors) {
            if (isClientError(error.extensions?.code)) continue;
            // The operation name is client text: logged only when it is one of the generated clients' operations.
            contextValue.log.error(
              { err: unwrapResolverError(error), path: error.path, operation: operationLabel(operationName) },
              "unexpected error (masked for the client)",
            );
          }
        },
        willSendResponse({
          response,
          contextValue,
          operationName,
          operation,
          errors: pipelineErrors,
        }: GraphQLRequestContextWillSendResponse<GraphQLContext>) {
          if (metrics) {
            const outcome = pipelineErrors && pipelineErrors.length > 0 ? "error" : "ok";
            metrics.graphqlOperation(
              operationName,
              operation?.operation ?? "unknown",
              outcome,
              (performance.now() - started) / 1000,
            );
          }
          for (const [name, value] of contextValue.responseHeaders) response.http.headers.set(name, value);
          const { summary } = contextValue;
          // Client text too: the generated clients' operation names only, else `other` (or `anonymous`).
          summary.operation = operationLabel(operationName);
          if (response.body.kind !== "single") return;
          const errors = response.body.singleResult.errors;
          if (!errors) return;
          const code = errors[0].extensions?.code;
          summary.result ??= typeof code === "string" ? code : "GRAPHQL_ERROR";
          response.body.singleResult.errors = errors.map((e) => ({
            ...e,
            extensions: { ...e.extensions, requestId: contextValue.requestId },
          }));
        },
      };
    },
  };
  // Apollo's types ask every hook for a promise; Apollo itself awaits Promise.all over the hooks' return values
  // (requestPipeline.js), which takes plain values as they are.
  return plugin as unknown as ApolloServerPlugin<GraphQLContext>;
}
