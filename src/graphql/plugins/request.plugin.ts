import type {
  ApolloServerPlugin,
  GraphQLRequestContextDidEncounterErrors,
  GraphQLRequestContextExecutionDidStart,
  GraphQLRequestContextValidationDidStart,
  GraphQLRequestContextWillSendResponse,
} from "@apollo/server";
import { unwrapResolverError } from "@apollo/server/errors";
import { type DocumentNode, GraphQLError, type GraphQLFormattedError } from "graphql";
import { type Metrics, operationLabel } from "../../observability/metrics";
import { maskGlued } from "../../pii/scrub";
import type { AcceptedDocuments } from "../accepted-documents";
import type { GraphQLContext } from "../context";
import { edgeCodeOf, isClientError } from "./error-format";
import { failedAnswer } from "../../logging/access-log";
// The module's object, not the global `performance`: that is an accessor, a getter call per read (about 250
// main-thread instructions under callgrind, several reads per request).
import { performance } from "node:perf_hooks";

/**
 * Per-request bookkeeping at the GraphQL layer:
 * - logs every error that will be masked, with the request's logger (so the line carries the request id);
 * - stamps the request id on every error's extensions, so a client can quote it to support (the same id is in the
 *   `x-request-id` response header);
 * - copies headers resolvers asked for (`Idempotent-Replayed`) onto the HTTP response;
 * - completes the access line's summary: the operation name, and the error code when no result was resolved;
 * - observes the operation's duration (graphql_operation_duration_seconds) when metrics are on;
 * - notes each document Apollo accepted (parsed, validated, operation resolved) for the fast path
 *   (accepted-documents.ts).
 * - hands graphql-js an empty stand-in for a document refused by its shape before validation (limits.ts
 *   documentShape: repeated selections).
 * One plugin with synchronous hooks rather than one per concern with async ones: Apollo awaits every hook of every
 * plugin, and each async function is one more promise per request (docs/performance-runs.md, "Instruction counts per
 * change"). The fast path (fast-path.ts) runs the same functions below, so both write the same log lines and answers.
 */
export function requestPlugin(
  metrics: Metrics | null,
  accepted: AcceptedDocuments,
  /** limits.ts documentShape: a stand-in for a document refused before validation, or null. */
  shape: (document: DocumentNode) => DocumentNode | null,
): ApolloServerPlugin<GraphQLContext> {
  const plugin = {
    // An error thrown in Apollo's pipeline outside any resolver (a plugin hook): Apollo answers 500 and logs it
    // without the request id; this line has it, and the access line says INTERNAL_SERVER_ERROR.
    unexpectedErrorProcessingRequest({
      requestContext,
      error,
    }: {
      requestContext: { contextValue: Partial<GraphQLContext> };
      error: Error;
    }) {
      // A hook that threw here would replace Apollo's answer: an operation run without our context (executeOperation
      // in tests) has no logger to say it with, and Apollo's own line says it.
      const { log, summary } = requestContext.contextValue;
      if (log && summary) answeredUnexpectedly({ log, summary }, error);
    },
    requestDidStart() {
      const started = metrics ? performance.now() : 0;
      return {
        // Apollo parsed the text (it was not in its document cache) and is about to validate it: a document refused
        // by its shape is replaced by the stand-in that carries the refusal, so that graphql-js's rules never see it
        // (limits.ts documentShape says why this cannot be a validation rule).
        validationDidStart(requestContext: GraphQLRequestContextValidationDidStart<GraphQLContext>) {
          const standIn = shape(requestContext.document);
          if (standIn) (requestContext as { document: DocumentNode }).document = standIn;
        },
        didEncounterErrors({
          errors,
          contextValue,
          operationName,
        }: GraphQLRequestContextDidEncounterErrors<GraphQLContext>) {
          logMaskedErrors(errors, contextValue, operationName);
        },
        // Called after every plugin's didResolveOperation and responseForOperation: Apollo accepted the document.
        executionDidStart(requestContext: GraphQLRequestContextExecutionDidStart<GraphQLContext>) {
          accepted.remember(requestContext);
        },
        willSendResponse({
          response,
          contextValue,
          operationName,
          operation,
          errors: pipelineErrors,
        }: GraphQLRequestContextWillSendResponse<GraphQLContext>) {
          // Named first: a step below that throws (its metric) is answered 500, and that access line names the
          // operation beside what it resolved (access-log.ts `resolved`). It was named last, and such a line said null.
          noteOperation(contextValue, operationName);
          if (metrics) {
            observeOperation(metrics, operationName, operation?.operation, pipelineErrors, started);
          }
          for (const [name, value] of contextValue.responseHeaders) response.http.headers.set(name, value);
          if (response.body.kind !== "single") return;
          const errors = completeErrors(contextValue, operationName, response.body.singleResult.errors);
          if (errors) response.body.singleResult.errors = errors;
        },
      };
    },
  };
  // Apollo's types ask every hook for a promise; Apollo itself awaits Promise.all over the hooks' return values
  // (requestPipeline.js), which takes plain values as they are.
  return plugin as unknown as ApolloServerPlugin<GraphQLContext>;
}

