import type Redis from "ioredis";
import { ForeignRecordError, ProtectionRefusal, ProtectionStoreError } from "./errors";
import type { KeyHasher } from "./key-hasher";
import type { SecretRole } from "./observer";
import {
  DEFAULT_CIBIL_REGISTERED_MOBILE_TTL_SECONDS,
  MAX_CIBIL_REGISTERED_MOBILE_TTL_SECONDS,
} from "./protection.settings";
import {
  COUNT_AT,
  COUNT_BOUND,
  FOREIGN_TYPE,
  INCR_OR,
  MARK_SEND,
  READ_RECORDS,
  RECORD_AT,
  REPLACE_SET,
  RESCORE_AHEAD,
  type ScriptCommand,
  scriptCommand,
  UNREADABLE_MARKS,
} from "./redis";
import {
  FirstRegistrationPendingError,
  linkedId,
  LONGEST_SEND_MARK_TTL_MS,
  MAX_MOBILES_PER_ID,
  merged,
  openMobiles,
  panLinkKey,
  recordKey,
  REGISTERED_MOBILE_DIMENSION,
  type RegisteredMobileStore,
  RegisteredMobilesBusyError,
  type RegisteredPan,
  registeredPan,
  RegistrationRaceError,
  refusalWaitMs,
  rotationKeys,
  sealMobiles,
  SEND_MARK_TTL_MS,
  type SendingEntry,
  SendingKeys,
  type StoreSendMark,
  STORE,
  successorKey,
  tokenLinkKey,
  tokenLinkValue,
  withMobile,
} from "./registered-mobiles";
import type { StoreSealer } from "./store-sealer";
import type { TakeProbe } from "./redis-budgets";

const NO_KEYS: readonly string[] = [];

/** A PAN's link HMACs under the secrets a store reads (RedisRegisteredMobileStore #panLinks). */
interface PanLinks {
  readonly current: string;
  /** Under the store's i-th previous or coming secret, computed at its first call. */
  other(i: number): string;
  /** Under its i-th retired secret (HMAC_SECRET_RETIRED), read once. */
  retired(i: number): string;
}

/** A record as READ_RECORDS and the scripts' recordAt answer it: its value, none, or FOREIGN_TYPE. */
type ReadRecord = string | null | false | typeof FOREIGN_TYPE;

/**
 * The value of a record read with recordAt (null: none). A key of another type (FOREIGN_TYPE) is refused as a record
 * that does not open is: ProtectionStoreError (PROTECTION_UNAVAILABLE, nothing sent) with ForeignRecordError naming
 * the kind of key; read as none, the send went out with the id's mobiles unbudgeted.
 */
function recordOf(value: ReadRecord | undefined, kind: ForeignRecordError["kind"]): string | null {
  if (value === FOREIGN_TYPE) throw new ProtectionStoreError(STORE, new ForeignRecordError(kind));
  // Not `value || null`: an empty string is a record that does not open, not none (read so by a send before).
  return value === false || value === undefined ? null : value;
}

function openMobile(sealer: StoreSealer, key: string, sealed: string): string {
  try {
    return sealer.open(sealed, [REGISTERED_MOBILE_DIMENSION, key]);
  } catch (error) {
    // SealError names what failed, never the value.
    throw new ProtectionStoreError(STORE, error);
  }
}

/**
 * A PAN's link (`regpan:`) as every version writes it: a record key, an HMAC-SHA256 in base64url (KeyHasher.hash, 43
 * characters). Any other value, or a key of another Redis type (bytes not ours), is refused as a record that does not
 * open (ForeignRecordError): read as no link, as it was, the registration was a first one, with no MOBILE_LIMIT_REACHED
 * nor OTP_SEND_IN_PROGRESS for the id it names. Followed as a link, text planted there skipped the first
 * registration's hold and put the mobile in a record under a key of the planted text's choosing
 * (test/unit/protection/registered-mobiles.test.ts).
 */
export const LINK_FORMAT = /^[A-Za-z0-9_-]{43}$/;
/**
 * LINK_FORMAT in Lua, of `link` (a string); exported for the test that holds the two to the same answers
 * (test/integration/lua-ts-rules.test.ts).
 */
export const LINK_LUA = "#link == 43 and not string.find(link, '[^%w_-]')";

/**
 * Adds a sealed list under KEYS[1] only if it still holds what it was read as (ARGV[1], '' for absent): a
 * compare-and-set, so that two registrations of one CIBIL id at once (two replicas) never lose each other's mobile.
 * ARGV[2] '' keeps the value and restarts its TTL only: a registration whose mobile is already the latest changes
 * nothing, and a new sealing of the same list (a fresh IV) would make every other writer's compare fail for nothing.
 * Read with recordAt, as #add, `recall` and a send read it: a key of another type (bytes not ours, planted since #add
 * read) is not what was read, and left as it is (the next attempt's read refuses it: ForeignRecordError).
 */
const REPLACE_IF_UNCHANGED = `${RECORD_AT}
local current = recordAt(KEYS[1])
if current == 0 or (current or '') ~= ARGV[1] then return 0 end
if ARGV[2] == '' then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 1`;

/**
 * A send under way: ARGV[2] (its entry's member) in the sorted set KEYS[1], scored with the time it stops counting,
 * ARGV[1] ms from now (Redis's clock), the members already past theirs dropped, the key living as long as its latest
 * member; then the id's two records, read with recordAt as `recall` reads them: a key of another type (bytes not
 * ours) is FOREIGN_TYPE, which `sending` refuses, ending its mark (`sent`). Read with GET, it failed the script
 * (WRONGTYPE) after the mark was made and the count raised, which stayed; with MGET it was none, and the send went
 * out with the id's mobiles unbudgeted. Also one more
 * in KEYS[4], the versions before's count (`regsend:`, read by their replicas during a rolling update), its TTL set
 * only when it has none: a send never prolongs it.
 *
 * ARGV[3] (LONGEST_SEND_MARK_TTL_MS): no replica scores a member, or times the count, further ahead than that; one
 * that is (bytes not ours, Redis's clock stepped back) is brought back to it, so that the key's expiry, which follows
 * its latest member, and the count's end within it. Before, a member ten years ahead stretched the key to ten years.
 *
 * Why not that count alone: one TTL for every send, restarted by each, kept a count that a send left behind (its
 * replica killed mid-send, a `sent` that timed out) alive for as long as anyone sent to the id once per TTL, a
 * generateCibilOtp the throttle refuses included (it costs nothing and sends nothing): that PAN's registrations were
 * refused OTP_SEND_IN_PROGRESS for good (test/unit/protection/registered-mobiles.test.ts). Each member here ends on its
 * own.
 */
const SENDING = `${REPLACE_SET}${UNREADABLE_MARKS}${RESCORE_AHEAD}${INCR_OR}${RECORD_AT}${MARK_SEND}
return markSend(KEYS, ARGV)`;
/**
 * SENDING, with the send's token link KEYS[5] read in the same round trip (a third element): a send that names the
 * token its id was registered with (the common case) or one no registration here answered costs no command more.
 * The same script (markSend reads KEYS[5] when there is one), under a name of its own.
 */
const SENDING_WITH_TOKEN = SENDING;

