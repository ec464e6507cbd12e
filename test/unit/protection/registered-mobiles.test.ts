import Redis from "ioredis";
import { ProtectionStoreError } from "../../../src/protection/errors";
import { KeyHasher } from "../../../src/protection/key-hasher";
import { MemoryStoreFullError } from "../../../src/protection/memory-counters";
import {
  DEFAULT_CIBIL_REGISTERED_MOBILE_TTL_SECONDS,
  MAX_CIBIL_REGISTERED_MOBILE_TTL_SECONDS,
} from "../../../src/protection/protection.settings";
import { MemoryRegisteredMobileStore } from "../../../src/protection/memory-registered-mobiles";
import {
  CAS_ATTEMPTS_AFTER_CALL,
  CAS_ATTEMPTS_BEFORE_CALL,
  RedisRegisteredMobileStore,
} from "../../../src/protection/redis-registered-mobiles";
import {
  FIRST_REGISTRATION_HOLD_MS,
  FirstRegistrationPendingError,
  LONGEST_SEND_MARK_TTL_MS,
  MAX_MOBILES_PER_ID,
  REGISTERED_MOBILE_DIMENSION,
  REGISTERED_PAN_DIMENSION,
  REGISTERED_TOKEN_DIMENSION,
  RegisteredMobilesBusyError,
  RegisteredMobilesFullError,
  RegistrationRaceError,
  SEND_MARK_TTL_MS,
  sendMarkTtlMs,
} from "../../../src/protection/registered-mobiles";
import { deriveStoreKey, StoreSealer } from "../../../src/protection/store-sealer";
import { connectRedis, deleteKeys, describeWithRedis, dumpKeys, uniquePrefix } from "../../helpers/redis";

const hasher = new KeyHasher(Buffer.from("m".repeat(32)));
const sealer = new StoreSealer([deriveStoreKey(Buffer.from("m".repeat(32)))]);
const CIBIL = "760191459";
const MOBILE = "9876512345";
const PAN = "ABCPE1234F";
const DAY = 86_400_000;

/** The same keys as KeyHasher's, counting the PAN links' HMACs (`registered-pan`). */
class PanCountingHasher extends KeyHasher {
  pans = 0;
  override hash(dimension: string, identifier: string): string {
    if (dimension === REGISTERED_PAN_DIMENSION) this.pans += 1;
    return super.hash(dimension, identifier);
  }
}

