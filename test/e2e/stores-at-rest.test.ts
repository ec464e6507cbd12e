import type { ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import type Redis from "ioredis";
import { KeyHasher } from "../../src/protection/key-hasher";
import {
  REGISTERED_MOBILE_DIMENSION,
  REGISTERED_MOBILES_DIMENSION,
  REGISTERED_PAN_DIMENSION,
} from "../../src/protection/registered-mobiles";
import { StoreSealer } from "../../src/protection/store-sealer";
import { type FakeHandler, type FakeUpstream, json, startFakeUpstream, upstreamEnv } from "../helpers/fake-upstream";
import { fixtureJson } from "../helpers/fixtures";
import { registrationInput } from "../helpers/identifiers";
import { GENERATE_CIBIL_OTP, RESEND_AEPS_OTP, resultOf } from "../helpers/operations";
import { freePort } from "../helpers/free-port";
import { connectPrivateRedis, describeWithPrivateRedis, startRedis, stopRedis } from "../helpers/private-redis";
import { dumpKeys } from "../helpers/redis";
import { PRODUCTION_SECURITY, startTestStack, TEST_API_KEY, type TestStack } from "../helpers/stack";

/**
 * Nothing secret at rest (docs/security.md "Stored results are encrypted"): the production server against real
 * Redis and a scripted AOPay whose registration answer carries a canary access token. After registrations, OTP sends
 * and replays with Idempotency-Keys, EVERY key the server wrote, and every value (whatever its type), is scanned for
 * each canary and its usual encodings: the token AOPay issued, the mobile, PAN, Aadhaar, e-mail and CIBIL id. The
 * registered-mobile record (CIBIL id → mobile, src/protection/registered-mobiles.ts) is among them: keyed by the id's
 * HMAC, the mobile sealed.
 * The server gets a redis-server of its own (test/helpers/private-redis.ts), so the scan covers everything in it, not
 * only a prefix. It emptied database 13 of the shared REDIS_URL before (FLUSHDB), before and after: whatever another
 * suite, run or developer kept there was lost, and two runs at once emptied each other's.
 * Then the sealing key is rotated, replaced by a wrong one, and a record is tampered with and moved: a replay under a
 * rotated key still works; in every other case a repeat of the key answers OUTCOME_UNKNOWN (its request went ahead)
 * with no upstream call and no clear value in the logs.
 */
const CANARY = {
  token: "CanaryAccessTok3n-9d1f7a2c",
  mobile: "9812345671",
  /** A second registration's mobile (no Idempotency-Key): its record replaces the first under the same CIBIL id. */
  mobileReregistered: "9812345672",
  /** AEPS: another phone than the registered one (the registered mobile's cooldown would refuse this resend). */
  aepsMobile: "9812345673",
  pan: "ZXCPV7731K",
  aadhaar: "999971658847",
  email: "canary.owner7731@example.com",
  cibilId: "773190551",
};
const PREFIX = "aopay-gql-at-rest:";
const key = (byte: number) => Buffer.alloc(32, byte).toString("base64");
const K1 = `k1:${key(1)}`;
const K2 = `k2:${key(2)}`;

const REGISTER = `mutation($input: RegisterCibilCustomerInput!) { registerCibilCustomer(input: $input) {
  __typename ... on CibilCustomerRegistered { cibilId accessToken maskedMobile maskedPan maskedEmail } ... on Failure { code } } }`;
const REGISTER_INPUT = { input: registrationInput({ pan: CANARY.pan, email: CANARY.email, mobile: CANARY.mobile }) };
const AEPS_INPUT = {
  input: {
    userKey: "AOP554N3XXXX",
    mobile: CANARY.aepsMobile,
    aadhaar: CANARY.aadhaar,
    primaryKeyId: "TEST",
    encodeTxnId: "DEMO",
  },
};
const GENERATE_INPUT = { input: { cibilId: CANARY.cibilId, accessToken: CANARY.token } };

/** AOPay as scripted here: registration issues the canary token and CIBIL id; GenerateOTP and ResendOTP as documented. */
const scriptedAopay: FakeHandler = (call, res, req) => {
  if (call.path.endsWith("/CibilScore/registeration")) {
    return json(200, {
      status: "SUCCESS",
      message: "success",
      error_code: "SPC-200",
      merchant_trans_id: "SPCBL2401311200000000AtRestTst",
      access_token: CANARY.token,
      result: { cibil_id: CANARY.cibilId },
    })(call, res, req);
  }
  if (call.path.endsWith("/CibilScore/GenerateOTP"))
    return json(200, fixtureJson("cibil/generate-otp.success"))(call, res, req);
  if (call.path.endsWith("/AEPS/UserRegisterBankWise/ResendOTP"))
    return json(200, fixtureJson("aeps/resend-otp.success"))(call, res, req);
  res.writeHead(404).end();
};

/** Every encoding of a canary a careless store might hold. */
function encodings(value: string): string[] {
  const b = Buffer.from(value, "utf8");
  const hashes = ["sha256", "md5", "sha1"].flatMap((algo) => {
    const h = createHash(algo).update(value).digest();
    return [h.toString("hex"), h.toString("base64"), h.toString("base64url")];
  });
  return [value, value.toLowerCase(), b.toString("base64"), b.toString("base64url"), b.toString("hex"), ...hashes];
}

describeWithPrivateRedis("nothing secret at rest in Redis (production, scripted AOPay, every key scanned)", () => {
  let upstream: FakeUpstream;
  let redisProcess: ChildProcess | undefined;
  let redisUrl: string;
  let redis: Redis;
  let t: TestStack | undefined;
  const start = (storeKeys: string) =>
    startTestStack({
      NODE_ENV: "production",
      ...upstreamEnv(upstream),
      ...PRODUCTION_SECURITY,
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: PREFIX,
      STORE_ENCRYPTION_KEYS: storeKeys,
    });
  const auth = { "x-api-key": TEST_API_KEY };
  const registrations = () => upstream.calls.filter((c) => c.path.endsWith("/registeration")).length;

  beforeAll(async () => {
    upstream = await startFakeUpstream(scriptedAopay);
    const port = await freePort();
    redisProcess = startRedis(port);
    redis = await connectPrivateRedis(port);
    // Empty at the start: every key the scan finds is the server's.
    expect(await redis.dbsize()).toBe(0);
    redisUrl = `redis://127.0.0.1:${port}`;
    t = await start(K1);
  });
  afterAll(async () => {
    await t?.stop();
    await upstream?.close();
    await redis?.quit();
    await stopRedis(redisProcess);
  });

  it("registers (token issued), replays, sends OTPs: the client sees the token, AOPay is called once per key", async () => {
    const first = await t!.gql(REGISTER, REGISTER_INPUT, { ...auth, "idempotency-key": "at-rest-register-1" });
    expect(resultOf(first.body, "registerCibilCustomer")).toMatchObject({
      __typename: "CibilCustomerRegistered",
      accessToken: CANARY.token,
      cibilId: CANARY.cibilId,
    });
    const replay = await t!.gql(REGISTER, REGISTER_INPUT, { ...auth, "idempotency-key": "at-rest-register-1" });
    expect(replay.headers["idempotent-replayed"]).toBe("true");
    expect(resultOf(replay.body, "registerCibilCustomer")).toMatchObject({ accessToken: CANARY.token });
    expect(registrations()).toBe(1);

    const generate = await t!.gql(GENERATE_CIBIL_OTP, GENERATE_INPUT, {
      ...auth,
      "idempotency-key": "at-rest-generate-1",
    });
    expect(resultOf(generate.body, "generateCibilOtp").__typename).toBe("CibilOtpChallenge");
    const aeps = await t!.gql(RESEND_AEPS_OTP, AEPS_INPUT, { ...auth, "idempotency-key": "at-rest-aeps-1" });
    expect(resultOf(aeps.body, "resendAepsOtp").__typename).toBe("AepsOtpResent");
    // A registration without a key: throttle state only.
    await t!.gql(REGISTER, { input: { ...REGISTER_INPUT.input, mobile: CANARY.mobileReregistered } }, auth);
  });

  it("no canary, in any encoding or unsalted hash, is in any key or value of the database", async () => {
    const entries = await dumpDb(redis);
    // The server wrote throttle counters and three idempotency records, under its prefix only.
    expect(entries.length).toBeGreaterThan(8);
    for (const { key: k } of entries) expect(k.startsWith(PREFIX)).toBe(true);
    const idem = entries.filter((e) => e.key.includes(":idem:"));
    expect(idem).toHaveLength(3);
    for (const { value } of idem)
      expect((JSON.parse(value) as { result: string }).result).toMatch(
        /^s1\.k1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/,
      );
    // One CIBIL id (AOPay answered the same one twice here): one registered-mobiles record, under the id's HMAC,
    // sealed; and the PAN's link to it, under the PAN's HMAC.
    const hasher = new KeyHasher(Buffer.from(PRODUCTION_SECURITY.HMAC_SECRET, "utf8"));
    const registered = entries.filter((e) => e.key.includes(":regmobiles:"));
    expect(registered.map((e) => e.key)).toEqual([
      `${PREFIX}regmobiles:${hasher.hash(REGISTERED_MOBILE_DIMENSION, CANARY.cibilId)}`,
    ]);
    expect(entries.filter((e) => e.key.includes(":regpan:"))).toEqual([
      {
        key: `${PREFIX}regpan:${hasher.hash(REGISTERED_PAN_DIMENSION, REGISTER_INPUT.input.pan)}`,
        value: hasher.hash(REGISTERED_MOBILE_DIMENSION, CANARY.cibilId),
      },
    ]);
    expect(registered[0].value).toMatch(/^s1\.k1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(await redis.pttl(registered[0].key)).toBeGreaterThan(89 * 86_400_000);
    // It opens, with the sealing key and bound to its record key, to both registrations' mobiles, the latest last.
    const sealer = new StoreSealer([{ id: "k1", key: Buffer.from(key(1), "base64") }]);
    const recordKey = hasher.hash(REGISTERED_MOBILE_DIMENSION, CANARY.cibilId);
    expect(JSON.parse(sealer.open(registered[0].value, [REGISTERED_MOBILES_DIMENSION, recordKey]))).toEqual([
      CANARY.mobile,
      CANARY.mobileReregistered,
    ]);
    const stored = entries.map((e) => `${e.key}\n${e.value}`).join("\n");
    for (const [name, value] of Object.entries(CANARY)) {
      for (const encoded of encodings(value))
        expect({ name, found: stored.includes(encoded) }).toEqual({ name, found: false });
    }
    // Nor the masked forms the client saw: the whole result is sealed.
    for (const masked of ["XXXXXX5671", "XXXXXX731K"]) expect(stored).not.toContain(masked);
  });

  it("rotation: with a new key prepended, a record sealed under the old key still replays; new records use the new key", async () => {
    await t!.stop();
    t = await start(`${K2},${K1}`);
    const before = registrations();
    const replay = await t.gql(REGISTER, REGISTER_INPUT, { ...auth, "idempotency-key": "at-rest-register-1" });
    expect(replay.headers["idempotent-replayed"]).toBe("true");
    expect(resultOf(replay.body, "registerCibilCustomer")).toMatchObject({ accessToken: CANARY.token });
    await t.gql(REGISTER, REGISTER_INPUT, { ...auth, "idempotency-key": "at-rest-register-2" });
    expect(registrations()).toBe(before + 1);
    const sealedUnder = (await dumpDb(redis))
      .filter((e) => e.key.includes(":idem:"))
      .map((e) => (JSON.parse(e.value) as { result: string }).result.split(".")[1])
      .sort();
    expect(sealedUnder).toEqual(["k1", "k1", "k1", "k2"]);
  });

  it.each([
    ["a wrong key under the same id", `k1:${key(9)},${K2}`],
    ["the old key dropped too early", K2.replace(/^k2/, "k3") + `,k2:${key(8)}`],
  ])(
    "%s: a repeat is OUTCOME_UNKNOWN (its request went ahead), nothing sent upstream, no clear value logged",
    async (_name, storeKeys) => {
      await t!.stop();
      t = await start(storeKeys);
      const before = upstream.calls.length;
      const res = await t.gql(REGISTER, REGISTER_INPUT, { ...auth, "idempotency-key": "at-rest-register-1" });
      // Before: PROTECTION_UNAVAILABLE, "nothing was sent or fetched. Try again later.": the registration under this
      // key had gone ahead, and a client trying again under a new key registered (and sent an OTP) again.
      expect(resultOf(res.body, "registerCibilCustomer")).toMatchObject({
        __typename: "OutcomeUnknown",
        code: "OUTCOME_UNKNOWN",
      });
      expect(upstream.calls.length - before).toBe(0);
      const logs = t.logs.text();
      expect(logs).toContain("idempotency result does not open (STORE_ENCRYPTION_KEYS?): answered OUTCOME_UNKNOWN");
      expect(logs).not.toContain("otp send refused: protection store unavailable");
      for (const value of Object.values(CANARY)) expect(logs).not.toContain(value);
      expect(res.text).not.toContain(CANARY.token);
    },
  );

  it("repeats of a key whose result does not open are no store failure: each logged, none summarised as refused", async () => {
    await t!.stop();
    const stack = await start(`k1:${key(9)},${K2}`);
    const repeat = () => stack.gql(REGISTER, REGISTER_INPUT, { ...auth, "idempotency-key": "at-rest-register-1" });
    for (let i = 0; i < 3; i++)
      expect(resultOf((await repeat()).body, "registerCibilCustomer")).toMatchObject({ code: "OUTCOME_UNKNOWN" });
    // Stopped: the summaries of the interval are written (store-failure.ts StoreFailureLines.flush).
    await stack.stop();
    const lines = stack.logs.text().split("\n");
    // Before: summarised with the store failures (one line per 10 s for every otp send's), the 2nd and 3rd repeats
    // were counted as `protection store unavailable: 2 more requests refused`, and the first took the one line a real
    // store failure of the interval (Redis down) would have written.
    expect(lines.filter((l) => l.includes("idempotency result does not open"))).toHaveLength(3);
    expect(lines.filter((l) => l.includes("more requests refused"))).toEqual([]);
    t = await start(`${K2},${K1}`);
  });

  it("a tampered record and a record moved to another key do not open: OUTCOME_UNKNOWN, upstream call count 0", async () => {
    await t!.stop();
    t = await start(`${K2},${K1}`);
    const hasher = new KeyHasher(Buffer.from(PRODUCTION_SECURITY.HMAC_SECRET, "utf8"));
    const recordKey = (raw: string) =>
      `${PREFIX}idem:${hasher.hash("idempotency", `test-client\nregisterCibilCustomer\n${raw}`)}`;
    const original = await redis.get(recordKey("at-rest-register-1"));
    expect(original).not.toBeNull();
    const before = upstream.calls.length;

    // Moved: the same sealed record, copied under the key another Idempotency-Key maps to (same input).
    await redis.set(recordKey("at-rest-moved"), original as string, "PX", 60_000);
    const moved = await t.gql(REGISTER, REGISTER_INPUT, { ...auth, "idempotency-key": "at-rest-moved" });
    // A record at a key is told as one its request left (OUTCOME_UNKNOWN): never "nothing was sent", which only a
    // key with no record can say.
    expect(resultOf(moved.body, "registerCibilCustomer")).toMatchObject({ code: "OUTCOME_UNKNOWN" });

    // Tampered: one bit of the ciphertext flipped in place.
    const record = JSON.parse(original as string) as { result: string };
    const parts = record.result.split(".");
    const body = Buffer.from(parts[4], "base64url");
    body[0] ^= 1;
    parts[4] = body.toString("base64url");
    await redis.set(recordKey("at-rest-register-1"), JSON.stringify({ ...record, result: parts.join(".") }), "KEEPTTL");
    const tampered = await t.gql(REGISTER, REGISTER_INPUT, { ...auth, "idempotency-key": "at-rest-register-1" });
    expect(resultOf(tampered.body, "registerCibilCustomer")).toMatchObject({ code: "OUTCOME_UNKNOWN" });

    expect(upstream.calls.length - before).toBe(0);
    for (const value of Object.values(CANARY)) expect(t.logs.text()).not.toContain(value);
  });
});

/** Every key of the (private) Redis and its whole value, whatever its type: all of them match the empty prefix. */
const dumpDb = (redis: Redis) => dumpKeys(redis, "");
