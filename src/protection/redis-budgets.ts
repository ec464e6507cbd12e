import type Redis from "ioredis";
import { type ScriptCommand, scriptCommand } from "./redis";

/**
 * One OTP send's budgets in Redis, in one round trip: a Lua script takes a point from every budget's key, each key a
 * fixed window, and returns each key's count, time left and window identity. A take that any budget refuses is given
 * back in full inside the same script, so a refused send leaves no trace and no other replica ever sees its points.
 *
 * Per key the take does exactly what rate-limiter-flexible 11.4's RateLimiterRedis does for `consume` with ioredis
 * (its `rlflxIncr` script: SET NX with the window's expiry, INCRBY, PTTL, EXPIRE when the key has none), under the same
 * key (`<prefix>otp:<budget>:<HMAC>`), which this service used until this file, one EVALSHA per budget: ten round
 * trips for an AEPS send (mobile and Aadhaar: cooldown, window and daily each; the mobile prefix, the IP, the API
 * client, the global budget). Replicas of both versions therefore count the same keys the same way during a rolling
 * update (test/integration/redis-throttle.test.ts checks it against rate-limiter-flexible itself, now a devDependency).
 * Why by hand: that library has no call for several keys at once, and its ten round trips nearly doubled a send's
 * CPU. `npm run bench`, 3 interleaved rounds, with the Redis store, against 8ac6ca0 (one EVALSHA per budget): server
 * CPU per request AEPS 248 → 157 µs, CIBIL 220 → 166 µs; requests/s 4,417 → 6,124 and 4,957 → 6,478; Redis's own CPU
 * per request lower too (docs/performance.md "Round 8ac6ca0").
 *
 * The give-back (a send that provably never left) is NOT rate-limiter-flexible's `reward`, which decrements whatever
 * the key holds now: when the charged window had ended while the call waited (a send held in the queue past a 60 s
 * cooldown), `reward` re-created the key as a new window holding -1, and another send opened a window its point was
 * given back from; either way one more SMS went out inside a cooldown (found by an audit: two ResendOTP to one mobile
 * 13 ms apart). Here the take answers each key's window identity, its absolute expiry (PEXPIRETIME: fixed when the
 * window opens, by `SET ... EX ... NX`), and the give-back decrements a key only while it still has that expiry.
 * PEXPIRETIME needs Redis 7.0 or later (redis.ts warns at connection on an older one; the script would fail and every
 * send be refused as the store failing: closed, never open).
 *
 * A key a give-back leaves at 0 (a refusal's, or a refund's) is deleted: it holds no send, and the next send opens a
 * window of its own. Kept, as rate-limiter-flexible keeps it, a key opened by a refused attempt shortened the cooldown
 * of the next send (memory-counters.ts Refundable: two SMS 1 ms apart under a 60 s cooldown). Replicas of the version
 * before count the same: a missing key is a new window to both.
 *
 * The keys of one script must live on one Redis node: fine for a single Redis or a primary with replicas (what
 * REDIS_URL names); a Redis Cluster would refuse it (CROSSSLOT), and is not supported (createRedis connects to one
 * node).
 */
const TAKE = `
local out = {}
local refused = false
for i, key in ipairs(KEYS) do
  local secs = ARGV[2 * i - 1]
  redis.call('set', key, 0, 'EX', secs, 'NX')
  local consumed = redis.call('incr', key)
  local ttl = redis.call('pttl', key)
  if ttl == -1 then
    redis.call('expire', key, secs)
    ttl = 1000 * secs
  end
  if consumed > tonumber(ARGV[2 * i]) then refused = true end
  out[3 * i - 2] = consumed
  out[3 * i - 1] = ttl
  out[3 * i] = redis.call('pexpiretime', key)
end
if refused then
  for _, key in ipairs(KEYS) do
    if redis.call('decr', key) <= 0 then redis.call('del', key) end
  end
end
return out
`;

/** KEYS[i] gets its point back only while its window is the one the take charged: the expiry ARGV[i] it answered. */
const GIVE_BACK = `
for i, key in ipairs(KEYS) do
  if redis.call('pexpiretime', key) == tonumber(ARGV[i]) and tonumber(redis.call('get', key)) > 0 then
    if redis.call('decr', key) <= 0 then redis.call('del', key) end
  end
end
return 0
`;

/** A budget as the script sees it: its window in seconds and its points. */
export interface RedisBudget {
  readonly seconds: number;
  readonly points: number;
}

/**
 * One key's answer: its count after this send's point (before any give-back), the milliseconds its window has left,
 * and the window's absolute expiry in Redis's clock (epoch ms): what a give-back checks it is still the same window.
 */
export interface KeyCount {
  consumed: number;
  msBeforeNext: number;
  windowExpiresAt: number;
}

export class RedisBudgets {
  /** The scripts (their number of keys first): every OtpThrottle on this connection shares them. */
  readonly #take: ScriptCommand<number[]>;
  readonly #giveBack: ScriptCommand<number>;

  constructor(private readonly redis: Redis) {
    this.#take = scriptCommand(redis, "aopayOtpTake", TAKE);
    this.#giveBack = scriptCommand(redis, "aopayOtpGiveBack", GIVE_BACK);
  }

  /**
   * Takes one point under `keys[i]` from `budgets[i]`, all at once; if any key's count goes over its budget's points,
   * every point is given back before the script returns. Rejects while Redis is not connected (fail closed: no
   * command waits for a connection, redis.ts), and when the script fails or times out (its outcome is then unknown:
   * nothing is given back, docs/security-requirements.md E3).
   */
  async take(keys: readonly string[], budgets: readonly RedisBudget[]): Promise<KeyCount[]> {
    this.#ready();
    const args: Array<string | number> = [...keys];
    for (const { seconds, points } of budgets) args.push(seconds, points);
    const reply = await this.#take(keys.length, ...args);
    const counts: KeyCount[] = [];
    for (let i = 0; i < keys.length; i++)
      counts.push({ consumed: reply[3 * i], msBeforeNext: reply[3 * i + 1], windowExpiresAt: reply[3 * i + 2] });
    return counts;
  }

  /**
   * Gives one point back under each key (a send that provably never left the process), to the window `take` charged
   * (`counts[i]`, its answer for `keys[i]`), and to no later one.
   */
  async giveBack(keys: readonly string[], counts: readonly KeyCount[]): Promise<void> {
    this.#ready();
    await this.#giveBack(keys.length, ...keys, ...counts.map((c) => c.windowExpiresAt));
  }

  /** rate-limiter-flexible's rejectIfRedisNotReady, which this service set: refused at once rather than queued. */
  #ready(): void {
    if (this.redis.status !== "ready") throw new Error("Redis connection is not ready");
  }
}
