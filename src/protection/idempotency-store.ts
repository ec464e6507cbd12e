import { randomUUID } from "node:crypto";
import type Redis from "ioredis";
import { BoundedTable, Capacity, FULL_SWEEP_INTERVAL_MS } from "./bounded-table";
import { isRedisOom, ProtectionStoreError, ProtectionStoreFullError } from "./errors";
import { MOST_IDEMPOTENCY_PENDING_MS } from "./registered-mobiles";
import {
  DEFAULT_IDEMPOTENCY_MAX_RESULT_BYTES,
  DEFAULT_MEMORY_IDEMPOTENCY_MAX_BYTES,
  DEFAULT_MEMORY_IDEMPOTENCY_MAX_KEYS,
  RECORD_OVERHEAD_BYTES,
  recordBytes,
} from "./protection.settings";
import { ClientShareFullError, MemoryStoreFullError } from "./memory-counters";
import { type ScriptCommand, scriptCommand } from "./redis";
import type { StoreSealer } from "./store-sealer";
import { monotonicNow } from "../util/clock";

/**
 * Idempotency records (docs/security-requirements.md E4; Stripe's idempotent requests; IETF draft-ietf-httpapi-idempotency-key-header):
 * the first request with a key takes it (`pending`), runs, and stores its result (`done`) for the key's lifetime.
 * A later request with the same key and the same input replays that result; with other input it is a mismatch;
 * while the first still runs it is a conflict. Records hold an input fingerprint (HMAC) and the result the client saw,
 * sealed (store-sealer.ts: AES-256-GCM, bound to the record key and the fingerprint): a result can carry a token
 * AOPay issued (registerCibilCustomer's accessToken), and nothing secret rests in clear, in Redis or in memory.
 * A result that does not open (wrong key, tampered) is an operator's error line, and its repeat is answered
 * OUTCOME_UNKNOWN: the request that stored it went ahead; nothing is sent again.
 */

/** A result as stored: the union member's type name and its fields (already masked, as sent to the client). */
export interface StoredResult {
  typename: string;
  data: Record<string, unknown>;
}

interface IdempotencyRecord {
  state: "pending" | "done";
  fingerprint: string;
  /** Identifies the request that holds a pending record, so only it can complete or release it. */
  token: string;
  /**
   * Epoch ms after which a pending record's request can no longer be running (longer than any upstream call): its
   * process died or lost the store while its send may have been upstream. Absent in records of older versions.
   */
  pendingUntil?: number;
  /** The StoredResult as JSON, sealed: `s1.<keyId>.<iv>.<tag>.<ciphertext>`. */
  result?: string;
}

export type BeginOutcome =
  | { kind: "acquired"; token: string }
  /**
   * Pending, its pendingUntil not passed: `pendingForMs` is how long it still answers in flight (then `abandoned`),
   * by the store's clock; absent for a record without a pendingUntil (an older version's: in flight until it expires).
   */
  | { kind: "in-flight"; pendingForMs?: number }
  /** Pending past its pendingUntil: the request that took it ended without storing a result (a crash). */
  | { kind: "abandoned" }
  | { kind: "mismatch" }
  /**
   * A record at the key that is not a JSON object, or whose pendingUntil is no finite number, or whose result opens as
   * no JSON object with a type name (a future encoding, bytes not ours): its request went ahead.
   */
  | { kind: "unreadable" }
  /**
   * A `done` record whose sealed result does not open (a key not in STORE_ENCRYPTION_KEYS on this replica, a wrong
   * key under its id, tampered, moved): its request went ahead and ended with a result this replica cannot read.
   * `error` (a ProtectionStoreError) names what failed, never the value.
   */
  | { kind: "unopenable"; error: ProtectionStoreError }
  | { kind: "replay"; result: StoredResult };

export type CompleteOutcome = "stored" | "restored" | "superseded";

/**
 * The same Idempotency-Key and input under another secret than HMAC_SECRET, during a rotation (docs/security.md
 * "Rotating the HMAC secret"): HMAC_SECRET_PREVIOUS's or HMAC_SECRET_NEXT's record key and fingerprint. Read, never
 * written.
 */
