import type { Socket } from "node:net";
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { AdmissionConfig } from "../config";
import { EdgeCode } from "../graphql/edge-code";
import { errorBody, GRAPHQL_PATH } from "./error-body";

/**
 * Admission control: under overload, refuse the excess at the door, cheaply and at once, so that the requests let in
 * are still served in time (docs/performance.md, "Overload": without it, 1,500 clients against a 300 ms upstream got
 * no answer served, every one refused as OVERLOADED after it had cost the whole pipeline, or timed out). Two signals, as @fastify/under-pressure uses (`maxEventLoopDelay`, and a cap like
 * its `maxEventLoopUtilization` / concurrency limits), implemented here with Node's own sampler so that the refusal
 * has our error shape and runs on the GraphQL route only (health probes must still answer):
 *
 *   - **in flight**: GraphQL requests received and not yet answered. Default `AOPAY_CONNECTIONS` + `AOPAY_QUEUE_LIMIT`:
 *     past that, the upstream bulkhead would refuse a send anyway, after the request had cost authentication,
 *     parsing, validation and throttle round trips.
 *   - **event-loop delay**: the mean delay of `perf_hooks.monitorEventLoopDelay` over the last sample interval, less its
 *     resolution (under-pressure's formula). A saturated CPU shows up there before anywhere else.
 *
 * A refused request gets HTTP 503, `Retry-After`, and `{ errors: [{ extensions: { code: "OVERLOADED", requestId } }] }`
 * from the first onRequest hook after the request id: before authentication and before its body is read.
 */

import type { ShedReason } from "../observability/metrics";

/** monitorEventLoopDelay's sampling period (ms); subtracted from the mean, as @fastify/under-pressure does. */
const RESOLUTION_MS = 10;

export class Admission {
  #inFlight = 0;
  #eventLoopDelayMs = 0;
  readonly #histogram: ReturnType<typeof monitorEventLoopDelay> | null = null;
  readonly #timer: NodeJS.Timeout | undefined;

  constructor(
    readonly config: AdmissionConfig,
    /** Called for each refusal (metrics). */
    private readonly onShed: (reason: ShedReason) => void = () => undefined,
  ) {
    if (config.maxEventLoopDelayMs > 0) {
      const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
      histogram.enable();
      this.#histogram = histogram;
      this.#timer = setInterval(() => {
        // NaN before the first sample (nothing recorded yet).
        const meanMs = histogram.mean / 1e6;
        this.#eventLoopDelayMs = Number.isFinite(meanMs) ? Math.max(0, meanMs - RESOLUTION_MS) : 0;
        histogram.reset();
      }, config.sampleIntervalMs).unref();
    }
  }

  /** Null: admitted (count it until `release`). Otherwise why it is refused. */
  admit(): ShedReason | null {
    const { maxInFlight, maxEventLoopDelayMs } = this.config;
    if (maxInFlight > 0 && this.#inFlight >= maxInFlight) return this.#shed("in_flight");
    if (maxEventLoopDelayMs > 0 && this.#eventLoopDelayMs > maxEventLoopDelayMs) return this.#shed("event_loop_delay");
    this.#inFlight += 1;
    return null;
  }

  /** One admitted request has been answered (or its client has gone). */
  readonly release = (): void => {
    this.#inFlight -= 1;
  };

  close(): void {
    clearInterval(this.#timer);
    this.#histogram?.disable();
  }

  #shed(reason: ShedReason): ShedReason {
    this.onShed(reason);
    return reason;
  }
}

/**
 * Registers the check as an onRequest hook: call it before any other hook that does work (authentication), so a
 * refusal costs nothing but this. Callback style: no promise per request.
 */
export function registerAdmission(fastify: FastifyInstance, admission: Admission): void {
  const retryAfter = String(admission.config.retryAfterSeconds);
  fastify.addHook("onRequest", (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    if (request.routeOptions.url !== GRAPHQL_PATH) {
      done();
      return;
    }
    const refused = admission.admit();
    if (refused === null) {
      // 'close' comes once per response, whether it finished or its client went away first.
      reply.raw.once("close", admission.release);
      done();
      return;
    }
    // No log line of its own (it would add work exactly when there is too much): the access line has the 503.
    void reply
      .code(503)
      .header("retry-after", retryAfter)
      .send(errorBody(OVERLOADED_MESSAGE, EdgeCode.OVERLOADED, request.id));
  });
}

const OVERLOADED_MESSAGE = "The server is overloaded: try again after Retry-After seconds. Nothing was done.";

/**
 * Whether the client of a request has gone: its socket is destroyed (reset) or ended (the client closed its side,
 * and Node's HTTP server, which does not allow half-open sockets, ended ours). Read at the moment an upstream write
 * is about to start (aopay/transport.ts): a send whose client is gone and that has not left yet is dropped.
 */
export function clientGone(socket: Socket): () => boolean {
  return () => socket.destroyed || socket.writableEnded;
}
