import {
  context,
  type Attributes,
  type Context as TraceContext,
  type Span,
  SpanKind,
  type SpanOptions,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import type { UpstreamCallSummary } from "../logging/access-log";
import type { Logger } from "../logging/logger";
import { type SummarisedLines, summaryLines } from "../logging/summarised";
// The module's object, not the global `performance`: that is an accessor, a getter call per read (about 250
// main-thread instructions under callgrind, several reads per request).
import { performance } from "node:perf_hooks";

export type { UpstreamCallSummary } from "../logging/access-log";
import { maskGlued, type Scrubber, type TextScrubber } from "../pii/scrub";
import { CircuitBreakers, type CircuitState } from "./circuit-breakers";
import type { Endpoint, WireContext } from "./endpoint";
import { aepsResendOtp, type AepsResendOtpAnswer, type ResendAepsOtpRequest } from "./endpoints/aeps-resend-otp";
import { type AepsVerifyOtpAnswer, aepsVerifyOtp, type VerifyAepsOtpRequest } from "./endpoints/aeps-verify-otp";
import {
  type CibilCreditHistoryAnswer,
  type CreditHistoryRequest,
  cibilCreditHistory,
} from "./endpoints/cibil-credit-history";
import {
  cibilGenerateOtp,
  type CibilGenerateOtpAnswer,
  type GenerateCibilOtpRequest,
} from "./endpoints/cibil-generate-otp";
import { cibilRegister, type CibilRegistration, type RegisterCibilCustomerRequest } from "./endpoints/cibil-register";
import { type CibilSubmitOtpAnswer, cibilSubmitOtp, type SubmitCibilOtpRequest } from "./endpoints/cibil-submit-otp";
import { isExactInteger } from "./envelope";
import { AOPAY_ERROR_CODES, AopayError } from "./errors";
import { newOrderId, type OrderRef } from "./order-id";
import { interpretResponse, scrubbedReference, type SuccessEnvelope } from "./outcome";
import { retryDelay, type RetryPolicy } from "./retry";
import { redeemSendPass, type SendPass, UnguardedSendError } from "./send-pass";
import { type AopayTransport, cutByDeadline, errorCode, type TransportResult } from "./transport";
import { UndocumentedFieldsLog } from "./undocumented-fields";
import type { BreakerConfig } from "./circuit-breakers.settings";
import { monotonicNow } from "../util/clock";

export interface CallOptions {
  /** The request's logger (carries the request id). AOPay's merchant transaction id is bound to it once known. */
  log: Logger;
  /** Collects a summary of each attempt for the request's one access line. Without it, successes log a line each. */
  record?: (summary: UpstreamCallSummary) => void;
  /**
   * Deadline of the whole request on monotonicNow's clock (util/clock.ts, not Date.now); each attempt gets only what
   * is left of it.
   */
  deadlineAt?: number;
  /**
   * True when the client set `deadlineAt` shorter than this server's own (x-request-timeout-ms): an attempt it cuts
   * short is the client's choice, not AOPay's slowness, and the circuit breaker does not count it. Default false.
   */
  deadlineShortened?: boolean;
  /** The request's operation span (when traces are exported): each attempt's span is its child. */
  traceContext?: TraceContext;
  /** True once the request's client has gone: a call not yet written is then dropped (transport.ts). */
  clientGone?: () => boolean;
}

/** Options for an endpoint with side effects: only the OTP guard can supply the pass (aopay/send-pass.ts). */
export interface GuardedCallOptions extends CallOptions {
  readonly pass: SendPass;
}

/**
 * The outcome operators see (metrics, access line, span) for an attempt cut short by its client's own shorter deadline
 * (x-request-timeout-ms) within BREAKER_SLOW_CALL_MS; the client itself is answered OUTCOME_UNKNOWN or UPSTREAM_TIMEOUT.
 */
export const CLIENT_DEADLINE = "CLIENT_DEADLINE";

/** One finished upstream attempt, for observers such as metrics. Never carries bodies or customer data. */
export interface UpstreamCallEvent {
  /** Endpoint name (the template, never a URL), e.g. `cibil.generateOtp`. */
  endpoint: string;
  /** `OK`, an AopayErrorCode, or CLIENT_DEADLINE. */
  outcome: string;
  httpStatus?: number;
  upstreamCode?: string;
  sent: boolean;
  durationMs: number;
}

export interface AopayClientOptions {
  transport: AopayTransport;
  wire: WireContext;
  scrubber: Scrubber;
  breaker: BreakerConfig;
  retry: RetryPolicy;
  /** CIBIL registeration's HTTP method (undocumented: GET per its page header, POST per its cURL). */
  registrationMethod: "GET" | "POST";
  /** Source of backoff jitter; default Math.random (tests pin it). */
  random?: () => number;
  onCall?: (event: UpstreamCallEvent) => void;
  onCircuitChange?: (family: string, state: CircuitState) => void;
  /**
   * The process's logger, for the summary of the failed calls' lines not written one by one
   * (UPSTREAM_REFUSAL_LINES_PER_INTERVAL).
   * None: every such warning is written (tests of the client alone).
   */
  log?: Pick<Logger, "info" | "warn" | "error">;
}

/**
 * At most this many lines of upstream attempts that failed, were cut by their client's deadline, or are retried, per
 * SUMMARY_INTERVAL_MS (10 s) for each endpoint and outcome; the others of the interval are counted by endpoint and
 * outcome in one summary line at its end. Failures a client's input causes at will: AOPay refusing the request (a
 * wrong OTP, a registration it will not take: UPSTREAM_REJECTED) or answering 401, which AOPay also uses for a
 * business error (docs/upstream/aopay-api.md Observation 8); a short deadline of its own. Failures of a condition
 * every request meets: AOPay unreachable, slow, unreadable, an outcome unknown, the circuit open (CIRCUIT_OPEN). Each
 * had a line beside its access line, which already says the outcome, AOPay's code and status (`upstream`): a warning
 * per request under an attacker's load or an outage. Per endpoint and outcome, a flood of wrong OTPs does not hide
 * AOPay's first refusal of our credentials. aopay_upstream_requests_total counts every call, and the alerts read it
 * (AopayCredentialsRefused, AopayUpstreamFailures, AopayCircuitOpen).
 */
export const UPSTREAM_REFUSAL_LINES_PER_INTERVAL = 10;

const tracer = trace.getTracer("aopay-graphql");

/** Every endpoint's name (the `endpoint` label of the upstream metrics), in the order of the methods above. */
export const AOPAY_ENDPOINT_NAMES: readonly string[] = Object.freeze([
  cibilRegister("POST").name,
  cibilGenerateOtp.name,
  cibilSubmitOtp.name,
  cibilCreditHistory.name,
  aepsResendOtp.name,
  aepsVerifyOtp.name,
]);

/** The outcomes an attempt is counted under (UpstreamCallEvent.outcome): `OK`, a failure code, or CLIENT_DEADLINE. */
export const AOPAY_OUTCOMES: readonly string[] = Object.freeze(["OK", ...AOPAY_ERROR_CODES, CLIENT_DEADLINE]);

/**
 * The reasons the upstream attempts' lines are counted under (UPSTREAM_REFUSAL_LINES_PER_INTERVAL), each counted apart:
 * per endpoint, every outcome but `OK`, and `retried`; 66. With the summariser's default of 16, the reasons that came
 * after an outage's or a client's first 16 shared `other` and its 10 lines: one of them flooded (a client's 1 ms
 * deadlines), AOPay's first OUTCOME_UNKNOWN or refusal of our credentials on another endpoint was never written
 * (test/integration/upstream-line-reasons.test.ts).
 */
export const UPSTREAM_LINE_REASONS = AOPAY_ENDPOINT_NAMES.length * AOPAY_OUTCOMES.length;

/**
 * The typed AOPay API: one short method per endpoint module. Owns the transport, the circuit breakers and the partner
 * credentials; resolvers never see any of them. Each call:
 *   attempt → circuit breaker of the endpoint family → transport (one HTTP exchange) → interpretation;
 *   a failure that provably never left the process is tried again with jittered backoff inside the deadline
 *   (aopay/retry.ts); nothing else ever is.
 * Every attempt is logged once (with the request id), reported to `onCall`, and traced as an OpenTelemetry span
 * (a no-op unless an OTel SDK is registered in the process).
 */
export class AopayClient {
  readonly cibil = {
    register: (input: RegisterCibilCustomerRequest, opts: GuardedCallOptions): Promise<CibilRegistration> =>
      this.call(this.#register, { ...input, orderId: newOrderId() }, opts),
    generateOtp: (input: GenerateCibilOtpRequest, opts: GuardedCallOptions): Promise<CibilGenerateOtpAnswer> =>
      this.call(cibilGenerateOtp, input, opts),
    submitOtp: (input: SubmitCibilOtpRequest, opts: GuardedCallOptions): Promise<CibilSubmitOtpAnswer> =>
      this.call(cibilSubmitOtp, input, opts),
    creditHistory: (input: CreditHistoryRequest, opts: CallOptions): Promise<CibilCreditHistoryAnswer> =>
      // A fresh order id per logical call (kept across its retries: the body is built once).
      this.call(cibilCreditHistory, { ...input, orderId: newOrderId() }, opts),
  };

  readonly aeps = {
    resendOtp: (input: ResendAepsOtpRequest, opts: GuardedCallOptions): Promise<AepsResendOtpAnswer> =>
      this.call(aepsResendOtp, input, opts),
    verifyOtp: (input: VerifyAepsOtpRequest, opts: GuardedCallOptions): Promise<AepsVerifyOtpAnswer> =>
      this.call(aepsVerifyOtp, input, opts),
  };

  readonly breakers: CircuitBreakers;
  readonly #register: Endpoint<RegisterCibilCustomerRequest & OrderRef, CibilRegistration>;
  /** Which answers with undocumented keys get a line: a shape when first seen, then every 10 minutes. */
  readonly #undocumented: UndocumentedFieldsLog;
  /**
   * The failed, cut and retried attempts' lines, summarised past a few per endpoint, outcome and 10 s
   * (UPSTREAM_REFUSAL_LINES_PER_INTERVAL); null without a process logger (all written).
   */
  readonly #refusedLines: SummarisedLines | null;

  constructor(private readonly options: AopayClientOptions) {
    this.#register = cibilRegister(options.registrationMethod);
    const log = options.log;
    this.#undocumented = new UndocumentedFieldsLog(log);
    this.#refusedLines =
      log === undefined
        ? null
        : summaryLines(log, {
            perInterval: UPSTREAM_REFUSAL_LINES_PER_INTERVAL,
            maxReasons: UPSTREAM_LINE_REASONS,
            head: (n) => `upstream refused or failed ${n} more calls`,
          });
    // Every family's breaker from the start (circuit-breakers.ts says why).
    this.breakers = new CircuitBreakers(
      options.breaker,
      (family, state) => {
        options.onCircuitChange?.(family, state);
      },
      [...new Set(AOPAY_ENDPOINT_NAMES.map(familyOf))],
    );
  }

  /**
   * One logical call, retried only while provably never sent. An endpoint with side effects needs a live send pass
   * (aopay/send-pass.ts) and uses it up: without one it is refused here, before its body is even built.
   */
  async call<In, Out>(endpoint: Endpoint<In, Out>, input: In, opts: CallOptions | GuardedCallOptions): Promise<Out> {
    if (endpoint.sideEffect && !redeemSendPass((opts as Partial<GuardedCallOptions>).pass))
      throw new UnguardedSendError(endpoint.name);
    const body = endpoint.toWire(input, this.options.wire);
    // What AOPay answers this call is scrubbed of PII shapes and of this request's own values (endpoint.sensitive).
    const text = this.options.scrubber.forRequest(endpoint.sensitive(input, this.options.wire));
    for (let retriesDone = 0; ; retriesDone++) {
      try {
        const envelope = await this.#attempt(endpoint, body, text, opts, retriesDone + 1);
        return endpoint.fromWire(envelope, input, text);
      } catch (error) {
        const msLeft = (opts.deadlineAt ?? Infinity) - monotonicNow();
        const delay = retryDelay(error, retriesDone, msLeft, this.options.retry, this.options.random);
        if (delay === null) throw error;
        if (this.#refusedLines === null || this.#refusedLines.take(`${endpoint.name} retried`))
          opts.log.info(
            { upstream: { endpoint: endpoint.name, retryInMs: delay, attempt: retriesDone + 2 } },
            "retrying a call that was never sent",
          );
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** Shuts the breakers' timers and closes the transport, aborting calls still running after `graceMs`. */
  async close(graceMs?: number): Promise<void> {
    this.breakers.shutdown();
    try {
      await this.options.transport.close(graceMs);
    } finally {
      // After the transport's close, not before: the calls it ends (cut at the grace period's end: OUTCOME_UNKNOWN,
      // each a line) are counted in the summary written now. Flushed first, their count waited for the interval's
      // timer, which keeps no process alive: lost at the exit (test/integration/upstream-line-reasons.test.ts).
      this.#refusedLines?.flush();
      this.#undocumented.flush();
    }
  }

  /**
   * One attempt, traced as a CLIENT span. Without an OTel SDK (the default) the tracer is a no-op and its span does
   * not record: the attempt then runs without making the span active or building its attributes, which cost 0.6 % of
   * a request's CPU in the bench's profile for nothing (startActiveSpan copies the context, #report spread attribute
   * objects). A recording span is active during the attempt, as before.
   */
  #attempt(
    endpoint: Endpoint<unknown, unknown>,
    body: Record<string, unknown>,
    text: TextScrubber,
    opts: CallOptions,
    attempt: number,
  ): Promise<SuccessEnvelope> {
    const parent = opts.traceContext ?? context.active();
    const known = endpointSpan(endpoint);
    // Started with its kind alone; the attributes are set only on a span that records (see CLIENT_SPAN below).
    const span = tracer.startSpan(known.name, CLIENT_SPAN, parent);
    if (!span.isRecording()) {
      // A span that does not record (the API's NonRecordingSpan: no SDK, or an SDK's sampler said NOT_RECORD) does
      // nothing when ended, early or late: it is ended now and the exchange's promise returned as it is, without an
      // async frame and an await per attempt around it.
      span.end();
      return this.#exchange(endpoint, body, text, opts, undefined);
    }
    span.setAttributes(attempt === 1 ? known.firstAttempt : attemptAttributes(endpoint, attempt));
    return this.#recorded(endpoint, body, text, opts, span, parent);
  }

  /** #attempt with a recording span: active during the exchange, ended when the exchange settles. */
  async #recorded(
    endpoint: Endpoint<unknown, unknown>,
    body: Record<string, unknown>,
    text: TextScrubber,
    opts: CallOptions,
    span: Span,
    parent: TraceContext,
  ): Promise<SuccessEnvelope> {
    try {
      return await context.with(trace.setSpan(parent, span), () => this.#exchange(endpoint, body, text, opts, span));
    } finally {
      span.end();
    }
  }

  /**
   * The attempt itself: breaker, transport, interpretation, and its report. `span` is set when it records.
   * The breaker is asked before and told after, synchronously (circuit-breakers.ts: why not opossum), so an attempt
   * is one promise of the transport's and this frame's await on it.
   */
  async #exchange(
    endpoint: Endpoint<unknown, unknown>,
    body: Record<string, unknown>,
    text: TextScrubber,
    opts: CallOptions,
    span: Span | undefined,
  ): Promise<SuccessEnvelope> {
    const started = performance.now();
    /** Cut short by its client's own shorter deadline within BREAKER_SLOW_CALL_MS: the client's choice, not AOPay's. */
    let clientCut = false;
    try {
      const breaker = this.breakers.of(familyOf(endpoint.name));
      const admitted = breaker.admit(endpoint.name);
      let res: TransportResult;
      let envelope: SuccessEnvelope;
      try {
        res = await this.options.transport.send({
          endpoint: endpoint.name,
          method: endpoint.method,
          path: endpoint.path,
          body,
          sideEffect: endpoint.sideEffect,
          deadlineAt: opts.deadlineAt,
          abandoned: opts.clientGone,
        });
        // Inside the breaker: an answer that reads as unavailable (5xx) or unknown (an unreadable 2xx to a send) counts.
        envelope = interpretResponse(endpoint, res, text);
      } catch (error) {
        // A client asking for 1 ms (or any deadline shorter than AOPay's usual answer) made every call of its end in
        // UPSTREAM_TIMEOUT or OUTCOME_UNKNOWN, which count: eleven such calls opened the family's circuit, and every
        // other client was answered UPSTREAM_UNAVAILABLE (CIRCUIT_OPEN) with AOPay healthy. Such a cut is not counted
        // unless it came after BREAKER_SLOW_CALL_MS (then AOPay was slow, whoever set the deadline: DEFAULT_BREAKER
        // says why). A deadline of the server's own (REQUEST_DEADLINE_MS) always counts.
        clientCut =
          opts.deadlineShortened === true &&
          cutByDeadline(error) &&
          performance.now() - started < this.options.breaker.slowCallMs;
        // A call that never reached AOPay because of us or its client (our full bulkhead, a client that hung up while
        // it waited for a socket) says nothing of AOPay's health either. Counted as an uncounted failure (a success),
        // clients giving up under load diluted AOPay's real failures below BREAKER_ERROR_PERCENT, and a half-open
        // circuit's probe dropped so closed the circuit without AOPay having been asked.
        if (clientCut || NOT_ASKED.has((error as { code?: unknown }).code as string)) breaker.inconclusive(admitted);
        else breaker.failed(error);
        // The failure that opened the circuit (or a probe's, opening it again): its wait is the circuit's at least, so
        // that a client retrying after it is not refused CIRCUIT_OPEN (errors.ts waitAtLeast).
        if (error instanceof AopayError) error.waitAtLeast(breaker.openForMs());
        throw error;
      }
      breaker.succeeded();
      const unknownKeys = unknownKeysOf(envelope.body, endpoint.knownKeys);
      if (unknownKeys.length > 0) {
        // Undocumented parts of the answer, by name only: how operators learn AOPay's real shapes. A key can itself be
        // an identifier (`uid_<aadhaar>`, `x9876543210`): scrubbed, masked and cut as its other tokens are
        // (outcome.ts scrubbedReference), before it is remembered as part of a shape.
        const keys = unknownKeys.map((key) => scrubbedReference(key, text));
        const line = this.#undocumented.take(endpoint.name, keys);
        if (line !== null)
          opts.log.info(
            { upstream: { endpoint: endpoint.name, unknownKeys: keys, ...line } },
            "upstream answer has undocumented fields",
          );
      }
      if (envelope.merchantTransactionId) {
        // From here on every log line of this request carries AOPay's reference, for support and tracing.
        // Scrubbed where it came in (outcome.ts scrubbedReference): the request's own values redacted, a glued mobile
        // or Aadhaar number masked, and the documented shape (`SPCBL` and 16 digits) kept for support to quote.
        opts.log.setBindings({ merchantTransactionId: envelope.merchantTransactionId });
        // No scrubber reads an exported span, and a backend's retention and access are not the log's: every run of
        // ten or more digits masked there (pii/scrub.ts maskGlued), the documented ones too. The full reference is on
        // the request's log lines, which carry the span's traceId.
        span?.setAttribute("aopay.merchant_transaction_id", maskGlued(envelope.merchantTransactionId));
      }
      this.#report(opts, span, {
        endpoint: endpoint.name,
        outcome: "OK",
        httpStatus: res.statusCode,
        upstreamCode: envelope.upstreamCode,
        sent: true,
        durationMs: performance.now() - started,
      });
      return envelope;
    } catch (error) {
      if (error instanceof AopayError) {
        this.#report(
          opts,
          span,
          {
            endpoint: endpoint.name,
            // The client is told error.code (OUTCOME_UNKNOWN or UPSTREAM_TIMEOUT: what it must know of the send); the
            // operators' signals (metrics, the access line, the span, the log level) say whose choice it was, so that
            // a client's 1 ms deadlines trip neither the upstream-failure alerts nor a warning per call.
            outcome: clientCut ? CLIENT_DEADLINE : error.code,
            httpStatus: error.httpStatus,
            upstreamCode: error.upstreamCode,
            sent: error.sent,
            durationMs: performance.now() - started,
          },
          error.cause instanceof Error ? errorCode(error.cause) : undefined,
          error.message,
        );
      } else {
        span?.setStatus({ code: SpanStatusCode.ERROR });
      }
      throw error;
    }
  }

  /**
   * Reports a finished attempt: span attributes (when recording), the access line's summary, a log line, metrics.
   * A success with an access line to summarise it logs at debug: its fields are built only when debug is on.
   */
  #report(opts: CallOptions, span: Span | undefined, event: UpstreamCallEvent, cause?: string, detail?: string): void {
    const { log } = opts;
    const failed = event.outcome !== "OK" && event.outcome !== CLIENT_DEADLINE;
    if (span) {
      span.setAttributes({
        "aopay.outcome": event.outcome,
        "aopay.sent": event.sent,
        ...(event.httpStatus ? { "http.response.status_code": event.httpStatus } : {}),
      });
      if (failed) span.setStatus({ code: SpanStatusCode.ERROR, message: event.outcome });
    }
    const durationMs = Math.round(event.durationMs * 10) / 10;
    opts.record?.({
      endpoint: event.endpoint,
      outcome: event.outcome,
      httpStatus: event.httpStatus,
      upstreamCode: event.upstreamCode,
      durationMs,
    });
    // A success is summarised in the request's access line (one info line per request on the hot path); a failure
    // also gets its own warning line, with the cause, when it happens.
    if (failed || !opts.record || log.isLevelEnabled("debug")) {
      const fields = {
        upstream: {
          endpoint: event.endpoint,
          outcome: event.outcome,
          httpStatus: event.httpStatus,
          upstreamCode: event.upstreamCode,
          sent: event.sent,
          durationMs,
          cause,
        },
      };
      // A failure's or a cut's line is summarised (UPSTREAM_REFUSAL_LINES_PER_INTERVAL). The reason counted is ours:
      // the endpoint's name and the outcome's code, never AOPay's text.
      const summarised = failed || event.outcome === CLIENT_DEADLINE;
      if (summarised && this.#refusedLines !== null && !this.#refusedLines.take(`${event.endpoint} ${event.outcome}`)) {
        // Not written: counted in the summary (its access line, span and metrics say it).
      } else if (failed) log.warn(fields, detail ?? "upstream call failed");
      else if (event.outcome === CLIENT_DEADLINE)
        log.info(fields, detail ?? "upstream call cut by the client's deadline");
      else if (opts.record) log.debug(fields, "upstream call");
      else log.info(fields, "upstream call");
    }
    this.options.onCall?.(event);
  }
}