describe("MemoryRegisteredMobileStore (CIBIL id → the mobile its OTPs go to)", () => {
  function store(options: { maxKeys?: number; ttlMs?: number } = {}) {
    let now = 1_750_000_000_000;
    const full: number[] = [];
    const s = new MemoryRegisteredMobileStore(hasher, sealer, {
      maxKeys: options.maxKeys ?? 10,
      ttlMs: options.ttlMs ?? 90 * DAY,
      now: () => now,
      onFull: () => full.push(now),
    });
    return { s, full, advance: (ms: number) => (now += ms) };
  }

  it("round trip: remembered, recalled; an unknown CIBIL id recalls nothing", async () => {
    const { s } = store();
    await s.remember(CIBIL, MOBILE, PAN);
    expect(s.recall(CIBIL)).toEqual([MOBILE]);
    expect(s.recall("760191460")).toEqual([]);
  });

  it("a later registration of the same CIBIL id adds its mobile (latest last); the latest MAX_MOBILES_PER_ID are kept", async () => {
    const { s } = store();
    await s.remember(CIBIL, MOBILE, PAN);
    await s.remember(CIBIL, "9123456780", PAN);
    expect(s.recall(CIBIL)).toEqual([MOBILE, "9123456780"]);
    // Registered again with the first: it is the latest again, not twice.
    await s.remember(CIBIL, MOBILE, PAN);
    expect(s.recall(CIBIL)).toEqual(["9123456780", MOBILE]);
    const more = ["9000000001", "9000000002", "9000000003", "9000000004"];
    for (const mobile of more) await s.remember(CIBIL, mobile, PAN);
    expect(s.recall(CIBIL)).toEqual(more.slice(-MAX_MOBILES_PER_ID));
  });

  it("registering: a PAN registered here before adds its new mobile to its CIBIL id at once; an unknown PAN adds nothing", () => {
    const { s } = store();
    s.registering(PAN, MOBILE);
    expect(s.size).toBe(0);
    void s.remember(CIBIL, MOBILE, PAN);
    s.registering(PAN, "9123456780");
    expect(s.recall(CIBIL)).toEqual([MOBILE, "9123456780"]);
    s.registering("ZZZPE9999Z", "9000000009");
    expect(s.recall(CIBIL)).toEqual([MOBILE, "9123456780"]);
    // Full: one more mobile is refused before the call, nothing dropped; one already there may register again.
    s.registering(PAN, "9000000001");
    s.registering(PAN, "9000000002");
    expect(() => s.registering(PAN, "9000000003")).toThrow(RegisteredMobilesFullError);
    expect(s.recall(CIBIL)).toEqual([MOBILE, "9123456780", "9000000001", "9000000002"]);
    s.registering(PAN, MOBILE);
    expect(s.recall(CIBIL)).toEqual(["9123456780", "9000000001", "9000000002", MOBILE]);
  });

  it("a PAN's first registration holds it: another is refused until it ends, or its hold expires when AOPay may still take it", async () => {
    const { s, advance } = store();
    s.registering(PAN, MOBILE, "first");
    expect(() => s.registering(PAN, "9123456780", "second")).toThrow(FirstRegistrationPendingError);
    // Its own token again (the same request), another PAN, and a registration without a token: not refused.
    expect(() => s.registering(PAN, MOBILE, "first")).not.toThrow();
    expect(() => s.registering("ZZZPE9999Z", MOBILE, "other")).not.toThrow();
    // Another's end does not drop it; its own does.
    await s.firstEnded(PAN, "second", false);
    expect(() => s.registering(PAN, "9123456780", "second")).toThrow(FirstRegistrationPendingError);
    await s.firstEnded(PAN, "first", false);
    s.registering(PAN, "9123456780", "second");
    // Its outcome unknown: held until FIRST_REGISTRATION_HOLD_MS after it began.
    await s.firstEnded(PAN, "second", true);
    expect(() => s.registering(PAN, MOBILE, "third")).toThrow(FirstRegistrationPendingError);
    advance(FIRST_REGISTRATION_HOLD_MS);
    s.registering(PAN, MOBILE, "third");
    // Answered: the PAN is linked, and the next registration adds its mobile before the call, without a hold.
    await s.remember(CIBIL, MOBILE, PAN);
    s.registering(PAN, "9123456780", "fourth");
    expect(s.recall(CIBIL)).toEqual([MOBILE, "9123456780"]);
  });

  it("a send under way (sending to sent) refuses a registration of its id's PAN, after adding its mobile", async () => {
    const { s } = store();
    await s.remember(CIBIL, MOBILE, PAN);
    s.sending(CIBIL);
    s.sending(CIBIL);
    expect(() => s.registering(PAN, "9123456780")).toThrow(RegistrationRaceError);
    expect(s.recall(CIBIL)).toEqual([MOBILE, "9123456780"]);
    await s.sent(CIBIL);
    expect(() => s.registering(PAN, "9123456780")).toThrow(RegistrationRaceError);
    await s.sent(CIBIL);
    expect(() => s.registering(PAN, "9123456780")).not.toThrow();
    // Unmatched: never below zero.
    await s.sent(CIBIL);
    s.sending(CIBIL);
    expect(() => s.registering(PAN, MOBILE)).toThrow(RegistrationRaceError);
  });

  it("a send whose outcome is unknown (sent with mayStillApply) keeps its id under way until SEND_MARK_TTL_MS after it started, whatever the id's other sends do", async () => {
    const { s, advance } = store();
    await s.remember(CIBIL, MOBILE, PAN);
    s.sending(CIBIL);
    advance(1_000);
    s.sending(CIBIL);
    // The first ends with its outcome unknown (AOPay may still send), the second is answered.
    advance(1_000);
    await s.sent(CIBIL, true);
    await s.sent(CIBIL);
    expect(() => s.registering(PAN, "9123456780")).toThrow(RegistrationRaceError);
    // Another send to the id that ends normally does not end it either.
    s.sending(CIBIL);
    await s.sent(CIBIL);
    advance(SEND_MARK_TTL_MS - 1_000 - 1);
    expect(() => s.registering(PAN, "9123456781")).toThrow(RegistrationRaceError);
    advance(1);
    expect(() => s.registering(PAN, "9123456782")).not.toThrow();
  });

  /** What `registering` threw: the refusal's class and the wait it carries (ms), or "went". */
  function refusalOf(run: () => unknown): { refused: string; retryAfterMs?: number } | "went" {
    try {
      run();
      return "went";
    } catch (error) {
      const e = error as RegistrationRaceError;
      return { refused: e.constructor.name, retryAfterMs: e.retryAfterMs };
    }
  }

  it("a refusal carries how long it still holds: a lingering mark's or hold's time left (a retry after it goes, 1 s before it does not); a send or first registration under way, 2 s", async () => {
    const { s, advance } = store();
    await s.remember(CIBIL, MOBILE, PAN);
    s.sending(CIBIL);
    expect(refusalOf(() => s.registering(PAN, "9123456780"))).toEqual({
      refused: "RegistrationRaceError",
      retryAfterMs: 2_000,
    });
    // Its outcome unknown 1.4 s after it started: the mark counts SEND_MARK_TTL_MS from its start. Told 2 s before.
    advance(1_400);
    await s.sent(CIBIL, true);
    const left = SEND_MARK_TTL_MS - 1_400;
    expect(refusalOf(() => s.registering(PAN, "9123456781"))).toEqual({
      refused: "RegistrationRaceError",
      retryAfterMs: left,
    });
    // Another send under way meanwhile does not shorten it, and the time left goes down with the clock.
    s.sending(CIBIL);
    advance(10_000);
    expect(refusalOf(() => s.registering(PAN, "9123456781"))).toMatchObject({ retryAfterMs: left - 10_000 });
    await s.sent(CIBIL);
    advance(left - 10_000 - 1_000);
    expect(refusalOf(() => s.registering(PAN, "9123456781"))).toMatchObject({ retryAfterMs: 1_000 });
    advance(1_000);
    expect(refusalOf(() => s.registering(PAN, "9123456781"))).toBe("went");

    // A first registration's hold: 2 s while it runs; its outcome unknown, the hold's time left.
    const pan = "ZZZPE1111Z";
    s.registering(pan, MOBILE, "first");
    expect(refusalOf(() => s.registering(pan, "9123456780", "second"))).toEqual({
      refused: "FirstRegistrationPendingError",
      retryAfterMs: 2_000,
    });
    advance(3_000);
    await s.firstEnded(pan, "first", true);
    const held = FIRST_REGISTRATION_HOLD_MS - 3_000;
    expect(refusalOf(() => s.registering(pan, "9123456780", "second"))).toEqual({
      refused: "FirstRegistrationPendingError",
      retryAfterMs: held,
    });
    advance(held - 1_000);
    expect(refusalOf(() => s.registering(pan, "9123456780", "second"))).toMatchObject({ retryAfterMs: 1_000 });
    advance(1_000);
    expect(refusalOf(() => s.registering(pan, "9123456780", "second"))).toBe("went");
  });

  it("a send's mark costs one HMAC of its CIBIL id (sending to sent), and two overlapping sends keep the mark until both end", async () => {
    let hashes = 0;
    const counting = new (class extends KeyHasher {
      override hash(dimension: string, identifier: string): string {
        hashes += 1;
        return super.hash(dimension, identifier);
      }
    })(Buffer.from("m".repeat(32)));
    const s = new MemoryRegisteredMobileStore(counting, sealer);
    await s.remember(CIBIL, MOBILE, PAN);
    hashes = 0;
    expect(s.sending(CIBIL)).toEqual([MOBILE]);
    await s.sent(CIBIL);
    // Three before (sending, its recall, sent): a customer identifier is never memoized (key-hasher.ts), so each cost one.
    expect(hashes).toBe(1);
    s.sending(CIBIL);
    s.sending(CIBIL);
    await s.sent(CIBIL);
    expect(() => s.registering(PAN, "9876500001")).toThrow(RegistrationRaceError);
    await s.sent(CIBIL);
    expect(() => s.registering(PAN, "9876500002")).not.toThrow();
  });

  it("a PAN link is one HMAC (`pan`), taken by `registering` and `remember`; the PAN itself: one key", async () => {
    const counting = new PanCountingHasher(Buffer.from("m".repeat(32)));
    const s = new MemoryRegisteredMobileStore(counting, sealer);
    const linked = s.pan(PAN);
    // The key every version wrote: the same HMAC as the PAN given as itself (and as createHmac: key-hasher.test.ts).
    expect(linked).toEqual({ pan: PAN, key: hasher.hash(REGISTERED_PAN_DIMENSION, PAN) });
    expect(counting.pans).toBe(1);
    s.registering(linked, MOBILE);
    await s.remember(CIBIL, MOBILE, linked);
    // Two before: `registering` and `remember` each hashed the PAN.
    expect(counting.pans).toBe(1);
    // A later registration of the same PAN, given as itself or as its link, finds the id: one key.
    s.registering(PAN, "9123456780");
    s.registering(s.pan(PAN), "9123456781");
    expect(s.recall(CIBIL)).toEqual([MOBILE, "9123456780", "9123456781"]);
  });

  it("expires after its TTL (90 days by default)", async () => {
    expect(DEFAULT_CIBIL_REGISTERED_MOBILE_TTL_SECONDS).toBe(90 * 86_400);
    const { s, advance } = store({ ttlMs: 90 * DAY });
    await s.remember(CIBIL, MOBILE, PAN);
    advance(90 * DAY - 1);
    expect(s.recall(CIBIL)).toEqual([MOBILE]);
    advance(1);
    expect(s.recall(CIBIL)).toEqual([]);
  });

  it("bounded: full, `ready` refuses (the registration is refused before anything is sent) and live records stay", async () => {
    // A registration keeps three records: its CIBIL id's mobiles, its PAN's link and its token's.
    const { s, full, advance } = store({ maxKeys: 7, ttlMs: DAY });
    s.ready();
    await s.remember("1", MOBILE, "ABCPE0001F", undefined, "TOK1");
    await s.remember("2", MOBILE, "ABCPE0002F", undefined, "TOK2");
    // One record left: not room for a new customer's three.
    expect(() => s.ready()).toThrow(MemoryStoreFullError);
    // A record that could not be kept (the table filled while the registration was upstream) is an error: the
    // CIBIL id's mobiles are kept first, the PAN's link is what found no room.
    await s.remember("3", MOBILE, "ABCPE0003F", undefined, "TOK3").then(
      () => Promise.reject(new Error("kept")),
      (error: unknown) => expect(error).toBeInstanceOf(MemoryStoreFullError),
    );
    expect(full.length).toBeGreaterThan(0);
    expect(s.recall("1")).toEqual([MOBILE]);
    expect(s.recall("3")).toEqual([MOBILE]);
    await expect(s.remember("4", MOBILE, "ABCPE0004F")).rejects.toThrow(MemoryStoreFullError);
    expect(s.recall("4")).toEqual([]);
    // Once records expire there is room again.
    advance(DAY + 2_000);
    expect(() => s.ready()).not.toThrow();
    await s.remember("4", MOBILE, "ABCPE0004F");
    expect(s.recall("4")).toEqual([MOBILE]);
  });

  it("`ready` sets room aside until `released`: registrations at once cannot all count on the same last room", async () => {
    const { s } = store({ maxKeys: 6 });
    // Room for two customers: two registrations under way take it all before either is answered.
    s.ready();
    s.ready();
    expect(() => s.ready()).toThrow(MemoryStoreFullError);
    // One ends without a record (AOPay refused it): its room is given back.
    s.released();
    s.ready();
    await s.remember("1", MOBILE, "ABCPE0001F", undefined, "TOK1");
    await s.remember("2", MOBILE, "ABCPE0002F", undefined, "TOK2");
    s.released();
    s.released();
    // Both kept; the table is full now by its records, not by reservations.
    expect(s.size).toBe(6);
    expect(() => s.ready()).toThrow(MemoryStoreFullError);
    // Given back more often than taken: never below nothing.
    s.released();
    expect(() => s.ready()).toThrow(MemoryStoreFullError);
  });

  it("`ready` sweeps expired records when the room set aside fills the table, not only when the records do", async () => {
    const { s, full, advance } = store({ maxKeys: 6, ttlMs: DAY });
    s.ready();
    await s.remember("1", MOBILE, "ABCPE0001F", undefined, "TOK1");
    s.released();
    // A registration under way: three records and three places set aside, the table's six.
    s.ready();
    advance(DAY + 2_000);
    // The records have expired (unread: still in the table). Before, `ready` swept only a table full of records, and
    // with records and places set aside filling it refused as full until someone read or replaced them. One count of
    // places used and set aside now (bounded-table.ts Capacity.reserve): swept, then room.
    expect(() => s.ready()).not.toThrow();
    expect(full).toEqual([]);
    expect(s.size).toBe(0);
    // Now two registrations under way: full by the room set aside.
    expect(() => s.ready()).toThrow(MemoryStoreFullError);
  });
});

