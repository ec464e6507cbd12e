import type Redis from "ioredis";
import { RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import type { Budget, ThrottleConfig } from "../config";
import { Capacity } from "./bounded-table";
import { ProtectionStoreError } from "./errors";
import type { KeyHasher } from "./key-hasher";
import { type BudgetCounter, type CounterOutcome, MemoryCounter, type Window } from "./memory-counters";
import { DEFAULT_MEMORY_THROTTLE_MAX_KEYS } from "./protection.settings";

/**
 * OTP throttling as a domain feature (docs/security-requirements.md B1-B5): every OTP send takes one point from each budget that
 * applies to it, all at once, or from none:
 *   per destination (each mobile, Aadhaar and CIBIL id on its own): a cooldown, a short window and a daily cap;
 *   per mobile-number prefix (SMS pumping walks number ranges), per source IP, per API client, and one global budget.
 * Counters live in Redis (rate-limiter-flexible's RateLimiterRedis: shared by replicas and kept across restarts) or in
 * this process's memory (memory-counters.ts: the same fixed-window semantics in a bounded table, capped at
 * MEMORY_THROTTLE_MAX_KEYS entries; when full, sends that need a new entry are refused). Keys are HMAC-SHA256 of the
 * identifier, never the number itself (KeyHasher).
 *
 * A send is counted before it happens. It is refunded only when the call provably never left the process
 * (docs/security-requirements.md E3: an unknown outcome keeps its cost).
 */

export type DestinationKind = "mobile" | "aadhaar" | "cibil";
export type ThrottleScope = "DESTINATION" | "MOBILE_PREFIX" | "IP" | "CLIENT" | "GLOBAL";
/** Digits of a mobile number that name its range (operator series): SMS pumping walks such ranges. */
export const MOBILE_PREFIX_DIGITS = 6;
/**
 * OTP_COOLDOWN: the destination's cooldown; OTP_LIMIT_REACHED: its window or daily cap; RATE_LIMITED: the rest;
 * VERIFY_LIMIT_REACHED: too many OTP verification attempts for the destination.
 */
export type ThrottleCode = "OTP_COOLDOWN" | "OTP_LIMIT_REACHED" | "RATE_LIMITED" | "VERIFY_LIMIT_REACHED";
/** What a reservation is for: sending an OTP, or checking one the customer typed. */
export type ThrottlePurpose = "send" | "verify";

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
   * Milliseconds, from this reservation, until the destination(s) will take another send: the latest reset among the
   * destination budgets (cooldown, window, daily) this send used up, 0 when none is used up. It is read from the
   * same counters that refuse an earlier send, so an OTP_COOLDOWN/OTP_LIMIT_REACHED answer before then says the
   * same wait. The caller's own budgets (IP, client, prefix, global) are not in it: they are not the destination's.
   * Always 0 for a verification.
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
  counter: BudgetCounter;
  /** The same counter when it is in memory (null with Redis). */
  memory: MemoryCounter | null;
  /**
   * A send's destination budget (cooldown, window, daily): when it is used up, the destination takes no send until
   * it resets (Reservation.nextSendInMs).
   */
  gatesNextSend: boolean;
}

interface Take {
  budget: Budgeted;
  key: string;
}

/** A value, or a promise of one: the in-memory store answers without a promise. */
export type MaybePromise<T> = T | Promise<T>;

/** What one send's consumes add up to, whichever store answered them. */
type Verdict =
  | { kind: "failed"; error: ProtectionStoreError }
  | { kind: "allowed"; nextSendInMs: number }
  | { kind: "refused"; throttled: Throttled };

/**
 * The verdict on one send, from each budget's consume: `outcomes[i]` answers `takes[i]` (undefined where that consume
 * failed), `failure` is the first failure in order. The Redis store's (#take); #takeNow reaches the same verdict as
 * the in-memory counters answer (test/unit/protection/otp-throttle.test.ts, and test/integration/redis-stores.test.ts
 * holds both stores to the same answers). Allowed: `nextSendInMs` is the latest reset among the destination budgets this send left with no
 * points (0 if none). Refused: the most specific code (PRIORITY), the first such budget among equals, and the longest
 * wait among the refusals.
 */
