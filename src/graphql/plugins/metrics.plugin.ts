import type { ApolloServerPlugin } from "@apollo/server";
import type { Metrics } from "../../observability/metrics";
import type { GraphQLContext } from "../context";

/** GraphQL operation latency by operation name, type and result (graphql_operation_duration_seconds). */
export function metricsPlugin(metrics: Metrics): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      const started = performance.now();
      return {
        async willSendResponse({ operationName, operation, errors }) {
          const result = errors && errors.length > 0 ? "error" : "ok";
          metrics.graphqlOperation(operationName, operation?.operation ?? "unknown", result, (performance.now() - started) / 1000);
        },
      };
    },
  };
}
