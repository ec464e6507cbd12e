import type Redis from "ioredis";
import { createHash } from "node:crypto";
import { CONSENT_TTL_TOLERANCE_MS, RedisConsentStore } from "../../src/protection/consent-store";
import { MAX_CIBIL_CONSENT_TTL_SECONDS } from "../../src/protection/protection.settings";
import { RedisIdempotencyStore } from "../../src/protection/idempotency-store";
import { ProtectionStoreError } from "../../src/protection/errors";
import { KeyHasher } from "../../src/protection/key-hasher";
import { OtpThrottle } from "../../src/protection/otp-throttle";
import { RedisRegisteredMobileStore } from "../../src/protection/redis-registered-mobiles";
import { deriveStoreKey, StoreSealer } from "../../src/protection/store-sealer";
import { connectRedis, deleteKeys, describeWithRedis, dumpKeys, recordCommands, uniquePrefix } from "../helpers/redis";
import { throttleConfig } from "../helpers/throttle";

const throttle = throttleConfig();
const MOBILE = "9123409876";
const AADHAAR = "999971658847";
/** In flight for about `ms` more (this process's clock against the one the record was written with: within 0.5 s). */
const inFlight = (ms: number) => ({ kind: "in-flight", pendingForMs: expect.closeTo(ms, -3) as number });

