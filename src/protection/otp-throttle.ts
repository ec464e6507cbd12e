import type Redis from "ioredis";
import type { Budget, ThrottleConfig } from "./otp-throttle.settings";
import { Capacity } from "./bounded-table";
import { ProtectionStoreError } from "./errors";
import type { KeyHasher } from "./key-hasher";
import {
  ClientShareFullError,
  DestinationCounters,
  MemoryCounter,
  type Refundable,
  type Window,
} from "./memory-counters";
import { DEFAULT_MEMORY_THROTTLE_MAX_KEYS } from "./protection.settings";
import {
  fixedSpec,
  type KeyCount,
  type RedisSlidingBudget,
  RedisBudgets,
  type SendMark,
  SLIDING_ROOM,
  SLIDING_USED_UP,
  slidingSpec,
  type Take,
} from "./redis-budgets";

/**
 * OTP throttling as a domain feature (docs/security-requirements.md B1-B5): every OTP send takes one point from each
 * budget that applies to it, all at once, or from none: per destination (each mobile, Aadhaar and CIBIL id on its own):
 * a cooldown, a short window and a daily cap, each an exact sliding window (B2's "3 per 10 minutes, 10 per day" holds
 * in every span of 10 minutes and of 24 hours); per mobile-number prefix (SMS pumping walks number ranges), per source
 * IP, per API client, and one global budget, each a fixed window. An OTP verification takes one point from the
 * customer's verification budget (each destination) and from its source IP's and API client's verification budgets
 * (guesses spread over many customers), kept apart from the sends' (fixed windows too). A CIBIL registration takes
 * one point from its source IP's and API client's registration budgets (fixed windows): it sends no SMS, but what
 * AOPay accepts is remembered for 90 days in tables every client shares (registered-mobiles.ts). A credit-report read
 * takes one point from its (client, CIBIL id) budget and its client's read budget (fixed windows): each is a
 * credit-bureau pull at AOPay, presumably charged (graphql/loaders.ts). Counters live in Redis
 * (redis-budgets.ts: one script per send takes every budget's point; shared by replicas and kept across restarts) or in
 * this process's memory (memory-counters.ts: the same semantics in bounded tables, one entry per destination holding
 * the times of its last sends, one per prefix, IP, client and global key, capped at MEMORY_THROTTLE_MAX_KEYS entries;
 * when full, sends that need a new entry are refused; a client holding its share of them,
 * MEMORY_THROTTLE_CLIENT_SHARE_PERCENT, is refused the same way, the others not). Keys are HMAC-SHA256 of the
 * identifier, never the number itself (KeyHasher). A send is counted before it happens. It is refunded only when the
 * call provably never left the process (docs/security-requirements.md E3: an unknown outcome keeps its cost).
 */

/**
 * What a destination budget is keyed by: a customer's number (mobile, Aadhaar, CIBIL id), or a value the upstream may
 * pick the recipient or the challenge by (a CIBIL access token, an AEPS user key and registration references:
 * graphql/guarded-mutations.ts).
 */
export type DestinationKind =
  "mobile" | "aadhaar" | "cibil" | "cibil-token" | "aeps-user" | "aeps-primary-key" | "aeps-txn";
/** Each kind's HMAC dimension, written once rather than built (`destination:${kind}`) per destination and send. */
const DESTINATION_DIMENSION: Readonly<Record<DestinationKind, string>> = {
  mobile: "destination:mobile",
  aadhaar: "destination:aadhaar",
  cibil: "destination:cibil",
  "cibil-token": "destination:cibil-token",
  "aeps-user": "destination:aeps-user",
  "aeps-primary-key": "destination:aeps-primary-key",
  "aeps-txn": "destination:aeps-txn",
};
export type ThrottleScope = "DESTINATION" | "MOBILE_PREFIX" | "IP" | "CLIENT" | "GLOBAL";
/** Digits of a mobile number that name its range (operator series): SMS pumping walks such ranges. */
export const MOBILE_PREFIX_DIGITS = 6;
/**
 * OTP_COOLDOWN: the destination's cooldown; OTP_LIMIT_REACHED: its window or daily cap; RATE_LIMITED: the rest;
 * VERIFY_LIMIT_REACHED: too many OTP verification attempts for the destination; READ_THROTTLED: a credit-report read
 * past its (client, CIBIL id) or client budget.
 */
export type ThrottleCode =
  "OTP_COOLDOWN" | "OTP_LIMIT_REACHED" | "RATE_LIMITED" | "VERIFY_LIMIT_REACHED" | "READ_THROTTLED";
