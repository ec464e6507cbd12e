import type Redis from "ioredis";
import { KeyHasher } from "../../src/protection/key-hasher";
import { OtpThrottle, type OtpSubject } from "../../src/protection/otp-throttle";
import { MemoryIdempotencyStore, RedisIdempotencyStore } from "../../src/protection/idempotency-store";
import {
  FIRST_REGISTRATION_HOLD_MS,
  FirstRegistrationPendingError,
  LONGEST_SEND_MARK_TTL_MS,
  MAX_MOBILES_PER_ID,
  REGISTERED_PAN_DIMENSION,
  RegisteredMobilesFullError,
  RegistrationRaceError,
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

  it("a mobile registered on a replica not yet switched joins the id's record a send copied under the new secret", async () => {
    const { p, first: notYet, second: switched } = registrars(true);
    const [pan, id] = ["ABCPR1231F", "760191780"];
    // Registered before the switch (the old secret's link and record), then a send on a switched replica copies the
    // record under the new secret (migrate-on-read): no link under the new secret names it.
    await notYet.registering(pan, "9876512331", "first");
    await notYet.remember(id, "9876512331", pan);
    await notYet.firstEnded(pan, "first", false);
    expect(await switched.sending(id)).toEqual(["9876512331"]);
    await switched.sent(id);
    // The replica not yet switched registers another mobile through the old link: it joins the new record too, which
    // is the id's record after the rotation's last step. Before, it was under the old key alone: read by no send then.
    await notYet.registering(pan, "9876512332");
    await notYet.remember(id, "9876512332", pan);
    const after = new RedisRegisteredMobileStore(redis, p, NEW, sealer, DAY);
    expect(await after.recall(id)).toEqual(["9876512331", "9876512332"]);
    // A record under the coming secret is only joined, never started: an id with none there gets none.
    await notYet.registering("ABCPR1232F", "9876512333", "first");
    await notYet.remember("760191781", "9876512333", "ABCPR1232F");
    expect(await after.recall("760191781")).toEqual([]);
  });

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

    it("an id's records under both secrets are one: MAX_MOBILES_PER_ID on either replica, and after the old goes", async () => {
      const { p, first, second } = registrars(notYetFirst);
      const [pan, id] = ["ABCPR1238F", "760191778"];
      const register = async (store: RedisRegisteredMobileStore, mobile: string, hold?: string) => {
        await store.registering(pan, mobile, hold);
        await store.remember(id, mobile, pan);
        if (hold !== undefined) await store.firstEnded(pan, hold, false);
      };
      // Two mobiles on each replica: each replica's record under its own secret, the later one's started from the
      // other's. Before, the not-yet-switched replica's mobiles went under the old key alone once the new record
      // existed (and the switched one's under the new alone): each record short of the other's latest.
      await register(first, "9876512301", "first");
      await register(first, "9876512302");
      await register(second, "9876512303");
      await register(second, "9876512304");
      // A fifth, on either replica: refused before AOPay, whichever record its PAN's link names.
      for (const store of [first, second]) {
        const refused = await Promise.resolve(store.registering(pan, "9876512305")).catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(RegisteredMobilesFullError);
      }
      // After the rotation's last step (the new secret alone): the new record holds all four, so the limit holds and a
      // send is budgeted on each, its mark seen by a registration (OTP_SEND_IN_PROGRESS).
      const after = new RedisRegisteredMobileStore(redis, p, NEW, sealer, DAY);
      const all = ["9876512301", "9876512302", "9876512303", "9876512304"];
      expect([...(await after.recall(id))].sort()).toEqual(all);
      expect(all).toHaveLength(MAX_MOBILES_PER_ID);
      const fifth = await Promise.resolve(after.registering(pan, "9876512305")).catch((e: unknown) => e);
      expect(fifth).toBeInstanceOf(RegisteredMobilesFullError);
      expect([...(await after.sending(id))].sort()).toEqual(all);
      const during = await Promise.resolve(after.registering(pan, "9876512301")).catch((e: unknown) => e);
      expect(during).toBeInstanceOf(RegistrationRaceError);
      await after.sent(id);
    });

    it("a send under way on one replica refuses a registration on the other, each record's PAN link", async () => {
      const { first, second } = registrars(notYetFirst);
      const [pan, id] = ["ABCPR1239F", "760191779"];
      await first.registering(pan, "9876512311", "first");
      await first.remember(id, "9876512311", pan);
      await first.firstEnded(pan, "first", false);
      await second.registering(pan, "9876512312");
      await second.remember(id, "9876512312", pan);
      for (const [sender, registrar] of [
        [first, second],
        [second, first],
      ]) {
        expect([...(await sender.sending(id))].sort()).toEqual(["9876512311", "9876512312"]);
        // A mobile of the id's already (a new one joins the record before the marks are read).
        const refused = await Promise.resolve(registrar.registering(pan, "9876512311")).catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(RegistrationRaceError);
        await sender.sent(id);
      }
    });

    it("a malformed hold under the other secret refuses, brought back to expire as one under its own secret is", async () => {
      const { p, second } = registrars(notYetFirst);
      // The first replica's secret: the one `second` reads holds under, read only.
      const other = notYetFirst ? OLD : NEW;
      const pan = "ABCPR1230F";
      const held = `${p}regfirst:${other.hash(REGISTERED_PAN_DIMENSION, pan)}`;
      // Written by no replica (bytes not ours): a hold with no TTL, then a key of another type. Under the replica's own
      // secret HOLD_FIRST brings such a hold back to LONGEST_SEND_MARK_TTL_MS; under the other one it was left as it
      // was, refusing the PAN's first registration for as long as it lived (for good without a TTL).
      for (const plant of [() => redis.set(held, "x"), () => redis.hset(held, "f", "v")]) {
        await redis.del(held);
        await plant();
        const refused = await Promise.resolve(second.registering(pan, "9876512321", "second")).catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(FirstRegistrationPendingError);
        expect((refused as FirstRegistrationPendingError).retryAfterMs).toBe(LONGEST_SEND_MARK_TTL_MS);
        const left = await redis.pttl(held);
        expect(left).toBeGreaterThan(0);
        expect(left).toBeLessThanOrEqual(LONGEST_SEND_MARK_TTL_MS);
      }
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
