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
 * Hex characters kept of the HMAC: 16, 64 bits. Enough that two customers practically never share one (with 10^8
 * customers of one kind in the logs, a given reference matches another customer's with probability 10^8 / 2^64, about
 * 5×10^-12), short enough for the access line (18 bytes per reference with its prefix, 21 with quotes and comma).
 * Hex, not base64url: the log's scrubber masks a run of digits after `_` (pii/scrub.ts), which a base64url value can
 * hold; a hex one is a 16-character token after its prefix, longer than any number the scrubber looks for.
 * Not a privacy measure: 2^64 is far more than the 4×10^9 mobiles or 10^12 Aadhaar numbers, so whoever holds
 * HMAC_SECRET can still enumerate a kind's values to one match; without HMAC_SECRET no length reveals anything.
 */
export const CUSTOMER_REF_HEX = 16;

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
 * `m_` and 16 hex characters of HMAC-SHA256(derived key, kind, 0x00, canonical value). Support computes the same with
 * `npm run customer-ref` (scripts/customer-ref.js) and greps for it. The kind is in the HMAC's input too, so the same
 * digits as a mobile and as a CIBIL id make unrelated references.
 */
export class CustomerRefs {
  readonly #hasher: KeyHasher;

  constructor(hmacSecret: Buffer) {
    this.#hasher = new KeyHasher(deriveCustomerRefKey(hmacSecret));
  }

  /** A canonical value's reference: one HMAC (about 0.7 µs, docs/operations.md "Finding a customer's requests"). */
  of(kind: CustomerRefKind, canonical: string): string {
    return `${CUSTOMER_REF_PREFIX[kind]}_${this.#hasher.hash(kind, canonical, "hex").slice(0, CUSTOMER_REF_HEX)}`;
  }

  /** Adds the reference to `refs` (the access summary's list), once. */
  note(refs: string[], kind: CustomerRefKind, canonical: string): void {
    const ref = this.of(kind, canonical);
    if (!refs.includes(ref)) refs.push(ref);
  }
}
