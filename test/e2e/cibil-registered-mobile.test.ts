import { nextAadhaar, nextAepsRegistration, nextCibilId, nextMobile, registrationInput } from "../helpers/identifiers";
import {
  aepsInput,
  cibilToken,
  GENERATE_CIBIL_OTP,
  REGISTER_CIBIL_CUSTOMER,
  RESEND_AEPS_OTP,
  resultOf,
  type Result,
} from "../helpers/operations";
import { connectRedis, describeWithRedis, dumpKeys, REDIS_URL, storeBackends, uniquePrefix } from "../helpers/redis";
import { type RedisProxy, startRedisProxy } from "../helpers/redis-proxy";
import { DEFAULT_THROTTLE, stackPerTest, startTestStack, type TestStack } from "../helpers/stack";

/**
 * AOPay sends a CIBIL OTP to the customer's REGISTERED mobile (docs/upstream/aopay-api.md §1, §1.2), and
 * registration is where we see that mobile. The flood this closes: register several PANs with one victim's mobile,
 * get one CIBIL id per PAN, and send one GenerateOTP per id within a second, plus an AEPS resend to the same phone.
 * With the registered mobile remembered (src/protection/registered-mobiles.ts), every one of those sends is budgeted
 * on the mobile (cooldown, window, daily cap, prefix) as well as on its CIBIL id. The simulator counts what reached
 * "AOPay". In memory and, with REDIS_URL, in Redis.
 */

const BACKENDS = storeBackends("h".repeat(32));

describe.each(BACKENDS)("generateCibilOtp is budgeted on the registered mobile (%s)", (_name, skip, backendEnv) => {
  const maybe = skip === null ? it : it.skip;
  const { start } = stackPerTest(backendEnv);

  async function register(stack: TestStack, mobile: string): Promise<{ cibilId: string; accessToken: string }> {
    const result = resultOf(
      (await stack.gql(REGISTER_CIBIL_CUSTOMER, { input: registrationInput({ mobile }) })).body,
      "registerCibilCustomer",
    );
    expect(result.__typename).toBe("CibilCustomerRegistered");
    return { cibilId: result.cibilId as string, accessToken: result.accessToken as string };
  }
  const generate = async (stack: TestStack, customer: { cibilId: string; accessToken: string }): Promise<Result> =>
    resultOf((await stack.gql(GENERATE_CIBIL_OTP, { input: customer })).body, "generateCibilOtp");
  const aeps = async (stack: TestStack, mobile: string): Promise<Result> =>
    resultOf(
      (await stack.gql(RESEND_AEPS_OTP, aepsInput(mobile, { ...nextAepsRegistration(), aadhaar: nextAadhaar() }))).body,
      "resendAepsOtp",
    );

  maybe(
    "six PANs registered with one mobile: one GenerateOTP reaches AOPay, the rest meet the mobile's cooldown; AEPS to it too; another mobile is unaffected",
    async () => {
      const s = await start(DEFAULT_THROTTLE);
      const victim = nextMobile();
      const customers = [];
      for (let i = 0; i < 6; i++) customers.push(await register(s, victim));
      expect(new Set(customers.map((c) => c.cibilId)).size).toBe(6);

      expect((await generate(s, customers[0])).__typename).toBe("CibilOtpChallenge");
      for (const customer of customers.slice(1)) {
        const refused = await generate(s, customer);
        expect(refused).toMatchObject({ __typename: "OtpThrottled", code: "OTP_COOLDOWN", scope: "DESTINATION" });
        expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(58);
      }
      expect(s.simulator?.calls("cibil.generateOtp")).toBe(1);

      // AEPS and CIBIL sends to one phone share its budgets.
      expect(await aeps(s, victim)).toMatchObject({ __typename: "OtpThrottled", code: "OTP_COOLDOWN" });
      expect(s.simulator?.calls("aeps.resendOtp")).toBe(0);

      // Another customer, another mobile: unaffected.
      const other = await register(s, nextMobile());
      expect((await generate(s, other)).__typename).toBe("CibilOtpChallenge");
      expect(s.simulator?.calls("cibil.generateOtp")).toBe(2);

      // Neither the mobile nor a CIBIL id in the logs.
      const logs = s.logs.text();
      expect(logs).not.toContain(victim);
      for (const { cibilId } of customers) expect(logs).not.toContain(cibilId);
    },
  );

  maybe("an AEPS resend first: the CIBIL send to the same registered mobile meets the cooldown", async () => {
    const s = await start(DEFAULT_THROTTLE);
    const mobile = nextMobile();
    const customer = await register(s, mobile);
    expect((await aeps(s, mobile)).__typename).toBe("AepsOtpResent");
    expect(await generate(s, customer)).toMatchObject({ __typename: "OtpThrottled", code: "OTP_COOLDOWN" });
    expect(s.simulator?.calls("cibil.generateOtp")).toBe(0);
  });

  maybe("the mobile's prefix budget applies to CIBIL sends (distinct mobiles of one range)", async () => {
    const s = await start({ ...DEFAULT_THROTTLE, OTP_PREFIX_MAX: "3" });
    // nextMobile() values share their first 6 digits within a test file (one range).
    const customers = [];
    for (let i = 0; i < 4; i++) customers.push(await register(s, nextMobile()));
    for (const customer of customers.slice(0, 3))
      expect((await generate(s, customer)).__typename).toBe("CibilOtpChallenge");
    expect(await generate(s, customers[3])).toMatchObject({
      __typename: "OtpThrottled",
      code: "RATE_LIMITED",
      scope: "MOBILE_PREFIX",
    });
    expect(s.simulator?.calls("cibil.generateOtp")).toBe(3);
  });

  maybe(
    "CIBIL ids with no record here (registered before, elsewhere, or lost on restart): budgeted by id only, as before",
    async () => {
      const s = await start(DEFAULT_THROTTLE);
      const unknown = (cibilId: string) => ({ cibilId, accessToken: cibilToken(cibilId) });
      expect((await generate(s, unknown(nextCibilId()))).__typename).not.toBe("OtpThrottled");
      const id = nextCibilId();
      expect((await generate(s, unknown(id))).__typename).not.toBe("OtpThrottled");
      expect(await generate(s, unknown(id))).toMatchObject({ code: "OTP_COOLDOWN", scope: "DESTINATION" });
      expect(s.simulator?.calls("cibil.generateOtp")).toBe(2);
    },
  );
});

