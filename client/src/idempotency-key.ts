/**
 * A new `Idempotency-Key` for one user action: a random UUID (version 4), in a browser or in Node.
 *
 * `crypto.randomUUID()` exists only in a secure context (https, localhost, 127.0.0.1): a page opened at
 * `http://192.168.1.5:5173`, as when an app is tried on a phone over the LAN, has `crypto.getRandomValues` only, and
 * `crypto.randomUUID()` throws `TypeError: crypto.randomUUID is not a function` before anything is sent. This falls
 * back to getRandomValues there (docs/clients.md "React (Apollo Client 4)").
 */
export function newIdempotencyKey(): string {
  const random = globalThis.crypto;
  if (typeof random.randomUUID === "function") return random.randomUUID();
  const bytes = random.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40; // version 4
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // RFC 9562 variant
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