/** didEncounterErrors: every error that will be masked is logged, with what it wraps (never sent to the client). */
export function logMaskedErrors(
  errors: readonly GraphQLError[],
  contextValue: GraphQLContext,
  operationName: string | null | undefined,
): void {
  for (const error of errors) {
    if (isClientError(edgeCodeOf(error.extensions?.code, error.message))) continue;
    // The operation name is client text: logged only when it is one of the generated clients' operations. The path's
    // names are the client's aliases: a number glued into one (`m9876543210`) passes the log scrubber's rule for
    // tokens, so digit runs in them are masked here (noted by an observability audit).
    const path = error.path?.map((p) => (typeof p === "string" ? maskGlued(p) : p));
    const err = unwrapResolverError(error);
    contextValue.log.error(
      // A GraphQLError that wraps nothing would carry its own path into the line too (pino's err serializer copies
      // every property): logged with the masked one instead.
      {
        err:
          err instanceof GraphQLError
            ? Object.assign(new Error(err.message), err, { name: err.name, stack: err.stack, path })
            : err,
        path,
        operation: operationLabel(operationName),
      },
      "unexpected error (masked for the client)",
    );
  }
}

/**
 * A request answered 500 after an unexpected error (a plugin hook that threw, a result that could not be serialised):
 * its cause on an error line with the request id (the logger scrubs the message), and the access line's result
 * INTERNAL_SERVER_ERROR, what the resolvers had resolved beside it as `resolved` (failedAnswer). Error paths only: a
 * 2xx never comes here.
 */
export function answeredUnexpectedly(contextValue: Pick<GraphQLContext, "log" | "summary">, error: unknown): void {
  contextValue.log.error({ err: error }, "unexpected error: answered 500");
  failedAnswer(contextValue.summary);
}

/** graphql_operation_duration_seconds: `outcome` is `error` when the request met any error (Apollo's `errors`). */
export function observeOperation(
  metrics: Metrics,
  operationName: string | null | undefined,
  type: string | undefined,
  errors: readonly unknown[] | undefined,
  started: number,
): void {
  const outcome = errors && errors.length > 0 ? "error" : "ok";
  metrics.graphqlOperation(operationName, type ?? "unknown", outcome, (performance.now() - started) / 1000);
}

/** willSendResponse, first: the access line's operation. */
export function noteOperation(contextValue: GraphQLContext, operationName: string | null | undefined): void {
  // Client text too: the generated clients' operation names only, else `other` (or `anonymous`).
  contextValue.summary.operation = operationLabel(operationName);
}

/**
 * willSendResponse, for a single result, once noteOperation has named the operation: the access line's result for
 * errors, and the errors as sent, each stamped with the request id (undefined when there are none).
 */
export function completeErrors(
  contextValue: GraphQLContext,
  operationName: string | null | undefined,
  errors: readonly GraphQLFormattedError[] | undefined,
): GraphQLFormattedError[] | undefined {
  if (!errors) return undefined;
  const { summary } = contextValue;
  const code = errors[0].extensions?.code;
  summary.result ??= typeof code === "string" ? code : "GRAPHQL_ERROR";
  return errors.map((e) => ({
    ...e,
    extensions: { ...e.extensions, requestId: contextValue.requestId },
  }));
}
