import type { IncomingHttpHeaders } from "node:http";
import { hidePartlyMasked } from "../pii/partly-masked";
import {
  keptAopayReference,
  maskNumberShapes,
  maskNumberShapesKeepingLast4,
  Scrubber,
  type TextScrubber,
} from "../pii/scrub";
import { type Envelope, isExactInteger, parseEnvelope } from "./envelope";
import {
  AopayBadResponseError,
  AopayCircuitOpenError,
  AopayClientGoneError,
  type AopayError,
  type AopayErrorCode,
  type AopayErrorDetails,
  AopayOutcomeUnknownError,
  AopayOverloadedError,
  AopayRejectedError,
  AopayTimeoutError,
  AopayUnauthorizedError,
  AopayUnavailableError,
} from "./errors";

const ERROR_CLASSES: Record<AopayErrorCode, new (message: string, details: AopayErrorDetails) => AopayError> = {
  UPSTREAM_REJECTED: AopayRejectedError,
  UPSTREAM_UNAUTHORIZED: AopayUnauthorizedError,
  UPSTREAM_UNAVAILABLE: AopayUnavailableError,
  CIRCUIT_OPEN: AopayCircuitOpenError,
  UPSTREAM_TIMEOUT: AopayTimeoutError,
  UPSTREAM_BAD_RESPONSE: AopayBadResponseError,
  OUTCOME_UNKNOWN: AopayOutcomeUnknownError,
  OVERLOADED: AopayOverloadedError,
  CLIENT_GONE: AopayClientGoneError,
};

/**
 * The one place an upstream failure becomes an AopayError (stripe-node's Error.generate): callers decide the code,
 * this picks the class. The transport (no answer), interpretResponse (an answer) and the circuit breakers use it.
 */
export function classifyFailure(code: AopayErrorCode, message: string, details: AopayErrorDetails): AopayError {
  return new ERROR_CLASSES[code](message, details);
}

/** What the transport hands over once AOPay has answered with a complete response. */
export interface UpstreamResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export type SuccessEnvelope = Extract<Envelope, { kind: "success" }>;

/** The parts of an endpoint module that decide how an answer is read. */
export interface OutcomeSpec {
  name: string;
  /** True when a call may send an SMS or change state upstream: an unreadable 2xx is then OUTCOME_UNKNOWN. */
  sideEffect: boolean;
  /**
   * True when the answer's `result` is handed to the client as it came (GetCreditHistory's report): its nesting is
   * then bounded (MAX_HANDED_ON_DEPTH). Default false: an endpoint that reads named keys only is not affected by depth.
   */
  handsOnResult?: boolean;
}

/**
 * The most levels of nesting of an answer's `result` handed to the client as it came (OutcomeSpec.handsOnResult; the
 * `result` object itself is level 1). The docs give the credit history no shape at all (docs/upstream/aopay-api.md
 * §1.4: "200 Json", no example). JSON.parse reads any depth, but the response is written by JSON.stringify, which is
 * recursive: a report of 5,000 nested arrays (10 kB) overflowed its stack on Node 24, and the client of a verified OTP
 * got HTTP 500 "Unexpected error." for the whole SubmitCibilOtp, its verification lost with it (an audit of a hostile
 * upstream). 64 levels is far beyond any structured report and far below that overflow.
 */
export const MAX_HANDED_ON_DEPTH = 64;

const MAX_RETRY_AFTER_SECONDS = 3600;

