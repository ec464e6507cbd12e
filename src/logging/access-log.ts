import { type FastifyReply, type FastifyRequest, LogController } from "fastify";

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
    const upstream = (request as FastifyRequest & { upstreamCalls?: unknown[] | null }).upstreamCalls;
    const fields = {
      method: request.method,
      path: pathOf(request),
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime),
      ...(upstream && upstream.length > 0 ? { upstream } : {}),
    };
    if (error) reply.log.error({ ...fields, err: error }, "request errored");
    else reply.log.info(fields, "request completed");
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
