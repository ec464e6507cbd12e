import { randomBytes } from "node:crypto";
import type Redis from "ioredis";
import { BoundedTable, Capacity } from "./bounded-table";
import { ProtectionRefusal, ProtectionStoreError } from "./errors";
import type { KeyHasher } from "./key-hasher";
import { ClientShareFullError, MemoryStoreFullError } from "./memory-counters";
import type { MaybePromise } from "./otp-throttle";
import {
  DEFAULT_CIBIL_REGISTERED_MOBILE_TTL_SECONDS,
  DEFAULT_MEMORY_REGISTERED_MOBILE_MAX_KEYS,
} from "./protection.settings";
import { type ScriptCommand, scriptCommand } from "./redis";
import type { SecretRole } from "./observer";
import type { StoreSealer } from "./store-sealer";
import { monotonicNow } from "../util/clock";
import { withoutKey } from "../util/transient-map";

/**
 * "The OTPs of CIBIL id X go to mobile M": learnt when registerCibilCustomer succeeds (the registration's input
 * carries the customer's mobile, AOPay answers the CIBIL id), read when generateCibilOtp sends. AOPay's GenerateOTP
 * takes only the CIBIL id and sends the OTP to the customer's REGISTERED mobile (docs/upstream/aopay-api.md §1 flow
 * and §1.2), so without this record a caller could register several PANs with one victim's mobile and send one OTP
 * per CIBIL id to that phone, each CIBIL id a fresh budget: the mobile's cooldown, window, daily cap and prefix
 * budget would never apply (docs/security.md "Which destinations a send counts on"). With it, the send is budgeted on
 * the CIBIL id AND the mobile, the same "mobile" dimension AEPS sends use, so AEPS and CIBIL sends to one phone share
 * its budgets.
 *
 * At rest: the key is the HMAC of the CIBIL id (KeyHasher, dimension "registered-mobile"), never the id; the value is
 * the id's mobiles sealed with AES-256-GCM (StoreSealer), its AAD binding it to that key: a value copied under another
 * CIBIL id's key does not open. A PAN's link to its id holds that HMAC, under the PAN's HMAC. A value that does not open (tampered, moved, sealed under a key no longer configured)
 * is a store failure: the send is refused (PROTECTION_UNAVAILABLE), never sent on the CIBIL id's budget alone.
 *
 * The access token AOPay answered the registration with is linked to the id too (its HMAC → the id's record key and the
 * id, sealed: tokenLinkValue): GenerateOTP takes the id and the token, and which of the two AOPay finds the customer
 * by, its docs do not say (§1.2). A send whose token is linked to another id marks and recalls that id as well
 * (`sending`), so a token sent with any digits as its id meets its registration's mobiles' budgets
 * (test/e2e/cibil-token-mobile.test.ts).
 *
 * A CIBIL id with no record (registered before this store existed, through another system, more than the TTL ago, or
 * in memory before a restart) is budgeted by its CIBIL id only, as before: the record is a best knowledge, not a
 * condition of sending. A later registration of the same CIBIL id adds its mobile (AOPay keeps the latest, but which
 * one that is depends on the order AOPay took them in: MAX_MOBILES_PER_ID), and a registration of a PAN registered
 * here before adds it before AOPay is called (`registering`): the race test/e2e/registration-race.test.ts shows.
 *
 * TTL (CIBIL_REGISTERED_MOBILE_TTL_SECONDS, 90 days by default): registration is once per customer (§1.1) and the
 * CIBIL id stays usable afterwards, so a short TTL would only delay the flood (register many PANs today, generate
 * once the records are gone). The record must outlive the time an attacker is willing to stockpile CIBIL ids; 90 days
 * is a quarter of a year of that, for about 860 B of heap per registered customer in memory (three records: the id's
 * mobiles, its PAN's link and its token's; measured, Node 24, after forced GC; docs/security.md "Memory") and three
 * small keys in Redis: with Redis, raising it is cheap.
 */
export interface RegisteredMobileStore {
  /**
   * Before registration's upstream call: throws ProtectionStoreError when a record could not be kept (memory table
   * full, Redis unreachable), so that the registration is refused before AOPay creates a customer whose mobile we
   * would not know (fail closed, as every protection store). `owner` (the client id's HMAC): in memory, a client
   * whose records hold its share of the table (MEMORY_REGISTERED_MOBILE_CLIENT_SHARE_PERCENT) is refused the same
   * way, the other clients not; Redis ignores it (maxmemory and the registration budgets bound it: docs/security.md).
   */
  ready(owner?: string): MaybePromise<void>;
  /**
   * The registration `ready` answered has ended, whatever its outcome (called once per `ready` that returned): in
   * memory, the room `ready` set aside for its records is given back (its records, if kept, now hold it). Never throws.
   * `owner`: the one given to `ready`.
   */
  released(owner?: string): void;
  /**
   * Also before registration's upstream call, once `ready`: when this PAN was registered here before, its CIBIL id is
   * known (AOPay keeps one customer per PAN, §1.1 "registration is needed only once"), and `mobile` joins that id's
   * mobiles now, before AOPay may switch the customer's OTPs to it: a GenerateOTP sent while the registration is at
   * AOPay is then budgeted on it too. Learnt only from the answer, it was not (test/e2e/registration-race.test.ts).
   * Then, a send to that id under way (`sending`) refuses the registration: RegistrationRaceError; a mobile that
   * would be the id's fifth, RegisteredMobilesFullError (both ProtectionRefusal: decisions, not failures). Throws
   * ProtectionStoreError when the store fails.
   * A PAN linked to no CIBIL id here (its first registration here) is held under `first` (given: the guard always gives
   * one) until `firstEnded`: another registration of that PAN meanwhile is refused, FirstRegistrationPendingError.
   * Its mobile cannot join a record before the call (the id is not known yet), so without the hold a second
   * registration (another mobile, the victim's) could reach AOPay while the first was there, the first answer the id
   * and be remembered with its own mobile only, and a GenerateOTP to the id meanwhile reach the second mobile on the
   * first one's budget (test/e2e/registration-race.test.ts). Once the first is answered its PAN is linked, and the
   * next registration adds its mobile before the call.
   */
  registering(pan: string | RegisteredPan, mobile: string, first?: string): MaybePromise<void>;
  /**
   * The end of a registration that `registering` found linked to no CIBIL id here and held under `first` (its own
   * random token): the PAN's hold is dropped, unless `mayStillApply` (its call's outcome is unknown: AOPay may still
   * take it, and switch the customer's OTPs to its mobile, after we gave up), when it is left to expire
   * (FIRST_REGISTRATION_HOLD_MS). A hold taken by another registration is left alone. Never throws.
   */
  firstEnded(pan: string | RegisteredPan, first: string, mayStillApply: boolean): Promise<void>;
  /**
   * After a registration AOPay answered with a CIBIL id: `mobile` joins the id's mobiles, and the PAN is linked to the
   * id (for `registering`); so is the access token AOPay answered with it (`token`, its budget key: upper-cased), for
   * `sending`. Throws ProtectionStoreError. `owner`: the client the records count for (in memory).
   */
  remember(cibilId: string, mobile: string, pan: string | RegisteredPan, owner?: string, token?: string): Promise<void>;
  /**
   * The PAN with its link's key under this store's current secret, for `registering` and `remember` of one
   * registration: computed once (given the PAN itself, each computes it).
   */
  pan(pan: string): RegisteredPan;
  /**
   * Every mobile registered here for the CIBIL id within the TTL (at most MAX_MOBILES_PER_ID, the latest), oldest
   * first; empty when none is known. Throws ProtectionStoreError.
   */
  recall(cibilId: string): MaybePromise<readonly string[]>;
  /**
   * A send to the CIBIL id starts: marked as under way, then `recall`'s answer, in one step (one script in Redis).
   * `sent` must follow once its call has ended, whatever the outcome. While one is under way, `registering` refuses
   * that id's PAN (RegistrationRaceError): AOPay's GenerateOTP could otherwise meet the registration's new mobile
   * after it was budgeted without it. The two are ordered in one store (Redis runs commands one at a time): a send
   * marks, then recalls; a registration adds its mobile, then looks for marks. Whichever comes second sees the first:
   * the send recalls the new mobile, or the registration is refused. Throws ProtectionStoreError.
   *
   * `token` (the access token sent with the id, as its budget key: upper-cased): GenerateOTP takes both, and which one
   * AOPay finds the customer by its docs do not say (docs/upstream/aopay-api.md §1.2). When a registration here linked
   * the token to another CIBIL id than `cibilId`, that id is marked and recalled too (its mobiles joining the answer),
   * and pushed to `marked`: its `sent` is the caller's to call, whatever follows. Without it, a token sent with a CIBIL
   * id of no record (any digits) was budgeted on that id and token only, and AOPay, finding the customer by the token,
   * sent to the registered mobile (test/e2e/cibil-token-mobile.test.ts).
   */
  sending(cibilId: string, token?: string, marked?: string[]): MaybePromise<readonly string[]>;
  /**
   * That send's call has ended (or never happened). Never throws: a mark left behind expires SEND_MARK_TTL_MS after
   * its send started, whatever other sends to the id do meanwhile.
   */
  sent(cibilId: string): Promise<void>;
}

