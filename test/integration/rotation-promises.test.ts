import type Redis from "ioredis";
import { KeyHasher } from "../../src/protection/key-hasher";
import { OtpThrottle, type OtpSubject } from "../../src/protection/otp-throttle";
import { MemoryIdempotencyStore, RedisIdempotencyStore } from "../../src/protection/idempotency-store";
import {
  FIRST_REGISTRATION_HOLD_MS,
  FirstRegistrationPendingError,
  LONGEST_SEND_MARK_TTL_MS,
  REGISTERED_PAN_DIMENSION,
  SEND_IN_PROGRESS_RETRY_MS,
} from "../../src/protection/registered-mobiles";
import { RedisRegisteredMobileStore } from "../../src/protection/redis-registered-mobiles";
import { deriveStoreKey, StoreSealer } from "../../src/protection/store-sealer";
import { idempotencyKeys } from "../../src/protection/send-guard";
import { connectRedis, deleteKeys, describeWithRedis, uniquePrefix } from "../helpers/redis";
import { throttleConfig } from "../helpers/throttle";

/**
 * The promises each store makes hold across a rotation of HMAC_SECRET (docs/security.md "Rotating the HMAC secret"), in
 * both orders of step 2: a replica not yet switched (`notYet`: the old secret, HMAC_SECRET_NEXT=<new>) and a switched
 * one (`switched`: the new secret, HMAC_SECRET_PREVIOUS=<old>) on one Redis, each acting first. A record, hold or
 * budget under the other secret's key must bind a write under the replica's own key: one SMS per Idempotency-Key, a
 * destination's cooldown and daily cap, one first registration of a PAN at a time.
 */
const OLD = new KeyHasher(Buffer.from("o".repeat(32)));
const NEW = new KeyHasher(Buffer.from("n".repeat(32)));
// STORE_ENCRYPTION_KEYS: one sealing key for both replicas, as production has.
const sealer = new StoreSealer([deriveStoreKey(Buffer.from("k".repeat(32)))]);
const DAY = 86_400_000;

/** Both orders: which replica acts first. */
const ORDERS = [
  ["the replica not yet switched first", true],
  ["the switched replica first", false],
] as const;