/**
 * `Retry-After` as delta-seconds or an HTTP date (RFC 9110 §10.2.3), clamped to [1, 3600]; undefined when absent or
 * bad. At least 1: the wait is handed to the client as `UpstreamUnavailable.retryAfterSeconds` with `retryable: true`,
 * and a 0 (which RFC 9110 allows, and which a date already past meant here) told it to call again at once, a tight loop
 * against an AOPay that had just said it could not serve (the throttle's and the circuit breaker's waits are at least
 * 1 s too). A date must name its weekday in letters, as every HTTP-date does (IMF-fixdate and the two obsolete
 * forms): Date.parse alone took `-3`, `1.5` or `3e2` as dates (years -3 and 2001, long past). The docs are silent on
 * whether AOPay sends the header at all (docs/upstream/aopay-api.md).
 */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const raw = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!raw) return undefined;
  let seconds: number;
  if (/^[0-9]+$/.test(raw)) seconds = Number(raw);
  else {
    if (!/^[A-Za-z]{3,9},? /.test(raw)) return undefined;
    const at = Date.parse(raw);
    if (Number.isNaN(at)) return undefined;
    seconds = Math.ceil((at - now) / 1000);
  }
  return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(1, seconds));
}

/**
 * Decides what an AOPay answer means. HTTP status first, because it is reliable for the transport's own failures
 * (redirects, 5xx), then the envelope, because business failures arrive inside HTTP 200 (Observation 8). A 401 is
 * taken as refused credentials (UPSTREAM_UNAUTHORIZED) though Observation 8 says it may carry a business error: its
 * code and message are kept for the client (errors.ts AopayUnauthorizedError).
 * Returns the success envelope or throws the one AopayError subclass that describes the answer.
 */
export function interpretResponse(spec: OutcomeSpec, res: UpstreamResponse, scrubber: TextScrubber): SuccessEnvelope {
  const envelope = parseEnvelope(headerValue(res.headers["content-type"]), res.body);
  const status = res.statusCode;
  // The common answer, a 2xx success envelope, returns before anything below is built: the failure details scrub the
  // upstream message, which a success never uses (its mapping scrubs what it keeps). Measured: the eager scrub was
  // 0.26 % of a request's CPU in the bench's profile. Its code and reference (short) are scrubbed: they are logged.
  const success = envelope.kind === "success" && status >= 200 && status < 300;
  if (success && (spec.handsOnResult !== true || nestedWithin(envelope.body.result, MAX_HANDED_ON_DEPTH)))
    return scrubReferences(envelope, scrubber);
  const known: { upstreamCode?: string; message?: string } =
    envelope.kind === "unparseable" ? {} : scrubReferences(envelope, scrubber);
  const details = {
    endpoint: spec.name,
    sent: true,
    httpStatus: status,
    upstreamCode: known.upstreamCode,
    upstreamMessage: known.message === undefined ? undefined : scrubbedMessage(known.message, scrubber),
  };
  const describe = (what: string) => `${spec.name}: ${what} (HTTP ${status}, ${describeBody(envelope)})`;

  if (status < 200 || status >= 300)
    throw statusFailure(status, envelope.kind === "failure", spec.sideEffect, res.headers, describe, details);
  if (envelope.kind === "failure") throw classifyFailure("UPSTREAM_REJECTED", describe("rejected"), details);
  if (success)
    return unreadableSuccess(spec, describe(`result nested deeper than ${MAX_HANDED_ON_DEPTH} levels`), details);
  return unreadableSuccess(spec, describe("unreadable answer to a 2xx"), details);
}

/**
 * The 5xx statuses that say the request was not carried out (RFC 9110 §15.6): 501 (the method is not supported), 503
 * (the server cannot handle requests now), 505 (the HTTP version is not supported). Every other 5xx says nothing about
 * it: 500 is an unexpected condition met anywhere in the handling, and 502 and 504 come from a gateway that passed
 * the request on and got no usable or timely answer. AOPay's docs name no 5xx at all (docs/upstream/aopay-api.md §1,
 * §2: 200 and 401 only). To a send (an OTP, a registration) such an answer is OUTCOME_UNKNOWN, not a retryable
 * UPSTREAM_UNAVAILABLE (docs/security-requirements.md E3): as that, a gateway's 504 in front of a delivered OTP told
 * the app to try again, for a second SMS (noted by an upstream audit). To a read it stays UPSTREAM_UNAVAILABLE.
 */
const NOT_HANDLED_5XX: ReadonlySet<number> = new Set([501, 503, 505]);

