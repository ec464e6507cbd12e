import type Redis from "ioredis";
import { type ScriptCommand, scriptCommand } from "./redis";

/**
 * One OTP send's budgets in Redis, in one round trip: a Lua script takes a point from every budget's key (or gives one
 * back), each key a fixed window, and returns each key's count and time left. A take that any budget refuses is given
 * back in full inside the same script, so a refused send leaves no trace and no other replica ever sees its points.
 *
 * Per key it does exactly what rate-limiter-flexible 11.4's RateLimiterRedis does for `consume` and `reward` with
 * ioredis (its `rlflxIncr` script: SET NX with the window's expiry, INCRBY, PTTL, EXPIRE when the key has none), under
 * the same key (`<prefix>otp:<budget>:<HMAC>`), which this service used until this file, one EVALSHA per budget: ten
 * round trips for an AEPS send (mobile and Aadhaar: cooldown, window and daily each; the mobile prefix, the IP, the API
 * client, the global budget). Replicas of both versions therefore count the same keys the same way during a rolling
 * update (test/integration/redis-throttle.test.ts checks it against rate-limiter-flexible itself, now a devDependency).
 * Why by hand: that library has no call for several keys at once, and its ten round trips nearly doubled a send's
 * CPU. `npm run bench`, 3 interleaved rounds, with the Redis store, against 8ac6ca0 (one EVALSHA per budget): server
 * CPU per request AEPS 248 → 157 µs, CIBIL 220 → 166 µs; requests/s 4,417 → 6,124 and 4,957 → 6,478; Redis's own CPU
 * per request lower too (docs/performance.md "Round 8ac6ca0").
 *
 * The keys of one script must live on one Redis node: fine for a single Redis or a primary with replicas (what
 * REDIS_URL names); a Redis Cluster would refuse it (CROSSSLOT), and is not supported (createRedis connects to one
 * node).
 */
const SCRIPT = `
local delta = tonumber(ARGV[1])
local out = {}
local refused = false
for i, key in ipairs(KEYS) do
  local secs = ARGV[2 * i]
  redis.call('set', key, 0, 'EX', secs, 'NX')
  local consumed = redis.call('incrby', key, delta)
  local ttl = redis.call('pttl', key)
  if ttl == -1 then
    redis.call('expire', key, secs)
    ttl = 1000 * secs
  end
  if delta > 0 and consumed > tonumber(ARGV[2 * i + 1]) then refused = true end
  out[2 * i - 1] = consumed
  out[2 * i] = ttl
end
if refused then
  for _, key in ipairs(KEYS) do redis.call('incrby', key, -delta) end
end
return out
`;

/** A budget as the script sees it: its window in seconds and its points. */
export interface RedisBudget {
  readonly seconds: number;
  readonly points: number;
}

/** One key's answer: its count after this send's point (before any give-back) and the milliseconds its window has left. */
export interface KeyCount {
  consumed: number;
  msBeforeNext: number;
}

export class RedisBudgets {
  /** The script (its number of keys first): every OtpThrottle on this connection shares it. */
  readonly #call: ScriptCommand<number[]>;

  constructor(private readonly redis: Redis) {
    this.#call = scriptCommand(redis, "aopayOtpBudgets", SCRIPT);
  }

  /**
   * Takes one point under `keys[i]` from `budgets[i]`, all at once; if any key's count goes over its budget's points,
   * every point is given back before the script returns. Rejects while Redis is not connected (fail closed: no
   * command waits for a connection, redis.ts), and when the script fails or times out (its outcome is then unknown:
   * nothing is given back, docs/security-requirements.md E3).
   */
  take(keys: readonly string[], budgets: readonly RedisBudget[]): Promise<KeyCount[]> {
    return this.#run(1, keys, budgets);
  }

  /** Gives one point back under each key (a send that provably never left the process). */
  async giveBack(keys: readonly string[], budgets: readonly RedisBudget[]): Promise<void> {
    await this.#run(-1, keys, budgets);
  }

  async #run(delta: 1 | -1, keys: readonly string[], budgets: readonly RedisBudget[]): Promise<KeyCount[]> {
    // rate-limiter-flexible's rejectIfRedisNotReady, which this service set: refused at once rather than queued.
    if (this.redis.status !== "ready") throw new Error("Redis connection is not ready");
    const args: Array<string | number> = [...keys, delta];
    for (const { seconds, points } of budgets) args.push(seconds, points);
    const reply = await this.#call(keys.length, ...args);
    const counts: KeyCount[] = [];
    for (let i = 0; i < keys.length; i++) counts.push({ consumed: reply[2 * i], msBeforeNext: reply[2 * i + 1] });
    return counts;
  }
}