export interface OtherKey {
  key: string;
  fingerprint: string;
  /** Called when the record is found under this key (and not under the current one): the rotation's metric. */
  found?: () => void;
}

const NO_OTHERS: readonly OtherKey[] = [];

export interface IdempotencyStore {
  /**
   * Takes the key for `pendingTtlMs` (longer than the request can run), keeping the pending record `ttlMs` (default:
   * `pendingTtlMs`) so that a request that died with it is answered `abandoned` until then rather than taken as new.
   * `token` (default: a new UUID) is the claim's, given by a caller that must be able to release a claim whose
   * answer it never got (a command that timed out here and ran in Redis later). `others` (during a rotation): a
   * record under one of these keys answers as a record under `key` would (judged with its own fingerprint), and the
   * key is taken only when none of them holds one, in the same step (one script in Redis): a replica still on the
   * old secret and one switched to the new take one key between them, never one each.
   */
  begin(
    key: string,
    fingerprint: string,
    pendingTtlMs: number,
    ttlMs?: number,
    token?: string,
    others?: readonly OtherKey[],
    /**
     * Who takes the key (the client id's HMAC): in memory, a client holding its share of the table
     * (MEMORY_IDEMPOTENCY_CLIENT_SHARE_PERCENT) is refused a new key, so that it cannot fill the table for the others.
     * Redis ignores it (maxmemory and the budgets bound it: docs/security.md).
     */
    owner?: string,
  ): Promise<BeginOutcome>;
  /**
   * Stores the result of the request holding the key (`token`). `stored`: over its pending record. `restored`: the
   * record had vanished (a Redis restart or failover that lost it, a flush): written again, so that a repeat of the
   * key replays this result instead of taking the key as new and sending a second OTP. `superseded`: another request
   * holds the key now (this one's record ended and the key was taken again): nothing written.
   */
  complete(
    key: string,
    token: string,
    fingerprint: string,
    result: StoredResult,
    ttlMs: number,
  ): Promise<CompleteOutcome>;
  /** Frees the key again (the first request ended without doing anything that must not be repeated). */
  release(key: string, token: string): Promise<void>;
}

/**
 * A record met by `begin`: the result is opened only for a request with the same input (the AAD has the fingerprint).
 * `furthestMs`: the furthest ahead of `now` a pendingUntil of any replica can be (furthestPending).
 *
 * A field of a form no version writes (bytes not ours, a future encoding) is `unreadable`: only a request with this key
 * takes it, so one went ahead, and its outcome and input cannot be known. Each was answered otherwise before: a
 * fingerprint that is no string as a mismatch (IDEMPOTENCY_KEY_REUSED: "other input", whose repeat under a new key
 * sends again), a result that is no string as a store failure (PROTECTION_UNAVAILABLE: "nothing was sent, try
 * again"), a `done` record without a result, or one pending past its own life, as in flight, told 2 s until it
 * expired (24 h).
 */
