import type { IncomingHttpHeaders } from "node:http";
import { brotliDecompressSync, gunzipSync, inflateRawSync, inflateSync } from "node:zlib";
import { Pool, type Dispatcher } from "undici";
import type { AopayConfig } from "./client.settings";
import { AopayError } from "./errors";
import { classifyFailure, statusFailure, type UpstreamResponse } from "./outcome";
import { timeoutAfterIo } from "../util/after-io";
import { monotonicNow } from "../util/clock";
// The module's Buffer, not the global: that is an accessor, a getter call per read (about 250 main-thread
// instructions under callgrind, read per request here).
import { Buffer } from "node:buffer";

/**
 * The one place that talks HTTP to AOPay (docs/design/style.md principle 2). It uses undici's low-level `dispatch` with its own
 * handler instead of `request()` for one reason: it must know, for certain, whether any byte of the request may have
 * left the process. undici calls `onRequestStart` immediately before it writes the request to a connected socket
 * (client-h1 `writeH1` → `request.onConnect`), so:
 *   - an error or deadline before `onRequestStart` means the request provably never left (safe to report as
 *     UPSTREAM_UNAVAILABLE / UPSTREAM_TIMEOUT, and safe for a caller to retry);
 *   - anything after it may have reached AOPay, and for an OTP send that is OUTCOME_UNKNOWN, never retried.
 * When the deadline fires while the request is still queued or connecting, the handler remembers it and aborts in
 * `onRequestStart`, before the write, so a late socket can never carry a request whose caller already gave up.
 *
 * No redirects are followed (dispatch never follows; docs/security-requirements.md D5), no retries are made here, and the response body
 * is capped at `maxResponseBytes` (undici's own default is unlimited, docs/security-requirements.md D6).
 *
 * Bulkhead (docs/security-requirements.md E6): at most `connections` sockets, and at most `queueLimit` calls waiting for one. A call
 * beyond that is refused at once with OVERLOADED instead of piling up in memory.
 */

/**
 * The wait a call refused by the bulkhead (OVERLOADED) is told: an estimate. A place frees as soon as any of the
 * calls holding one ends, at its answer or at most at its deadline (AOPAY_DEADLINE_MS), and nothing says which ends
 * first or when. With `connections` and `queueLimit` calls out, one second is likely to have freed a place; the
 * earliest deadline among them would only bound it, at up to 10 s by default.
 */
const POOL_FULL_RETRY_AFTER_SECONDS = 1;

/** The transport's settings: those of AopayConfig (documented there, config.ts), with the base URL known. */
export type TransportOptions = Pick<
  AopayConfig,
  | "apiPrefix"
  | "connectTimeoutMs"
  | "headersTimeoutMs"
  | "bodyTimeoutMs"
  | "deadlineMs"
  | "maxResponseBytes"
  | "connections"
  | "queueLimit"
  | "keepAliveTimeoutMs"
> & {
  baseUrl: URL;
  /** See AopayConfig.getBodyKeepAlive. Default true. */
  getBodyKeepAlive?: boolean;
};

export interface TransportRequest {
  /** Endpoint name for errors and logs, e.g. `cibil.generateOtp`. */
  endpoint: string;
  method: "GET" | "POST";
  /** Path below the API prefix, e.g. `/CibilScore/GenerateOTP`. */
  path: string;
  /** JSON body. Sent even with GET: AOPay's CIBIL pages document GET with a JSON body (Observation 1). */
  body: unknown;
  /** Side-effecting calls are marked non-idempotent so undici never replays them on another socket. */
  sideEffect: boolean;
  /**
   * When (monotonicNow, util/clock.ts: not Date.now) the call must have settled by; capped by the configured deadline.
   */
  deadlineAt?: number;
  /**
   * True once nobody waits for the answer (the GraphQL request's client has gone). Read just before the request
   * would be written: then it is dropped instead (AopayClientGoneError, sent: false, so its OTP budget is refunded).
   * Never read after the write: a request that has left is never abandoned.
   */
  abandoned?: () => boolean;
}