/**
 * The options every attempt's span starts with: its kind alone. The SDK cleans the start attributes (its
 * cleanAttributes) before its sampler decides, so attributes given at start cost every request even when the span is
 * dropped (an always_off or ratio sampler): 0.75 % of the busy samples of a `--cpu-prof` bench run with export on and
 * always_off, about 1 µs per request (below what the bench's CPU per request resolves). The samplers
 * OTEL_TRACES_SAMPLER can name (always_on/off, traceidratio and their parentbased forms) decide on the trace id and the
 * parent alone, so setting the attributes after the start loses them nothing.
 */
const CLIENT_SPAN: SpanOptions = Object.freeze({ kind: SpanKind.CLIENT });

/** An attempt's span attributes. The path template, never the URL (nothing per-customer is in it anyway). */
function attemptAttributes(endpoint: Endpoint<unknown, unknown>, attempt: number): Attributes {
  return {
    "aopay.endpoint": endpoint.name,
    "aopay.attempt": attempt,
    "http.request.method": endpoint.method,
    "url.template": endpoint.path,
  };
}

/** An endpoint's span name and its first attempt's span attributes (frozen), made once (endpoints are a fixed few). */
interface EndpointSpan {
  name: string;
  firstAttempt: Attributes;
}

/**
 * By endpoint name, instead of a template string and an object per call: the span only reads them (the SDK copies
 * attributes into its span).
 */