function judge(
  sealer: StoreSealer,
  key: string,
  existing: IdempotencyRecord,
  fingerprint: string,
  now: number,
  furthestMs: number,
): Exclude<BeginOutcome, { kind: "acquired" }> {
  if (typeof existing.fingerprint !== "string") return UNREADABLE;
  if (existing.fingerprint !== fingerprint) return { kind: "mismatch" };
  const { result } = existing;
  if (result !== undefined && typeof result !== "string") return UNREADABLE;
  if (existing.state === "done" && !result) return UNREADABLE;
  if (existing.state === "pending" || !result) {
    const { pendingUntil } = existing;
    if (pendingUntil === undefined) return { kind: "in-flight" };
    // Every version writes a finite number, within furthestMs. Another value says nothing of when its request ends: a
    // string was compared as neither passed nor not and its hint was NaN (retryAfterSeconds null), Infinity or a time
    // past the record's end was in flight told 2 s for the record's whole life (24 h).
    if (typeof pendingUntil !== "number" || !Number.isFinite(pendingUntil) || pendingUntil - now > furthestMs)
      return UNREADABLE;
    return now >= pendingUntil ? { kind: "abandoned" } : { kind: "in-flight", pendingForMs: pendingUntil - now };
  }
  let opened: string;
  try {
    opened = sealer.open(result, [key, fingerprint]);
  } catch (error) {
    // The error names what failed (SealError), never the value. Not thrown as a store failure: that answered
    // PROTECTION_UNAVAILABLE ("nothing was sent, try again later") for a key whose request did go ahead, and a client
    // that took it at its word and sent again under a new key sent a second OTP (send-guard.ts #begin).
    return { kind: "unopenable", error: new ProtectionStoreError("idempotency", error) };
  }
  // Opened, so sealed with our key; every version seals a JSON object with its type name. Anything else is a record
  // this version cannot read: parsed inside the catch above, JSON.parse's error (which quotes the text's start)
  // was the error line's cause, and null or a number was replayed (send-guard's `typename` a TypeError).
  let parsed: unknown;
  try {
    parsed = JSON.parse(opened);
  } catch {
    return UNREADABLE;
  }
  if (typeof parsed !== "object" || parsed === null || typeof (parsed as StoredResult).typename !== "string")
    return UNREADABLE;
  return { kind: "replay", result: parsed as StoredResult };
}
const UNREADABLE = Object.freeze({ kind: "unreadable" as const });

/**
 * The furthest ahead a pending record's pendingUntil can be: the longer of the life of a record taken now (`lifeMs`,
 * the longer of its pending time and IDEMPOTENCY_TTL_SECONDS) and the longest pending time any replica gives
 * (MOST_IDEMPOTENCY_PENDING_MS: another replica's settings may allow longer requests than ours), plus our pending time
 * (`pendingTtlMs`, at least 60 s) for a writer's clock ahead of ours (replicas' clocks differ by far less:
 * docs/security.md). Bounded by our life alone, a replica with IDEMPOTENCY_TTL_SECONDS=60 read the record of one with
 * REQUEST_DEADLINE_MS=120000 (pending 360 s) as unreadable while its send was under way.
 */
function furthestPending(lifeMs: number, pendingTtlMs: number): number {
  return Math.max(lifeMs, MOST_IDEMPOTENCY_PENDING_MS) + pendingTtlMs;
}

function sealResult(sealer: StoreSealer, key: string, fingerprint: string, result: StoredResult): string {
  return sealer.seal(JSON.stringify(result), [key, fingerprint]);
}

export interface MemoryStoreOptions {
  maxKeys: number;
  /**
   * The most bytes the records may hold (MEMORY_IDEMPOTENCY_MAX_BYTES; default DEFAULT_MEMORY_IDEMPOTENCY_MAX_BYTES).
   * A pending record sets aside `recordBytes(maxResultBytes)`, the most its result can take once AOPay has answered.
   */
  maxBytes?: number;
  /**
   * The largest result the send guard keeps (IDEMPOTENCY_MAX_RESULT_BYTES; a larger one is kept as UNKEPT_RESULT):
   * what a pending record sets aside. Default DEFAULT_IDEMPOTENCY_MAX_RESULT_BYTES.
   */
  maxResultBytes?: number;
  /**
   * The most records one owner (a client) may hold, at most maxKeys (MEMORY_IDEMPOTENCY_CLIENT_SHARE_PERCENT of it);
   * default maxKeys: no share.
   */
  maxKeysPerOwner?: number;
  /**
   * The most bytes one owner's records may count for (MEMORY_IDEMPOTENCY_CLIENT_SHARE_PERCENT of maxBytes; at least
   * one pending record's room); default maxBytes: no share.
   */
  maxBytesPerOwner?: number;
  now?: () => number;
  /** Called on each request refused because the table is full (the owner logs it, rate-limited). */
  onFull?: () => void;
  /** Called on each request refused because its owner holds maxKeysPerOwner records (logged, rate-limited). */
  onOwnerFull?: () => void;
}

type MemoryRecord = IdempotencyRecord & {
  expiresAt: number;
  owner?: string;
  /** What it counts for in the byte budget: recordBytes of the largest result (pending) or of its own (done). */
  bytes: number;
};