/**
 * What a status other than 2xx means: the status first, because it is reliable for the transport's own failures
 * (redirects, 5xx, 401). `failureEnvelope`: a readable failure envelope came with it. The transport asks too, for an
 * answer whose status arrived and whose body did not (cut off, stalled, too large): it then means what its status
 * says, with no envelope, as a complete one with an unreadable body would (an audit had a 302 or a 401 whose body was
 * cut off read as an unreachable AOPay, retryable and counted towards opening the circuit). `sideEffect`: the call
 * has one (an OTP sent, a customer registered), so an ambiguous 5xx is OUTCOME_UNKNOWN (NOT_HANDLED_5XX).
 */
function statusMeaning(
  status: number,
  failureEnvelope: boolean,
  sideEffect: boolean,
): { code: AopayErrorCode; what: string } {
  // A redirect is never followed (docs/security-requirements.md D5), but it says nothing of whether the request was
  // carried out: a 303 (or a 302 used as one) is the answer to a POST that was (RFC 9110 §15.4.4), and whatever
  // answered redirecting had the whole request. To a send (an OTP, a registration) it is OUTCOME_UNKNOWN, as an
  // ambiguous 5xx (docs/security-requirements.md E3). As UPSTREAM_BAD_RESPONSE, a definite failure, the client was not
  // told the OTP may have gone, and a send's marks and a first registration's hold were dropped at once
  // (graphql/guarded-send.ts mayStillApply), as if AOPay could not still act on it. AOPay's docs name no 3xx
  // (docs/upstream/aopay-api.md §1, §2: 200 and 401 only). To a read it stays UPSTREAM_BAD_RESPONSE.
  if (status >= 300 && status < 400)
    return sideEffect
      ? { code: "OUTCOME_UNKNOWN", what: "redirect not followed: the request may have been carried out" }
      : { code: "UPSTREAM_BAD_RESPONSE", what: "redirect not followed" };
  if (status === 401 || status === 403) return { code: "UPSTREAM_UNAUTHORIZED", what: "credentials refused" };
  if (sideEffect && status >= 500 && !NOT_HANDLED_5XX.has(status))
    return { code: "OUTCOME_UNKNOWN", what: "error status: the request may have been carried out" };
  if (status === 429 || status >= 500) return { code: "UPSTREAM_UNAVAILABLE", what: "upstream error status" };
  // A 4xx with a readable failure envelope is a business rejection: AOPay documents no 4xx but 401, and the analogous
  // Paysprint API answers validation, onboarding, pipe and token errors with 401/404/406/412 and its envelope
  // (docs/upstream/aopay-api.md §3, analogy only). Anything else at 4xx (an HTML 404, a success word on a 400) points
  // at our configuration, not the customer.
  if (failureEnvelope) return { code: "UPSTREAM_REJECTED", what: "rejected" };
  return { code: "UPSTREAM_BAD_RESPONSE", what: "unexpected status" };
}

/**
 * The failure a status other than 2xx means (statusMeaning), with the answer's `Retry-After` when it is
 * UPSTREAM_UNAVAILABLE: for a complete answer (interpretResponse) and for one whose body never completed (the
 * transport). `describe` words the message from what the status means.
 */
export function statusFailure(
  status: number,
  failureEnvelope: boolean,
  sideEffect: boolean,
  headers: IncomingHttpHeaders,
  describe: (what: string) => string,
  details: AopayErrorDetails,
): AopayError {
  const meaning = statusMeaning(status, failureEnvelope, sideEffect);
  const retryAfterSeconds =
    meaning.code === "UPSTREAM_UNAVAILABLE" ? parseRetryAfter(headers["retry-after"]) : undefined;
  return classifyFailure(meaning.code, describe(meaning.what), { ...details, retryAfterSeconds });
}

/**
 * A 2xx we cannot read. On an endpoint with side effects AOPay processed the request and we cannot tell how, so the
 * OTP may have been sent: OUTCOME_UNKNOWN. On a read it is simply a bad response.
 */
