import type Redis from "ioredis";
import { RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import type { Budget, ThrottleConfig } from "../config";
import { Capacity } from "./bounded-table";
import { ProtectionStoreError } from "./errors";
import type { KeyHasher } from "./key-hasher";
import { type BudgetCounter, type CounterOutcome, MemoryCounter } from "./memory-counters";
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
  scope: ThrottleScope;
  counter: BudgetCounter;
}

interface Take {
  budget: Budgeted;
  key: string;
  /** A destination budget: when it is used up, the destination takes no send until it resets (Reservation.nextSendInMs). */
  gatesNextSend?: boolean;
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
 * failed), `failure` is the first failure in order. Shared by both stores (#takeNow, #take), which differ only in
 * how they wait. Allowed: `nextSendInMs` is the latest reset among the destination budgets this send left with no
 * points (0 if none). Refused: the most specific code (PRIORITY), the first such budget among equals, and the longest
 * wait among the refusals.
 */
function verdict(
  takes: readonly Take[],
  outcomes: ReadonlyArray<CounterOutcome | undefined>,
  failure: { error: unknown } | undefined,
): Verdict {
  if (failure) {
    const { error } = failure;
    return {
      kind: "failed",
      error: error instanceof ProtectionStoreError ? error : new ProtectionStoreError("otp throttle", error),
    };
  }
  let first: Budgeted | undefined;
  let waitMs = 0;
  let nextSend = 0;
  for (let i = 0; i < takes.length; i++) {
    const outcome = outcomes[i]!;
    if (outcome.allowed) {
      if (takes[i].gatesNextSend && outcome.remainingPoints <= 0) nextSend = Math.max(nextSend, outcome.msBeforeNext);
      continue;
    }
    const budget = takes[i].budget;
    if (first === undefined || PRIORITY.indexOf(budget.code) < PRIORITY.indexOf(first.code)) first = budget;
    waitMs = Math.max(waitMs, outcome.msBeforeNext);
  }
  if (first === undefined) return { kind: "allowed", nextSendInMs: nextSend };
  return {
    kind: "refused",
    throttled: {
      allowed: false,
      code: first.code,
      scope: first.scope,
      retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
    },
  };
}

/** An in-memory counter's reward: synchronous (MemoryCounter returns nothing), so there is nothing to wait for. */
function rewardNow({ budget, key }: Take): void {
  void budget.counter.reward(key);
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
  /** In memory: every counter answers synchronously (no promise per budget). */
  readonly #sync: boolean;

  constructor(
    config: ThrottleConfig,
    private readonly hasher: KeyHasher,
    store: ThrottleStore | null,
    memory: MemoryThrottleOptions = DEFAULT_MEMORY_THROTTLE,
  ) {
    // One cap for all the in-memory budgets together.
    const capacity = store ? null : new Capacity(memory.maxKeys, memory.now, memory.onFull);
    this.#sync = capacity !== null;
    const make = (name: string, code: ThrottleCode, scope: ThrottleScope, budget: Budget): Budgeted => {
      const counter = capacity
        ? new MemoryCounter(budget.points, budget.seconds * 1000, capacity)
        : new RedisCounter(
            new RateLimiterRedis({
              points: budget.points,
              duration: budget.seconds,
              keyPrefix: `${store!.keyPrefix}otp:${name}`,
              storeClient: store!.redis,
              rejectIfRedisNotReady: true,
            }),
          );
      return { name, code, scope, counter };
    };
    this.#destination = [
      ...(config.cooldownSeconds > 0
        ? [make("cooldown", "OTP_COOLDOWN", "DESTINATION", { points: 1, seconds: config.cooldownSeconds })]
        : []),
      make("window", "OTP_LIMIT_REACHED", "DESTINATION", config.destinationWindow),
      make("daily", "OTP_LIMIT_REACHED", "DESTINATION", config.destinationDaily),
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
    const takes: Take[] = [];
    if (purpose === "verify") {
      for (const { kind, value } of subject.destinations)
        takes.push({ budget: this.#verify, key: this.hasher.hash(`destination:${kind}`, value) });
    } else {
      for (const { kind, value } of subject.destinations) {
        const key = this.hasher.hash(`destination:${kind}`, value);
        for (const budget of this.#destination) takes.push({ budget, key, gatesNextSend: true });
        if (kind === "mobile") {
          takes.push({
            budget: this.#mobilePrefix,
            // Remembered (KeyHasher.memoized, bounded): a 6-digit prefix names a range of 10,000 numbers, an
            // operator series, not a customer; it is never logged nor kept in clear in a store (its key is the HMAC).
            // Saves the prefix's HMAC (two SHA-256) on nearly every AEPS send: callgrind, main thread, 19.1k
            // instructions per call hashed, 3.1k remembered. The mobile's own key (above) is computed every time and never remembered.
            key: this.hasher.memoized("mobile-prefix", value.slice(0, MOBILE_PREFIX_DIGITS)),
          });
        }
      }
      takes.push({ budget: this.#ip, key: this.hasher.memoized("ip", subject.ip) });
      takes.push({ budget: this.#client, key: this.hasher.memoized("client", subject.clientId) });
      takes.push({ budget: this.#global, key: "all" });
    }
    return this.#sync ? this.#takeNow(takes) : this.#take(takes);
  }

  /**
   * #take for the in-memory counters, which answer synchronously: the same verdict without a settled record per
   * budget or a promise. Measured under callgrind (main thread, after warm-up), SendGuard.run of an AEPS send in
   * memory, three HMACs included: 78k instructions with #take and an await, 74k this way.
   */
  #takeNow(takes: Take[]): Reservation | Throttled {
    const outcomes: Array<CounterOutcome | undefined> = [];
    let failure: { error: unknown } | undefined;
    // Every budget is consumed even after one fails, as #take does (it settles them all).
    for (const { budget, key } of takes) {
      try {
        outcomes.push(budget.counter.consume(key) as CounterOutcome);
      } catch (error) {
        failure ??= { error };
        outcomes.push(undefined);
      }
    }
    const v = verdict(takes, outcomes, failure);
    if (v.kind === "failed") {
      for (let i = 0; i < takes.length; i++) if (outcomes[i]?.allowed) rewardNow(takes[i]);
      throw v.error;
    }
    if (v.kind === "allowed") {
      return {
        allowed: true,
        nextSendInMs: v.nextSendInMs,
        refund: async () => {
          for (const take of takes) rewardNow(take);
        },
      };
    }
    // A refused consume is counted too (rate-limiter-flexible's semantics, kept in memory). Give back both kinds, so
    // that a refused attempt leaves every counter exactly as it found it: budgets count sends, not attempts.
    for (const take of takes) rewardNow(take);
    return v.throttled;
  }

  /** Redis: every budget's consume at once, then the same verdict and give-backs as #takeNow, awaited. */
  async #take(takes: Take[]): Promise<Reservation | Throttled> {
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