/**
 * One process. At most `maxKeys` records (MEMORY_IDEMPOTENCY_MAX_KEYS): a full table refuses new keys (the request is
 * answered PROTECTION_UNAVAILABLE, nothing is sent) rather than forget a live record, which would let a replay send
 * again. Requests without an Idempotency-Key are not affected.
 *
 * The table is shared by every client, and a record lives its whole TTL (24 h) whatever the request's outcome, so one
 * client sending a new key with every request (AOPay rejecting them, or its budgets refusing them, costs it nothing)
 * filled it, and every other client's keyed requests were then refused for a day. So each owner (client) holds at most
 * `maxKeysPerOwner` records (MEMORY_IDEMPOTENCY_CLIENT_SHARE_PERCENT of the table: half by default, all of it where
 * only one client can be admitted): past it, that client's new keys are refused (PROTECTION_UNAVAILABLE, nothing
 * sent), its held keys still replay, and the rest of the table stays for the others (test/e2e/memory-caps.test.ts).
 *
 * And at most `maxBytes` bytes (MEMORY_IDEMPOTENCY_MAX_BYTES): the count alone let 50,000 records of results near
 * IDEMPOTENCY_MAX_RESULT_BYTES hold about 550 MB. A key is taken only with room for the largest record its request can
 * leave (recordBytes(maxResultBytes)), set aside until its result is stored (then it counts its own size), so that a
 * request whose call may have left always has room for its result: a result that could not be stored would leave the
 * key pending, answered IDEMPOTENCY_IN_FLIGHT then OUTCOME_UNKNOWN (never sent again, but never replayed). Without
 * room, expired records are swept first (at most once per FULL_SWEEP_INTERVAL_MS, as the count's cap); then the new
 * key is refused (MemoryStoreFullError: PROTECTION_UNAVAILABLE, onFull, nothing sent), and no live record, pending or
 * done, is ever evicted: a forgotten key would let its repeat send again. The client's share applies to the bytes too
 * (`maxBytesPerOwner`): counted by records alone, one client's results of a few kB filled the whole byte budget within
 * its half of the records, and every other client's keyed requests were refused for a day.
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  readonly #table: BoundedTable<MemoryRecord>;
  /** The table's cap and each owner's share of it (the records counted per owner: BoundedTable). */
  readonly #capacity: Capacity;
  readonly #now: () => number;
  readonly #onOwnerFull: (() => void) | undefined;
  readonly #onFull: (() => void) | undefined;
  readonly #maxBytes: number;
  /** What a pending record sets aside: recordBytes of the largest result kept. */
  readonly #pendingBytes: number;
  /** The bytes the records count for (each record's `bytes`), kept as they are inserted, replaced and removed. */
  #bytes = 0;
  #lastByteSweep = Number.NEGATIVE_INFINITY;
  /** Bytes per owner (only owners holding some); null without a share. */
  readonly #ownerBytes: Map<string, number> | null;
  readonly #maxBytesPerOwner: number;

  constructor(
    private readonly sealer: StoreSealer,
    options: MemoryStoreOptions = { maxKeys: DEFAULT_MEMORY_IDEMPOTENCY_MAX_KEYS },
  ) {
    // A step of the wall clock must not end or stretch a record (util/clock.ts).
    this.#now = options.now ?? monotonicNow;
    this.#onOwnerFull = options.onOwnerFull;
    this.#onFull = options.onFull;
    this.#maxBytes = options.maxBytes ?? DEFAULT_MEMORY_IDEMPOTENCY_MAX_BYTES;
    this.#pendingBytes = recordBytes(options.maxResultBytes ?? DEFAULT_IDEMPOTENCY_MAX_RESULT_BYTES);
    const bytesPerOwner = Math.min(this.#maxBytes, options.maxBytesPerOwner ?? this.#maxBytes);
    this.#ownerBytes = bytesPerOwner < this.#maxBytes ? new Map() : null;
    this.#maxBytesPerOwner = Math.max(this.#pendingBytes, bytesPerOwner);
    const maxPerOwner = Math.min(options.maxKeys, options.maxKeysPerOwner ?? options.maxKeys);
    this.#capacity = new Capacity(options.maxKeys, this.#now, options.onFull, maxPerOwner);
    // Every record that leaves (expired, released, replaced by its result) gives its bytes back.
    this.#table = new BoundedTable<MemoryRecord>(this.#capacity, undefined, (gone) => this.#count(gone, -1));
  }

  /** Counts a record's bytes in (`sign` 1) or out (-1): the table's and, with a share, its owner's. */
  #count(record: MemoryRecord, sign: 1 | -1): void {
    this.#bytes += sign * record.bytes;
    const owners = this.#ownerBytes;
    if (owners === null || record.owner === undefined) return;
    const left = (owners.get(record.owner) ?? 0) + sign * record.bytes;
    if (left > 0) owners.set(record.owner, left);
    else owners.delete(record.owner);
  }

  /** The bytes `owner`'s records count for (tests; 0 without a share: nothing is counted per owner). */
  bytesOf(owner: string): number {
    return this.#ownerBytes?.get(owner) ?? 0;
  }

  /** Whether `owner` may set aside `needed` more bytes within its share, sweeping expired records once if not. */
  #ownerRoomFor(owner: string, needed: number): boolean {
    const owners = this.#ownerBytes;
    if (owners === null || (owners.get(owner) ?? 0) + needed <= this.#maxBytesPerOwner) return true;
    const now = this.#now();
    if (now - this.#lastByteSweep < FULL_SWEEP_INTERVAL_MS) return false;
    this.#lastByteSweep = now;
    this.#table.sweepAll();
    return (owners.get(owner) ?? 0) + needed <= this.#maxBytesPerOwner;
  }

  /** The bytes the records count for (at most maxBytes; tests and the metrics page). */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * How full the table is, 0 to 1 (aopay_idempotency_memory_fill_ratio): the larger of its records over maxKeys and
   * its bytes over the bytes new keys can use, maxBytes less one pending record's room (a new key needs that much
   * free), so that 1 is where new keys are refused, by either. Expired records not yet swept still count: they are
   * what a full table sweeps first.
   */
  fill(): number {
    const usable = this.#maxBytes - this.#pendingBytes;
    const byBytes = usable > 0 ? this.#bytes / usable : this.#bytes > 0 ? 1 : 0;
    return Math.min(1, Math.max(this.#table.size / this.#capacity.max, byBytes));
  }

  /**
   * Whether `needed` more bytes fit, sweeping expired records once if not (at most once per FULL_SWEEP_INTERVAL_MS:
   * a full table refusing a flood costs one pass a second, not one per request).
   */
  #roomFor(needed: number): boolean {
    if (this.#bytes + needed <= this.#maxBytes) return true;
    const now = this.#now();
    if (now - this.#lastByteSweep < FULL_SWEEP_INTERVAL_MS) return false;
    this.#lastByteSweep = now;
    this.#table.sweepAll();
    return this.#bytes + needed <= this.#maxBytes;
  }

  /** How many records `owner` holds (tests; 0 without a share: nothing is counted). */
  heldBy(owner: string): number {
    return this.#capacity.heldBy(owner);
  }

  async begin(
    key: string,
    fingerprint: string,
    pendingTtlMs: number,
    ttlMs = pendingTtlMs,
    token = randomUUID(),
    others: readonly OtherKey[] = NO_OTHERS,
    owner?: string,
  ): Promise<BeginOutcome> {
    const now = this.#now();
    const existing = this.#table.get(key);
    const lifeMs = Math.max(ttlMs, pendingTtlMs);
    const furthest = furthestPending(lifeMs, pendingTtlMs);
    if (existing) return judge(this.sealer, key, existing, fingerprint, now, furthest);
    // Synchronous up to the insert: no other request runs between the look and the take.
    for (const other of others) {
      const found = this.#table.get(other.key);
      if (found) {
        // Counted as RedisIdempotencyStore counts it (the rotation's metric). The service passes no `others` in memory
        // (protection/index.ts: a process's table dies with its secret), so only a caller of the store's own meets it.
        other.found?.();
        return judge(this.sealer, other.key, found, other.fingerprint, now, furthest);
      }
    }
    // Its share held: refused before anything is inserted (its expired records swept first: Capacity.ownerHasRoom).
    // Without a share (100 %), a client alone filling the table meets the table's cap: MemoryStoreFullError and
    // onFull, the outage it is, not a share refusal (which pages no one). It was the share's before, as the share
    // was counted here at 100 % too (test/unit/protection/owner-share.test.ts).
    if (owner !== undefined && !this.#capacity.ownerHasRoom(owner)) {
      this.#onOwnerFull?.();
      throw new ClientShareFullError("idempotency");
    }
    // Room for the largest result this request can leave, set aside before anything is sent: refused here, the
    // request sends nothing; refused once AOPay had answered, its result could not be kept (see the class comment).
    const bytes = this.#pendingBytes;
    // Its share of the bytes first, as of the records: one client's large results cannot fill the table for all.
    if (owner !== undefined && !this.#ownerRoomFor(owner, bytes)) {
      this.#onOwnerFull?.();
      throw new ClientShareFullError("idempotency");
    }
    if (!this.#roomFor(bytes)) {
      this.#onFull?.();
      throw new MemoryStoreFullError("idempotency");
    }
    const pendingUntil = now + pendingTtlMs;
    const expiresAt = now + lifeMs;
    const record: MemoryRecord = { state: "pending", fingerprint, token, pendingUntil, expiresAt, owner, bytes };
    if (!this.#table.insert(key, record)) throw new MemoryStoreFullError("idempotency");
    this.#count(record, 1);
    return { kind: "acquired", token };
  }

  async complete(
    key: string,
    token: string,
    fingerprint: string,
    result: StoredResult,
    ttlMs: number,
  ): Promise<CompleteOutcome> {
    const existing = this.#table.get(key);
    if (existing !== undefined && existing.token !== token) return "superseded";
    const sealed = sealResult(this.sealer, key, fingerprint, result);
    // The same owner as the pending record it replaces (a vanished one's is unknown here: counted for no one).
    const owner = existing?.owner;
    const record: MemoryRecord = {
      state: "done",
      fingerprint,
      token,
      result: sealed,
      expiresAt: this.#now() + ttlMs,
      owner,
      bytes: RECORD_OVERHEAD_BYTES + sealed.length,
    };
    // Its pending record set aside the most a kept result takes (the guard keeps none larger): it shrinks. Only a
    // larger one (a caller without the guard's bound) or a vanished record's needs room; refused, the pending record
    // stays and a repeat is answered IDEMPOTENCY_IN_FLIGHT, then OUTCOME_UNKNOWN: never sent again.
    if (!this.#roomFor(record.bytes - (existing?.bytes ?? 0))) {
      this.#onFull?.();
      throw new MemoryStoreFullError("idempotency");
    }
    // Over its own record, insert replaces it in place; a vanished one takes a unit of room again, refused when full
    // (the caller tries again, then counts the result as unrecorded).
    // The record it replaces and this one count for the same owner: once (BoundedTable).
    if (!this.#table.insert(key, record)) throw new MemoryStoreFullError("idempotency");
    // The record it replaced gave its bytes back as it left (the table's onLeave).
    this.#count(record, 1);
    return existing === undefined ? "restored" : "stored";
  }

  async release(key: string, token: string): Promise<void> {
    if (this.#table.get(key)?.token === token) this.#table.delete(key);
  }
}

// Complete or release only the record this request holds (its record may have ended and another taken the key).
// Complete answers 1 (stored over its record), 2 (the record had vanished: written again) or 0 (another's: nothing).
// holder(key): the token of the record at `key`, false when there is none, '' when it has none this version reads
// (no JSON object, another Redis type: another version's, or bytes not ours), which is another's record too. Decoded
// as it was (cjson.decode(current).token), such a record failed the script: the store failing, the step tried again
// until the pending time ended, then logged as a result not stored or a key not freed.
const HOLDER_LUA = `
local function holder(key)
  local current = redis.pcall('GET', key)
  if not current then return false end
  if type(current) ~= 'string' then return '' end
  local ok, record = pcall(cjson.decode, current)
  if ok and type(record) == 'table' and type(record.token) == 'string' then return record.token end
  return ''
end`;
const COMPLETE_LUA = `${HOLDER_LUA}
local current = holder(KEYS[1])
if current and current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
if current then return 1 end
return 2`;
const COMPLETE_OUTCOMES: readonly CompleteOutcome[] = ["superseded", "stored", "restored"];
const RELEASE_LUA = `${HOLDER_LUA}
if holder(KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])`;
/**
 * `begin` during a rotation: the record under the current key (KEYS[1]) or, failing that, under the first other key
 * (KEYS[2...]) that has one, with its position ({i, record}); else the pending record ARGV[1] is set under KEYS[1]
 * for ARGV[2] ms ({0}). In one script, so that two replicas under different secrets cannot both find nothing and each
 * take its own key: a GET under the other key and then a SET NX under its own (the version before) left a moment
 * between the two in which the other replica could take its key, and both sent. Ten claims at once over the two
 * secrets take one key (test/integration/redis-stores.test.ts).
 */
const BEGIN_ACROSS_LUA = `
for i = 1, #KEYS do
  local found = redis.call('GET', KEYS[i])
  if found then return {i, found} end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return {0}`;

/**
 * `begin`'s command failed: a key of another type than a string (WRONGTYPE: a hash, a list; bytes not ours, since no
 * version writes one) is a record at the key's place all the same, so a request with this key went ahead: unreadable
 * (OUTCOME_UNKNOWN), as a string that is no JSON object is. Before, the store failing: PROTECTION_UNAVAILABLE, "nothing
 * was sent, try again", to every repeat for as long as the key lived. Any other error is the store failing.
 */
function notAString(error: unknown): { kind: "unreadable" } {
  if (error instanceof Error && error.message.startsWith("WRONGTYPE")) return UNREADABLE;
  throw new ProtectionStoreError("idempotency", error);
}

/** Shared by every replica: SET NX makes "first request takes the key" atomic across processes. */
export class RedisIdempotencyStore implements IdempotencyStore {
  /** The two scripts as commands (EVALSHA; they were sent whole with every call, EVAL). */
  readonly #complete: ScriptCommand<number>;
  readonly #release: ScriptCommand<number>;
  readonly #beginAcrossScript: ScriptCommand<[number, string?]>;

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly sealer: StoreSealer,
  ) {
    this.#complete = scriptCommand(redis, "aopayIdempotencyComplete", COMPLETE_LUA, 1);
    this.#release = scriptCommand(redis, "aopayIdempotencyRelease", RELEASE_LUA, 1);
    // Its number of keys varies (one per secret): given with each call.
    this.#beginAcrossScript = scriptCommand(redis, "aopayIdempotencyBeginAcross", BEGIN_ACROSS_LUA);
  }

  async begin(
    key: string,
    fingerprint: string,
    pendingTtlMs: number,
    ttlMs = pendingTtlMs,
    token = randomUUID(),
    others: readonly OtherKey[] = NO_OTHERS,
  ): Promise<BeginOutcome> {
    const redisKey = this.#key(key);
    // pendingUntil is this replica's clock; replicas' clocks differ by far less than the pending time (60 s or more).
    const pending: IdempotencyRecord = {
      state: "pending",
      fingerprint,
      token,
      pendingUntil: Date.now() + pendingTtlMs,
    };
    const px = Math.max(ttlMs, pendingTtlMs);
    const furthest = furthestPending(px, pendingTtlMs);
    if (others.length > 0) return this.#beginAcross(key, fingerprint, others, pending, px, furthest);
    let current: string | null;
    try {
      // Takes the key, or answers the record that holds it, in one command (SET NX GET, Redis 7.0+): there is no
      // moment between the two. Sent as SET NX, then GET, a key freed or expired in between (another request's
      // release, a pending record ending) made GET answer nothing and the take start again; three times in a row and
      // the request was refused as the store failing ("key kept expiring while being taken": PROTECTION_UNAVAILABLE,
      // an error line, aopay_protection_unavailable_total) with Redis answering every command
      // (test/integration/redis-stores.test.ts).
      current = await this.redis.set(redisKey, JSON.stringify(pending), "PX", px, "NX", "GET");
    } catch (error) {
      // Full (maxmemory reached, noeviction): Redis refuses SET before running it, so its GET never read the record.
      // A read still answers: a record found is judged as ever (a result replayed, a pending one in flight: never
      // sent again), and no record at all means no request under this key was recorded, nothing sent
      // (ProtectionStoreFullError: PROTECTION_UNAVAILABLE). Refused unread, the request was told OUTCOME_UNKNOWN.
      if (!isRedisOom(error)) return notAString(error);
      try {
        current = await this.redis.get(redisKey);
      } catch (again) {
        return notAString(again);
      }
      if (current === null) throw new ProtectionStoreFullError("idempotency", error);
    }
    return current === null ? { kind: "acquired", token } : this.#judged(key, current, fingerprint, furthest);
  }

  async complete(
    key: string,
    token: string,
    fingerprint: string,
    result: StoredResult,
    ttlMs: number,
  ): Promise<CompleteOutcome> {
    const record: IdempotencyRecord = {
      state: "done",
      fingerprint,
      token,
      result: sealResult(this.sealer, key, fingerprint, result),
    };
    let answer: number;
    try {
      answer = await this.#complete(this.#key(key), token, JSON.stringify(record), String(ttlMs));
    } catch (error) {
      throw new ProtectionStoreError("idempotency", error);
    }
    const outcome = COMPLETE_OUTCOMES[answer];
    if (outcome === undefined) throw new ProtectionStoreError("idempotency", new Error("unexpected script answer"));
    return outcome;
  }

  async release(key: string, token: string): Promise<void> {
    try {
      await this.#release(this.#key(key), token);
    } catch (error) {
      throw new ProtectionStoreError("idempotency", error);
    }
  }

  /** `begin` with the keys of other secrets (a rotation): BEGIN_ACROSS_LUA, one round trip. */
  async #beginAcross(
    key: string,
    fingerprint: string,
    others: readonly OtherKey[],
    pending: IdempotencyRecord,
    px: number,
    furthest: number,
  ): Promise<BeginOutcome> {
    let answer: [number, string?];
    try {
      const keys = [this.#key(key), ...others.map((other) => this.#key(other.key))];
      answer = await this.#beginAcrossScript(keys.length, ...keys, JSON.stringify(pending), String(px));
    } catch (error) {
      // A script without flags is refused for want of memory only at its first write (Redis 7: scriptVerifyOOM), here
      // the SET, once every GET found nothing: no record under any key, nothing sent (as `begin`'s, above).
      if (isRedisOom(error)) throw new ProtectionStoreFullError("idempotency", error);
      return notAString(error);
    }
    const [at, current] = answer;
    if (at === 0 || current === undefined) return { kind: "acquired", token: pending.token };
    const found = at === 1 ? { key, fingerprint } : others[at - 2];
    if (at > 1) others[at - 2].found?.();
    return this.#judged(found.key, current, found.fingerprint, furthest);
  }

  /**
   * A record read from Redis (`begin`'s), judged for this request. One that is not a JSON object is `unreadable`, not
   * the store failing: Redis answered, and a record at this key says a request with this key went ahead (answered
   * OUTCOME_UNKNOWN, as a result of a type not known: send-guard.ts). JSON `null` threw a TypeError here.
   */
  #judged(
    key: string,
    current: string,
    fingerprint: string,
    furthestMs: number,
  ): Exclude<BeginOutcome, { kind: "acquired" }> {
    let existing: unknown;
    try {
      existing = JSON.parse(current);
    } catch {
      return { kind: "unreadable" };
    }
    if (typeof existing !== "object" || existing === null || Array.isArray(existing)) return { kind: "unreadable" };
    return judge(this.sealer, key, existing as IdempotencyRecord, fingerprint, Date.now(), furthestMs);
  }

  #key(key: string): string {
    return `${this.keyPrefix}idem:${key}`;
  }
}