describeWithRedis("promises across an HMAC_SECRET rotation, both orders", () => {
  let redis: Redis;
  const prefixes: string[] = [];
  const prefix = () => {
    const p = uniquePrefix();
    prefixes.push(p);
    return p;
  };
  beforeAll(async () => {
    redis = await connectRedis();
  });
  afterAll(async () => {
    for (const p of prefixes) await deleteKeys(redis, p);
    await redis.quit();
  });

  /** The two replicas' registered-mobile stores on a fresh prefix, the one acting first first. */
  const registrars = (notYetFirst: boolean) => {
    const p = prefix();
    const notYet = new RedisRegisteredMobileStore(redis, p, OLD, sealer, DAY, [], [NEW]);
    const switched = new RedisRegisteredMobileStore(redis, p, NEW, sealer, DAY, [OLD]);
    const [first, second] = notYetFirst ? [notYet, switched] : [switched, notYet];
    return { p, first, second };
  };

  describe.each(ORDERS)("%s", (_name, notYetFirst) => {
    it("a PAN's first registration held on one replica refuses its first registration on the other", async () => {
      const { first, second } = registrars(notYetFirst);
      const pan = "ABCPR1234F";
      await first.registering(pan, "9876512345", "first");
      // Held under the first one's secret alone, the second took a hold of its own under its secret: two first
      // registrations of one PAN at AOPay at once (the race the hold exists for: registered-mobiles.ts).
      const running = await Promise.resolve(second.registering(pan, "9123456780", "second")).catch((e: unknown) => e);
      expect(running).toBeInstanceOf(FirstRegistrationPendingError);
      // Its registration still runs (the hold neither lingering nor past half its time): the short retry, not the
      // hold's time left.
      expect((running as FirstRegistrationPendingError).retryAfterMs).toBe(SEND_IN_PROGRESS_RETRY_MS);
      // Ended (answered, linked under the first one's secret): the second goes as a registration of a linked PAN, its
      // mobile joining the record before the call.
      await first.remember("760191777", "9876512345", pan);
      await first.firstEnded(pan, "first", false);
      await second.registering(pan, "9123456780", "second");
      expect([...(await second.recall("760191777"))].sort()).toEqual(["9123456780", "9876512345"]);
    });

    it("a first registration whose outcome is unknown on one replica refuses the other for the hold's time left", async () => {
      const { p, first, second } = registrars(notYetFirst);
      const pan = "ABCPR1235F";
      await first.registering(pan, "9876512346", "first");
      // Its call's outcome unknown: the hold lingers (left to expire), and the other replica is told how long.
      await first.firstEnded(pan, "first", true);
      const refused = await Promise.resolve(second.registering(pan, "9123456781", "second")).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(FirstRegistrationPendingError);
      const waitMs = (refused as FirstRegistrationPendingError).retryAfterMs ?? 0;
      expect(waitMs).toBeGreaterThan(FIRST_REGISTRATION_HOLD_MS - 5_000);
      expect(waitMs).toBeLessThanOrEqual(FIRST_REGISTRATION_HOLD_MS);
      // Read only: nothing was written under the first one's secret by the second (its hold unchanged, no hold of its
      // own under its secret).
      expect(await redis.keys(`${p}regfirst:*`)).toHaveLength(1);
    });

    it("a hold under the other secret past half its time refuses for its time left; expired, it binds nothing", async () => {
      const { p, first, second } = registrars(notYetFirst);
      const pan = "ABCPR1236F";
      await first.registering(pan, "9876512347", "first");
      const [held] = await redis.keys(`${p}regfirst:*`);
      // Less than half its time left and not marked lingering: its registration's process died (UNDER_WAY's rule), and
      // the other replica is told the time left, as for a hold under its own secret.
      await redis.pexpire(held, 3_000);
      const refused = await Promise.resolve(second.registering(pan, "9123456782", "second")).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(FirstRegistrationPendingError);
      const waitMs = (refused as FirstRegistrationPendingError).retryAfterMs ?? 0;
      expect(waitMs).toBeGreaterThan(0);
      expect(waitMs).toBeLessThanOrEqual(3_000);
      // Expired (no link written): nothing holds the PAN, and the other replica holds it under its own secret.
      await redis.pexpire(held, 1);
      await new Promise((resolve) => setTimeout(resolve, 20));
      await second.registering(pan, "9123456782", "second");
      const holds = await redis.keys(`${p}regfirst:*`);
      expect(holds).toHaveLength(1);
      expect(holds[0]).not.toBe(held);
    });

    it("a link the other replica wrote after the links were read: HOLD_FIRST follows it, and holds nothing", async () => {
      // The stores define the script on this connection.
      const { p } = registrars(notYetFirst);
      const [own, other] = notYetFirst ? [OLD, NEW] : [NEW, OLD];
      const pan = "ABCPR1237F";
      const at = (kind: string, h: KeyHasher) => `${p}${kind}:${h.hash(REGISTERED_PAN_DIMENSION, pan)}`;
      // The registration's TypeScript read found no link anywhere; the other replica's first registration then
      // answered and linked the PAN under its secret, before this one's script ran (called here as #registering does).
      const record = "r".repeat(43);
      await redis.set(at("regpan", other), record, "PX", 60_000);
      const holdFirst = (redis as unknown as Record<string, (...a: unknown[]) => Promise<unknown[]>>)
        .aopayRegisteredMobilesHoldFirst;
      const keys = [at("regpan", own), at("regfirst", own), at("regpan", other), at("regfirst", other)];
      expect(await holdFirst.call(redis, 4, ...keys, "mine", 60_000, LONGEST_SEND_MARK_TTL_MS)).toEqual([2, record]);
      // Gone on as a linked PAN: no hold taken (a first registration of a PAN linked meanwhile).
      expect(await redis.keys(`${p}regfirst:*`)).toEqual([]);
    });

    it("an Idempotency-Key taken on one replica is found on the other (Redis): replayed, never taken again", async () => {
      const p = prefix();
      const store = new RedisIdempotencyStore(redis, p, sealer);
      await idempotencyBothWays(store, notYetFirst);
    });

    it("an Idempotency-Key under the other secret, in memory: found, never taken again", async () => {
      await idempotencyBothWays(new MemoryIdempotencyStore(sealer, { maxKeys: 100 }), notYetFirst);
    });

    it("a destination's daily cap spent on one replica refuses on the other (the throttle)", async () => {
      const p = prefix();
      const config = throttleConfig({
        cooldownSeconds: 0,
        destinationWindow: { points: 100, seconds: 600 },
        destinationDaily: { points: 2, seconds: 86_400 },
      });
      const notYet = new OtpThrottle(config, OLD, { redis, keyPrefix: p });
      const switched = new OtpThrottle(config, NEW, { redis, keyPrefix: p, previousHashers: [OLD] });
      const [first, second] = notYetFirst ? [notYet, switched] : [switched, notYet];
      const to: OtpSubject = {
        destinations: [{ kind: "mobile", value: "9876512999" }],
        ip: "203.0.113.1",
        clientId: "a",
      };
      expect((await first.reserve(to)).allowed).toBe(true);
      expect((await second.reserve(to)).allowed).toBe(true);
      // The daily cap's two sends are spent, one under each replica: both refuse the third.
      expect(await first.reserve(to)).toMatchObject({ code: "OTP_LIMIT_REACHED", scope: "DESTINATION" });
      expect(await second.reserve(to)).toMatchObject({ code: "OTP_LIMIT_REACHED", scope: "DESTINATION" });
    });
  });
});

