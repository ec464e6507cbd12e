import { randomBytes } from "node:crypto";
import type Redis from "ioredis";
import {
  COUNT_AT,
  INCR_OR,
  MARK_SEND,
  RECORD_AT,
  REPLACE_SET,
  RESCORE_AHEAD,
  type ScriptCommand,
  scriptCommand,
  UNREADABLE_MARKS,
} from "./redis";

/**
 * One OTP send's budgets in Redis, in one round trip: a Lua script judges the send by every budget at once and returns
 * each one's answer. A send that any budget refuses leaves no trace (what it took is given back inside the same script),
 * so no other replica ever sees it.
 *
 * The destination budgets (cooldown, window, daily) are exact sliding windows, as in memory (memory-counters.ts
 * DestinationCounters): each destination is one sorted set, `<prefix>otp:sends:<HMAC>`, of its counted sends, scored
 * by Redis's own clock (TIME, epoch ms) with a member unique per send (a per-process random token, a counter, and the
 * key's place in the script). A budget of `points` per `ms` refuses while its `points`-th most recent member is younger
 * than `ms` (ZRANGE ... REV by rank), and says how long until it is not; the send is added only when every budget of
 * the destination allows it, and only kept when every budget of the send does (refused: ZREM of its own member). An
 * allowed send trims the set to the longest span (older members count in no budget) and sets its PEXPIRE to that span:
 * with the defaults, at most 10 members of about 20 B each per destination. A give-back (a send that provably never
 * left) removes that send's member, its own and no other's, once. Every version scores a send with Redis's clock at its
 * take, so none is later than now; a member that is (Redis's clock stepped back, a failover to a replica whose clock is
 * behind, bytes not ours) counts as sent now, and is scored so when a budget meets it: it blocks one span at most.
 * Read as written, a member ten years ahead refused that destination's sends for ten years (retryAfterSeconds so).
 *
 * The other budgets (mobile prefix, IP, client, global, the verifications') are fixed windows. Per key the take does
 * exactly what rate-limiter-flexible 11.4's RateLimiterRedis does for `consume` with ioredis (its `rlflxIncr` script:
 * SET NX with the window's expiry, INCRBY, PTTL, EXPIRE when the key has none), under the same key
 * (`<prefix>otp:<budget>:<HMAC>`), which this service used with one EVALSHA per budget until 92400a9; and a key that
 * would outlive its window (a TTL no version sets: bytes not ours, or a window since shortened) is given the window's,
 * as one without any is: it refused every send with a wait of its own TTL, ten years planted. A key holding no count
 * this service writes (text, a fraction, a count below one, one INCR cannot raise or past 15 digits, another type:
 * near 2^63 it came back as -2^63, read as room, every send it counted let through uncounted) counts as one send
 * made now, in a window of its own (set to 2 with the window's expiry: that send and this one; redis.ts incrOr), as a
 * destination key that is no sorted set (ZRANGE failed) is replaced by one send scored now, as a member ahead is.
 * Before, the script failed at its INCR or ZRANGE: every send the key counted was refused as the store failing for as
 * long as it lived (for good without an expiry), and a count a million below zero let a million through. Why one send,
 * for both (the fixed windows counted such a key as its window used up, the destinations as one send): junk must grant
 * no unlimited sends (read as no count, or as a count far below zero, it let every send through while it lived), and
 * must not refuse a customer for as long as it lives. Counted as one send made now it is bounded both ways: it lets
 * through at most one window's sends, as the key's own expiry would, and refuses only as one real send would (a budget
 * of one point, a cooldown, for its span). Counted as used up it refused every send it counted for a whole window, for
 * bytes that sent nothing: a day on a daily key (OTP_LEGACY_DESTINATION_KEYS' `otp:daily:`), every customer on the
 * service-wide key. Neither costs a command on the usual path (pcall answers the error). The keys this service writes,
 * replicas of this version and of earlier ones count the same way during a rolling update. The destinations the
 * versions before this one counted in `otp:cooldown:`, `otp:window:` and `otp:daily:`, this one in `otp:sends:`; by
 * default (OTP_LEGACY_DESTINATION_KEYS) this version takes those keys too, as fixed windows beside the sorted set, so
 * that both versions see every send during the update and the sends made before it still count (docs/deploying.md).
 * test/integration/redis-throttle.test.ts checks both against rate-limiter-flexible itself, a devDependency.
 * Why one script by hand: that library has no call for several keys at once, and its ten round trips nearly doubled a
 * send's CPU. `npm run bench`, 3 interleaved rounds, with the Redis store, against 8ac6ca0 (one EVALSHA per budget):
 * server CPU per request AEPS 248 → 157 µs, CIBIL 220 → 166 µs; requests/s 4,417 → 6,124 and 4,957 → 6,478; Redis's
 * own CPU per request lower too (docs/performance-runs.md "Round 8ac6ca0").
 *
 * A fixed window's give-back is NOT rate-limiter-flexible's `reward`, which decrements whatever the key holds now:
 * when the charged window had ended while the call waited (a send held in the queue past a 60 s cooldown), `reward`
 * re-created the key as a new window holding -1, and another send opened a window its point was given back from;
 * either way one more SMS went out inside a cooldown (found by an audit: two ResendOTP to one mobile 13 ms apart).
 * Here the take answers each fixed key's window identity, its absolute expiry (PEXPIRETIME: fixed when the window
 * opens, by `SET ... EX ... NX`), and the give-back decrements a key only while it still has that expiry. PEXPIRETIME
 * and ZRANGE's REV need Redis 7.0 or later (redis.ts warns at connection on an older one; the script would fail and
 * every send be refused as the store failing: closed, never open).
 *
 * A fixed key a give-back leaves at 0 (a refusal's, or a refund's) is deleted: it holds no send, and the next send
 * opens a window of its own. Kept, as rate-limiter-flexible keeps it, a key opened by a refused attempt shortened the
 * cooldown of the next send (memory-counters.ts Refundable: two SMS 1 ms apart under a 60 s cooldown).
 *
 * The keys of one script must live on one Redis node: fine for a single Redis or a primary with replicas (what
 * REDIS_URL names); a Redis Cluster would refuse it (CROSSSLOT), and is not supported (createRedis connects to one
 * node).
 */
