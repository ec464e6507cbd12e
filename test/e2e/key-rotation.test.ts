import { randomUUID } from "node:crypto";
import { SIMULATOR_COMPANY_CODE, SIMULATOR_REGISTRATION_ID } from "../../src/config";
import { type Simulator, startSimulator } from "../../src/simulator/server";
import { upstreamEnv } from "../helpers/fake-upstream";
import { nextAadhaar, nextAepsRegistration, nextMobile, registrationInput } from "../helpers/identifiers";
import {
  aepsInput,
  GENERATE_CIBIL_OTP,
  REGISTER_CIBIL_CUSTOMER,
  RESEND_AEPS_OTP,
  resultOf,
} from "../helpers/operations";
import { deletePrefixes, describeWithRedis, REDIS_URL, uniquePrefix } from "../helpers/redis";
import { LENIENT_THROTTLE, startTestStack, type TestStack } from "../helpers/stack";
import { request } from "undici";

const key = (id: string, fill: number) => `${id}:${Buffer.alloc(32, fill).toString("base64")}`;
const K1 = key("k1", 0x11);
const K2 = key("k2", 0x22);

/**
 * STORE_ENCRYPTION_KEYS rotated as docs/security.md says, replica by replica: two servers on one Redis, each with the
 * list of one step of the rotation, as they run side by side during a rolling update (or its rollback). What one
 * seals, the other must open: a repeated Idempotency-Key replays, and a CIBIL customer registered on one gets OTPs
 * through the other (their registered mobile, sealed). The one-step rotation the page described before (prepend the
 * new key) failed exactly there: reproduced with two `node dist/index.js` processes, a replay on the replica still on
 * `k1` answered PROTECTION_UNAVAILABLE ("stored value does not open").
 */
