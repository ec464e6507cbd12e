import { Buffer } from "node:buffer";
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { STORE_KEY_BYTES, type StoreKey } from "./protection.settings";

// The keys are configuration (protection.settings.ts parses STORE_ENCRYPTION_KEYS and derives the default key).
export { DERIVED_KEY_ID, deriveStoreKey, STORE_KEY_BYTES, type StoreKey } from "./protection.settings";

/**
 * Seals values before they are stored (Redis or this process's memory): an idempotency record's result can hold what
 * AOPay issued (registerCibilCustomer's `accessToken`) and the masked values a client saw, and the store keeps it for
 * 24 h. Nothing secret may rest in clear (docs/security.md "Stored results are encrypted"; docs/security-requirements.md D2), so every stored result is
 * AES-256-GCM ciphertext (node:crypto; NIST SP 800-38D) under a key from configuration.
 *
 * Format (ASCII, one token): `s1.<keyId>.<iv>.<tag>.<ciphertext>`, the last three base64url; a 96-bit random IV per
 * value (SP 800-38D 8.2.2: random IVs are safe below 2^32 values per key), a 128-bit tag.
 * The additional authenticated data binds a value to where it is stored: key id, record key and request fingerprint.
 * A sealed value copied under another record key, or offered to a request with other input, does not open.
 *
 * Keys: STORE_ENCRYPTION_KEYS = `id:base64key,...` (32-byte keys). The first seals; all of them open. Rotation is
 * "prepend a new key, keep the old one until the records it sealed have expired" (IDEMPOTENCY_TTL_SECONDS, 24 h by
 * default), then drop it (docs/security.md). Without the setting (development, tests, one process in memory) the key is
 * derived from HMAC_SECRET with HKDF-SHA256; production with REDIS_URL refuses to start without it (config.ts), so
 * that a leaked Redis dump plus a leaked HMAC secret are not the same thing.
 */

export const SEALED_PREFIX = "s1";
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** A sealed value did not open: unknown key id, wrong key, tampered or moved (AAD), or not a sealed value at all. */
export class SealError extends Error {
  constructor(reason: string) {
    // The reason names what failed, never the value.
    super(`stored value does not open: ${reason}`);
    this.name = "SealError";
  }
}

/**
 * The parts' text as `seal` writes it: base64url without padding, the IV's 12 bytes in 16 characters, the tag's 16 in
 * 22. Node's decoder reads more: a character after the IV's 16 (still 12 bytes), `=` padding, spaces, base64's `+` and
 * `/`, a NUL are skipped or read alike, so bytes no version writes opened as a record, while docs/operations.md's
 * command (which checks this shape) listed them as refused: an operator deleted a record that worked.
 */
const IV_TEXT = /^[A-Za-z0-9_-]{16}$/;
const TAG_TEXT = /^[A-Za-z0-9_-]{22}$/;
const BODY_TEXT = /^[A-Za-z0-9_-]*$/;
const KEY_ID_TEXT = /^[A-Za-z0-9_-]{1,32}$/;

/** Whether a sealed value's IV, tag and body have the text `seal` writes. */
function wellFormed(ivText: string, tagText: string, bodyText: string): boolean {
  return IV_TEXT.test(ivText) && TAG_TEXT.test(tagText) && BODY_TEXT.test(bodyText);
}

export class StoreSealer {
  readonly #sealing: StoreKey;
  /**
   * Every key by its id. Several under one id only for the key derived from HMAC_SECRET (id `hmac`) during a rotation
   * of HMAC_SECRET (HMAC_SECRET_PREVIOUS): each is tried, the current one first (configured ids are unique).
   */
  readonly #opening: ReadonlyMap<string, readonly Buffer[]>;
  /** `s1.<sealing key id>.`: how a value sealed with the sealing key's id begins. */
  readonly #currentPrefix: string;
  /** Told when a value opens with another key than the sealing one (`counting`); undefined on the shared sealer. */
  readonly #onOlderKey: (() => void) | undefined;