function take(nKeys: string): string {
  return `
local nKeys = ${nKeys}
local nFixed = tonumber(ARGV[1])
local send = ARGV[2]
local nSliding = tonumber(ARGV[3])
local spec = {}
for n in string.gmatch(ARGV[4], '%S+') do spec[#spec + 1] = n end
local at = 2 * nFixed
local out = {}
local refused = false
for i = 1, nFixed do
  local key = KEYS[i]
  local secs = spec[2 * i - 1]
  redis.call('set', key, 0, 'EX', secs, 'NX')
  local consumed = incrOr(key, 2, 'EX', secs)
  local ttl = redis.call('pttl', key)
  if ttl == -1 or ttl > 1000 * secs then
    redis.call('expire', key, secs)
    ttl = 1000 * secs
  end
  if consumed > tonumber(spec[2 * i]) then refused = true end
  out[#out + 1] = consumed
  out[#out + 1] = ttl
  out[#out + 1] = redis.call('pexpiretime', key)
end
if nKeys > nFixed then
  local time = redis.call('time')
  local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  local longest = 0
  for b = 1, nSliding do longest = math.max(longest, tonumber(spec[at + 2 * b - 1])) end
  local added = {}
  for j = nFixed + 1, nKeys do
    local key = KEYS[j]
    local first = #out
    local ok = true
    for b = 1, nSliding do
      local ms = tonumber(spec[at + 2 * b - 1])
      local points = tonumber(spec[at + 2 * b])
      local r = redis.pcall('zrange', key, points - 1, points - 1, 'REV', 'WITHSCORES')
      if r.err then
        replaceSet(key, longest, now, 'unreadable')
        r = redis.call('zrange', key, points - 1, points - 1, 'REV', 'WITHSCORES')
      end
      if r[2] and tonumber(r[2]) > now then
        rescoreAhead(key, now)
        r[2] = now
      end
      local wait = 0
      if r[2] then wait = tonumber(r[2]) + ms - now end
      if wait > 0 then
        ok = false
        out[#out + 1] = 2
        out[#out + 1] = wait
      else
        out[#out + 1] = 0
        out[#out + 1] = 0
      end
    end
    if ok then
      local member = send .. ':' .. j
      redis.call('zadd', key, now, member)
      added[#added + 1] = key
      added[#added + 1] = member
      for b = 1, nSliding do
        local ms = tonumber(spec[at + 2 * b - 1])
        local points = tonumber(spec[at + 2 * b])
        local r = redis.call('zrange', key, points - 1, points - 1, 'REV', 'WITHSCORES')
        if r[2] and tonumber(r[2]) + ms > now then
          out[first + 2 * b - 1] = 1
          out[first + 2 * b] = tonumber(r[2]) + ms - now
        end
      end
    else
      refused = true
    end
  end
  for k = 1, #added, 2 do
    if refused then
      redis.call('zrem', added[k], added[k + 1])
    else
      redis.call('zremrangebyscore', added[k], '-inf', now - longest)
      redis.call('pexpire', added[k], longest)
    end
  end
end
if refused then
  for i = 1, nFixed do
    local key = KEYS[i]
    if redis.call('decr', key) <= 0 then redis.call('del', key) end
  end
end
`;
}
const TAKE = `${RESCORE_AHEAD}${REPLACE_SET}${INCR_OR}${take("#KEYS")}
return out`;

