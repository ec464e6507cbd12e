import { Buffer } from "node:buffer";
import { randomUUID } from "node:crypto";
import { type AopayError, AopayOutcomeUnknownError, isAopayError } from "../aopay/errors";
import { issueSendPass, type SendPass } from "../aopay/send-pass";
import type { Logger } from "../logging/logger";
import { isPromiseLike } from "../util/promise-like";
import { ProtectionRefusal, ProtectionStoreError, ProtectionStoreFullError, type RefusalCode } from "./errors";
import type { BeginOutcome, IdempotencyStore, StoredResult } from "./idempotency-store";
import type { KeyHasher } from "./key-hasher";
import { MemoryStoreFullError } from "./memory-counters";
import { NO_OBSERVER, type RequestObserver } from "./observer";
import { DEFAULT_IDEMPOTENCY_MAX_RESULT_BYTES } from "./protection.settings";
import type { SendMark } from "./redis-budgets";
import { SEND_IN_PROGRESS_RETRY_MS } from "./registered-mobiles";
import {
  refuseForStoreFailure,
  retryStoreWrite,
  settled,
  STORE_RETRY_FIRST_MS,
  type StoreFailureLines,
} from "./store-failure";
import type {
  MaybePromise,
  OtpSubject,
  OtpThrottle,
  Reservation,
  ThrottleCode,
  Throttled,
  ThrottlePurpose,
  ThrottleScope,
} from "./otp-throttle";
import { monotonicNow } from "../util/clock";
import { timeoutAfterIo } from "../util/after-io";

/**
 * The one path every upstream write takes (OTP sends, OTP verifications, registrations; docs/security-requirements.md
 * B and E4):
 *   1. Idempotency-Key (optional): a repeat replays the first result; a repeat with other input is refused; a repeat
 *      while the first still runs is told so. Only then may anything be sent. First, before any budget: a retry racing
 *      the first request is answered IDEMPOTENCY_IN_FLIGHT, never by the first request's cooldown.
 *   2. Throttle: one point from every budget (destination, IP, client, global), or `throttled`. When the request has
 *      a `prepare`, the budgets that need nothing it recalls are taken before it: a request they refuse writes
 *      nothing to the stores (a registration's room and records; a CIBIL id's send mark).
 *   3. Prepare (optional): what the request needs from a store before anything is sent (the mobiles a CIBIL id was
 *      registered with, each then budgeted as one more destination, its own budgets only; room to remember a
 *      registration's mobile).
 *   4. The upstream call, exactly once, with a single-use send pass (aopay/send-pass.ts): without one AopayClient
 *      refuses every side-effecting endpoint, so there is no way to AOPay around this module.
 *   5. Settle: a call that provably never left the process gives its points back and frees the key; anything that
 *      may have reached AOPay keeps its cost and stores its result under the key. A value is first remembered
 *      (optional: a registration's mobile), which cannot undo the call: a failure there is logged and counted.
 * A point is given back only when nothing it pays for was done: a registration's points pay for `prepare`'s store
 * reads and writes as well as the call, so once `prepare` has run they are kept, whatever follows. A send's pay for
 * the send: given back when its recalled mobiles' budgets refuse it, or when it ends before or without its call.
 * If the shared store is unreachable or full, nothing is sent (fail closed): `unavailable`, or `unread` for a request
 * with an Idempotency-Key whose record could not be read (an earlier request under it may have sent). If a rule
 * refuses in `prepare` with the store answering (ProtectionRefusal), nothing is sent either: `refused`, never
 * `unavailable`.
 * It knows nothing of GraphQL: graphql/guarded-send.ts maps its outcome to result union members.
 */

export interface SendGuardOptions {
  /**
   * Throws ProtectionStoreError while the shared store may not be trusted with what the guard keeps (a Redis whose
   * maxmemory-policy evicts, REDIS_EVICTING_POLICY=refuse: redis.ts RedisServerCheck): the request is refused
   * (`unavailable`) before anything is claimed, taken or sent. Default: none (in memory).
   */
  assertSafe?: (what: string) => void;
  throttle: Pick<OtpThrottle, "reserve">;
  idempotency: IdempotencyStore;
  hasher: KeyHasher;
  /**
   * HMAC_SECRET_PREVIOUS's and HMAC_SECRET_NEXT's hashers (protection/index.ts; empty or absent without them): a key
   * recorded under one of those secrets answers as it did, and the current one is taken only when none holds it, in
   * one step (docs/security.md "Rotating the HMAC secret").
   */
  readHashers?: readonly KeyHasher[];
  /** Counts a record found under readHashers[index] (Protection.olderRead). */
  olderRead?: (store: "idempotency", index: number) => void;
  /** How long a key's result is kept. */
  idempotencyTtlMs: number;
  /**
   * The largest result a key keeps, in bytes of its JSON (IDEMPOTENCY_MAX_RESULT_BYTES; default
   * DEFAULT_IDEMPOTENCY_MAX_RESULT_BYTES, 8 KiB): a larger one is kept as UNKEPT_RESULT.
   */
  maxResultBytes?: number;
  /** How long a key stays "in flight" if its request never finishes (a crash): longer than any upstream call. */
  pendingTtlMs: number;
  /**
   * The longest a request's upstream attempts may run (the longer of REQUEST_DEADLINE_MS and AOPAY_DEADLINE_MS): a
   * key's pending record taken longer ago than that has lost its request, and a repeat is told the record's time left
   * (inFlightWaitMs).
   */
  longestRequestMs: number;
  /**
   * How long a `remember` that failed is tried again in the background (CIBIL_REGISTERED_MOBILE_RETRY_SECONDS);
   * default 0: not tried again.
   */
  rememberRetryMs?: number;
  /** Default: none. */
  observe?: RequestObserver;
  /** Epoch ms; default Date.now. */
  clock?: () => number;
  /**
   * The process's summarised store-failure lines (store-failure.ts StoreFailureLines): a refusal for an unreachable
   * or full store is the condition of the whole process, and every send meets it while it lasts; a line each was a
   * line per request beside its access line (which says PROTECTION_UNAVAILABLE), under the flood that filled it.
   */
  storeLines: StoreFailureLines;
}