/**
 * What a reservation is for: sending an OTP, checking one the customer typed, or registering a CIBIL customer
 * (`register`: sends no SMS, but each registration AOPay accepts keeps two records for 90 days, which one client
 * registering as fast as admission lets it would fill for every client: its own IP and client budgets), or reading a
 * consented customer's credit report (`read`: sends nothing, but each read is an AOPay GetCreditHistory call, a
 * credit-bureau pull, presumably charged: per (client, CIBIL id), the subject's destinations, and per client), or asking for one at all
 * (`read-attempt`: per source IP, before the consent check, consented or not: no probing CIBIL ids for free).
 */
export type ThrottlePurpose = "send" | "verify" | "register" | "read" | "read-attempt";

/**
 * The refusals each purpose's budgets can answer (OtpThrottle's constructor makes the budgets, reserve() picks them
 * per purpose): the code and scope pairs metrics.ts counts from 0 at startup. test/unit/protection/otp-throttle.test.ts
 * exhausts each budget and checks the pair it answers is listed here.
 */
export const THROTTLE_REFUSALS: Readonly<
  Record<ThrottlePurpose, ReadonlyArray<{ readonly code: ThrottleCode; readonly scope: ThrottleScope }>>
> = {
  send: [
    { code: "OTP_COOLDOWN", scope: "DESTINATION" },
    { code: "OTP_LIMIT_REACHED", scope: "DESTINATION" },
    { code: "RATE_LIMITED", scope: "MOBILE_PREFIX" },
    { code: "RATE_LIMITED", scope: "IP" },
    { code: "RATE_LIMITED", scope: "CLIENT" },
    { code: "RATE_LIMITED", scope: "GLOBAL" },
  ],
  verify: [
    { code: "VERIFY_LIMIT_REACHED", scope: "DESTINATION" },
    { code: "RATE_LIMITED", scope: "IP" },
    { code: "RATE_LIMITED", scope: "CLIENT" },
  ],
  register: [
    { code: "RATE_LIMITED", scope: "IP" },
    { code: "RATE_LIMITED", scope: "CLIENT" },
  ],
  read: [
    { code: "READ_THROTTLED", scope: "DESTINATION" },
    { code: "READ_THROTTLED", scope: "CLIENT" },
  ],
  "read-attempt": [{ code: "READ_THROTTLED", scope: "IP" }],
};

export interface OtpSubject {
  destinations: ReadonlyArray<{ kind: DestinationKind; value: string }>;
  ip: string;
  clientId: string;
}

export interface Throttled {
  allowed: false;
  code: ThrottleCode;
  scope: ThrottleScope;
  retryAfterSeconds: number;
}

export interface Reservation {
  allowed: true;
  /**
   * Milliseconds, from this reservation, until the destination(s) will take another send: the longest wait among the
   * destination budgets (cooldown, window, daily) this send used up (until the send that blocks leaves its span), 0
   * when none is used up. It is read from the same counters that refuse an earlier send, so an
   * OTP_COOLDOWN/OTP_LIMIT_REACHED answer before then says the same wait. The caller's own budgets (IP, client,
   * prefix, global) are not in it: they are not the destination's.
   * Always 0 for a verification and a registration.
   */
  nextSendInMs: number;
  /** Gives the points back: only for a send that provably never left the process. */
  refund(): Promise<void>;
}

interface Budgeted {
  name: string;
  code: ThrottleCode;
  /** PRIORITY.indexOf(code): lower wins when several budgets refuse. */
  rank: number;
  scope: ThrottleScope;
  points: number;
  /** Its window. */
  seconds: number;
  /** Its window and points as the Redis script reads them (redis-budgets.ts fixedSpec). */
  redisSpec: string;
  /** Its keys' prefix in Redis, `<REDIS_KEY_PREFIX>otp:<name>:` (null in memory). */
  redisPrefix: string | null;
  /** The in-memory counter (null with Redis, and for the destination budgets, which share DestinationCounters). */
  memory: MemoryCounter | null;
  /**
   * A send's destination budget (cooldown, window, daily): an exact sliding window over the destination's sends
   * (memory-counters.ts DestinationCounters, the sorted set of redis-budgets.ts); when it is used up, the destination
   * takes no send until its blocking send leaves the span (Reservation.nextSendInMs). The others are fixed windows.
   */
  gatesNextSend: boolean;
}

/** A value, or a promise of one: the in-memory store answers without a promise. */
export type MaybePromise<T> = T | Promise<T>;

