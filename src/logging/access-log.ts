import { type FastifyReply, type FastifyRequest, LogController } from "fastify";

/** What the request's access line says about one upstream attempt. */
export interface UpstreamCallSummary {
  endpoint: string;
  outcome: string;
  httpStatus?: number;
  upstreamCode?: string;
  durationMs: number;
}

/** What the GraphQL layer tells the access line about a request (graphql/context.ts `summary`). */
export interface AccessSummary {
  /**
   * The operation's name when it is one of the generated clients' operations, else `other`; `anonymous` when it has
   * none or the document never parsed (observability/metrics.ts operationLabel: a name is client text). Null until
   * the GraphQL layer has set it.
   */
  operation: string | null;
  /**
   * Per root field, the result union member's type name (`CibilOtpChallenge`) or a failure's code (`OTP_COOLDOWN`),
   * comma-separated; or the code of the GraphQL error that stopped the request (`GRAPHQL_VALIDATION_FAILED`).
   */
  result: string | null;
}

/**
 * Fastify's request log lines, rewritten so that no URL is ever logged as the client wrote it: a GraphQL GET carries
 * the document and its variables (Aadhaar, mobile ...) in the query string, and the path of an unknown route is
 * whatever the client typed. Fastify's defaults log `req` (with the full URL) on incoming requests, 5xx errors and
 * 404s. We log one line per request, when it completes, with the matched route's template (`/graphql`, `/healthz`;
 * `(no route)` when none matched) and a summary of the upstream calls it made (a failed call also gets its own warning
 * line, when it happens).
 */
export class AccessLogController extends LogController {
  constructor() {
    super({ requestIdLogLabel: "requestId" });
  }

  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const { upstreamCalls: upstream, graphql } = request as FastifyRequest & {
      upstreamCalls?: UpstreamCallSummary[] | null;
      graphql?: AccessSummary | null;
    };
    // One object, filled in place: spreading optional parts into a literal made two more objects per request.
    const fields: Record<string, unknown> = { method: request.method, path: pathOf(request), status: reply.statusCode };
    if (graphql) {
      fields.operation = graphql.operation;
      fields.result = graphql.result;
    }
    if (upstream && upstream.length > 0) {
      let upstreamMs = 0;
      for (const call of upstream) upstreamMs += call.durationMs;
      fields.upstream = upstream;
      fields.upstreamMs = Math.round(upstreamMs * 10) / 10;
    }
    // Total time, arrival to the last byte handed to the socket. (clientId is on the request's logger, so on this line too.)
    fields.ms = Math.round(reply.elapsedTime);
    if (error) {
      fields.err = error;
      reply.log.error(fields, "request errored");
    } else reply.log.info(fields, "request completed");
  }

  override defaultErrorLog(error: Error, request: FastifyRequest, reply: FastifyReply): void {
    const fields = { path: pathOf(request), status: reply.statusCode, err: error };
    if (reply.statusCode >= 500) reply.log.error(fields, "request failed");
    else reply.log.info(fields, "request rejected");
  }

  override routeNotFound(request: FastifyRequest): void {
    request.log.info({ method: request.method, path: pathOf(request) }, "route not found");
  }

  override writeHeadError(error: Error, request: FastifyRequest, reply: FastifyReply): void {
    reply.log.warn({ path: pathOf(request), err: error }, "could not write response headers");
  }
}

/** The matched route's template, never the client's URL. */
function pathOf(request: FastifyRequest): string {
  return request.routeOptions?.url ?? "(no route)";
}
