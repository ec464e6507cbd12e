/**
 * Keys of DestinationCounters (memory-counters.ts), kept off the JS heap: a slot-numbered key column in typed arrays
 * and an open-addressing hash index over it, in place of a Map<string, number> and an array of the key strings. Each
 * destination's key was a 43-character string (56 B), a Map entry and an array slot on the heap, kept for a day: the
 * bytes a CIBIL send promoted to the old generation, which every mark-compact walks (docs/performance-runs.md, the run
 * at 9aece09: about 380 B per CIBIL request against a minimal Apollo server's 28). Here a key is 11 numbers in a typed
 * array's backing store, which the collector neither copies nor marks.
 *
 * - The column: a key's characters packed 4 to an Int32 (one byte each, in the machine's byte order: the column and
 *   the lookups pack the same way), MAX_KEY_CHARS at most (11 words per slot),
 *   with its length + 1 in a Uint8Array (0: the slot holds no key). The keys are HMAC-SHA256 digests in base64url
 *   (43 ASCII characters, key-hasher.ts): a longer or non-ASCII key is refused with a RangeError, not truncated (two
 *   keys sharing their first 44 characters would share a destination's budgets) nor hashed again.
 * - The index: an Int32Array of slot + 1 (0: empty), a power of two at least twice the column's slots, so at most half
 *   full and every probe ends at an empty place. Linear probing from the key's hash; a delete shifts the rest of its
 *   probe run back (no tombstones: lookups never walk dead places, and a table that keeps deleting never needs a
 *   rebuild). The hash is MurmurHash3's (x86_32) over the packed words and the length: the keys in production are
 *   HMACs (random to anyone without HMAC_SECRET, so no one can aim keys at one probe run), in tests short strings like
 *   "k1", which a hash of the first word alone would put in a handful of runs.
 * - Growth: the column is in pages (paged.ts): `grow` adds pages up to the caller's slots (a page at a time, never
 *   past its capacity's max) and copies none; the index, 8 B a slot, is rebuilt from the column at twice its size when
 *   the slots would fill it past half (once per doubling of the slots: the one array still replaced whole).
 *
 * Protocol: `find(key)` packs the key into a scratch; when it answers -1 (absent), `insert(slot)` adds that key at a
 * free slot, with any `remove` or `grow` in between (they work from the column, not the scratch) but no other `find`.
 */
import { Buffer } from "node:buffer";
import { growPages, PAGE_MASK, PAGE_SHIFT } from "./paged";

/** The longest key: an HMAC-SHA256 in base64url is 43 characters (key-hasher.ts); 44 is the 11 words' room. */
export const MAX_KEY_CHARS = 44;
const WORDS = MAX_KEY_CHARS / 4;
/** The scratch a key is written to: a non-ASCII key of up to 44 characters writes more bytes than it has characters. */
const PROBE_BYTES = MAX_KEY_CHARS + 4;

