import { Buffer } from "node:buffer";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { performance } from "node:perf_hooks";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { AdmissionConfig } from "./admission.settings";
import { EdgeCode } from "../graphql/edge-code";
import { clientIpKey } from "./client-ip";
import { errorBody, GRAPHQL_PATH, refusalType } from "./error-body";
import { closesUnreadBody } from "./node-limits";
import type { GraphQLExchange } from "./exchange";
import type { Cors } from "./cors";
import { RefusedReads } from "./refused-reads";
import { freshRequestId } from "./request-id";

/**
 * Admission control: under overload, refuse the excess at the door, cheaply and at once, so that the requests let in
 * are still served in time (docs/performance-runs.md, "Overload": without it, 1,500 clients against a 300 ms upstream
 * got no answer served, every one refused as OVERLOADED after it had cost the whole pipeline, or timed out). Two signals, as @fastify/under-pressure uses (`maxEventLoopDelay`, and a cap like
 * its `maxEventLoopUtilization` / concurrency limits), implemented here so that the refusal
 * has our error shape and runs on the GraphQL route only (health probes must still answer):
 *
 *   - **in flight**: GraphQL requests whose body has arrived and whose answer is not written yet (`take` says why not
 *     from their headers to their last byte read). Default `AOPAY_CONNECTIONS` + `AOPAY_QUEUE_LIMIT`:
 *     past that, the upstream bulkhead would refuse a send anyway, after the request had cost authentication,
 *     parsing, validation and throttle round trips.
 *   - **per client**: of those places, one client (`clientKey`: its id, or without credentials its IP) holds at most
 *     ADMISSION_MAX_IN_FLIGHT_PER_CLIENT (default half the cap). Before, one API key whose sends waited on a slow
 *     upstream took every place, and every other client was refused OVERLOADED until its calls came back. Checked in
 *     `take`, once the client is known (authentication runs before the body is read): one Map lookup and one write.
 *   - **event-loop delay**: the mean delay sampled over the last sample interval (observability/eventloop-lag.ts's
 *     EventLoopSampler, every 50 ms), less the sampling period (under-pressure's formula over its
 *     monitorEventLoopDelay). A saturated CPU shows up there before anywhere else.
 *
 * A refused request gets HTTP 503, `Retry-After`, and
 * `{ errors: [{ extensions: { code: "OVERLOADED", requestId, retryAfterSeconds } }] }` in the media type its Accept
 * asked for (error-body.ts refusalType), from the first onRequest hook after the request id: before authentication
 * and before its body is read, when the places are all taken as its headers arrive; or, rarely, once its body has
 * arrived, when the last place went in the meantime (`take`). Its connection's next request is then read in its
 * turn, at most ADMISSION_REFUSED_READS_PER_TURN per event-loop turn (refused-reads.ts: why), unless it announced a
 * body over BODY_LIMIT_BYTES or of unknown length: then it is closed (node-limits.ts closesUnreadBody).
 */

import { EventLoopSampler } from "../observability/eventloop-lag";
import type { ShedReason } from "../observability/metrics";
import { monotonicNow } from "../util/clock";
import { withoutKey } from "../util/transient-map";

export class Admission {
  #inFlight = 0;
  /** Admitted requests whose response has not closed: its answer not all written yet, its client still there. */
  #unfinished = 0;
  /** Places held now by each client (`clientKey`) holding one: an entry goes when its count is 0 again. */
  // Not readonly: emptied, it is replaced by a new Map, not deleted from (withoutKey: util/transient-map.ts).
  #byClient = new Map<string, number>();
  #eventLoopDelayMs = 0;
  #sampler: EventLoopSampler | null = null;
  /** The sampler's running totals at the last reading: a reading takes the difference (nothing is reset). */
  #seenCount = 0;
  #seenTotalMs = 0;
  /** The sampler's count when startServing() was called, until the reading that holds a sample taken after it. */
  #startSamples: number | null = null;
  /** Stops the readings (on the sampler's ticks, `onTick`). */
  readonly #stopReading: (() => void) | undefined;
  /** A refused connection's next request is read in its turn (refused-reads.ts: why). */
  readonly #refusedReads: RefusedReads;

  /**
   * The refusal's headers and body once a request's body has arrived (`take`), for either layer: 503, Retry-After,
   * OVERLOADED. Made once: under overload a refusal is the most frequent answer.
   */
  readonly overloadedHeaders: Readonly<Record<string, string>>;