/**
 * A generateCibilOtp its own budgets refuse (its CIBIL id's cooldown, the common case) writes nothing to the
 * registered-mobile store: those budgets are taken before the send mark and the recall of the id's mobiles
 * (src/protection/send-guard.ts). Before, every such refusal marked the id as sending and unmarked it again (two
 * scripts in Redis). The mark is made by the budgets' script itself once every budget allowed the send
 * (redis-budgets.ts TAKE_AND_MARK): a refused one names the mark's keys and writes none. The real path, commands read
 * off the wire by a proxy (no MONITOR); in memory: test/integration/send-budget-order.test.ts.
 */
describeWithRedis("a throttled generateCibilOtp writes nothing to the registered-mobile store (Redis)", () => {
  let proxy: RedisProxy | undefined;
  /** The running stack's REDIS_KEY_PREFIX. */
  let prefix = "";
  const { start, stop } = stackPerTest(() => ({
    REDIS_URL: (proxy as RedisProxy).url,
    REDIS_KEY_PREFIX: (prefix = uniquePrefix()),
    HMAC_SECRET: "h".repeat(32),
  }));
  beforeEach(async () => {
    proxy = await startRedisProxy(REDIS_URL as string);
  });
  afterEach(async () => {
    await stop();
    await proxy?.close();
  });
  /** A command on the registered-mobile store's keys: a record, a PAN link, a token link, a send mark. */
  const onRegisteredMobiles = (command: string[]) =>
    command.some((arg) => /:reg(send|sends|mobiles?|pan|token):/.test(arg));

  it("a token sent with another customer's id: two commands more (that id's mark and unmark), none otherwise", async () => {
    const s = await start(DEFAULT_THROTTLE);
    const customer = async () => {
      const registered = resultOf(
        (await s.gql(REGISTER_CIBIL_CUSTOMER, { input: registrationInput({ mobile: nextMobile() }) })).body,
        "registerCibilCustomer",
      );
      return { cibilId: registered.cibilId as string, accessToken: registered.accessToken as string };
    };
    const [a, b] = [await customer(), await customer()];
    const sending = (proxy as RedisProxy).record();
    // The simulator refuses a token of another id (UpstreamRejected); the call is what counts here.
    const input = { cibilId: a.cibilId, accessToken: b.accessToken };
    expect(resultOf((await s.gql(GENERATE_CIBIL_OTP, { input })).body, "generateCibilOtp").__typename).toBe(
      "UpstreamRejected",
    );
    expect(s.simulator?.calls("cibil.generateOtp")).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // The budgets and a's mark (reading b's token link), b's mark, both mobiles' budgets, the two unmarks.
    const commands = sending();
    expect(commands).toHaveLength(5);
    expect(commands.filter(onRegisteredMobiles)).toHaveLength(4);
  });

  it.each([
    ["without an Idempotency-Key", {}, 1],
    // By design the key is claimed first and freed (IDEMPOTENCY_IN_FLIGHT for a retry racing the first request).
    ["with an Idempotency-Key", { "idempotency-key": "k-throttled-cibil" }, 3],
  ])("%s: only its budgets' script (and the key's claim and release)", async (_name, headers, count) => {
    const s = await start(DEFAULT_THROTTLE);
    const registered = resultOf(
      (await s.gql(REGISTER_CIBIL_CUSTOMER, { input: registrationInput({ mobile: nextMobile() }) })).body,
      "registerCibilCustomer",
    );
    const customer = { cibilId: registered.cibilId, accessToken: registered.accessToken };
    const sending = (proxy as RedisProxy).record();
    expect(resultOf((await s.gql(GENERATE_CIBIL_OTP, { input: customer })).body, "generateCibilOtp").__typename).toBe(
      "CibilOtpChallenge",
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    // A send that goes: the id's budgets with the mark and recall (one script), the mobile's budgets, the unmark.
    const first = sending();
    expect(first).toHaveLength(3);
    expect(first.filter(onRegisteredMobiles)).toHaveLength(2);
    const recorded = (proxy as RedisProxy).record();
    const refused = resultOf((await s.gql(GENERATE_CIBIL_OTP, { input: customer }, headers)).body, "generateCibilOtp");
    // The unmark is not awaited by the answer (guarded-send.ts): given time to reach Redis, had there been one.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const commands = recorded();
    expect(refused).toMatchObject({ __typename: "OtpThrottled", code: "OTP_COOLDOWN", scope: "DESTINATION" });
    // The budgets' one script (before it, the key's claim; after, its release), and nothing else: it names the mark's
    // keys, and refused, made no mark (the first send's unmark left none, so none is there).
    expect(commands).toHaveLength(count);
    expect(commands.filter(onRegisteredMobiles).map((c) => c[0].toLowerCase())).toEqual(["evalsha"]);
    const redis = await connectRedis();
    try {
      expect((await dumpKeys(redis, prefix)).filter(({ key }) => /:regsends?:/.test(key))).toEqual([]);
    } finally {
      await redis.quit();
    }
    expect(s.simulator?.calls("cibil.generateOtp")).toBe(1);
  });
});

describe("registration when the in-memory record table is full", () => {
  let t: TestStack | undefined;
  afterAll(() => t?.stop());

  it("is refused with PROTECTION_UNAVAILABLE before AOPay (no customer whose mobile we would not know)", async () => {
    // Three records per customer: its CIBIL id's mobiles, its PAN's link and its token's (one customer fills it).
    // One client: the table's cap alone (its share per client: test/e2e/shared-tables.test.ts).
    t = await startTestStack({
      MEMORY_REGISTERED_MOBILE_MAX_KEYS: "3",
      MEMORY_REGISTERED_MOBILE_CLIENT_SHARE_PERCENT: "100",
    });
    const first = resultOf(
      (await t.gql(REGISTER_CIBIL_CUSTOMER, { input: registrationInput() })).body,
      "registerCibilCustomer",
    );
    expect(first.__typename).toBe("CibilCustomerRegistered");
    const second = resultOf(
      (await t.gql(REGISTER_CIBIL_CUSTOMER, { input: registrationInput() })).body,
      "registerCibilCustomer",
    );
    expect(second).toMatchObject({
      __typename: "ProtectionUnavailable",
      code: "PROTECTION_UNAVAILABLE",
      retryable: true,
    });
    expect(t.simulator?.calls("cibil.register")).toBe(1);
    expect(t.logs.text()).toContain("MEMORY_REGISTERED_MOBILE_MAX_KEYS");
  });
});
