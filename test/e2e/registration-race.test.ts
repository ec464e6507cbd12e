import { request } from "undici";
import type { RegisterCibilCustomerMutation } from "../../client/src/generated/graphql";
import { createSdk, type Sdk } from "../../client/src/sdk";
import { type FakeUpstream, startFakeUpstream, upstreamEnv } from "../helpers/fake-upstream";
import { until } from "../helpers/holding-upstream";
import { modelledAopay } from "../helpers/modelled-aopay";
import { nextAadhaar, nextAepsRegistration, nextMobile, nextPan, registrationInput } from "../helpers/identifiers";
import {
  aepsInput,
  GENERATE_CIBIL_OTP,
  REGISTER_CIBIL_CUSTOMER,
  RESEND_AEPS_OTP,
  resultOf,
  type Result,
} from "../helpers/operations";
import type { FailureCode } from "../../src/graphql/failures/failure-code.enum";
import { FAILURE_MESSAGES } from "../../src/graphql/failures/to-failure";
import { SEND_MARK_TTL_MS } from "../../src/protection/registered-mobiles";
import { storeBackends } from "../helpers/redis";
import { DEFAULT_THROTTLE, stackPerTest, type TestStack } from "../helpers/stack";

/**
 * Registrations racing OTP sends (docs/security.md "Which destinations a send counts on"). AOPay's GenerateOTP sends
 * to the customer's registered mobile (docs/upstream/aopay-api.md §1, §1.2), and a later registration of the same
 * customer replaces that mobile (docs/security.md; when a registration takes effect at AOPay, its docs do not say).
 * The fake AOPay here models that: one CIBIL id per PAN, its mobile set when a registration ARRIVES, the answer held
 * as long as the test says; GenerateOTP's SMS goes to the customer's mobile at that moment (`sms`).
 * With the mobile learnt only from a registration's answer, a GenerateOTP sent while a re-registration was at AOPay
 * reached the new mobile on the old mobile's budget: an audit re-registered six PANs with one victim's number and
 * sent a GenerateOTP per CIBIL id meanwhile: six SMS to the victim within a second, in memory and in Redis alike.
 */

const BACKENDS = storeBackends("r".repeat(32));
/** AOPay finding the customer by the CIBIL id, its ids from 8,000,000 (cibil-token-mobile's from 8,100,000). */
const BY_ID = { findsBy: "cibilId", firstCibilId: 8_000_000 } as const;

/**
 * A registration refused by a registered-mobile rule, with every store answering: its own member and code, never
 * ProtectionUnavailable (which tells a client the store is down, and an operator too: a "store unavailable" error
 * line and aopay_protection_unavailable_total, which the sample alerts page on). Until the refusals had a code of
 * their own they were answered, logged and counted exactly as a Redis outage. `result` is the generated client's
 * answer as text; `again` sends the same registration with the typed SDK, which is refused the same way and reads the
 * wait from its typed result (FailureFields once left RegistrationRefused.retryAfterSeconds out: a client could not
 * tell a 2 s wait from "do not retry").
 */
