import { createHmac } from "node:crypto";

/**
 * Turns identifiers (mobile, Aadhaar, CIBIL id, IP, client id, idempotency key) into store keys: HMAC-SHA256 under
 * the server's HMAC_SECRET, base64url. A plain hash would not do: there are only about 8×10^10 Aadhaar numbers and
 * 4×10^9 mobiles, so an unsalted SHA-256 is reversed by enumeration (SECURITY.md D2).
 */
export class KeyHasher {
  constructor(private readonly secret: Buffer) {}

  /** `dimension` separates namespaces, so the same digits as a mobile and as a CIBIL id never share a key. */
  hash(dimension: string, identifier: string): string {
    return createHmac("sha256", this.secret).update(dimension).update("\u0000").update(identifier).digest("base64url");
  }
}