/** What the guard knows about a send that went ahead, for the success result. */
export interface SendInfo {
  /**
   * Epoch ms from which the destination's budgets take another send: the reservation's time plus
   * Reservation.nextSendInMs. Equal to the reservation's time when nothing gates the next send (or no budget applies).
   */
  nextSendAt: number;
}

/** What the upstream call came back with: a value, or an upstream failure (anything else is a bug and is thrown). */
export type Answer<T> = { value: T } | { error: AopayError };

export interface SendRequest<T, R> {
  /** The guarded operation (a mutation name): scopes idempotency keys and labels logs and metrics. */
  field: string;
  /**
   * `send` (an SMS goes out), `verify` (an OTP is checked), `register` (a CIBIL registration: its IP and client
   * budgets, taken before `prepare`) or null (no budget).
   */
  budget: ThrottlePurpose | null;
  subject: OtpSubject;
  /** The canonical input: its fingerprint tells a repeat from a reuse of the key with other input. Never stored. */
  input: object;
  /** The client's Idempotency-Key, already checked for shape; undefined when none was sent. */
  idempotencyKey: string | undefined;
  log: Logger;
  /**
   * Run after the idempotency claim (a replay sends nothing and needs nothing) and once the budgets of
   * `subject.destinations`, the IP, the client (and the global one) allowed the request: destinations known only from
   * an earlier request (the mobiles a CIBIL id was registered with), then budgeted on their own; or a check that what
   * `remember` will keep can be kept. Throws ProtectionStoreError: the
   * request is refused (`unavailable`) and nothing is sent; or ProtectionRefusal: refused (`refused`), nothing sent.
   * In memory it may answer without a promise.
   */
  prepare?(): MaybePromise<OtpSubject["destinations"] | undefined>;
  /**
   * A CIBIL send's mark (RegisteredMobileStore.sendMark), carried into the budgets' take that runs before `prepare`,
   * which makes it in the same script when every budget allows the send (Redis: one round trip less); `prepare`'s
   * `sending` then takes up the take's answer. Whether made or not, its outcome is the mark's own (SendMark.taken).
   */
  mark?: SendMark;
  /**
   * After a call that returned a value, before its result is stored: keeps what later requests need (a registration's
   * CIBIL id and mobile). The call cannot be undone: a failure is logged and counted (observer.unrecorded), and the
   * result stands.
   */
  remember?(value: T): Promise<void>;
  /** The upstream call, made at most once, with the pass it must hand to AopayClient. */
  call(pass: SendPass): Promise<T>;
  /** The result to return (and, when it may have reached AOPay, to store) for what the call came back with. */
  settle(answer: Answer<T>, sent: SendInfo): R;
  /** A result as kept under the idempotency key. */
  store(result: R): StoredResult;
  /** A kept result as it is returned again; undefined when it cannot be (the store holds something unknown). */
  revive(stored: StoredResult): R | undefined;
}

export type SendOutcome<R> =
  | { kind: "sent"; result: R }
  | { kind: "replayed"; result: R }
  /**
   * A request with an Idempotency-Key refused by the store before its key's record was read (the command timed out or
   * never left, or the store was not to be trusted: assertSafe): it sent nothing, but an earlier request under its key
   * may have. `result` answers OUTCOME_UNKNOWN (#answerUnread), never PROTECTION_UNAVAILABLE, whose "nothing was
   * sent" led the client to a new key and a second OTP. Not a full store's refusal: a full Redis or in-memory table
   * reads the record first, and refuses only a key no request took (`unavailable`, PROTECTION_UNAVAILABLE).
   */
  | { kind: "unread"; result: R }
  /** `retryAfterMs`: how long the client is told to wait before asking again (inFlightWaitMs). */
  | { kind: "in-flight"; retryAfterMs: number }
  | { kind: "key-reused" }
  | { kind: "throttled"; code: ThrottleCode; scope: ThrottleScope; retryAfterSeconds: number }
  /** `retryAfterMs`: how long the refusal still holds (ProtectionRefusal's); undefined: no wait ends it. */
  | { kind: "refused"; code: RefusalCode; retryAfterMs?: number }
  | { kind: "unavailable" };

interface Claim {
  key: string;
  token: string;
  fingerprint: string;
  /** Epoch ms at which the pending record this claim took expires (begin's time plus pendingTtlMs). */
  pendingUntil: number;
}

/**
 * Most keys settled again at once (#settleKey); beyond it, a claim whose answer timed out is left to its expiry. */
const MAX_SETTLING = 10_000;

/** Whether the store's command timed out (sent, unanswered: it may still run in Redis), as ioredis words it. */
function timedOut(error: unknown): boolean {
  return (
    error instanceof ProtectionStoreError && error.cause instanceof Error && error.cause.message === "Command timed out"
  );
}

