import { randomUUID } from "node:crypto";

/**
 * Request ids (docs/security-requirements.md A8: nothing a client sends is echoed unless it has a strict form).
 * A caller may send its own in `x-request-id`; it is adopted only when it is a UUID as RFC 9562 writes one:
 * 8-4-4-4-12 hexadecimal digits with a version of 1 to 8 and the RFC variant (`[89ab]` opening the fourth group), in
 * either case, and is then used lower-cased. Also refused: a UUID holding a run of ten or more decimal digits, which
 * could carry a mobile or an Aadhaar number into every log line and back to the client (the log scrubber leaves
 * runs glued to letters and dashes alone so as not to mangle ids). About 1.6% of random v4 UUIDs have such a run in
 * their last group; those requests, like every request with anything else in the header (another format, several
 * values), get a fresh random UUID. The id actually used is always in the `x-request-id` response header and in
 * `extensions.requestId` of every error, so a client can read it back. W3C `traceparent` is not adopted.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const LONG_DIGIT_RUN = /[0-9]{10}/;

export function requestIdFrom(header: string | string[] | undefined): string {
  if (typeof header === "string" && header.length === 36 && UUID.test(header) && !LONG_DIGIT_RUN.test(header))
    return header.toLowerCase();
  return randomUUID();
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