describeWithRedis("RedisRegisteredMobileStore (real Redis at REDIS_URL)", () => {
  let redis: Redis;
  const prefix = uniquePrefix();
  beforeAll(async () => {
    redis = await connectRedis();
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    await redis.quit();
  });

  it("round trip; the key is <prefix>regmobiles:<HMAC>, the value sealed: neither the id nor the mobile in clear", async () => {
    const s = new RedisRegisteredMobileStore(redis, prefix, hasher, sealer, 90 * DAY);
    await s.ready();
    await s.remember(CIBIL, MOBILE, PAN);
    expect(await s.recall(CIBIL)).toEqual([MOBILE]);
    expect(await s.recall("760191460")).toEqual([]);
    const rows = await dumpKeys(redis, `${prefix}regmobiles:`);
    expect(rows).toHaveLength(1);
    expect(rows[0].key).toBe(`${prefix}regmobiles:${hasher.hash(REGISTERED_MOBILE_DIMENSION, CIBIL)}`);
    expect(rows[0].value).toMatch(/^s1\./);
    for (const text of [rows[0].key, rows[0].value]) {
      expect(text).not.toContain(CIBIL);
      expect(text).not.toContain(MOBILE);
    }
    const ttl = await redis.pttl(rows[0].key);
    expect(ttl).toBeGreaterThan(90 * DAY - 60_000);
    expect(ttl).toBeLessThanOrEqual(90 * DAY);
    // The PAN's link: the record key under the PAN's HMAC, neither in clear.
    const links = await dumpKeys(redis, `${prefix}regpan:`);
    expect(links).toEqual([
      { key: `${prefix}regpan:${hasher.hash(REGISTERED_PAN_DIMENSION, PAN)}`, value: rows[0].key.split(":").pop() },
    ]);
  });

  it("a PAN link: one HMAC under the current secret; the previous secret's computed from the PAN", async () => {
    const counting = new PanCountingHasher(Buffer.from("m".repeat(32)));
    const old = new KeyHasher(Buffer.from("o".repeat(32)));
    const oldStore = new RedisRegisteredMobileStore(redis, prefix, old, sealer, DAY);
    const s = new RedisRegisteredMobileStore(redis, prefix, counting, sealer, DAY, [old]);
    const pan = "ABCPE7001F";
    const linked = s.pan(pan);
    expect(linked).toEqual({ pan, key: hasher.hash(REGISTERED_PAN_DIMENSION, pan) });
    await s.registering(linked, MOBILE);
    await s.remember("760191471", MOBILE, linked);
    // Two before: `registering` and `remember` each hashed the PAN under the current secret.
    expect(counting.pans).toBe(1);
    expect(await redis.get(`${prefix}regpan:${hasher.hash(REGISTERED_PAN_DIMENSION, pan)}`)).toBe(
      hasher.hash(REGISTERED_MOBILE_DIMENSION, "760191471"),
    );
    // A PAN linked under the previous secret only: found through the link's key under that secret, from the PAN.
    await oldStore.remember("760191472", MOBILE, "ABCPE7002F");
    await s.registering(s.pan("ABCPE7002F"), "9123456780");
    expect(await oldStore.recall("760191472")).toEqual([MOBILE, "9123456780"]);
  });

  it("registrations of one CIBIL id at once (two replicas) lose none of their mobiles; `registering` adds before the answer", async () => {
    const s = new RedisRegisteredMobileStore(redis, prefix, hasher, sealer, DAY);
    const id = "760191470";
    const mobiles = ["9000000011", "9000000012", "9000000013"];
    await Promise.all(mobiles.map((mobile) => s.remember(id, mobile, "ABCPE0470F")));
    expect([...(await s.recall(id))].sort()).toEqual(mobiles);
    await s.registering("ABCPE0470F", MOBILE);
    expect((await s.recall(id)).at(-1)).toBe(MOBILE);
    await s.registering("ZZZPE0470Z", "9000000019");
    expect(await s.recall(id)).not.toContain("9000000019");
    // Full (four): one more before the call is refused.
    await expect(s.registering("ABCPE0470F", "9000000019")).rejects.toThrow(RegisteredMobilesFullError);
    expect(await s.recall(id)).toHaveLength(MAX_MOBILES_PER_ID);
  });

  it("other registrations rewriting the record before each compare-and-set: refused REGISTRATION_IN_PROGRESS (a refusal, never a store failure)", async () => {
    // The store's own connection; before each of its compare-and-sets, another replica writes the record again (the
    // same list sealed anew, as its own registration would): every attempt loses, with Redis answering every command.
    const own = await connectRedis();
    const replica = await connectRedis();
    try {
      const s = new RedisRegisteredMobileStore(own, prefix, hasher, sealer, DAY);
      const id = "760191500";
      const pan = "ABCPE0500F";
      await s.remember(id, MOBILE, pan);
      const key = hasher.hash(REGISTERED_MOBILE_DIMENSION, id);
      const replaces: string[] = [];
      const send = own.sendCommand.bind(own);
      own.sendCommand = ((...args: Parameters<Redis["sendCommand"]>) => {
        const command = args[0];
        // The compare-and-set only (its key and three arguments), not the record's read (its key alone).
        if ((command.name !== "evalsha" && command.name !== "eval") || command.args.length <= 3) return send(...args);
        replaces.push(command.name);
        const theirs = sealer.seal(JSON.stringify([MOBILE]), ["registered-mobiles", key]);
        void replica.set(s.redisKey(id), theirs, "PX", DAY).then(
          () => send(...args),
          (error: Error) => command.reject(error),
        );
        return command.promise;
      }) as Redis["sendCommand"];
      const before = s.registering(pan, "9123456780");
      await expect(before).rejects.toThrow(RegisteredMobilesBusyError);
      await expect(before).rejects.toMatchObject({ code: "REGISTRATION_IN_PROGRESS" });
      await expect(before).rejects.not.toThrow(ProtectionStoreError);
      // NOSCRIPT's EVAL after a first EVALSHA counts once more per attempt at most.
      expect(replaces.filter((c) => c === "evalsha")).toHaveLength(CAS_ATTEMPTS_BEFORE_CALL);
      replaces.length = 0;
      // After the call: tried longer, then the same refusal (the guard logs and counts the mobile as unrecorded).
      await expect(s.remember(id, "9123456780", pan)).rejects.toThrow(RegisteredMobilesBusyError);
      expect(replaces.filter((c) => c === "evalsha")).toHaveLength(CAS_ATTEMPTS_AFTER_CALL);
      own.sendCommand = send;
      // Left alone, the same registration goes.
      await s.registering(pan, "9123456780");
      expect(await s.recall(id)).toEqual([MOBILE, "9123456780"]);
    } finally {
      own.disconnect();
      replica.disconnect();
    }
  }, 20_000);

  it("a registration whose mobile is already the latest rewrites nothing (its TTL starts again): twenty at once all go", async () => {
    const s = new RedisRegisteredMobileStore(redis, prefix, hasher, sealer, DAY);
    const id = "760191510";
    const pan = "ABCPE0510F";
    await s.remember(id, "9000000051", pan);
    await s.remember(id, MOBILE, pan);
    const sealed = await redis.get(s.redisKey(id));
    await redis.pexpire(s.redisKey(id), 60_000);
    await Promise.all(Array.from({ length: 20 }, () => s.registering(pan, MOBILE)));
    expect(await redis.get(s.redisKey(id))).toBe(sealed);
    expect(await redis.pttl(s.redisKey(id))).toBeGreaterThan(DAY - 60_000);
    // Twenty registrations over the id's two mobiles at once: every one lands (each lost compare-and-set is another's
    // success), none refused.
    await Promise.all(Array.from({ length: 20 }, (_, i) => s.registering(pan, i % 2 === 0 ? MOBILE : "9000000051")));
    expect([...(await s.recall(id))].sort()).toEqual(["9000000051", MOBILE].sort());
  });

  it("a store whose requests may run long (its mark TTL, sendMarkTtlMs) holds a first registration's PAN and marks a send that long", async () => {
    const markTtlMs = sendMarkTtlMs(120_000);
    expect(markTtlMs).toBe(360_000);
    const s = new RedisRegisteredMobileStore(redis, prefix, hasher, sealer, DAY, [], [], [], undefined, markTtlMs);
    await s.registering("ABCPE1202F", MOBILE, "first");
    const held = (await dumpKeys(redis, prefix)).filter((k) => k.key.includes("regfirst:"));
    // It was FIRST_REGISTRATION_HOLD_MS whatever the store's mark TTL.
    expect(await redis.pttl(held[0].key)).toBeGreaterThan(markTtlMs - 5_000);
    const id = "760191492";
    await s.remember(id, MOBILE, "ABCPE0492F");
    await s.sending(id);
    expect(await redis.pttl(`${prefix}regsends:${hasher.hash(REGISTERED_MOBILE_DIMENSION, id)}`)).toBeGreaterThan(
      markTtlMs - 5_000,
    );
    await s.sent(id);
    await s.firstEnded("ABCPE1202F", "first", false);
  });

  it("a PAN's first registration holds it (`regfirst:`, a token only): another is refused until it ends; linked meanwhile, it goes", async () => {
    const s = new RedisRegisteredMobileStore(redis, prefix, hasher, sealer, DAY);
    const pan = "ABCPE1201F";
    await s.registering(pan, MOBILE, "first");
    const held = (await dumpKeys(redis, prefix)).filter((k) => k.key.includes("regfirst:"));
    expect(held).toEqual([{ key: expect.not.stringContaining(pan), value: "first" }]);
    expect(await redis.pttl(held[0].key)).toBeGreaterThan(FIRST_REGISTRATION_HOLD_MS - 5_000);
    await expect(s.registering(pan, "9123456780", "second")).rejects.toBeInstanceOf(FirstRegistrationPendingError);
    await s.registering(pan, MOBILE, "first");
    await s.firstEnded(pan, "second", false);
    await expect(s.registering(pan, "9123456780", "second")).rejects.toBeInstanceOf(FirstRegistrationPendingError);
    // Its outcome unknown: the hold stays (to expire); answered: dropped.
    await s.firstEnded(pan, "first", true);
    await expect(s.registering(pan, "9123456780", "second")).rejects.toBeInstanceOf(FirstRegistrationPendingError);
    await s.firstEnded(pan, "first", false);
    await s.registering(pan, "9123456780", "second");
    // The first's answer links the PAN while the second still holds it: the next one goes as a linked PAN, its
    // mobile added before the call.
    await s.remember("760191201", MOBILE, pan);
    await s.registering(pan, "9000000001", "third");
    expect(await s.recall("760191201")).toEqual([MOBILE, "9000000001"]);
    await s.firstEnded(pan, "second", false);
    expect((await dumpKeys(redis, prefix)).filter((k) => k.key.includes("regfirst:"))).toEqual([]);
  });

  it("a send under way refuses a registration of its id's PAN; its marker expires; `sent` never goes below zero", async () => {
    const s = new RedisRegisteredMobileStore(redis, prefix, hasher, sealer, DAY);
    const id = "760191490";
    await s.remember(id, MOBILE, "ABCPE0490F");
    await s.sending(id);
    const mark = `${prefix}regsend:${hasher.hash(REGISTERED_MOBILE_DIMENSION, id)}`;
    expect(await redis.pttl(mark)).toBeGreaterThan(SEND_MARK_TTL_MS - 5_000);
    await expect(s.registering("ABCPE0490F", "9123456780")).rejects.toThrow(RegistrationRaceError);
    expect(await s.recall(id)).toEqual([MOBILE, "9123456780"]);
    await s.sent(id);
    expect(await redis.exists(mark)).toBe(0);
    await s.sent(id);
    expect(await redis.exists(mark)).toBe(0);
    await s.registering("ABCPE0490F", "9123456780");
  });

  it("a send whose outcome is unknown (sent with mayStillApply) leaves its mark to expire, even when its entry's other sends end", async () => {
    // The mark's TTL (1.5 s) outlasts the five round trips to Redis before the refusal is read, on a loaded machine
    // too: at 400 ms the mark had once expired before them and the refusal did not come.
    const s = new RedisRegisteredMobileStore(redis, prefix, hasher, sealer, DAY, [], [], [], undefined, 1_500);
    const id = "760191491";
    const pan = "ABCPE0491F";
    await s.remember(id, MOBILE, pan);
    // Two sends of this process to the id: the first's outcome is unknown, the second is answered.
    await s.sending(id);
    await s.sending(id);
    await s.sent(id, true);
    await s.sent(id);
    await expect(s.registering(pan, "9123456780")).rejects.toThrow(RegistrationRaceError);
    await new Promise((resolve) => setTimeout(resolve, 1_600));
    await s.registering(pan, "9123456781");
  });

  /** What `registering` rejected with: the refusal's class and the wait it carries (ms), or "went". */
  async function refusalOf(run: Promise<unknown>): Promise<{ refused: string; retryAfterMs?: number } | "went"> {
    try {
      await run;
      return "went";
    } catch (error) {
      const e = error as RegistrationRaceError;
      return { refused: e.constructor.name, retryAfterMs: e.retryAfterMs };
    }
  }

  /** A refusal of class `refused` whose wait is at least `leastMs` (the time left by this process's clock) and at most the TTL. */
  function expectWait(refusal: unknown, refused: string, leastMs: number): void {
    expect(refusal).toMatchObject({ refused, retryAfterMs: expect.any(Number) });
    const { retryAfterMs } = refusal as { retryAfterMs: number };
    expect({ retryAfterMs, atLeast: retryAfterMs >= leastMs - 50, atMost: retryAfterMs <= leastMs + 1_000 }).toEqual({
      retryAfterMs,
      atLeast: true,
      atMost: true,
    });
  }

  it("a refusal carries how long it still holds (Redis's clock): a lingering mark's or hold's time left, a retry after it going and 1 s before it not; a send or first registration under way, 2 s", async () => {
    const markTtlMs = 2_500;
    const [cut, other] = [replica(markTtlMs), replica(markTtlMs)];
    const id = "760191540";
    const pan = "ABCPE0540F";
    await other.remember(id, MOBILE, pan);
    const startedAt = Date.now();
    await cut.sending(id);
    expect(await refusalOf(other.registering(pan, MOBILE))).toEqual({
      refused: "RegistrationRaceError",
      retryAfterMs: 2_000,
    });
    await cut.sent(id, true);
    // Another replica's send under way meanwhile: the lingering mark still says how long (not 2 s).
    await other.sending(id);
    const during = await refusalOf(other.registering(pan, MOBILE));
    await other.sent(id);
    const told = await refusalOf(other.registering(pan, MOBILE));
    const elapsed = Date.now() - startedAt;
    // Told 2 s before: the mark has about 2.5 s left.
    for (const refusal of [during, told]) expectWait(refusal, "RegistrationRaceError", markTtlMs - elapsed);
    // The client's whole seconds (rounded up): 1 s before them it is still refused (or 150 ms before the mark ends,
    // when that is sooner: Redis's clock and ours differ by a round trip), at them it goes.
    const toldMs = (told as { retryAfterMs: number }).retryAfterMs;
    const hintMs = Math.ceil(toldMs / 1000) * 1000;
    const toldAt = Date.now();
    await sleep(Math.min(hintMs - 1_000, toldMs - 150) - (Date.now() - toldAt));
    expect(await refusalOf(other.registering(pan, MOBILE))).toMatchObject({ refused: "RegistrationRaceError" });
    await sleep(toldAt + hintMs - Date.now());
    expect(await refusalOf(other.registering(pan, MOBILE))).toBe("went");

    // A first registration's hold: 2 s while it runs; its outcome unknown, the hold's PTTL.
    const first = "ZZZPE0541Z";
    const heldAt = Date.now();
    await cut.registering(first, MOBILE, "first");
    expect(await refusalOf(other.registering(first, "9123456780", "second"))).toEqual({
      refused: "FirstRegistrationPendingError",
      retryAfterMs: 2_000,
    });
    await cut.firstEnded(first, "first", true);
    const held = await refusalOf(other.registering(first, "9123456780", "second"));
    expectWait(held, "FirstRegistrationPendingError", markTtlMs - (Date.now() - heldAt));
    const heldMs = (held as { retryAfterMs: number }).retryAfterMs;
    const heldHintMs = Math.ceil(heldMs / 1000) * 1000;
    const heldToldAt = Date.now();
    await sleep(Math.min(heldHintMs - 1_000, heldMs - 150) - (Date.now() - heldToldAt));
    expect(await refusalOf(other.registering(first, "9123456780", "second"))).toMatchObject({
      refused: "FirstRegistrationPendingError",
    });
    await sleep(heldToldAt + heldHintMs - Date.now());
    expect(await refusalOf(other.registering(first, "9123456780", "second"))).toBe("went");
  });

  it("a mark or hold left by a replica that died (past half its TTL: no request runs that long) is told as its time left, not 2 s; a retry at the hint goes", async () => {
    const markTtlMs = 6_000;
    const [crashed, live] = [replica(markTtlMs), replica(markTtlMs)];
    const id = "760191550";
    const [pan, first] = ["ABCPE0550F", "ZZZPE0551Z"];
    await live.remember(id, MOBILE, pan);
    const startedAt = Date.now();
    // Its process dies with the send upstream and the first registration at AOPay: neither `sent` nor `firstEnded`.
    await crashed.sending(id);
    await crashed.registering(first, MOBILE, "first");
    // Within half the TTL it may still be running: the short wait.
    expect(await refusalOf(live.registering(pan, MOBILE))).toEqual({
      refused: "RegistrationRaceError",
      retryAfterMs: 2_000,
    });
    expect(await refusalOf(live.registering(first, "9123456780", "second"))).toEqual({
      refused: "FirstRegistrationPendingError",
      retryAfterMs: 2_000,
    });
    await sleep(startedAt + markTtlMs / 2 + 100 - Date.now());
    const mark = await refusalOf(live.registering(pan, MOBILE));
    const hold = await refusalOf(live.registering(first, "9123456780", "second"));
    const toldAt = Date.now();
    expectWait(mark, "RegistrationRaceError", markTtlMs - (toldAt - startedAt));
    expectWait(hold, "FirstRegistrationPendingError", markTtlMs - (toldAt - startedAt));
    // Told 2 s before: a retry then was still refused (about 2.9 s left).
    const hintMs = Math.ceil(Math.max(...[mark, hold].map((r) => (r as { retryAfterMs: number }).retryAfterMs)) / 1000);
    await sleep(toldAt + hintMs * 1000 - Date.now());
    expect(await refusalOf(live.registering(pan, MOBILE))).toBe("went");
    expect(await refusalOf(live.registering(first, "9123456780", "second"))).toBe("went");
  });

  /** A store as another replica would run it, its send marks living `markTtlMs` if their `sent` never runs. */
  function replica(markTtlMs: number): RedisRegisteredMobileStore {
    return new RedisRegisteredMobileStore(redis, prefix, hasher, sealer, DAY, [], [], [], undefined, markTtlMs);
  }
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it("a send given up on (mayStillApply) in one replica keeps its mark while another's sends to the id end, and it still expires on time", async () => {
    // Long enough for the five round trips before the first refusal on a loaded machine (see above).
    const markTtlMs = 1_500;
    const [cut, other] = [replica(markTtlMs), replica(markTtlMs)];
    const id = "760191530";
    const pan = "ABCPE0530F";
    await other.remember(id, MOBILE, pan);
    const cutAt = Date.now();
    await cut.sending(id);
    await cut.sent(id, true);
    // The other replica's sends mark and end: each removes its own member only, never the one left to expire.
    await other.sending(id);
    await other.sent(id);
    await expect(other.registering(pan, "9123456780")).rejects.toThrow(RegistrationRaceError);
    // Nor does it renew it: sent to all along, the id is free once the mark's own TTL has passed.
    while (Date.now() - cutAt < markTtlMs + 100) {
      await other.sending(id);
      await other.sent(id);
      await sleep(50);
    }
    await other.registering(pan, "9123456781");
  });

  it("a mark left by a send that never ended (its replica killed) expires on time, however often others send to the id", async () => {
    // 1 s: the refusal read two round trips after the mark, on a loaded machine too (see above).
    const markTtlMs = 1_000;
    const [crashed, live] = [replica(markTtlMs), replica(markTtlMs)];
    const id = "760191520";
    const pan = "ABCPE0520F";
    await live.remember(id, MOBILE, pan);
    // Its process died with the send upstream: `sent` never runs.
    await crashed.sending(id);
    await expect(live.registering(pan, MOBILE)).rejects.toThrow(RegistrationRaceError);
    // Someone keeps sending to the id (a generateCibilOtp the throttle refuses marks it too, and costs nothing): each
    // send marks and unmarks. A counter whose TTL every mark restarted kept the dead send's 1 alive for good, and the
    // PAN could never be registered again (OTP_SEND_IN_PROGRESS) for one request every SEND_MARK_TTL_MS.
    const leakedAt = Date.now();
    while (Date.now() - leakedAt < 3 * markTtlMs) {
      await live.sending(id);
      await live.sent(id);
      await sleep(50);
    }
    await live.registering(pan, MOBILE);
    // Nothing of the marks is left once no send is under way.
    const left = (await dumpKeys(redis, prefix)).filter((k) =>
      k.key.includes(hasher.hash(REGISTERED_MOBILE_DIMENSION, id)),
    );
    expect(left.map((k) => k.key.slice(prefix.length).split(":")[0])).toEqual(["regmobiles"]);
  });

  it("a send under way stays seen while other sends to the id start and end, on its replica and on others", async () => {
    const [a, b] = [replica(60_000), replica(60_000)];
    const id = "760191530";
    const pan = "ABCPE0530F";
    await a.remember(id, MOBILE, pan);
    await a.sending(id);
    await a.sending(id);
    await b.sending(id);
    await b.sent(id);
    await a.sent(id);
    // One of a's two sends is still under way.
    await expect(b.registering(pan, MOBILE)).rejects.toThrow(RegistrationRaceError);
    await a.sent(id);
    await b.registering(pan, MOBILE);
  });

  it("a mark of a replica of the version before (regsend:, a count) still refuses a registration (rolling update)", async () => {
    const s = replica(60_000);
    const id = "760191540";
    const pan = "ABCPE0540F";
    await s.remember(id, MOBILE, pan);
    const legacy = `${prefix}regsend:${hasher.hash(REGISTERED_MOBILE_DIMENSION, id)}`;
    await redis.incr(legacy);
    await redis.pexpire(legacy, 60_000);
    await expect(s.registering(pan, MOBILE)).rejects.toThrow(RegistrationRaceError);
    await redis.decr(legacy);
    await s.registering(pan, MOBILE);
  });

  it("a count of the version before left by a replica that died mid-send (regsend:, TTL under half): refused for its time left, not 2 s", async () => {
    // The versions before restarted the count's TTL with each send: one whose TTL has run down past half holds no send
    // still running, and refuses registrations until it expires. Told 2 s, a client was refused until then.
    const s = replica(60_000);
    const id = "760191542";
    const pan = "ABCPE0542F";
    await s.remember(id, MOBILE, pan);
    const legacy = `${prefix}regsend:${hasher.hash(REGISTERED_MOBILE_DIMENSION, id)}`;
    await redis.incr(legacy);
    await redis.pexpire(legacy, 20_000);
    expectWait(await refusalOf(s.registering(pan, MOBILE)), "RegistrationRaceError", 20_000);
    // Restarted (a send of theirs just started): under way, about one call.
    await redis.pexpire(legacy, 60_000);
    expect(await refusalOf(s.registering(pan, MOBILE))).toEqual({
      refused: "RegistrationRaceError",
      retryAfterMs: 2_000,
    });
    // Run down again, but a send of this version under way (its mark): that send may be the one the count holds.
    await redis.pexpire(legacy, 20_000);
    await s.sending(id);
    expect(await refusalOf(s.registering(pan, MOBILE))).toEqual({
      refused: "RegistrationRaceError",
      retryAfterMs: 2_000,
    });
    await s.sent(id);
    // Its own count taken back, the dead replica's still there: its time left again.
    expectWait(await refusalOf(s.registering(pan, MOBILE)), "RegistrationRaceError", 20_000);
    await redis.del(legacy);
    expect(await refusalOf(s.registering(pan, MOBILE))).toBe("went");
  });

  it("a record of an earlier version (regmobile:, one mobile) is still read, with the new ones", async () => {
    const s = new RedisRegisteredMobileStore(redis, prefix, hasher, sealer, DAY);
    const id = "760191480";
    const key = hasher.hash(REGISTERED_MOBILE_DIMENSION, id);
    await redis.set(s.legacyRedisKey(id), sealer.seal(MOBILE, [REGISTERED_MOBILE_DIMENSION, key]), "PX", DAY);
    expect(await s.recall(id)).toEqual([MOBILE]);
    await s.remember(id, "9123456780", "ABCPE0480F");
    expect(await s.recall(id)).toEqual([MOBILE, "9123456780"]);
    // A legacy value under the new key (another sealing context) does not open.
    await redis.set(s.redisKey(id), (await redis.get(s.legacyRedisKey(id))) as string);
    await expect(s.recall(id)).rejects.toThrow(ProtectionStoreError);
  });

  // What is at rest is what can be tampered with: the in-memory store opens its values through the same function.
  it("a tampered or moved value does not open: a store error (the send is refused), never a wrong or missing mobile", async () => {
    const s = new RedisRegisteredMobileStore(redis, prefix, hasher, sealer, DAY);
    await s.remember("111", MOBILE, PAN);
    // Another id's sealed value copied under this id's key: the AAD binds it to its own key.
    await redis.set(s.redisKey("222"), (await redis.get(s.redisKey("111"))) as string);
    await expect(s.recall("222")).rejects.toThrow(ProtectionStoreError);
    // A flipped ciphertext byte.
    await s.remember(CIBIL, MOBILE, PAN);
    const sealed = (await redis.get(s.redisKey(CIBIL))) as string;
    const parts = sealed.split(".");
    parts[4] = Buffer.from(Buffer.from(parts[4], "base64url").map((b, i) => (i === 0 ? b ^ 1 : b))).toString(
      "base64url",
    );
    await redis.set(s.redisKey(CIBIL), parts.join("."));
    await expect(s.recall(CIBIL)).rejects.toThrow(/registered mobile: shared state unavailable/);
    // Not sealed at all.
    await redis.set(s.redisKey(CIBIL), MOBILE);
    await expect(s.recall(CIBIL)).rejects.toThrow(ProtectionStoreError);
    // Sealed again as it was: it opens.
    await redis.set(s.redisKey(CIBIL), sealed);
    expect(await s.recall(CIBIL)).toEqual([MOBILE]);
  });

  it("Redis gone: ready, remember and recall throw ProtectionStoreError (fail closed)", async () => {
    const dead = new Redis({ port: 1, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
    const s = new RedisRegisteredMobileStore(dead, prefix, hasher, sealer, DAY);
    await expect(s.ready()).rejects.toThrow(ProtectionStoreError);
    await expect(s.remember(CIBIL, MOBILE, PAN)).rejects.toThrow(ProtectionStoreError);
    await expect(s.registering(PAN, MOBILE)).rejects.toThrow(ProtectionStoreError);
    await expect(s.recall(CIBIL)).rejects.toThrow(ProtectionStoreError);
    dead.disconnect();
  });

  describe("a time found further ahead than any replica writes (bytes not ours, Redis's clock stepped back)", () => {
    const TEN_YEARS = 10 * 365 * DAY;
    const redisNow = async () => {
      const [seconds, micros] = await redis.time();
      return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    };
    const marksKey = (id: string) => `${prefix}regsends:${hasher.hash(REGISTERED_MOBILE_DIMENSION, id)}`;
    const countKey = (id: string) => `${prefix}regsend:${hasher.hash(REGISTERED_MOBILE_DIMENSION, id)}`;
    const refusal = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (error: unknown) => error as RegistrationRaceError,
      );

    it("a send mark ten years ahead: refused with its time left (at most LONGEST_SEND_MARK_TTL_MS), and it ends then", async () => {
      expect(LONGEST_SEND_MARK_TTL_MS).toBe(360_000);
      const s = new RedisRegisteredMobileStore(redis, prefix, hasher, sealer, DAY);
      const [id, pan] = ["760191601", "ABCPE1601F"];
      await s.remember(id, MOBILE, pan);
      const now = await redisNow();
      await redis.zadd(marksKey(id), now + TEN_YEARS, "planted");
      const refused = await refusal(s.registering(pan, "9123456780"));
      expect(refused).toBeInstanceOf(RegistrationRaceError);
      // Before: told 2 s, for ten years (the member read as a send under way).
      expect(refused?.retryAfterMs).toBeGreaterThan(LONGEST_SEND_MARK_TTL_MS - 5_000);
      expect(refused?.retryAfterMs).toBeLessThanOrEqual(LONGEST_SEND_MARK_TTL_MS);
      expect(Number(await redis.zscore(marksKey(id), "planted"))).toBeLessThanOrEqual(
        (await redisNow()) + LONGEST_SEND_MARK_TTL_MS,
      );
    });

    it("a send mark scored +inf counts as one ten years ahead: refused with at most LONGEST_SEND_MARK_TTL_MS left", async () => {
      const s = new RedisRegisteredMobileStore(redis, prefix, hasher, sealer, DAY);
      const [id, pan] = ["760191631", "ABCPE1631F"];
      await s.remember(id, MOBILE, pan);
      await redis.zadd(marksKey(id), "+inf", "planted");
      const refused = await refusal(s.registering(pan, "9123456780"));
      expect(refused).toBeInstanceOf(RegistrationRaceError);
      expect(refused?.retryAfterMs).toBeGreaterThan(LONGEST_SEND_MARK_TTL_MS - 5_000);
      expect(refused?.retryAfterMs).toBeLessThanOrEqual(LONGEST_SEND_MARK_TTL_MS);
      await s.sending(id);
      expect(await redis.pttl(marksKey(id))).toBeLessThanOrEqual(LONGEST_SEND_MARK_TTL_MS);
      expect(Number(await redis.zscore(marksKey(id), "planted"))).toBeLessThanOrEqual(
        (await redisNow()) + LONGEST_SEND_MARK_TTL_MS,
      );
      await s.sent(id);
    });

    it("a send beside a mark ten years ahead gives the key an expiry of at most LONGEST_SEND_MARK_TTL_MS", async () => {
      const s = new RedisRegisteredMobileStore(redis, prefix, hasher, sealer, DAY);
      const [id, pan] = ["760191602", "ABCPE1602F"];
      await s.remember(id, MOBILE, pan);
      await redis.zadd(marksKey(id), (await redisNow()) + TEN_YEARS, "planted");
      await s.sending(id);
      // Before: the key stretched to the member, ten years.
      expect(await redis.pttl(marksKey(id))).toBeLessThanOrEqual(LONGEST_SEND_MARK_TTL_MS);
      expect(Number(await redis.zscore(marksKey(id), "planted"))).toBeLessThanOrEqual(
        (await redisNow()) + LONGEST_SEND_MARK_TTL_MS,
      );
      await s.sent(id);
    });

    it("the versions before's send count ten years to live, or none: lingers at most LONGEST_SEND_MARK_TTL_MS", async () => {
      const s = new RedisRegisteredMobileStore(redis, prefix, hasher, sealer, DAY);
      for (const [id, pan, ttl] of [
        ["760191603", "ABCPE1603F", TEN_YEARS],
        ["760191604", "ABCPE1604F", undefined],
      ] as const) {
        await s.remember(id, MOBILE, pan);
        if (ttl === undefined) await redis.set(countKey(id), "1");
        else await redis.set(countKey(id), "1", "PX", ttl);
        const refused = await refusal(s.registering(pan, "9123456780"));
        expect(refused).toBeInstanceOf(RegistrationRaceError);
        // Before: a send under way, told 2 s, for ten years (for good without a TTL).
        expect(refused?.retryAfterMs).toBeGreaterThan(LONGEST_SEND_MARK_TTL_MS - 5_000);
        const pttl = await redis.pttl(countKey(id));
        expect(pttl).toBeGreaterThan(0);
        expect(pttl).toBeLessThanOrEqual(LONGEST_SEND_MARK_TTL_MS);
      }
      // A send meeting such a count gives it the bound too (before: a TTL it had was kept, ten years).
      const [id, pan] = ["760191605", "ABCPE1605F"];
      await s.remember(id, MOBILE, pan);
      await redis.set(countKey(id), "1", "PX", TEN_YEARS);
      await s.sending(id);
      expect(await redis.pttl(countKey(id))).toBeLessThanOrEqual(LONGEST_SEND_MARK_TTL_MS);
      await s.sent(id);
    });

    it("a first registration's hold ten years to live, or none: lingers at most LONGEST_SEND_MARK_TTL_MS", async () => {
      const s = new RedisRegisteredMobileStore(redis, prefix, hasher, sealer, DAY);
      for (const [pan, ttl] of [
        ["ABCPE1606F", TEN_YEARS],
        ["ABCPE1607F", undefined],
      ] as const) {
        const hold = `${prefix}regfirst:${hasher.hash(REGISTERED_PAN_DIMENSION, pan)}`;
        if (ttl === undefined) await redis.set(hold, "another");
        else await redis.set(hold, "another", "PX", ttl);
        const refused = await refusal(s.registering(pan, MOBILE, "mine"));
        expect(refused).toBeInstanceOf(FirstRegistrationPendingError);
        // Before: told 2 s, for ten years (for good without a TTL).
        expect(refused?.retryAfterMs).toBeGreaterThan(LONGEST_SEND_MARK_TTL_MS - 5_000);
        const pttl = await redis.pttl(hold);
        expect(pttl).toBeGreaterThan(0);
        expect(pttl).toBeLessThanOrEqual(LONGEST_SEND_MARK_TTL_MS);
      }
    });

    it("a record under the previous secret ten years to live is copied under the current one for 5 years at most", async () => {
      const old = new KeyHasher(Buffer.from("o".repeat(32)));
      const oldStore = new RedisRegisteredMobileStore(redis, prefix, old, sealer, DAY);
      const s = new RedisRegisteredMobileStore(redis, prefix, hasher, sealer, DAY, [old]);
      const id = "760191608";
      await oldStore.remember(id, MOBILE, "ABCPE1608F");
      await redis.pexpire(oldStore.redisKey(id), TEN_YEARS);
      expect(await s.recall(id)).toEqual([MOBILE]);
      // Before: the copy took the original's ten years.
      const copied = await redis.pttl(s.redisKey(id));
      expect(copied).toBeGreaterThan(DAY);
      expect(copied).toBeLessThanOrEqual(MAX_CIBIL_REGISTERED_MOBILE_TTL_SECONDS * 1000);
    });

    it("a current key of another type beside a record under the previous secret: refused, never written over", async () => {
      const old = new KeyHasher(Buffer.from("o".repeat(32)));
      const oldStore = new RedisRegisteredMobileStore(redis, prefix, old, sealer, DAY);
      const s = new RedisRegisteredMobileStore(redis, prefix, hasher, sealer, DAY, [old]);
      const id = "760191621";
      await oldStore.remember(id, MOBILE, "ABCPE1621F");
      await redis.hset(s.redisKey(id), "n", "1");
      // Before: none, as MGET read it, and the old record copied over it: the send went on with its mobiles only.
      await expect(s.recall(id)).rejects.toMatchObject({ cause: { name: "ForeignRecordError", kind: "regmobiles:" } });
      await expect(s.sending(id)).rejects.toThrow(ProtectionStoreError);
      expect(await redis.type(s.redisKey(id))).toBe("hash");
    });

    // A key holding what no version writes there (bytes not ours): a count that is not one, marks or a hold of another
    // type. Before, the script failed at it: the id's every send, or the PAN's every registration, refused as the store
    // failing for as long as the key lived (for good without an expiry).
    const lingersAtMost = async (key: string) => {
      const pttl = await redis.pttl(key);
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual(LONGEST_SEND_MARK_TTL_MS);
    };
    type Plant = [string, (key: string) => Promise<unknown>];
    /** A store, and the id (registered to the PAN) whose key `keyOf` names holding what `plant` writes there. */
    const planted = async (id: string, pan: string, keyOf: (id: string) => string, plant: Plant[1]) => {
      const s = new RedisRegisteredMobileStore(redis, prefix, hasher, sealer, DAY);
      await s.remember(id, MOBILE, pan);
      await redis.del(keyOf(id));
      await plant(keyOf(id));
      return s;
    };

    it.each<Plant>([
      ["text, no TTL", (key) => redis.set(key, "x")],
      ["a fraction, ten years", (key) => redis.set(key, "1.5", "PX", TEN_YEARS)],
      ["below zero", (key) => redis.set(key, "-5")],
      // INCR raises these, past what Lua's numbers hold (redis.ts INCR_OR): before, kept, never ended by `sent`, and
      // read by UNDER_WAY as no count (COUNT_AT, 15 digits at most) while SENDING raised it.
      ["one below INCR's limit", (key) => redis.set(key, "9223372036854775806")],
      ["16 digits", (key) => redis.set(key, "1000000000000000")],
      // 15 digits, but one INCR takes it past them: SENDING read it as no count (INCR_OR), UNDER_WAY as a send under
      // way (COUNT_AT read 15 digits at most), so the registration below was refused for the key's life.
      ["15 digits that one more send takes past 15", (key) => redis.set(key, "999999999999999", "PX", 60_000)],
      ["a hash", (key) => redis.hset(key, "n", "1")],
      ["a list, ten years", (key) => redis.rpush(key, "1").then(() => redis.pexpire(key, TEN_YEARS))],
    ])(
      "the versions before's send count holding no count (%s): no send to a registration, a send counts as one",
      async (_, plant) => {
        const [id, pan] = ["760191611", "ABCPE1611F"];
        const s = await planted(id, pan, countKey, plant);
        // Read by a registration (UNDER_WAY) as a send reads it (SENDING): no count, so no send under way.
        await s.registering(pan, "9123456781");
        await s.sending(id);
        expect(await redis.get(countKey(id))).toBe("1");
        await lingersAtMost(countKey(id));
        await s.sent(id);
        expect(await redis.exists(countKey(id))).toBe(0);
        await s.registering(pan, "9123456780");
      },
    );

    // Planted between a send's mark and its end, a count that is none to SENDING and UNDER_WAY (redis.ts COUNT_BOUND) is
    // none to SENT too: gone, not one fewer. DECR made 999999999999999 a 999999999999998 that UNDER_WAY reads as a
    // send under way (the registration below refused), and 16 digits 15 that the next `sent` made one.
    it.each<Plant>([
      ["15 digits that one more send takes past 15", (key) => redis.set(key, "999999999999999", "PX", 60_000)],
      ["16 digits", (key) => redis.set(key, "1000000000000000", "PX", 60_000)],
      ["INCR's limit", (key) => redis.set(key, "9223372036854775807", "PX", 60_000)],
      ["text", (key) => redis.set(key, "x", "PX", 60_000)],
    ])(
      "the versions before's send count holding no count at a send's end (%s): gone, no send under way",
      async (_, plant) => {
        const [id, pan] = ["760191612", "ABCPE1612F"];
        const s = new RedisRegisteredMobileStore(redis, prefix, hasher, sealer, DAY);
        await s.remember(id, MOBILE, pan);
        await s.sending(id);
        await plant(countKey(id));
        await s.sent(id);
        expect(await redis.exists(countKey(id))).toBe(0);
        await s.registering(pan, "9123456782");
      },
    );

    it.each<Plant>([
      ["text, no TTL", (key) => redis.set(key, "x")],
      ["a hash, ten years", (key) => redis.hset(key, "n", "1").then(() => redis.pexpire(key, TEN_YEARS))],
    ])(
      "send marks that are no sorted set (%s): a send left to expire, refused with its time left",
      async (_, plant) => {
        const [id, pan] = ["760191612", "ABCPE1612F"];
        const s = await planted(id, pan, marksKey, plant);
        // Read by a registration (UNDER_WAY), then by a send (SENDING).
        const refused = await refusal(s.registering(pan, "9123456780"));
        expect(refused).toBeInstanceOf(RegistrationRaceError);
        expect(refused?.retryAfterMs).toBeGreaterThan(LONGEST_SEND_MARK_TTL_MS - 5_000);
        expect(refused?.retryAfterMs).toBeLessThanOrEqual(LONGEST_SEND_MARK_TTL_MS);
        expect(await redis.type(marksKey(id))).toBe("zset");
        await lingersAtMost(marksKey(id));
        await redis.del(marksKey(id));
        await plant(marksKey(id));
        await s.sending(id);
        await s.sent(id);
        expect(await refusal(s.registering(pan, "9123456780"))).toBeInstanceOf(RegistrationRaceError);
        await lingersAtMost(marksKey(id));
      },
    );

    it("a first registration's hold that is no string: lingers at most LONGEST_SEND_MARK_TTL_MS", async () => {
      const s = new RedisRegisteredMobileStore(redis, prefix, hasher, sealer, DAY);
      const pan = "ABCPE1613F";
      const hold = `${prefix}regfirst:${hasher.hash(REGISTERED_PAN_DIMENSION, pan)}`;
      await redis.hset(hold, "n", "1");
      const refused = await refusal(s.registering(pan, MOBILE, "mine"));
      expect(refused).toBeInstanceOf(FirstRegistrationPendingError);
      expect(refused?.retryAfterMs).toBeGreaterThan(LONGEST_SEND_MARK_TTL_MS - 5_000);
      expect(refused?.retryAfterMs).toBeLessThanOrEqual(LONGEST_SEND_MARK_TTL_MS);
      await lingersAtMost(hold);
    });

    // The records a send reads in its mark's script (SENDING: the id's record, the versions before's record, the
    // token's link) holding another type than a string (bytes not ours): refused as a record that does not open
    // (ForeignRecordError), the send's mark ended at once. Read with GET, the script failed WRONGTYPE after the mark
    // was made and the count raised (a script's writes stay), each attempt leaving a mark; read with MGET, none: the
    // send went out with the id's mobiles unbudgeted.
    it.each<[string, string, (id: string) => string]>([
      ["the record", "4", (id) => `${prefix}regmobiles:${hasher.hash(REGISTERED_MOBILE_DIMENSION, id)}`],
      [
        "the versions before's record",
        "5",
        (id) => `${prefix}regmobile:${hasher.hash(REGISTERED_MOBILE_DIMENSION, id)}`,
      ],
      ["the token's link", "6", () => `${prefix}regtoken:${hasher.hash(REGISTERED_TOKEN_DIMENSION, "tok-1614")}`],
    ])("%s holding a hash: a send refuses it, and leaves no mark", async (_, n, keyOf) => {
      const [id, pan] = [`76019161${n}`, `ABCPE161${n}F`];
      const s = await planted(id, pan, keyOf, (key) => redis.hset(key, "n", "1"));
      const refused = s.sending(id, "tok-1614");
      await expect(refused).rejects.toThrow(ProtectionStoreError);
      await expect(refused).rejects.toMatchObject({ cause: { name: "ForeignRecordError" } });
      expect(await redis.exists(countKey(id))).toBe(0);
      expect(await redis.zcard(marksKey(id))).toBe(0);
      expect(await redis.type(keyOf(id))).toBe("hash");
    });

    // The record holding a hash, refused by `recall` and a send, is refused to a registration too (before: none, the
    // list written over it, no MOBILE_LIMIT_REACHED for the mobiles it may have stood for).
    it("the record holding a hash: a registration is refused, the hash left for an operator", async () => {
      const [id, pan] = ["760191617", "ABCPE1617F"];
      const record = `${prefix}regmobiles:${hasher.hash(REGISTERED_MOBILE_DIMENSION, id)}`;
      const s = await planted(
        id,
        pan,
        () => record,
        (key) => redis.hset(key, "n", "1"),
      );
      await expect(s.registering(pan, "9123456780")).rejects.toMatchObject({
        cause: { name: "ForeignRecordError", kind: "regmobiles:" },
      });
      await expect(s.remember(id, "9123456780", pan)).rejects.toThrow(ProtectionStoreError);
      expect(await redis.type(record)).toBe("hash");
    });

    // The PAN's link holding a hash: refused (ForeignRecordError), by #link and by HOLD_FIRST (planted between the
    // two). Before, no link: a first registration, with no MOBILE_LIMIT_REACHED nor OTP_SEND_IN_PROGRESS.
    it("the PAN's link holding a hash: a registration is refused, read by TypeScript or by HOLD_FIRST", async () => {
      const pan = "ABCPE1618F";
      const link = `${prefix}regpan:${hasher.hash(REGISTERED_PAN_DIMENSION, pan)}`;
      const s = new RedisRegisteredMobileStore(redis, prefix, hasher, sealer, DAY);
      await redis.hset(link, "n", "1");
      const foreign = { cause: { name: "ForeignRecordError", kind: "regpan:" } };
      await expect(s.registering(pan, MOBILE)).rejects.toMatchObject(foreign);
      await expect(s.registering(pan, MOBILE, "mine")).rejects.toMatchObject(foreign);
      const hold = `${prefix}regfirst:${hasher.hash(REGISTERED_PAN_DIMENSION, pan)}`;
      const holdFirst = (redis as unknown as Record<string, (...a: unknown[]) => Promise<unknown[]>>)
        .aopayRegisteredMobilesHoldFirst;
      expect(await holdFirst.call(redis, 2, link, hold, "mine", 60_000, LONGEST_SEND_MARK_TTL_MS)).toEqual([3, ""]);
      expect(await redis.exists(hold)).toBe(0);
      expect(await redis.type(link)).toBe("hash");
    });

    // The PAN's link holding text that is no record key (bytes not ours): refused, as the hash above. Followed, as
    // once, the first registration's hold was skipped and the mobile went into a record under `regmobiles:<the text>`;
    // read as no link, as since, a first registration, with no MOBILE_LIMIT_REACHED nor OTP_SEND_IN_PROGRESS.
    it.each<[string, string]>([
      ["a short text", "x"],
      ["a record key's length, not base64url", "!".repeat(43)],
      ["a record key and more", `${"a".repeat(43)}:`],
    ])(
      "the PAN's link holding %s: a registration is refused, read by TypeScript or by HOLD_FIRST",
      async (_, planted) => {
        const pan = "ABCPE1620F";
        const link = `${prefix}regpan:${hasher.hash(REGISTERED_PAN_DIMENSION, pan)}`;
        const s = new RedisRegisteredMobileStore(redis, prefix, hasher, sealer, DAY);
        await redis.set(link, planted, "PX", 60_000);
        await expect(s.registering(pan, MOBILE, "mine")).rejects.toMatchObject({
          cause: { name: "ForeignRecordError", kind: "regpan:" },
        });
        const hold = `${prefix}regfirst:${hasher.hash(REGISTERED_PAN_DIMENSION, pan)}`;
        const holdFirst = (redis as unknown as Record<string, (...a: unknown[]) => Promise<unknown[]>>)
          .aopayRegisteredMobilesHoldFirst;
        expect(await holdFirst.call(redis, 2, link, hold, "mine", 60_000, LONGEST_SEND_MARK_TTL_MS)).toEqual([3, ""]);
        expect(await redis.exists(`${prefix}regmobiles:${planted}`)).toBe(0);
        expect(await redis.exists(hold)).toBe(0);
        await redis.del(link);
      },
    );

    // Send marks replaced by another type between a send and its end: SENT's ZREM failed WRONGTYPE first, so the
    // versions before's count stayed raised, and the PAN's registrations were refused OTP_SEND_IN_PROGRESS until it
    // expired (its `sent` failing silently).
    it("send marks of another type planted during a send: its end still takes the versions before's count down", async () => {
      const [id, pan] = ["760191619", "ABCPE1619F"];
      const s = new RedisRegisteredMobileStore(redis, prefix, hasher, sealer, DAY);
      await s.remember(id, MOBILE, pan);
      await s.sending(id);
      await redis.del(marksKey(id));
      await redis.hset(marksKey(id), "n", "1");
      await s.sent(id);
      expect(await redis.exists(countKey(id))).toBe(0);
      expect(await redis.type(marksKey(id))).toBe("hash");
    });

    // The versions before's count in a form INCR never writes: none to a registration, as SENT and SENDING read it.
    // `tonumber` read it as a send under way: the PAN's registrations refused, told its time left or 2 s.
    it.each<Plant>([
      ["a fraction, no TTL", (key) => redis.set(key, "1.5")],
      ["an exponent, a minute", (key) => redis.set(key, "1e3", "PX", 60_000)],
      ["a space before it, a minute", (key) => redis.set(key, " 5", "PX", 60_000)],
    ])("the versions before's send count holding no count (%s) is no send under way", async (_, plant) => {
      const [id, pan] = ["760191620", "ABCPE1620F"];
      const s = await planted(id, pan, countKey, plant);
      await s.registering(pan, "9123456780");
    });

    // Scripts that compare a string key with what the store read or holds (a record's sealing, a hold's token) or copy
    // a mark, meeting another type there (bytes not ours, planted since): nothing to do, and no failure. With GET (or
    // ZSCORE) by call they failed WRONGTYPE: swallowed by their callers (best effort), so each is run as the store
    // defined it on this connection.
    it.each<[string, string, string[], (key: string) => Promise<unknown>]>([
      [
        "RESEAL (a record's new sealing)",
        "aopayRegisteredMobilesReseal",
        ["read", "resealed"],
        (k) => redis.hset(k, "n", "1"),
      ],
      ["RELEASE_FIRST (a hold's end)", "aopayRegisteredMobilesReleaseFirst", ["mine"], (k) => redis.hset(k, "n", "1")],
      [
        "LINGER_FIRST (a hold left to expire)",
        "aopayRegisteredMobilesFirstLingers",
        ["mine"],
        (k) => redis.rpush(k, "mine"),
      ],
      [
        "LINGER (a mark left to expire)",
        "aopayRegisteredMobilesSendLingers",
        ["member"],
        (k) => redis.set(k, "member"),
      ],
    ])("%s meeting a key of another type leaves it as it is", async (_, command, args, plant) => {
      new RedisRegisteredMobileStore(redis, prefix, hasher, sealer, DAY);
      const key = `${prefix}planted:${command}`;
      await plant(key);
      const before = await redis.dump(key);
      const script = (redis as unknown as Record<string, (...keyThenArgs: string[]) => Promise<number>>)[command];
      await expect(script.call(redis, key, ...args)).resolves.toBe(0);
      expect(await redis.dump(key)).toEqual(before);
    });
  });
});

/**
 * The access token's link (RegisteredMobileStore.remember, sending): GenerateOTP takes the CIBIL id and the token, and
 * which of them AOPay finds the customer by, its docs do not say (docs/upstream/aopay-api.md §1.2). A send names the
 * token's registration's mobiles too, and marks its id, whatever id it is sent with.
 */
describe.each([
  ["in memory", async () => ({ s: new MemoryRegisteredMobileStore(hasher, sealer, { maxKeys: 100 }), done: () => {} })],
  [
    "in Redis",
    async () => {
      if (!process.env.REDIS_URL) return null;
      const redis = await connectRedis();
      const prefix = uniquePrefix();
      return {
        s: new RedisRegisteredMobileStore(redis, prefix, hasher, sealer, DAY),
        redis,
        prefix,
        done: async () => {
          await deleteKeys(redis, prefix);
          await redis.quit();
        },
      };
    },
  ],
] as const)("token links (%s)", (_name, make) => {
  type Made = NonNullable<Awaited<ReturnType<typeof make>>> & { redis?: Redis; prefix?: string };
  let made: Made | null = null;
  beforeAll(async () => {
    made = (await make()) as Made | null;
  });
  afterAll(async () => {
    await made?.done();
  });
  const maybe = (name: string, fn: (m: Made) => Promise<void>) =>
    it(name, async () => {
      if (made === null) return; // no REDIS_URL: skipped, as describeWithRedis does
      await fn(made);
    });

  maybe(
    "a token sent with another id: its id's mobiles are recalled too, and its id marked until `sent`",
    async (m) => {
      const { s } = m;
      await s.remember("760192001", "9123450001", "ABCPE2001F", undefined, "TOKA");
      await s.remember("760192002", "9123450002", "ABCPE2002F", undefined, "TOKB");
      const marked: string[] = [];
      expect(await s.sending("760192002", "TOKA", marked)).toEqual(["9123450002", "9123450001"]);
      expect(marked).toEqual(["760192001"]);
      // The token's id is under way: a registration of its PAN is refused, as for a send to that id itself.
      await expect(Promise.resolve().then(() => s.registering("ABCPE2001F", "9123450003"))).rejects.toThrow(
        RegistrationRaceError,
      );
      await s.sent("760192002");
      await s.sent("760192001");
      await s.registering("ABCPE2001F", "9123450001");
      // Any digits as the id (no record): the token's mobiles alone.
      const none: string[] = [];
      expect(await s.sending("99", "TOKB", none)).toEqual(["9123450002"]);
      expect(none).toEqual(["760192002"]);
      await s.sent("99");
      await s.sent("760192002");
    },
  );

  maybe("a token sent with its own id, or unknown, or none: nothing more is marked or recalled", async (m) => {
    const { s } = m;
    await s.remember("760192011", "9123450011", "ABCPE2011F", undefined, "TOKC");
    const marked: string[] = [];
    expect(await s.sending("760192011", "TOKC", marked)).toEqual(["9123450011"]);
    expect(await s.sending("760192011", "UNKNOWN", marked)).toEqual(["9123450011"]);
    expect(await s.sending("760192011", undefined, marked)).toEqual(["9123450011"]);
    expect(marked).toEqual([]);
    for (let i = 0; i < 3; i++) await s.sent("760192011");
    await s.registering("ABCPE2011F", "9123450011");
  });

  // In Redis, where a copy of the store can be changed under a replica (the memory table is the process's own).
  maybe("Redis: a token's link that does not open is a store failure, the send's own id not left marked", async (m) => {
    if (m.redis === undefined) return;
    const { s } = m;
    await s.remember("760192021", "9123450021", "ABCPE2021F", undefined, "TOKD");
    await s.remember("760192022", "9123450022", "ABCPE2022F", undefined, "TOKE");
    // TOKE's link holding TOKD's value: sealed for TOKD's link, it does not open under TOKE's.
    const link = (t: string) => `${m.prefix}regtoken:${hasher.hash(REGISTERED_TOKEN_DIMENSION, t)}`;
    const value = await m.redis.get(link("TOKD"));
    // The id's record key (an HMAC), then the id sealed: neither the id nor the token in clear.
    expect(value).toMatch(/^[A-Za-z0-9_-]{43}\/s1\./);
    expect(`${link("TOKD")} ${value}`).not.toMatch(/760192021|TOKD/);
    await m.redis.set(link("TOKE"), value as string);
    const marked: string[] = [];
    await expect(s.sending("760192099", "TOKE", marked)).rejects.toThrow(ProtectionStoreError);
    expect(marked).toEqual([]);
    // Not even a record key and a sealed id: the reason docs/operations.md ("A stored record that does not open")
    // names.
    await m.redis.set(link("TOKE"), "planted");
    let refused: unknown;
    try {
      await s.sending("760192098", "TOKE");
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(ProtectionStoreError);
    expect(((refused as Error).cause as Error).message).toBe("token link is not a record key and a sealed id");
    // Neither id is left under way: their PANs register.
    await s.registering("ABCPE2022F", "9123450022");
    await s.registering("ABCPE2021F", "9123450021");
  });
});
