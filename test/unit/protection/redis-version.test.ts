import { evictingPolicy, maxmemoryPolicy, tooOldRedis } from "../../../src/protection/redis";

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

/**
 * What a proxy or a managed Redis may answer (odd spacing, LF lines, upper case, a policy named since, several servers'
 * INFO one after the other): anything but a policy read as exactly `noeviction` evicts. Before, a line this server did
 * not parse (a space after the name) was "no policy named": not judged, and sends went on.
 */
describe("maxmemoryPolicy: whatever the line looks like, only noeviction is sound", () => {
  it.each([
    ["# Memory\r\nmaxmemory_policy:allkeys-lru \r\n", "allkeys-lru"],
    ["# Memory\r\nmaxmemory_policy: volatile-lru\r\n", "volatile-lru"],
    ["# Memory\nmaxmemory_policy : allkeys-lfu\n", "allkeys-lfu"],
    ["# Memory\r\nMAXMEMORY_POLICY:Volatile-TTL\r\n", "volatile-ttl"],
    ["# Memory\r\nmaxmemory_policy:allkeys-lrm\r\n", "allkeys-lrm"],
    ["# Memory\r\nmaxmemory_policy:evict_2\r\n", "evict_2"],
    ["# Memory\r\nmaxmemory_policy:\r\n", "unknown"],
    ["# Memory\r\nmaxmemory_policy:<script>\u001b[31m\r\n", "script31m"],
    ["# Memory\r\nmaxmemory_policy:noeviction\r\n# Memory\r\nmaxmemory_policy:volatile-lru\r\n", "volatile-lru"],
  ])("reads %j as evicting (%s)", (info, policy) => {
    expect(maxmemoryPolicy(info)).toBe(policy);
    expect(evictingPolicy(info)).toBe(policy);
  });

  it.each([
    "maxmemory_policy:noeviction\r\n",
    "maxmemory_policy: noeviction \r\n",
    "maxmemory_policy:NOEVICTION\n",
    "# Memory\r\nmaxmemory_policy:noeviction\r\n# Memory\r\nmaxmemory_policy:noeviction\r\n",
  ])("reads %j as noeviction", (info) => {
    expect(maxmemoryPolicy(info)).toBe("noeviction");
    expect(evictingPolicy(info)).toBeUndefined();
  });

  it("names none when no line is the policy's (a longer name is another field)", () => {
    expect(maxmemoryPolicy("# Memory\r\nmaxmemory_policy_x:allkeys-lru\r\nmaxmemory:0\r\n")).toBeUndefined();
  });
});