async function expectRefusal(
  s: TestStack,
  result: Result,
  again: (sdk: Sdk) => Promise<RegisterCibilCustomerMutation["registerCibilCustomer"] | undefined>,
  code: "OTP_SEND_IN_PROGRESS" | "MOBILE_LIMIT_REACHED",
  /** What the customer sent: none of it in the log, the answer or the metrics (the PAN and mobiles). */
  pii: string[],
  /** The customer's CIBIL id (7 digits here): not in the log or the answer (the metrics page has numbers of its own). */
  cibilId: string,
): Promise<void> {
  // A send under way ends within one upstream call; a fifth mobile stays refused until the record expires.
  const retryable = code === "OTP_SEND_IN_PROGRESS";
  const retryAfterSeconds = retryable ? 2 : null;
  expect(result).toEqual({
    __typename: "RegistrationRefused",
    code,
    message: expect.any(String),
    retryable,
    retryAfterSeconds,
  });
  const waited = await again(createSdk({ url: s.graphqlUrl }));
  // Narrowed by __typename, the wait is a typed field of the generated client's result.
  const wait = waited?.__typename === "RegistrationRefused" ? waited.retryAfterSeconds : "not refused";
  expect({ wait, waited }).toEqual({ wait: retryAfterSeconds, waited: result });
  const logs = s.logs.text();
  expect(logs).not.toMatch(/protection store unavailable|shared state unavailable|registered mobile:/);
  // Logged as what it is: each access line's result names the code, and no error line is written.
  const lines = s.logs.records().filter((r) => String(r.result ?? "").includes(code));
  expect(lines).toEqual([
    expect.objectContaining({ msg: "request completed", operation: "RegisterCibilCustomer" }),
    expect.objectContaining({ msg: "request completed", operation: "RegisterCibilCustomer" }),
  ]);
  expect(s.logs.records().filter((r) => r.level === "error" || r.level === "fatal")).toEqual([]);
  const metrics = await (await request(s.stack.app.metricsUrl as string)).body.text();
  expect(metrics).toMatch(
    new RegExp(`^aopay_protection_refusals_total\\{operation="registerCibilCustomer",code="${code}"\\} 2$`, "m"),
  );
  expect(metrics).not.toMatch(/^aopay_protection_unavailable_total\{[^}]*\} [1-9]/m);
  for (const value of pii) {
    expect(logs).not.toContain(value);
    expect(JSON.stringify([result, waited])).not.toContain(value);
    expect(metrics).not.toContain(value);
  }
  expect(logs).not.toContain(cibilId);
  expect(JSON.stringify([result, waited])).not.toContain(cibilId);
}

/**
 * A refusal by a mark or hold left to expire (its call's outcome unknown), a few seconds after it started: retryable,
 * told the mark's time left in whole seconds (SEND_MARK_TTL_MS from the call's start, rounded up), not 2 s.
 */
function expectLingering(refusal: Result): void {
  const wait = refusal.retryAfterSeconds as number;
  expect({ retryable: refusal.retryable, wait, inRange: wait > SEND_MARK_TTL_MS / 1000 - 15 }).toEqual({
    retryable: true,
    wait: expect.any(Number),
    inRange: true,
  });
  expect(wait).toBeLessThanOrEqual(SEND_MARK_TTL_MS / 1000);
  // Nor told in words that nothing is running and it is a moment's wait ("being processed right now ... try again in
  // a moment", with 120 s to wait and nothing under way).
  expect(refusal.message).toBe(FAILURE_MESSAGES[refusal.code as FailureCode]);
  expect(refusal.message).not.toMatch(/moment|right now|being (sent|processed)/i);
}