/**
 * TAKE, then, when every budget allowed the send, its mark (redis.ts MARK_SEND: a CIBIL send's `regsends:` member and
 * `regsend:` count, and its records read) in the same script: one round trip a send less (3 EVALSHA a CIBIL send with
 * REDIS_URL, 2 now: docs/performance.md). The budgets' keys are KEYS[1..ARGV[5]], the mark's the rest, its arguments
 * ARGV[6..8]. Answers {TAKE's answer} when a budget refused (the mark not made: a throttled send writes nothing, as
 * when `sending` ran after the take), else {TAKE's answer, the mark's reads}. What the mark keeps (one script for the
 * mark and the reads; the versions before's `regsend:` count) is MARK_SEND's own, unchanged.
 */
const TAKE_AND_MARK = `${RESCORE_AHEAD}${REPLACE_SET}${INCR_OR}${RECORD_AT}${UNREADABLE_MARKS}${MARK_SEND}${take(
  "tonumber(ARGV[5])",
)}
if refused then return {out} end
local K = {}
for k = nKeys + 1, #KEYS do K[#K + 1] = KEYS[k] end
return {out, markSend(K, {ARGV[6], ARGV[7], ARGV[8]})}`;

/**
 * KEYS[i] (i <= ARGV[1]) gets its point back only while its window is the one the take charged: the expiry ARGV[1 + i]
 * it answered. Each destination key after them loses its own member, ARGV[1 + ARGV[1] + j] (never another send's).
 * A fixed key holding no count as INCR writes one (redis.ts countAt: text, `1.5`, another type, planted since the
 * take), or a destination key that is no sorted set, is left as it is: it has no point or member of this send's to
 * give back, and the next take counts it as one send (TAKE). Before, `tonumber` read `1.5` as a count and DECR failed
 * on it, and ZREM on another type: the refund failed, the keys after it not given back.
 */
const GIVE_BACK = `${COUNT_AT}
local nFixed = tonumber(ARGV[1])
for i = 1, nFixed do
  local key = KEYS[i]
  if redis.call('pexpiretime', key) == tonumber(ARGV[1 + i]) and countAt(key) then
    if redis.call('decr', key) <= 0 then redis.call('del', key) end
  end
end
for j = nFixed + 1, #KEYS do
  redis.pcall('zrem', KEYS[j], ARGV[1 + j])
end
return 0
`;

/**
 * A fixed-window budget as the script sees it: its window in seconds and its points, and both as the script reads
 * them, `redisSpec` (fixedSpec: made once per budget, not per send).
 */