describeWithRedis("STORE_ENCRYPTION_KEYS rotation across replicas of adjacent steps", () => {
  const prefix = uniquePrefix();
  let simulator: Simulator;
  const stacks: TestStack[] = [];

  beforeAll(async () => {
    simulator = await startSimulator({
      registrationId: SIMULATOR_REGISTRATION_ID,
      companyCode: SIMULATOR_COMPANY_CODE,
    });
  });
  afterEach(async () => {
    for (const t of stacks.splice(0)) await t.stop();
  });
  afterAll(async () => {
    await simulator.close();
    await deletePrefixes([prefix]);
  });

  const replica = async (keys: string, env: Record<string, string> = {}): Promise<TestStack> => {
    const t = await startTestStack({
      ...env,
      ...upstreamEnv(simulator.url.href),
      REDIS_URL: REDIS_URL as string,
      REDIS_KEY_PREFIX: prefix,
      HMAC_SECRET: "r".repeat(32),
      STORE_ENCRYPTION_KEYS: keys,
    });
    stacks.push(t);
    return t;
  };

  /** The typename of a repeat on `b` of an Idempotency-Key first used on `a`. */
  async function replayAcross(a: TestStack, b: TestStack): Promise<string> {
    const idempotencyKey = randomUUID();
    const input = aepsInput(nextMobile(), { ...nextAepsRegistration(), aadhaar: nextAadhaar() });
    const first = await a.gql(RESEND_AEPS_OTP, input, { "idempotency-key": idempotencyKey });
    expect(resultOf(first.body, "resendAepsOtp").__typename).toBe("AepsOtpResent");
    return resultOf((await b.gql(RESEND_AEPS_OTP, input, { "idempotency-key": idempotencyKey })).body, "resendAepsOtp")
      .__typename;
  }

  /** The typename of an OTP send on `b` for a customer registered on `a`. */
  async function otpAcross(a: TestStack, b: TestStack): Promise<string> {
    const input = registrationInput();
    const registered = resultOf((await a.gql(REGISTER_CIBIL_CUSTOMER, { input })).body, "registerCibilCustomer");
    expect(registered.__typename).toBe("CibilCustomerRegistered");
    const { cibilId, accessToken } = registered as unknown as { cibilId: string; accessToken: string };
    return resultOf((await b.gql(GENERATE_CIBIL_OTP, { input: { cibilId, accessToken } })).body, "generateCibilOtp")
      .__typename;
  }

  it.each([
    ["step 1 (append the new key)", K1, `${K1},${K2}`],
    ["step 2 (move it first), or its rollback", `${K1},${K2}`, `${K2},${K1}`],
  ])("%s: each replica opens what the other sealed", async (_step, before, after) => {
    const [a, b] = [await replica(before), await replica(after)];
    expect(await replayAcross(a, b)).toBe("AepsOtpResent");
    expect(await replayAcross(b, a)).toBe("AepsOtpResent");
    expect(await otpAcross(a, b)).toBe("CibilOtpChallenge");
    expect(await otpAcross(b, a)).toBe("CibilOtpChallenge");
  });

  it("in one step (prepend the new key, the old procedure), the replica not yet updated refuses: why two steps", async () => {
    const [old, updated] = [await replica(K1), await replica(`${K2},${K1}`)];
    // The repeat's request went ahead on the updated replica: OUTCOME_UNKNOWN, not "nothing was sent" (a new key
    // would send again); the send of a customer registered there is refused (its mobile unread).
    expect(await replayAcross(updated, old)).toBe("OutcomeUnknown");
    expect(await otpAcross(updated, old)).toBe("ProtectionUnavailable");
  });

  it("after step 2, a registered mobile sealed with the old key is sealed again as read, and counted: then k1 can go", async () => {
    /** aopay_store_older_key_opens_total by store. */
    const olderOpens = async (t: TestStack): Promise<Record<string, number>> => {
      const page = await (await request(t.stack.app.metricsUrl as string)).body.text();
      const counts: Record<string, number> = {};
      for (const [, store, n] of page.matchAll(/^aopay_store_older_key_opens_total\{store="(\w+)"\} (\d+)$/gm))
        counts[store] = Number(n);
      return counts;
    };
    const before = await replica(K1, LENIENT_THROTTLE);
    const input = registrationInput();
    const registered = resultOf((await before.gql(REGISTER_CIBIL_CUSTOMER, { input })).body, "registerCibilCustomer");
    const { cibilId, accessToken } = registered as unknown as { cibilId: string; accessToken: string };
    const idempotencyKey = randomUUID();
    const aeps = aepsInput(nextMobile(), { ...nextAepsRegistration(), aadhaar: nextAadhaar() });
    await before.gql(RESEND_AEPS_OTP, aeps, { "idempotency-key": idempotencyKey });
    const generate = async (t: TestStack) =>
      resultOf((await t.gql(GENERATE_CIBIL_OTP, { input: { cibilId, accessToken } })).body, "generateCibilOtp")
        .__typename;
    // Step 2 done: k2 seals, k1 still opens. The send opens the record with k1 (counted) and seals it again with k2;
    // the replay opens its result with k1 (counted: it expires with IDEMPOTENCY_TTL_SECONDS, nothing rewrites it).
    const rotated = await replica(`${K2},${K1}`, LENIENT_THROTTLE);
    expect(await olderOpens(rotated)).toEqual({ idempotency: 0, registered_mobile: 0 });
    expect(await generate(rotated)).toBe("CibilOtpChallenge");
    const replayed = await rotated.gql(RESEND_AEPS_OTP, aeps, { "idempotency-key": idempotencyKey });
    expect(resultOf(replayed.body, "resendAepsOtp").__typename).toBe("AepsOtpResent");
    expect(await olderOpens(rotated)).toEqual({ idempotency: 1, registered_mobile: 1 });
    expect(await generate(rotated)).toBe("CibilOtpChallenge");
    expect(await olderOpens(rotated)).toEqual({ idempotency: 1, registered_mobile: 1 });
    // k1 dropped: the record read during the rotation opens (it answered PROTECTION_UNAVAILABLE, the record needing
    // k1 for its 90 days), and the send still counts on the registered mobile.
    const after = await replica(K2, { ...LENIENT_THROTTLE, OTP_WINDOW_MAX: "3" });
    expect(await generate(after)).toBe("CibilOtpChallenge");
    expect(
      resultOf(
        (
          await after.gql(
            RESEND_AEPS_OTP,
            aepsInput(input.mobile, { ...nextAepsRegistration(), aadhaar: nextAadhaar() }),
          )
        ).body,
        "resendAepsOtp",
      ),
    ).toMatchObject({ __typename: "OtpThrottled", code: "OTP_LIMIT_REACHED" });
  });
});
