import { type FakeUpstream, startFakeUpstream, upstreamEnv } from "../helpers/fake-upstream";
import { modelledAopay } from "../helpers/modelled-aopay";
import { nextAadhaar, nextAepsRegistration, nextCibilId, nextMobile, registrationInput } from "../helpers/identifiers";
import {
  aepsInput,
  GENERATE_CIBIL_OTP,
  REGISTER_CIBIL_CUSTOMER,
  RESEND_AEPS_OTP,
  resultOf,
  type Result,
} from "../helpers/operations";
import { storeBackends } from "../helpers/redis";
import { DEFAULT_THROTTLE, stackPerTest, type TestStack } from "../helpers/stack";

const BACKENDS = storeBackends("t".repeat(32));
/**
 * GenerateOTP takes the CIBIL id and the customer's access token (docs/upstream/aopay-api.md §1.2), and which of the
 * two AOPay finds the customer by, its docs do not say (src/graphql/guarded-mutations.ts CIBIL_TOKEN). This AOPay
 * finds the customer by the token: the SMS goes to the mobile of the customer the token was issued to, whatever id
 * comes with it; its ids from 8,100,000 (registration-race's from 8,000,000).
 */
const BY_TOKEN = { findsBy: "token", firstCibilId: 8_100_000 } as const;

describe.each(BACKENDS)(
  "generateCibilOtp: the registered mobile is found by the token too (%s)",
  (_name, skip, env) => {
    // Before the token was linked to its id (registered-mobiles.ts `sending`), the registered mobile was recalled by
    // the CIBIL id only: three SMS to the victim within a second, in memory and in Redis.
    const maybe = skip === null ? it : it.skip;
    let upstream: FakeUpstream;
    beforeEach(async () => {
      upstream = await startFakeUpstream();
    });
    const stacks = stackPerTest(env);
    afterEach(() => upstream.close()); // after the stack has stopped

    const register = async (s: TestStack, mobile: string) => {
      const result = resultOf(
        (await s.gql(REGISTER_CIBIL_CUSTOMER, { input: registrationInput({ mobile }) })).body,
        "registerCibilCustomer",
      );
      expect(result.__typename).toBe("CibilCustomerRegistered");
      return { cibilId: result.cibilId as string, accessToken: result.accessToken as string };
    };
    const generate = async (s: TestStack, input: { cibilId: string; accessToken: string }): Promise<Result> =>
      resultOf((await s.gql(GENERATE_CIBIL_OTP, { input })).body, "generateCibilOtp");

    maybe(
      "three customers registered with one victim's mobile, each token sent with an id it was not issued with: one SMS",
      async () => {
        const { sms } = modelledAopay(upstream, BY_TOKEN);
        const s = await stacks.start({ ...DEFAULT_THROTTLE, ...upstreamEnv(upstream) });
        const victim = nextMobile();
        const customers = [await register(s, victim), await register(s, victim), await register(s, victim)];
        expect((await generate(s, customers[0])).__typename).toBe("CibilOtpChallenge");
        // Each id with its own token meets the victim's cooldown (its record); each token with an id of no record did
        // not: a budget of its own, and AOPay sent to the token's customer.
        const sends = [];
        for (const { accessToken } of customers.slice(1))
          sends.push(await generate(s, { cibilId: nextCibilId(), accessToken }));
        expect({ sms, sends: sends.map((r) => [r.__typename, r.code]) }).toEqual({
          sms: [victim],
          sends: [
            ["OtpThrottled", "OTP_COOLDOWN"],
            ["OtpThrottled", "OTP_COOLDOWN"],
          ],
        });
      },
    );

    maybe(
      "a token sent with the id of a customer registered with another mobile: budgeted on both mobiles, the victim's too",
      async () => {
        const { sms } = modelledAopay(upstream, BY_TOKEN);
        const s = await stacks.start({ ...DEFAULT_THROTTLE, ...upstreamEnv(upstream) });
        const victim = nextMobile();
        const victims = await register(s, victim);
        const own = await register(s, nextMobile());
        // The victim has just had an SMS (an AEPS resend): its cooldown runs.
        const aeps = aepsInput(victim, { ...nextAepsRegistration(), aadhaar: nextAadhaar() });
        expect(resultOf((await s.gql(RESEND_AEPS_OTP, aeps)).body, "resendAepsOtp").__typename).toBe("AepsOtpResent");
        // The caller's own id (its record: a mobile of its own) with the victim's token, never sent before: AOPay,
        // finding the customer by the token, would send to the victim. Budgeted on the id's mobile alone, it went.
        const sent = await generate(s, { cibilId: own.cibilId, accessToken: victims.accessToken });
        expect({ sms, sent: [sent.__typename, sent.code, sent.scope] }).toEqual({
          sms: [],
          sent: ["OtpThrottled", "OTP_COOLDOWN", "DESTINATION"],
        });
        // Its own token with its own id: its own mobile, whose budgets the refusal gave back.
        expect((await generate(s, own)).__typename).toBe("CibilOtpChallenge");
      },
    );

    maybe(
      "a token whose id is another registration of the same mobile: that mobile is budgeted once per send, not twice",
      async () => {
        const { sms } = modelledAopay(upstream, BY_TOKEN);
        // Two sends to a mobile in the window, one second apart: counted twice per send, the second was refused.
        const s = await stacks.start({
          ...DEFAULT_THROTTLE,
          OTP_COOLDOWN_SECONDS: "1",
          OTP_WINDOW_MAX: "2",
          ...upstreamEnv(upstream),
        });
        const victim = nextMobile();
        const [a, b, c] = [await register(s, victim), await register(s, victim), await register(s, victim)];
        const results: Array<[unknown, unknown]> = [];
        // Each id and token sent once: only the mobile's budgets can refuse.
        for (const input of [
          { cibilId: a.cibilId, accessToken: b.accessToken },
          { cibilId: c.cibilId, accessToken: c.accessToken },
          { cibilId: b.cibilId, accessToken: a.accessToken },
        ]) {
          const result = await generate(s, input);
          results.push([result.__typename, result.code]);
          await new Promise((resolve) => setTimeout(resolve, 1_100));
        }
        expect({ sms, results }).toEqual({
          sms: [victim, victim],
          results: [
            ["CibilOtpChallenge", undefined],
            ["CibilOtpChallenge", undefined],
            ["OtpThrottled", "OTP_LIMIT_REACHED"],
          ],
        });
      },
    );
  },
);
