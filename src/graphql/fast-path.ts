import {
  type ExecutionResult,
  execute,
  getVariableValues,
  GraphQLError,
  type GraphQLFormattedError,
  Kind,
} from "graphql";
import type { Metrics } from "../observability/metrics";
import { isPromiseLike } from "../util/promise-like";
import type { AcceptedDocument, AcceptedDocuments, FastRequest } from "./accepted-documents";
import { type Compiled, compileAccepted, ranAny, type RootRecord } from "./compiled-documents";
import type { GraphQLContext } from "./context";
import { EdgeCode } from "./edge-code";
import { completeErrors, logMaskedErrors, observeOperation } from "./plugins/request.plugin";

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
  /** Of `answered`: answered by a compiled query (compiled-documents.ts) without errors. */
  compiled: number;
  /** Of `answered`: a compiled query's result with errors, finished again by graphql-js (compiled-documents.ts). */
  replayed: number;
}

/**
 * Runs an operation whose document Apollo Server already accepted (accepted-documents.ts) the way Apollo's request
 * pipeline would for that document, without the pipeline: graphql-js `execute` with the same arguments Apollo passes
 * (requestPipeline.js `execute`: no root value, no field resolver, `request.variables`, `request.operationName`), its
 * errors normalised and formatted as Apollo's errorNormalize.js does (with our formatError), and this service's plugin
 * effects (request.plugin.ts, the same functions). Only for servers whose request plugins are ours alone: the tracing
 * plugin (telemetry on) turns the fast path off (apollo-options.ts).
 *
 * A document without string literals runs, from its first fast-path request on, as a graphql-jit query compiled once
 * (compiled-documents.ts: why those only, how variables and errors are kept identical to graphql-js's); the others
 * with `execute`.
 *
 * What it skips per request, all of it already done by Apollo on the document's first request: the SHA-256 of the
 * text and the document-store lookup, hooks of six plugins (each a promise), the context copy, content-type checks
 * (http/graphql-route.ts does the cases it proves equal). Measured with `npm run bench:callgrind`: see the commit.
 */
export class FastPath {
  readonly counts: FastPathCounts = { answered: 0, handedBack: 0, compiled: 0, replayed: 0 };
  /**
   * Compiling a document costs about 2-4 ms of CPU (graphql-jit, the bench's documents on the shared 2-core machine),
   * some 20 times Apollo's parsing and validation of it: a client sending ever new documents twice each
   * (TRUSTED_DOCUMENTS=off) would otherwise buy that much CPU for two requests. At most COMPILE_BURST compilations at
   * once, then COMPILES_PER_SECOND: at most about 4 % of a core, sustained.
   */
  private readonly compileBudget = new TokenBucket(COMPILE_BURST, COMPILES_PER_SECOND);

  constructor(
    private readonly accepted: AcceptedDocuments,
    private readonly formatError: FormatError,
    private readonly metrics: Metrics | null,
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
  ): FastAnswer | null | Promise<FastAnswer | null> {
    const { accepted, variables } = request;
    const started = this.metrics ? performance.now() : 0;
    let compiled = accepted.compiled;
    // First fast-path request of this document (its second request): compile it, or note that it is not to be
    // (compiled-documents.ts); when the compile budget is spent, graphql-js runs it and the next request tries again.
    if (compiled === undefined && this.compileBudget.take()) {
      try {
        compiled = compileAccepted(accepted.schema, accepted.document, accepted.operation, accepted.requestedName);
      } catch {
        compiled = null;
      }
      accepted.compiled = compiled;
    }
    if (compiled) return this.runCompiled(compiled, accepted, variables, contextValue, contentType, started);
    let result;
    try {
      result = execute({
        schema: accepted.schema,
        document: accepted.document,
        contextValue,
        variableValues: variables,
        operationName: accepted.requestedName,
      });
    } catch {
      // graphql-js throws only while checking its arguments, before any resolver: Apollo answers.
      this.counts.handedBack++;
      return null;
    }
    if (isPromiseLike(result)) {
      // Promise.resolve returns a native promise as it is; graphql-js may hand back a resolver's own thenable.
      return Promise.resolve(result).then((r) => this.answer(accepted, contextValue, contentType, r, started));
    }
    return this.answer(accepted, contextValue, contentType, result, started);
  }

