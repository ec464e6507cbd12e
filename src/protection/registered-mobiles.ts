import { randomBytes } from "node:crypto";
import { ProtectionRefusal, ProtectionStoreError } from "./errors";
import type { KeyHasher } from "./key-hasher";
import type { MaybePromise } from "./otp-throttle";
import type { SendMark } from "./redis-budgets";
import type { StoreSealer } from "./store-sealer";
import { withoutKey } from "../util/transient-map";
import { MAX_AOPAY_DEADLINE_MS } from "../aopay/transport.settings";
import { MAX_REQUEST_DEADLINE_MS } from "../http/server.settings";

// The registered mobiles of CIBIL ids: the store's interface, its errors and constants, and the keys, links, sealing
// and send marks both stores share. The stores themselves: memory-registered-mobiles.ts (one process) and
// redis-registered-mobiles.ts (shared by every replica, with its Lua scripts).

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
   * (the store's sendMarkTtlMs). A hold taken by another registration is left alone. Never throws.
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
  sending(cibilId: string, token?: string, marked?: string[], mark?: StoreSendMark): MaybePromise<readonly string[]>;
  /**
   * Redis only: the send's mark to carry into its budgets' take (SendGuard's reservation; redis-budgets.ts
   * TAKE_AND_MARK), so that the take marks and reads in its own script and `sending(cibilId, token, marked, mark)`
   * takes up its answer rather than marking in a round trip of its own. A mark the take did not make (refused, the
   * throttle in memory, never begun) is ignored by `sending`, which marks as before. One made and never taken up
   * (`unclaimed`) is the caller's to end with `sent`.
   */
  sendMark?(cibilId: string, token?: string): StoreSendMark;
  /**
   * That send's call has ended (or never happened). Never throws: a mark left behind expires the store's mark TTL
   * (sendMarkTtlMs: SEND_MARK_TTL_MS at least) after its send started, whatever other sends to the id do meanwhile.
   *
   * `mayStillApply`: its outcome is unknown (cut by a deadline after it was written, an unreadable answer): AOPay may
   * still be sending that OTP, to whichever mobile the customer has by then, so the mark is left to expire as if
   * `sent` had failed, and registrations of the id's PAN are refused until then (as a first registration whose outcome
   * is unknown keeps its PAN held). Unmarked with its answer, a registration with another mobile sent right after it
   * reached AOPay, which sent the late OTP to that mobile on no budget of it (test/e2e/registration-race.test.ts).
   */
  sent(cibilId: string, mayStillApply?: boolean): Promise<void>;
}

/** A send's mark as the store made it for a take (RegisteredMobileStore.sendMark). */
export interface StoreSendMark extends SendMark {
  readonly cibilId: string;
  /** Made by the take and not yet taken up by `sending`: its `sent` is the caller's. */
  readonly unclaimed: boolean;
}

/**
 * A send's marker outlives any send (the pending time of an idempotency key is 60 s or more) if `sent` never runs: the
 * least it lives (sendMarkTtlMs).
 */
export const SEND_MARK_TTL_MS = 120_000;

/**
 * How long a send's mark (and a first registration's hold, FIRST_REGISTRATION_HOLD_MS) lives from its start when it is
 * left to expire: SEND_MARK_TTL_MS, or three times the longest a request may run (`longestRequestMs`: the longer of
 * REQUEST_DEADLINE_MS and AOPAY_DEADLINE_MS) when that is longer, as an idempotency key's pending time is. Fixed at
 * 2 minutes, a request allowed 120 s and cut at its deadline with its outcome unknown left it a moment, where a 10 s
 * one left it 110 s in which AOPay may still send, or take the registration (test/unit/protection/pending-ttl.test.ts).
 */
export function sendMarkTtlMs(longestRequestMs: number): number {
  return outlivingRequestsMs(longestRequestMs, SEND_MARK_TTL_MS);
}

/**
 * The one rule for what must outlive any request, AOPay's late action on one given up on included: `floorMs`, or
 * three times the longest a request may run when that is longer. The send marks and first registrations' holds
 * (sendMarkTtlMs, floor SEND_MARK_TTL_MS) and an idempotency key's pending time (protection/index.ts, floor
 * IDEMPOTENCY_PENDING_MIN_MS) take it, so that a change of it reaches every one of them.
 */
export function outlivingRequestsMs(longestRequestMs: number, floorMs: number): number {
  return Math.max(floorMs, 3 * longestRequestMs);
}

/** The most REQUEST_DEADLINE_MS and AOPAY_DEADLINE_MS take (their settings' max): the longest a request may run. */
export const MOST_DEADLINE_MS = Math.max(MAX_REQUEST_DEADLINE_MS, MAX_AOPAY_DEADLINE_MS);