function verdict(
  takes: readonly Take[],
  outcomes: ReadonlyArray<CounterOutcome | undefined>,
  failure: { error: unknown } | undefined,
): Verdict {
  if (failure) return { kind: "failed", error: storeError(failure.error) };
  let first: Budgeted | undefined;
  let waitMs = 0;
  let nextSend = 0;
  for (let i = 0; i < takes.length; i++) {
    const outcome = outcomes[i]!;
    if (outcome.allowed) {
      if (takes[i].budget.gatesNextSend && outcome.remainingPoints <= 0)
        nextSend = Math.max(nextSend, outcome.msBeforeNext);
      continue;
    }
    const budget = takes[i].budget;
    if (first === undefined || budget.rank < first.rank) first = budget;
    waitMs = Math.max(waitMs, outcome.msBeforeNext);
  }
  if (first === undefined) return { kind: "allowed", nextSendInMs: nextSend };
  return { kind: "refused", throttled: throttledBy(first, waitMs) };
}

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

/** rate-limiter-flexible's Redis limiter as a BudgetCounter: a refusal is an outcome, anything else a store failure. */
class RedisCounter implements BudgetCounter {
  constructor(private readonly limiter: RateLimiterRedis) {}

  async consume(key: string): Promise<CounterOutcome> {
    try {
      const res = await this.limiter.consume(key);
      return { allowed: true, remainingPoints: res.remainingPoints, msBeforeNext: res.msBeforeNext };
    } catch (error) {
      if (error instanceof RateLimiterRes)
        return { allowed: false, remainingPoints: 0, msBeforeNext: error.msBeforeNext };
      throw new ProtectionStoreError("otp throttle", error);
    }
  }

  async reward(key: string): Promise<void> {
    await this.limiter.reward(key);
  }
}

/** The in-memory counters' bound (MEMORY_THROTTLE_MAX_KEYS) and, for tests, their clock. */
export interface MemoryThrottleOptions {
  maxKeys: number;
  now?: () => number;
  /** Called on each send refused because the table is full (the owner logs it, rate-limited). */
  onFull?: () => void;
}

export const DEFAULT_MEMORY_THROTTLE: MemoryThrottleOptions = { maxKeys: DEFAULT_MEMORY_THROTTLE_MAX_KEYS };

/** Most specific first: the code a client sees when several budgets say no at once. */
const PRIORITY: ThrottleCode[] = ["VERIFY_LIMIT_REACHED", "OTP_COOLDOWN", "OTP_LIMIT_REACHED", "RATE_LIMITED"];

export interface ThrottleStore {
  redis: Redis;
  keyPrefix: string;
}

export class OtpThrottle {
  readonly #destination: Budgeted[];
  readonly #mobilePrefix: Budgeted;
  readonly #ip: Budgeted;
  readonly #client: Budgeted;
  readonly #global: Budgeted;
  readonly #verify: Budgeted;
  /** In memory: the counters' clock, read once per send (every counter answers synchronously). Null with Redis. */
  readonly #clock: (() => number) | null;
  /** #takeNow's record of which budgets allowed, reused from send to send (#takeNow runs to the end uninterrupted). */
  readonly #allowed: boolean[] = [];