  /**
   * The compiled query (compiled-documents.ts): variables coerced by graphql-js first, exactly as `execute` would
   * (buildExecutionContext: getVariableValues, at most 50 errors), and handed to Apollo when they do not coerce; then
   * graphql-jit. A result with errors is finished again by graphql-js over the root fields' recorded results, so its
   * errors are graphql-js's own.
   */
  private runCompiled(
    compiled: Compiled,
    accepted: AcceptedDocument,
    variables: Record<string, unknown> | undefined,
    contextValue: GraphQLContext,
    contentType: string,
    started: number,
  ): FastAnswer | null | Promise<FastAnswer | null> {
    const coerced = getVariableValues(accepted.schema, accepted.operation.variableDefinitions ?? [], variables ?? {}, {
      maxErrors: 50,
    });
    if (coerced.errors) {
      this.counts.handedBack++;
      return null;
    }
    const record: RootRecord = Object.create(null) as RootRecord;
    // The root union's type resolution notes the outcome in the access summary (schema.ts noteRootResults): a
    // replay resolves it again, from the same state.
    const summaryBefore = contextValue.summary?.result ?? null;
    const finish = (result: ExecutionResult | undefined): FastAnswer | null | Promise<FastAnswer | null> => {
      if (result && !result.errors) {
        this.counts.compiled++;
        return this.answer(accepted, contextValue, contentType, result, started);
      }
      if (!ranAny(record)) {
        // graphql-jit refused the variables graphql-js accepted (or failed before any resolver): Apollo answers.
        this.counts.handedBack++;
        return null;
      }
      this.counts.replayed++;
      if (contextValue.summary) contextValue.summary.result = summaryBefore;
      const replayed = execute({
        schema: compiled.replaySchema,
        document: accepted.document,
        rootValue: record,
        contextValue,
        variableValues: variables,
        operationName: accepted.requestedName,
      });
      if (isPromiseLike(replayed)) {
        return Promise.resolve(replayed).then((r) => this.answer(accepted, contextValue, contentType, r, started));
      }
      return this.answer(accepted, contextValue, contentType, replayed, started);
    };
    let result;
    try {
      result = compiled.query(record, contextValue, variables ?? {});
    } catch {
      return finish(undefined);
    }
    if (isPromiseLike(result)) {
      return Promise.resolve(result).then(finish, () => finish(undefined));
    }
    return finish(result);
  }

  private answer(
    accepted: AcceptedDocument,
    contextValue: GraphQLContext,
    contentType: string,
    result: ExecutionResult,
    started: number,
  ): FastAnswer | null {
    if (result.data === undefined) {
      this.counts.handedBack++;
      return null;
    }
    this.counts.answered++;
    const { operationName } = accepted;
    const head: Head = { status: undefined, headers: new Map() };
    let formatted: GraphQLFormattedError[] | undefined;
    // requestPipeline.js: variable errors become UserInputError, didEncounterErrors, then formatErrors.
    const errors = result.errors?.map(toUserInputError);
    if (errors) {
      logMaskedErrors(errors, contextValue, operationName);
      formatted = errors.map((error) => this.formatOne(error, head));
    }
    if (this.metrics) observeOperation(this.metrics, operationName, accepted.operation.operation, errors, started);
    for (const [name, value] of contextValue.responseHeaders) head.headers.set(name.toLowerCase(), value);
    const sent = completeErrors(contextValue, operationName, formatted);
    if (!head.headers.has("content-type")) head.headers.set("content-type", contentType);
    let body: string;
    try {
      // runHttpQuery.js: orderExecutionResultFields, then prettyJSONStringify (JSON.stringify plus a newline).
      body = JSON.stringify({ errors: sent, data: result.data, extensions: result.extensions }) + "\n";
    } catch (error) {
      // Apollo's executeHTTPGraphQLRequest answers a throw here with errorResponse: that error alone, formatted.
      return this.errorResponse(error, contentType);
    }
    return { status: head.status ?? 200, headers: [...head.headers], body };
  }

  /** ApolloServer.js errorResponse: status from the error (else 500), its headers, then content-type. */
  private errorResponse(thrown: unknown, contentType: string): FastAnswer {
    const head: Head = { status: undefined, headers: new Map() };
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

/** Compilations allowed at once (a fresh process compiles its clients' few documents at once). Default 64. */
export const COMPILE_BURST = 64;
/** Compilations allowed per second after the burst. Default 10. */
export const COMPILES_PER_SECOND = 10;

/** A token bucket: `take` spends one token when there is one; tokens come back at `perSecond`, up to `burst`. */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = burst;
    this.at = now();
  }

  take(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.perSecond);
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

interface Head {
  status: number | undefined;
  headers: Map<string, string>;
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