/**
 * What a key keeps in place of a result over maxResultBytes, or of one a bug lost once the call may have left (#run's
 * catch around the call): that its request went ahead, and no more. A type name no
 * GraphQL type can have (`#`), so no union member is ever revived as it. The key is not freed: the call may have
 * reached AOPay (an OTP sent), and a repeat taken as new would send it again. A repeat is answered OUTCOME_UNKNOWN
 * (sent: true), as a key whose request ended without a result (#begin `abandoned`). Before, a result was kept whatever
 * its size: each record as large as what AOPay answered (up to AOPAY_MAX_RESPONSE_BYTES, 1 MiB), 24 h, in memory up
 * to MEMORY_IDEMPOTENCY_MAX_KEYS of them, and in Redis without bound.
 */
export const UNKEPT_RESULT: StoredResult = Object.freeze({ typename: "#unkept", data: Object.freeze({}) });

/**
 * How long a repeat of a key whose record is pending is told to wait (IDEMPOTENCY_IN_FLIGHT's retryAfterSeconds):
 * `pendingForMs`, the time until the record answers OUTCOME_UNKNOWN (IdempotencyStore.begin's), once the record was
 * taken (`pendingTtlMs` before its end) more than `longestRequestMs` and SEND_IN_PROGRESS_RETRY_MS ago; else
 * SEND_IN_PROGRESS_RETRY_MS, about one upstream call, at most the time left. A record without a pendingForMs (an older
 * version's) is told SEND_IN_PROGRESS_RETRY_MS: nothing says when it turns. Past the longest a request runs, and the
 * moment its result takes to store, its request has ended without storing a result (its process died, or the store
 * failed it until then) and nothing turns the record sooner: told 2 s, a client asked every 2 s for up to the whole
 * pending time (outlivingRequestsMs: 60 s, or 3 times the longest request when longer) and met the same answer.
 * Still an estimate in one case: a result whose write waited for a store that failed (#settleKey) lands within
 * STORE_RETRY_MAX_MS of the store answering again, sooner than the time told, and is replayed from then on.
 */
export function inFlightWaitMs(
  pendingForMs: number | undefined,
  pendingTtlMs: number,
  longestRequestMs: number,
): number {
  if (pendingForMs === undefined) return SEND_IN_PROGRESS_RETRY_MS;
  const gone = pendingTtlMs - pendingForMs > longestRequestMs + SEND_IN_PROGRESS_RETRY_MS;
  return gone ? pendingForMs : Math.min(pendingForMs, SEND_IN_PROGRESS_RETRY_MS);
}

const NO_BUDGET = { allowed: true as const, nextSendInMs: 0, refund: async () => undefined };

/**
 * An Idempotency-Key's store key (`scope`: client, operation and key) and its input's fingerprint, under one secret's
 * hasher: the current one, or during a rotation a previous or the coming one (SendGuard #begin).
 */
export function idempotencyKeys(hasher: KeyHasher, scope: string, input: string): { key: string; fingerprint: string } {
  return { key: hasher.hash("idempotency", scope), fingerprint: hasher.hash("fingerprint", input) };
}

export class SendGuard {
  readonly #observe: RequestObserver;
  readonly #clock: () => number;
  /**
   * Keys still being settled again (#settleKey: a result stored, a key freed). Bounded without a cap of its own: only
   * a request that took its key before the store failed gets one, so at most the requests in flight then (admission
   * control); while the store stays down, new requests cannot take a key.
   */
  readonly #settling = new Set<Promise<void>>();
  /** Set by drain(): the store's connection is about to close, and a retry still waiting gives up. */
  #draining = false;

  constructor(private readonly options: SendGuardOptions) {
    this.#observe = options.observe ?? NO_OBSERVER;
    this.#clock = options.clock ?? Date.now;
  }