  constructor(
    config: ThrottleConfig,
    private readonly hasher: KeyHasher,
    store: ThrottleStore | null,
    memory: MemoryThrottleOptions = DEFAULT_MEMORY_THROTTLE,
  ) {
    // One cap for all the in-memory budgets together.
    const capacity = store ? null : new Capacity(memory.maxKeys, memory.now, memory.onFull);
    this.#clock = capacity ? () => capacity.now() : null;
    const make = (
      name: string,
      code: ThrottleCode,
      scope: ThrottleScope,
      budget: Budget,
      gatesNextSend = false,
    ): Budgeted => {
      const memory = capacity ? new MemoryCounter(budget.points, budget.seconds * 1000, capacity) : null;
      const counter =
        memory ??
        new RedisCounter(
          new RateLimiterRedis({
            points: budget.points,
            duration: budget.seconds,
            keyPrefix: `${store!.keyPrefix}otp:${name}`,
            storeClient: store!.redis,
            rejectIfRedisNotReady: true,
          }),
        );
      return {
        name,
        code,
        rank: PRIORITY.indexOf(code),
        scope,
        points: budget.points,
        counter,
        memory,
        gatesNextSend,
      };
    };
    this.#destination = [
      ...(config.cooldownSeconds > 0
        ? [make("cooldown", "OTP_COOLDOWN", "DESTINATION", { points: 1, seconds: config.cooldownSeconds }, true)]
        : []),
      make("window", "OTP_LIMIT_REACHED", "DESTINATION", config.destinationWindow, true),
      make("daily", "OTP_LIMIT_REACHED", "DESTINATION", config.destinationDaily, true),
    ];
    this.#mobilePrefix = make("prefix", "RATE_LIMITED", "MOBILE_PREFIX", config.mobilePrefix);
    this.#ip = make("ip", "RATE_LIMITED", "IP", config.ip);
    this.#client = make("client", "RATE_LIMITED", "CLIENT", config.client);
    this.#global = make("global", "RATE_LIMITED", "GLOBAL", config.global);
    this.#verify = make("verify", "VERIFY_LIMIT_REACHED", "DESTINATION", config.verify);
  }

  /**
   * Takes one point from every budget that applies, or none. Throws ProtectionStoreError if the store fails.
   * A verification takes from the destination's verification budget only: it sends nothing.
   * In memory the answer is synchronous (a value, or a thrown error): no promise and no microtask hop per send
   * (SendGuard awaits only a promise); with Redis it is a promise.
   */
  reserve(subject: OtpSubject, purpose: ThrottlePurpose = "send"): MaybePromise<Reservation | Throttled> {
    // Two parallel arrays (budget i is charged under keys[i]), not an object per budget.
    const budgets: Budgeted[] = [];
    const keys: string[] = [];
    if (purpose === "verify") {
      for (const { kind, value } of subject.destinations) {
        budgets.push(this.#verify);
        keys.push(this.hasher.hash(`destination:${kind}`, value));
      }
    } else {
      for (const { kind, value } of subject.destinations) {
        const key = this.hasher.hash(`destination:${kind}`, value);
        for (const budget of this.#destination) {
          budgets.push(budget);
          keys.push(key);
        }
        if (kind === "mobile") {
          budgets.push(this.#mobilePrefix);
          // Remembered (KeyHasher.memoized, bounded): a 6-digit prefix names a range of 10,000 numbers, an
          // operator series, not a customer; it is never logged nor kept in clear in a store (its key is the HMAC).
          // Saves the prefix's HMAC (two SHA-256) on nearly every AEPS send: callgrind, main thread, 19.1k
          // instructions per call hashed, 3.1k remembered (measured with the memo keyed by dimension and identifier;
          // keyed by the identifier since, a remembered call went from 119-135 to 32-38 ns: key-hasher.ts). The
          // mobile's own key (above) is computed every time and never remembered.
          keys.push(this.hasher.memoized("mobile-prefix", value.slice(0, MOBILE_PREFIX_DIGITS)));
        }
      }
      budgets.push(this.#ip, this.#client, this.#global);
      keys.push(this.hasher.memoized("ip", subject.ip), this.hasher.memoized("client", subject.clientId), "all");
    }
    return this.#clock ? this.#takeNow(budgets, keys, this.#clock()) : this.#take(budgets, keys);
  }

  /**
   * #take for the in-memory counters, which answer synchronously: the same verdict (see `verdict`), computed as the
   * counters answer, at one `now` for the whole send (one clock read, not two or three per budget), from each
   * budget's window (MemoryCounter.take) rather than a CounterOutcome, and without a promise, a Take, an outcome or a
   * verdict object per budget. Measured on an AEPS send to fresh destinations (10 budgets, two HMACs included;
   * bench/throttle-micro.js, 9 batches of 20,000 sends, 5 interleaved runs against the previous version):
   * CPU per send, median of the runs' medians, 11.1 -> 10.0 µs (4 runs of 5 lower); main-thread instructions under
   * callgrind 62.8k -> 62.3k (3 runs): the saving is mostly in garbage collection, off the main thread.
   */
  #takeNow(budgets: readonly Budgeted[], keys: readonly string[], now: number): Reservation | Throttled {
    const allowedAt = this.#allowed;
    let failure: { error: unknown } | undefined;
    let first: Budgeted | undefined;
    let waitMs = 0;
    let nextSend = 0;
    // Every budget is consumed even after one fails, as #take does (it settles them all).
    for (let i = 0; i < budgets.length; i++) {
      const budget = budgets[i];
      let window: Window;
      try {
        window = budget.memory!.take(keys[i], now);
      } catch (error) {
        failure ??= { error };
        allowedAt[i] = false;
        continue;
      }
      // The window's state right after this consume (a later take of the same key in this send changes it).
      const left = budget.points - window.consumed;
      allowedAt[i] = left >= 0;
      if (left >= 0) {
        if (budget.gatesNextSend && left === 0) nextSend = Math.max(nextSend, window.expiresAt - now);
        continue;
      }
      if (first === undefined || budget.rank < first.rank) first = budget;
      waitMs = Math.max(waitMs, window.expiresAt - now);
    }
    if (failure) {
      for (let i = 0; i < budgets.length; i++) if (allowedAt[i]) void budgets[i].counter.reward(keys[i]);
      throw storeError(failure.error);
    }
    if (first === undefined) {
      return {
        allowed: true,
        nextSendInMs: nextSend,
        refund: async () => {
          for (let i = 0; i < budgets.length; i++) void budgets[i].counter.reward(keys[i]);
        },
      };
    }
    // A refused consume is counted too (rate-limiter-flexible's semantics, kept in memory). Give back both kinds, so
    // that a refused attempt leaves every counter exactly as it found it: budgets count sends, not attempts.
    for (let i = 0; i < budgets.length; i++) void budgets[i].counter.reward(keys[i]);
    return throttledBy(first, waitMs);
  }

  /** Redis: every budget's consume at once, then the same verdict and give-backs as #takeNow, awaited. */
  async #take(budgets: readonly Budgeted[], keys: readonly string[]): Promise<Reservation | Throttled> {
    const takes: Take[] = budgets.map((budget, i) => ({ budget, key: keys[i] }));
    // consume() returns a value or a promise (BudgetCounter): allSettled takes both.
    // eslint-disable-next-line @typescript-eslint/await-thenable
    const settled = await Promise.allSettled(takes.map(({ budget, key }) => budget.counter.consume(key)));
    let failure: { error: unknown } | undefined;
    const outcomes = settled.map((s) => {
      if (s.status === "fulfilled") return s.value;
      failure ??= { error: s.reason as unknown };
      return undefined;
    });
    const giveBack = (which: readonly Take[]) =>
      // reward() returns nothing or a promise (BudgetCounter): Promise.all takes both.
      // eslint-disable-next-line @typescript-eslint/await-thenable
      Promise.all(which.map(({ budget, key }) => budget.counter.reward(key))).then(() => undefined);
    const v = verdict(takes, outcomes, failure);
    if (v.kind === "failed") {
      await giveBack(takes.filter((_, i) => outcomes[i]?.allowed)).catch(() => undefined);
      throw v.error;
    }
    if (v.kind === "allowed") return { allowed: true, nextSendInMs: v.nextSendInMs, refund: () => giveBack(takes) };
    // As #takeNow: a refused attempt gives back every point it took, allowed and refused alike.
    await giveBack(takes);
    return v.throttled;
  }
}
