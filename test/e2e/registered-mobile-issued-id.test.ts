import { SIMULATOR_REGISTRATION_ID } from "../../src/config";
import { type Simulator, startSimulator } from "../../src/simulator/server";
import { upstreamEnv } from "../helpers/fake-upstream";
import { nextMobile, registrationInput } from "../helpers/identifiers";
import { GENERATE_CIBIL_OTP, REGISTER_CIBIL_CUSTOMER, resultOf } from "../helpers/operations";
import { describeUnless, storeBackends } from "../helpers/redis";
import { DEFAULT_THROTTLE, stackPerTest, type TestStack } from "../helpers/stack";

/**
 * A registration whose CIBIL id holds a numeric partner credential among its digits (company code 4471 inside
 * 800447102). Such an id was scrubbed for the client to `800[REDACTED]02` (pii/scrub.ts `identifier`), which it could
 * not send back: the customer's flow ended at GenerateOTP. And the mobile was remembered under that copy, which no
 * CIBIL id canonicalises to ("CIBIL id not digits"): whoever could tell the id anyway (AOPay's ids are numbers, the
 * simulator's sequential) sent GenerateOTP to it budgeted by the id alone, a second SMS to a victim's mobile inside
 * its cooldown. Now a short number counts in an id only as a whole run of digits (SHORT_NUMBER), so the id is handed
 * on as issued, and the mobile is remembered under the id AOPay issued whatever the client is shown
 * (test/e2e/cibil-registered-mobile.test.ts is the case without the credential). In memory and in Redis.
 */
const COMPANY_CODE = "4471";
/** Two customers' CIBIL ids, in the order AOPay issues them: the second holds the company code among its digits. */
const IDS = ["800000511", "800447102"];

describe.each(storeBackends("issued-id-secret-0123456789abcdef0123"))("%s", (_name, skip, backendEnv) => {
  describeUnless(skip, "a registration's CIBIL id holding a partner credential", () => {
    const stack = stackPerTest(backendEnv);
    let simulator: Simulator;
    beforeEach(async () => {
      let issued = 0;
      simulator = await startSimulator({
        registrationId: SIMULATOR_REGISTRATION_ID,
        companyCode: COMPANY_CODE,
        ids: { cibilId: () => IDS[issued++] },
      });
    });
    afterEach(async () => {
      await simulator.close();
    });

    const register = async (t: TestStack, mobile: string) =>
      resultOf(
        (await t.gql(REGISTER_CIBIL_CUSTOMER, { input: registrationInput({ mobile }) })).body,
        "registerCibilCustomer",
      );

    it("the id is handed on as issued, and a send to it meets the mobile's cooldown", async () => {
      const t = await stack.start({
        ...DEFAULT_THROTTLE,
        ...upstreamEnv(simulator.url.href),
        AOPAY_COMPANY_CODE: COMPANY_CODE,
      });
      const victim = nextMobile();
      const first = await register(t, victim);
      const second = await register(t, victim);
      expect(first).toMatchObject({ __typename: "CibilCustomerRegistered", cibilId: IDS[0] });
      // The id as issued: the code's digits inside a longer number are not the code, and the client can go on with it.
      expect(second).toMatchObject({ __typename: "CibilCustomerRegistered", cibilId: IDS[1] });
      expect(t.logs.text()).not.toContain("CIBIL id not digits");
      // No log line holds the id with the credential in clear (log lines redact a secret wherever it appears).
      expect(t.logs.text()).not.toContain(IDS[1]);

      const generate = async (cibilId: string, accessToken: unknown) =>
        resultOf((await t.gql(GENERATE_CIBIL_OTP, { input: { cibilId, accessToken } })).body, "generateCibilOtp");
      expect((await generate(IDS[0], first.accessToken)).__typename).toBe("CibilOtpChallenge");
      // The second customer's id, as the client was shown it: the victim's mobile is in its cooldown.
      expect(await generate(String(second.cibilId), second.accessToken)).toMatchObject({
        __typename: "OtpThrottled",
        code: "OTP_COOLDOWN",
        scope: "DESTINATION",
      });
      expect(simulator.calls("cibil.generateOtp")).toBe(1);
    });
  });
});
