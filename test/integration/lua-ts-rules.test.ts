import type Redis from "ioredis";
import { LINK_FORMAT, LINK_LUA } from "../../src/protection/redis-registered-mobiles";
import { COUNT_AT, INCR_OR } from "../../src/protection/redis";
import { connectRedis, deleteKeys, describeWithRedis, uniquePrefix } from "../helpers/redis";

/**
 * Rules stated twice, once in TypeScript and once in a script's Lua (or in two scripts), held to the same answers over
 * some 4,000 strings against real Redis: a change to one side alone fails here. A disagreement is a hole: LINK_FORMAT
 * refusing what HOLD_FIRST follows (or the reverse) put a PAN's registration on two paths with different answers.
 */

/** One character of each class the rules tell apart, ASCII and not (two bytes, three, four, a NUL and DEL). */
const CLASSES = ["a", "Z", "0", "9", "_", "-", ".", " ", "/", "+", "=", "%", "]", "^", "\0", "\x7f", "é", "€", "😀"];

/** Strings of length 0 to 60: all `a`, and with one character of each class at the start, the middle, the end. */
function samples(): string[] {
  const out = new Set<string>();
  for (let length = 0; length <= 60; length++) {
    const base = "a".repeat(length);
    out.add(base);
    if (length === 0) continue;
    for (const c of CLASSES) {
      for (const at of [0, Math.floor(length / 2), length - 1]) out.add(base.slice(0, at) + c + base.slice(at + 1));
      if (length <= 44) out.add(c.repeat(length));
    }
  }
  // The boundaries, with every base64url character class and the two URL-unsafe base64 ones.
  for (const length of [42, 43, 44]) {
    const mixed = "AZaz09_-".repeat(6);
    out.add(mixed.slice(0, length));
    out.add(`${mixed.slice(0, length - 1)}+`);
    out.add(`${mixed.slice(0, length - 1)}/`);
    out.add(`${mixed.slice(0, length - 1)}=`);
    out.add(`${mixed.slice(0, length - 1)}\n`);
  }
  return [...out];
}

describeWithRedis("TypeScript and Lua state each rule alike (real Redis at REDIS_URL)", () => {
  let redis: Redis;
  const prefix = uniquePrefix();
  beforeAll(async () => {
    redis = await connectRedis();
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    await redis.quit();
  });

  it("a PAN's link: LINK_FORMAT (#link, registering) and LINK_LUA (HOLD_FIRST) agree on every sample", async () => {
    const strings = samples();
    expect(strings.length).toBeGreaterThan(300);
    const lua = `local out = {}
for i, link in ipairs(ARGV) do
  if ${LINK_LUA} then out[i] = 1 else out[i] = 0 end
end
return out`;
    const answers = (await redis.eval(lua, 0, ...strings)) as number[];
    expect(answers).toHaveLength(strings.length);
    const disagree = strings.filter((s, i) => (answers[i] === 1) !== LINK_FORMAT.test(s));
    expect(disagree.map((s) => JSON.stringify(s))).toEqual([]);
    // The boundaries themselves, so that a sample set that lost them cannot pass by agreeing on nothing.
    expect(strings.filter((s, i) => answers[i] === 1).length).toBeGreaterThan(3);
    expect(LINK_FORMAT.test("AZaz09_-".repeat(6).slice(0, 43))).toBe(true);
    expect(LINK_FORMAT.test("AZaz09_-".repeat(6).slice(0, 42))).toBe(false);
    expect(LINK_FORMAT.test("AZaz09_-".repeat(6).slice(0, 44))).toBe(false);
  });

  // redis.ts: countAt (GIVE_BACK, UNDER_WAY) reads as a count exactly what incrOr (TAKE, SENDING) keeps raising, so
  // that a count one script keeps is never none to the other, nor a count to it that the other replaces. incrOr also
  // raises `0` (INCR's 1): countAt reads it as none, as a count of no send is.
  it("a count: countAt reads as a count what incrOr keeps raising, and nothing else", async () => {
    const strings = [
      ...samples(),
      ...["0", "1", "00", "01", "-1", "-0", "+1", " 1", "1 ", "1.0", "1e3", "0x10", "9".repeat(14), "9".repeat(15)],
      ...["1".repeat(16), "9223372036854775806", "9223372036854775807", "-9223372036854775808", "１"],
    ];
    const key = `${prefix}count`;
    const lua = `${COUNT_AT}${INCR_OR}
local out = {}
for i, v in ipairs(ARGV) do
  redis.call('SET', KEYS[1], v)
  local read = countAt(KEYS[1])
  local raised = incrOr(KEYS[1], -1)
  out[i] = {read and tostring(read) or false, tostring(raised)}
end
redis.call('DEL', KEYS[1])
return out`;
    const answers = (await redis.eval(lua, 1, key, ...strings)) as Array<[string | null, string]>;
    expect(answers).toHaveLength(strings.length);
    const disagree = strings.filter((s, i) => {
      const [read, raised] = answers[i];
      // Kept: raised by one. Replaced: the replacement (-1 here, which no count is).
      const kept = raised !== "-1";
      if (s === "0") return read !== null || raised !== "1";
      if (read === null) return kept;
      // A count of 15 nines raised leaves Lua's exact range: replaced, as incrOr answers for it.
      return kept ? Number(raised) !== Number(read) + 1 : Number(read) + 1 < 1e15;
    });
    expect(disagree.map((s) => JSON.stringify(s))).toEqual([]);
    expect(answers.filter(([read]) => read !== null).length).toBeGreaterThan(3);
  });
});
