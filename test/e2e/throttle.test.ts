import { hashApiKey } from "../../src/auth/authenticator";
import { upstreamEnv } from "../helpers/fake-upstream";
import { freePort } from "../helpers/free-port";
import { nextAepsRegistration } from "../helpers/identifiers";
import {
  aepsInput,
  cibilInput,
  cibilToken,
  GENERATE_CIBIL_OTP,
  RESEND_AEPS_OTP,
  resultOf,
  SUBMIT_CIBIL_OTP,
  VERIFY_AEPS_OTP,
} from "../helpers/operations";
import { DEFAULT_THROTTLE, startTestStack, TEST_API_KEYS_ENTRY, TEST_API_KEY, type TestStack } from "../helpers/stack";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("OTP throttling through the server (docs/security-requirements.md B1-B4)", () => {
  let t: TestStack | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });
  const cibil = async (stack: TestStack, cibilId: string, headers: Record<string, string> = {}) =>
    resultOf((await stack.gql(GENERATE_CIBIL_OTP, cibilInput(cibilId), headers)).body, "generateCibilOtp");

  it("B1: a second send to the same destination within the cooldown is refused before AOPay", async () => {
    t = await startTestStack(DEFAULT_THROTTLE);
    expect((await cibil(t, "700000001")).__typename).toBe("CibilOtpChallenge");
    const second = await cibil(t, "700000001");
    expect(second).toMatchObject({
      __typename: "OtpThrottled",
      code: "OTP_COOLDOWN",
      scope: "DESTINATION",
      retryable: true,
    });
    expect(second.retryAfterSeconds).toBeGreaterThanOrEqual(58);
    expect(second.retryAfterSeconds).toBeLessThanOrEqual(60);
    expect(t.simulator?.calls()).toBe(1);
  });

  it("B1: after the cooldown the next send goes through", async () => {
    t = await startTestStack({ ...DEFAULT_THROTTLE, OTP_COOLDOWN_SECONDS: "1" });
    await cibil(t, "700000002");
    expect((await cibil(t, "700000002")).code).toBe("OTP_COOLDOWN");
    await sleep(1100);
    expect((await cibil(t, "700000002")).__typename).toBe("CibilOtpChallenge");
    expect(t.simulator?.calls()).toBe(2);
  });

  it("B2: the fourth send in the window is refused with OTP_LIMIT_REACHED, and AOPay saw three", async () => {
    t = await startTestStack({ ...DEFAULT_THROTTLE, OTP_COOLDOWN_SECONDS: "1" });
    for (let i = 0; i < 3; i++) {
      expect((await cibil(t, "700000003")).__typename).toBe("CibilOtpChallenge");
      await sleep(1050);
    }
    const fourth = await cibil(t, "700000003");
    expect(fourth).toMatchObject({ __typename: "OtpThrottled", code: "OTP_LIMIT_REACHED", scope: "DESTINATION" });
    expect(fourth.retryAfterSeconds).toBeGreaterThan(590);
    expect(t.simulator?.calls()).toBe(3);
  });

  it("AEPS: the mobile and the Aadhaar are budgeted separately; a reused Aadhaar with a new mobile is refused", async () => {
    t = await startTestStack(DEFAULT_THROTTLE);
    // A new registration (user key and references: budgeted too) each time, so only the numbers can refuse.
    const first = resultOf(
      (await t.gql(RESEND_AEPS_OTP, aepsInput("9876500001", nextAepsRegistration()))).body,
      "resendAepsOtp",
    );
    expect(first.__typename).toBe("AepsOtpResent");
    const sameAadhaar = resultOf(
      (await t.gql(RESEND_AEPS_OTP, aepsInput("9876500002", nextAepsRegistration()))).body,
      "resendAepsOtp",
    );
    expect(sameAadhaar).toMatchObject({ code: "OTP_COOLDOWN" });
    const sameMobile = resultOf(
      (await t.gql(RESEND_AEPS_OTP, aepsInput("9876500001", { ...nextAepsRegistration(), aadhaar: "999941057058" })))
        .body,
      "resendAepsOtp",
    );
    expect(sameMobile).toMatchObject({ code: "OTP_COOLDOWN" });
    expect(t.simulator?.calls()).toBe(1);
  });

  it("B4: a mobile-number range is capped across IPs and clients (SMS pumping)", async () => {
    t = await startTestStack({ ...DEFAULT_THROTTLE, OTP_PREFIX_MAX: "3", TRUSTED_PROXIES: "127.0.0.1" });
    const aeps = async (mobile: string, aadhaar: string, ip: string) =>
      resultOf(
        (
          await t!.gql(RESEND_AEPS_OTP, aepsInput(mobile, { ...nextAepsRegistration(), aadhaar }), {
            "x-forwarded-for": ip,
          })
        ).body,
        "resendAepsOtp",
      );
    const aadhaars = ["234123412346", "999941057058", "999971658847", "234567890124"];
    for (let i = 0; i < 3; i++)
      expect((await aeps(`98765000${10 + i}`, aadhaars[i], `198.51.100.${i}`)).__typename).toBe("AepsOtpResent");
    expect(await aeps("9876500099", aadhaars[3], "203.0.113.50")).toMatchObject({
      code: "RATE_LIMITED",
      scope: "MOBILE_PREFIX",
    });
    expect(t.simulator?.calls()).toBe(3);
  });

  it("B3: one IP is capped across destinations, and a spoofed X-Forwarded-For changes nothing", async () => {
    t = await startTestStack({ ...DEFAULT_THROTTLE, OTP_IP_MAX: "3" });
    for (let i = 0; i < 3; i++)
      expect((await cibil(t, `70000010${i}`, { "x-forwarded-for": `198.51.100.${i}` })).__typename).toBe(
        "CibilOtpChallenge",
      );
    const fourth = await cibil(t, "700000199", { "x-forwarded-for": "203.0.113.99" });
    expect(fourth).toMatchObject({ __typename: "OtpThrottled", code: "RATE_LIMITED", scope: "IP" });
    expect(t.simulator?.calls()).toBe(3);
  });

  it("B3: behind a configured trusted proxy, X-Forwarded-For is the client's IP", async () => {
    t = await startTestStack({ ...DEFAULT_THROTTLE, OTP_IP_MAX: "1", TRUSTED_PROXIES: "127.0.0.1" });
    expect((await cibil(t, "700000201", { "x-forwarded-for": "198.51.100.1" })).__typename).toBe("CibilOtpChallenge");
    expect((await cibil(t, "700000202", { "x-forwarded-for": "198.51.100.2" })).__typename).toBe("CibilOtpChallenge");
    expect(await cibil(t, "700000203", { "x-forwarded-for": "198.51.100.1" })).toMatchObject({
      code: "RATE_LIMITED",
      scope: "IP",
    });
    expect(t.simulator?.calls()).toBe(2);
  });

  it("B3: each API client has its own budget", async () => {
    const otherKey = "aopk_other_client_key_0123456789abcdefghijkl";
    const otherEntry = `other-client:${hashApiKey(otherKey)}`;
    t = await startTestStack({
      ...DEFAULT_THROTTLE,
      OTP_CLIENT_MAX: "2",
      API_KEYS: `${TEST_API_KEYS_ENTRY},${otherEntry}`,
    });
    const a = { "x-api-key": TEST_API_KEY };
    await cibil(t, "700000301", a);
    await cibil(t, "700000302", a);
    expect(await cibil(t, "700000303", a)).toMatchObject({ code: "RATE_LIMITED", scope: "CLIENT" });
    expect((await cibil(t, "700000304", { "x-api-key": otherKey })).__typename).toBe("CibilOtpChallenge");
    expect(t.simulator?.calls()).toBe(3);
  });

  it("B4: the global budget caps the whole service", async () => {
    t = await startTestStack({ ...DEFAULT_THROTTLE, OTP_GLOBAL_MAX: "2", TRUSTED_PROXIES: "127.0.0.1" });
    await cibil(t, "700000401", { "x-forwarded-for": "198.51.100.1" });
    await cibil(t, "700000402", { "x-forwarded-for": "198.51.100.2" });
    expect(await cibil(t, "700000403", { "x-forwarded-for": "198.51.100.3" })).toMatchObject({
      code: "RATE_LIMITED",
      scope: "GLOBAL",
    });
    expect(t.simulator?.calls()).toBe(2);
  });

  it("E3: an unknown outcome keeps its cost: an immediate retry meets the cooldown and AOPay still saw one call", async () => {
    t = await startTestStack({ ...DEFAULT_THROTTLE, AOPAY_DEADLINE_MS: "300" });
    expect(await cibil(t, "700000504")).toMatchObject({ code: "OUTCOME_UNKNOWN" });
    expect(await cibil(t, "700000504")).toMatchObject({ code: "OTP_COOLDOWN" });
    expect(t.simulator?.calls()).toBe(1);
  });

  it("a send that provably never left is refunded: an immediate retry is allowed", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    t = await startTestStack({
      ...DEFAULT_THROTTLE,
      ...upstreamEnv(url),
    });
    expect(await cibil(t, "700000601")).toMatchObject({ code: "UPSTREAM_UNAVAILABLE" });
    expect(await cibil(t, "700000601")).toMatchObject({ code: "UPSTREAM_UNAVAILABLE" });
  });

  it("a rejection by AOPay keeps its cost (no free enumeration of CIBIL ids)", async () => {
    t = await startTestStack(DEFAULT_THROTTLE);
    expect(await cibil(t, "700000207")).toMatchObject({ code: "UPSTREAM_REJECTED" });
    expect(await cibil(t, "700000207")).toMatchObject({ code: "OTP_COOLDOWN" });
  });

  /**
   * A guess checks one customer's OTP and has that customer's budget (OTP_VERIFY_MAX), but one caller could spread
   * guesses over many customers, each with 5 guesses of its own: the sends' per-IP and per-client caps had no
   * counterpart for verifications (an audit: 51 guesses from one IP against 51 customers all reached AOPay).
   */
  describe("verification attempts across customers (submitCibilOtp, verifyAepsOtp)", () => {
    /** A guess at CIBIL id `cibilId`'s OTP (ids ending 9xx trigger no simulator scenario). */
    const submit = async (stack: TestStack, cibilId: string, headers: Record<string, string>) =>
      resultOf(
        (
          await stack.gql(
            SUBMIT_CIBIL_OTP,
            {
              input: {
                cibilId,
                accessToken: cibilToken(cibilId),
                otp: "1234",
                questionKey: "USER_TO_INPUT_ANSWER",
                answerKey: "USER_TO_INPUT_ANSWER",
              },
            },
            headers,
          )
        ).body,
        "submitCibilOtp",
      );
    const verifyAeps = async (stack: TestStack, headers: Record<string, string>) =>
      resultOf(
        (
          await stack.gql(
            VERIFY_AEPS_OTP,
            { input: { ...aepsInput("9876500977", nextAepsRegistration()).input, otp: "123456" } },
            headers,
          )
        ).body,
        "verifyAepsOtp",
      );

    it("one IP is capped across customers at the default 50 a minute, like its sends; another IP is not", async () => {
      t = await startTestStack({ ...DEFAULT_THROTTLE, OTP_VERIFY_MAX: "5", TRUSTED_PROXIES: "127.0.0.1" });
      const ip = { "x-forwarded-for": "198.51.100.77" };
      for (let i = 0; i < 50; i++)
        expect((await submit(t, `70000${9100 + i}`, ip)).__typename).not.toBe("OtpThrottled");
      expect(t.simulator?.calls("cibil.submitOtp")).toBe(50);
      const refused = await submit(t, "700009160", ip);
      expect(refused).toMatchObject({ __typename: "OtpThrottled", code: "RATE_LIMITED", scope: "IP" });
      expect(refused.retryAfterSeconds).toBeGreaterThan(0);
      expect(refused.retryAfterSeconds).toBeLessThanOrEqual(60);
      // Both verification mutations count on it; an address of the same IPv4 written as IPv4-mapped IPv6 too.
      expect(await verifyAeps(t, ip)).toMatchObject({ code: "RATE_LIMITED", scope: "IP" });
      expect(await submit(t, "700009161", { "x-forwarded-for": "::ffff:198.51.100.77" })).toMatchObject({
        scope: "IP",
      });
      expect(t.simulator?.calls("cibil.submitOtp")).toBe(50);
      expect(t.simulator?.calls("aeps.verifyOtp")).toBe(0);
      // Another IP guesses; and the guesses did not spend this IP's sends.
      expect((await submit(t, "700009162", { "x-forwarded-for": "198.51.100.78" })).__typename).not.toBe(
        "OtpThrottled",
      );
      expect((await cibil(t, "700009163", ip)).__typename).toBe("CibilOtpChallenge");
    });

    it("one API client is capped across IPs (OTP_VERIFY_CLIENT_MAX); another client is not", async () => {
      const otherKey = "aopk_other_client_key_0123456789abcdefghijkl";
      t = await startTestStack({
        ...DEFAULT_THROTTLE,
        OTP_VERIFY_CLIENT_MAX: "3",
        TRUSTED_PROXIES: "127.0.0.1",
        API_KEYS: `${TEST_API_KEYS_ENTRY},other-client:${hashApiKey(otherKey)}`,
      });
      const a = (n: number) => ({ "x-api-key": TEST_API_KEY, "x-forwarded-for": `198.51.100.${n}` });
      for (let i = 0; i < 3; i++)
        expect((await submit(t, `70000${9200 + i}`, a(i))).__typename).not.toBe("OtpThrottled");
      expect(await submit(t, "700009203", a(9))).toMatchObject({ code: "RATE_LIMITED", scope: "CLIENT" });
      expect(await verifyAeps(t, a(10))).toMatchObject({ code: "RATE_LIMITED", scope: "CLIENT" });
      expect(t.simulator?.calls("cibil.submitOtp")).toBe(3);
      expect(t.simulator?.calls("aeps.verifyOtp")).toBe(0);
      const b = { "x-api-key": otherKey, "x-forwarded-for": "198.51.100.9" };
      expect((await submit(t, "700009204", b)).__typename).not.toBe("OtpThrottled");
    });

    it("OTP_VERIFY_IP_MAX sets the IP's cap; a refused guess does not count", async () => {
      t = await startTestStack({ ...DEFAULT_THROTTLE, OTP_VERIFY_IP_MAX: "2", TRUSTED_PROXIES: "127.0.0.1" });
      const ip = { "x-forwarded-for": "2001:db8:5::1" };
      await submit(t, "700009301", ip);
      // Another address of the same /64.
      await submit(t, "700009302", { "x-forwarded-for": "2001:db8:5::2" });
      for (let i = 0; i < 3; i++) expect(await submit(t, `70000${9303 + i}`, ip)).toMatchObject({ scope: "IP" });
      expect(t.simulator?.calls("cibil.submitOtp")).toBe(2);
    });
  });

  it("logs a throttled send on its access line only, with the budget's scope and without the destination", async () => {
    t = await startTestStack(DEFAULT_THROTTLE);
    await cibil(t, "700000701");
    t.logs.clear();
    await cibil(t, "700000701");
    // One line: a line of its own beside the access line had doubled the log of every throttled request.
    expect(t.logs.records()).toEqual([
      expect.objectContaining({
        msg: "request completed",
        operation: "GenerateCibilOtp",
        result: "OTP_COOLDOWN",
        throttled: "DESTINATION",
      }),
    ]);
    expect(t.logs.text()).not.toContain("700000701");
  });
});
