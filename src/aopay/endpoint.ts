import type { TextScrubber } from "../pii/scrub";
import { scrubbedMessage, type SuccessEnvelope } from "./outcome";

/** Server-side values every endpoint may put on the wire; clients never send or see them (docs/upstream/aopay-api.md §4). */
export interface WireContext {
  registrationId: string;
  companyCode: string;
  aepsPipe: string;
  aepsAccessModeType: string;
  /** How `date_of_birth` is written on the wire; AOPay's example `01/01/2000` does not say (Observation 15). */
  dobFormat: DobFormat;
}

export type DobFormat = "DD/MM/YYYY" | "MM/DD/YYYY" | "YYYY-MM-DD";

/**
 * A text from AOPay's answer through the call's scrubber (Endpoint.fromWire), a number glued into a word that reads
 * whole as a mobile or Aadhaar number masked too, as in a failure's message (outcome.ts scrubbedMessage), cut to
 * MAX_UPSTREAM_TEXT_CHARS; null when the answer has none. A success's message (`OTP sent to MT9876543210`) was shown
 * with the number whole: only failures' messages masked it. The CIBIL question's texts keep their last four digits
 * (outcome.ts scrubbedQuestionText).
 */
export function scrubbed(value: string | undefined, scrubber: TextScrubber): string | null {
  return value === undefined ? null : scrubbedMessage(value, scrubber);
}

/**
 * An identifier from AOPay's answer that the client sends back as it is (TextScrubber.identifier: partner credentials
 * redacted, nothing else touched), null when the answer has none.
 */
export function issuedId(value: string | undefined, scrubber: TextScrubber): string | null {
  return value === undefined ? null : scrubber.identifier(value);
}

/** Formats an ISO calendar date (YYYY-MM-DD, validated at the edge) for the wire. */
export function formatDob(iso: string, format: DobFormat): string {
  const [y, m, d] = iso.split("-");
  if (format === "DD/MM/YYYY") return `${d}/${m}/${y}`;
  if (format === "MM/DD/YYYY") return `${m}/${d}/${y}`;
  return iso;
}

/**
 * One AOPay endpoint (docs/design/style.md principle 1): method, path, whether it has side effects, and the mapping to and from
 * the wire. The upstream's spellings (`AdhaarNumber`, `Userkey`, `registeration` ...) never leave these modules.
 */
export interface Endpoint<In, Out> {
  /** Stable name for logs and metrics, e.g. `cibil.generateOtp`. */
  readonly name: string;
  readonly method: "GET" | "POST";
  /** Path below the API prefix. */
  readonly path: string;
  /**
   * True when a call may send an SMS or change state upstream. Such calls are never retried once they may have left
   * the process, and an unreadable 2xx answer to them is OUTCOME_UNKNOWN.
   */
  readonly sideEffect: boolean;
  /** True when the answer's `result` is handed to the client as it came (OutcomeSpec.handsOnResult). */
  readonly handsOnResult?: boolean;
  /**
   * Wire keys (dotted paths, one level deep) the mapping reads. Any other key in a success body is logged by name,
   * never by value, so operators can learn undocumented response shapes (docs/upstream/aopay-api.md Observation 10).
   */
  readonly knownKeys: readonly string[];
  toWire(input: In, ctx: WireContext): Record<string, unknown>;
  /**
   * The request's own values that must not come back in what AOPay answers (its OTP, token, identifiers, names, in the
   * forms sent): every text taken from the answer (messages, codes, the merchant reference we log) is scrubbed of them
   * (Scrubber.forRequest), as well as of PII shapes. An audit made the upstream echo an OTP as `error_code`: it reached
   * the client and the log as it was.
   */
  sensitive(input: In, ctx: WireContext): ReadonlyArray<string | null | undefined>;
  /**
   * Maps the success envelope; `input` is the validated request, `scrubber` masks PII and its values in upstream text.
   * Every string the answer hands on passes it: free text through `scrubbed`, an identifier the client must send back
   * through `issuedId` (an audit had AOPay echo the partner's RegistrationID, a mobile and an Aadhaar number in
   * `next_api_call`, a question's key, `PrimaryKeyId` and a registration's `cibil_id`: each reached the client as it was).
   */
  fromWire(envelope: SuccessEnvelope, input: In, scrubber: TextScrubber): Out;
}