/**
 * Result of a call that got a complete answer. (It carried its duration too, which nothing read: the client times
 * the whole attempt itself, so the transport's two clock reads per call were dropped.)
 */
export type TransportResult = UpstreamResponse;

class DeadlineExceeded extends Error {
  readonly code = "DEADLINE";
}

class ClientGone extends Error {
  readonly code = "CLIENT_GONE";
}

class ResponseTooLarge extends Error {
  readonly code = "RESPONSE_TOO_LARGE";
}

/**
 * Every request's headers, in undici's flat array form (its Request takes an array without the object form's
 * iterator check and Object.keys). undici reads them and never writes them, so one frozen array serves every call.
 * `content-type: application/json` is the one header every sample on AOPay's pages sends (docs/upstream/aopay-api.md
 * §3); `accept: application/json` is ours (the samples send none): it names what we read, and the docs do not say
 * whether AOPay looks at it. `accept-encoding: identity`: the docs' samples send no Accept-Encoding, and without one
 * any coding is acceptable (RFC 9110 §12.5.3), so an AOPay or a proxy before it could compress its answer; a
 * compressed answer we could not read made a delivered OTP OUTCOME_UNKNOWN. One still compressed is decoded
 * (decodeBody).
 */
const JSON_HEADERS: readonly string[] = Object.freeze([
  "content-type",
  "application/json",
  "accept",
  "application/json",
  "accept-encoding",
  "identity",
]);

/** Ours, and undici's own (the pool's maxResponseSize) when it notices first. */
const TOO_LARGE: ReadonlySet<string> = new Set(["RESPONSE_TOO_LARGE", "UND_ERR_RES_EXCEEDED_MAX_SIZE"]);

export class AopayTransport {
  readonly #pool: Pool;
  readonly #pathBase: string;
  readonly #options: TransportOptions;
  readonly #maxActive: number;
  /** Every call's whole-call deadline, on one timer (DeadlineTimer below: the measured reason). */
  readonly #deadlines = new DeadlineTimer();
  /** Calls started and not yet settled: running on a socket or waiting for one. */
  #active = 0;
  #closed = false;
  /** The close under way (close()), and what ends its wait for the calls in flight: they are aborted. */
  #closing: Promise<void> | undefined;
  #expire = (): void => undefined;
  readonly #paths = new Map<string, string>();

  constructor(options: TransportOptions, pool?: Pool) {
    this.#options = options;
    this.#maxActive = options.connections + options.queueLimit;
    const basePath = options.baseUrl.pathname.replace(/\/+$/, "");
    this.#pathBase = `${basePath}${options.apiPrefix}`;
    this.#pool =
      pool ??
      new Pool(options.baseUrl.origin, {
        connections: options.connections,
        // One request per socket at a time: a pipelined request behind a failed one could be replayed by undici.
        pipelining: 1,
        connect: { timeout: options.connectTimeoutMs },
        // undici times these (and connect's) on its own timers (lib/util/timers.js): over 1 s, on one shared tick
        // whose clock advances 499 ms per tick however long the loop stalled, so a stall never ends them early and an
        // answer that came meanwhile is read first (test/integration/event-loop-stall.test.ts); of 1 s or less, on a
        // plain setTimeout, which does fire after a stall before the answer in the socket is read. Not wrapped: the
        // defaults (8 s, and 10 s for AOPAY_DEADLINE_MS, whose own timer is stall-safe: DeadlineTimer) are over 1 s.
        headersTimeout: options.headersTimeoutMs,
        bodyTimeout: options.bodyTimeoutMs,
        keepAliveTimeout: options.keepAliveTimeoutMs,
        maxResponseSize: options.maxResponseBytes,
      });
  }