export interface RedisBudget {
  readonly seconds: number;
  readonly points: number;
  readonly redisSpec: string;
}

/** A destination budget as the script sees it: at most `points` sends in any span of `durationMs`; `redisSpec`. */
export interface RedisSlidingBudget {
  readonly points: number;
  readonly durationMs: number;
  readonly redisSpec: string;
}

/** A fixed budget's part of the script's ARGV[4]: its window's seconds and its points. */
export function fixedSpec(seconds: number, points: number): string {
  return `${seconds} ${points}`;
}

/** A destination budget's part of the script's ARGV[4]: its span's milliseconds and its points. */
export function slidingSpec(durationMs: number, points: number): string {
  return `${durationMs} ${points}`;
}

/**
 * One fixed-window key's answer: its count after this send's point (before any give-back), the milliseconds its
 * window has left, and the window's absolute expiry in Redis's clock (epoch ms): what a give-back checks it is still
 * the same window.
 */
export interface KeyCount {
  consumed: number;
  msBeforeNext: number;
  windowExpiresAt: number;
}

/** Destination budget states in a take's answer (`states[j * budgets + b]`, with `waits` alongside). */
export const SLIDING_ROOM = 0;
/** Allowed, and this send used the budget up: `waits` says when it takes the next one. */
export const SLIDING_USED_UP = 1;
/** Refused: `waits` says when its blocking send leaves the span. */
export const SLIDING_REFUSED = 2;

/** A take's answer: the fixed keys' counts, then per destination key and budget a state and a wait (ms). */
export interface Take {
  counts: KeyCount[];
  states: number[];
  waits: number[];
  /**
   * This send's token: each destination key's member is `<send>:<the key's index in the script>` (after the fixed
   * keys), made by the give-back, which few sends need, not by every take.
   */
  send: string;
}

/**
 * A CIBIL send's mark, carried into its budgets' take (TAKE_AND_MARK) by SendGuard's reservation
 * (RegisteredMobileStore.sendMark makes it; `sending` takes up what the take answered).
 */
export interface SendMark {
  /** MARK_SEND's keys (K) and arguments (A); called once, by the take that carries it (the send to the id starts). */
  begin(): { keys: readonly string[]; args: readonly string[] };
  /**
   * The take's outcome: the mark's reads when it was made; undefined when a budget refused or the script failed. A
   * failed take's `ran`: a sorted set and member the take wrote if, and only if, it made the mark (its send is refused
   * then, never sent: the mark can be ended by it).
   */
  taken(reads: readonly unknown[] | undefined, ran?: TakeProbe): void;
}

/** A sorted set and a member a take writes when every budget allowed its send (SendMark.taken). */
export interface TakeProbe {
  key: string;
  member: string;
}

/** Per process, a random token: with a counter it names each send's member uniquely across replicas. */
const PROCESS_TOKEN = randomBytes(9).toString("base64url");
let sendCounter = 0;

export class RedisBudgets {
  /** The scripts (their number of keys first): every OtpThrottle on this connection shares them. */
  readonly #take: ScriptCommand<number[]>;
  readonly #giveBack: ScriptCommand<number>;
  readonly #takeAndMark: ScriptCommand<[number[], unknown[]?]>;

  constructor(private readonly redis: Redis) {
    this.#take = scriptCommand(redis, "aopayOtpSend", TAKE);
    this.#takeAndMark = scriptCommand(redis, "aopayOtpSendMarked", TAKE_AND_MARK);
    this.#giveBack = scriptCommand(redis, "aopayOtpSendGiveBack", GIVE_BACK);
  }

