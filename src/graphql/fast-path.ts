import { type ExecutionResult, execute, GraphQLError, type GraphQLFormattedError, Kind } from "graphql";
import type { IncomingHttpHeaders } from "node:http";
import type { Span } from "@opentelemetry/api";
import type { Metrics } from "../observability/metrics";
import { isPromiseLike } from "../util/promise-like";
import type { AcceptedDocument, AcceptedDocuments, FastRequest } from "./accepted-documents";
import type { GraphQLContext } from "./context";
import { EdgeCode } from "./edge-code";
import {
  answeredUnexpectedly,
  completeErrors,
  logMaskedErrors,
  noteOperation,
  observeOperation,
} from "./plugins/request.plugin";
import { RequestTracing } from "./plugins/tracing.plugin";
// The module's object, not the global `performance`: that is an accessor, a getter call per read (about 250
// main-thread instructions under callgrind, several reads per request).
import { performance } from "node:perf_hooks";

/** An HTTP answer written as Apollo Server's would be: status, headers in Apollo's order, body (http/graphql-route.ts writes it). */
export interface FastAnswer {
  status: number;
  headers: Array<[string, string]>;
  body: string;
}

export type FormatError = (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;

/** How many requests took the fast path, and how many found no resolver run and went to Apollo (tests read these). */
export interface FastPathCounts {
  answered: number;
  handedBack: number;
}

/**
 * Runs an operation whose document Apollo Server already accepted (accepted-documents.ts) the way Apollo's request
 * pipeline would for that document, without the pipeline: graphql-js `execute` with the same arguments Apollo passes
 * (requestPipeline.js `execute`: no root value, no field resolver, `request.variables`, `request.operationName`, its
 * `executionOptions`), its errors normalised and formatted as Apollo's errorNormalize.js does (with our formatError),
 * and this service's plugin effects (request.plugin.ts, the same functions), and, when traces are exported, the
 * request's span through the tracing plugin's own steps (tracing.plugin.ts RequestTracing). Only for servers whose
 * request plugins are ours alone (apollo-options.ts).
 *
 * What it skips per request, all of it already done by Apollo on the document's first request: the SHA-256 of the
 * text and the document-store lookup, hooks of six plugins (each a promise), the context copy, content-type checks
 * (http/graphql-route.ts does the cases it proves equal). Measured with `npm run bench:callgrind`: see the commit.
 */
export class FastPath {
  readonly counts: FastPathCounts = { answered: 0, handedBack: 0 };

  constructor(
    private readonly accepted: AcceptedDocuments,
    private readonly formatError: FormatError,
    private readonly metrics: Metrics | null,
    /** When traces are exported (null: no span is made). */
    private readonly tracing: RequestTracing | null = null,
    /**
     * Apollo's `executionOptions` (apollo-options.ts), passed as Apollo passes them: a body whose variables do not
     * coerce is worked through here before it is handed back, so it meets the same error cap (graphql-js's default of
     * 50 coercion errors, each holding the variable's whole value, would apply here otherwise).
     */
    private readonly executionOptions: { maxCoercionErrors: number } | undefined = undefined,
  ) {}

  /** The accepted document a POST body names, when the body is exactly the common case (accepted-documents.ts). */
  match(body: unknown): FastRequest | undefined {
    return this.accepted.match(body);
  }

  /**
   * The answer, or null when no resolver ran because the variables did not coerce (graphql-js's result then has errors
   * and no `data`): the caller hands that request to Apollo, which answers and logs it exactly as always.
   */
  run(
    request: FastRequest,
    contextValue: GraphQLContext,
    contentType: string,
    headers: IncomingHttpHeaders,
  ): FastAnswer | null | Promise<FastAnswer | null> {
    const { accepted, variables } = request;
    const started = this.metrics ? performance.now() : 0;
    // Before execute: the span is the parent of the upstream calls its resolvers make. Handed to Apollo (no resolver
    // ran), the request keeps it: the tracing plugin continues and ends it.
    let span: Span | undefined;
    if (this.tracing) {
      span = this.tracing.start(contextValue, () => RequestTracing.parentOf(headers));
      this.tracing.resolved(span, accepted.operation.operation, accepted.operationName);
    }
    let result;
    try {
      result = execute({
        schema: accepted.schema,
        document: accepted.document,
        contextValue,
        variableValues: variables,
        operationName: accepted.requestedName,
        options: this.executionOptions,
      });
    } catch {
      // graphql-js throws only while checking its arguments, before any resolver: Apollo answers.
      this.counts.handedBack++;
      return null;
    }
    if (isPromiseLike(result)) {
      // Promise.resolve returns a native promise as it is; graphql-js may hand back a resolver's own thenable.
      return Promise.resolve(result).then((r) => this.answer(accepted, contextValue, contentType, r, started, span));
    }
    return this.answer(accepted, contextValue, contentType, result, started, span);
  }

  private answer(
    accepted: AcceptedDocument,
    contextValue: GraphQLContext,
    contentType: string,
    result: ExecutionResult,
    started: number,
    span: Span | undefined,
  ): FastAnswer | null {
    if (result.data === undefined) {
      this.counts.handedBack++;
      return null;
    }
    this.counts.answered++;
    const { operationName } = accepted;
    // Made only for an answer with errors or a resolver's headers (below).
    let head: Head | undefined;
    let formatted: GraphQLFormattedError[] | undefined;
    // requestPipeline.js: variable errors become UserInputError, didEncounterErrors, then formatErrors.
    const errors = result.errors?.map(toUserInputError);
    // Named before anything below can throw (its metric, its errors' formatting): such a 500's access line names the
    // operation beside what it resolved (as request.plugin.ts willSendResponse).
    noteOperation(contextValue, operationName);
    if (errors) {
      logMaskedErrors(errors, contextValue, operationName);
      const errorHead = (head = newHead());
      formatted = errors.map((error) => this.formatOne(error, errorHead));
    }
    if (this.metrics) observeOperation(this.metrics, operationName, accepted.operation.operation, errors, started);
    // Most answers (a send's: no error, no header of a resolver's) carry the content type alone, answered below without
    // the Map that orders and dedupes the headers of several sources, its sets and its spread. Measured in
    // docs/performance-runs.md, the round "what the changes since 5ad0d0b cost a request, and the fast path's plain
    // answer (callgrind)". An error's `http` or a resolver's header: the Map, in Apollo's order.
    if (head !== undefined || contextValue.responseHeaders.size !== 0) {
      head ??= newHead();
      for (const [name, value] of contextValue.responseHeaders) head.headers.set(name.toLowerCase(), value);
    }
    const sent = completeErrors(contextValue, operationName, formatted);
    if (head !== undefined && !head.headers.has("content-type")) head.headers.set("content-type", contentType);
    // Where Apollo runs willSendResponse: after our request plugin's, before serialising (the span ends with the
    // status the HTTP layer writes: a body that cannot be serialised below is answered 500).
    if (span) this.tracing?.answered(contextValue.trace, head?.status ?? 200, errors);
    let body: string;
    try {
      // runHttpQuery.js: orderExecutionResultFields, then prettyJSONStringify (JSON.stringify plus a newline).
      body = JSON.stringify({ errors: sent, data: result.data, extensions: result.extensions }) + "\n";
    } catch (error) {
      // Apollo's executeHTTPGraphQLRequest answers a throw here with errorResponse: that error alone, formatted.
      // Apollo logs nothing for it: the cause is logged here, with the request id.
      answeredUnexpectedly(contextValue, error);
      return this.errorResponse(error, contentType);
    }
    if (head === undefined) return { status: 200, headers: [["content-type", contentType]], body };
    return { status: head.status ?? 200, headers: [...head.headers], body };
  }

  /** ApolloServer.js errorResponse: status from the error (else 500), its headers, then content-type. */
  private errorResponse(thrown: unknown, contentType: string): FastAnswer {
    const head = newHead();
    const error =
      thrown instanceof GraphQLError
        ? thrown
        : thrown instanceof Error
          ? new GraphQLError(thrown.message, { originalError: thrown })
          : new GraphQLError("Unexpected error value: " + String(thrown));
    const formatted = this.formatOne(error, head);
    head.headers.set("content-type", contentType);
    return {
      status: head.status ?? 500,
      headers: [...head.headers],
      body: JSON.stringify({ errors: [formatted] }) + "\n",
    };
  }

  /** errorNormalize.js normalizeAndFormatErrors for one error (stack traces are off: includeStacktraceInErrorResponses). */
  private formatOne(error: GraphQLError, head: Head): GraphQLFormattedError {
    try {
      const extensions: Record<string, unknown> = {
        ...error.extensions,
        code: error.extensions.code ?? EdgeCode.INTERNAL_SERVER_ERROR,
      };
      const http = extensions.http;
      if (isPartialHead(http)) {
        if (http.status) head.status = http.status;
        if (http.headers) for (const [name, value] of http.headers) head.headers.set(name.toLowerCase(), value);
        delete extensions.http;
      }
      return this.formatError({ ...error.toJSON(), extensions }, error);
    } catch {
      return { message: "Internal server error", extensions: { code: EdgeCode.INTERNAL_SERVER_ERROR } };
    }
  }
}

interface Head {
  status: number | undefined;
  headers: Map<string, string>;
}

function newHead(): Head {
  return { status: undefined, headers: new Map() };
}

function isPartialHead(x: unknown): x is { status?: number; headers?: Map<string, string> } {
  return (
    !!x &&
    typeof x === "object" &&
    (!("status" in x) || typeof x.status === "number") &&
    (!("headers" in x) || x.headers instanceof Map)
  );
}

/**
 * requestPipeline.js isBadUserInputGraphQLError and UserInputError: an error about a variable, without a code, gets
 * BAD_USER_INPUT (same message, nodes, extensions; the original kept). Such errors come from variable coercion,
 * which the fast path hands back to Apollo; kept here so that any other one is treated as Apollo treats it.
 */
function toUserInputError(error: GraphQLError): GraphQLError {
  const node = error.nodes?.length === 1 ? error.nodes[0] : undefined;
  if (node?.kind !== Kind.VARIABLE_DEFINITION || error.extensions?.code != null) return error;
  const name = node.variable.name.value;
  const prefixes = [
    `Variable "$${name}" has invalid value`,
    `Variable "$${name}" got invalid value `,
    `Variable "$${name}" of required type `,
    `Variable "$${name}" of non-null type `,
  ];
  if (!prefixes.some((p) => error.message.startsWith(p))) return error;
  const converted = new GraphQLError(error.message, {
    nodes: error.nodes,
    originalError: error.originalError ?? error,
    extensions: { ...error.extensions, code: EdgeCode.BAD_USER_INPUT },
  });
  converted.name = "UserInputError";
  return converted;
}