/**
 * One Idempotency-Key's request on each replica of a rotation, as SendGuard#begin gives the keys (the replica's own
 * secret's key, the other secret's as `others`): whichever takes it first, the other finds its record (in flight,
 * then its result replayed), and its key under its own secret stays untaken.
 */
async function idempotencyBothWays(
  store: RedisIdempotencyStore | MemoryIdempotencyStore,
  notYetFirst: boolean,
): Promise<void> {
  const scope = `app\nresendAepsOtp\n${Math.random()}`;
  const input = "resendAepsOtp\n{}";
  const under = (own: KeyHasher, other: KeyHasher) => ({
    own: idempotencyKeys(own, scope, input),
    others: [idempotencyKeys(other, scope, input)],
  });
  const [first, second] = notYetFirst ? [under(OLD, NEW), under(NEW, OLD)] : [under(NEW, OLD), under(OLD, NEW)];
  const taken = await store.begin(first.own.key, first.own.fingerprint, 60_000, DAY, undefined, first.others);
  expect(taken.kind).toBe("acquired");
  const token = (taken as { token: string }).token;
  const begin = () => store.begin(second.own.key, second.own.fingerprint, 60_000, DAY, undefined, second.others);
  expect((await begin()).kind).toBe("in-flight");
  const result = { typename: "AepsOtpResent", data: { ok: true } };
  expect(await store.complete(first.own.key, token, first.own.fingerprint, result, DAY)).toBe("stored");
  expect(await begin()).toEqual({ kind: "replay", result });
  // Other input under the same key: a reuse, judged by the first record's fingerprint (each secret's for its key).
  const reused = (own: KeyHasher, other: KeyHasher) => ({
    own: idempotencyKeys(own, scope, `${input}x`),
    others: [idempotencyKeys(other, scope, `${input}x`)],
  });
  const again = notYetFirst ? reused(NEW, OLD) : reused(OLD, NEW);
  expect((await store.begin(again.own.key, again.own.fingerprint, 60_000, DAY, undefined, again.others)).kind).toBe(
    "mismatch",
  );
}