  async run<T, R>(req: SendRequest<T, R>): Promise<SendOutcome<R>> {
    const { field, log } = req;
    let claim: Claim | undefined;
    /**
     * Whether the points taken before `prepare` ran paid for its store work (a registration's; a send's do not:
     * `unsent`), which a refund would make free, so they are never given back. Given back when `prepare` refused (a
     * registration of a PAN with four mobiles, of one whose CIBIL id has a send under way) or when the call never left
     * (the circuit open, the client gone), a client repeated that store work (a record read and opened, a mobile
     * added, a Redis write) as often as it liked with no budget spent (test/e2e/shared-tables.test.ts).
     */
    let paidForPrepare = false;
    /**
     * A send's points taken before `prepare` ran (generateCibilOtp's: the CIBIL id's, the IP's, the client's, the
     * global one; then its recalled mobiles' too), while its call has not been made: given back if the request ends
     * before the call (the mobiles' budgets refuse, `prepare` or the store fails). Unlike a registration's, they pay
     * for the send only, as they did when `prepare` ran first: a client repeating a refused send costs the send mark
     * and the recall, as before, and nothing when the id's own budgets refuse it, which they do first.
     */
    let unsent: Reservation | undefined;
    // Set once the call may leave: from then on nothing reaching the catch below frees the key (a repeat would send).
    let mayHaveLeft = false;
    // Whether the key's record, if any, has been read (no key: nothing to read). Until then a store failure cannot say
    // that nothing was sent under the key (#answerUnread).
    let keyRead = req.idempotencyKey === undefined;
    try {
      this.options.assertSafe?.("otp send");
      // Without an Idempotency-Key (most requests) there is nothing to claim: no call, no promise to wait for.
      if (req.idempotencyKey !== undefined) {
        const begun = await this.#begin(req);
        keyRead = true;
        if (begun.kind !== "acquired") return begun;
        claim = begun.claim;
      }

      // The budgets that need nothing `prepare` recalls are taken before it, so that a request they refuse costs no
      // store write: a registration's (IP, client: the registered-mobile room and records `prepare` touches), and a
      // send's own destinations' with the IP's, the client's and the global one (generateCibilOtp: the CIBIL id's
      // cooldown, the common refusal, no longer marks the id as sending and unmarks it again). The claim above stays
      // first: a retry racing the first request with its key must be told IDEMPOTENCY_IN_FLIGHT; with the budgets
      // first, the first request's cooldown answered it OTP_COOLDOWN (60 s) instead (test/e2e/redis-cluster.test.ts;
      // 5e6532f reverted that order). A throttled keyed request pays its claim and its release, by design.
      // In memory the throttle answers synchronously: awaited only when it is a promise (Redis), a microtask hop less.
      let reservation: Reservation | Throttled | undefined;
      if (req.budget !== null && req.prepare !== undefined) {
        let early = this.options.throttle.reserve(req.subject, req.budget, false, req.mark);
        if (isPromiseLike(early)) early = await early;
        reservation = early;
        // A registration's points pay for `prepare`'s store work and are kept once it has run; a send's are given
        // back until its call may have left (`unsent`: see the catch below and #refundUnsent).
        if (early.allowed) {
          if (req.budget === "register") paidForPrepare = true;
          else unsent = early;
        }
      }
      if (req.prepare && (reservation === undefined || reservation.allowed)) {
        let recalled = req.prepare();
        if (isPromiseLike(recalled)) recalled = await recalled;
        // The recalled destinations (a CIBIL id's registered mobiles): their own budgets only, the IP's, client's and
        // global ones being taken already. Each budget is judged and taken in one of the two steps, never split, so
        // two concurrent sends still cannot both pass one cooldown (the id's in the first step, the mobile's in the
        // second). If the mobile's refuse, the first step's points are given back: budgets count sends, not attempts,
        // and the id's cooldown must not hold off its customer for a send that never went. The send mark `prepare`
        // made is then the one store write a refused request costs, and only when the id's own budgets allowed it.
        const budget = req.budget;
        if (recalled?.length && reservation !== undefined && budget !== null && budget !== "register") {
          const { ip, clientId } = req.subject;
          let extra = this.options.throttle.reserve({ destinations: recalled, ip, clientId }, budget, true);
          if (isPromiseLike(extra)) extra = await extra;
          if (!extra.allowed) {
            await this.#refundUnsent(req, unsent);
            unsent = undefined;
            reservation = extra;
          } else {
            reservation = bothOf(reservation as Reservation, extra);
            unsent = reservation;
          }
        }
      }

      if (reservation === undefined) {
        let reserved = req.budget ? this.options.throttle.reserve(req.subject, req.budget) : NO_BUDGET;
        if (isPromiseLike(reserved)) reserved = await reserved;
        reservation = reserved;
      }
      if (!reservation.allowed) {
        await this.#freeKey(req, claim);
        // No line of its own: the request's access line names the code and the scope (guarded-send.ts).
        this.#observe.throttled(field, reservation.code, reservation.scope);
        const { code, scope, retryAfterSeconds } = reservation;
        return { kind: "throttled", code, scope, retryAfterSeconds };
      }

      const sent: SendInfo = { nextSendAt: this.#clock() + reservation.nextSendInMs };
      // From here the call may leave: its points are settled below, never by the catch's give-back.
      unsent = undefined;
      mayHaveLeft = true;
      let answer: Answer<T>;
      let result: R;
      try {
        const value = await req.call(issueSendPass(field));
        answer = { value };
        result = req.settle(answer, sent);
        if (req.remember) await this.#remember(req, value);
      } catch (error) {
        if (!isAopayError(error)) {
          // A bug, not an upstream outcome, thrown once the call may have left (in the call, in reading its answer, in
          // settle or remember): thrown on, and the key kept as UNKEPT_RESULT, never freed: a repeat taken as new
          // would send the OTP again. An attack review had it so: on Node 20 (JSON.isRawJSON missing) every answer
          // failed after AOPay had sent the SMS, and a repeat of the key sent a second one once the cooldown passed
          // (at once with OTP_COOLDOWN_SECONDS=0). A repeat is answered OUTCOME_UNKNOWN. The points stay spent too.
          if (claim) await this.#keepUnkept(req, claim);
          throw error;
        }
        answer = { error };
        result = req.settle(answer, sent);
        if (!error.sent) {
          // Not sent: its points go back, unless they paid for `prepare`'s store work, which did happen.
          if (!paidForPrepare) await settleSafely(log, "refund", () => reservation.refund());
          await this.#freeKey(req, claim);
          return { kind: "sent", result };
        }
      }
      if (claim) await this.#storeResult(req, claim, req.store(result));
      return { kind: "sent", result };
    } catch (error) {
      // A bug thrown on once the call may have left: its key is kept (above), never freed as a refusal's would be.
      if (mayHaveLeft) throw error;
      // A send's points taken before `prepare` (or before its recalled mobiles' budgets) whose request failed before
      // the call (`prepare` or the second reservation: the store unreachable, a record that does not open): nothing was
      // sent, so nothing is paid, as when `prepare` ran first. Best effort: with the store gone they stay taken.
      if (unsent) await this.#refundUnsent(req, unsent);
      if (error instanceof ProtectionRefusal) {
        // A decision, with the store answering: no store-failure line, not counted as the store unavailable (that
        // counter pages operators). No line of its own either, as a throttle: the access line names the code
        // (guarded-send.ts), and a client can repeat the request at will.
        this.#observe.refused(field, error.code);
        await this.#freeKey(req, claim);
        return { kind: "refused", code: error.code, retryAfterMs: error.retryAfterMs };
      }
      if (!(error instanceof ProtectionStoreError)) throw error;
      // Sorted as the read budgets sort it (store-failure.ts): over share, full, or unavailable (summarised line).
      refuseForStoreFailure(error, {
        field,
        overShare: (f, table) => this.#observe.overShare?.(f, table),
        unavailable: (f) => this.#observe.protectionUnavailable(f),
        full: () => {
          if (this.options.storeLines.sendsFull.take("otp send"))
            log.info({ otpSend: { field, refused: "memory store full" } }, "otp send refused: in-memory store full");
        },
        summary: this.options.storeLines.unavailable,
        reason: "otp send",
        log,
        message: "otp send refused: protection store unavailable",
      });
      await this.#freeKey(req, claim);
      // A full store refuses only a key it holds no record of: the in-memory table (MemoryIdempotencyStore.begin looks
      // first), and a full Redis (RedisIdempotencyStore.begin reads the record once its claim is refused). No request
      // under the key was recorded, so none sent: PROTECTION_UNAVAILABLE, and the same key sends once there is room.
      const full = error instanceof MemoryStoreFullError || error instanceof ProtectionStoreFullError;
      if (!keyRead && !full) return this.#answerUnread(req);
      return { kind: "unavailable" };
    }
  }

  /**
   * The answer to a request with an Idempotency-Key refused before its key's record could be read (run's `keyRead`):
   * a repeat of a key whose first request sent, told PROTECTION_UNAVAILABLE ("nothing was sent; try again later"),
   * had its client try a new key, and send a second OTP. OUTCOME_UNKNOWN says what is known: this request, or an
   * earlier one under its key, may have reached AOPay; repeated under the same key once the store answers, it replays
   * that request's result, or sends for the first time (its claim, if it ran late, freed by #begin). Still counted and
   * logged as the store failure it is (aopay_protection_unavailable_total pages); not as a replay, nothing was read.
   */
  #answerUnread<R>(req: SendRequest<unknown, R>): { kind: "unread"; result: R } {
    const why = "the record of this Idempotency-Key could not be read: an earlier request with it may have been sent";
    return { kind: "unread", result: this.#outcomeUnknown(req, why) };
  }

  /** Gives a send's points back (a request that ended before its call), never throwing: logged if the store fails. */
  async #refundUnsent(req: SendRequest<unknown, unknown>, unsent: Reservation | undefined): Promise<void> {
    if (unsent) await settleSafely(req.log, "refund", () => unsent.refund());
  }