  /**
   * Takes one point under `keys[i]` from `budgets[i]` (fixed windows), and one send under each of `sliding` (a
   * destination's sorted set) judged by every one of `slidingBudgets`, all at once; if any key refuses, every point and
   * send is given back before the script returns. Rejects while Redis is not connected (fail closed: no command waits
   * for a connection, redis.ts), and when the script fails or times out (its outcome is then unknown: nothing is given
   * back, docs/security-requirements.md E3).
   *
   * `mark`: a CIBIL send's mark, made in the same script once every budget allowed the send (TAKE_AND_MARK), and told
   * the outcome (SendMark.taken) whatever it is: its reads, or none when refused (nothing written) or failed (with
   * what tells whether the script made it).
   */
  async take(
    keys: readonly string[],
    budgets: readonly RedisBudget[],
    sliding: readonly string[] = [],
    slidingBudgets: readonly RedisSlidingBudget[] = [],
    mark?: SendMark,
  ): Promise<Take> {
    this.#ready();
    const send = `${PROCESS_TOKEN}.${(sendCounter++).toString(36)}`;
    // Every budget's numbers in one argument (ARGV[4]), and strings throughout: ioredis converts each argument (a
    // number to a string, `instanceof Buffer`) and writes it with its own length (Buffer.byteLength, four string
    // concatenations), about 1k main-thread instructions an argument; an AEPS send had 73 (docs/performance-runs.md,
    // the round that made this change), 30 now. One array, not a spread call: ioredis flattens it.
    const spec: string[] = [];
    for (const budget of budgets) spec.push(budget.redisSpec);
    for (const budget of slidingBudgets) spec.push(budget.redisSpec);
    // The mark's keys follow the take's, its arguments the take's (TAKE_AND_MARK): the array is built in that order,
    // not spliced afterwards (ArrayPrototypeSplice, about 1.1k main-thread instructions a CIBIL send).
    const begun = mark?.begin();
    const args: string[] = [String(keys.length + sliding.length + (begun?.keys.length ?? 0))];
    for (const key of keys) args.push(key);
    for (const key of sliding) args.push(key);
    if (begun !== undefined) for (const key of begun.keys) args.push(key);
    args.push(String(keys.length), send, String(slidingBudgets.length), spec.join(" "));
    let reply: number[];
    if (mark === undefined || begun === undefined) reply = await this.#take(args);
    else {
      args.push(String(keys.length + sliding.length));
      for (const arg of begun.args) args.push(arg);
      let reads: unknown[] | undefined;
      let failed = true;
      try {
        [reply, reads] = await this.#takeAndMark(args);
        failed = false;
      } finally {
        // Thrown: whether Redis ran the script is not known here. Its first destination's member (`send:j`, j its
        // key's place in KEYS) is in that sorted set exactly when it ran and every budget allowed it, so when it made
        // the mark: the store ends the mark by that, and leaves alone one it never made.
        mark.taken(
          reads,
          failed && sliding.length > 0 ? { key: sliding[0], member: `${send}:${keys.length + 1}` } : undefined,
        );
      }
    }
    const counts: KeyCount[] = [];
    for (let i = 0; i < keys.length; i++)
      counts.push({ consumed: reply[3 * i], msBeforeNext: reply[3 * i + 1], windowExpiresAt: reply[3 * i + 2] });
    const states: number[] = [];
    const waits: number[] = [];
    for (let at = 3 * keys.length; at < reply.length; at += 2) {
      states.push(reply[at]);
      waits.push(reply[at + 1]);
    }
    return { counts, states, waits, send };
  }

  /**
   * Gives one point back under each fixed key (a send that provably never left the process), to the window `take`
   * charged (`taken.counts[i]`, its answer for `keys[i]`), and to no later one; and removes this send's member, its
   * own and no other, from each destination key.
   */
  async giveBack(keys: readonly string[], sliding: readonly string[], taken: Take): Promise<void> {
    this.#ready();
    const members: string[] = [];
    for (let j = 0; j < sliding.length; j++) members.push(`${taken.send}:${keys.length + j + 1}`);
    await this.#giveBack(
      keys.length + sliding.length,
      ...keys,
      ...sliding,
      keys.length,
      ...taken.counts.map((c) => c.windowExpiresAt),
      ...members,
    );
  }

  /** rate-limiter-flexible's rejectIfRedisNotReady, which this service set: refused at once rather than queued. */
  #ready(): void {
    if (this.redis.status !== "ready") throw new Error("Redis connection is not ready");
  }
}