describe.each(BACKENDS)("registrations racing GenerateOTP (%s)", (_name, skip, backendEnv) => {
  const maybe = skip === null ? it : it.skip;
  let upstream: FakeUpstream;
  beforeEach(async () => {
    upstream = await startFakeUpstream();
  });
  const stacks = stackPerTest(backendEnv);
  afterEach(() => upstream.close()); // after the stack has stopped
  const start = () => stacks.start({ ...DEFAULT_THROTTLE, ...upstreamEnv(upstream) });
  const registrationsReceived = () => upstream.calls.filter((c) => c.path.endsWith("/registeration")).length;

  async function register(
    s: TestStack,
    pan: string,
    mobile: string,
  ): Promise<{ cibilId: string; accessToken: string }> {
    const input = registrationInput({ pan, mobile });
    const result = resultOf((await s.gql(REGISTER_CIBIL_CUSTOMER, { input })).body, "registerCibilCustomer");
    expect(result.__typename).toBe("CibilCustomerRegistered");
    return { cibilId: result.cibilId as string, accessToken: result.accessToken as string };
  }
  const generate = async (s: TestStack, customer: { cibilId: string; accessToken: string }): Promise<Result> =>
    resultOf((await s.gql(GENERATE_CIBIL_OTP, { input: customer })).body, "generateCibilOtp");

  maybe(
    "six PANs re-registered with one victim's mobile, a GenerateOTP per CIBIL id while AOPay holds the registrations: one SMS reaches the victim",
    async () => {
      const victim = nextMobile();
      const { sms } = modelledAopay(upstream, { ...BY_ID, holdMs: (mobile) => (mobile === victim ? 1_000 : 0) });
      const s = await start();
      // Each PAN first registered with a number of its own (a fresh budget each): the attacker learns its CIBIL id.
      const customers: Array<{ pan: string; cibilId: string; accessToken: string }> = [];
      for (let i = 0; i < 6; i++) {
        const pan = nextPan();
        customers.push({ pan, ...(await register(s, pan, nextMobile())) });
      }
      expect(new Set(customers.map((c) => c.cibilId)).size).toBe(6);
      // Re-registered with the victim's number: all six at AOPay (their mobile already switched), none answered yet.
      const reRegistered = Promise.all(customers.map((c) => register(s, c.pan, victim)));
      await until("the six re-registrations at AOPay", () => registrationsReceived() === 12);
      const sends = await Promise.all(
        customers.map(({ cibilId, accessToken }) => generate(s, { cibilId, accessToken })),
      );
      await reRegistered;

      expect(sms.filter((m) => m === victim)).toHaveLength(1);
      expect(sends.filter((r) => r.__typename === "CibilOtpChallenge")).toHaveLength(1);
      for (const refused of sends.filter((r) => r.__typename !== "CibilOtpChallenge"))
        expect(refused).toMatchObject({ __typename: "OtpThrottled", code: "OTP_COOLDOWN", scope: "DESTINATION" });
    },
  );

  maybe(
    "two registrations of one PAN answered in the other order than AOPay took them: sends meet both mobiles' budgets",
    async () => {
      const [first, second] = [nextMobile(), nextMobile()];
      // AOPay takes `first`, then `second` (its mobile from then on), but answers `second` first.
      const { sms } = modelledAopay(upstream, { ...BY_ID, holdMs: (mobile) => (mobile === first ? 600 : 0) });
      const s = await start();
      const pan = nextPan();
      // The SMS's phone has just had one (an AEPS resend): its cooldown runs.
      const aeps = await s.gql(
        RESEND_AEPS_OTP,
        aepsInput(second, { ...nextAepsRegistration(), aadhaar: nextAadhaar() }),
      );
      expect(resultOf(aeps.body, "resendAepsOtp").__typename).toBe("AepsOtpResent");

      // Registered here once before (its CIBIL id known): a second registration while the PAN's first is at AOPay is
      // refused (the next test), so the race is between re-registrations, whose mobiles count before AOPay is called.
      await register(s, pan, nextMobile());
      const one = register(s, pan, first);
      await until("the first re-registration at AOPay", () => registrationsReceived() === 2);
      const customer = await register(s, pan, second);
      await one;
      expect(await generate(s, customer)).toMatchObject({ __typename: "OtpThrottled", code: "OTP_COOLDOWN" });
      expect(sms).toEqual([]);
    },
  );

  maybe(
    "a PAN's first registration still at AOPay: a second one (the victim's mobile) is refused before AOPay, so a GenerateOTP sent once the first answers cannot reach the victim on the first mobile's budget",
    async () => {
      const [own, victim] = [nextMobile(), nextMobile()];
      // AOPay takes `own`, then `victim` (its mobile from then on), and answers `own` first while it holds `victim`.
      const { sms } = modelledAopay(upstream, { ...BY_ID, holdMs: (mobile) => (mobile === victim ? 1_500 : 300) });
      const s = await start();
      // The victim's phone has just had an SMS (an AEPS resend): its cooldown runs for 60 s.
      const aeps = await s.gql(
        RESEND_AEPS_OTP,
        aepsInput(victim, { ...nextAepsRegistration(), aadhaar: nextAadhaar() }),
      );
      expect(resultOf(aeps.body, "resendAepsOtp").__typename).toBe("AepsOtpResent");
      const pan = nextPan();
      const first = register(s, pan, own);
      await until("the first registration at AOPay", () => registrationsReceived() === 1);
      // Neither registration's PAN was linked here when it started: the first is not answered yet.
      const input = registrationInput({ pan, mobile: victim });
      const second = s.gql(REGISTER_CIBIL_CUSTOMER, { input });
      const reached = await Promise.race([
        until("the second registration at AOPay", () => registrationsReceived() === 2, 1_000).then(() => true),
        second.then(() => false),
      ]);
      // The first is answered (its CIBIL id and token): the attacker asks for an OTP at once.
      const customer = await first;
      const sent = await generate(s, customer);
      const refused = resultOf((await second).body, "registerCibilCustomer");
      // Sent before the fix: AOPay's customer had the victim's mobile, the record only `own`: a second SMS to the
      // victim inside its cooldown.
      expect({ reached, sms, refused: refused.__typename }).toEqual({
        reached: false,
        sms: [own],
        refused: "RegistrationRefused",
      });
      expect(sent.__typename).toBe("CibilOtpChallenge");
      expect(refused).toMatchObject({ code: "REGISTRATION_IN_PROGRESS", retryable: true, retryAfterSeconds: 2 });
      // Once the first has answered, the second goes, its mobile added before AOPay: the next send meets the victim's
      // budget (and the CIBIL id's cooldown).
      const again = resultOf((await s.gql(REGISTER_CIBIL_CUSTOMER, { input })).body, "registerCibilCustomer");
      expect(again).toMatchObject({ __typename: "CibilCustomerRegistered", cibilId: customer.cibilId });
      expect(await generate(s, customer)).toMatchObject({ __typename: "OtpThrottled", code: "OTP_COOLDOWN" });
      expect(sms).toEqual([own]);
    },
  );

  maybe(
    "a PAN's first registration AOPay answered (a refusal) frees the PAN; one whose outcome is unknown holds it (AOPay may still take it)",
    async () => {
      const [refusedMobile, slow, victim] = [nextMobile(), nextMobile(), nextMobile()];
      modelledAopay(upstream, {
        ...BY_ID,
        holdMs: (mobile) => (mobile === slow ? 2_000 : 0),
        refused: new Set([refusedMobile]),
      });
      const s = await stacks.start({ ...DEFAULT_THROTTLE, ...upstreamEnv(upstream), AOPAY_DEADLINE_MS: "300" });
      const pan = nextPan();
      const attempt = async (mobile: string) =>
        resultOf(
          (await s.gql(REGISTER_CIBIL_CUSTOMER, { input: registrationInput({ pan, mobile }) })).body,
          "registerCibilCustomer",
        );
      expect(await attempt(refusedMobile)).toMatchObject({ __typename: "UpstreamRejected" });
      expect(await attempt(slow)).toMatchObject({ __typename: "OutcomeUnknown" });
      const held = await attempt(victim);
      expect(held).toMatchObject({ __typename: "RegistrationRefused", code: "REGISTRATION_IN_PROGRESS" });
      // Told how long the hold still lives (SEND_MARK_TTL_MS from its start, whole seconds rounded up), not the 2 s
      // of a registration under way: retried after 2 s it was refused again, for two minutes.
      expectLingering(held);
      expect(registrationsReceived()).toBe(2);
    },
  );

  maybe(
    "registrations AOPay refuses cannot push the phone it sends to out of the record: one mobile too many is refused before AOPay",
    async () => {
      const victim = nextMobile();
      const junk = [nextMobile(), nextMobile(), nextMobile(), nextMobile()];
      const { sms } = modelledAopay(upstream, { ...BY_ID, refused: new Set(junk) });
      const s = await start();
      const aeps = await s.gql(
        RESEND_AEPS_OTP,
        aepsInput(victim, { ...nextAepsRegistration(), aadhaar: nextAadhaar() }),
      );
      expect(resultOf(aeps.body, "resendAepsOtp").__typename).toBe("AepsOtpResent");
      const pan = nextPan();
      const customer = await register(s, pan, victim);

      const input = (mobile: string) => ({ input: registrationInput({ pan, mobile }) });
      const attempt = async (mobile: string) =>
        resultOf((await s.gql(REGISTER_CIBIL_CUSTOMER, input(mobile))).body, "registerCibilCustomer");
      // Three refused by AOPay: the record now has four mobiles (each added when sent).
      for (const mobile of junk.slice(0, 3))
        expect((await attempt(mobile)).__typename).not.toBe("CibilCustomerRegistered");
      expect(registrationsReceived()).toBe(4);
      // A fifth is refused here, before AOPay, as what it is; the victim's phone is still in the record.
      const again = async (sdk: Sdk) => (await sdk.registerCibilCustomer(input(junk[3]))).data?.registerCibilCustomer;
      await expectRefusal(
        s,
        await attempt(junk[3]),
        again,
        "MOBILE_LIMIT_REACHED",
        [pan, victim, ...junk],
        customer.cibilId,
      );
      expect(registrationsReceived()).toBe(4);
      // One already in the record may register again.
      expect((await attempt(victim)).__typename).toBe("CibilCustomerRegistered");

      expect(await generate(s, customer)).toMatchObject({ __typename: "OtpThrottled", code: "OTP_COOLDOWN" });
      expect(sms).toEqual([]);
    },
  );

  maybe(
    "a re-registration sent while a GenerateOTP to its CIBIL id is at AOPay is refused before AOPay; afterwards it goes",
    async () => {
      const [own, victim] = [nextMobile(), nextMobile()];
      const { sms } = modelledAopay(upstream, { ...BY_ID, generateMs: 800 });
      const s = await start();
      const pan = nextPan();
      const customer = await register(s, pan, own);
      const sending = generate(s, customer);
      await until("the GenerateOTP at AOPay", () => upstream.calls.some((c) => c.path.endsWith("/GenerateOTP")));
      const input = registrationInput({ pan, mobile: victim });
      // With an Idempotency-Key: the refusal frees it (nothing was sent), so the same key may try again.
      const key = { "idempotency-key": "registration-race-0001" };
      const during = await s.gql(REGISTER_CIBIL_CUSTOMER, { input }, key);
      const again = async (sdk: Sdk) => (await sdk.registerCibilCustomer({ input })).data?.registerCibilCustomer;
      await expectRefusal(
        s,
        resultOf(during.body, "registerCibilCustomer"),
        again,
        "OTP_SEND_IN_PROGRESS",
        [pan, own, victim],
        customer.cibilId,
      );
      expect(registrationsReceived()).toBe(1);
      expect((await sending).__typename).toBe("CibilOtpChallenge");
      expect(sms).toEqual([own]);
      // The send is over: the registration goes with the same key (not replayed), and the next send counts on both
      // mobiles.
      const after = await s.gql(REGISTER_CIBIL_CUSTOMER, { input }, key);
      expect(after.headers["idempotent-replayed"]).toBeUndefined();
      expect(resultOf(after.body, "registerCibilCustomer")).toMatchObject({
        __typename: "CibilCustomerRegistered",
        cibilId: customer.cibilId,
      });
    },
  );

  maybe(
    "a GenerateOTP given up on while AOPay still holds it (OutcomeUnknown) keeps its CIBIL id marked: a re-registration with the victim's mobile meanwhile is refused, so the late SMS cannot reach the victim",
    async () => {
      const [own, victim] = [nextMobile(), nextMobile()];
      // AOPay answers GenerateOTP after 3 s, sending to the mobile the customer has then.
      const { sms } = modelledAopay(upstream, { ...BY_ID, generateMs: 3_000 });
      const s = await start();
      // The victim's phone has just had an SMS (an AEPS resend): its cooldown runs for 60 s.
      const aeps = await s.gql(
        RESEND_AEPS_OTP,
        aepsInput(victim, { ...nextAepsRegistration(), aadhaar: nextAadhaar() }),
      );
      expect(resultOf(aeps.body, "resendAepsOtp").__typename).toBe("AepsOtpResent");
      const pan = nextPan();
      const customer = await register(s, pan, own);
      // The client gives up on its GenerateOTP after 1.5 s (its own deadline): written, not answered, OutcomeUnknown.
      // AOPay still holds it, as it may still take a registration whose outcome is unknown (whose PAN stays held).
      const cut = await s.gql(GENERATE_CIBIL_OTP, { input: customer }, { "x-request-timeout-ms": "1500" });
      expect(resultOf(cut.body, "generateCibilOtp")).toMatchObject({ __typename: "OutcomeUnknown" });
      const during = resultOf(
        (await s.gql(REGISTER_CIBIL_CUSTOMER, { input: registrationInput({ pan, mobile: victim }) })).body,
        "registerCibilCustomer",
      );
      await until("the GenerateOTP answered", () => sms.length === 1);
      // Before: the mark was dropped with the client's answer, the registration reached AOPay and switched the
      // customer to the victim's mobile, and the GenerateOTP still at AOPay sent there: a second SMS to the victim
      // inside its cooldown.
      expect({ during: during.__typename, code: during.code, sms, registrations: registrationsReceived() }).toEqual({
        during: "RegistrationRefused",
        code: "OTP_SEND_IN_PROGRESS",
        sms: [own],
        registrations: 1,
      });
      // Told how long the mark still lives, not the 2 s of a send under way (refused again for two minutes after it).
      expectLingering(during);
    },
  );
});