export function unreadableSuccess(spec: OutcomeSpec, message: string, details: AopayErrorDetails): never {
  throw classifyFailure(spec.sideEffect ? "OUTCOME_UNKNOWN" : "UPSTREAM_BAD_RESPONSE", message, details);
}

/**
 * The envelope's code and merchant reference, scrubbed in place: both are logged (the access line, every later line's
 * bindings, the span) and shown (UpstreamRejected.upstreamCode, CibilOtpVerified.merchantTransactionId), and both are
 * AOPay's text: an audit had it answer a request's OTP as `error_code` and `MT<mobile><aadhaar>` as the reference.
 */
function scrubReferences<E extends { upstreamCode?: string; merchantTransactionId?: string }>(
  envelope: E,
  scrubber: TextScrubber,
): E {
  if (envelope.upstreamCode !== undefined) envelope.upstreamCode = scrubbedReference(envelope.upstreamCode, scrubber);
  if (envelope.merchantTransactionId !== undefined)
    envelope.merchantTransactionId = scrubbedMerchantReference(envelope.merchantTransactionId, scrubber);
  return envelope;
}

/**
 * AOPay's merchant reference (`merchant_trans_id`, `merchantTrxnRefId`), as scrubbedReference scrubs a token, except
 * that one in the documented form (pii/scrub.ts keptAopayReference: `SPCBL`, a date and time, four digits, nine
 * letters or digits, and no number-shaped part past its first 16 digits) that the scrub left as it came is kept
 * whole: its 16 digits hold a mobile-shaped part, which maskNumberShapes masks in any other token since a run of digits
 * glued to others counts (pii/scrub.ts holdsNumber), and support must be able to quote the reference to AOPay. The
 * log keeps it whole under `merchantTransactionId` only (pii/scrub.ts ownId); the span masks it (client.ts, maskGlued).
 */
export function scrubbedMerchantReference(text: string, scrubber: TextScrubber): string {
  if (keptAopayReference(text) && inItsPlace(scrubber).scrub(text) === text) return text;
  return scrubbedReference(text, scrubber);
}

/**
 * The scrubber that tells whether a reference in its own place holds a secret or a request's value: a request's as
 * given (client.ts passes one), but the bare Scrubber's scrub ends with the log line's reading of free text
 * (pii/scrub.ts asLogged), which masks the reference's 16 digits anywhere but its own place (src/pii/kept-forms.ts):
 * here it is read as a request's scrubber with no values of its own reads it, its secrets still redacted.
 */
function inItsPlace(scrubber: TextScrubber): TextScrubber {
  return scrubber instanceof Scrubber ? scrubber.forRequest([]) : scrubber;
}

/**
 * The most characters of AOPay's text kept where it is logged as a token: a code, a merchant reference, the name of
 * an undocumented key. docs/upstream/aopay-api.md gives no length for any of them; its examples are short (`207`,
 * `SPC-200`, the 31-character `SPCBL2308181506522334ZiSHM7bAe`). Unbounded, one answer (up to
 * AOPAY_MAX_RESPONSE_BYTES) put a 300 kB reference into every later line of its request and a 300 kB code into the
 * warning and the access line: an audit measured 600 kB of log for one request.
 */
export const MAX_UPSTREAM_TOKEN_CHARS = 64;