/** A send's marker outlives any send (the pending time of an idempotency key is 60 s or more) if `sent` never runs. */
export const SEND_MARK_TTL_MS = 120_000;

/** Per process, a random token: with a counter it names each mark this process makes (RedisRegisteredMobileStore). */
const PROCESS_TOKEN = randomBytes(9).toString("base64url");
let markCounter = 0;

/**
 * A registration of a PAN whose CIBIL id has an OTP send under way: refused before AOPay (OTP_SEND_IN_PROGRESS,
 * retryable once that send has ended), since AOPay might send that OTP to the registration's mobile, which it was not
 * budgeted on. A decision with the store answering, not a store failure (errors.ts ProtectionRefusal): it was one
 * (PROTECTION_UNAVAILABLE, logged and counted as the store unreachable) until the refusal had a code of its own.
 */
export class RegistrationRaceError extends ProtectionRefusal {
  constructor() {
    super("OTP_SEND_IN_PROGRESS", "an OTP send to this CIBIL id is under way: registration refused, try again");
  }
}

/**
 * How long a PAN's first registration here holds it (RegisteredMobileStore.registering) when it never says it ended
 * (its process died) or its outcome is unknown: as long as a send's mark, which outlives any upstream call. The docs
 * do not say how late AOPay may still take a registration it has not answered (docs/upstream/aopay-api.md §1.1).
 */
export const FIRST_REGISTRATION_HOLD_MS = SEND_MARK_TTL_MS;

/**
 * A registration of a PAN whose first registration here (no CIBIL id known for it yet) is still under way: refused
 * before AOPay (REGISTRATION_IN_PROGRESS, retryable once that one has ended and linked the PAN to its CIBIL id). Its
 * mobile could not join the id's record before its call (the id is not known until the first answers): AOPay could
 * switch the customer's OTPs to it while the first's answer named the id with the first's mobile alone, and a
 * GenerateOTP sent then reached this mobile on the other's budget (test/e2e/registration-race.test.ts: an AEPS resend
 * to the victim, then that GenerateOTP, two SMS to one phone within a second). A decision (ProtectionRefusal).
 */
export class FirstRegistrationPendingError extends ProtectionRefusal {
  constructor() {
    super("REGISTRATION_IN_PROGRESS", "the PAN's first registration here is still under way: registration refused");
  }
}

/**
 * The holds of PANs whose first registration here is under way (the memory store's; Redis keeps `regfirst:` keys):
 * by PAN link key, the holding registration's token and when the hold ends (monotonic ms). Not in the bounded table:
 * each entry lives at most FIRST_REGISTRATION_HOLD_MS after a registration the registration budgets (REGISTER_*)
 * allowed, and expired ones are dropped as new ones come.
 */
class FirstHolds {
  #holds = new Map<string, { token: string; until: number }>();

  constructor(private readonly now: () => number) {}