  /** The listener of `#closed`, made once. */
  readonly #onClose: (this: ServerResponse) => void;

  constructor(
    readonly config: AdmissionConfig,
    /** Called for each refusal (metrics). */
    private readonly onShed: (reason: ShedReason) => void = () => undefined,
  ) {
    this.#refusedReads = new RefusedReads(config.refusedReadsPerTurn);
    this.#onClose = this.#closed(this);
    this.overloadedHeaders = { "retry-after": String(config.retryAfterSeconds) };
    if (config.maxEventLoopDelayMs > 0) {
      // An interval's mean is the difference of the sampler's running totals: nothing is reset, so no delay is lost
      // between two readings (EventLoopSampler says why a reset would lose one).
      const sampler = EventLoopSampler.acquire();
      this.#sampler = sampler;
      this.#seenCount = sampler.count;
      this.#seenTotalMs = sampler.totalMs;
      // Read at the sampler's first tick ADMISSION_SAMPLE_INTERVAL_MS after the last reading (half a sampling period
      // early, so that ticks a little under the period apart do not make it wait one more): no timer of its own, which
      // woke an idle server twice a second more. A stall's sample is read at the tick that records it, as soon as the
      // interval's reading is due, no later than a timer of its own would have read it.
      let readAt = performance.now();
      const due = config.sampleIntervalMs - sampler.periodMs / 2;
      this.#stopReading = sampler.onTick((now) => {
        if (now - readAt < due) return;
        readAt = now;
        const samples = sampler.count - this.#seenCount;
        // No sample in the interval (none recorded yet): no delay to read.
        const meanMs = samples > 0 ? (sampler.totalMs - this.#seenTotalMs) / samples : 0;
        this.#seenCount = sampler.count;
        this.#seenTotalMs = sampler.totalMs;
        if (this.#startSamples !== null) {
          // Until a sample taken after startServing() is in, what is read is the server's own start (startServing).
          if (sampler.count > this.#startSamples) this.#startSamples = null;
          this.#eventLoopDelayMs = 0;
          return;
        }
        // Less the sampling period, as @fastify/under-pressure subtracts monitorEventLoopDelay's resolution.
        this.#eventLoopDelayMs = Math.max(0, meanMs - sampler.periodMs);
      });
    }
  }

  /**
   * The server has just started listening: the event-loop delays read so far are its own start (modules loaded, the
   * schema built, the simulator started: a second or more on a 2-core machine), not load, and are forgotten. So is the
   * first sample taken after this call, which holds the rest of a stall that ended just before it (the sampler records
   * a stall at its next tick). Before, the first request sent on "GraphQL server ready" was refused 503 OVERLOADED in 3
   * starts of 4 (test/e2e/first-hour.test.ts: 4 of 4 in Jest), until the next reading half a second later.
   */
  startServing(): void {
    const sampler = this.#sampler;
    if (sampler === null) return;
    this.#seenCount = sampler.count;
    this.#seenTotalMs = sampler.totalMs;
    this.#startSamples = sampler.count;
    this.#eventLoopDelayMs = 0;
  }

  /** Null: admitted (count it until `release`). Otherwise why it is refused. */
  admit(): ShedReason | null {
    const refused = this.atTheDoor();
    if (refused === null) this.#inFlight += 1;
    return refused;
  }