  async #begin<R>(
    req: SendRequest<unknown, R>,
  ): Promise<
    { kind: "acquired"; claim?: Claim } | Extract<SendOutcome<R>, { kind: "replayed" | "in-flight" | "key-reused" }>
  > {
    const { field, log, idempotencyKey } = req;
    if (idempotencyKey === undefined) return { kind: "acquired" };
    const { hasher, idempotency, pendingTtlMs, longestRequestMs } = this.options;
    // Scoped to the client and the operation, so two clients (or two mutations) never share a key.
    const scope = `${req.subject.clientId}\n${field}\n${idempotencyKey}`;
    const input = `${field}\n${canonicalJson(req.input)}`;
    const { key, fingerprint } = idempotencyKeys(hasher, scope, input);
    // During a rotation of HMAC_SECRET, a key recorded under a previous secret, or under the coming one by a replica
    // already switched to it, answers as it did (replay, mismatch, in flight, abandoned); only a key found under none
    // is taken, under the current secret, in the same step (IdempotencyStore.begin). Without HMAC_SECRET_PREVIOUS and
    // HMAC_SECRET_NEXT the list is empty: no HMAC and no command more (docs/security.md "Rotating the HMAC secret").
    const readHashers = this.options.readHashers;
    const others =
      readHashers === undefined || readHashers.length === 0
        ? undefined
        : readHashers.map((other, i) => {
            const olderRead = this.options.olderRead;
            return { ...idempotencyKeys(other, scope, input), found: olderRead && (() => olderRead("idempotency", i)) };
          });
    // The pending record is kept as long as a result would be: a request that died with the key (a crash, SIGKILL)
    // while its send may have been upstream is answered OutcomeUnknown, never taken as new once its pending time ends.
    const token = randomUUID();
    let begun: BeginOutcome;
    try {
      // The owner: the client's key (in memory, each client holds at most its share of the table).
      const owner = hasher.memoized("client", req.subject.clientId);
      begun = await idempotency.begin(
        key,
        fingerprint,
        pendingTtlMs,
        this.options.idempotencyTtlMs,
        token,
        others,
        owner,
      );
    } catch (error) {
      // A claim that timed out here may still be taken in Redis once it answers (a stalled Redis runs the queued SET
      // later): free it, by its token, as soon as the store answers. Left, it orphaned the key of a request told
      // "nothing was sent; try again later": the retry with that key met IDEMPOTENCY_IN_FLIGHT (an audit stalled Redis
      // for 1.2 s), and, kept past its pending time, OUTCOME_UNKNOWN.
      // Only a command that timed out can have reached Redis: one refused while disconnected never left (ioredis has
      // no offline queue here, protection/redis.ts). At most MAX_SETTLING such frees wait at once.
      if (timedOut(error) && this.#settling.size < MAX_SETTLING)
        void this.#freeKey(req, { key, token, fingerprint, pendingUntil: this.#clock() + pendingTtlMs }, true);
      throw error;
    }
    switch (begun.kind) {
      case "acquired":
        return {
          kind: "acquired",
          claim: { key, token, fingerprint, pendingUntil: this.#clock() + pendingTtlMs },
        };
      case "mismatch":
        return { kind: "key-reused" };
      case "in-flight":
        // As a throttle's, on the access line (guarded-send.ts): a client repeating its key cannot double the log.
        return { kind: "in-flight", retryAfterMs: inFlightWaitMs(begun.pendingForMs, pendingTtlMs, longestRequestMs) };
      case "abandoned": {
        // Its request ended without a result (the process died, or the store was lost past the pending time): what
        // it sent is unknown. A second send under the same key would be the duplicate the key exists to prevent (an
        // audit SIGKILLed a server with a send upstream; the same key, 70 s later, reached AOPay again).
        if (this.options.storeLines.keyRecords.take("abandoned"))
          log.warn(
            { otpSend: { field, idempotency: "abandoned" } },
            "idempotency key abandoned: answered OUTCOME_UNKNOWN",
          );
        return this.#answerUnknown(req, "the request that took this Idempotency-Key ended without a result");
      }
      case "unreadable":
        // Its bytes are not logged: not ours to read, and perhaps not ours at all.
        if (this.options.storeLines.keyRecords.take("unreadable"))
          log.warn(
            { otpSend: { field, idempotency: "unreadable" } },
            "idempotency record this version cannot read: answered OUTCOME_UNKNOWN",
          );
        return this.#answerUnknown(req, "the record of this Idempotency-Key cannot be read by this version");
      case "unopenable":
        // A key problem for operators (STORE_ENCRYPTION_KEYS on this replica, or a record tampered with): an error line
        // with the store's error. Not counted as a store failure (aopay_protection_unavailable): nothing was refused.
        // Summarised as the other repeats answered OUTCOME_UNKNOWN (keyRecords), not as the store failures: its client
        // repeats the key at will, and there it took the one line per 10 s a real failure (Redis down) would write,
        // the rest counted as `more requests refused`. The client is told what it is: the key's request went ahead,
        // its answer not readable here; the same key replays it once a replica holding the key answers (a rotation's
        // step: docs/security.md).
        if (this.options.storeLines.keyRecords.take("unopenable"))
          log.error(
            { err: begun.error, otpSend: { field, idempotency: "unopenable" } },
            "idempotency result does not open (STORE_ENCRYPTION_KEYS?): answered OUTCOME_UNKNOWN",
          );
        return this.#answerUnknown(req, "the answer to this Idempotency-Key cannot be opened by this server");
      case "replay": {
        if (begun.result.typename === UNKEPT_RESULT.typename) {
          // Sent before, its answer not kept (too large, or a bug after the call: #keepUnkept): never sent
          // again; told the outcome is unknown. No line here, unlike `abandoned`: a too-large result was logged when
          // kept (#storeResult), and a bug's error was thrown on.
          return this.#answerUnknown(req, "the answer to this Idempotency-Key was not kept");
        }
        const result = req.revive(begun.result);
        if (result === undefined) return this.#unknownType(req, begun.result.typename);
        this.#observe.replayed(field);
        return { kind: "replayed", result };
      }
    }
  }

  /**
   * A result kept under this key (its input's, sealed with our key: written by this service) whose type this version
   * does not know: another version's, during a rolling update (a union member or a marker added or removed since).
   * Its request went ahead, so it is answered as UNKEPT_RESULT is, OUTCOME_UNKNOWN (sent: true), never sent again, and
   * logged (the type name: ours, never client or customer text). Before, it was a store failure:
   * PROTECTION_UNAVAILABLE, which tells the client nothing was sent and to retry (a new key would send a second SMS),
   * paged operators (aopay_protection_unavailable_total), and kept on until the record expired
   * (IDEMPOTENCY_TTL_SECONDS).
   */
  #unknownType<R>(req: SendRequest<unknown, R>, typename: string): { kind: "replayed"; result: R } {
    const { field, log } = req;
    // Summarised as `abandoned` is (store-failure.ts keyRecords): a client can repeat the key at will.
    if (this.options.storeLines.keyRecords.take("unknown type"))
      log.warn(
        { otpSend: { field, idempotency: "unknown type", storedType: typename.slice(0, 64) } },
        "idempotency result of a type this version does not know: answered OUTCOME_UNKNOWN",
      );
    return this.#answerUnknown(req, "the answer to this Idempotency-Key cannot be read by this version");
  }

  /**
   * The answer to a repeat of a key whose request may have sent, its result unknown (#begin: `abandoned`, or a replay
   * of UNKEPT_RESULT): OUTCOME_UNKNOWN with sent: true, never a second call; counted as a replay. `why` is the
   * error's message. The caller writes the line, if any.
   */
  #answerUnknown<R>(req: SendRequest<unknown, R>, why: string): { kind: "replayed"; result: R } {
    this.#observe.replayed(req.field);
    return { kind: "replayed", result: this.#outcomeUnknown(req, why) };
  }

  /** The request's OUTCOME_UNKNOWN answer (#answerUnknown, #answerUnread): a call that may have been sent, `why`. */
  #outcomeUnknown<R>(req: SendRequest<unknown, R>, why: string): R {
    const unknown = new AopayOutcomeUnknownError(why, { endpoint: req.field, sent: true });
    return req.settle({ error: unknown }, { nextSendAt: this.#clock() });
  }

  /**
   * `req.remember`, whose failure is reported and never thrown: the call it follows has happened. A failure is tried
   * again in the background for `rememberRetryMs` (bounded like #settleKey: at most MAX_SETTLING at once, drain()
   * waits for them within the grace period): it repeats the store write only, never the upstream call, so it can
   * neither send nor register anything twice. Before, a registration answered while Redis was away (a restart, a
   * failover) left its CIBIL id without its mobile for good: that id's OTP sends budgeted by the id only, with only a
   * counter and a log line to say so. A full in-memory store is not tried again (room comes only as records expire),
   * nor is a record that other registrations of the id keep changing (RegisteredMobilesBusyError, a refusal, not a
   * store failure, after its own 30 tries). Counted as unrecorded (aopay_unrecorded_writes_total) only once given up.
   */
  async #remember<T>(req: SendRequest<T, unknown>, value: T): Promise<void> {
    if (!req.remember) return;
    const remember = req.remember;
    const { field, log } = req;
    try {
      await remember(value);
      return;
    } catch (error) {
      const retryMs = this.options.rememberRetryMs ?? 0;
      const retryable =
        retryMs > 0 &&
        error instanceof ProtectionStoreError &&
        !(error instanceof MemoryStoreFullError) &&
        this.#settling.size < MAX_SETTLING &&
        !this.#draining;
      if (!retryable) {
        log.error({ err: error, otpSend: { field } }, "sent, but what it needs remembered was not stored");
        this.#observe.unrecorded(field);
        return;
      }
      log.warn(
        { err: error, otpSend: { field, registeredMobile: "retrying" } },
        "sent, and what it needs remembered is not stored yet: trying again in the background",
      );
      const until = monotonicNow() + retryMs;
      const retry = (async () => {
        const retried = await retryStoreWrite({
          inTimeFor: (delay) => !this.#draining && monotonicNow() + delay <= until,
          afterWait: () => (this.#draining ? "give up" : "attempt"),
          attempt: () => remember(value),
        });
        if (retried.end === "written") {
          log.info({ otpSend: { field, registeredMobile: "stored on retry" } }, "remembered on retry");
          return;
        }
        const last = retried.end === "given up" ? (retried.lastError ?? error) : error;
        log.error({ err: last, otpSend: { field } }, "sent, but what it needs remembered was not stored");
        this.#observe.unrecorded(field);
      })();
      this.#settle(settled(retry, log, "registered mobile"));
    }
  }

  /**
   * Stores the result of a call that may have reached AOPay under its key. A failure never turns the result into an
   * error (the call has happened): the store is tried again in the background (#settleKey), so that a repeat meets
   * the result rather than OUTCOME_UNKNOWN (the answer to a key whose request ended without a result). One not stored
   * by the end of the key's pending time is logged and counted (observer.unrecorded).
   */
  async #storeResult(req: SendRequest<unknown, unknown>, claim: Claim, result: StoredResult): Promise<void> {
    // Bounded by bytes as well as by count: the stores seal this JSON (idempotency-store.ts sealResult), so its length
    // is what the record holds (4/3 of it once sealed, plus 100 bytes or so). Measured here, once for both stores.
    const maxBytes = this.options.maxResultBytes ?? DEFAULT_IDEMPOTENCY_MAX_RESULT_BYTES;
    const bytes = Buffer.byteLength(JSON.stringify(result));
    if (bytes > maxBytes) {
      // The field and the sizes only: the result holds what the client saw, never logged.
      req.log.warn(
        { otpSend: { field: req.field, idempotency: "unkept", bytes, maxBytes } },
        "idempotency result too large to keep: a repeat of its key is answered OUTCOME_UNKNOWN",
      );
      this.#observe.unkeptResult?.(req.field);
      return this.#keepUnkept(req, claim);
    }
    await this.#complete(req, claim, result);
  }

  /**
   * Keeps UNKEPT_RESULT under the key of a call that may have reached AOPay whose result is not kept: too large
   * (#storeResult), or lost to a bug once the call may have left (run's catch around the call). Never through
   * #storeResult's size check, which has nothing to measure here. A repeat is answered OUTCOME_UNKNOWN (#begin).
   */
  async #keepUnkept(req: SendRequest<unknown, unknown>, claim: Claim): Promise<void> {
    await this.#complete(req, claim, UNKEPT_RESULT);
  }

  /** Writes `stored` under the claimed key (#storeResult, #keepUnkept), tried again as #storeResult says. */
  async #complete(req: SendRequest<unknown, unknown>, claim: Claim, stored: StoredResult): Promise<void> {
    const { key, token, fingerprint } = claim;
    await this.#settleKey(req, claim, "store", async () => {
      const outcome = await this.options.idempotency.complete(
        key,
        token,
        fingerprint,
        stored,
        this.options.idempotencyTtlMs,
      );
      if (outcome === "stored") return;
      const { field, log } = req;
      if (outcome === "restored") {
        // The pending record was gone (a Redis restart or failover that lost it, a flush): written again, so that a
        // repeat replays this result. A repeat that came while it was gone took the key as new (nothing can tell).
        log.warn(
          { otpSend: { field, idempotency: "restored" } },
          "idempotency record had vanished while the send ran: its result was stored again",
        );
        return;
      }
      // Another request holds the key: its record ended while this send ran (its pending time is longer than any
      // upstream call, so only a lost record, then a repeat, does this). A later repeat meets that request's record.
      log.error(
        { otpSend: { field, idempotency: "superseded" } },
        "idempotency result not stored: another request took the key while this send ran",
      );
      this.#observe.unrecorded(field);
    });
  }

  /**
   * Frees the key of a request that sent nothing (throttled, refused, provably never left), never throwing: a failure
   * is tried again in the background (#settleKey). Left pending, the key would answer OUTCOME_UNKNOWN once its pending
   * time passed, for a request that provably sent nothing.
   */
  async #freeKey(req: SendRequest<unknown, unknown>, claim: Claim | undefined, quiet = false): Promise<void> {
    if (claim)
      await this.#settleKey(
        req,
        claim,
        "release",
        () => this.options.idempotency.release(claim.key, claim.token),
        quiet,
      );
  }

  /** A background retry, kept for the drain until it ends (it never rejects: store-failure.ts settled). */
  #settle(retry: Promise<void>): void {
    this.#settling.add(retry);
    void retry.then(() => this.#settling.delete(retry));
  }

  /**
   * A write that settles a key (store its result, or free it). If the shared store fails it (Redis went away while
   * the call was upstream), it is tried again in the background after STORE_RETRY_FIRST_MS, doubling, until it
   * succeeds, the key's pending time has passed, or the server drains (drain() waits for it within the grace period).
   * Already draining, or with no time left in the pending time for an attempt, it is not tried again, and its first
   * line says so: it said "trying again in the background" with the give-up line right after it. Not tried again, a
   * result left pending made the key answer IDEMPOTENCY_IN_FLIGHT until the record expired, then take a repeat as new:
   * a second SMS for one Idempotency-Key (an audit cut Redis for 3.5 s while a send was upstream; a retry of the key
   * 70 s later reached AOPay again). The loop is store-failure.ts retryStoreWrite, shared with the other store writes.
   *
   * The give-up lines say what a repeat of the key meets: its pending record, IDEMPOTENCY_IN_FLIGHT until its pending
   * time ends (`pendingForMs`), then OUTCOME_UNKNOWN (#begin `abandoned`). They named OUTCOME_UNKNOWN alone.
   */
  async #settleKey(
    req: SendRequest<unknown, unknown>,
    claim: Claim,
    what: "store" | "release",
    step: () => Promise<unknown>,
    /** A free that may have nothing to free (a claim whose answer timed out): no line while the store is down. */
    quiet = false,
  ): Promise<void> {
    const { field, log } = req;
    /** Whether an attempt `delay` ms from now still falls within the key's pending time, the server not draining. */
    const canRetryIn = (delay: number) => !this.#draining && this.#clock() + delay < claim.pendingUntil;
    const giveUp = () => {
      const pendingForMs = Math.max(0, claim.pendingUntil - this.#clock());
      if (what === "store") {
        log.error(
          { otpSend: { field, idempotency: "not stored", pendingForMs } },
          "idempotency result not stored: a repeat of this key is answered IDEMPOTENCY_IN_FLIGHT until its pending " +
            "time ends, then OUTCOME_UNKNOWN, never with the result",
        );
        this.#observe.unrecorded(field);
      } else if (!quiet) {
        log.error(
          { otpSend: { field, idempotency: "not freed", pendingForMs } },
          "idempotency key not freed: a repeat of this key is answered IDEMPOTENCY_IN_FLIGHT until its pending time " +
            "ends, then OUTCOME_UNKNOWN, though nothing was sent",
        );
      }
    };
    try {
      await step();
      return;
    } catch (error) {
      // The retry loop's first turn below.
      const retries = canRetryIn(STORE_RETRY_FIRST_MS);
      const why = retries
        ? "trying again in the background"
        : this.#draining
          ? "not tried again: the server is draining"
          : "not tried again: the key's pending time is over";
      if (!quiet) log.error({ err: error, otpSend: { field } }, `otp settle step failed: ${what} (${why})`);
      if (!retries) {
        giveUp();
        return;
      }
    }
    const retry = (async () => {
      // Still unreachable after each attempt: the next attempt, or the give-up, says so.
      const retried = await retryStoreWrite({
        inTimeFor: canRetryIn,
        afterWait: () => (this.#draining ? "give up" : "attempt"),
        attempt: step,
      });
      if (retried.end === "written") {
        log.info({ otpSend: { field, idempotency: `${what} on retry` } }, `idempotency ${what} done on retry`);
      } else {
        giveUp();
      }
    })();
    this.#settle(settled(retry, log, "idempotency settle"));
  }

  /**
   * Waits for the keys still being settled again (#settleKey), at most until `deadline` (monotonicNow's clock,
   * util/clock.ts, as app.ts reads it), then makes
   * the ones left give up (logged and counted): the drain (app.ts) calls it once its requests have ended and before it
   * closes the store's connection, so that a result the store missed while a send was upstream is not dropped with
   * the process when the store is back in time.
   */
  async drain(deadline: number): Promise<void> {
    if (this.#settling.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      // Judged after the store's replies readable by then (util/after-io.ts): a write Redis answered during a stall of
      // the loop is not given up as unsettled.
      const timeout = new Promise<void>((resolve) => {
        timer = timeoutAfterIo(resolve, Math.max(0, deadline - monotonicNow()), undefined);
      });
      await Promise.race([Promise.all([...this.#settling]), timeout]);
      clearTimeout(timer);
    }
    this.#draining = true;
  }
}

/**
 * One send's two reservations as one (SendGuard.run: the budgets taken before `prepare`, then the recalled mobiles'):
 * the longer wait before the destinations take another send, and a refund that gives back both.
 */
function bothOf(first: Reservation, second: Reservation): Reservation {
  return {
    allowed: true,
    nextSendInMs: Math.max(first.nextSendInMs, second.nextSendInMs),
    refund: async () => {
      await Promise.all([first.refund(), second.refund()]);
    },
  };
}

/** After the upstream call, store trouble must not turn a real result into an error: log it and carry on. */
async function settleSafely(log: Logger, what: string, step: () => Promise<void>): Promise<void> {
  try {
    await step();
  } catch (error) {
    log.error({ err: error }, `otp settle step failed: ${what}`);
  }
}

/** JSON with object keys sorted at every level, so the same input always has the same fingerprint. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