/** What one send's takes add up to in Redis. */
type Verdict = { kind: "allowed"; nextSendInMs: number } | { kind: "refused"; throttled: Throttled };

/**
 * The verdict on one send from Redis's answer (`counts[i]` answers `budgets[i]`, fixed windows; `states` and `waits`
 * answer each destination key's budgets, `destination[b]` for the b-th of each): the same as #reserveNow reaches from
 * the in-memory counters (test/unit/protection/otp-throttle.test.ts; test/integration/redis-throttle.test.ts holds
 * both stores to the same answers). A fixed budget allows while its count is at most its points; a destination budget
 * as the script judged it (its sliding window). Allowed: `nextSendInMs` is the longest wait among the destination
 * budgets this send used up (0 if none). Refused: the most specific code (PRIORITY), the first such budget among
 * equals, and the longest wait among the refusals.
 *
 * Every key the script judges exists by the time it answers (a fixed window is opened by its SET NX, a destination's
 * set by the send's member), and the script never answers a count below 1 (incrOr: a key holding no count is one send
 * made now, answered 2) nor a state other than SLIDING_ROOM, SLIDING_USED_UP and SLIDING_REFUSED. An answer it never
 * gives (a count below 1, none at all, a state unknown: a script of another version under the name, a reply cut
 * short) is a refusal here, never room: this side cannot rewrite the key as the script does, so read as one send made
 * now it would be read so at every send, each let through, and read as room (as `consumed <= points` did) a count of
 * -1,000,000 let a million sends through (test/integration/redis-throttle.test.ts). Nothing is given back for it: the
 * outcome is the script's, and a second give-back would take another send's point.
 */
function verdict(
  budgets: readonly Budgeted[],
  counts: readonly KeyCount[],
  destination: readonly Budgeted[],
  states: readonly number[],
  waits: readonly number[],
): Verdict {
  let first: Budgeted | undefined;
  let waitMs = 0;
  let nextSend = 0;
  for (let i = 0; i < states.length; i++) {
    const budget = destination[i % destination.length];
    if (states[i] === SLIDING_USED_UP) nextSend = Math.max(nextSend, waits[i]);
    else if (states[i] !== SLIDING_ROOM) {
      // SLIDING_REFUSED, or a state the script never answers (refused: see above).
      if (first === undefined || budget.rank < first.rank) first = budget;
      waitMs = Math.max(waitMs, waits[i] > 0 ? waits[i] : 0);
    }
  }
  for (let i = 0; i < budgets.length; i++) {
    const budget = budgets[i];
    const { consumed, msBeforeNext } = counts[i];
    // At least 1 (see above): below it, or no number, is no count the script answers, and opens nothing.
    if (consumed >= 1 && consumed <= budget.points) {
      // OTP_LEGACY_DESTINATION_KEYS: a destination's fixed window this send used up gates the next send too.
      if (budget.gatesNextSend && consumed >= budget.points) nextSend = Math.max(nextSend, msBeforeNext);
      continue;
    }
    if (first === undefined || budget.rank < first.rank) first = budget;
    waitMs = Math.max(waitMs, msBeforeNext > 0 ? msBeforeNext : 0);
  }
  if (first === undefined) return { kind: "allowed", nextSendInMs: nextSend };
  return { kind: "refused", throttled: throttledBy(first, waitMs) };
}

/**
 * A read budget's key: the HMAC of the client and the customer together, as the consent it follows is keyed
 * (consent.ts consentKey), under a dimension of its own: one client's reads of a customer never spend another
 * client's, and the key says neither id (no identifier in clear in Redis nor in memory).
 */
function readKey(hasher: KeyHasher, clientId: string, kind: DestinationKind, value: string): string {
  return hasher.hash(READ_DIMENSION[kind], `${clientId}\n${value}`);
}
/** Each kind's read dimension (`read:destination:cibil`), written once as DESTINATION_DIMENSION is. */
const READ_DIMENSION = Object.fromEntries(
  Object.entries(DESTINATION_DIMENSION).map(([kind, dimension]) => [kind, `read:${dimension}`]),
) as Readonly<Record<DestinationKind, string>>;

/** A store's failure as the throttle reports it (both stores). */
function storeError(error: unknown): ProtectionStoreError {
  return error instanceof ProtectionStoreError ? error : new ProtectionStoreError("otp throttle", error);
}

/** The refusal both stores answer: the chosen budget's code and scope, the longest wait in whole seconds (≥ 1). */
function throttledBy(first: Budgeted, waitMs: number): Throttled {
  return {
    allowed: false,
    code: first.code,
    scope: first.scope,
    retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
  };
}

