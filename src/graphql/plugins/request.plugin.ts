import type { ApolloServerPlugin } from "@apollo/server";
import { unwrapResolverError } from "@apollo/server/errors";
import { operationLabel } from "../../observability/metrics";
import type { GraphQLContext } from "../context";
import { isClientError } from "./error-format";

/**
 * Per-request bookkeeping at the GraphQL layer:
 * - logs every error that will be masked, with the request's logger (so the line carries the request id);
 * - stamps the request id on every error's extensions, so a client can quote it to support (the same id is in the
 *   `x-request-id` response header);
 * - copies headers resolvers asked for (`Idempotent-Replayed`) onto the HTTP response;
 * - completes the access line's summary: the operation name, and the error code when no result was resolved.
 */
export function requestPlugin(): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue, operationName }) {
          for (const error of errors) {
            if (isClientError(error.extensions?.code)) continue;
            // The operation name is client text: logged only when it is one of the generated clients' operations.
            contextValue.log.error({ err: unwrapResolverError(error), path: error.path, operation: operationLabel(operationName) }, "unexpected error (masked for the client)");
          }
        },
        async willSendResponse({ response, contextValue, operationName }) {
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
}
