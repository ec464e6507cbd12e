import { evictingPolicy, tooOldRedis } from "../../../src/protection/redis";

/**
 * The OTP budgets' give-back script needs PEXPIRETIME (Redis 7.0): an older server is named at connection (redis.ts),
 * rather than left to show up as every send refused with PROTECTION_UNAVAILABLE.
 */
describe("tooOldRedis (INFO server)", () => {
  const info = (version: string) => `# Server\r\nredis_version:${version}\r\nredis_mode:standalone\r\n`;

  it.each([
    ["6.2.14", 6],
    ["5.0.7", 5],
  ])("names %s as too old", (version, major) => {
    expect(tooOldRedis(info(version))).toBe(major);
  });

  it.each(["7.0.15", "7.2.4", "8.0.2", "10.1.0"])("accepts %s", (version) => {
    expect(tooOldRedis(info(version))).toBeUndefined();
  });

  it("judges nothing when INFO names no version", () => {
    expect(tooOldRedis("# Server\r\nredis_mode:standalone\r\n")).toBeUndefined();
  });
});

/**
 * At maxmemory, every policy but noeviction deletes keys, and every key of the stores has a TTL (so the volatile-*
 * policies take them too): an evicted cooldown is a second SMS (test/e2e/redis-operations.test.ts).
 */
describe("evictingPolicy (INFO memory)", () => {
  const info = (policy: string) =>
    `# Memory\r\nmaxmemory:0\r\nmaxmemory_policy:${policy}\r\nallocator_frag_ratio:1.0\r\n`;

  it.each([
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
  ])("names %s", (policy) => {
    expect(evictingPolicy(info(policy))).toBe(policy);
  });

  it("accepts noeviction, and judges nothing when INFO names no policy", () => {
    expect(evictingPolicy(info("noeviction"))).toBeUndefined();
    expect(evictingPolicy("# Server\r\nredis_version:7.0.15\r\n")).toBeUndefined();
  });
});
