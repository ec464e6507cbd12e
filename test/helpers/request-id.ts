import { randomUUID } from "node:crypto";
import { callerRequestId } from "../../src/http/request-id";

/**
 * A random UUID the server keeps as the caller's request id (src/http/request-id.ts callerRequestId). It refuses a UUID
 * holding a run of ten or more decimal digits, read through its dashes (it could carry a mobile or Aadhaar number into
 * every log line), and about 9.3 % of random v4 UUIDs have one: a test that sent `randomUUID()` and looked for its own
 * id then failed now and then (telemetry's access-line checks failed twice in one CI run). Nor does it keep a UUID the
 * log scrubber would rewrite (8 digits, a dash and 4 digits read as an Aadhaar number).
 */
export function adoptableRequestId(): string {
  for (;;) {
    const id = randomUUID();
    if (callerRequestId(id) === id) return id;
  }
}

/** A UUID, as the server's request ids are written (x-request-id, extensions.requestId, access lines). */
const ANY_UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/**
 * `text` with every UUID replaced by `<uuid>`, for a check that a value is not echoed: a random request id holds any
 * given four hex digits about once in 2,300 answers (slow-clients' "no `aaaa` echoed" failed in CI on the request id
 * `dcaaaae4-…`), so a check for digits or hex letters must not read the ids.
 */
export function withoutUuids(text: string): string {
  return text.replace(ANY_UUID, "<uuid>");
}