  /** Holds `pan` for `token`, or throws FirstRegistrationPendingError while another token holds it. */
  hold(pan: string, token: string): void {
    const now = this.now();
    const held = this.#holds.get(pan);
    if (held !== undefined && held.until > now && held.token !== token) throw new FirstRegistrationPendingError();
    if (held === undefined && this.#holds.size >= FIRST_HOLDS_SWEEP_AT)
      for (const [key, h] of this.#holds) if (h.until <= now) this.#holds.delete(key);
    this.#holds.set(pan, { token, until: now + FIRST_REGISTRATION_HOLD_MS });
  }

  /** Drops `token`'s hold of `pan` (not another's). */
  release(pan: string, token: string): void {
    if (this.#holds.get(pan)?.token === token) this.#holds.delete(pan);
  }
}
/** Holds kept before expired ones are looked for (each is about 200 B). */
const FIRST_HOLDS_SWEEP_AT = 1_000;

/**
 * A registration whose mobile could not be added to its CIBIL id's record because other registrations of that id kept
 * changing the record meanwhile (Redis: the compare-and-set lost CAS_ATTEMPTS_BEFORE_CALL times in a row, each time to
 * another request that succeeded): refused before AOPay (REGISTRATION_IN_PROGRESS, retryable after a short wait, as
 * OTP_SEND_IN_PROGRESS). Contention between requests, with the store answering every command: a decision (errors.ts
 * ProtectionRefusal), not a store failure. It was one (ProtectionStoreError "registered mobiles kept changing while
 * being written": PROTECTION_UNAVAILABLE, an error line and aopay_protection_unavailable_total, which pages): 20
 * parallel registrations of one PAN over its four mobiles had 11 answered so with Redis healthy
 * (test/e2e/contention.test.ts).
 */
export class RegisteredMobilesBusyError extends ProtectionRefusal {
  constructor() {
    super(
      "REGISTRATION_IN_PROGRESS",
      "other registrations of this CIBIL id kept changing its registered mobiles: registration refused, try again",
    );
  }
}

/**
 * The mobiles kept per CIBIL id, the latest registered. Why several, not the latest only: which registration AOPay took
 * last is not which answered last here (two registrations of one PAN, the first held longer at AOPay), nor is a
 * registration's mobile in effect only once it answered; a send budgeted on every mobile of the id's recent
 * registrations is budgeted on the one AOPay sends to, whatever the order (stricter, never looser). Bounded so that
 * one CIBIL id cannot grow a record (and a send's budgets) without end. A registration of a known PAN with one more
 * mobile is refused before AOPay (`registering` throws RegisteredMobilesFullError: MOBILE_LIMIT_REACHED, nothing
 * sent) rather than drop one: a dropped mobile is a budget that no longer applies, and registrations AOPay refuses
 * (which add their mobile all the same: whether one took effect is not known when it is sent) would otherwise push
 * the phone AOPay sends to out of the record. A registration answered with one more (its PAN not linked here before)
 * has happened: the oldest is dropped.
 */
export const MAX_MOBILES_PER_ID = 4;

/** The HMAC dimension of the record keys (KeyHasher): the CIBIL id's key here is unlike its throttle key. */
export const REGISTERED_MOBILE_DIMENSION = "registered-mobile";
/** The sealing context of a record holding several mobiles (unlike a single mobile's: one does not open as the other). */
export const REGISTERED_MOBILES_DIMENSION = "registered-mobiles";
/** The HMAC dimension of a PAN's link to its CIBIL id's record key. */
export const REGISTERED_PAN_DIMENSION = "registered-pan";
/**
 * The HMAC dimension of a CIBIL access token's link to its CIBIL id (the token's budget key, upper-cased), and the
 * sealing context of the id the link holds.
 */
export const REGISTERED_TOKEN_DIMENSION = "registered-token";
/**
 * The HMAC dimension, under the current secret, of a record key under a retired one (HMAC_SECRET_RETIRED): the
 * "successor" key where a registration found through the PAN's old link adds its mobile and looks for send marks.
 * Such a registration knows the id's old record key (the link's value) but not the CIBIL id, so not the id's key under
 * the current secret; a send knows both, and reads and marks the successor key too (RedisRegisteredMobileStore).
 */
export const REGISTERED_SUCCESSOR_DIMENSION = "registered-mobile-successor";
const STORE = "registered mobile";

/**
 * A PAN and the HMAC of its link under a store's current secret (RegisteredMobileStore.pan). A registration needs the
 * key twice, before its call (`registering`) and after it (`remember`): each computed it before, the same HMAC twice
 * per registration (test/e2e/hmac-once-per-request.test.ts). The key is the one each computed (the same dimension and
 * PAN).
 */
export interface RegisteredPan {
  readonly pan: string;
  readonly key: string;
}

/** The PAN link's key under `hasher`: a RegisteredPan's own (made with that hasher), or computed from the PAN. */
function panLinkKey(hasher: KeyHasher, pan: string | RegisteredPan): string {
  return typeof pan === "string" ? hasher.hash(REGISTERED_PAN_DIMENSION, pan) : pan.key;
}

/** Both stores' `pan`: the PAN with its link's key under `hasher`. */
function registeredPan(hasher: KeyHasher, pan: string): RegisteredPan {
  return { pan, key: panLinkKey(hasher, pan) };
}

/** The key of a token's link (RegisteredMobileStore.remember, sending) under `hasher`. */
function tokenLinkKey(hasher: KeyHasher, token: string): string {
  return hasher.hash(REGISTERED_TOKEN_DIMENSION, token);
}

/**
 * A token link's value: `<record key>/<sealed CIBIL id>`. The record key (an HMAC, as a PAN link holds) tells a send
 * whether the token is its own id's without opening anything (the common case: one string comparison); the id itself,
 * sealed and bound to the link's key and that record key, is opened only when the token names another id, whose every
 * record (under each secret during a rotation) and send mark `sending` then finds as for the id itself. A record key
 * alone would not do during a rotation: it names the id's record under one secret only.
 */
function tokenLinkValue(sealer: StoreSealer, link: string, key: string, cibilId: string): string {
  return `${key}/${sealer.seal(cibilId, [REGISTERED_TOKEN_DIMENSION, link, key])}`;
}

/**
 * The CIBIL id a token link's value names, when it is not the id of record key `own` (a send's own id under the
 * link's secret; undefined: compared by id, `ownId`); undefined when it is that id. A value that does not open is a
 * store failure (ProtectionStoreError), as a record that does not open.
 */
function linkedId(
  sealer: StoreSealer,
  link: string,
  value: string,
  own: { key?: string; id: string },
): string | undefined {
  const slash = value.indexOf("/");
  if (slash < 0) throw new ProtectionStoreError(STORE, new Error("token link is not a record key and a sealed id"));
  const key = value.slice(0, slash);
  if (key === own.key) return undefined;
  let id: string;
  try {
    id = sealer.open(value.slice(slash + 1), [REGISTERED_TOKEN_DIMENSION, link, key]);
  } catch (error) {
    throw new ProtectionStoreError(STORE, error);
  }
  return id === own.id ? undefined : id;
}

/** The record key of a CIBIL id (canonical), and the sealing context bound to it. */
function recordKey(hasher: KeyHasher, cibilId: string): string {
  return hasher.hash(REGISTERED_MOBILE_DIMENSION, cibilId);
}

/**
 * The record keys of the CIBIL ids with a send under way in this process, so that `sent` finds its key without a
 * second HMAC (a send computed three per CIBIL id after the registration-race fix: `sending`, its `recall`, `sent`).
 * Held only while a send runs (bounded by the requests in flight), never stored: as the request holds the id anyway.
 * In memory it is also the mark itself (`underWay`); in Redis the mark is the entry's member of `regsends:`, shared by
 * replicas.
 */
class SendingKeys {
  // Not readonly: an emptied map is replaced by a new one, not deleted from (withoutKey: util/transient-map.ts).
  #byId = new Map<string, SendingEntry>();
  /** The same entries by record key: whether a send to that id is under way (the memory store's race check). */
  #byKey = new Map<string, SendingEntry>();

  constructor(
    private readonly hasher: KeyHasher,
    /**
     * HMAC_SECRET_PREVIOUS's, then HMAC_SECRET_NEXT's hashers (Redis only; empty otherwise): each send's record keys
     * under them too.
     */
    private readonly others: readonly KeyHasher[] = [],
    /** HMAC_SECRET_RETIRED's hashers (Redis only; empty otherwise). */
    private readonly retired: readonly KeyHasher[] = [],
  ) {}

  started(cibilId: string): SendingEntry {
    let entry = this.#byId.get(cibilId);
    if (entry === undefined) {
      entry = this.#entry(cibilId);
      this.#byId.set(cibilId, entry);
      this.#byKey.set(entry.key, entry);
    }
    entry.sends += 1;
    return entry;
  }

  /** The entry of a send that ended; its `sends` is 0 when it was this process's last one to the id. */
  ended(cibilId: string): SendingEntry {
    const entry = this.#byId.get(cibilId);
    if (entry === undefined) return this.#entry(cibilId);
    if (--entry.sends === 0) {
      this.#byId = withoutKey(this.#byId, cibilId);
      this.#byKey = withoutKey(this.#byKey, entry.key);
    }
    return entry;
  }

  /** Whether a send to the CIBIL id of this record key is under way in this process. */
  underWay(key: string): boolean {
    return this.#byKey.has(key);
  }

  /** The id's record keys under every secret: one HMAC without a rotation. */
  #entry(cibilId: string): SendingEntry {
    return {
      key: recordKey(this.hasher, cibilId),
      ...rotationKeys(this.hasher, this.others, this.retired, cibilId),
      sends: 0,
      member: `${PROCESS_TOKEN}.${(markCounter++).toString(36)}`,
    };
  }
}

/**
 * The id's record keys besides the current secret's, in the order every reader keeps (RedisRegisteredMobileStore
 * #migrate relies on it): `others`, under the previous secrets, the coming one, then the successor keys of the retired
 * ones' (marked and read as the others: a registration found through an old PAN link writes there); `retired`, under
 * the retired secrets (read only). No rotation: none, and no HMAC.
 */
function rotationKeys(
  hasher: KeyHasher,
  others: readonly KeyHasher[],
  retired: readonly KeyHasher[],
  cibilId: string,
): { others: readonly string[]; retired: readonly string[] } {
  if (others.length === 0 && retired.length === 0) return NO_ROTATION_KEYS;
  const retiredKeys = retired.map((h) => recordKey(h, cibilId));
  return {
    others: [...others.map((h) => recordKey(h, cibilId)), ...retiredKeys.map((old) => successorKey(hasher, old))],
    retired: retiredKeys,
  };
}
const NO_ROTATION_KEYS = { others: [] as readonly string[], retired: [] as readonly string[] };

/** The successor key of `retiredKey` (a record key under a retired secret), under the current secret's hasher. */
function successorKey(hasher: KeyHasher, retiredKey: string): string {
  return hasher.hash(REGISTERED_SUCCESSOR_DIMENSION, retiredKey);
}

interface SendingEntry {
  /** The record key under the current secret. */
  key: string;
  /**
   * Under each previous secret (HMAC_SECRET_PREVIOUS), then the coming one (HMAC_SECRET_NEXT): read and marked as
   * well; then the successor keys of the retired ones' (`retired`): read and marked too. Empty without a rotation.
   */
  others: readonly string[];
  /** Under each retired secret (HMAC_SECRET_RETIRED): read only, never marked nor written. Empty without one. */
  retired: readonly string[];
  sends: number;
  /**
   * This entry's member in the id's `regsends:` sorted set (Redis): one per entry, not per send. Each send re-adds it
   * with its own expiry, the latest; the last send of the entry to end removes it. A new entry (after the last send
   * ended) has a new member, so a member left behind (its process died, its removal failed) is never renewed.
   */
  member: string;
}

const NO_KEYS: readonly string[] = [];

function openMobile(sealer: StoreSealer, key: string, sealed: string): string {
  try {
    return sealer.open(sealed, [REGISTERED_MOBILE_DIMENSION, key]);
  } catch (error) {
    // SealError names what failed, never the value.
    throw new ProtectionStoreError(STORE, error);
  }
}

function sealMobiles(sealer: StoreSealer, key: string, mobiles: readonly string[]): string {
  return sealer.seal(JSON.stringify(mobiles), [REGISTERED_MOBILES_DIMENSION, key]);
}

function openMobiles(sealer: StoreSealer, key: string, sealed: string): string[] {
  let mobiles: unknown;
  try {
    mobiles = JSON.parse(sealer.open(sealed, [REGISTERED_MOBILES_DIMENSION, key]));
  } catch (error) {
    throw new ProtectionStoreError(STORE, error);
  }
  if (!Array.isArray(mobiles) || !mobiles.every((m) => typeof m === "string"))
    throw new ProtectionStoreError(STORE, new Error("registered mobiles record is not a list"));
  return mobiles as string[];
}

/**
 * A registration of a PAN whose CIBIL id has MAX_MOBILES_PER_ID mobiles already, with another one: refused before
 * AOPay (MOBILE_LIMIT_REACHED, not retryable: it stays refused until the record expires, the TTL after the id's last
 * registration here; one with a mobile already in the record goes). A decision, not a store failure (ProtectionRefusal).
 */
export class RegisteredMobilesFullError extends ProtectionRefusal {
  constructor() {
    super("MOBILE_LIMIT_REACHED", `the CIBIL id has ${MAX_MOBILES_PER_ID} registered mobiles already: not one more`);
  }
}

/**
 * `mobiles` with `mobile` as the latest (moved there if present). Past MAX_MOBILES_PER_ID: before the call
 * (`beforeCall`), RegisteredMobilesFullError; after it, the oldest is dropped.
 */
function withMobile(mobiles: readonly string[], mobile: string, beforeCall: boolean): string[] {
  const others = mobiles.filter((m) => m !== mobile);
  if (beforeCall && others.length >= MAX_MOBILES_PER_ID) throw new RegisteredMobilesFullError();
  return [...others, mobile].slice(-MAX_MOBILES_PER_ID);
}

/**
 * The in-memory records one registration may write: its CIBIL id's mobiles, its PAN's link and its access token's
 * (none when AOPay answers no token; the room is set aside before the answer, so for all three).
 */
export const RECORDS_PER_CUSTOMER = 3;

export interface MemoryRegisteredMobileOptions {
  ttlMs?: number;
  maxKeys: number;
  now?: () => number;
  /** Called on each registration refused because the table is full (the owner logs it, rate-limited). */
  onFull?: () => void;
  /**
   * The most records one client's registrations may hold (MEMORY_REGISTERED_MOBILE_CLIENT_SHARE_PERCENT of maxKeys);
   * default maxKeys: no share.
   */
  maxKeysPerOwner?: number;
  /** Called on each registration refused because its client holds its share (logged, rate-limited). */
  onOwnerFull?: () => void;
}

/**
 * One process. At most `maxKeys` records (MEMORY_REGISTERED_MOBILE_MAX_KEYS), RECORDS_PER_CUSTOMER per customer
 * registered here: its CIBIL id's mobiles, its PAN's link and its access token's. Without room for them, `ready`
 * throws: the registration is refused (PROTECTION_UNAVAILABLE) before anything is sent. Refusing rather than
 * registering without a record is the fail-closed choice: a full table is what a caller who registers many PANs to one
 * phone produces, and answering then would hand them exactly the unbudgeted CIBIL ids this store exists to prevent. A
 * live record is never evicted for the same reason. Lost on restart: those CIBIL ids are budgeted by id only (set
 * REDIS_URL to keep them). The table is every client's, and a record lives 90 days: each record counts for the client
 * whose registration wrote it last, and a client whose records hold `maxKeysPerOwner` (half the table by default) is
 * refused new registrations as a full table (PROTECTION_UNAVAILABLE, nothing sent) while the others still register.
 * Without it, one client registering within its budgets (REGISTER_*) for a day or two filled the table for every client
 * for 90 days (test/e2e/shared-tables.test.ts). The room `ready` sets aside counts in its client's share until
 * `released`, so registrations of one client running at once do not pass it either.
 */
export class MemoryRegisteredMobileStore implements RegisteredMobileStore {
  /**
   * `id:<record key>` → the id's mobiles (sealed list); `pan:<HMAC of the PAN>` → that record key;
   * `token:<HMAC of the token>` → that record key and the id, sealed (tokenLinkValue).
   */
  readonly #table: BoundedTable<{ value: string; expiresAt: number; owner?: string }>;
  /**
   * The table's cap, and each owner's share of it: its records (counted by BoundedTable) and the room `ready` sets
   * aside for its registrations still running (`Capacity.reserve`: RECORDS_PER_CUSTOMER places each), until `released`.
   * Without that
   * reservation, parallel registrations all saw the same last room before the call, all reached AOPay, and only the
   * first kept their mobiles: with room for two customers, 5 new registrations at once made 4 AOPay calls, 2 of them
   * unrecorded (their CIBIL ids' sends then budgeted by the id alone), 1 refused (test/e2e/contention.test.ts). Now
   * the others are refused before the call, as a full store.
   */
  readonly #capacity: Capacity;
  readonly #onOwnerFull: (() => void) | undefined;
  readonly #now: () => number;
  readonly #ttlMs: number;
  /**
   * Sends under way (`sending` to `sent`), by CIBIL id and record key. Not in the table: bounded by the requests in
   * flight (admission control), and an entry lives no longer than its request.
   */
  readonly #keys: SendingKeys;
  /** PANs whose first registration here is under way (`registering`, `firstEnded`). */
  readonly #firsts: FirstHolds;

  constructor(
    private readonly hasher: KeyHasher,
    private readonly sealer: StoreSealer,
    options: MemoryRegisteredMobileOptions = { maxKeys: DEFAULT_MEMORY_REGISTERED_MOBILE_MAX_KEYS },
  ) {
    // A step of the wall clock must not end or stretch a record (util/clock.ts).
    this.#now = options.now ?? monotonicNow;
    this.#ttlMs = options.ttlMs ?? DEFAULT_CIBIL_REGISTERED_MOBILE_TTL_SECONDS * 1000;
    const maxPerOwner = Math.min(options.maxKeys, options.maxKeysPerOwner ?? options.maxKeys);
    this.#capacity = new Capacity(options.maxKeys, this.#now, options.onFull, maxPerOwner);
    this.#onOwnerFull = options.onOwnerFull;
    this.#table = new BoundedTable(this.#capacity);
    this.#keys = new SendingKeys(hasher);
    this.#firsts = new FirstHolds(this.#now);
  }

  /**
   * How many places `owner` holds (tests): its registrations' records and the room set aside for those still running
   * (0 without a share: nothing is counted).
   */
  heldBy(owner: string): number {
    return this.#capacity.heldBy(owner);
  }

  get size(): number {
    return this.#table.size;
  }

  ready(owner?: string): void {
    // Room for a new customer's records (its CIBIL id's mobiles, its PAN's link, its token's), first within its
    // client's share, with the room set aside for its registrations still running (its expired records swept first:
    // Capacity.ownerHasRoom). The share before the table's cap, as the other tables ask them: a client at its share
    // is told so, whether or not the table is full too (it was told the table was full).
    if (owner !== undefined && !this.#capacity.ownerHasRoom(owner, RECORDS_PER_CUSTOMER)) {
      this.#onOwnerFull?.();
      throw new ClientShareFullError("registered_mobile");
    }
    // Then the table's, beside the room already set aside: expired records swept first when full (rate-limited), like
    // an insert would.
    if (!this.#capacity.reserve(owner, RECORDS_PER_CUSTOMER)) throw new MemoryStoreFullError(STORE);
  }

  released(owner?: string): void {
    this.#capacity.unreserve(owner, RECORDS_PER_CUSTOMER);
  }

  pan(pan: string): RegisteredPan {
    return registeredPan(this.hasher, pan);
  }

  registering(pan: string | RegisteredPan, mobile: string, first?: string): void {
    const link = panLinkKey(this.hasher, pan);
    const key = this.#table.get(`pan:${link}`)?.value;
    if (key === undefined) {
      if (first !== undefined) this.#firsts.hold(link, first);
      return;
    }
    this.#add(key, mobile, true);
    if (this.#keys.underWay(key)) throw new RegistrationRaceError();
  }

  async firstEnded(pan: string | RegisteredPan, first: string, mayStillApply: boolean): Promise<void> {
    if (!mayStillApply) this.#firsts.release(panLinkKey(this.hasher, pan), first);
  }

  sending(cibilId: string, token?: string, marked?: string[]): readonly string[] {
    const { key } = this.#keys.started(cibilId);
    let mobiles: readonly string[];
    let linked: string | undefined;
    try {
      mobiles = this.#recall(key);
      if (token !== undefined) {
        const link = tokenLinkKey(this.hasher, token);
        const value = this.#table.get(`token:${link}`)?.value;
        if (value !== undefined) linked = linkedId(this.sealer, link, value, { key, id: cibilId });
      }
      // The token's own id, marked and recalled as this one (throws having unmarked it).
      if (linked !== undefined) mobiles = merged([mobiles], this.sending(linked));
    } catch (error) {
      // Refused (a record that does not open): not under way. Synchronous, so no registration saw the mark.
      this.#keys.ended(cibilId);
      throw error;
    }
    if (linked !== undefined) marked?.push(linked);
    return mobiles;
  }

  async sent(cibilId: string): Promise<void> {
    this.#keys.ended(cibilId);
  }

  async remember(
    cibilId: string,
    mobile: string,
    pan: string | RegisteredPan,
    owner?: string,
    token?: string,
  ): Promise<void> {
    const key = recordKey(this.hasher, cibilId);
    this.#add(key, mobile, false, owner);
    this.#insert(`pan:${panLinkKey(this.hasher, pan)}`, key, owner);
    if (token === undefined) return;
    const link = tokenLinkKey(this.hasher, token);
    this.#insert(`token:${link}`, tokenLinkValue(this.sealer, link, key, cibilId), owner);
  }

  recall(cibilId: string): readonly string[] {
    return this.#recall(recordKey(this.hasher, cibilId));
  }

  #recall(key: string): readonly string[] {
    const record = this.#table.get(`id:${key}`);
    return record === undefined ? [] : openMobiles(this.sealer, key, record.value);
  }

  /** `owner` undefined (a mobile added before the call, `registering`): the record stays its owner's. */
  #add(key: string, mobile: string, beforeCall: boolean, owner?: string): void {
    const record = this.#table.get(`id:${key}`);
    const mobiles = record === undefined ? [] : openMobiles(this.sealer, key, record.value);
    const sealed = sealMobiles(this.sealer, key, withMobile(mobiles, mobile, beforeCall));
    this.#insert(`id:${key}`, sealed, owner ?? record?.owner);
  }

  #insert(key: string, value: string, owner?: string): void {
    // Full only if this registration's room was given back early, or another record took it (a send cannot: it only
    // reads).
    // A record replaced stops counting for its owner, this one counts for `owner` (BoundedTable).
    if (!this.#table.insert(key, { value, expiresAt: this.#now() + this.#ttlMs, owner }))
      throw new MemoryStoreFullError(STORE);
  }
}

/**
 * Adds a sealed list under KEYS[1] only if it still holds what it was read as (ARGV[1], '' for absent): a
 * compare-and-set, so that two registrations of one CIBIL id at once (two replicas) never lose each other's mobile.
 * ARGV[2] '' keeps the value and restarts its TTL only: a registration whose mobile is already the latest changes
 * nothing, and a new sealing of the same list (a fresh IV) would make every other writer's compare fail for nothing.
 */
const REPLACE_IF_UNCHANGED = `
local current = redis.call('GET', KEYS[1])
if (current or '') ~= ARGV[1] then return 0 end
if ARGV[2] == '' then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 1`;

/**
 * A send under way: ARGV[2] (its entry's member) in the sorted set KEYS[1], scored with the time it stops counting,
 * ARGV[1] ms from now (Redis's clock), the members already past theirs dropped, the key living as long as its latest
 * member; then the id's two records (as MGET). Also one more in KEYS[4], the versions before's count (`regsend:`, read
 * by their replicas during a rolling update), its TTL set only when it has none: a send never prolongs it.
 *
 * Why not that count alone: one TTL for every send, restarted by each, kept a count that a send left behind (its
 * replica killed mid-send, a `sent` that timed out) alive for as long as anyone sent to the id once per TTL, a
 * generateCibilOtp the throttle refuses included (it costs nothing and sends nothing): that PAN's registrations were
 * refused OTP_SEND_IN_PROGRESS for good (test/unit/protection/registered-mobiles.test.ts). Each member here ends on its
 * own.
 */
const SENDING = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + ttl, ARGV[2])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', KEYS[1], tonumber(last[2]) - now)
redis.call('INCR', KEYS[4])
if redis.call('PTTL', KEYS[4]) < 0 then redis.call('PEXPIRE', KEYS[4], ttl) end
return {redis.call('GET', KEYS[2]), redis.call('GET', KEYS[3])}`;

/**
 * SENDING, with the send's token link KEYS[5] read in the same round trip (a third element): a send that names the
 * token its id was registered with (the common case) or one no registration here answered costs no command more.
 */
const SENDING_WITH_TOKEN = SENDING.replace(
  "return {redis.call('GET', KEYS[2]), redis.call('GET', KEYS[3])}",
  "return {redis.call('GET', KEYS[2]), redis.call('GET', KEYS[3]), redis.call('GET', KEYS[5])}",
);

/** Whether a send to the id is under way: a member of KEYS[1] still counting (Redis's clock), or a count in KEYS[2]. */
const UNDER_WAY = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf') > 0 then return 1 end
if (tonumber(redis.call('GET', KEYS[2])) or 0) > 0 then return 1 end
return 0`;

/**
 * A record read only under previous secrets, copied under the current key KEYS[1] (ARGV[1], sealed for it) unless a
 * record is there already (a registration got there first: it merged them), living as long as the longest-lived of
 * the records it was made from (KEYS[2...]: their PTTL): the copy ends when the original would have. None of them
 * alive (or without a TTL, which this store never writes): nothing is copied. Answers 1 when copied.
 */
const MIGRATE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local ttl = 0
for i = 2, #KEYS do
  local left = redis.call('PTTL', KEYS[i])
  if left > ttl then ttl = left end
end
if ttl <= 0 then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
return 1`;

/**
 * A record sealed with an older STORE_ENCRYPTION_KEYS key, sealed again with the current one (ARGV[2]) if KEYS[1] still
 * holds what was read (ARGV[1]), its TTL kept: the old key is then needed by one record fewer. Answers 1 when done.
 */
const RESEAL = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1`;

/**
 * One send fewer under way: its entry's member ARGV[1] leaves KEYS[1] when it was the entry's last send (ARGV[2] '1');
 * the versions before's count KEYS[2] goes down by one, the key gone at zero (never below).
 */
const SENT = `
if ARGV[2] == '1' then redis.call('ZREM', KEYS[1], ARGV[1]) end
local left = redis.call('DECR', KEYS[2])
if left <= 0 then redis.call('DEL', KEYS[2]) end
return left`;

/**
 * A PAN's first registration here (no link under KEYS[1] yet): held under KEYS[2] for ARGV[1] (its token) for ARGV[2]
 * ms, unless another token holds it. Answers {2, link} when the PAN is linked by now (its first registration answered
 * meanwhile: the caller goes on as for a linked PAN), {0, ''} when held, {1, ''} when another holds it. One script,
 * so that a link written and a hold dropped (in that order, by the first registration) are seen together: a hold
 * found free was dropped after its link was written, which this then reads.
 */
const HOLD_FIRST = `
local link = redis.call('GET', KEYS[1])
if link then return {2, link} end
local held = redis.call('GET', KEYS[2])
if held and held ~= ARGV[1] then return {1, ''} end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return {0, ''}`;

/** Drops the hold KEYS[1] if ARGV[1] (the registration's token) holds it. */
const RELEASE_FIRST = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
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
 * Shared by every replica: `<REDIS_KEY_PREFIX>regmobiles:<HMAC of the CIBIL id>` → the id's mobiles, sealed as one
 * list, with a TTL; `<REDIS_KEY_PREFIX>regpan:<HMAC of the PAN>` → that HMAC. Records of earlier versions
 * (`regmobile:<HMAC>`, one sealed mobile) are still read until they expire, never written.
 */
export class RedisRegisteredMobileStore implements RegisteredMobileStore {
  readonly #replace: ScriptCommand<number>;
  readonly #sentScript: ScriptCommand<number>;
  readonly #sendingScript: ScriptCommand<Array<string | false | null>>;
  readonly #sendingTokenScript: ScriptCommand<Array<string | false | null>>;
  readonly #underWayScript: ScriptCommand<number>;
  readonly #migrateScript: ScriptCommand<number>;
  readonly #resealScript: ScriptCommand<number>;
  readonly #holdFirstScript: ScriptCommand<[number, string]>;
  readonly #releaseFirstScript: ScriptCommand<number>;
  readonly #keys: SendingKeys;
  /** HMAC_SECRET_PREVIOUS's hashers, then HMAC_SECRET_NEXT's: every record, PAN link and send mark is read under them. */
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
    /** How long a send's mark lives if its `sent` never runs (SEND_MARK_TTL_MS; tests shorten it). */
    private readonly sendMarkTtlMs: number = SEND_MARK_TTL_MS,
  ) {
    this.#replace = scriptCommand(redis, "aopayRegisteredMobilesReplace", REPLACE_IF_UNCHANGED, 1);
    this.#sentScript = scriptCommand(redis, "aopayRegisteredMobilesSendEnded", SENT, 2);
    this.#sendingScript = scriptCommand(redis, "aopayRegisteredMobilesSendMarked", SENDING, 4);
    this.#sendingTokenScript = scriptCommand(redis, "aopayRegisteredMobilesSendMarkedToken", SENDING_WITH_TOKEN, 5);
    this.#underWayScript = scriptCommand(redis, "aopayRegisteredMobilesSendUnderWay", UNDER_WAY, 2);
    this.#migrateScript = scriptCommand(redis, "aopayRegisteredMobilesMigrate", MIGRATE);
    this.#resealScript = scriptCommand(redis, "aopayRegisteredMobilesReseal", RESEAL, 1);
    this.#holdFirstScript = scriptCommand(redis, "aopayRegisteredMobilesHoldFirst", HOLD_FIRST, 2);
    this.#releaseFirstScript = scriptCommand(redis, "aopayRegisteredMobilesReleaseFirst", RELEASE_FIRST, 1);
    this.#others = nextHashers.length === 0 ? previousHashers : [...previousHashers, ...nextHashers];
    this.#retired = retiredHashers;
    this.#keys = new SendingKeys(hasher, this.#others, this.#retired);
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

  /** The PAN's link under the current secret (a RegisteredPan's key), or under `other`'s (computed). */
  #panKey(pan: string | RegisteredPan, other?: KeyHasher): string {
    const key =
      other === undefined ? panLinkKey(this.hasher, pan) : panLinkKey(other, typeof pan === "string" ? pan : pan.pan);
    return `${this.keyPrefix}regpan:${key}`;
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

  /** `<REDIS_KEY_PREFIX>regfirst:<HMAC of the PAN>`: the hold of a PAN whose first registration here is under way. */
  #firstKey(pan: string | RegisteredPan): string {
    return `${this.keyPrefix}regfirst:${panLinkKey(this.hasher, pan)}`;
  }

