import { Buffer } from "node:buffer";
import { hash } from "node:crypto";
import { LRUCache } from "lru-cache";

/** SHA-256's block size (RFC 2104's B): the HMAC key is padded to it. */
const BLOCK = 64;
/** Identifier bytes a dimension's scratch holds; a longer one (a large fingerprint input) gets a buffer of its own. */
const SCRATCH = 512;
/** A UTF-16 code unit is at most 3 UTF-8 bytes (a surrogate pair, 2 units, is 4 bytes). */
const MAX_UTF8_PER_UNIT = 3;
const fillBytes = Uint8Array.prototype.fill;
/** SHA-256's digest: 32 bytes. */
const DIGEST = 32;
/** Dimensions whose scratch is kept (KeyHasher #prefixed): the callers' constants are far fewer. */
const MAX_DIMENSIONS = 64;

/** A dimension's inner-hash scratch: (K ^ ipad), the dimension, 0x00 (`start` bytes), then the identifier's room. */
interface Prefixed {
  readonly bytes: Buffer;
  readonly start: number;
  /**
   * `bytes.subarray(0, n)` by n, made once per length (a few lengths recur), with TypedArray's fill below: a Buffer
   * view per hash and Buffer's fill (its argument checks) cost 1.5k main-thread instructions per AEPS send (two
   * hashes), bench/throttle-micro.js --cg, 2 pairs: 53,454 -> 51,974 and 52,760 -> 51,291.
   */
  readonly views: Buffer[];
}

/**
 * Writes `text` at `at` one byte per character when it is ASCII (UTF-8's bytes for it) and returns where it ends, or
 * -1 at its first other character (the caller then writes it as UTF-8). For the short identifiers hashed per request
 * (digits, an upper-cased user key), a loop costs less than Buffer's `write`, a native call.
 */
function writeAscii(bytes: Buffer, text: string, at: number): number {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) return -1;
    bytes[at + i] = code;
  }
  return at + text.length;
}

/**
 * Turns identifiers (mobile, Aadhaar, CIBIL id, IP, client id, idempotency key) into store keys: HMAC-SHA256 under
 * the server's HMAC_SECRET, base64url. A plain hash would not do: there are only about 8×10^10 Aadhaar numbers and
 * 4×10^9 mobiles, so an unsalted SHA-256 is reversed by enumeration (docs/security-requirements.md D2).
 *
 * The HMAC is computed from its definition (RFC 2104): H((K ^ opad) || H((K ^ ipad) || message)), with both padded
 * keys made once, as two one-shot `crypto.hash` calls. createHmac builds an Hmac object (a stream, a native context,
 * the key schedule) per call, and an AEPS send needs three (mobile, Aadhaar, mobile prefix): measured under callgrind
 * (main thread, after warm-up), the three cost 82k instructions with createHmac and 55k this way. The output is byte
 * for byte createHmac's (test/unit/protection/key-hasher.test.ts), so keys written by earlier versions still match.
 */
export class KeyHasher {
  /**
   * Keys of identifiers that repeat across requests (IPs, client ids, mobile prefixes): computed once, not per
   * request. Looked up by the identifier alone, the entry naming its dimension: a lookup by a string of both
   * (`${dimension}\u0000${identifier}`) built and hashed that string on every call, most of the lookup's cost (node 24,
   * 2M calls of each of 3 dimensions with fresh identifier strings, a timing loop of memoized(): 119-135 ns per call that
   * way, 32-38 ns this way). The bound is the same 10,000 entries; full, the table holds 2.10 MB (15-character
   * identifiers) to 2.47 MB (45) of heap after GC, against 2.01 to 2.39 MB before (heap used after global.gc(), --expose-gc).
   */
  readonly #memo = new LRUCache<string, { dimension: string; key: string }>({ max: 10_000 });
  /** (K ^ ipad): the inner hash's first block, copied into each dimension's scratch (#prefixed). */
  readonly #ipad = Buffer.alloc(BLOCK);
  /** (K ^ opad), then the inner digest: the outer hash's input. */
  readonly #outer = Buffer.alloc(BLOCK + DIGEST);
  /**
   * Per dimension, the inner hash's input with (K ^ ipad), the dimension and its 0x00 written once: a hash writes only
   * the identifier after them (its bytes zeroed after each use: they held an identifier). The dimensions are the
   * callers' constant strings (a handful); past MAX_DIMENSIONS one is made for the call and not kept. Writing the
   * dimension per call, each string through Buffer's `write` (a native call), and the inner digest back the same way,
   * cost 645 main-thread instructions more per HMAC (bench/hash-micro.js --cg, 20,000 HMACs: 17,157 -> 16,512).
   */
  readonly #prefixed = new Map<string, Prefixed>();

