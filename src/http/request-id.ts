import { randomUUID } from "node:crypto";
import { Scrubber } from "../pii/scrub";

/**
 * Request ids (docs/security-requirements.md A8: nothing a client sends is echoed unless it has a strict form).
 * Every request gets an id of our own, a fresh random UUID (freshRequestId): the `requestId` of its log lines, its
 * `x-request-id` response header and `extensions.requestId` of its errors. One id names one request: a caller's
 * `x-request-id` was adopted as the id before, so a caller could give many requests one id, or another request's id
 * (one seen in a support ticket or a screenshot), and a search for that id in the logs then found requests that were
 * not that one, unauthenticated refusals included (Envoy's edge default is the same: `preserve_external_request_id`
 * false).
 * The caller's own id is kept beside ours, as `callerRequestId` on every log line of the request, when it is a UUID as
 * RFC 9562 writes one (callerRequestId below): 8-4-4-4-12 hexadecimal digits with a version of 1 to 8 and the RFC
 * variant (`[89ab]` opening the fourth group), in either case, then lower-cased; 36 characters, so it is bounded.
 * Not kept: a UUID holding a run of ten or more decimal digits, read through its dashes as the log scrubber reads a
 * run (digits with up to three marks between them), which could carry a mobile or an Aadhaar number into every log
 * line; and one the log scrubber would rewrite (PATTERNS below); nor anything else (another format, several values).
 * About 9.3 % of random v4 UUIDs hold such a run (1.6 % in a row, without a dash). Only runs in a row were refused
 * before: an attack review's `…-4abc-9876-543210abcdef` (a mobile in the last two groups) and
 * `…-4234-8123-4123abcdef12` (an Aadhaar number written XXXX-XXXX-XXXX) were logged whole on every line, the scrubber
 * leaving a UUID as it is. It is never sent back. W3C `traceparent` is not adopted as a request id either.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const LONG_DIGIT_RUN = /[0-9](?:-?[0-9]){9}/;

/**
 * The log scrubber's patterns alone (no secrets). A request id is written on every log line of its request, and the
 * scrubber runs over every line: an id it would rewrite is no longer the id the client was given (or sent). A UUID whose
 * first group is 8 decimal digits opening with 2 to 9 and whose second is 4 digits reads as an Aadhaar number written
 * `XXXXXXXX-XXXX` (about 0.35 % of random v4 UUIDs), and was logged as `XXXX XXXX 1234-…`. Such ids are neither kept
 * as a caller's nor made.
 */
const PATTERNS = new Scrubber();

/** An id the scrubber leaves exactly as it is, so that the logs show the id the client got. */
function survivesScrubbing(id: string): boolean {
  return PATTERNS.scrub(id) === id;
}

/** A fresh random UUID that the log scrubber leaves alone (see PATTERNS). */
export function freshRequestId(): string {
  let id = randomUUID();
  while (mayBeRewritten(id) && !survivesScrubbing(id)) id = randomUUID();
  return id;
}

/**
 * Whether the scrubber may rewrite `id`, a UUID as randomUUID writes it: its first group is decimal digits alone
 * (firstGroupDigits), or it holds a run of ten or more decimal digits read through its dashes (LONG_DIGIT_RUN, about
 * 9.3 % of random v4 UUIDs), which every exit masks where it reads as a number as the log line does (pii/scrub.ts
 * asLogged: `…-bb53-6281738160bf` in an error's `extensions.requestId` on a log line). Else its check is skipped.
 */
export function mayBeRewritten(id: string): boolean {
  return firstGroupDigits(id) || LONG_DIGIT_RUN.test(id);
}

/**
 * Whether the first group of `id`, a UUID as randomUUID writes it (lower-case hexadecimal), is decimal digits alone:
 * the only UUIDs the scrubber can rewrite (PATTERNS), so the others (all but about 2.3 %, (10/16)^8) skip its check. A
 * number pattern starts only at a digit with no letter, digit, `-` or `+` before it (pii/scrub.ts BEFORE), and every
 * group after the first follows a `-`; a digit after a letter is glued to it; a PAN's shape (either case) inside a UUID
 * is kept (32 hex digits of one case: pii/scrub.ts inHexId), an e-mail address needs an `@`. Measured under callgrind
 * (a loop of freshRequestId, `node --single-threaded`): 5.7k -> 3.5k instructions per id, the rest randomUUID's
 * (docs/performance-runs.md). test/unit/http/request-id.test.ts checks that no id this skips is one the scrubber
 * rewrites.
 */
export function firstGroupDigits(id: string): boolean {
  for (let i = 0; i < 8; i++) {
    const code = id.charCodeAt(i);
    if (code < 48 || code > 57) return false;
  }
  return true;
}

/** The caller's `x-request-id` when it is kept (see the top of this file), lower-cased; else undefined. */
export function callerRequestId(header: string | string[] | undefined): string | undefined {
  if (typeof header === "string" && header.length === 36 && UUID.test(header) && !LONG_DIGIT_RUN.test(header)) {
    const id = header.toLowerCase();
    if (survivesScrubbing(id)) return id;
  }
  return undefined;
}

/**
 * Adds `extensions.requestId` to every error of a GraphQL-shaped JSON error body that lacks one: Apollo Server answers
 * some refusals (CSRF prevention, batching, malformed bodies) before its request pipeline, where requestPlugin never
 * runs. Other payloads are returned unchanged. Only called for error statuses, never on the success path.
 */
export function withRequestId(payload: string, requestId: string): string {
  let body: unknown;
  try {
    body = JSON.parse(payload);
  } catch {
    return payload;
  }
  const errors = (body as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors)) return payload;
  for (const error of errors) {
    if (error !== null && typeof error === "object") {
      const e = error as { extensions?: Record<string, unknown> };
      e.extensions = { ...e.extensions, requestId };
    }
  }
  return JSON.stringify(body);
}
