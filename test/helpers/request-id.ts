import { randomUUID } from "node:crypto";
import { Scrubber } from "../../src/pii/scrub";

const patterns = new Scrubber();

/**
 * A random UUID the server adopts as the request id. The server refuses a UUID holding a run of ten or more decimal
 * digits (it could carry a mobile or Aadhaar number into every log line; src/http/request-id.ts), and about 1.6 % of
 * random v4 UUIDs have one: a test that sent `randomUUID()` and looked for its own id then failed now and then
 * (telemetry's access-line checks failed twice in one CI run). Nor does it adopt a UUID the log scrubber would rewrite
 * (8 digits, a dash and 4 digits read as an Aadhaar number: about 0.35 %).
 */
export function adoptableRequestId(): string {
  for (;;) {
    const id = randomUUID();
    if (!/[0-9]{10}/.test(id) && patterns.scrub(id) === id) return id;
  }
}