/**
 * The furthest ahead any replica times a send's mark, a first registration's hold or the versions before's send count
 * (`regsend:`) when it writes one: sendMarkTtlMs of the longest request the settings allow (REQUEST_DEADLINE_MS and
 * AOPAY_DEADLINE_MS at most 120 s: 360 s); the versions before wrote SEND_MARK_TTL_MS. Not this replica's own mark TTL:
 * during a rolling update one with longer deadlines writes longer marks, which still count. A time found further ahead
 * (bytes not ours, or Redis's clock stepped back, a failover to a replica whose clock is behind) is brought back to it
 * by the store's scripts, so that it ends within it: read as written, a mark ten years ahead refused that PAN's
 * registrations for ten years, told 2 s each time, and each send stretched the key's expiry to match.
 */
export const LONGEST_SEND_MARK_TTL_MS = sendMarkTtlMs(MOST_DEADLINE_MS);

/** The least an idempotency key's pending time lasts (outlivingRequestsMs): 60 s. */
export const IDEMPOTENCY_PENDING_MIN_MS = 60_000;

/**
 * The longest pending time any replica gives an idempotency key, whatever its settings: 360 s (outlivingRequestsMs of
 * MOST_DEADLINE_MS). A replica reads a pendingUntil further ahead than this (and its own record's life) as no version's
 * (idempotency-store.ts furthestPending); one bound from its own settings read the record of a replica allowed longer
 * requests, while its send was under way, as unreadable (OUTCOME_UNKNOWN for a send that then succeeded).
 */
export const MOST_IDEMPOTENCY_PENDING_MS = outlivingRequestsMs(MOST_DEADLINE_MS, IDEMPOTENCY_PENDING_MIN_MS);

/** Per process, a random token: with a counter it names each mark this process makes (RedisRegisteredMobileStore). */
const PROCESS_TOKEN = randomBytes(9).toString("base64url");
let markCounter = 0;

/**
 * The wait a client is told while a send or a registration it waits for is simply under way (OTP_SEND_IN_PROGRESS,
 * REGISTRATION_IN_PROGRESS): about one upstream call, 2 s; the answer repeats with the same wait while it runs.
 */
export const SEND_IN_PROGRESS_RETRY_MS = 2_000;

/**
 * How long a registration is refused for by what blocks it: `lingeringMs`, the time left of a mark or hold left to
 * expire (a send or registration whose outcome is unknown: sendMarkTtlMs from its start, 2 to 6 minutes), and, while
 * something is `underWay`, at least SEND_IN_PROGRESS_RETRY_MS. Told 2 s while a mark lingered, a client retried into
 * the same refusal for minutes, and an app counting down on the hint showed the wrong time
 * (test/e2e/registration-race.test.ts).
 */
export function refusalWaitMs(lingeringMs: number, underWay: boolean): number {
  return Math.max(lingeringMs, underWay ? SEND_IN_PROGRESS_RETRY_MS : 0);
}

/**
 * A registration of a PAN whose CIBIL id has an OTP send under way: refused before AOPay (OTP_SEND_IN_PROGRESS,
 * retryable once that send has ended), since AOPay might send that OTP to the registration's mobile, which it was not
 * budgeted on. A decision with the store answering, not a store failure (errors.ts ProtectionRefusal): it was one
 * (PROTECTION_UNAVAILABLE, logged and counted as the store unreachable) until the refusal had a code of its own.
 */
export class RegistrationRaceError extends ProtectionRefusal {
  /** `retryAfterMs`: refusalWaitMs's, from the store's marks (SEND_IN_PROGRESS_RETRY_MS by default). */
  constructor(retryAfterMs: number = SEND_IN_PROGRESS_RETRY_MS) {
    super(
      "OTP_SEND_IN_PROGRESS",
      "an OTP send to this CIBIL id is under way: registration refused, try again",
      retryAfterMs,
    );
  }
}

/**
 * How long a PAN's first registration here holds it (RegisteredMobileStore.registering) when it never says it ended
 * (its process died) or its outcome is unknown: as long as a send's mark, which outlives any upstream call (at least:
 * the stores take sendMarkTtlMs for both). The docs do not say how late AOPay may still take a registration it has not
 * answered (docs/upstream/aopay-api.md §1.1).
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
  /** `retryAfterMs`: the hold's time left when its outcome is unknown, else SEND_IN_PROGRESS_RETRY_MS. */
  constructor(retryAfterMs: number = SEND_IN_PROGRESS_RETRY_MS) {
    super(
      "REGISTRATION_IN_PROGRESS",
      "the PAN's first registration here is still under way: registration refused",
      retryAfterMs,
    );
  }
}

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
      SEND_IN_PROGRESS_RETRY_MS,
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
export const STORE = "registered mobile";

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
export function panLinkKey(hasher: KeyHasher, pan: string | RegisteredPan): string {
  return typeof pan === "string" ? hasher.hash(REGISTERED_PAN_DIMENSION, pan) : pan.key;
}

/** Both stores' `pan`: the PAN with its link's key under `hasher`. */
export function registeredPan(hasher: KeyHasher, pan: string): RegisteredPan {
  return { pan, key: panLinkKey(hasher, pan) };
}