/** The in-memory counters' bound (MEMORY_THROTTLE_MAX_KEYS) and, for tests, their clock. */
export interface MemoryThrottleOptions {
  maxKeys: number;
  /**
   * The most entries one client's sends may hold (MEMORY_THROTTLE_CLIENT_SHARE_PERCENT of maxKeys); default maxKeys:
   * no share. Every entry is counted for a client: a fixed window for the one whose send opened it, a destination for
   * the one whose send was last added to it (memory-counters.ts DestinationCounters).
   */
  maxKeysPerOwner?: number;
  now?: () => number;
  /** Called on each send refused because the table is full (the owner logs it, rate-limited). */
  onFull?: () => void;
  /** Called on each send refused because its client holds its share (logged, rate-limited). */
  onOwnerFull?: () => void;
}

export const DEFAULT_MEMORY_THROTTLE: MemoryThrottleOptions = { maxKeys: DEFAULT_MEMORY_THROTTLE_MAX_KEYS };

/** Most specific first: the code a client sees when several budgets say no at once. */
const PRIORITY: ThrottleCode[] = [
  "VERIFY_LIMIT_REACHED",
  "OTP_COOLDOWN",
  "OTP_LIMIT_REACHED",
  "RATE_LIMITED",
  "READ_THROTTLED",
];

export interface ThrottleStore {
  redis: Redis;
  keyPrefix: string;
  /**
   * HMAC_SECRET_PREVIOUS (docs/security.md "Rotating the HMAC secret"): each keyed budget is also taken under the key
   * each of these makes, in the same script, counted and judged as the current key is (as OTP_LEGACY_DESTINATION_KEYS
   * takes the fixed-window keys): the sends made before the rotation still count, and replicas still on the old secret
   * see the new ones. Empty or absent: nothing more is hashed nor taken.
   */
  previousHashers?: readonly KeyHasher[];
}

/**
 * An allowed in-memory send: its refund gives back what it took (`counters[i]` under `keys[i]`). A method on one
 * object per send, not a closure (and its context) per send.
 */
class MemoryReservation implements Reservation {
  readonly allowed = true;

  constructor(
    readonly nextSendInMs: number,
    private readonly counters: readonly Refundable[],
    private readonly keys: readonly string[],
    /**
     * The clock reading the points were taken at: a refund reaches only the fixed windows open then, and removes the
     * destinations' sends of that time (Refundable).
     */
    private readonly takenAt: number,
  ) {}

  /** Given back once: a second call would take another send's point (the same millisecond's, the same window's). */
  #refunded = false;

  refund(): Promise<void> {
    if (this.#refunded) return Promise.resolve();
    this.#refunded = true;
    for (let i = 0; i < this.counters.length; i++) this.counters[i].reward(this.keys[i], this.takenAt);
    return Promise.resolve();
  }
}

export class OtpThrottle {
  readonly #destination: Budgeted[];
  /** The same budgets as the destination stores judge them: points per span in ms. */
  readonly #sliding: readonly RedisSlidingBudget[];
  readonly #mobilePrefix: Budgeted;
  readonly #ip: Budgeted;
  readonly #client: Budgeted;
  readonly #global: Budgeted;
  readonly #verify: Budgeted;
  readonly #verifyIp: Budgeted;
  readonly #verifyClient: Budgeted;
  readonly #registerIp: Budgeted;
  readonly #registerClient: Budgeted;
  readonly #readCibil: Budgeted;
  readonly #readClient: Budgeted;
  readonly #readIp: Budgeted;
  /** With Redis: every send's budgets in one script (null in memory). */
  readonly #redis: RedisBudgets | null;
  /** With Redis: the destinations' sorted sets' prefix, `<REDIS_KEY_PREFIX>otp:sends:` (null in memory). */
  readonly #sendsPrefix: string | null;
  /** With Redis and OTP_LEGACY_DESTINATION_KEYS: each destination's fixed-window keys of the versions before, too. */
  readonly #legacyKeys: boolean;
  /** With Redis: HMAC_SECRET_PREVIOUS's hashers (ThrottleStore.previousHashers); empty otherwise. */
  readonly #previous: readonly KeyHasher[];
  /** In memory: the counters' clock, read once per send (every counter answers synchronously). Null with Redis. */
  readonly #clock: (() => number) | null;
  /** In memory: the destination budgets (cooldown, window, daily), one entry per destination. Null with Redis. */
  readonly #destinations: DestinationCounters | null;
  /**
   * #reserveNow's state for the send in progress, reused from send to send (#reserveNow runs to the end
   * uninterrupted): per take, 1 if it allowed (a destination: its send was added), else 0.
   */
  readonly #allowed: number[] = [];
  #first: Budgeted | undefined;
  #waitMs = 0;
  #nextSend = 0;
  #failure: { error: unknown } | undefined;
  /** In memory: told of each reservation refused for its client's share (MemoryThrottleOptions.onOwnerFull). */
  readonly #onOwnerFull: (() => void) | undefined;