/**
 * Whether a send to the id is under way, and how long a mark left to expire still counts: {under way (1 or 0), ms
 * left}. A member of KEYS[1] still counting (Redis's clock) is a send under way, unless its entry lingers (LINGER: a
 * copy of it named with a '!' after it), when it counts until its score, which the copy has (SENDING keeps them
 * equal). A member with less than half its TTL ARGV[1] left counts as left to expire too: its latest send started more
 * than half the TTL ago, and no request runs that long (the TTL is at least three times the longest: sendMarkTtlMs), so
 * its process died or its `sent` failed, and it ends only at its score (told 2 s, a client was refused until then).
 * A count in KEYS[2] (`regsend:`, the versions before's, which this one keeps too) is a send under way, unless no
 * member counts as under way and its PTTL is under half the TTL: the versions before restarted its TTL with each send
 * (to SEND_MARK_TTL_MS), this one never prolongs it and marks each of its sends in KEYS[1], so no send still running
 * holds it, and it counts until it expires (told 2 s, a registration was refused until then: the count left by a
 * replica of the version before that died mid-send). With a TTL longer than the versions before's (deadlines over
 * 40 s), a send of theirs still running counts that way too: a wait at most its TTL, for a refusal that ends sooner.
 * Only a count as INCR writes one counts (redis.ts countAt): `1.5` or `1e3` (bytes not ours) is none, as SENT's DECR
 * and SENDING's INCR read it; `tonumber` read them as a send under way.
 *
 * A member scored, or a count timed, further ahead than any replica writes (ARGV[2], LONGEST_SEND_MARK_TTL_MS; a count
 * with no TTL, which none leaves) was written by no send of ours as it reads: bytes not ours, or Redis's clock stepped
 * back. It is brought back to that, and counts as left to expire: refused with the time it has left (at most 6
 * minutes), and let through after it. Read as written, a member ten years ahead (or a count with no TTL) was a send
 * under way for as long as it lived: that PAN's registrations refused for ten years, told 2 s each time.
 */
const UNDER_WAY = `${REPLACE_SET}${UNREADABLE_MARKS}${COUNT_AT}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local furthest = tonumber(ARGV[2])
local live = redis.pcall('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf', 'WITHSCORES')
if live.err then
  unreadableMarks(KEYS[1], now, furthest)
  live = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf', 'WITHSCORES')
end
local lingering, left, underWay = {}, 0, 0
local half = tonumber(ARGV[1]) / 2
for i = 1, #live, 2 do
  local l = tonumber(live[i + 1]) - now
  local beyond = l > furthest
  if beyond then
    redis.call('ZADD', KEYS[1], now + furthest, live[i])
    l = furthest
  end
  if string.sub(live[i], -1) == '!' then
    lingering[string.sub(live[i], 1, -2)] = true
    left = math.max(left, l)
  elseif beyond or l < half then
    lingering[live[i]] = true
    left = math.max(left, l)
  end
end
for i = 1, #live, 2 do
  if string.sub(live[i], -1) ~= '!' and not lingering[live[i]] then underWay = 1 end
end
if countAt(KEYS[2]) then
  local counted = redis.call('PTTL', KEYS[2])
  local beyond = counted < 0 or counted > furthest
  if beyond then
    redis.call('PEXPIRE', KEYS[2], furthest)
    counted = furthest
  end
  if underWay == 0 and (beyond or counted < half) then left = math.max(left, counted) else underWay = 1 end
end
return {underWay, left}`;

/**
 * A send whose outcome is unknown (`sent` with mayStillApply): its entry's member ARGV[1] in KEYS[1], left to expire,
 * is copied as ARGV[1] .. '!' with its score, so that UNDER_WAY tells it from a send under way and says how long it
 * still counts. A member gone already (expired): nothing; marks that are no sorted set (bytes not ours, planted since
 * SENDING) likewise, as UNDER_WAY reads them as one send left to expire (UNREADABLE_MARKS) already. Read with ZSCORE
 * by call, it failed WRONGTYPE (swallowed: the mark not lingering).
 */
const LINGER = `
local score = redis.pcall('ZSCORE', KEYS[1], ARGV[1])
if type(score) == 'string' then redis.call('ZADD', KEYS[1], score, ARGV[1] .. '!') end
return 0`;

/**
 * A record read only under previous secrets, copied under the current key KEYS[1] (ARGV[1], sealed for it) unless a
 * record is there already (a registration got there first: it merged them), living as long as the longest-lived of
 * the records it was made from (KEYS[2...]: their PTTL): the copy ends when the original would have. None of them
 * alive (or without a TTL, which this store never writes): nothing is copied. Answers 1 when copied. A TTL longer than
 * any replica gives a record (ARGV[2]: CIBIL_REGISTERED_MOBILE_TTL_SECONDS at its most, 5 years; bytes not ours, or
 * Redis's clock stepped back) is copied as that: the copy never outlives what any version could have written. A
 * current key of another type (bytes not ours, planted since the read: a send and `recall` refuse it,
 * ForeignRecordError) is left as it is, for them to refuse. Only a source that holds a string (MGET: what opened as a
 * record) lends its TTL: a source key of another type is no record the copy is made from (a send refuses it before
 * any copy; planted since, it lends nothing). Its PTTL counted,
 * a hash planted with ten years to live at an old record's legacy key (`regmobile:`) made the copy of a one-minute
 * record live 5 years (test/integration/redis-stores.test.ts).
 */
const MIGRATE = `${RECORD_AT}
if recordAt(KEYS[1]) then return 0 end
local ttl = 0
for i = 2, #KEYS do
  if redis.call('MGET', KEYS[i])[1] then
    local left = redis.call('PTTL', KEYS[i])
    if left > ttl then ttl = left end
  end
end
if ttl <= 0 then return 0 end
ttl = math.min(ttl, tonumber(ARGV[2]))
redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
return 1`;

/**
 * A record sealed with an older STORE_ENCRYPTION_KEYS key, sealed again with the current one (ARGV[2]) if KEYS[1] still
 * holds what was read (ARGV[1]), its TTL kept: the old key is then needed by one record fewer. Answers 1 when done.
 * Read with MGET, as the send read it: a key of another type than a string (bytes not ours, planted since the read)
 * is not what was read, and left as it is; with GET the script failed WRONGTYPE.
 */
const RESEAL = `
if redis.call('MGET', KEYS[1])[1] ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1`;

/**
 * One send fewer under way: its entry's member ARGV[1] leaves KEYS[1] when it was the entry's last send (ARGV[2] '1');
 * the versions before's count KEYS[2] goes down by one, the key gone at zero (never below); a count that is not one
 * (text, a fraction, another type: DECR fails; one INCR_OR and COUNT_AT read as none, COUNT_BOUND) is gone too.
 * Lowered by one instead, 999999999999999 (none to SENDING and UNDER_WAY, planted since SENDING) became a count that
 * UNDER_WAY read as a send under way: the PAN's registrations refused while it lived. Marks KEYS[1] that are no sorted
 * set (bytes not ours, planted since SENDING) have no member of this send's to remove: ZREM by pcall, so that the count
 * still goes down. By call, ZREM failed WRONGTYPE first, and the count stayed: the PAN's registrations refused
 * OTP_SEND_IN_PROGRESS until it expired.
 */
function ended(marks: string, count: string, member: string, last: string): string {
  return `
if ${last} == '1' then redis.pcall('ZREM', ${marks}, ${member}) end
local left = redis.pcall('DECR', ${count})
if type(left) ~= 'number' or left <= 0 or left + 2 >= ${COUNT_BOUND} then
  redis.call('DEL', ${count})
  left = 0
end
return left`;
}
const SENT = ended("KEYS[1]", "KEYS[2]", "ARGV[1]", "ARGV[2]");

