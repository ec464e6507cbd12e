import Redis from "ioredis";
import { KeyHasher } from "../../src/protection/key-hasher";
import { REGISTERED_MOBILE_DIMENSION } from "../../src/protection/registered-mobiles";
import { nextAadhaar, nextAepsRegistration, nextMobile, registrationInput } from "../helpers/identifiers";
import {
  aepsInput,
  GENERATE_CIBIL_OTP,
  REGISTER_CIBIL_CUSTOMER,
  RESEND_AEPS_OTP,
  resultOf,
  type Result,
} from "../helpers/operations";
import { describeWithRedis, dumpKeys, REDIS_URL, uniquePrefix } from "../helpers/redis";
import { DEFAULT_THROTTLE, LENIENT_THROTTLE, stackPerTest, type TestStack } from "../helpers/stack";

/**
 * State an attacker's requests keep alive (docs/security.md "Stored results are encrypted", registered mobiles): a
 * value a request controls must not become a Redis key whose life the same requests can stretch without end. The
 * server on loopback, the simulator as AOPay, real Redis under a key prefix of its own.
 */
const HMAC_SECRET = "k".repeat(32);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithRedis("a send mark left behind, and the sends that would keep it", () => {
  const prefix = uniquePrefix();
  const { start } = stackPerTest(() => ({
    REDIS_URL: REDIS_URL as string,
    REDIS_KEY_PREFIX: prefix,
    HMAC_SECRET,
  }));
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(REDIS_URL as string);
  });
  afterAll(() => redis.quit());

  const generate = async (s: TestStack, input: { cibilId: string; accessToken: string }): Promise<Result> =>
    resultOf((await s.gql(GENERATE_CIBIL_OTP, { input })).body, "generateCibilOtp");

  it("a dead send's mark ends on time though others keep sending (throttled): the PAN registers", async () => {
    const s = await start(DEFAULT_THROTTLE);
    const person = registrationInput();
    const registered = resultOf(
      (await s.gql(REGISTER_CIBIL_CUSTOMER, { input: person })).body,
      "registerCibilCustomer",
    );
    expect(registered.__typename).toBe("CibilCustomerRegistered");
    const customer = { cibilId: registered.cibilId as string, accessToken: registered.accessToken as string };
    expect((await generate(s, customer)).__typename).toBe("CibilOtpChallenge");

    // A replica died with a send to the id upstream (the versions before's mark, a count: what they leave behind),
    // its mark to end in 1.5 s.
    const recordKey = new KeyHasher(Buffer.from(HMAC_SECRET)).hash(REGISTERED_MOBILE_DIMENSION, customer.cibilId);
    const mark = `${prefix}regsend:${recordKey}`;
    await redis.incr(mark);
    await redis.pexpire(mark, 1_500);
    const refused = resultOf((await s.gql(REGISTER_CIBIL_CUSTOMER, { input: person })).body, "registerCibilCustomer");
    expect(refused).toMatchObject({ __typename: "RegistrationRefused", code: "OTP_SEND_IN_PROGRESS" });

    // Anyone who knows the CIBIL id sends to it every 200 ms: refused by its cooldown, no SMS, nothing to AOPay, yet
    // each marked the id. A send that restarted the mark's TTL kept the dead send's count for good.
    const sends = s.simulator?.calls("cibil.generateOtp");
    const leakedAt = Date.now();
    while (Date.now() - leakedAt < 2_500) {
      expect(await generate(s, customer)).toMatchObject({ __typename: "OtpThrottled", code: "OTP_COOLDOWN" });
      await sleep(200);
    }
    expect(s.simulator?.calls("cibil.generateOtp")).toBe(sends);
    expect(await redis.exists(mark)).toBe(0);
    const again = resultOf((await s.gql(REGISTER_CIBIL_CUSTOMER, { input: person })).body, "registerCibilCustomer");
    expect(again.__typename).toBe("CibilCustomerRegistered");

    // Every key left has a TTL, and no send mark outlives SEND_MARK_TTL_MS (2 minutes).
    for (const { key } of await dumpKeys(redis, prefix)) {
      const ttl = await redis.pttl(key);
      expect({ key, hasTtl: ttl > 0 }).toEqual({ key, hasTtl: true });
      if (key.includes(":regsend")) expect(ttl).toBeLessThanOrEqual(120_000);
    }
  }, 20_000);
});

describe("a client address that is not an IP address (a proxy passing X-Forwarded-For on as written)", () => {
  const { start } = stackPerTest(() => ({}));

  it("is cut before it keys anything: 8 kB values alike in their first 64 characters share a budget", async () => {
    // The loopback connection is the trusted proxy, which hands the client's header on unchanged.
    const s = await start({ ...LENIENT_THROTTLE, OTP_IP_MAX: "1", TRUSTED_PROXIES: "127.0.0.1" });
    const forwarded = (last: string) => ({ "x-forwarded-for": `${"a".repeat(8_000)}${last}` });
    const send = async (last: string) =>
      resultOf(
        (
          await s.gql(
            RESEND_AEPS_OTP,
            aepsInput(nextMobile(), { ...nextAepsRegistration(), aadhaar: nextAadhaar() }),
            forwarded(last),
          )
        ).body,
        "resendAepsOtp",
      );
    expect((await send("1")).__typename).toBe("AepsOtpResent");
    // Kept whole, each value was a budget (and a 16 kB entry in the process's memo of identifiers) of its own.
    expect(await send("2")).toMatchObject({ __typename: "OtpThrottled", code: "RATE_LIMITED", scope: "IP" });
  });
});