  constructor(secret: Buffer) {
    // RFC 2104: a key longer than the block is hashed first; a shorter one is padded with zeros.
    const key = secret.length > BLOCK ? hash("sha256", secret, "buffer") : secret;
    for (let i = 0; i < BLOCK; i++) {
      const byte = i < key.length ? key[i] : 0;
      this.#ipad[i] = byte ^ 0x36;
      this.#outer[i] = byte ^ 0x5c;
    }
  }

  /**
   * `hash`, remembered: for identifiers that repeat across many requests and are not customer data (IP addresses,
   * API client ids, 6-digit mobile-number prefixes: a prefix spans 10,000 numbers, an operator series, and names no
   * customer). Customer identifiers (a whole mobile, Aadhaar, CIBIL id) go through `hash` and are never kept. The
   * table is bounded (LRU, 10,000 entries) and lives in this process only: nothing here is logged or stored.
   */
  memoized(dimension: string, identifier: string): string {
    let entry = this.#memo.get(identifier);
    // Another dimension's entry for the same characters (a client id "987654" and a prefix 987654) is not this key:
    // computed, and it takes the place (the dimensions are the callers' constant strings: === finds the same one).
    if (entry === undefined || entry.dimension !== dimension) {
      entry = { dimension, key: this.hash(dimension, identifier) };
      this.#memo.set(identifier, entry);
    }
    return entry.key;
  }

  /**
   * HMAC-SHA256(secret, UTF-8 of dimension, 0x00, UTF-8 of identifier), base64url. `dimension` separates namespaces,
   * so the same digits as a mobile and as a CIBIL id never share a key. `encoding`: base64url (store keys) or hex (the
   * log's customer references, customer-refs.ts).
   */
  hash(dimension: string, identifier: string, encoding: "base64url" | "hex" = "base64url"): string {
    let innerDigest: string;
    if (identifier.length * MAX_UTF8_PER_UNIT <= SCRATCH) {
      const prefixed = this.#prefixed.get(dimension) ?? this.#prefix(dimension);
      const { bytes, start } = prefixed;
      let end = writeAscii(bytes, identifier, start);
      // Not ASCII: UTF-8 from the start again (it rewrites the characters the loop wrote, as the same bytes).
      if (end < 0) end = start + bytes.write(identifier, start, "utf8");
      // "binary" (latin1): one character per byte, copied back below as the same bytes (a Buffer output costs more than
      // a string).
      innerDigest = hash("sha256", (prefixed.views[end] ??= bytes.subarray(0, end)), "binary");
      fillBytes.call(bytes, 0, start, end);
    } else {
      const message = Buffer.from(`${dimension}\u0000${identifier}`, "utf8");
      innerDigest = hash("sha256", Buffer.concat([this.#ipad, message]), "binary");
    }
    const outer = this.#outer;
    for (let i = 0; i < DIGEST; i++) outer[BLOCK + i] = innerDigest.charCodeAt(i);
    return hash("sha256", outer, encoding);
  }

  /** A dimension's scratch (#prefixed), kept when there is room. */
  #prefix(dimension: string): Prefixed {
    const head = Buffer.from(`${dimension}\u0000`, "utf8");
    const bytes = Buffer.alloc(BLOCK + head.length + SCRATCH);
    bytes.set(this.#ipad, 0);
    bytes.set(head, BLOCK);
    const prefixed: Prefixed = { bytes, start: BLOCK + head.length, views: [] };
    if (this.#prefixed.size < MAX_DIMENSIONS) this.#prefixed.set(dimension, prefixed);
    return prefixed;
  }
}