  /** Sends one request. Resolves with any complete HTTP answer (any status); rejects with an AopayError otherwise. */
  send(req: TransportRequest): Promise<TransportResult> {
    if (this.#closed) {
      return Promise.reject(
        classifyFailure("UPSTREAM_UNAVAILABLE", `${req.endpoint}: transport closed`, {
          endpoint: req.endpoint,
          sent: false,
        }),
      );
    }
    if (req.abandoned?.()) {
      return Promise.reject(
        classifyFailure("CLIENT_GONE", `${req.endpoint}: client gone before the request was sent`, {
          endpoint: req.endpoint,
          sent: false,
        }),
      );
    }
    if (this.#active >= this.#maxActive) {
      return Promise.reject(
        classifyFailure(
          "OVERLOADED",
          `${req.endpoint}: all ${this.#options.connections} connections busy and the queue is full`,
          {
            endpoint: req.endpoint,
            sent: false,
            retryAfterSeconds: POOL_FULL_RETRY_AFTER_SECONDS,
          },
        ),
      );
    }
    this.#active += 1;
    const deadlineAt = Math.min(req.deadlineAt ?? Infinity, monotonicNow() + this.#options.deadlineMs);
    // The handler settles the promise itself and tells the transport (#release): no closure per call around them.
    const handler = new CallHandler(req, this, this.#options.maxResponseBytes);
    const promise = new Promise<TransportResult>((resolve, reject) => {
      handler.resolve = resolve;
      handler.reject = reject;
    });
    if (deadlineAt - monotonicNow() <= 0) {
      handler.expire();
      return promise;
    }
    handler.deadline = this.#deadlines.add(handler, deadlineAt);
    this.#pool.dispatch(
      {
        path: this.#fullPath(req.path),
        method: req.method,
        headers: JSON_HEADERS as string[],
        body: Buffer.from(JSON.stringify(req.body), "utf8"),
        idempotent: !req.sideEffect,
        // undici would close the socket after a GET with a body (client-h1 writeH1); without this every CIBIL call
        // would open a new connection, and a new TLS handshake against AOPay.
        // (undefined is undici's default, as if absent; a conditional spread here cost a CopyDataProperties per call.)
        reset: req.method === "GET" && this.#options.getBodyKeepAlive !== false ? false : undefined,
        headersTimeout: this.#options.headersTimeoutMs,
        bodyTimeout: this.#options.bodyTimeoutMs,
      },
      handler,
    );
    return promise;
  }

  /** The request path of an endpoint path: built once per endpoint (a fixed few), not once per call. */
  #fullPath(path: string): string {
    let full = this.#paths.get(path);
    if (full === undefined) this.#paths.set(path, (full = `${this.#pathBase}${path}`));
    return full;
  }

  /** A call settled (CallHandler): it no longer counts towards the bulkhead, and its deadline is cancelled. */
  release(handler: CallHandler): void {
    this.#active -= 1;
    if (handler.deadline !== undefined) this.#deadlines.cancel(handler.deadline);
  }