/** MurmurHash3 x86_32 of `count` words from `offset`, seeded and finished with the key's length. */
function hashWords(words: Int32Array, offset: number, count: number, length: number): number {
  let h = length;
  for (let i = 0; i < count; i++) {
    let k = Math.imul(words[offset + i], 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * The hash `find` computes for `key` (an ASCII key of at most MAX_KEY_CHARS): a key's home place is `hashKey(key)`
 * modulo the index's size. For tests (which keys share a probe run, how the homes spread); the index packs into its
 * scratch instead.
 */
export function hashKey(key: string): number {
  const words = new Int32Array(PROBE_BYTES / 4);
  Buffer.from(words.buffer).write(key);
  return hashWords(words, 0, (key.length + 3) >> 2, key.length);
}

/** The smallest power of two holding `slots` at most half full (2 at least). */
function indexSize(slots: number): number {
  let size = 2;
  while (size < 2 * slots) size *= 2;
  return size;
}

export class KeyIndex {
  /** WORDS words per slot, in pages (paged.ts): the key's characters, 4 per word, the first in the low byte. */
  readonly #words: Int32Array[] = [];
  /** Each slot's key length + 1, in pages; 0 while the slot holds no key. */
  readonly #lengths: Uint8Array[] = [];
  #slots = 0;
  /** Slot + 1 per place, 0 for an empty place. */
  #index: Int32Array;
  #mask: number;
  #size = 0;
  /** The key of the last `find`, packed; its length and hash; whether `insert` may add it (it was absent). */
  readonly #probe = new Int32Array(PROBE_BYTES / 4);
  /** The same bytes, written by `find`. */
  readonly #bytes = Buffer.from(this.#probe.buffer);
  #probeLength = 0;
  #probeHash = 0;
  #probeAbsent = false;

  constructor(slots: number) {
    this.#addPages(slots);
    this.#index = new Int32Array(indexSize(slots));
    this.#mask = this.#index.length - 1;
  }

  /** Keys held. */
  get size(): number {
    return this.#size;
  }

  /** Slots the column has room for. */
  get slots(): number {
    return this.#slots;
  }

  /** Whether `slot` holds a key. */
  holds(slot: number): boolean {
    return this.#lengths[slot >> PAGE_SHIFT][slot & PAGE_MASK] !== 0;
  }

  /** The slot holding `key`, or -1 (then `insert` may add it). Throws a RangeError for a key it cannot hold. */
  find(key: string): number {
    const length = key.length;
    if (length > MAX_KEY_CHARS) throw new RangeError(`KeyIndex: a key is at most ${MAX_KEY_CHARS} characters`);
    const probe = this.#probe;
    // The bytes past the key in its last word are part of that word: zeroed (the words past it are never read).
    if ((length & 3) !== 0) probe[length >> 2] = 0;
    // One native write (a V8 fast call) instead of a charCodeAt per character: measured under callgrind, 200,000
    // lookups of fresh 43-character HMAC strings among 20,000 keys cost 1,517 instructions each this way and 2,502 with
    // charCodeAt (a Map.get: 878). UTF-8 writes a non-ASCII character as 2 bytes or more, so a key is ASCII iff as many
    // bytes as characters were written (`write` fills at most the scratch's 48 bytes, room for that count to pass 44).
    if (this.#bytes.write(key) !== length) throw new RangeError("KeyIndex: a key is ASCII (an HMAC in base64url)");
    const count = (length + 3) >> 2;
    const hash = hashWords(probe, 0, count, length);
    this.#probeLength = length;
    this.#probeHash = hash;
    const index = this.#index;
    const lengths = this.#lengths;
    const words = this.#words;
    const mask = this.#mask;
    for (let at = hash & mask; ; at = (at + 1) & mask) {
      const entry = index[at];
      if (entry === 0) break;
      const slot = entry - 1;
      if (lengths[slot >> PAGE_SHIFT][slot & PAGE_MASK] !== length + 1) continue;
      const page = words[slot >> PAGE_SHIFT];
      const base = (slot & PAGE_MASK) * WORDS;
      let i = 0;
      while (i < count && page[base + i] === probe[i]) i++;
      if (i === count) {
        this.#probeAbsent = false;
        return slot;
      }
    }
    this.#probeAbsent = true;
    return -1;
  }

  /** Adds the key of the last `find`, which answered -1, at `slot` (free, below `slots`). */
  insert(slot: number): void {
    if (!this.#probeAbsent) throw new Error("KeyIndex.insert: no absent key looked up");
    this.#probeAbsent = false;
    const length = this.#probeLength;
    const page = this.#words[slot >> PAGE_SHIFT];
    const base = (slot & PAGE_MASK) * WORDS;
    for (let i = 0, count = (length + 3) >> 2; i < count; i++) page[base + i] = this.#probe[i];
    this.#lengths[slot >> PAGE_SHIFT][slot & PAGE_MASK] = length + 1;
    this.#place(this.#probeHash, slot);
    this.#size++;
  }

  /** Removes `slot`'s key (it holds one): the probe run after it shifts back over its place. */
  remove(slot: number): void {
    const index = this.#index;
    const mask = this.#mask;
    let hole = this.#hashOf(slot) & mask;
    while (index[hole] !== slot + 1) {
      if (index[hole] === 0) throw new Error("KeyIndex.remove: the slot holds no key");
      hole = (hole + 1) & mask;
    }
    for (let at = (hole + 1) & mask; ; at = (at + 1) & mask) {
      const entry = index[at];
      if (entry === 0) break;
      // An entry may fill the hole only if the hole lies on its probe path: from its home to `at`.
      const home = this.#hashOf(entry - 1) & mask;
      if (((at - home) & mask) >= ((at - hole) & mask)) {
        index[hole] = entry;
        hole = at;
      }
    }
    index[hole] = 0;
    this.#lengths[slot >> PAGE_SHIFT][slot & PAGE_MASK] = 0;
    this.#size--;
  }

  /**
   * Room for `slots` slots (more than now): pages added to the column, none copied (paged.ts); the index rebuilt at
   * twice its size only when the slots would fill it past half.
   */
  grow(slots: number): void {
    this.#addPages(slots);
    const size = indexSize(slots);
    if (size === this.#index.length) return;
    this.#index = new Int32Array(size);
    this.#mask = size - 1;
    for (let slot = 0; slot < slots; slot++) if (this.holds(slot)) this.#place(this.#hashOf(slot), slot);
  }

  #addPages(slots: number): void {
    growPages(this.#words, WORDS, slots, (length) => new Int32Array(length));
    growPages(this.#lengths, 1, slots, (length) => new Uint8Array(length));
    this.#slots = slots;
  }

  #hashOf(slot: number): number {
    const length = this.#lengths[slot >> PAGE_SHIFT][slot & PAGE_MASK] - 1;
    return hashWords(this.#words[slot >> PAGE_SHIFT], (slot & PAGE_MASK) * WORDS, (length + 3) >> 2, length);
  }

  /** Puts `slot` at the first empty place of its probe run. */
  #place(hash: number, slot: number): void {
    const index = this.#index;
    const mask = this.#mask;
    let at = hash & mask;
    while (index[at] !== 0) at = (at + 1) & mask;
    index[at] = slot + 1;
  }
}