const ENDPOINT_SPANS = new Map<string, EndpointSpan>();

function endpointSpan(endpoint: Endpoint<unknown, unknown>): EndpointSpan {
  let span = ENDPOINT_SPANS.get(endpoint.name);
  if (span === undefined) {
    span = { name: `aopay ${endpoint.name}`, firstAttempt: Object.freeze(attemptAttributes(endpoint, 1)) };
    ENDPOINT_SPANS.set(endpoint.name, span);
  }
  return span;
}

const FAMILIES = new Map<string, string>();

/** Failure codes of calls that never reached AOPay, by our or the client's doing: neither a success nor a failure. */
const NOT_ASKED: ReadonlySet<string> = new Set(["OVERLOADED", "CLIENT_GONE"]);

/** The endpoint family (`cibil`, `aeps`) of an endpoint name: its breaker's name. Cached: names are a fixed few. */
function familyOf(name: string): string {
  let family = FAMILIES.get(name);
  if (family === undefined) FAMILIES.set(name, (family = name.split(".")[0]));
  return family;
}

/**
 * An endpoint's knownKeys as lookups: the set itself (top-level keys), and for each prefix before a dot the suffixes
 * after it, so `inner.get(key)?.has(x)` says exactly whether `${key}.${x}` is listed, without building that string.
 */