  constructor(keys: readonly StoreKey[], onOlderKey?: () => void) {
    if (keys.length === 0) throw new Error("StoreSealer needs at least one key");
    for (const { id, key } of keys) {
      if (!KEY_ID_TEXT.test(id)) throw new Error("store key ids are 1 to 32 characters of A-Z a-z 0-9 _ -");
      if (key.length !== STORE_KEY_BYTES) throw new Error(`store key ${id} must be ${STORE_KEY_BYTES} bytes`);
    }
    this.#sealing = keys[0];
    const opening = new Map<string, Buffer[]>();
    for (const { id, key } of keys) opening.set(id, [...(opening.get(id) ?? []), key]);
    this.#opening = opening;
    this.#currentPrefix = `${SEALED_PREFIX}.${this.#sealing.id}.`;
    this.#onOlderKey = onOlderKey;
  }

  /**
   * The same keys, telling `onOlderKey` of every value that opens with a key other than the sealing one: a store's
   * count of records still sealed with a key a STORE_ENCRYPTION_KEYS rotation is replacing
   * (aopay_store_older_key_opens_total), which says when the old key may go (docs/security.md "Stored results are
   * encrypted"). One comparison per open more.
   */
  counting(onOlderKey: () => void): StoreSealer {
    const keys: StoreKey[] = [this.#sealing];
    for (const [id, list] of this.#opening)
      for (const key of list) if (key !== this.#sealing.key) keys.push({ id, key });
    return new StoreSealer(keys, onOlderKey);
  }

  /**
   * Whether `sealed` names the sealing key's id (not whether it opens): a record that does not may be sealed again
   * with the current key when read (redis-registered-mobiles.ts), so that the old key is needed by fewer records over
   * time.
   */
  sealedWithCurrentId(sealed: string): boolean {
    return sealed.startsWith(this.#currentPrefix);
  }

  /** The id of the key that seals new values (for logs and tests). */
  get sealingKeyId(): string {
    return this.#sealing.id;
  }

  /** `context`: where the value is stored (record key, fingerprint ...): the same parts must be given to `open`. */
  seal(plaintext: string, context: readonly string[]): string {
    const { id, key } = this.#sealing;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(id, context));
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return [
      SEALED_PREFIX,
      id,
      iv.toString("base64url"),
      cipher.getAuthTag().toString("base64url"),
      body.toString("base64url"),
    ].join(".");
  }

  /**
   * SealError unless `sealed` has the shape `seal` writes, as docs/operations.md's command checks it (key id included,
   * whether configured or not): what `open` refuses before any decryption, without one. For a value read but not
   * opened (registered-mobiles.ts linkedId: a token's link to its own id), so that bytes no version writes are refused
   * there as the command lists them. Not whether its key is configured: such a link works without opening, and an
   * older STORE_ENCRYPTION_KEYS key may go while links it sealed live (test/e2e/key-rotation.test.ts).
   */
  checkShape(sealed: string): void {
    const parts = sealed.split(".");
    if (parts.length !== 5 || parts[0] !== SEALED_PREFIX) throw new SealError("not a sealed value");
    if (!KEY_ID_TEXT.test(parts[1]) || !wellFormed(parts[2], parts[3], parts[4])) throw new SealError("malformed");
  }

  /** The plaintext, or SealError. */
  open(sealed: string, context: readonly string[]): string {
    const parts = sealed.split(".");
    if (parts.length !== 5 || parts[0] !== SEALED_PREFIX) throw new SealError("not a sealed value");
    const [, id, ivText, tagText, bodyText] = parts;
    const keys = this.#opening.get(id);
    if (!keys) throw new SealError("sealed under a key that is not configured");
    if (!wellFormed(ivText, tagText, bodyText)) throw new SealError("malformed");
    const iv = Buffer.from(ivText, "base64url");
    const tag = Buffer.from(tagText, "base64url");
    const body = Buffer.from(bodyText, "base64url");
    for (const key of keys) {
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
        decipher.setAAD(aad(id, context));
        decipher.setAuthTag(tag);
        const plaintext = Buffer.concat([decipher.update(body), decipher.final()]).toString("utf8");
        if (this.#onOlderKey !== undefined && key !== this.#sealing.key) this.#onOlderKey();
        return plaintext;
      } catch {
        // The next key of this id, if any.
      }
    }
    throw new SealError("authentication failed (wrong key, tampered, or stored under another record)");
  }
}

/** Length-prefixed parts, so that ("ab","c") and ("a","bc") differ. */
function aad(keyId: string, context: readonly string[]): Buffer {
  return Buffer.from([keyId, ...context].map((part) => `${part.length}:${part}`).join("|"), "utf8");
}