/** The key of a token's link (RegisteredMobileStore.remember, sending) under `hasher`. */
export function tokenLinkKey(hasher: KeyHasher, token: string): string {
  return hasher.hash(REGISTERED_TOKEN_DIMENSION, token);
}

/**
 * A token link's value: `<record key>/<sealed CIBIL id>`. The record key (an HMAC, as a PAN link holds) tells a send
 * whether the token is its own id's without opening anything (the common case: one string comparison, and the sealed
 * part's shape checked: linkedId); the id itself,
 * sealed and bound to the link's key and that record key, is opened only when the token names another id, whose every
 * record (under each secret during a rotation) and send mark `sending` then finds as for the id itself. A record key
 * alone would not do during a rotation: it names the id's record under one secret only.
 */
export function tokenLinkValue(sealer: StoreSealer, link: string, key: string, cibilId: string): string {
  return `${key}/${sealer.seal(cibilId, [REGISTERED_TOKEN_DIMENSION, link, key])}`;
}

/**
 * The CIBIL id a token link's value names, when it is not the id of record key `own` (a send's own id under the
 * link's secret; undefined: compared by id, `ownId`); undefined when it is that id. A value that does not open is a
 * store failure (ProtectionStoreError), as a record that does not open; so is one naming record key `own` whose sealed
 * part has not the shape `seal` writes (StoreSealer.checkShape), as docs/operations.md's command lists it.
 */
export function linkedId(
  sealer: StoreSealer,
  link: string,
  value: string,
  own: { key?: string; id: string },
): string | undefined {
  const slash = value.indexOf("/");
  if (slash < 0) throw new ProtectionStoreError(STORE, new Error("token link is not a record key and a sealed id"));
  const key = value.slice(0, slash);
  let id: string;
  try {
    // Its own id: not opened (no decryption on the common path), but its sealed part must have the shape `seal`
    // writes, as docs/operations.md's command lists it. Not checked, `<own key>/<junk>` (bytes no version writes),
    // listed there as refused, still let its own id's sends through, and an operator deleted a link that worked.
    if (key === own.key) {
      sealer.checkShape(value.slice(slash + 1));
      return undefined;
    }
    id = sealer.open(value.slice(slash + 1), [REGISTERED_TOKEN_DIMENSION, link, key]);
  } catch (error) {
    throw new ProtectionStoreError(STORE, error);
  }
  return id === own.id ? undefined : id;
}

/** The record key of a CIBIL id (canonical), and the sealing context bound to it. */
export function recordKey(hasher: KeyHasher, cibilId: string): string {
  return hasher.hash(REGISTERED_MOBILE_DIMENSION, cibilId);
}

/**
 * The record keys of the CIBIL ids with a send under way in this process, so that `sent` finds its key without a
 * second HMAC (a send computed three per CIBIL id after the registration-race fix: `sending`, its `recall`, `sent`).
 * Held only while a send runs (bounded by the requests in flight), never stored: as the request holds the id anyway.
 * In memory it is also the mark itself (`underWay`); in Redis the mark is the entry's member of `regsends:`, shared by
 * replicas.
 */
export class SendingKeys {
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
export function rotationKeys(
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
export function successorKey(hasher: KeyHasher, retiredKey: string): string {
  return hasher.hash(REGISTERED_SUCCESSOR_DIMENSION, retiredKey);
}

export interface SendingEntry {
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
  /**
   * A send of this entry ended with its outcome unknown (`sent`'s `mayStillApply`): its mark is left to expire, so no
   * later end of the entry's other sends removes it (Redis: the member stays; in memory: held until `startedAt` +
   * the store's sendMarkTtlMs).
   */
  lingers?: boolean;
  /** When the entry's latest send started (the memory store's clock; Redis keeps it as the member's score). */
  startedAt?: number;
}

export function sealMobiles(sealer: StoreSealer, key: string, mobiles: readonly string[]): string {
  return sealer.seal(JSON.stringify(mobiles), [REGISTERED_MOBILES_DIMENSION, key]);
}

export function openMobiles(sealer: StoreSealer, key: string, sealed: string): string[] {
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
export function withMobile(mobiles: readonly string[], mobile: string, beforeCall: boolean): string[] {
  const others = mobiles.filter((m) => m !== mobile);
  if (beforeCall && others.length >= MAX_MOBILES_PER_ID) throw new RegisteredMobilesFullError();
  return [...others, mobile].slice(-MAX_MOBILES_PER_ID);
}

/**
 * The mobiles of the records under previous secrets and the current record's, each once, the
 * current record's last (the latest). More than MAX_MOBILES_PER_ID only during a rotation: a send is budgeted on every
 * one of them (stricter, never looser).
 */
export function merged(older: readonly (readonly string[])[], current: readonly string[]): string[] {
  const all = [...older.flat(), ...current];
  return all.filter((m, i) => all.lastIndexOf(m) === i);
}