  constructor(
    config: ThrottleConfig,
    private readonly hasher: KeyHasher,
    store: ThrottleStore | null,
    memory: MemoryThrottleOptions = DEFAULT_MEMORY_THROTTLE,
  ) {
    // One cap for all the in-memory budgets together, and each client's share of it.
    const capacity = store
      ? null
      : new Capacity(
          memory.maxKeys,
          memory.now,
          memory.onFull,
          Math.min(memory.maxKeys, memory.maxKeysPerOwner ?? memory.maxKeys),
        );
    this.#onOwnerFull = capacity ? memory.onOwnerFull : undefined;
    this.#clock = capacity ? () => capacity.now() : null;
    this.#redis = store ? new RedisBudgets(store.redis) : null;
    this.#sendsPrefix = store ? `${store.keyPrefix}otp:sends:` : null;
    this.#legacyKeys = store !== null && config.legacyDestinationKeys === true;
    this.#previous = store?.previousHashers ?? [];
    const make = (
      name: string,
      code: ThrottleCode,
      scope: ThrottleScope,
      budget: Budget,
      gatesNextSend = false,
    ): Budgeted => {
      // In memory the destination budgets (those gating the next send) share one DestinationCounters.
      const memory =
        capacity && !gatesNextSend ? new MemoryCounter(budget.points, budget.seconds * 1000, capacity) : null;
      // rate-limiter-flexible's key, `${keyPrefix}:${key}`, with the keyPrefix this service gave it (redis-budgets.ts).
      const redisPrefix = store ? `${store.keyPrefix}otp:${name}:` : null;
      return {
        name,
        code,
        rank: PRIORITY.indexOf(code),
        scope,
        points: budget.points,
        seconds: budget.seconds,
        redisSpec: fixedSpec(budget.seconds, budget.points),
        redisPrefix,
        memory,
        gatesNextSend,
      };
    };
    const cooldown = { points: 1, seconds: config.cooldownSeconds };
    this.#destination = [
      ...(config.cooldownSeconds > 0 ? [make("cooldown", "OTP_COOLDOWN", "DESTINATION", cooldown, true)] : []),
      make("window", "OTP_LIMIT_REACHED", "DESTINATION", config.destinationWindow, true),
      make("daily", "OTP_LIMIT_REACHED", "DESTINATION", config.destinationDaily, true),
    ];
    // Budget b of a destination's entry is this.#destination[b].
    this.#sliding = this.#destination.map((b) => ({
      points: b.points,
      durationMs: b.seconds * 1000,
      redisSpec: slidingSpec(b.seconds * 1000, b.points),
    }));
    this.#destinations = capacity ? new DestinationCounters(this.#sliding, capacity) : null;
    this.#mobilePrefix = make("prefix", "RATE_LIMITED", "MOBILE_PREFIX", config.mobilePrefix);
    this.#ip = make("ip", "RATE_LIMITED", "IP", config.ip);
    this.#client = make("client", "RATE_LIMITED", "CLIENT", config.client);
    this.#global = make("global", "RATE_LIMITED", "GLOBAL", config.global);
    this.#verify = make("verify", "VERIFY_LIMIT_REACHED", "DESTINATION", config.verify);
    // RATE_LIMITED with the scope, as the sends' IP and client budgets answer: VERIFY_LIMIT_REACHED says "this
    // customer", and the customer may well have guesses left.
    this.#verifyIp = make("verify-ip", "RATE_LIMITED", "IP", config.verifyIp);
    this.#verifyClient = make("verify-client", "RATE_LIMITED", "CLIENT", config.verifyClient);
    // Registrations (no destination: a customer registers once, and what a flood fills is shared by every client).
    this.#registerIp = make("register-ip", "RATE_LIMITED", "IP", config.registerIp);
    this.#registerClient = make("register-client", "RATE_LIMITED", "CLIENT", config.registerClient);
    // Credit-report reads: per (client, CIBIL id), the scope DESTINATION as for the customer's other budgets (another
    // customer, or the same one read by another client, is not affected), and per client.
    this.#readCibil = make("read-cibil", "READ_THROTTLED", "DESTINATION", config.readCibil);
    this.#readClient = make("read-client", "READ_THROTTLED", "CLIENT", config.readClient);
    // Read attempts per IP (keyed as the sends' IP budget: an IPv6 /64), a step of its own before the consent check.
    this.#readIp = make("read-ip", "READ_THROTTLED", "IP", config.readIp);
  }

  /**
   * Takes one point from every budget that applies, or none. Throws ProtectionStoreError if the store fails.
   * A verification takes from the destination's verification budget and the IP's and client's verification budgets
   * only: it sends nothing, so it spends none of the sends' budgets.
   * In memory the answer is synchronous (a value, or a thrown error): no promise and no microtask hop per send
   * (SendGuard awaits only a promise); with Redis it is a promise.
   * `destinationsOnly`: the destinations' budgets alone (a send's: each one's cooldown, window, daily cap and a
   * mobile's prefix; a verification's: each one's verification budget), none of the IP's, the client's nor the global
   * one. For destinations learnt after a first reservation of the same request took those (SendGuard: a CIBIL id's
   * registered mobiles, recalled after the id's own budgets allowed the send), so that they are charged once. Each
   * budget is still judged and taken in one step (a key in one of the two reservations, never in both): two
   * concurrent sends cannot both pass one cooldown. Ignored for a registration and a read (taken in one step).
   * `mark` (a CIBIL send's, SendGuard's first reservation): with Redis, made in the take's own script once every
   * budget allowed the send (redis-budgets.ts TAKE_AND_MARK), one round trip less; in memory it is never begun, and
   * `sending` marks as before.
   */
  reserve(
    subject: OtpSubject,
    purpose: ThrottlePurpose = "send",
    destinationsOnly = false,
    mark?: SendMark,
  ): MaybePromise<Reservation | Throttled> {
    if (this.#clock) return this.#reserveNow(subject, purpose, this.#clock(), destinationsOnly);
    // Two parallel arrays (budget i is charged under keys[i]), not an object per budget.
    const budgets: Budgeted[] = [];
    const keys: string[] = [];
    // A send's destinations: one sorted set each, judged by every destination budget (redis-budgets.ts).
    const destinations: string[] = [];
    // Every keyed budget under the current secret, then under each previous one (HMAC_SECRET_PREVIOUS): the same
    // budgets and keys again, counted and judged as the current ones (a rotation resets nothing). Without it the
    // loop runs once, as before: no second HMAC, no second key in the script.
    const previous = this.#previous;
    for (let h = 0; h <= previous.length; h++) {
      const hasher = h === 0 ? this.hasher : previous[h - 1];
      if (purpose === "register") {
        budgets.push(this.#registerIp, this.#registerClient);
        keys.push(hasher.memoized("ip", subject.ip), hasher.memoized("client", subject.clientId));
      } else if (purpose === "read-attempt") {
        budgets.push(this.#readIp);
        keys.push(hasher.memoized("ip", subject.ip));
      } else if (purpose === "read") {
        for (const { kind, value } of subject.destinations) {
          budgets.push(this.#readCibil);
          keys.push(readKey(hasher, subject.clientId, kind, value));
        }
        budgets.push(this.#readClient);
        keys.push(hasher.memoized("client", subject.clientId));
      } else if (purpose === "verify") {
        for (const { kind, value } of subject.destinations) {
          budgets.push(this.#verify);
          keys.push(hasher.hash(DESTINATION_DIMENSION[kind], value));
        }
        if (destinationsOnly) continue;
        budgets.push(this.#verifyIp, this.#verifyClient);
        keys.push(hasher.memoized("ip", subject.ip), hasher.memoized("client", subject.clientId));
      } else {
        for (const { kind, value } of subject.destinations) {
          const key = hasher.hash(DESTINATION_DIMENSION[kind], value);
          destinations.push(key);
          // A rolling update from the fixed windows: the old replicas' keys for this destination, counted and judged
          // as they count them (a fixed window holds no more than the span ending now, so alone they refuse nothing
          // the sliding windows allow: only the old replicas' sends add to them).
          if (this.#legacyKeys)
            for (const budget of this.#destination) {
              budgets.push(budget);
              keys.push(key);
            }
          if (kind === "mobile") {
            budgets.push(this.#mobilePrefix);
            // Remembered (KeyHasher.memoized, bounded): a 6-digit prefix names a range of 10,000 numbers, an
            // operator series, not a customer; it is never logged nor kept in clear in a store (its key is the HMAC).
            // Saves the prefix's HMAC (two SHA-256) on nearly every AEPS send: callgrind, main thread, 19.1k
            // instructions per call hashed, 3.1k remembered (measured with the memo keyed by dimension and
            // identifier; keyed by the identifier since, a remembered call went from 119-135 to 32-38 ns:
            // key-hasher.ts). The mobile's own key (above) is computed every time and never remembered.
            keys.push(hasher.memoized("mobile-prefix", value.slice(0, MOBILE_PREFIX_DIGITS)));
          }
        }
        if (destinationsOnly) continue;
        budgets.push(this.#ip, this.#client);
        keys.push(hasher.memoized("ip", subject.ip), hasher.memoized("client", subject.clientId));
      }
    }
    // The global budget has no identifier, so no secret: taken once.
    if (purpose === "send" && !destinationsOnly) {
      budgets.push(this.#global);
      keys.push("all");
    }
    return this.#take(budgets, keys, destinations, purpose === "send" && !destinationsOnly ? mark : undefined);
  }

  /**
   * reserve() in memory: the same verdict as #take and `verdict` (Redis), computed as the counters answer, at one
   * `now` for the whole send, without a promise. A destination's budgets are one entry (DestinationCounters): one
   * lookup and, for a new destination, one insert per destination rather than three. Each consume is judged right
   * after it (the same destination twice in one send sees its first consume). `counters[i]` was charged under
   * `keys[i]`; the two arrays are all a reservation keeps (its refund gives every point back).
   */
  #reserveNow(
    subject: OtpSubject,
    purpose: ThrottlePurpose,
    now: number,
    destinationsOnly: boolean,
  ): Reservation | Throttled {
    const counters: Refundable[] = [];
    const keys: string[] = [];
    this.#first = undefined;
    this.#waitMs = 0;
    this.#nextSend = 0;
    this.#failure = undefined;
    // The client's key: its client budget's, and the client every new entry counts for (its share of the table).
    const client = this.hasher.memoized("client", subject.clientId);
    // Every budget is consumed even after one fails (a full table); the failure then gives back what was allowed.
    if (purpose === "register") {
      this.#takeOne(this.#registerIp, this.hasher.memoized("ip", subject.ip), now, counters, keys, client);
      this.#takeOne(this.#registerClient, client, now, counters, keys, client);
    } else if (purpose === "read-attempt") {
      this.#takeOne(this.#readIp, this.hasher.memoized("ip", subject.ip), now, counters, keys, client);
    } else if (purpose === "read") {
      for (const { kind, value } of subject.destinations)
        this.#takeOne(
          this.#readCibil,
          readKey(this.hasher, subject.clientId, kind, value),
          now,
          counters,
          keys,
          client,
        );
      this.#takeOne(this.#readClient, client, now, counters, keys, client);
    } else if (purpose === "verify") {
      for (const { kind, value } of subject.destinations)
        this.#takeOne(this.#verify, this.hasher.hash(DESTINATION_DIMENSION[kind], value), now, counters, keys, client);
      if (!destinationsOnly) {
        this.#takeOne(this.#verifyIp, this.hasher.memoized("ip", subject.ip), now, counters, keys, client);
        this.#takeOne(this.#verifyClient, client, now, counters, keys, client);
      }
    } else {
      for (const { kind, value } of subject.destinations) {
        this.#takeDestination(this.hasher.hash(DESTINATION_DIMENSION[kind], value), now, counters, keys, client);
        if (kind === "mobile") {
          // Remembered: see reserve().
          const prefix = this.hasher.memoized("mobile-prefix", value.slice(0, MOBILE_PREFIX_DIGITS));
          this.#takeOne(this.#mobilePrefix, prefix, now, counters, keys, client);
        }
      }
      if (!destinationsOnly) {
        this.#takeOne(this.#ip, this.hasher.memoized("ip", subject.ip), now, counters, keys, client);
        this.#takeOne(this.#client, client, now, counters, keys, client);
        this.#takeOne(this.#global, "all", now, counters, keys, client);
      }
    }
    const allowedAt = this.#allowed;
    // Set by the takes above (the casts undo TypeScript's narrowing to the values assigned before them).
    const failure = this.#failure as { error: unknown } | undefined;
    const first = this.#first as Budgeted | undefined;
    if (failure) {
      // Only the points that were allowed: in memory every take's outcome is known (in Redis a failed script's is not).
      for (let i = 0; i < counters.length; i++) if (allowedAt[i] !== 0) counters[i].reward(keys[i], now, allowedAt[i]);
      // Once per refused send, however many of its new entries the share refused.
      if (failure.error instanceof ClientShareFullError) this.#onOwnerFull?.();
      throw storeError(failure.error);
    }
    if (first === undefined) return new MemoryReservation(this.#nextSend, counters, keys, now);
    // A refused consume is counted too by a fixed window (rate-limiter-flexible's semantics, kept in memory), which
    // MemoryCounter.reward gives back whatever #allowed says; a destination added only an allowed send (#allowed 1).
    // So a refused attempt leaves every counter exactly as it found it: budgets count sends, not attempts.
    for (let i = 0; i < counters.length; i++) counters[i].reward(keys[i], now, allowedAt[i]);
    return throttledBy(first, this.#waitMs);
  }

  /**
   * One send to a destination's entry, judged by each of its budgets in this.#destination's order: refused by a budget
   * whose span still holds its points' worth of sends (the wait: until the oldest of them leaves it), and then nothing
   * is added (#allowed 0: nothing to give back); otherwise the send's time is added and each budget it used up sets
   * the next send's wait.
   */
  #takeDestination(key: string, now: number, counters: Refundable[], keys: string[], client: string): void {
    const table = this.#destinations!;
    const i = counters.length;
    counters.push(table);
    keys.push(key);
    this.#allowed[i] = 0;
    let slot: number;
    try {
      slot = table.open(key, now, client);
    } catch (error) {
      this.#failure ??= { error };
      return;
    }
    const budgets = this.#destination;
    let refused = false;
    for (let b = 0; b < budgets.length; b++) {
      const wait = table.waitMs(slot, b, now);
      if (wait > 0) {
        refused = true;
        this.#refused(budgets[b], wait);
      }
    }
    if (refused) return;
    table.add(slot, now, client);
    this.#allowed[i] = 1;
    for (let b = 0; b < budgets.length; b++) this.#nextSend = Math.max(this.#nextSend, table.waitMs(slot, b, now));
  }

  /**
   * One consume of a budget of its own (prefix, IP, client, global, the verifications'): none gates the next send. A
   * new window counts for `client`.
   */
  #takeOne(budget: Budgeted, key: string, now: number, counters: Refundable[], keys: string[], client: string): void {
    const counter = budget.memory!;
    const i = counters.length;
    counters.push(counter);
    keys.push(key);
    let window: Window;
    try {
      window = counter.take(key, now, client);
    } catch (error) {
      this.#failure ??= { error };
      this.#allowed[i] = 0;
      return;
    }
    // The window's state right after this consume (a later take of the same key in this send changes it).
    if (window.consumed <= budget.points) this.#allowed[i] = 1;
    else {
      this.#allowed[i] = 0;
      this.#refused(budget, window.expiresAt - now);
    }
  }

  /** A refusing budget: the most specific code wins, the first among equals; the longest wait. */
  #refused(budget: Budgeted, waitMs: number): void {
    if (this.#first === undefined || budget.rank < this.#first.rank) this.#first = budget;
    this.#waitMs = Math.max(this.#waitMs, waitMs);
  }

  /**
   * Redis: every budget's point in one script (redis-budgets.ts), which gives them all back itself when any budget
   * refuses (as #reserveNow does); the same verdict. A failure (Redis down, a timeout) throws: the send is refused
   * and nothing is given back, as the script's outcome is unknown.
   */
  async #take(
    budgets: readonly Budgeted[],
    keys: readonly string[],
    destinations: readonly string[],
    mark: SendMark | undefined,
  ): Promise<Reservation | Throttled> {
    const redis = this.#redis!;
    const redisKeys = budgets.map((budget, i) => budget.redisPrefix! + keys[i]);
    const sendKeys = destinations.map((key) => this.#sendsPrefix! + key);
    let taken: Take;
    try {
      taken = await redis.take(redisKeys, budgets, sendKeys, this.#sliding, mark);
    } catch (error) {
      throw storeError(error);
    }
    const v = verdict(budgets, taken.counts, this.#destination, taken.states, taken.waits);
    if (v.kind === "refused") return v.throttled;
    // Given back once, as in memory: a second give-back of the fixed keys would take another send's point.
    let refunded = false;
    const refund = (): Promise<void> => {
      if (refunded) return Promise.resolve();
      refunded = true;
      return redis.giveBack(redisKeys, sendKeys, taken);
    };
    return { allowed: true, nextSendInMs: v.nextSendInMs, refund };
  }
}