interface KnownShape {
  readonly top: ReadonlySet<string>;
  readonly inner: ReadonlyMap<string, ReadonlySet<string>>;
}

const KNOWN_SHAPES = new WeakMap<readonly string[], KnownShape>();

function knownShape(known: readonly string[]): KnownShape {
  const inner = new Map<string, Set<string>>();
  for (const path of known) {
    for (let dot = path.indexOf("."); dot !== -1; dot = path.indexOf(".", dot + 1)) {
      const prefix = path.slice(0, dot);
      let suffixes = inner.get(prefix);
      if (!suffixes) inner.set(prefix, (suffixes = new Set()));
      suffixes.add(path.slice(dot + 1));
    }
  }
  return { top: new Set(known), inner };
}

const NONE: readonly string[] = Object.freeze([]);

/**
 * Dotted key paths (one level into objects) of `body` that are not in `known`; at most 50, never values.
 * Runs on every success. It looks inner keys up per top-level key instead of building a `key.inner` string for each
 * (and Object.entries pairs), and allocates nothing when every key is known: it was 0.67 % of a request's CPU in the
 * bench's profile.
 */
export function unknownKeysOf(body: Record<string, unknown>, known: readonly string[]): string[] {
  let shape = KNOWN_SHAPES.get(known);
  if (!shape) KNOWN_SHAPES.set(known, (shape = knownShape(known)));
  let out: string[] | undefined;
  for (const key of Object.keys(body)) {
    if (!shape.top.has(key)) {
      (out ??= []).push(key);
      continue;
    }
    const value = body[key];
    if (value === null || typeof value !== "object" || Array.isArray(value) || isExactInteger(value)) continue;
    const suffixes = shape.inner.get(key);
    if (suffixes?.has("*")) continue;
    for (const innerKey of Object.keys(value)) {
      if (!suffixes?.has(innerKey)) (out ??= []).push(`${key}.${innerKey}`);
    }
  }
  return out === undefined ? (NONE as string[]) : out.slice(0, 50);
}