/**
 * A failed take's mark ended as SENT ends one (KEYS[2..3], ARGV[2..3] as SENT's KEYS and ARGV), only if the take made
 * it: its member ARGV[1] is in the sorted set KEYS[1] (redis-budgets.ts TAKE_AND_MARK writes it there exactly when
 * every budget allowed the send, and so marked). A take that never ran, or was refused, made no mark: nothing (-1),
 * so that no `regsend:` count it never raised is lowered (an older version's send's, during a rolling update).
 */
const ABANDONED = `
if type(redis.pcall('ZSCORE', KEYS[1], ARGV[1])) ~= 'string' then return -1 end
${ended("KEYS[2]", "KEYS[3]", "ARGV[2]", "ARGV[3]")}`;

/**
 * A PAN's first registration here (no link under KEYS[1] yet): held under KEYS[2] for ARGV[1] (its token) for ARGV[2]
 * ms, unless another token holds it. Answers {2, link} when the PAN is linked by now (its first registration answered
 * meanwhile: the caller goes on as for a linked PAN), {0, ''} when held, {1, '', ms} when another holds it: the hold's
 * PTTL when it lingers (LINGER_FIRST: its token with a '!' after it, or less than half of ARGV[2] left: its
 * registration's process died, as UNDER_WAY tells), -1 while its registration runs. One script, so that a link written
 * and a hold dropped (in that order, by the first registration) are seen together: a hold found free was dropped after
 * its link was written, which this then reads. A hold timed further ahead than any replica holds (ARGV[3],
 * LONGEST_SEND_MARK_TTL_MS), or with no TTL (none writes it), is brought back to that and lingers: before, it refused
 * the PAN's registrations told 2 s for as long as it lived (for good without a TTL). A link is only a record key as
 * `remember` writes one (LINK_LUA); any other string, or another type: {3, ''}, refused as #link refuses it
 * (ForeignRecordError).
 * During a rotation of HMAC_SECRET, KEYS[3..] are the PAN's link and hold under each other secret the store reads
 * (previous, coming), in pairs: a link there is followed as one under KEYS[1] (the record it names is that secret's),
 * and a hold there refuses as one under KEYS[2] would, whatever token it holds (heldBy: no registration holds there).
 * The hold is still taken under KEYS[2] alone, and nothing else is written under another secret; but a hold there of
 * another type, with no TTL or timed too far ahead (bytes not ours) is brought back to ARGV[3] and lingers, as one
 * under KEYS[2] is: left as it was, it refused the PAN's first registration for as long as it lived, for good without a
 * TTL, until the rotation setting went. Held under its own secret only, as before, a replica not yet switched and a
 * switched one each took a hold of its own for one PAN, and both registrations reached AOPay at once
 * (test/integration/rotation-promises.test.ts); and a link the other replica wrote after #registering read the links
 * was not seen here.
 */
const HOLD_FIRST = `${RECORD_AT}
for i = 1, #KEYS, 2 do
  local link = recordAt(KEYS[i])
  if link == 0 then return {3, ''} end
  if link then
    if ${LINK_LUA} then return {2, link} end
    return {3, ''}
  end
end
local function heldBy(key, own)
  local held = redis.pcall('GET', key)
  if type(held) == 'table' then
    redis.call('SET', key, '!', 'PX', ARGV[3])
    return {1, '', tonumber(ARGV[3])}
  end
  if not held or held == own then return nil end
  local left = redis.call('PTTL', key)
  if left < 0 or left > tonumber(ARGV[3]) then
    redis.call('PEXPIRE', key, ARGV[3])
    return {1, '', tonumber(ARGV[3])}
  end
  if string.sub(held, -1) == '!' or left < tonumber(ARGV[2]) / 2 then return {1, '', left} end
  return {1, '', -1}
end
for i = 4, #KEYS, 2 do
  local other = heldBy(KEYS[i], false)
  if other then return other end
end
local held = heldBy(KEYS[2], ARGV[1])
if held then return held end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return {0, ''}`;

/**
 * Drops the hold KEYS[1] if ARGV[1] (the registration's token) holds it, lingering (LINGER_FIRST) or not. Read with
 * MGET: a hold of another type than a string (bytes not ours, planted since HOLD_FIRST) is not this token's, and is
 * left for HOLD_FIRST to read as a lingering hold; with GET the script failed WRONGTYPE.
 */
