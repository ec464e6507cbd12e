import { Buffer } from "node:buffer";
import { hkdfSync } from "node:crypto";
import { KeyHasher } from "./key-hasher";

/**
 * The customer identifiers a log line may name by reference, each with the prefix its references carry. The canonical
 * value is the one the server already computed (graphql/validation/canonical.ts; a user key upper-cased as its budget
 * key, graphql/guarded-mutations.ts AEPS_REGISTRATION): this module never canonicalises.
 * Not referenced: the CIBIL access token (a credential: support never holds it) and the AEPS registration references
 * (primaryKeyId, encodeTxnId: issued per registration, no customer quotes them).
 */
export const CUSTOMER_REF_PREFIX = {
  mobile: "m",
  aadhaar: "a",
  pan: "p",
  cibil: "c",
  "aeps-user": "u",
} as const;
export type CustomerRefKind = keyof typeof CUSTOMER_REF_PREFIX;
export const CUSTOMER_REF_KINDS = Object.keys(CUSTOMER_REF_PREFIX) as readonly CustomerRefKind[];

/**
 * Characters kept of the HMAC: 16, four bits each, 64 bits. Enough that two customers practically never share one (with
 * 10^8 customers of one kind in the logs, a given reference matches another customer's with probability 10^8 / 2^64,
 * about 5×10^-12), short enough for the access line (18 bytes per reference with its prefix, 21 with quotes and comma).
 * Not a privacy measure: 2^64 is far more than the 4×10^9 mobiles or 10^12 Aadhaar numbers, so whoever holds
 * HMAC_SECRET can still enumerate a kind's values to one match; without HMAC_SECRET no length reveals anything.
 */
export const CUSTOMER_REF_HEX = 16;

/**
 * The letters a reference writes its 64 bits in, one per four bits (hex digit 0 is `b`, f is `v`): consonants, no
 * vowel (no word is spelt), no `l` (read as `1`), and no digit. Until this version a reference was hex
 * (`m_0fa444d2be09b645`): one in about a thousand held a run of ten or more digits that reads as a mobile or an Aadhaar
 * number (12 digits from 2-9 then a letter: `a_234123412346abcd`), and the log's scrubber masks such a run wherever a
 * line holds it outside the access line's own `refs` (pii/scrub.ts readsAsNumber): in the OpenTelemetry SDK's debug
 * lines, which print the span and its `aopay.customer_refs`, or any text that quotes one, support's grep then missed
 * it. Letters alone hold no number in any form the scrubber reads (digits, PAN shapes, e-mail addresses), so a
 * reference is never altered anywhere, and the scrubber needs no exemption for it: a `refs` key someone else wrote is
 * scrubbed as any other. The same bits as the hex form: legacyOf gives that form, for lines written before (support's
 * `npm run customer-ref` prints both, docs/operations.md "Finding a customer's requests").
 */
export const CUSTOMER_REF_ALPHABET = "bcdfghjkmnpqrstv";

/** Each hex digit's letter (CUSTOMER_REF_ALPHABET), as a character code, by the hex digit's character code. */
const LETTER_OF_HEX = new Uint8Array(128);
for (let i = 0; i < 16; i++) LETTER_OF_HEX["0123456789abcdef".charCodeAt(i)] = CUSTOMER_REF_ALPHABET.charCodeAt(i);

/**
 * A reference's 16 hex digits (lower case) in CUSTOMER_REF_ALPHABET's letters. One String.fromCharCode of the 16
 * codes: a `+=` per letter cost about 1.2k instructions per reference under callgrind (StringAdd, 16 strings made).
 */
export function refLetters(hex: string): string {
  const c = (i: number) => LETTER_OF_HEX[hex.charCodeAt(i) & 0x7f];
  return (
    String.fromCharCode(c(0), c(1), c(2), c(3), c(4), c(5), c(6), c(7)) +
    String.fromCharCode(c(8), c(9), c(10), c(11), c(12), c(13), c(14), c(15))
  );
}

/**
 * The key of the log's references: HKDF-SHA256 over HMAC_SECRET with a label of its own, as the store-sealing key
 * (protection.settings.ts deriveStoreKey). The throttle, idempotency and registered-mobile keys are HMACs under
 * HMAC_SECRET itself: a reference and a store key of the same identifier are HMACs under two independent keys, so
 * neither can be matched against the other (a copy of Redis does not find a log's customer, and a log does not name a
 * Redis key).
 */
export function deriveCustomerRefKey(hmacSecret: Buffer): Buffer {
  return Buffer.from(hkdfSync("sha256", hmacSecret, Buffer.alloc(0), "aopay-gql log customer reference v1", 32));
}

/**
 * Pseudonymous, keyed references to customers for the log (docs/security.md "Customer references in the logs"):
 * `m_` and 16 letters (CUSTOMER_REF_ALPHABET) of HMAC-SHA256(derived key, kind, 0x00, canonical value). Support
 * computes the same with `npm run customer-ref` (scripts/customer-ref.js) and greps for it. The kind is in the HMAC's
 * input too, so the same digits as a mobile and as a CIBIL id make unrelated references.
 */
export class CustomerRefs {
  readonly #hasher: KeyHasher;

  constructor(hmacSecret: Buffer) {
    this.#hasher = new KeyHasher(deriveCustomerRefKey(hmacSecret));
  }

  /** A canonical value's reference: one HMAC (about 0.7 µs, docs/operations.md "Finding a customer's requests"). */
  of(kind: CustomerRefKind, canonical: string): string {
    return `${CUSTOMER_REF_PREFIX[kind]}_${refLetters(this.#hex(kind, canonical))}`;
  }

  /**
   * The reference as lines written before the letters (CUSTOMER_REF_ALPHABET) carry it: the same 64 bits in hex
   * (`m_0fa444d2be09b645`). For support's search of those lines alone; never written.
   */
  legacyOf(kind: CustomerRefKind, canonical: string): string {
    return `${CUSTOMER_REF_PREFIX[kind]}_${this.#hex(kind, canonical)}`;
  }

  /** Adds the reference to `refs` (the access summary's list), once. */
  note(refs: string[], kind: CustomerRefKind, canonical: string): void {
    const ref = this.of(kind, canonical);
    if (!refs.includes(ref)) refs.push(ref);
  }

  #hex(kind: CustomerRefKind, canonical: string): string {
    return this.#hasher.hash(kind, canonical, "hex").slice(0, CUSTOMER_REF_HEX);
  }
}
