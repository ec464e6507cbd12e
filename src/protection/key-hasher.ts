import { createHmac } from "node:crypto";
import { LRUCache } from "lru-cache";

/**
 * Turns identifiers (mobile, Aadhaar, CIBIL id, IP, client id, idempotency key) into store keys: HMAC-SHA256 under
 * the server's HMAC_SECRET, base64url. A plain hash would not do: there are only about 8×10^10 Aadhaar numbers and
 * 4×10^9 mobiles, so an unsalted SHA-256 is reversed by enumeration (docs/security-requirements.md D2).
 */
export class KeyHasher {
  /** Keys of identifiers that repeat across requests (IPs, client ids): computed once, not per request. */
  readonly #memo = new LRUCache<string, string>({ max: 10_000 });

  constructor(private readonly secret: Buffer) {}

  /**
   * `hash`, remembered: for identifiers that repeat across many requests and are not customer data (IP addresses,
   * API client ids). Customer identifiers (mobile, Aadhaar) go through `hash` and are never kept.
   */
  memoized(dimension: string, identifier: string): string {
    const cacheKey = `${dimension}\u0000${identifier}`;
    let value = this.#memo.get(cacheKey);
    if (value === undefined) {
      value = this.hash(dimension, identifier);
      this.#memo.set(cacheKey, value);
    }
    return value;
  }

  /** `dimension` separates namespaces, so the same digits as a mobile and as a CIBIL id never share a key. */
  hash(dimension: string, identifier: string): string {
    return createHmac("sha256", this.secret).update(dimension).update("\u0000").update(identifier).digest("base64url");
  }
}
