import { SIMULATOR_REGISTRATION_ID } from "../../src/config";
import { type Simulator, startSimulator } from "../../src/simulator/server";
import { upstreamEnv } from "../helpers/fake-upstream";
import { nextMobile, registrationInput } from "../helpers/identifiers";
import { GENERATE_CIBIL_OTP, REGISTER_CIBIL_CUSTOMER, resultOf } from "../helpers/operations";
import { describeUnless, storeBackends } from "../helpers/redis";
import { DEFAULT_THROTTLE, stackPerTest, type TestStack } from "../helpers/stack";

/**
 * The mobile a registration names is remembered under the CIBIL id AOPay issued, not under the copy of it the client
 * is shown. That copy is scrubbed of the partner credentials and of the request's own values wherever they appear in
 * it (pii/scrub.ts `identifier`): an id holding one (a numeric company code among its digits) reached the client as
 * `800[REDACTED]02`, and the mobile was remembered under that, which no CIBIL id canonicalises to: "CIBIL id not
 * digits", nothing remembered. Whoever could tell the id anyway (AOPay's ids are numbers, the simulator's sequential:
 * the one before plus one) sent GenerateOTP to it budgeted by the id alone, so a second PAN registered with a victim's
 * mobile sent a second SMS to it inside its cooldown (test/e2e/cibil-registered-mobile.test.ts is the case without
 * the credential). In memory and in Redis.
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

    it("its mobile is remembered under the id AOPay issued: a send to that id meets the mobile's cooldown", async () => {
      const t = await stack.start({
        ...DEFAULT_THROTTLE,
        ...upstreamEnv(simulator.url.href),
        AOPAY_COMPANY_CODE: COMPANY_CODE,
      });
      const victim = nextMobile();
      const first = await register(t, victim);
      const second = await register(t, victim);
      expect(first).toMatchObject({ __typename: "CibilCustomerRegistered", cibilId: IDS[0] });
      // What the client is shown is unchanged: a partner credential never reaches it, even inside an id.
      expect(second.__typename).toBe("CibilCustomerRegistered");
      expect(second.cibilId).not.toContain(COMPANY_CODE);
      expect(t.logs.text()).not.toContain("CIBIL id not digits");

      const generate = async (cibilId: string, accessToken: unknown) =>
        resultOf((await t.gql(GENERATE_CIBIL_OTP, { input: { cibilId, accessToken } })).body, "generateCibilOtp");
      expect((await generate(IDS[0], first.accessToken)).__typename).toBe("CibilOtpChallenge");
      // The id the client could not be shown, told anyway: the victim's mobile is in its cooldown.
      expect(await generate(IDS[1], second.accessToken)).toMatchObject({
        __typename: "OtpThrottled",
        code: "OTP_COOLDOWN",
        scope: "DESTINATION",
      });
      expect(simulator.calls("cibil.generateOtp")).toBe(1);
    });
  });
});