/**
 * A token of AOPay's that is logged and shown whole (its code, its merchant reference `merchant_trans_id` or
 * `merchantTrxnRefId`, the name of an undocumented key): scrubbed, a number glued into it that reads whole as a
 * mobile or an Aadhaar number masked too (pii/scrub.ts maskNumberShapes), which the scrubber's rule for tokens
 * leaves alone: an attack review had `MT9876543210`, another customer's mobile, logged on every line of the request
 * and handed to the client. docs/upstream/aopay-api.md names the reference (§1.3: `merchant_trans_id`, in the success
 * example; `merchantTrxnRefId`, null, in the white-label error example; §5 item 5) but is silent on its shape: no
 * length, alphabet or meaning is given. Its two examples (`SPCBL2308181506522334ZiSHM7bAe` in §1.3,
 * `SPCBL2308181502437743aQaHNGxZM` in docs/upstream/seeds) are `SPCBL`, 16 digits and 9 letters or digits: that form
 * is kept by scrubbedMerchantReference, so they reach the client and the log as they came
 * (test/e2e/simulator-contract.test.ts); here a run of 16 digits holding a mobile-shaped part is masked.
 * Then cut to `max` characters with `…` (default MAX_UPSTREAM_TOKEN_CHARS; a message's: MAX_UPSTREAM_TEXT_CHARS,
 * scrubbedMessage): scrubbed and masked first (a mask keeps the length, one `X` per digit), as a cut through a number
 * would leave digits no pattern recognises or shorten a run into another shape. Before all that, a number AOPay masked
 * in part (`94138****`, `97XXXXXXXX`) has every digit hidden (pii/partly-masked.ts hidePartlyMasked): beside our masks,
 * which show the last four digits, its first five showed nine of a mobile's ten.
 */
export function scrubbedReference(text: string, scrubber: TextScrubber, max = MAX_UPSTREAM_TOKEN_CHARS): string {
  return cut(maskNumberShapes(scrubber.scrub(hidePartlyMasked(text))), max);
}

/**
 * The most characters of one of AOPay's texts handed to the client (a message, a question or an answer's text). The
 * docs give no length; their messages are a few words (docs/upstream/aopay-api.md §1-2). Uncut, the answer size cap
 * (AOPAY_MAX_RESPONSE_BYTES, 1 MiB) was the only bound: a megabyte message went to the client whole, and into the
 * sealed idempotency record of its key (Redis), the same class as the logged tokens above.
 */
export const MAX_UPSTREAM_TEXT_CHARS = 1_000;

/**
 * A message of AOPay's (a failure's `upstreamMessage`, logged and shown, interpretResponse; a success's texts,
 * endpoint.ts scrubbed): scrubbedReference cut to MAX_UPSTREAM_TEXT_CHARS, not to a token's length. A number glued
 * into a word that reads whole as a mobile or an Aadhaar number is masked too, as in a reference: a message quoting
 * one such as `MT9876543210` (another customer's mobile) passed the scrubber's token rule.
 */
export function scrubbedMessage(text: string, scrubber: TextScrubber): string {
  return scrubbedReference(text, scrubber, MAX_UPSTREAM_TEXT_CHARS);
}

/**
 * A text of the CIBIL question (its full text, an answer choice's text): scrubbed, cut to MAX_UPSTREAM_TEXT_CHARS with
 * `…`, and a number glued into a word that reads whole as a mobile or an Aadhaar number masked but for its last four
 * digits (pii/scrub.ts maskNumberShapesKeepingLast4), so that the customer can still tell the choices apart (an answer
 * choice may hold the customer's own account number, which they must recognise: not scrubbedMessage, which masks it
 * whole). A number AOPay masked in part has every digit hidden first (pii/partly-masked.ts hidePartlyMasked): its
 * question says "The One Time Password is sent to 94138****" (the mobile's first five digits), shown as `*********`,
 * where our registerCibilCustomer answer shows `XXXXXX3210`. Not logged, nor set on a span.
 */
export function scrubbedQuestionText(text: string, scrubber: TextScrubber): string {
  return cut(maskNumberShapesKeepingLast4(scrubber.scrub(hidePartlyMasked(text))), MAX_UPSTREAM_TEXT_CHARS);
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * Whether `value` (parsed JSON) nests objects and arrays at most `max` levels deep (a scalar is 0 levels, `{}` 1).
 * Iterative, as the point is a depth the call stack might not hold; it stops at the first path past `max`.
 */
export function nestedWithin(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [node, depth] = top;
    if (node === null || typeof node !== "object" || isExactInteger(node)) continue;
    if (depth + 1 > max) return false;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (child !== null && typeof child === "object") stack.push([child, depth + 1]);
    }
  }
  return true;
}

function describeBody(envelope: Envelope): string {
  return envelope.kind === "unparseable" ? `body ${envelope.reason}` : `${envelope.kind} envelope`;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