  async firstEnded(pan: string | RegisteredPan, first: string, mayStillApply: boolean): Promise<void> {
    if (mayStillApply) return;
    try {
      await this.#releaseFirstScript(this.#firstKey(pan), first);
    } catch {
      // Left to expire (FIRST_REGISTRATION_HOLD_MS): the PAN's next registration is refused, retryable, meanwhile.
    }
  }

  async registering(pan: string | RegisteredPan, mobile: string, first?: string): Promise<void> {
    let key: string | null;
    let oldRecord: readonly string[] = NO_KEYS;
    try {
      key = await this.redis.get(this.#panKey(pan));
      // A PAN linked under a previous secret (or, on a replica not yet switched, under the coming one): its link names
      // the id's record under that secret, which this registration's mobile joins (the CIBIL id, needed for the
      // current key, is known only from AOPay's answer; `remember` then writes the record under the current secret).
      // A send reads and marks that record too.
      for (let h = 0; key === null && h < this.#others.length; h++)
        key = await this.redis.get(this.#panKey(pan, this.#others[h]));
      // A PAN linked under a retired secret only (HMAC_SECRET_RETIRED: registered before the switch, not since): its
      // link is followed as the record it names is read, but nothing is written under that secret. The mobile joins
      // the old record's successor key instead (under the current secret, starting from the old record's mobiles, so
      // that MAX_MOBILES_PER_ID counts them), which every send to the id reads and marks; `remember` merges it. Not
      // followed, such a registration was handled as a first one: no MOBILE_LIMIT_REACHED, no OTP_SEND_IN_PROGRESS, and
      // its mobile known only if AOPay answered.
      for (let h = 0; key === null && h < this.#retired.length; h++) {
        const old = await this.redis.get(this.#panKey(pan, this.#retired[h]));
        if (old !== null) [key, oldRecord] = [successorKey(this.hasher, old), [old]];
      }
      if (key === null && first !== undefined) {
        // Linked nowhere: its first registration here. Held, or refused while another holds it; linked meanwhile,
        // it goes on as a linked PAN.
        const [state, link] = await this.#holdFirstScript(
          this.#panKey(pan),
          this.#firstKey(pan),
          first,
          FIRST_REGISTRATION_HOLD_MS,
        );
        if (state === 1) throw new FirstRegistrationPendingError();
        if (state === 2) key = link;
      }
    } catch (error) {
      if (error instanceof FirstRegistrationPendingError) throw error;
      throw new ProtectionStoreError(STORE, error);
    }
    if (key === null) return;
    await this.#add(key, mobile, true, oldRecord);
    let underWay: number;
    try {
      underWay = await this.#underWayScript(this.#marksKey(key), this.#sendKey(key));
    } catch (error) {
      throw new ProtectionStoreError(STORE, error);
    }
    if (underWay === 1) throw new RegistrationRaceError();
  }

  async sending(cibilId: string, token?: string, marked?: string[]): Promise<readonly string[]> {
    const { key, others, retired, member } = this.#keys.started(cibilId);
    // The token's link under the current secret (read by the mark's script), and under the others during a rotation.
    const link = token === undefined ? undefined : tokenLinkKey(this.hasher, token);
    const otherLinks = token === undefined ? NO_KEYS : this.#otherTokenLinks(token);
    let sealed: Array<string | false | null>;
    let older: Array<Array<string | false | null>> = [];
    let retiredSealed: Array<string | null> = [];
    let otherLinked: Array<string | null> = [];
    try {
      // One round trip, as `recall` alone took before the mark (one more per other secret, in parallel, one MGET for
      // the retired secrets' records, and one for the token's links under the other secrets).
      const mark = (k: string, tokenLink?: string) => {
        const keys = [this.#marksKey(k), this.#redisKey(k), this.#legacyKey(k), this.#sendKey(k)];
        return tokenLink === undefined
          ? this.#sendingScript(...keys, this.sendMarkTtlMs, member)
          : this.#sendingTokenScript(...keys, this.#tokenKey(tokenLink), this.sendMarkTtlMs, member);
      };
      if (others.length === 0 && retired.length === 0) sealed = await mark(key, link);
      else {
        let marks: Array<Array<string | false | null>>;
        [marks, retiredSealed, otherLinked] = await Promise.all([
          Promise.all([mark(key, link), ...others.map((k) => mark(k))]),
          this.#records(retired),
          otherLinks.length === 0 ? [] : this.redis.mget(...otherLinks.map((l) => this.#tokenKey(l))),
        ]);
        [sealed, ...older] = marks;
      }
    } catch (error) {
      // Whether the mark was made is not known: left to expire (SEND_MARK_TTL_MS), as a failed `sent` leaves it.
      this.#keys.ended(cibilId);
      throw new ProtectionStoreError(STORE, error);
    }
    let mobiles: string[];
    let linked: string | undefined;
    try {
      mobiles = this.#opened(key, sealed[0] || null, sealed[1] || null);
      if (sealed[0]) await this.#resealIfOlder(key, sealed[0], sealed[1] ? mobiles.slice(1) : mobiles);
      if (link !== undefined)
        linked = this.#tokenLinked(cibilId, key, link, sealed[2] || null, otherLinks, otherLinked);
      if (others.length > 0 || retired.length > 0) {
        const olderMobiles = others.map((k, i) => this.#opened(k, older[i][0] || null, older[i][1] || null));
        for (let i = 0; i < retired.length; i++)
          olderMobiles.push(this.#opened(retired[i], retiredSealed[2 * i], retiredSealed[2 * i + 1]));
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
  #tokenLinked(
    cibilId: string,
    key: string,
    link: string,
    value: string | null,
    otherLinks: readonly string[],
    otherValues: ReadonlyArray<string | null>,
  ): string | undefined {
    if (value !== null) return linkedId(this.sealer, link, value, { key, id: cibilId });
    for (let i = 0; i < otherLinks.length; i++) {
      const found = otherValues[i];
      // Under another secret the record key is that secret's: compared by id (opened; during a rotation only).
      if (found != null) return linkedId(this.sealer, otherLinks[i], found, { id: cibilId });
    }
    return undefined;
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

  async sent(cibilId: string): Promise<void> {
    const { key, others, member, sends } = this.#keys.ended(cibilId);
    const last = sends === 0 ? "1" : "0";
    try {
      await this.#sentScript(this.#marksKey(key), this.#sendKey(key), member, last);
      for (const k of others) await this.#sentScript(this.#marksKey(k), this.#sendKey(k), member, last);
    } catch {
      // Left to expire (SEND_MARK_TTL_MS after its latest send started): until then, registrations of that id's PAN
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
    await this.#add(key, mobile, false, this.#readKeys(cibilId));
    try {
      await this.redis.set(this.#panKey(pan), key, "PX", this.ttlMs);
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
    let sealed: Array<string | null>;
    try {
      sealed = await this.redis.mget(this.#redisKey(key), this.#legacyKey(key));
    } catch (error) {
      throw new ProtectionStoreError(STORE, error);
    }
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
  async #records(keys: readonly string[]): Promise<Array<string | null>> {
    if (keys.length === 0) return [];
    return this.redis.mget(...keys.flatMap((k) => [this.#redisKey(k), this.#legacyKey(k)]));
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
    let sealed: Array<string | null>;
    try {
      sealed = await this.redis.mget(...previous.flatMap((k) => [this.#redisKey(k), this.#legacyKey(k)]));
    } catch (error) {
      throw new ProtectionStoreError(STORE, error);
    }
    return previous.map((k, i) => this.#opened(k, sealed[2 * i], sealed[2 * i + 1]));
  }

  /** The mobiles of a record and of a record of an earlier version, oldest first. */
  #opened(key: string, list: string | null, legacy: string | null): string[] {
    const mobiles = list === null ? [] : openMobiles(this.sealer, key, list);
    return legacy === null ? mobiles : [openMobile(this.sealer, key, legacy), ...mobiles];
  }

  /**
   * `mobile` joins the record's list (compare-and-set, CAS_ATTEMPTS_BEFORE_CALL or CAS_ATTEMPTS_AFTER_CALL times), its
   * TTL starting again. Every attempt lost to other registrations: RegisteredMobilesBusyError (a refusal, not a store
   * failure).
   */
  async #add(key: string, mobile: string, beforeCall: boolean, previous: readonly string[] = NO_KEYS): Promise<void> {
    const redisKey = this.#redisKey(key);
    const attempts = beforeCall ? CAS_ATTEMPTS_BEFORE_CALL : CAS_ATTEMPTS_AFTER_CALL;
    try {
      // During a rotation, a record still only under another secret is rewritten under the current one with its
      // mobiles (read once; they are kept until they expire under the old key too, and read there meanwhile).
      const older = previous.length === 0 ? [] : merged(await this.#previousMobiles(previous), []);
      for (let attempt = 0; attempt < attempts; attempt++) {
        if (attempt > 0) await casBackoff(attempt);
        const current = await this.redis.get(redisKey);
        let mobiles = current === null ? [] : openMobiles(this.sealer, key, current);
        if (current === null && older.length > 0) mobiles = older.slice(-MAX_MOBILES_PER_ID);
        const list = withMobile(mobiles, mobile, beforeCall);
        // The same list (the mobile already the latest): only its TTL starts again (REPLACE_IF_UNCHANGED).
        const next = current !== null && sameList(list, mobiles) ? "" : sealMobiles(this.sealer, key, list);
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

/**
 * The mobiles of the records under previous secrets and the current record's, each once, the
 * current record's last (the latest). More than MAX_MOBILES_PER_ID only during a rotation: a send is budgeted on every
 * one of them (stricter, never looser).
 */
function merged(older: readonly (readonly string[])[], current: readonly string[]): string[] {
  const all = [...older.flat(), ...current];
  return all.filter((m, i) => all.lastIndexOf(m) === i);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((m, i) => m === b[i]);
}

/** The wait before compare-and-set attempt `attempt` (1 or more): random, up to CAS_BACKOFF_MS doubled per attempt. */
function casBackoff(attempt: number): Promise<void> {
  const ceiling = Math.min(CAS_BACKOFF_MAX_MS, CAS_BACKOFF_MS * 2 ** (attempt - 1));
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}