  /**
   * The check at the door, as a request's headers arrive: null if one more request could be taken now, else why
   * not (counted as a refusal). It takes no place: the place is taken by `take` once the request's body has arrived.
   */
  atTheDoor(): ShedReason | null {
    const { maxInFlight, maxEventLoopDelayMs } = this.config;
    if (maxInFlight > 0 && this.#inFlight >= maxInFlight) return this.#shed("in_flight");
    if (maxEventLoopDelayMs > 0 && this.#eventLoopDelayMs > maxEventLoopDelayMs) return this.#shed("event_loop_delay");
    return null;
  }

  /**
   * Takes a place for the request answered by `res`, once its body has arrived (the door's check again, then the
   * count): null when taken, else why it is refused. The place is given back by `answered(res)` as the answer is
   * written, or when `res` closes first (its client gone): whichever comes first, once.
   *
   * Why not at the door (docs/security.md "Slow clients and connection limits"): a place taken as the headers arrive
   * was held for as long as the client took to send its body, up to REQUEST_TIMEOUT_MS (15 s). Measured before:
   * with ADMISSION_MAX_IN_FLIGHT=4, four connections that sent their headers and one byte of body had every other
   * client refused 503 OVERLOADED (the default cap, 384, is as many sockets from one API key, renewed every 15 s).
   * Likewise a place held until the response was read: a client that does not read kept it up to
   * RESPONSE_WRITE_TIMEOUT_MS (30 s). A place now counts the work this process does (parsing, validation, the
   * upstream call), not the time a client takes to send or to read.
   */
  take(res: ServerResponse, client: string): ShedReason | null {
    const refused = this.atTheDoor();
    if (refused !== null) return refused;
    const perClient = this.config.maxInFlightPerClient;
    if (perClient > 0) {
      const held = this.#byClient.get(client) ?? 0;
      if (held >= perClient) return this.#shed("client_share");
      this.#byClient.set(client, held + 1);
    }
    this.#inFlight += 1;
    this.#unfinished += 1;
    (res as SlotResponse)[HELD_BY] = client;
    res.once("close", this.#onClose);
    return null;
  }

  /**
   * The share's check as soon as the request is authenticated, before its body is read: "client_share" (counted as a
   * refusal) when `client` holds its ADMISSION_MAX_IN_FLIGHT_PER_CLIENT places already, else null. It takes nothing:
   * `take` checks again once the body has arrived (places given back or taken meanwhile). Why here too: refused only
   * in `take`, a client over its share had us read each refused request's body (up to BODY_LIMIT_BYTES), parse it and
   * check its document before refusing it; now only its headers and credentials, as the door's refusals (which come
   * before authentication) read nothing more than the headers.
   */
  shareFull(client: string): ShedReason | null {
    const perClient = this.config.maxInFlightPerClient;
    if (perClient > 0 && (this.#byClient.get(client) ?? 0) >= perClient) return this.#shed("client_share");
    return null;
  }

  /** The answer to a request that took a place (`take`) is written: the place is given back. Else nothing. */
  answered(res: ServerResponse): void {
    const client = (res as SlotResponse)[HELD_BY];
    if (client === undefined || client === null) return;
    (res as SlotResponse)[HELD_BY] = null;
    this.#inFlight -= 1;
    if (this.config.maxInFlightPerClient <= 0) return;
    const left = (this.#byClient.get(client) ?? 1) - 1;
    if (left > 0) this.#byClient.set(client, left);
    else this.#byClient = withoutKey(this.#byClient, client);
  }

  /** The refusal's body (`overloadedHeaders`): what it says depends on why (`take`'s reason). */
  overloadedBody(requestId: string, reason: ShedReason = "in_flight"): ReturnType<typeof errorBody> {
    return errorBody(
      reason === "client_share" ? CLIENT_SHARE_MESSAGE : OVERLOADED_MESSAGE,
      EdgeCode.OVERLOADED,
      requestId,
      this.config.retryAfterSeconds,
    );
  }

  /** Places held now by `client` (tests). */
  heldBy(client: string): number {
    return this.#byClient.get(client) ?? 0;
  }

  /** Places taken now (tests). */
  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Admitted requests not over yet (a stop's cut counts them, app.ts): unlike `inFlight`, one stays counted after its
   * place is given back, until its answer's last byte is written or its client has gone (the response's 'close').
   * Counted from the place given back, an answer still going out to a client that reads slowly was nothing in flight:
   * a stop signal then ended the drain as a clean one, exit 0, and cut the answer.
   */
  get unfinished(): number {
    return this.#unfinished;
  }

  /** 'close' of a response that took a place: one listener for all of them (no closure per request). */
  readonly #closed = (admission: Admission) =>
    function (this: ServerResponse) {
      admission.answered(this);
      admission.#unfinished -= 1;
    };

  /** Whether `res` answers a request that took a place (`take`): counted in `unfinished` until it closes. */
  counts(res: ServerResponse): boolean {
    return HELD_BY in res;
  }

  /** A refusal has been written on `socket`: its next request is read in its turn (refused-reads.ts). */
  refused(socket: Socket): void {
    this.#refusedReads.park(socket);
  }

  /** One admitted request has been answered (or its client has gone). */
  readonly release = (): void => {
    this.#inFlight -= 1;
  };

  close(): void {
    this.#stopReading?.();
    this.#sampler?.release();
    this.#sampler = null;
  }

  #shed(reason: ShedReason): ShedReason {
    this.onShed(reason);
    return reason;
  }
}

/** Set on a raw request that passed `guardServer`'s check at the door, so the hook does not check it again. */
const ADMITTED = Symbol("admitted");
/**
 * Set on a response whose request holds a place (Admission.take) to its client's key, and to null once the place is
 * given back: the key the place is counted under travels with the response, no object per request.
 */
const HELD_BY = Symbol("heldBy");
type SlotResponse = ServerResponse & { [HELD_BY]?: string | null };
type RawRequest = IncomingMessage & { [ADMITTED]?: true };

/** Whether this request passed `guardServer`'s check at the door (its place is taken once its body has arrived). */
export function admittedAtTheDoor(req: IncomingMessage): boolean {
  return (req as RawRequest)[ADMITTED] === true;
}

/** What the refusal at the socket needs from the HTTP server around it. */
export interface RawAdmissionOptions {
  /** While the server drains, requests go on to its own 503 (SERVICE_UNAVAILABLE, `Connection: close`). */
  draining: () => boolean;
  /**
   * What every answer does for CORS (cors.ts): `addHeaders` adds to a refusal's headers the CORS headers (`Vary:
   * Origin`; for an allowed Origin, Access-Control-Allow-Origin and -Expose-Headers, so that a browser can read the 503
   * and its `Retry-After`); `warnRequest` logs a refused Origin once, as the requests let in are (the page on it sees
   * "Failed to fetch": before, a refused origin whose requests were all refused here was never named).
   */
  cors: Pick<Cors, "addHeaders" | "warnRequest">;
  /** Applied to the socket of every refusal, as to every response (RESPONSE_WRITE_TIMEOUT_MS, node-limits.ts). */
  onRefusal: (socket: Socket) => void;
  /** BODY_LIMIT_BYTES: a refusal closes a connection announcing a larger body (node-limits.ts closesUnreadBody). */
  bodyLimit: number;
  /** Refusals are counted, not logged one by one: called at most once per REFUSALS_LOG_INTERVAL_MS with the count. */
  logRefusals: (refused: number, overSeconds: number) => void;
}

/** How often, at most, a summary line counts the refusals of the interval (ms). */
export const REFUSALS_LOG_INTERVAL_MS = 10_000;

/**
 * The admission check in front of Fastify: a `POST` or `GET` to /graphql is admitted or refused in the server's own
 * `request` listener, before Fastify builds its request and reply, runs its router and hooks and writes an access line.
 * Under overload refusals are most of the traffic, and their cost is taken from the requests being served: measured
 * with 32 clients against a full in-flight cap, a refusal through Fastify's onRequest hook cost 53 µs of server CPU
 * (one access line each), here 29.5 µs: the same 2 × 20,000 refusals, on the same busy machine, second round (docs/performance.md, "Overload"). The answer is the same: 503,
 * `Retry-After`, `x-request-id`, our error body with `OVERLOADED` and the request id. Refusals are counted in
 * graphql_requests_shed_total and summed in one log line per 10 s instead of an access line each.
 *
 * Anything else (other paths and methods, spellings of the path only Fastify's router resolves, requests while
 * draining) meets the same check in the onRequest hook of `registerAdmission`, so the two never count one request
 * twice and nothing escapes both.
 */
export function guardServer(server: Server, admission: Admission, options: RawAdmissionOptions): { flush(): void } {
  const retryAfter = String(admission.config.retryAfterSeconds);
  const handlers = server.listeners("request") as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  if (handlers.length !== 1)
    throw new Error(`expected one request listener on the HTTP server, found ${handlers.length}`);
  const [handle] = handlers;
  let refused = 0;
  let since = 0;
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    clearTimeout(timer);
    if (refused > 0) options.logRefusals(refused, Math.round((monotonicNow() - since) / 1000));
    refused = 0;
  };
  server.removeListener("request", handle);
  server.on("request", (req: RawRequest, res: ServerResponse) => {
    const url = req.url ?? "";
    const method = req.method;
    if (
      (method !== "POST" && method !== "GET") ||
      !(url === GRAPHQL_PATH || (url.startsWith(GRAPHQL_PATH) && url.charCodeAt(GRAPHQL_PATH.length) === 63)) || // "?"
      options.draining()
    ) {
      handle(req, res);
      return;
    }
    if (admission.atTheDoor() === null) {
      req[ADMITTED] = true;
      handle(req, res);
      return;
    }
    const requestId = freshRequestId();
    const body = JSON.stringify(admission.overloadedBody(requestId));
    options.onRefusal(req.socket);
    const headers: Record<string, string | number> = {
      "content-type": refusalType(req.headers.accept),
      "content-length": Buffer.byteLength(body),
      "x-request-id": requestId,
      "retry-after": retryAfter,
    };
    // Once per origin, and at most REFUSED_ORIGIN_WARNINGS_PER_INTERVAL per 10 s (cors.ts): no flood under overload.
    options.cors.warnRequest(req.headers, req.socket);
    options.cors.addHeaders(headers, req.headers.origin);
    // The type depends on Accept (refusalType), after CORS's `Vary: Origin`.
    headers.vary = "Origin, Accept";
    // A large or unannounced body is not read after the refusal (closesUnreadBody); a usual one is, in its turn.
    if (closesUnreadBody(503, req, options.bodyLimit)) headers.connection = "close";
    res.writeHead(503, headers);
    res.end(body);
    admission.refused(req.socket);
    if (refused++ === 0) {
      since = monotonicNow();
      timer = setTimeout(flush, REFUSALS_LOG_INTERVAL_MS).unref();
    }
  });
  // Called on close, so that the last interval's refusals are logged too.
  return { flush };
}

/**
 * Registers the check at the door as an onRequest hook, and the taking of a place, once the body has been parsed, as a
 * preHandler hook. Call it before any other hook that does work (authentication), so a
 * refusal costs nothing but this. Callback style: no promise per request. Requests `guardServer` already admitted
 * pass.
 */
export function registerAdmission(fastify: FastifyInstance, admission: Admission): void {
  fastify.addHook("onRequest", (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    if (request.routeOptions.url !== GRAPHQL_PATH || (request.raw as RawRequest)[ADMITTED]) {
      done();
      return;
    }
    const refused = admission.atTheDoor();
    if (refused === null) {
      done();
      return;
    }
    // No log line of its own (it would add work exactly when there is too much): the access line has the 503.
    refuseOverloaded(admission, request, reply, refused);
  });
  // The place, once the body has arrived (Admission.take says why): before the document checks of http-server.ts.
  fastify.addHook("preHandler", (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    if (request.routeOptions.url !== GRAPHQL_PATH) {
      done();
      return;
    }
    // Authenticated by now (http-server.ts's onRequest hook): its client is known.
    const refused = admission.take(reply.raw, clientKey(request as unknown as GraphQLExchange));
    if (refused === null) {
      done();
      return;
    }
    refuseOverloaded(admission, request, reply, refused);
  });
}

/**
 * Admission's refusal on Fastify's route (the door's, the share's after authentication, the place's after the body):
 * 503 with `Retry-After` and OVERLOADED, its message by `reason`; the connection's next request is read in its turn.
 */
export function refuseOverloaded(
  admission: Admission,
  request: FastifyRequest,
  reply: FastifyReply,
  reason: ShedReason,
): void {
  void reply.code(503).headers(admission.overloadedHeaders).send(admission.overloadedBody(request.id, reason));
  admission.refused(request.raw.socket);
}

/**
 * Whom a request's admission place counts for (ADMISSION_MAX_IN_FLIGHT_PER_CLIENT): its client's id (API key or
 * token), or, for a request without credentials (`anonymous`, development only), its IP as its OTP budget sees it (an
 * IPv6 /64: client-ip.ts), so that one machine cannot take every place meant for the others. The space keeps an IP
 * apart from any client id (client ids have none: auth/authenticator.ts CLIENT_ID).
 */
export function clientKey(exchange: Pick<GraphQLExchange, "client" | "ip">): string {
  const client = exchange.client;
  return client.via === "anonymous" ? `ip ${clientIpKey(exchange.ip)}` : client.id;
}

const OVERLOADED_MESSAGE = "The server is overloaded: try again after Retry-After seconds. Nothing was done.";
const CLIENT_SHARE_MESSAGE =
  "This client has its share of requests in progress: try again after Retry-After seconds. Nothing was done.";

/**
 * Whether the client of a request has gone: its socket is destroyed (reset) or ended (the client closed its side,
 * and Node's HTTP server, which does not allow half-open sockets, ended ours). Read at the moment an upstream write
 * is about to start (aopay/transport.ts): a send whose client is gone and that has not left yet is dropped.
 */
export function clientGone(socket: Socket): () => boolean {
  return () => socket.destroyed || socket.writableEnded;
}