  /** For metrics: calls on a socket (`inFlight`), calls waiting for one (`queued`), open sockets. */
  get stats(): { inFlight: number; queued: number; connected: number } {
    const s = this.#pool.stats;
    return { inFlight: s.running, queued: Math.max(0, this.#active - s.running), connected: s.connected };
  }

  /**
   * Waits for in-flight calls, then closes sockets. Calls still running after `graceMs` are aborted (shutdown must
   * finish inside its grace period; an aborted send ends as OUTCOME_UNKNOWN, never as a retry). A later call while it
   * closes gives it a shorter grace, never a longer one: a drain cut short (index.ts, a stop signal during the drain)
   * aborts them at once. Before, a second close returned at once and the first one's grace held.
   */
  close(graceMs = Infinity): Promise<void> {
    this.#closed = true;
    // Judged after the answers readable by then are read (util/after-io.ts): a call AOPay answered during a stall of
    // the event loop past the grace period ends with that answer, not aborted (an OTP sent, reported OUTCOME_UNKNOWN).
    // The drain's abort a moment before its end (app.ts, close(0)) and a cut's come here too.
    const timer = Number.isFinite(graceMs) ? timeoutAfterIo(() => this.#expire(), graceMs, undefined) : undefined;
    this.#closing ??= (async () => {
      const graceful = this.#pool.close().then(() => true);
      const expired = new Promise<boolean>((resolve) => (this.#expire = () => resolve(false)));
      if (!(await Promise.race([graceful, expired]))) await this.#pool.destroy();
    })();
    return this.#closing.finally(() => clearTimeout(timer));
  }
}

class CallHandler implements Dispatcher.DispatchHandler, Expirable {
  #controller: Dispatcher.DispatchController | undefined;
  #cancelled: Error | undefined;
  #sent = false;
  #settled = false;
  #statusCode = 0;
  #headers: IncomingHttpHeaders = {};
  #chunks: Buffer[] = [];
  #size = 0;
  /** Its entry in the transport's DeadlineTimer, once added. */
  deadline: PendingDeadline | undefined;
  /** The send's promise, set by AopayTransport.send right after construction. */
  resolve!: (r: TransportResult) => void;
  reject!: (e: AopayError) => void;

  constructor(
    private readonly req: TransportRequest,
    private readonly transport: AopayTransport,
    private readonly maxBytes: number,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController): void {
    if (this.#cancelled) {
      // The caller's deadline already passed while this request waited for a socket: abort before the write.
      controller.abort(this.#cancelled);
      return;
    }
    if (this.req.abandoned?.()) {
      // Its client went away while it waited for a socket (under overload, the queue is where that happens): the
      // socket goes to a request someone still waits for, and the OTP is not sent to nobody.
      controller.abort(new ClientGone("client gone"));
      return;
    }
    this.#controller = controller;
    this.#sent = true;
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    this.#statusCode = statusCode;
    this.#headers = headers;
    const declared = Number(headers["content-length"]);
    if (Number.isFinite(declared) && declared > this.maxBytes) {
      controller.abort(new ResponseTooLarge(`declared ${declared} bytes`));
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#size += chunk.length;
    if (this.#size > this.maxBytes) {
      controller.abort(new ResponseTooLarge(`over ${this.maxBytes} bytes`));
      return;
    }
    this.#chunks.push(chunk);
  }

  onResponseEnd(): void {
    if (this.#settle()) {
      const body = Buffer.concat(this.#chunks, this.#size);
      const coding = this.#headers["content-encoding"];
      this.resolve({
        statusCode: this.#statusCode,
        headers: this.#headers,
        body: coding === undefined ? body : decodeBody(coding, body, this.maxBytes),
      });
    }
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.#settle()) this.reject(this.#classify(error));
  }

  /** The whole-call deadline passed. */
  expire(): void {
    const error = new DeadlineExceeded("deadline exceeded");
    if (this.#controller) this.#controller.abort(error);
    else this.#cancelled = error;
    if (this.#settle()) this.reject(this.#classify(error));
  }

  #settle(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    this.transport.release(this);
    return true;
  }

  #classify(error: Error): AopayError {
    const cause = errorCode(error);
    const endpoint = this.req.endpoint;
    const base = { endpoint, sent: this.#sent, cause: error, httpStatus: this.#statusCode || undefined };
    if (!this.#sent) {
      if (error instanceof ClientGone)
        return classifyFailure("CLIENT_GONE", `${endpoint}: client gone before the request was sent`, base);
      return error instanceof DeadlineExceeded
        ? classifyFailure("UPSTREAM_TIMEOUT", `${endpoint}: deadline passed before the request was sent`, base)
        : classifyFailure("UPSTREAM_UNAVAILABLE", `${endpoint}: could not reach AOPay (${cause})`, base);
    }
    if (!this.req.sideEffect && TOO_LARGE.has(cause)) {
      // AOPay answered, at length: a property of this one answer (a thick credit report), not of AOPay's health. As
      // UPSTREAM_UNAVAILABLE it would count towards opening the family's circuit, stopping every CIBIL OTP send, and
      // tell the client to retry a read that will be just as large. The remedy is AOPAY_MAX_RESPONSE_BYTES.
      return classifyFailure(
        "UPSTREAM_BAD_RESPONSE",
        `${endpoint}: answer larger than ${this.maxBytes} bytes (AOPAY_MAX_RESPONSE_BYTES)`,
        base,
      );
    }
    if (this.#statusCode >= 300) {
      // The status arrived, the body did not: the status says what happened (a redirect, credentials refused, an error
      // status), as it would with a complete but unreadable body (outcome.ts statusFailure); no envelope is read from a
      // body that was cut off.
      const describe = (what: string) => `${endpoint}: ${what}, body incomplete (${cause})`;
      return statusFailure(this.#statusCode, false, this.req.sideEffect, this.#headers, describe, base);
    }
    if (!this.req.sideEffect) {
      // A read has no side effect to be unsure about.
      return classifyFailure("UPSTREAM_UNAVAILABLE", `${endpoint}: no complete answer (${cause})`, base);
    }
    return classifyFailure("OUTCOME_UNKNOWN", `${endpoint}: request sent, no complete answer (${cause})`, base);
  }
}

/**
 * The most content codings undone in one answer (curl's limit since CVE-2023-23916). Each is decoded synchronously,
 * its output capped at maxResponseBytes, but the number was bounded only by the header's size: a 930 kB answer under
 * `Content-Encoding: gzip, gzip, …` (2,500 codings, 12.5 kB) held the event loop for 2.7 s, every other request and
 * every deadline with it (an audit of a hostile upstream). The docs are silent on compression (we ask for `identity`);
 * beyond this many the answer is unreadable, as one in an unknown coding is.
 */
export const MAX_CONTENT_CODINGS = 5;

/**
 * An answer's body with its content codings undone (gzip, deflate, br; RFC 9110 §8.4.1: listed in the order they were
 * applied), its decoded size capped at `maxBytes` as the received size is. One we cannot decode (an unknown coding,
 * corrupt data, beyond the cap) is handed on as received, and read for what it is: compressed bytes are an unreadable
 * answer (OUTCOME_UNKNOWN on a send, UPSTREAM_BAD_RESPONSE on a read; its status decides first), never a guess.
 */
export function decodeBody(coding: string | string[], body: Buffer, maxBytes: number): Buffer {
  const codings = (Array.isArray(coding) ? coding.join(",") : coding)
    .split(",")
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== "" && c !== "identity");
  if (codings.length > MAX_CONTENT_CODINGS) return body;
  let out = body;
  try {
    for (const c of codings.reverse()) {
      const limit = { maxOutputLength: maxBytes };
      if (c === "gzip" || c === "x-gzip") out = gunzipSync(out, limit);
      // "deflate" is zlib-wrapped (RFC 9110 §8.4.1.2); some servers send it raw.
      else if (c === "deflate") out = out[0] === 0x78 ? inflateSync(out, limit) : inflateRawSync(out, limit);
      else if (c === "br") out = brotliDecompressSync(out, limit);
      else return body;
    }
  } catch {
    return body;
  }
  return out;
}

/** Whether the request's deadline cut the attempt short (UPSTREAM_TIMEOUT before the write, OUTCOME_UNKNOWN after). */
export function cutByDeadline(error: unknown): boolean {
  return error instanceof AopayError && error.cause instanceof DeadlineExceeded;
}

/** undici's error code (`UND_ERR_HEADERS_TIMEOUT`, `ECONNREFUSED` ...) or ours (`DEADLINE`, `RESPONSE_TOO_LARGE`). */
export function errorCode(error: Error): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : error.name;
}

/** Something with a deadline: told once, when its deadline has passed and it is still pending. */
export interface Expirable {
  expire(): void;
}

/** A pending deadline: a node of DeadlineTimer's list, and the handle its caller cancels it by. */
export class PendingDeadline {
  prev: PendingDeadline | null = null;
  next: PendingDeadline | null = null;
  /** False once expired or cancelled. */
  pending = true;
  constructor(
    readonly item: Expirable,
    readonly deadlineAt: number,
  ) {}
}

/**
 * The deadlines of the transport's calls on one Node timer, armed for the earliest. A setTimeout per call made Node
 * create and delete a timer list per call (a list per distinct duration, and each call's remaining time differs):
 * ~8k instructions per call in callgrind's aeps run (timers insert, Timeout, initAsyncResource, unenroll). Here a
 * call costs a list node linked in and out (a Map keyed by the call, before, hashed each call's handler: 1.2 % of
 * the upstream path's self time in the bench's profile); the timer is re-armed only for a deadline earlier than the
 * armed one, or when it fires.
 *
 * The timer holds the process open (ref) only while a call is pending, as the per-call timers did. A call's deadline
 * is checked against monotonicNow() (util/clock.ts) when the timer fires; one that has not quite passed is left for the
 * re-armed timer. Checked against Date.now(), a step of the wall clock back by an hour while a call waited re-armed the
 * timer for that hour (the call ran on past its deadline, and its request with it), and a step forward expired every
 * pending call at once.
 */
export class DeadlineTimer {
  /** Pending deadlines in the order they were added (a doubly linked list: O(1) cancel). */
  #first: PendingDeadline | null = null;
  #last: PendingDeadline | null = null;
  #size = 0;
  #timer: NodeJS.Timeout | undefined;
  /** When the armed timer is due (ms since epoch); Infinity when none is armed. */
  #armedFor = Infinity;

  /**
   * Calls `item.expire()` once `deadlineAt` (ms on monotonicNow's clock, util/clock.ts) has passed, unless `cancel()` of the returned handle
   * comes first.
   */
  add(item: Expirable, deadlineAt: number): PendingDeadline {
    const entry = new PendingDeadline(item, deadlineAt);
    const last = this.#last;
    if (last === null) this.#first = entry;
    else {
      last.next = entry;
      entry.prev = last;
    }
    this.#last = entry;
    this.#size += 1;
    if (deadlineAt < this.#armedFor) this.#arm(deadlineAt);
    else if (this.#size === 1) this.#timer?.ref();
    return entry;
  }

  cancel(entry: PendingDeadline): void {
    if (!entry.pending) return;
    this.#unlink(entry);
    if (this.#size === 0) this.#timer?.unref();
  }

  #unlink(entry: PendingDeadline): void {
    entry.pending = false;
    const { prev, next } = entry;
    if (prev === null) this.#first = next;
    else prev.next = next;
    if (next === null) this.#last = prev;
    else next.prev = prev;
    entry.prev = entry.next = null;
    this.#size -= 1;
  }

  #arm(deadlineAt: number): void {
    clearTimeout(this.#timer);
    this.#armedFor = deadlineAt;
    this.#timer = setTimeout(this.#fire, Math.max(0, deadlineAt - monotonicNow()));
  }

  /**
   * The timer fired: the deadlines are judged one check phase later (setImmediate), after the poll phase that reads the
   * sockets. After a stall of the event loop (a GC pause, CPU starvation, a synchronous burst) past a call's deadline,
   * Node runs the timers phase before that poll phase: judged at once, a call whose answer AOPay had sent in time, and
   * which sat unread in its socket, expired (an OTP sent reported OUTCOME_UNKNOWN, a read failed). Read first, its
   * answer settles it and cancels its deadline; one still unanswered expires a loop turn later
   * (test/integration/event-loop-stall.test.ts). A deadline added meanwhile arms a timer of its own; the sweep re-arms
   * for the earliest of those left, which cancels it.
   */
  readonly #fire = (): void => {
    this.#timer = undefined;
    this.#armedFor = Infinity;
    setImmediate(this.#sweep);
  };

  readonly #sweep = (): void => {
    const now = monotonicNow();
    let next = Infinity;
    const expired: Expirable[] = [];
    for (let entry = this.#first; entry !== null;) {
      const following = entry.next;
      if (entry.deadlineAt <= now) {
        this.#unlink(entry);
        expired.push(entry.item);
      } else if (entry.deadlineAt < next) next = entry.deadlineAt;
      entry = following;
    }
    if (next !== Infinity) this.#arm(next);
    for (const item of expired) item.expire();
  };
}