describeWithRedis("shared state in Redis (real Redis at REDIS_URL)", () => {
  let redis: Redis;
  const prefix = uniquePrefix();
  // The rotation tests' secrets: HMAC_SECRET <old> before the switch, <new> after (STORE_ENCRYPTION_KEYS unset: each
  // seals with its own secret's derived key, config.ts).
  const [oldSecret, newSecret] = [Buffer.from("o".repeat(32)), Buffer.from("n".repeat(32))];
  /** A switched replica's sealer: seals with the new secret's derived key, opens with both. */
  const switchedSealer = new StoreSealer([deriveStoreKey(newSecret), deriveStoreKey(oldSecret)]);
  /** The registered-mobile store of a replica still on the old secret. */
  const oldMobileStore = () =>
    new RedisRegisteredMobileStore(
      redis,
      prefix,
      new KeyHasher(oldSecret),
      new StoreSealer([deriveStoreKey(oldSecret)]),
    );
  const hasher = new KeyHasher(Buffer.from("r".repeat(32)));
  const sealer = new StoreSealer([deriveStoreKey(Buffer.from("r".repeat(32)))]);
  beforeAll(async () => {
    redis = await connectRedis();
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    await redis.quit();
  });

  it("two throttles (two replicas) share one cooldown and one window", async () => {
    const a = new OtpThrottle({ ...throttle, cooldownSeconds: 0 }, hasher, { redis, keyPrefix: prefix });
    const b = new OtpThrottle({ ...throttle, cooldownSeconds: 0 }, hasher, { redis, keyPrefix: prefix });
    const subject = { destinations: [{ kind: "mobile" as const, value: MOBILE }], ip: "203.0.113.1", clientId: "app" };
    expect((await a.reserve(subject)).allowed).toBe(true);
    expect((await b.reserve(subject)).allowed).toBe(true);
    expect((await a.reserve(subject)).allowed).toBe(true);
    expect(await b.reserve(subject)).toMatchObject({ allowed: false, code: "OTP_LIMIT_REACHED" });
  });

  it("a refund on one replica frees the cooldown for the other", async () => {
    const a = new OtpThrottle(throttle, hasher, { redis, keyPrefix: prefix });
    const b = new OtpThrottle(throttle, hasher, { redis, keyPrefix: prefix });
    const subject = {
      destinations: [{ kind: "aadhaar" as const, value: AADHAAR }],
      ip: "203.0.113.2",
      clientId: "app",
    };
    const first = await a.reserve(subject);
    expect(await b.reserve(subject)).toMatchObject({ allowed: false, code: "OTP_COOLDOWN" });
    if (!first.allowed) throw new Error("expected allowed");
    await first.refund();
    expect((await b.reserve(subject)).allowed).toBe(true);
  });

  it("idempotency: a done record under another secret's key whose result does not open here is unopenable, never the store failing", async () => {
    // Sealed by a replica whose STORE_ENCRYPTION_KEYS this one lacks, under HMAC_SECRET_NEXT's (or _PREVIOUS's) key.
    const writer = new RedisIdempotencyStore(redis, prefix, new StoreSealer([deriveStoreKey(newSecret)]));
    const first = await writer.begin("other-k", "other-fp", 60_000);
    if (first.kind !== "acquired") throw new Error(first.kind);
    await writer.complete("other-k", first.token, "other-fp", { typename: "AepsOtpResent", data: {} }, 60_000);
    const reader = new RedisIdempotencyStore(redis, prefix, sealer);
    let found = 0;
    const others = [{ key: "other-k", fingerprint: "other-fp", found: () => found++ }];
    const outcome = await reader.begin("this-k", "this-fp", 60_000, 60_000, undefined, others);
    expect(outcome).toMatchObject({ kind: "unopenable", error: expect.any(ProtectionStoreError) as unknown });
    expect(found).toBe(1);
    // Nothing taken under this secret's key: a later request with the key is still answered by the record.
    expect(await redis.exists(`${prefix}idem:this-k`)).toBe(0);
  });

  it("idempotency: a key holding another type than a string, under this secret or a previous one, is unreadable (a record all the same), never the store failing", async () => {
    const store = new RedisIdempotencyStore(redis, prefix, sealer);
    await redis.hset(`${prefix}idem:k-hash`, "state", "done");
    await redis.rpush(`${prefix}idem:k-old-list`, "x");
    // Before: ProtectionStoreError (WRONGTYPE), PROTECTION_UNAVAILABLE to every repeat while the key lived.
    expect(await store.begin("k-hash", "fp", 60_000)).toEqual({ kind: "unreadable" });
    const rotated = [{ key: "k-old-list", fingerprint: "fp" }];
    expect(await store.begin("k-new", "fp", 60_000, 60_000, undefined, rotated)).toEqual({ kind: "unreadable" });
    expect(await redis.exists(`${prefix}idem:k-new`)).toBe(0);
  });

  it.each<[string, (key: string) => Promise<unknown>]>([
    ["text that is no JSON", (key) => redis.set(key, "v2:opaque", "KEEPTTL")],
    ["JSON that is a number", (key) => redis.set(key, "42", "KEEPTTL")],
    ["a hash", (key) => redis.del(key).then(() => redis.hset(key, "token", "x"))],
  ])(
    "idempotency: a request whose key now holds a record not of its version (%s) neither completes nor frees it: superseded",
    async (_, plant) => {
      const store = new RedisIdempotencyStore(redis, prefix, sealer);
      const key = `k-planted-${Math.random()}`;
      const begun = await store.begin(key, "fp", 60_000);
      if (begun.kind !== "acquired") throw new Error("expected acquired");
      await plant(`${prefix}idem:${key}`);
      const type = await redis.type(`${prefix}idem:${key}`);
      // Before: the script failed (cjson.decode, WRONGTYPE): the store failing, tried again, then 'not stored' lines.
      expect(await store.complete(key, begun.token, "fp", { typename: "X", data: {} }, 60_000)).toBe("superseded");
      await store.release(key, begun.token);
      expect(await redis.type(`${prefix}idem:${key}`)).toBe(type);
    },
  );

  it("consent: only what a grant writes (`1` with a TTL of at most 24 h) is consent; planted bytes never are", async () => {
    const store = new RedisConsentStore(redis, prefix);
    const key = (name: string) => `${prefix}consent:${name}`;
    await store.grant("c-granted", 60_000);
    expect(await store.has("c-granted")).toBe(true);
    expect(await store.has("c-none")).toBe(false);
    // Bytes no version writes at a consent's key: another type, other text, no TTL, a TTL past CIBIL_CONSENT_TTL's max.
    await redis.hset(key("c-hash"), "f", "1");
    await redis.rpush(key("c-list"), "1");
    await redis.zadd(key("c-zset"), 1, "1");
    await redis.set(key("c-text"), "yes", "PX", 60_000);
    await redis.set(key("c-two"), "2", "PX", 60_000);
    await redis.set(key("c-empty"), "", "PX", 60_000);
    await redis.set(key("c-forever"), "1");
    await redis.set(key("c-years"), "1", "PX", 10 * 365 * 86_400_000);
    const planted = ["c-hash", "c-list", "c-zset", "c-text", "c-two", "c-empty", "c-forever", "c-years"];
    for (const name of planted) expect([name, await store.has(name)]).toEqual([name, false]);
    // Read, not changed (a read never writes). A grant writes over a `1` no grant wrote (its time bounded), and that is
    // consent; anything else there is read as an operator's revoke mark (GRANT): not written over, "revoked".
    expect(await redis.type(key("c-hash"))).toBe("hash");
    const ones = ["c-forever", "c-years"];
    for (const name of planted) {
      expect([name, await store.grant(name, 60_000)]).toEqual([name, ones.includes(name) ? undefined : "revoked"]);
      expect([name, await store.has(name)]).toEqual([name, ones.includes(name)]);
    }
    expect(await redis.type(key("c-hash"))).toBe("hash");
    // A consent of the longest CIBIL_CONSENT_TTL_SECONDS (24 h) is one.
    await store.grant("c-day", 86_400_000);
    expect(await store.has("c-day")).toBe(true);
  });

  // A grant of the longest CIBIL_CONSENT_TTL_SECONDS (24 h) read after Redis's clock stepped back a little: its PTTL
  // is then above 24 h by the step (planted here with PEXPIRE). Before, read as no consent (CONSENT_REQUIRED) by a
  // step of a millisecond; within CONSENT_TTL_TOLERANCE_MS it is consent, beyond it a TTL no grant writes, still none.
  it("consent: a 24 h grant whose PTTL a clock step put slightly above 24 h is still consent; far above, none", async () => {
    const store = new RedisConsentStore(redis, prefix);
    const key = (name: string) => `${prefix}consent:${name}`;
    const day = MAX_CIBIL_CONSENT_TTL_SECONDS * 1000;
    for (const [name, ttl, consent] of [
      ["c-step-1ms", day + 1, true],
      ["c-step-1s", day + 1_000, true],
      ["c-step-tolerance", day + CONSENT_TTL_TOLERANCE_MS - 1_000, true],
      ["c-step-beyond", day + CONSENT_TTL_TOLERANCE_MS + 1_000, false],
      ["c-step-hour", day + 3_600_000, false],
    ] as const) {
      await store.grant(name, day);
      await redis.pexpire(key(name), ttl);
      expect([name, await store.has(name)]).toEqual([name, consent]);
    }
  });

  // HeldConsentStore's late write (a grant Redis refused, written again in the background): another replica's newer
  // grant of the same key may have landed meanwhile, and its longer time must stand; otherwise it writes as a grant.
  it("consent: a late grant (grantNoShorter) never shortens a longer consent, bounds a `1` no grant wrote, writes over nothing else", async () => {
    const store = new RedisConsentStore(redis, prefix);
    const key = (name: string) => `${prefix}consent:${name}`;
    await store.grant("c-late-newer", 600_000);
    await store.grantNoShorter("c-late-newer", 60_000);
    expect(await redis.pttl(key("c-late-newer"))).toBeGreaterThan(500_000);
    await store.grant("c-late-older", 30_000);
    await store.grantNoShorter("c-late-older", 60_000);
    expect(await redis.pttl(key("c-late-older"))).toBeGreaterThan(50_000);
    await store.grantNoShorter("c-late-absent", 60_000);
    expect(await store.has("c-late-absent")).toBe(true);
    // A `1` with a TTL no grant writes (none, years) is no consent to keep: written over, its time bounded.
    await redis.set(key("c-late-forever"), "1");
    await redis.set(key("c-late-years"), "1", "PX", 10 * 365 * 86_400_000);
    for (const name of ["c-late-forever", "c-late-years"]) {
      expect([name, await store.grantNoShorter(name, 60_000)]).toEqual([name, undefined]);
      expect([name, await store.has(name), (await redis.pttl(key(name))) <= 60_000]).toEqual([name, true, true]);
    }
    // Anything else (other text, another type) is no grant's: an operator's revoke mark however spelled (HAS_CONSENT).
    // A late grant, held since before it, does not bring the consent back: not written, "revoked" (the hold ends).
    await redis.set(key("c-late-text"), "yes", "PX", 600_000);
    await redis.hset(key("c-late-hash"), "f", "1");
    for (const name of ["c-late-text", "c-late-hash"]) {
      expect([name, await store.grantNoShorter(name, 60_000)]).toEqual([name, "revoked"]);
      expect([name, await store.has(name), await store.read(name)]).toEqual([name, false, "revoked"]);
    }
    expect(await redis.type(key("c-late-hash"))).toBe("hash");
  });

  it("idempotency: first takes the key, a concurrent second is in flight, then the result replays", async () => {
    const store = new RedisIdempotencyStore(redis, prefix, sealer);
    const other = new RedisIdempotencyStore(redis, prefix, sealer);
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? store : other).begin("k1", "fp", 60_000)),
    );
    const acquired = outcomes.filter((o) => o.kind === "acquired");
    expect(acquired).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === "in-flight")).toHaveLength(9);
    const token = (acquired[0] as { token: string }).token;
    await other.complete("k1", "someone-else", "fp", { typename: "X", data: {} }, 60_000);
    // How long the record still answers in flight: the pending time its taker gave, less the moment since.
    expect(await store.begin("k1", "fp", 60_000)).toEqual(inFlight(60_000));
    await store.complete("k1", token, "fp", { typename: "CibilOtpChallenge", data: { cibilId: "1" } }, 60_000);
    expect(await other.begin("k1", "fp", 60_000)).toEqual({
      kind: "replay",
      result: { typename: "CibilOtpChallenge", data: { cibilId: "1" } },
    });
    expect(await other.begin("k1", "changed", 60_000)).toEqual({ kind: "mismatch" });
  });

  it("idempotency: release frees only the holder's key, and keys expire", async () => {
    const store = new RedisIdempotencyStore(redis, prefix, sealer);
    const first = await store.begin("k2", "fp", 60_000);
    if (first.kind !== "acquired") throw new Error("expected acquired");
    await store.release("k2", "not-the-holder");
    expect(await store.begin("k2", "fp", 60_000)).toEqual(inFlight(60_000));
    await store.release("k2", first.token);
    const again = await store.begin("k2", "fp", 50);
    expect(again.kind).toBe("acquired");
    await new Promise((r) => setTimeout(r, 120));
    expect((await store.begin("k2", "fp", 60_000)).kind).toBe("acquired");
  });

  it("idempotency: complete restores a record Redis lost, and never writes over another request's", async () => {
    // Lost: a restart without persistence, a failover to a replica the write had not reached, a flush. Before, the
    // result was not written (the script answered 0, unread) and a repeat of the key took it as new: a second SMS.
    const store = new RedisIdempotencyStore(redis, prefix, sealer);
    const first = await store.begin("k-lost", "fp", 60_000);
    if (first.kind !== "acquired") throw new Error("expected acquired");
    expect(await redis.del(`${prefix}idem:k-lost`)).toBe(1);
    expect(await store.complete("k-lost", first.token, "fp", { typename: "X", data: { n: 1 } }, 60_000)).toBe(
      "restored",
    );
    expect(await store.begin("k-lost", "fp", 60_000)).toEqual({
      kind: "replay",
      result: { typename: "X", data: { n: 1 } },
    });
    expect(await redis.pttl(`${prefix}idem:k-lost`)).toBeGreaterThan(59_000);

    const held = await store.begin("k-taken", "fp", 60_000);
    if (held.kind !== "acquired") throw new Error("expected acquired");
    await redis.del(`${prefix}idem:k-taken`);
    const taker = await store.begin("k-taken", "fp", 60_000);
    if (taker.kind !== "acquired") throw new Error("expected acquired");
    expect(await store.complete("k-taken", held.token, "fp", { typename: "X", data: {} }, 60_000)).toBe("superseded");
    expect(await store.begin("k-taken", "fp", 60_000)).toEqual(inFlight(60_000));
    expect(await store.complete("k-taken", taker.token, "fp", { typename: "Y", data: {} }, 60_000)).toBe("stored");
    expect(await store.begin("k-taken", "fp", 60_000)).toEqual({ kind: "replay", result: { typename: "Y", data: {} } });
  });

  it("idempotency: a pending record kept past its pending time answers abandoned, not acquired", async () => {
    const store = new RedisIdempotencyStore(redis, prefix, sealer);
    expect((await store.begin("k-abandoned", "fp", 50, 60_000)).kind).toBe("acquired");
    await new Promise((r) => setTimeout(r, 120));
    expect(await store.begin("k-abandoned", "fp", 50, 60_000)).toEqual({ kind: "abandoned" });
    expect(await store.begin("k-abandoned", "other", 50, 60_000)).toEqual({ kind: "mismatch" });
  });

  it("idempotency: a key another replica takes and frees around each command answers in-flight or acquired, never a store failure", async () => {
    // The store's own connection, each command of which runs after another replica's step on the same key: before a
    // SET, it takes the key (a pending record of its own); before anything else, it frees it (as a release or an
    // expiry would). Contention between requests, Redis answering every command.
    const own = await connectRedis();
    const replica = await connectRedis();
    try {
      const store = new RedisIdempotencyStore(own, prefix, sealer);
      const key = "k-churn";
      const redisKey = `${prefix}idem:${key}`;
      const theirs = JSON.stringify({
        state: "pending",
        fingerprint: "fp",
        token: "theirs",
        pendingUntil: Date.now() + 60_000,
      });
      const send = own.sendCommand.bind(own);
      own.sendCommand = ((...args: Parameters<Redis["sendCommand"]>) => {
        const command = args[0];
        const before = command.name === "set" ? replica.set(redisKey, theirs, "PX", 60_000) : replica.del(redisKey);
        void before.then(
          () => send(...args),
          (error: Error) => command.reject(error),
        );
        return command.promise;
      }) as Redis["sendCommand"];
      await expect(store.begin(key, "fp", 60_000)).resolves.toEqual(inFlight(60_000));
      // With the key free at each command (the other replica's record gone): taken.
      own.sendCommand = send;
      await replica.del(redisKey);
      await expect(store.begin(key, "fp", 60_000)).resolves.toMatchObject({ kind: "acquired" });
    } finally {
      own.disconnect();
      replica.disconnect();
    }
  });

  it("idempotency: complete and release are one EVALSHA each, not the script's text with every call", async () => {
    const own = await connectRedis();
    try {
      const store = new RedisIdempotencyStore(own, prefix, sealer);
      // Once each first: a Redis that never saw a script answers NOSCRIPT, and ioredis sends it whole (EVAL) once.
      for (const key of ["k3", "k4"]) {
        const begun = await store.begin(key, "fp", 60_000);
        if (begun.kind !== "acquired") throw new Error("expected acquired");
        if (key === "k3") await store.complete(key, begun.token, "fp", { typename: "X", data: {} }, 60_000);
        else await store.release(key, begun.token);
      }
      const sent = recordCommands(own);
      const completed = await store.begin("k5", "fp", 60_000);
      const released = await store.begin("k6", "fp", 60_000);
      if (completed.kind !== "acquired" || released.kind !== "acquired") throw new Error("expected acquired");
      await store.complete("k5", completed.token, "fp", { typename: "X", data: {} }, 60_000);
      await store.release("k6", released.token);
      expect(sent).toEqual(["set", "set", "evalsha", "evalsha"]);
      expect(await store.begin("k5", "fp", 60_000)).toEqual({ kind: "replay", result: { typename: "X", data: {} } });
      expect((await store.begin("k6", "fp", 60_000)).kind).toBe("acquired");
    } finally {
      own.disconnect();
    }
  });

  it("keys are HMACs: no identifier, nor its unsalted SHA-256 or MD5, appears in any key or value (docs/security-requirements.md D2)", async () => {
    const entries = await dumpKeys(redis, prefix);
    expect(entries.length).toBeGreaterThan(3);
    const text = entries.map((e) => `${e.key}\n${e.value}`).join("\n");
    for (const id of [MOBILE, AADHAAR]) {
      expect(text).not.toContain(id);
      for (const algo of ["sha256", "md5"]) {
        expect(text).not.toContain(createHash(algo).update(id).digest("hex"));
        expect(text).not.toContain(createHash(algo).update(id).digest("base64url"));
      }
    }
  });

  /**
   * HMAC_SECRET_PREVIOUS (docs/security.md "Rotating the HMAC secret"): a store under the new secret reads what one
   * under the old secret wrote, and writes under the new one (STORE_ENCRYPTION_KEYS unset: the derived keys of both).
   */
  it("a token linked under the old secret leads a send under the new one to its id's mobiles (previous, retired)", async () => {
    const old = oldMobileStore();
    const store = (previous: KeyHasher[], retired: KeyHasher[]) =>
      new RedisRegisteredMobileStore(
        redis,
        prefix,
        new KeyHasher(newSecret),
        switchedSealer,
        60_000,
        previous,
        [],
        retired,
      );
    await old.remember("7000000051", "9123400051", "ABCPE1051F", undefined, "TOK51");
    for (const [setting, rotated] of [
      ["previous", store([new KeyHasher(oldSecret)], [])],
      ["retired", store([], [new KeyHasher(oldSecret)])],
    ] as const) {
      const marked: string[] = [];
      // The token with digits of no record: its registration's mobile, its id marked (under each secret it reads).
      expect({ setting, mobiles: await rotated.sending(`80000000${setting.length}`, "TOK51", marked) }).toEqual({
        setting,
        mobiles: ["9123400051"],
      });
      expect(marked).toEqual(["7000000051"]);
      await rotated.sent(`80000000${setting.length}`);
      await rotated.sent("7000000051");
    }
    // Without a rotation setting the old secret's link is not read: the token leads nowhere.
    const marked: string[] = [];
    expect(await store([], []).sending("8000000099", "TOK51", marked)).toEqual([]);
    expect(marked).toEqual([]);
    await store([], []).sent("8000000099");
  });

  // STORE_ENCRYPTION_KEYS rotated (k1 to k2, docs/security.md "Stored results are encrypted"): a token's link to
  // another CIBIL id is opened (its id sealed with k1), so it is sealed again with k2 as a registered mobile is,
  // counted once; then k1 can go. Not sealed again, it was counted at every such send and refused
  // (ProtectionUnavailable) once k1 went.
  it("a token's link opened with an older store key is sealed again: counted once, and it opens once that key is gone", async () => {
    const [k1, k2] = [
      { id: "k1", key: Buffer.alloc(32, 1) },
      { id: "k2", key: Buffer.alloc(32, 2) },
    ];
    let olderOpens = 0;
    const stores = (keys: { id: string; key: Buffer }[]) =>
      new RedisRegisteredMobileStore(redis, prefix, hasher, new StoreSealer(keys, () => olderOpens++), 60_000);
    await stores([k1]).remember("7000000061", "9123400061", "ABCPE1061F", undefined, "TOK61");
    const rotated = stores([k2, k1]);
    for (let i = 0; i < 2; i++) {
      expect(await rotated.sending("8000000061", "TOK61")).toEqual(["9123400061"]);
      await rotated.sent("8000000061");
      await rotated.sent("7000000061");
    }
    // The link and the id's record, each opened with k1 once, then with k2.
    expect(olderOpens).toBe(2);
    const after = stores([k2]);
    expect(await after.sending("8000000061", "TOK61").catch((e: Error) => e.name)).toEqual(["9123400061"]);
    await after.sent("8000000061");
    await after.sent("7000000061");
    // Its own id's send still goes without opening the link.
    expect(await after.sending("7000000061", "TOK61")).toEqual(["9123400061"]);
    await after.sent("7000000061");
  });

  it("registered mobiles across a rotation: read under the old secret, rewritten under the new one with its mobiles", async () => {
    const old = oldMobileStore();
    const rotated = new RedisRegisteredMobileStore(redis, prefix, new KeyHasher(newSecret), switchedSealer, 60_000, [
      new KeyHasher(oldSecret),
    ]);
    const plain = new RedisRegisteredMobileStore(redis, prefix, new KeyHasher(newSecret), switchedSealer);
    await old.remember("7000000001", "9123400001", "ABCPE1001F");
    // Nothing under the new secret yet: a store without the setting knows nothing of it.
    expect(await plain.recall("7000000001")).toEqual([]);
    expect(await rotated.recall("7000000001")).toEqual(["9123400001"]);
    expect(await rotated.sending("7000000001")).toEqual(["9123400001"]);
    await rotated.sent("7000000001");
    // Read, it was copied under the new key (migrate-on-read, below).
    expect(await plain.recall("7000000001")).toEqual(["9123400001"]);
    // A registration of the same PAN on the rotated store: found through the old link, then rewritten under the new key.
    await rotated.registering("ABCPE1001F", "9123400002");
    await rotated.remember("7000000001", "9123400002", "ABCPE1001F");
    expect(await plain.recall("7000000001")).toEqual(["9123400001", "9123400002"]);
    expect(await rotated.recall("7000000001")).toEqual(["9123400001", "9123400002"]);
    // A send under way marks the old key too: a registration found through a PAN's old link is refused meanwhile.
    await old.remember("7000000002", "9123400004", "ABCPE1002F");
    expect(await rotated.sending("7000000002")).toEqual(["9123400004"]);
    await expect(rotated.registering("ABCPE1002F", "9123400005")).rejects.toMatchObject({
      code: "OTP_SEND_IN_PROGRESS",
    });
    await rotated.sent("7000000002");
  });

  /**
   * A rolling rotation in two steps (docs/security.md "Rotating the HMAC secret"): replicas not yet switched run
   * HMAC_SECRET=<old> with HMAC_SECRET_NEXT=<new> beside switched ones, HMAC_SECRET=<new> with
   * HMAC_SECRET_PREVIOUS=<old>. Each reads what the other wrote, and an Idempotency-Key is taken once between them.
   */
  describe("a rolling rotation: a replica not yet switched (HMAC_SECRET_NEXT) beside a switched one", () => {
    const [oldHasher, newHasher] = [new KeyHasher(oldSecret), new KeyHasher(newSecret)];
    // Each seals with its own secret's derived key and opens with both (the switched one's: switchedSealer above).
    const notYetSealer = new StoreSealer([deriveStoreKey(oldSecret), deriveStoreKey(newSecret)]);
    const keysOf = (hasher: KeyHasher, scope: string) => ({
      key: hasher.hash("idempotency", scope),
      fingerprint: hasher.hash("fingerprint", "input"),
    });

    it("idempotency: ten begins at once over both replicas take one key between them; the result replays on either", async () => {
      const notYet = new RedisIdempotencyStore(redis, prefix, notYetSealer);
      const switched = new RedisIdempotencyStore(redis, prefix, switchedSealer);
      const scope = `rolling-${Date.now()}`;
      const [underOld, underNew] = [keysOf(oldHasher, scope), keysOf(newHasher, scope)];
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          i % 2
            ? notYet.begin(underOld.key, underOld.fingerprint, 60_000, 60_000, undefined, [underNew])
            : switched.begin(underNew.key, underNew.fingerprint, 60_000, 60_000, undefined, [underOld]),
        ),
      );
      expect(outcomes.filter((o) => o.kind === "acquired")).toHaveLength(1);
      expect(outcomes.filter((o) => o.kind === "in-flight")).toHaveLength(9);
      // The winner stores its result under its own key; both replicas replay it, each judging by its own fingerprint.
      const winner = outcomes.findIndex((o) => o.kind === "acquired");
      const { token } = outcomes[winner] as { token: string };
      const [store, own] = winner % 2 ? [notYet, underOld] : [switched, underNew];
      const result = { typename: "AepsOtpResent", data: { message: "sent" } };
      await store.complete(own.key, token, own.fingerprint, result, 60_000);
      expect(await notYet.begin(underOld.key, underOld.fingerprint, 60_000, 60_000, undefined, [underNew])).toEqual({
        kind: "replay",
        result,
      });
      expect(await switched.begin(underNew.key, underNew.fingerprint, 60_000, 60_000, undefined, [underOld])).toEqual({
        kind: "replay",
        result,
      });
      // Other input with the same key, on either side: a reuse, judged by the record's own secret's fingerprint.
      const other = { key: underNew.key, fingerprint: newHasher.hash("fingerprint", "other input") };
      const otherOld = { key: underOld.key, fingerprint: oldHasher.hash("fingerprint", "other input") };
      expect(await switched.begin(other.key, other.fingerprint, 60_000, 60_000, undefined, [otherOld])).toEqual({
        kind: "mismatch",
      });
      expect(await notYet.begin(otherOld.key, otherOld.fingerprint, 60_000, 60_000, undefined, [other])).toEqual({
        kind: "mismatch",
      });
    });

    it("idempotency: one command per begin, the SET it was without a rotation, one script with one", async () => {
      const store = new RedisIdempotencyStore(redis, prefix, sealer);
      const sent = recordCommands(redis);
      await store.begin(`plain-${Date.now()}`, "fp", 60_000);
      expect(sent).toEqual(["set"]);
      const scope = `one-trip-${Date.now()}`;
      const [underOld, underNew] = [keysOf(oldHasher, scope), keysOf(newHasher, scope)];
      // Once to load the script where Redis does not know it yet (EVALSHA answered NOSCRIPT, then EVAL), then once.
      await store.begin(underNew.key, underNew.fingerprint, 60_000, 60_000, undefined, [underOld]);
      sent.length = 0;
      await store.begin(underNew.key, underNew.fingerprint, 60_000, 60_000, undefined, [underOld]);
      expect(sent).toEqual(["evalsha"]);
    });

    it("registered mobiles: each reads what the other wrote; the one not yet switched copies nothing under the old secret", async () => {
      const notYet = new RedisRegisteredMobileStore(redis, prefix, oldHasher, notYetSealer, 60_000, [], [newHasher]);
      const switched = new RedisRegisteredMobileStore(redis, prefix, newHasher, switchedSealer, 60_000, [oldHasher]);
      const oldOnly = new RedisRegisteredMobileStore(redis, prefix, oldHasher, notYetSealer);
      await switched.remember("7000000011", "9123400011", "ABCPE1011F");
      expect(await notYet.recall("7000000011")).toEqual(["9123400011"]);
      expect(await notYet.sending("7000000011")).toEqual(["9123400011"]);
      await notYet.sent("7000000011");
      // Read, never copied back under the old secret (the switched replicas write under the new one).
      expect(await redis.exists(oldOnly.redisKey("7000000011"))).toBe(0);
      // A send under way on the switched replica marks both keys: a registration of the PAN on the other is refused.
      expect(await switched.sending("7000000011")).toEqual(["9123400011"]);
      await expect(notYet.registering("ABCPE1011F", "9123400012")).rejects.toMatchObject({
        code: "OTP_SEND_IN_PROGRESS",
      });
      await switched.sent("7000000011");
      // And the other way: what the replica not yet switched registers, the switched one reads.
      await notYet.remember("7000000012", "9123400013", "ABCPE1012F");
      expect(await switched.sending("7000000012")).toEqual(["9123400013"]);
      await switched.sent("7000000012");
    });

    /**
     * Migrate-on-read's stores: one on the old secret (records of a minute), a switched one that copies them (its own
     * TTL 90 days), and one on the new secret alone, which reads only what was copied.
     */
    const migrationStores = () => ({
      oldStore: new RedisRegisteredMobileStore(redis, prefix, oldHasher, notYetSealer, 60_000),
      switched: new RedisRegisteredMobileStore(redis, prefix, newHasher, switchedSealer, 90 * 86_400_000, [oldHasher]),
      newOnly: new RedisRegisteredMobileStore(redis, prefix, newHasher, switchedSealer, 90 * 86_400_000),
    });

    it("registered mobiles, migrate-on-read: a send copies a record found only under the previous secret, keeping its TTL", async () => {
      // Its own TTL is 90 days: the copy must keep the original's remaining minute, not start a new TTL.
      const { oldStore, switched, newOnly } = migrationStores();
      await oldStore.remember("7000000021", "9123400021", "ABCPE1021F");
      await oldStore.remember("7000000022", "9123400022", "ABCPE1022F");
      expect(await switched.sending("7000000021")).toEqual(["9123400021"]);
      await switched.sent("7000000021");
      const [original, copy] = [
        await redis.pttl(oldStore.redisKey("7000000021")),
        await redis.pttl(newOnly.redisKey("7000000021")),
      ];
      expect(copy).toBeGreaterThan(original - 5_000);
      expect(copy).toBeLessThanOrEqual(60_000);
      // Once HMAC_SECRET_PREVIOUS is gone, the copy is what counts; an id no send read meanwhile is not known.
      expect(await newOnly.recall("7000000021")).toEqual(["9123400021"]);
      expect(await newOnly.recall("7000000022")).toEqual([]);
      // A record already under the new key is never overwritten: both are read, the old one is not copied over it.
      await oldStore.remember("7000000023", "9123400023", "ABCPE1023F");
      await newOnly.remember("7000000023", "9123400024", "ABCPE1023F");
      expect(await switched.sending("7000000023")).toEqual(["9123400023", "9123400024"]);
      await switched.sent("7000000023");
      expect(await newOnly.recall("7000000023")).toEqual(["9123400024"]);
    });

    it("registered mobiles, migrate-on-read: a key of another type beside the old record is refused, and lends no TTL", async () => {
      const { oldStore, switched, newOnly } = migrationStores();
      await oldStore.remember("7000000061", "9123400061", "ABCPE1061F");
      // Bytes no version writes, at the old record's legacy key (`regmobile:`): ten years to live.
      await redis.hset(oldStore.legacyRedisKey("7000000061"), "mobile", "9123400099");
      await redis.pexpire(oldStore.legacyRedisKey("7000000061"), 10 * 365 * 86_400_000);
      // Refused as a record that does not open (before: none, and the send went out with the mobiles beside it only).
      const refused = switched.sending("7000000061");
      await expect(refused).rejects.toThrow(ProtectionStoreError);
      await expect(refused).rejects.toMatchObject({ cause: { name: "ForeignRecordError", kind: "regmobile:" } });
      expect(await redis.exists(newOnly.redisKey("7000000061"))).toBe(0);
      // MIGRATE itself, given such a key beside the record (planted between a send's read and its copy): copied with
      // the record's minute, not the planted key's years (before the MGET guard: 5 years, the most any replica gives).
      const migrate = (redis as unknown as Record<string, (...a: unknown[]) => Promise<number>>)
        .aopayRegisteredMobilesMigrate;
      const sources = [oldStore.redisKey("7000000061"), oldStore.legacyRedisKey("7000000061")];
      const copied = await migrate.call(
        redis,
        3,
        newOnly.redisKey("7000000061"),
        ...sources,
        "s1.x",
        5 * 365 * 86_400_000,
      );
      expect(copied).toBe(1);
      const copy = await redis.pttl(newOnly.redisKey("7000000061"));
      expect(copy).toBeGreaterThan(50_000);
      expect(copy).toBeLessThanOrEqual(60_000);
      // A current key of another type (planted since the read) is left for the send to refuse, never written over.
      await redis.del(newOnly.redisKey("7000000061"));
      await redis.rpush(newOnly.redisKey("7000000061"), "x");
      expect(await migrate.call(redis, 3, newOnly.redisKey("7000000061"), ...sources, "s1.x", 60_000)).toBe(0);
      expect(await redis.type(newOnly.redisKey("7000000061"))).toBe("list");
    });

    it("registered mobiles without a rotation setting: one HMAC per identifier, the commands they were, no re-seal", async () => {
      const hasher = new KeyHasher(newSecret);
      const store = new RedisRegisteredMobileStore(redis, prefix, hasher, sealer, 60_000);
      await store.remember("7000000041", "9123400041", "ABCPE1041F");
      const hashes = jest.spyOn(hasher, "hash");
      const sent = recordCommands(redis);
      // A send: the record key (1 HMAC), marked and read in one script; its end: no HMAC (kept from the start).
      expect(await store.sending("7000000041")).toEqual(["9123400041"]);
      await store.sent("7000000041");
      // A registration of the PAN: its link (1 HMAC), the record's compare-and-set (both read with one script, which
      // tells another type from none, as a send reads them), the send marks (one script: the marks still counting, and
      // the versions before's count).
      await store.registering("ABCPE1041F", "9123400042");
      expect(hashes).toHaveBeenCalledTimes(2);
      expect(sent.filter((name) => name !== "script")).toEqual([
        "evalsha",
        "evalsha",
        "evalsha",
        "evalsha",
        "evalsha",
        "evalsha",
      ]);
    });

    it("registered mobiles under HMAC_SECRET_RETIRED: records read and copied; nothing written under the old secret", async () => {
      const oldStore = new RedisRegisteredMobileStore(redis, prefix, oldHasher, notYetSealer, 60_000);
      const retired = new RedisRegisteredMobileStore(
        redis,
        prefix,
        newHasher,
        switchedSealer,
        90 * 86_400_000,
        [],
        [],
        [oldHasher],
      );
      const newOnly = new RedisRegisteredMobileStore(redis, prefix, newHasher, switchedSealer, 90 * 86_400_000);
      await oldStore.remember("7000000031", "9123400031", "ABCPE1031F");
      await oldStore.remember("7000000032", "9123400032", "ABCPE1032F");
      const before = await dumpKeys(redis, prefix);
      expect(await retired.sending("7000000031")).toEqual(["9123400031"]);
      // The send's mark is under the current key only: a copy of Redis shows no new key under the old secret.
      expect(await redis.exists(`${prefix}regsend:${oldHasher.hash("registered-mobile", "7000000031")}`)).toBe(0);
      await retired.sent("7000000031");
      expect(await retired.recall("7000000032")).toEqual(["9123400032"]);
      // Copied, the original's remaining minute kept.
      for (const id of ["7000000031", "7000000032"]) {
        expect(await newOnly.recall(id)).toEqual([id.replace("70000000", "91234000")]);
        expect(await redis.pttl(newOnly.redisKey(id))).toBeLessThanOrEqual(60_000);
      }
      // A PAN linked under the retired secret only is followed, as the record it names is read: a send under way to
      // its id refuses the registration (the send marks the old record's successor key, where the registration looks),
      // as it would have before the rotation.
      expect(await retired.sending("7000000032")).toEqual(["9123400032"]);
      await expect(retired.registering("ABCPE1032F", "9123400034")).rejects.toMatchObject({
        code: "OTP_SEND_IN_PROGRESS",
      });
      await retired.sent("7000000032");
      // Otherwise its mobile joins before AOPay is called: the next send reads it, and a server without the setting
      // too once AOPay answered (`remember` merges it under the id's key).
      await retired.registering("ABCPE1031F", "9123400033");
      expect([...(await retired.sending("7000000031"))].sort()).toEqual(["9123400031", "9123400033"]);
      await retired.sent("7000000031");
      await retired.remember("7000000031", "9123400033", "ABCPE1031F");
      expect(await newOnly.recall("7000000031")).toEqual(["9123400031", "9123400033"]);
      // The old record is left as it was, and nothing under the old secret changed at all.
      const underOld = (keys: Array<{ key: string; value: string }>) =>
        keys
          .filter((k) => k.key.includes(oldHasher.hash("registered-mobile", "7000000031")))
          .sort((a, b) => a.key.localeCompare(b.key));
      const oldNow = underOld(await dumpKeys(redis, prefix));
      expect(oldNow).toEqual(underOld(before));
      expect(oldNow.map((k) => k.key)).toEqual([oldStore.redisKey("7000000031")]);
    });
  });
});