const RELEASE_FIRST = `
local held = redis.call('MGET', KEYS[1])[1]
if held == ARGV[1] or held == ARGV[1] .. '!' then redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * The hold KEYS[1] of ARGV[1] (the registration's token), whose outcome is unknown, left to expire: its token gets a
 * '!' after it, its TTL kept, so that HOLD_FIRST answers the hold's time left (a random UUID never ends with one).
 * Read with MGET, as RELEASE_FIRST: a hold of another type is not this token's, and HOLD_FIRST reads it as lingering.
 */
const LINGER_FIRST = `
if redis.call('MGET', KEYS[1])[1] == ARGV[1] then redis.call('SET', KEYS[1], ARGV[1] .. '!', 'KEEPTTL') end
return 0`;

/**
 * Attempts of the compare-and-set. Each one lost is another registration of the same CIBIL id that succeeded (the
 * store answered both), so losing them all is contention, never the store failing. Before the call (`registering`):
 * then the registration is refused, REGISTRATION_IN_PROGRESS (RegisteredMobilesBusyError), nothing sent. After it
 * (`remember`): the call has happened and its mobile must be kept, so it keeps trying longer; if it still loses, the
 * guard logs and counts the mobile as unrecorded (send-guard.ts #remember). Between attempts a random wait of up to
 * CAS_BACKOFF_MS doubled per attempt (capped at CAS_BACKOFF_MAX_MS), so that the losers do not collide again at once.
 * Was 5 attempts without a wait, then PROTECTION_UNAVAILABLE: 11 of 20 parallel registrations of one PAN over its four
 * mobiles (test/e2e/contention.test.ts). Measured with this wait, 20 such at once (about 350 registrations): 3 needed
 * 8 attempts, none more; 12 leaves a margin, for a wait of about 0.4 s (at most 0.8 s) before the refusal.
 */
export const CAS_ATTEMPTS_BEFORE_CALL = 12;
export const CAS_ATTEMPTS_AFTER_CALL = 30;
const CAS_BACKOFF_MS = 4;
const CAS_BACKOFF_MAX_MS = 100;

/**
 * A send's mark carried into its budgets' take (RedisRegisteredMobileStore.sendMark): begun by the take, which made it
 * (its reads kept) or not (refused: nothing written; failed: ended in Redis if the take made it, ABANDONED; either
 * way the send to the id has ended in this process), then taken up once by `sending` for the same id and token.
 */
class RedisSendMark implements StoreSendMark {
  #state: "new" | "begun" | "made" | "claimed" | "gone" = "new";
  /** Set by `begin`: the send's entry (SendingKeys.started), and the token's link key under the current secret. */
  entry?: SendingEntry;
  link?: string;
  reads?: ReadRecord[];

  constructor(
    readonly cibilId: string,
    readonly token: string | undefined,
    private readonly start: (mark: RedisSendMark) => { keys: readonly string[]; args: readonly string[] },
    /** The send to the id ended in this process; `ran` (a failed take's): ended in Redis if the take made it. */
    private readonly end: (ran?: TakeProbe) => void,
  ) {}

  begin(): { keys: readonly string[]; args: readonly string[] } {
    if (this.#state !== "new") throw new Error("a send mark is carried by one take");
    this.#state = "begun";
    return this.start(this);
  }

  taken(reads: readonly unknown[] | undefined, ran?: TakeProbe): void {
    if (this.#state !== "begun") return;
    if (reads === undefined) {
      this.#state = "gone";
      this.end(ran);
      return;
    }
    this.reads = reads as ReadRecord[];
    this.#state = "made";
  }

  get unclaimed(): boolean {
    return this.#state === "made";
  }

  /** This mark, once, when the take made it for this id and token; else undefined (`sending` marks itself). */
  claim(cibilId: string, token: string | undefined): RedisSendMark | undefined {
    if (this.#state !== "made" || cibilId !== this.cibilId || token !== this.token) return undefined;
    this.#state = "claimed";
    return this;
  }
}

/**
 * Shared by every replica: `<REDIS_KEY_PREFIX>regmobiles:<HMAC of the CIBIL id>` → the id's mobiles, sealed as one
 * list, with a TTL; `<REDIS_KEY_PREFIX>regpan:<HMAC of the PAN>` → that HMAC. Records of earlier versions
 * (`regmobile:<HMAC>`, one sealed mobile) are still read until they expire, never written.
 */
export class RedisRegisteredMobileStore implements RegisteredMobileStore {
  readonly #replace: ScriptCommand<number>;
  readonly #sentScript: ScriptCommand<number>;
  readonly #abandonedScript: ScriptCommand<number>;
  readonly #sendingScript: ScriptCommand<ReadRecord[]>;
  readonly #sendingTokenScript: ScriptCommand<ReadRecord[]>;
  readonly #underWayScript: ScriptCommand<[number, number]>;
  readonly #lingerScript: ScriptCommand<number>;
  readonly #lingerFirstScript: ScriptCommand<number>;
  readonly #migrateScript: ScriptCommand<number>;
  readonly #resealScript: ScriptCommand<number>;
  readonly #holdFirstScript: ScriptCommand<[number, string, number?]>;
  readonly #releaseFirstScript: ScriptCommand<number>;
  readonly #readRecords: ScriptCommand<ReadRecord[]>;
  readonly #keys: SendingKeys;
  /**
   * The furthest ahead a mark, hold or count of any replica ends (LONGEST_SEND_MARK_TTL_MS, or this store's own mark
   * TTL when longer: a test's); the scripts bring one found further ahead back to it.
   */
  readonly #furthestMarkMs: number;
  /**
   * HMAC_SECRET_PREVIOUS's hashers, then HMAC_SECRET_NEXT's: every record, PAN link and send mark is read under
   * them.
   */
  readonly #others: readonly KeyHasher[];
  /** HMAC_SECRET_RETIRED's hashers: records and PAN links are read under them, never written (`registering`). */
  readonly #retired: readonly KeyHasher[];

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly hasher: KeyHasher,
    private readonly sealer: StoreSealer,
    private readonly ttlMs: number = DEFAULT_CIBIL_REGISTERED_MOBILE_TTL_SECONDS * 1000,
    /**
     * HMAC_SECRET_PREVIOUS (docs/security.md "Rotating the HMAC secret"): records, PAN links and send marks under these
     * are read too (a send marks under them as well, so that a registration found through an old PAN link sees it);
     * a record is written under the current secret, with the previous records' mobiles, when next written, and a
     * record found by a send only under these is copied under the current key with its remaining TTL (MIGRATE), so
     * that the setting can go once the short-lived stores no longer need it, long before this store's TTL.
     */
    private readonly previousHashers: readonly KeyHasher[] = [],
    /**
     * HMAC_SECRET_NEXT: read and marked as the previous ones, so that a replica not yet switched sees what a switched
     * one wrote; never copied to (the current secret here is the one being replaced).
     */
    nextHashers: readonly KeyHasher[] = [],
    /**
     * HMAC_SECRET_RETIRED, after HMAC_SECRET_PREVIOUS: the CIBIL ids' records and the PANs' links under these are read,
     * and nothing is written under them: a record is copied under the current key as the previous ones' are, and a
     * registration found through an old link adds its mobile under the old record's successor key (current secret),
     * which sends read and mark. All three empty: nothing more is hashed or read.
     */
    retiredHashers: readonly KeyHasher[] = [],
    /**
     * Told, for each record a send or `recall` finds under another secret and not under the current one (so copies, if
     * it may), which setting that secret is from (aopay_rotation_older_secret_reads_total{store="registered_mobile"}).
     */
    private readonly olderRead?: (secret: SecretRole) => void,
    /**
     * How long a send's mark lives if its `sent` never runs, and a first registration's hold (sendMarkTtlMs;
     * SEND_MARK_TTL_MS; tests shorten it).
     */
    private readonly sendMarkTtlMs: number = SEND_MARK_TTL_MS,
  ) {
    this.#replace = scriptCommand(redis, "aopayRegisteredMobilesReplace", REPLACE_IF_UNCHANGED, 1);
    this.#sentScript = scriptCommand(redis, "aopayRegisteredMobilesSendEnded", SENT, 2);
    this.#abandonedScript = scriptCommand(redis, "aopayRegisteredMobilesSendAbandoned", ABANDONED, 3);
    this.#sendingScript = scriptCommand(redis, "aopayRegisteredMobilesSendMarked", SENDING, 4);
    this.#sendingTokenScript = scriptCommand(redis, "aopayRegisteredMobilesSendMarkedToken", SENDING_WITH_TOKEN, 5);
    this.#underWayScript = scriptCommand(redis, "aopayRegisteredMobilesSendUnderWay", UNDER_WAY, 2);
    this.#lingerScript = scriptCommand(redis, "aopayRegisteredMobilesSendLingers", LINGER, 1);
    this.#lingerFirstScript = scriptCommand(redis, "aopayRegisteredMobilesFirstLingers", LINGER_FIRST, 1);
    this.#migrateScript = scriptCommand(redis, "aopayRegisteredMobilesMigrate", MIGRATE);
    this.#resealScript = scriptCommand(redis, "aopayRegisteredMobilesReseal", RESEAL, 1);
    // Its number of keys varies (a link and a hold per secret read): given with each call.
    this.#holdFirstScript = scriptCommand(redis, "aopayRegisteredMobilesHoldFirst", HOLD_FIRST);
    this.#releaseFirstScript = scriptCommand(redis, "aopayRegisteredMobilesReleaseFirst", RELEASE_FIRST, 1);
    // Its number of keys varies: given with each call.
    this.#readRecords = scriptCommand(redis, "aopayRegisteredMobilesRead", READ_RECORDS);
    this.#others = nextHashers.length === 0 ? previousHashers : [...previousHashers, ...nextHashers];
    this.#retired = retiredHashers;
    this.#keys = new SendingKeys(hasher, this.#others, this.#retired);
    this.#furthestMarkMs = Math.max(LONGEST_SEND_MARK_TTL_MS, sendMarkTtlMs);
  }

  /** The Redis key of a CIBIL id's record (for tests). */
  redisKey(cibilId: string): string {
    return this.#redisKey(recordKey(this.hasher, cibilId));
  }

  /** The key a record of an earlier version (one mobile) has (for tests). */
  legacyRedisKey(cibilId: string): string {
    return this.#legacyKey(recordKey(this.hasher, cibilId));
  }

  /** `<REDIS_KEY_PREFIX>regmobile:<record key>`: an earlier version's record (one mobile), read until it expires. */
  #legacyKey(key: string): string {
    return `${this.keyPrefix}regmobile:${key}`;
  }

  /** `<REDIS_KEY_PREFIX>regmobiles:<record key>`: the one place the record's Redis key is spelled. */
  #redisKey(key: string): string {
    return `${this.keyPrefix}regmobiles:${key}`;
  }

  /**
   * A PAN's link, read with recordAt: none, or a record key (LINK_FORMAT); another type or any other string (bytes not
   * ours) is refused (ForeignRecordError), as HOLD_FIRST refuses it. Read with MGET, as it was, it was no link: the
   * registration a first one, with no MOBILE_LIMIT_REACHED nor OTP_SEND_IN_PROGRESS for the id the PAN is linked to.
   */
  async #link(panKey: string): Promise<string | null> {
    return this.#linkOf((await this.#read([panKey]))[0]);
  }

  /** A PAN's link as READ_RECORDS read it: #link's rule. */
  #linkOf(value: ReadRecord | undefined): string | null {
    const link = recordOf(value, "regpan:");
    if (link !== null && !LINK_FORMAT.test(link))
      throw new ProtectionStoreError(STORE, new ForeignRecordError("regpan:"));
    return link;
  }

  /**
   * During a rotation (previous or coming secrets): the PAN's links under the current secret and each other one, read
   * together (one round trip, as the current link's alone without a rotation). Answers the record the registration's
   * mobile joins, the newest secret's that links the PAN (the coming secret's on a replica not yet switched, then the
   * current one's, then the previous ones'), and the other records found, the id's too: #add counts their mobiles
   * with it. The newest, so that the mobile is where the record outlives the rotation: joining the old record when a
   * switched replica had linked the PAN under the new secret, the mobile was missing from the new record (read alone
   * after the rotation's last step), and each replica counted MAX_MOBILES_PER_ID on its own record only: a fifth
   * mobile let through (test/integration/rotation-promises.test.ts). Before, the links were read one secret at a time,
   * the first found followed.
   */
  async #rotationLinks(links: PanLinks): Promise<[string | null, string[]]> {
    const count = this.#others.length;
    const keys = [links.current];
    for (let h = 0; h < count; h++) keys.push(links.other(h));
    const found = (await this.#read(keys.map((l) => this.#panKey(l)))).map((v) => this.#linkOf(v));
    // found[0] the current secret's, found[1 + h] this.#others[h]'s: the previous secrets', then the coming one's.
    const nextFrom = 1 + this.previousHashers.length;
    const newestFirst = [...found.slice(nextFrom), found[0], ...found.slice(1, nextFrom)];
    const records = [...new Set(newestFirst.filter((k): k is string => k !== null))];
    return [records[0] ?? null, records.slice(1)];
  }

  /** READ_RECORDS: the records at `keys`, as MGET answers them but FOREIGN_TYPE for a key of another type. */
  #read(keys: readonly string[]): Promise<ReadRecord[]> {
    return this.#readRecords(keys.length, ...keys);
  }

  /** `<REDIS_KEY_PREFIX>regpan:<link>`: a PAN's link, `link` its HMAC under one secret (panLinkKey). */
  #panKey(link: string): string {
    return `${this.keyPrefix}regpan:${link}`;
  }

  /**
   * The PAN's link HMAC under each secret this store reads, each computed once per call and only when asked for
   * (`current`, then `other(i)` for this.#others[i], `retired(i)` for this.#retired[i]): a registration asks for one
   * secret's link up to three times (the link read, the first registration's hold and its link in HOLD_FIRST), and
   * each was an HMAC of its own (test/e2e/hmac-once-per-request.test.ts, during a rotation: 9 for 3).
   */
  #panLinks(pan: string | RegisteredPan): PanLinks {
    const text = typeof pan === "string" ? pan : pan.pan;
    const others: string[] = [];
    const current = panLinkKey(this.hasher, pan);
    return {
      current,
      other: (i) => (others[i] ??= panLinkKey(this.#others[i], text)),
      retired: (i) => panLinkKey(this.#retired[i], text),
    };
  }

  pan(pan: string): RegisteredPan {
    return registeredPan(this.hasher, pan);
  }

  async ready(): Promise<void> {
    // A registration is rare (once per customer): one round trip proves Redis takes a write before AOPay creates the
    // customer, so an outage refuses the registration instead of creating a CIBIL id whose mobile is unknown. A write,
    // not a PING: a Redis at maxmemory (noeviction) answers PING but refuses every write (OOM), and a registration
    // proven by PING reached AOPay and then failed to keep its mobile (test/e2e/redis-operations.test.ts). The key
    // holds nothing and lasts a second.
    try {
      await this.redis.set(`${this.keyPrefix}regready`, "1", "PX", 1_000);
    } catch (error) {
      throw new ProtectionStoreError(STORE, error);
    }
  }

  /** Nothing set aside in Redis: `ready` proves a write is taken, and a full Redis refuses the write itself. */
  released(): void {}

  /**
   * `<REDIS_KEY_PREFIX>regfirst:<HMAC of the PAN>`: the hold of a PAN whose first registration here is under way, under
   * the current secret (or `other`'s: read only, by HOLD_FIRST).
   */
  #firstKey(link: string): string {
    return `${this.keyPrefix}regfirst:${link}`;
  }

  async firstEnded(pan: string | RegisteredPan, first: string, mayStillApply: boolean): Promise<void> {
    try {
      // Its outcome unknown: left to expire, marked so (the next registration is told the hold's time left).
      const hold = this.#firstKey(panLinkKey(this.hasher, pan));
      if (mayStillApply) await this.#lingerFirstScript(hold, first);
      else await this.#releaseFirstScript(hold, first);
    } catch {
      // Left to expire (the store's sendMarkTtlMs): the PAN's next registration is refused, retryable, meanwhile.
    }
  }

  async registering(pan: string | RegisteredPan, mobile: string, first?: string): Promise<void> {
    let key: string | null;
    // The id's records under the other secrets (links found besides `key`'s, a retired one's), counted with `key`'s.
    let alsoRecords: readonly string[] = NO_KEYS;
    const links = this.#panLinks(pan);
    try {
      // A PAN linked under a previous secret (or, on a replica not yet switched, under the coming one): its link names
      // the id's record under that secret, which this registration's mobile may join (the CIBIL id, needed for the
      // current key, is known only from AOPay's answer; `remember` then writes the record under the current secret).
      // A send reads and marks that record too. Without a rotation: the current link, as ever (one round trip).
      if (this.#others.length === 0) key = await this.#link(this.#panKey(links.current));
      else [key, alsoRecords] = await this.#rotationLinks(links);
      // A PAN linked under a retired secret only (HMAC_SECRET_RETIRED: registered before the switch, not since): its
      // link is followed as the record it names is read, but nothing is written under that secret. The mobile joins
      // the old record's successor key instead (under the current secret, starting from the old record's mobiles, so
      // that MAX_MOBILES_PER_ID counts them), which every send to the id reads and marks; `remember` merges it. Not
      // followed, such a registration was handled as a first one: no MOBILE_LIMIT_REACHED, no OTP_SEND_IN_PROGRESS, and
      // its mobile known only if AOPay answered.
      for (let h = 0; key === null && h < this.#retired.length; h++) {
        const old = await this.#link(this.#panKey(links.retired(h)));
        if (old !== null) [key, alsoRecords] = [successorKey(this.hasher, old), [old]];
      }
      if (key === null && first !== undefined) {
        // Linked nowhere: its first registration here. Held, or refused while another holds it; linked meanwhile,
        // it goes on as a linked PAN.
        const keys = [this.#panKey(links.current), this.#firstKey(links.current)];
        for (let h = 0; h < this.#others.length; h++) {
          const link = links.other(h);
          keys.push(this.#panKey(link), this.#firstKey(link));
        }
        const [state, link, lingeringMs = -1] = await this.#holdFirstScript(
          keys.length,
          ...keys,
          first,
          this.sendMarkTtlMs,
          this.#furthestMarkMs,
        );
        if (state === 1) throw new FirstRegistrationPendingError(lingeringMs > 0 ? lingeringMs : undefined);
        if (state === 3) throw new ProtectionStoreError(STORE, new ForeignRecordError("regpan:"));
        if (state === 2) key = link;
      }
    } catch (error) {
      if (error instanceof FirstRegistrationPendingError || error instanceof ProtectionStoreError) throw error;
      throw new ProtectionStoreError(STORE, error);
    }
    if (key === null) return;
    await this.#add(key, mobile, true, alsoRecords);
    let underWay: number;
    let lingering: number;
    try {
      [underWay, lingering] = await this.#underWayScript(
        this.#marksKey(key),
        this.#sendKey(key),
        this.sendMarkTtlMs,
        this.#furthestMarkMs,
      );
    } catch (error) {
      throw new ProtectionStoreError(STORE, error);
    }
    // Refused with the time the refusal still holds (refusalWaitMs), as the memory store.
    if (underWay === 1 || lingering > 0) throw new RegistrationRaceError(refusalWaitMs(lingering, underWay === 1));
  }

  /**
   * The send's mark for its budgets' take (RegisteredMobileStore.sendMark): MARK_SEND's keys under the current secret
   * (the token's link read too), begun by the take (the send to the id starts then: SendingKeys), taken up by
   * `sending`. A rotation's other secrets are marked by `sending`, each by a script of its own, as before.
   */
  sendMark(cibilId: string, token?: string): StoreSendMark {
    return new RedisSendMark(
      cibilId,
      token,
      (mark) => {
        const entry = (mark.entry = this.#keys.started(cibilId));
        const key = entry.key;
        const keys = [this.#marksKey(key), this.#redisKey(key), this.#legacyKey(key), this.#sendKey(key)];
        if (token !== undefined) keys.push(this.#tokenKey((mark.link = tokenLinkKey(this.hasher, token))));
        return { keys, args: [String(this.sendMarkTtlMs), entry.member, String(this.#furthestMarkMs)] };
      },
      (ran) => {
        const entry = this.#keys.ended(cibilId);
        if (ran !== undefined) void this.#abandoned(entry, ran);
      },
    );
  }

  /**
   * A failed take's mark (its send refused, never sent), ended if the take made it: ABANDONED. Before, it was left to
   * expire: the PAN's registrations refused OTP_SEND_IN_PROGRESS for the mark's TTL (2 minutes) after a take timed
   * out. Best effort, as `sent`: a failure leaves it to expire.
   */
  async #abandoned(entry: SendingEntry, ran: TakeProbe): Promise<void> {
    const last = entry.sends === 0 && entry.lingers !== true ? "1" : "0";
    try {
      await this.#abandonedScript(
        ran.key,
        this.#marksKey(entry.key),
        this.#sendKey(entry.key),
        ran.member,
        entry.member,
        last,
      );
    } catch {
      // Left to expire (sendMarkTtlMs after the take).
    }
  }

  /**
   * Marks and reads in a round trip of its own, unless the send's budgets' take did both in its script (`mark`, made
   * by `sendMark` for this id and token: TAKE_AND_MARK), when its answer is taken up here: a CIBIL send's third round
   * trip saved (docs/performance.md). Both ways the mark and the records' reads are one script, made only once every
   * budget allowed the send.
   */
  async sending(cibilId: string, token?: string, marked?: string[], mark?: StoreSendMark): Promise<readonly string[]> {
    const taken = mark instanceof RedisSendMark ? mark.claim(cibilId, token) : undefined;
    const { key, others, retired, member } = taken?.entry ?? this.#keys.started(cibilId);
    // The token's link under the current secret (read by the mark's script), and under the others during a rotation.
    const link = token === undefined ? undefined : (taken?.link ?? tokenLinkKey(this.hasher, token));
    const otherLinks = token === undefined ? NO_KEYS : this.#otherTokenLinks(token);
    let sealed: ReadRecord[];
    let older: ReadRecord[][] = [];
    let retiredSealed: ReadRecord[] = [];
    let otherLinked: ReadRecord[] = [];
    try {
      // One round trip, as `recall` alone took before the mark (one more per other secret, in parallel, one MGET for
      // the retired secrets' records, and one for the token's links under the other secrets).
      const markAt = (k: string, tokenLink?: string) => {
        const keys = [this.#marksKey(k), this.#redisKey(k), this.#legacyKey(k), this.#sendKey(k)];
        return tokenLink === undefined
          ? this.#sendingScript(...keys, this.sendMarkTtlMs, member, this.#furthestMarkMs)
          : this.#sendingTokenScript(
              ...keys,
              this.#tokenKey(tokenLink),
              this.sendMarkTtlMs,
              member,
              this.#furthestMarkMs,
            );
      };
      if (others.length === 0 && retired.length === 0) sealed = taken?.reads ?? (await markAt(key, link));
      else {
        let marks: ReadRecord[][];
        [marks, retiredSealed, otherLinked] = await Promise.all([
          Promise.all([taken?.reads ?? markAt(key, link), ...others.map((k) => markAt(k))]),
          this.#records(retired),
          otherLinks.length === 0 ? [] : this.#read(otherLinks.map((l) => this.#tokenKey(l))),
        ]);
        [sealed, ...older] = marks;
      }
    } catch (error) {
      // Whether the mark was made is not known: left to expire (sendMarkTtlMs), as a failed `sent` leaves it.
      this.#keys.ended(cibilId);
      throw new ProtectionStoreError(STORE, error);
    }
    let mobiles: string[];
    let linked: string | undefined;
    try {
      const [list, legacy] = [recordOf(sealed[0], "regmobiles:"), recordOf(sealed[1], "regmobile:")];
      mobiles = this.#opened(key, list, legacy);
      if (list !== null) await this.#resealIfOlder(key, list, legacy !== null ? mobiles.slice(1) : mobiles);
      if (link !== undefined)
        linked = await this.#tokenLinked(
          cibilId,
          key,
          link,
          recordOf(sealed[2], "regtoken:"),
          otherLinks,
          otherLinked.map((v) => recordOf(v, "regtoken:")),
        );
      if (others.length > 0 || retired.length > 0) {
        const olderMobiles = others.map((k, i) => this.#openedRead(k, older[i][0], older[i][1]));
        for (let i = 0; i < retired.length; i++)
          olderMobiles.push(this.#openedRead(retired[i], retiredSealed[2 * i], retiredSealed[2 * i + 1]));
        if (mobiles.length === 0) {
          this.#countOlder(olderMobiles);
          await this.#migrate(key, [...others, ...retired], olderMobiles);
        }
        mobiles = merged(olderMobiles, mobiles);
      }
      // The token's own id: marked and recalled as this one (its records under every secret), its mobiles budgeted.
      if (linked !== undefined) mobiles = merged([mobiles], await this.sending(linked));
    } catch (error) {
      // Refused (a record or link that does not open, the token's id failing): not under way.
      await this.sent(cibilId);
      throw error;
    }
    if (linked !== undefined) marked?.push(linked);
    return mobiles;
  }

  /**
   * The CIBIL id the send's token is linked to, when another than `cibilId` (undefined otherwise, or when none): the
   * current secret's link (`value`, `link` its key) first, else the first found under the other secrets (`otherLinks`,
   * `otherValues`, in #otherTokenLinks's order). Throws ProtectionStoreError on a link that does not open.
   */
  async #tokenLinked(
    cibilId: string,
    key: string,
    link: string,
    value: string | null,
    otherLinks: readonly string[],
    otherValues: ReadonlyArray<string | null>,
  ): Promise<string | undefined> {
    if (value !== null) {
      const linked = linkedId(this.sealer, link, value, { key, id: cibilId });
      if (!value.startsWith(`${key}/`)) await this.#resealLinkIfOlder(link, value, linked ?? cibilId);
      return linked;
    }
    for (let i = 0; i < otherLinks.length; i++) {
      const found = otherValues[i];
      if (found == null) continue;
      // Under another secret the record key is that secret's: compared by id (opened; during a rotation only).
      const linked = linkedId(this.sealer, otherLinks[i], found, { id: cibilId });
      await this.#resealLinkIfOlder(otherLinks[i], found, linked ?? cibilId);
      return linked;
    }
    return undefined;
  }

  /**
   * A token's link that was opened (its id `cibilId`) with an older STORE_ENCRYPTION_KEYS key, sealed again with the
   * current one (RESEAL: only if it still holds `value`, its TTL kept), as #resealIfOlder does a record: the old key is
   * then needed by one link fewer, and aopay_store_older_key_opens_total counts it once. Not sealed again, a token sent
   * with another id than its own was counted at each such send, and refused (ProtectionUnavailable) once the key went,
   * for the link's 90 days. A link to the send's own id is not opened, and needs no key (StoreSealer.checkShape).
   * Best effort: a failure leaves the link as it was, still readable.
   */
  async #resealLinkIfOlder(link: string, value: string, cibilId: string): Promise<void> {
    const slash = value.indexOf("/");
    if (this.sealer.sealedWithCurrentId(value.slice(slash + 1))) return;
    const recordKeyPart = value.slice(0, slash);
    try {
      await this.#resealScript(this.#tokenKey(link), value, tokenLinkValue(this.sealer, link, recordKeyPart, cibilId));
    } catch {
      // Read with the older key meanwhile; the next such send seals it again.
    }
  }

  /**
   * The token's link keys under HMAC_SECRET_PREVIOUS, HMAC_SECRET_NEXT and HMAC_SECRET_RETIRED (a link is never
   * written under a retired secret, only read there until it expires). None without a rotation, and no HMAC.
   */
  #otherTokenLinks(token: string): readonly string[] {
    if (this.#others.length === 0 && this.#retired.length === 0) return NO_KEYS;
    return [...this.#others, ...this.#retired].map((h) => tokenLinkKey(h, token));
  }

  /** `<REDIS_KEY_PREFIX>regtoken:<HMAC of the token>`: the token's link (tokenLinkValue). */
  #tokenKey(link: string): string {
    return `${this.keyPrefix}regtoken:${link}`;
  }

  async sent(cibilId: string, mayStillApply = false): Promise<void> {
    const entry = this.#keys.ended(cibilId);
    const { key, others, member, sends } = entry;
    // Its outcome unknown: the mark is left to expire, as a failed `sent` leaves it, and so is the entry's member when
    // its other sends end (RegisteredMobileStore.sent).
    if (mayStillApply) {
      entry.lingers = true;
      try {
        for (const k of [key, ...others]) await this.#lingerScript(this.#marksKey(k), member);
      } catch {
        // Left to expire all the same; a registration meanwhile is refused, told the short wait only.
      }
      return;
    }
    const last = sends === 0 && entry.lingers !== true ? "1" : "0";
    try {
      await this.#sentScript(this.#marksKey(key), this.#sendKey(key), member, last);
      for (const k of others) await this.#sentScript(this.#marksKey(k), this.#sendKey(k), member, last);
    } catch {
      // Left to expire (sendMarkTtlMs after its latest send started): until then, registrations of that id's PAN
      // are refused, never let through.
    }
  }

  /**
   * `<REDIS_KEY_PREFIX>regsends:<record key>`: the sends to the id under way, one member per process and id (its
   * SendingEntry's), each scored with the time it stops counting (SENDING).
   */
  #marksKey(key: string): string {
    return `${this.keyPrefix}regsends:${key}`;
  }

  /**
   * `<REDIS_KEY_PREFIX>regsend:<record key>`: how many sends to the id are under way, as the versions before counted
   * them; still kept (never prolonged by a send: SENDING) and read, for a rolling update from them.
   */
  #sendKey(key: string): string {
    return `${this.keyPrefix}regsend:${key}`;
  }

  async remember(
    cibilId: string,
    mobile: string,
    pan: string | RegisteredPan,
    _owner?: string,
    token?: string,
  ): Promise<void> {
    const key = recordKey(this.hasher, cibilId);
    const others = this.#readKeys(cibilId);
    await this.#add(key, mobile, false, others);
    // On a replica not yet switched: the id's record that a switched one wrote under the coming secret (a registration
    // there, or a send's copy) gets the mobile too, with this record's: only if there (nothing else is written under
    // that secret). Read alone after the rotation's last step, it lacked the mobiles registered here meanwhile: the
    // id's sends no longer budgeted on them, MAX_MOBILES_PER_ID counted without them.
    for (let i = this.previousHashers.length; i < this.#others.length; i++)
      await this.#add(others[i], mobile, false, [key], true);
    try {
      await this.redis.set(this.#panKey(panLinkKey(this.hasher, pan)), key, "PX", this.ttlMs);
      if (token === undefined) return;
      // Under the current secret only, as the PAN's link: a send reads it under every secret of a rotation.
      const link = tokenLinkKey(this.hasher, token);
      await this.redis.set(this.#tokenKey(link), tokenLinkValue(this.sealer, link, key, cibilId), "PX", this.ttlMs);
    } catch (error) {
      throw new ProtectionStoreError(STORE, error);
    }
  }

  async recall(cibilId: string): Promise<readonly string[]> {
    const key = recordKey(this.hasher, cibilId);
    let read: ReadRecord[];
    try {
      read = await this.#read([this.#redisKey(key), this.#legacyKey(key)]);
    } catch (error) {
      throw new ProtectionStoreError(STORE, error);
    }
    const sealed = [recordOf(read[0], "regmobiles:"), recordOf(read[1], "regmobile:")];
    const mobiles = this.#opened(key, sealed[0], sealed[1]);
    if (sealed[0] !== null) await this.#resealIfOlder(key, sealed[0], sealed[1] !== null ? mobiles.slice(1) : mobiles);
    const others = this.#readKeys(cibilId);
    if (others.length === 0) return mobiles;
    const olderMobiles = await this.#previousMobiles(others);
    if (mobiles.length === 0) {
      this.#countOlder(olderMobiles);
      await this.#migrate(key, others, olderMobiles);
    }
    return merged(olderMobiles, mobiles);
  }

  /** Every key a record of the id is read under besides the current one, as rotationKeys orders them. */
  #readKeys(cibilId: string): readonly string[] {
    const { others, retired } = rotationKeys(this.hasher, this.#others, this.#retired, cibilId);
    return retired.length === 0 ? others : [...others, ...retired];
  }

  /** The records (list and legacy, two entries per key) under `keys`, in one MGET; none to read, no command. */
  async #records(keys: readonly string[]): Promise<ReadRecord[]> {
    if (keys.length === 0) return [];
    return this.#read(keys.flatMap((k) => [this.#redisKey(k), this.#legacyKey(k)]));
  }

  /**
   * Migrate-on-read: a record found only under previous or retired secrets (none under `key`, the current secret's) is
   * copied under `key`, its mobiles sealed for it, with the remaining TTL of the records it came from (MIGRATE). Once
   * every CIBIL id a send reads has its record under the current secret, HMAC_SECRET_PREVIOUS can go long before this
   * store's TTL, and HMAC_SECRET_RETIRED reads the rest meanwhile (docs/security.md "Rotating the HMAC secret").
   * `read` and `found` as rotationKeys orders them: the previous secrets' keys, the coming one's (never copied from),
   * the retired ones' successor keys, the retired ones'. Best effort: a failure leaves the record where it was, read
   * there until the next send copies it; the send itself has its mobiles already.
   */
  async #migrate(key: string, read: readonly string[], found: readonly (readonly string[])[]): Promise<void> {
    // The coming secret's keys, between the previous ones' and the rest, are read only.
    const [nextFrom, nextTo] = [this.previousHashers.length, this.#others.length];
    const copied = (_: unknown, i: number) => i < nextFrom || i >= nextTo;
    const sources = read.filter(copied);
    const mobiles = merged(found.filter(copied), []);
    if (mobiles.length === 0) return;
    try {
      const keys = [this.#redisKey(key), ...sources.flatMap((k) => [this.#redisKey(k), this.#legacyKey(k)])];
      await this.#migrateScript(
        keys.length,
        ...keys,
        sealMobiles(this.sealer, key, mobiles.slice(-MAX_MOBILES_PER_ID)),
        Math.max(this.ttlMs, MAX_CIBIL_REGISTERED_MOBILE_TTL_SECONDS * 1000),
      );
    } catch {
      // Read under the previous key meanwhile; the next send to the id copies it.
    }
  }

  /**
   * `found` (as rotationKeys orders the keys) told to `olderRead`: the id's record was found under a secret of each of
   * these settings, once per setting (an old record and its successor key are one record read under the retired one).
   */
  #countOlder(found: readonly (readonly string[])[]): void {
    const olderRead = this.olderRead;
    if (olderRead === undefined) return;
    const [nextFrom, nextTo] = [this.previousHashers.length, this.#others.length];
    const roles = new Set<SecretRole>();
    for (let i = 0; i < found.length; i++)
      if (found[i].length > 0) roles.add(i < nextFrom ? "previous" : i < nextTo ? "next" : "retired");
    for (const role of roles) olderRead(role);
  }

  /**
   * Re-seal-on-read for a STORE_ENCRYPTION_KEYS rotation: the record under the current key, sealed with another key
   * than the sealing one (it opened: an older key still listed), is sealed again with the sealing key, its TTL kept,
   * unless it changed meanwhile. Without it a record no registration rewrote needed the old key for its whole 90 days;
   * now each CIBIL id a send reads stops needing it, and aopay_store_older_key_opens_total says how many still do.
   * Best effort, as the migration: a failure leaves the record as it was, still readable. One string comparison when
   * the record is sealed with the current key (always, without a rotation).
   */
  async #resealIfOlder(key: string, list: string, mobiles: readonly string[]): Promise<void> {
    if (this.sealer.sealedWithCurrentId(list)) return;
    try {
      // `mobiles`: the list's, as opened (#opened puts an earlier version's record first).
      await this.#resealScript(this.#redisKey(key), list, sealMobiles(this.sealer, key, mobiles));
    } catch {
      // Read with the older key meanwhile; the next send seals it again.
    }
  }

  /** The mobiles of the records under the other secrets' keys, one list per key. */
  async #previousMobiles(previous: readonly string[]): Promise<string[][]> {
    let sealed: ReadRecord[];
    try {
      sealed = await this.#records(previous);
    } catch (error) {
      throw new ProtectionStoreError(STORE, error);
    }
    return previous.map((k, i) => this.#openedRead(k, sealed[2 * i], sealed[2 * i + 1]));
  }

  /** #opened of a record and an earlier version's as recordAt read them: another type refused (ForeignRecordError). */
  #openedRead(key: string, list: ReadRecord | undefined, legacy: ReadRecord | undefined): string[] {
    return this.#opened(key, recordOf(list, "regmobiles:"), recordOf(legacy, "regmobile:"));
  }

  /** The mobiles of a record and of a record of an earlier version, oldest first. */
  #opened(key: string, list: string | null, legacy: string | null): string[] {
    const mobiles = list === null ? [] : openMobiles(this.sealer, key, list);
    return legacy === null ? mobiles : [openMobile(this.sealer, key, legacy), ...mobiles];
  }

  /**
   * `mobile` joins the record's list (compare-and-set, CAS_ATTEMPTS_BEFORE_CALL or CAS_ATTEMPTS_AFTER_CALL times), its
   * TTL starting again. Every attempt lost to other registrations: RegisteredMobilesBusyError (a refusal, not a store
   * failure). During a rotation `previous` are the id's records under other keys: one record with this one, their
   * mobiles counted and written with it. `onlyIfFound`: nothing when no record is under `key`.
   */
  async #add(
    key: string,
    mobile: string,
    beforeCall: boolean,
    previous: readonly string[] = NO_KEYS,
    onlyIfFound = false,
  ): Promise<void> {
    const redisKey = this.#redisKey(key);
    const attempts = beforeCall ? CAS_ATTEMPTS_BEFORE_CALL : CAS_ATTEMPTS_AFTER_CALL;
    try {
      // During a rotation, the records under the other keys are read once; their mobiles join this record's (kept
      // under the old keys too until they expire, and read there meanwhile).
      const older = previous.length === 0 ? [] : merged(await this.#previousMobiles(previous), []);
      for (let attempt = 0; attempt < attempts; attempt++) {
        if (attempt > 0) await casBackoff(attempt);
        // recordAt: a key of another type is refused (ForeignRecordError), as a send and `recall` refuse it.
        const current = recordOf((await this.#read([redisKey]))[0], "regmobiles:");
        if (current === null && onlyIfFound) return;
        const own = current === null ? [] : openMobiles(this.sealer, key, current);
        // One record with the others: theirs first, this one's the latest, MAX_MOBILES_PER_ID of them kept (so that a
        // mobile this record dropped for a later one is not counted again). Counted on this record alone, as before,
        // a replica on each secret let its own record reach the limit: up to twice MAX_MOBILES_PER_ID for one id.
        const mobiles = older.length === 0 ? own : merged([older], own).slice(-MAX_MOBILES_PER_ID);
        const list = withMobile(mobiles, mobile, beforeCall);
        // The same list (the mobile already the latest): only its TTL starts again (REPLACE_IF_UNCHANGED).
        const next = current !== null && sameList(list, own) ? "" : sealMobiles(this.sealer, key, list);
        if ((await this.#replace(redisKey, current ?? "", next, String(this.ttlMs))) === 1) return;
      }
    } catch (error) {
      // A refusal (one mobile too many) is the rule's answer, passed on as it is: never wrapped as a store failure.
      if (error instanceof ProtectionStoreError || error instanceof ProtectionRefusal) throw error;
      throw new ProtectionStoreError(STORE, error);
    }
    throw new RegisteredMobilesBusyError();
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((m, i) => m === b[i]);
}

/** The wait before compare-and-set attempt `attempt` (1 or more): random, up to CAS_BACKOFF_MS doubled per attempt. */
function casBackoff(attempt: number): Promise<void> {
  const ceiling = Math.min(CAS_BACKOFF_MAX_MS, CAS_BACKOFF_MS * 2 ** (attempt - 1));
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}
