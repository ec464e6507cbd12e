import { type FakeUpstream, json, raw, startFakeUpstream, upstreamEnv } from "../helpers/fake-upstream";
import { fixture, fixtureJson } from "../helpers/fixtures";
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
import { startTestStack, type TestStack } from "../helpers/stack";

/**
 * Fidelity to AOPay's documented answers (docs/upstream/aopay-api.md, its seed pages and test/fixtures/aopay/), through
 * the real server and a scripted AOPay on loopback, where the answer is documented and the server misread it:
 *   - the documented success examples served with `Content-Type: text/html`: the docs say only "RESPONSE BODY Json"
 *     and are silent on the header, yet the header alone made the JSON body unreadable, so a delivered OTP (and its
 *     challenge, which SubmitOTP needs) came back OutcomeUnknown;
 *   - AOPay's flags and numbers in the spellings its own examples use: a flag as 0/1 (`is_returning_customer`, §1.3)
 *     or as a "true"/"false" string (`LastChanceQuestion`, GenerateOTP seed page), and a number as a string (`code`
 *     "207", §1.3): `is_returning_customer` read only 0/1 and booleans, the question's flags only booleans and their
 *     strings, and `data.response_code` only a JSON number, any of which it could not hold as a GraphQL Int (beyond
 *     32 bits) failing the resend's whole result with a GraphQL error after the OTP had gone.
 */
describe("AOPay's documented answers read as documented (scripted upstream)", () => {
  let upstream: FakeUpstream;
  let t: TestStack;

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    t = await startTestStack(upstreamEnv(upstream));
  });
  afterAll(async () => {
    await t?.stop();
    await upstream?.close();
  });

  const sendCibil = async (cibilId: string) => {
    const res = await t.gql(GENERATE_CIBIL_OTP, cibilInput(cibilId));
    expect(res.body.errors).toBeUndefined();
    return resultOf(res.body, "generateCibilOtp");
  };
  const resendAeps = async (mobile: string) => {
    const res = await t.gql(RESEND_AEPS_OTP, aepsInput(mobile));
    expect(res.body.errors).toBeUndefined();
    return resultOf(res.body, "resendAepsOtp");
  };
  const submitCibil = async (cibilId: string) => {
    const input = { cibilId, accessToken: cibilToken(cibilId), otp: "1234", questionKey: "Q1", answerKey: "A1" };
    const res = await t.gql(SUBMIT_CIBIL_OTP, { input });
    expect(res.body.errors).toBeUndefined();
    return resultOf(res.body, "submitCibilOtp");
  };

  describe("a documented success whose Content-Type says HTML is read by its JSON body", () => {
    it.each(["text/html", "text/html; charset=utf-8", "TEXT/HTML"])("GenerateOTP's example as %s", async (type) => {
      upstream.respond(raw(200, type, fixture("cibil/generate-otp.success").toString("utf8")));
      const result = await sendCibil("102277101");
      expect(result).toMatchObject({
        __typename: "CibilOtpChallenge",
        status: "PENDING",
        nextStep: "VERIFY_ANSWERS",
        merchantTransactionId: "SPCBL2308181502437743aQaHNGxZM",
      });
      expect(result.question).toMatchObject({ key: "1423489238", lastChance: false, resendEligible: true });
    });

    it("ResendOTP's example as text/html", async () => {
      upstream.respond(raw(200, "text/html; charset=utf-8", fixture("aeps/resend-otp.success").toString("utf8")));
      expect(await resendAeps("9876543101")).toMatchObject({
        __typename: "AepsOtpResent",
        upstreamResponseCode: 1,
        primaryKeyId: "TEST",
        encodeTxnId: "DEMO",
      });
    });

    it("the documented failure as text/html is a rejection, with its code and message", async () => {
      upstream.respond(raw(200, "text/html", fixture("cibil/generic-error").toString("utf8")));
      expect(await sendCibil("102277102")).toMatchObject({
        __typename: "UpstreamRejected",
        upstreamCode: "207",
        upstreamMessage: "Amount is Requaired",
      });
    });

    it("an HTML page is still unreadable: a send's outcome is unknown", async () => {
      upstream.respond(raw(200, "text/html", "<html><body>Maintenance</body></html>"));
      expect(await sendCibil("102277103")).toMatchObject({ __typename: "OutcomeUnknown" });
    });
  });

  describe("AOPay's flags in the spellings its examples use (0/1, booleans, their strings)", () => {
    const submitted = (returning: unknown) => ({
      ...(fixtureJson("cibil/submit-otp.success") as Record<string, unknown>),
      result: { cibil_id: "93626**", cibil_status: "Success", is_returning_customer: returning },
    });

    it.each([
      [1, true],
      [0, false],
      ["1", true],
      ["0", false],
      [true, true],
      ["true", true],
      ["False", false],
      ["yes", null],
      [2, null],
      [null, null],
    ])("SubmitOTP's is_returning_customer %j reads %j", async (value, expected) => {
      upstream.respond(json(200, submitted(value)));
      expect(await submitCibil("102277104")).toMatchObject({
        __typename: "CibilOtpVerified",
        status: "SUCCESS",
        returningCustomer: expected,
      });
    });

    it("GenerateOTP's question flags as 0/1, as strings of them, and as the example's strings", async () => {
      const example = fixtureJson("cibil/generate-otp.success") as { result: { questions: Record<string, unknown> } };
      const questions = { ...example.result.questions, LastChanceQuestion: 1, skipEligible: "0", resendEligible: "1" };
      upstream.respond(json(200, { ...example, result: { ...example.result, questions } }));
      expect((await sendCibil("102277105")).question).toMatchObject({
        lastChance: true,
        skipEligible: false,
        resendEligible: true,
      });
    });
  });

  describe("AEPS data.response_code, documented as an integer (1 in the example)", () => {
    const resent = (code: unknown) => {
      const example = fixtureJson("aeps/resend-otp.success") as { data: Record<string, unknown> };
      return { ...example, data: { ...example.data, response_code: code } };
    };

    it.each([
      [1, 1],
      ["1", 1],
      [" 1 ", null],
      [0, 0],
      [-1, -1],
      [2147483647, 2147483647],
      [2147483648, null],
      [3000000000, null],
      ["99999999999999999999", null],
      [1.5, null],
      ["1e3", null],
    ])("ResendOTP's %j reads %j, and the resend's result stands", async (code, expected) => {
      upstream.respond(json(200, resent(code)));
      expect(await resendAeps("9876543102")).toMatchObject({
        __typename: "AepsOtpResent",
        upstreamResponseCode: expected,
        primaryKeyId: "TEST",
      });
    });

    it("VerifyOTP's, read the same way", async () => {
      upstream.respond(json(200, resent(3000000000)));
      const input = { ...aepsInput("9876543103").input, otp: "123456" };
      const res = await t.gql(VERIFY_AEPS_OTP, { input });
      expect(res.body.errors).toBeUndefined();
      expect(resultOf(res.body, "verifyAepsOtp")).toMatchObject({
        __typename: "AepsRegistrationVerified",
        upstreamResponseCode: null,
      });
      upstream.respond(json(200, resent("1")));
      const again = await t.gql(VERIFY_AEPS_OTP, { input: { ...input, mobile: "9876543104" } });
      expect(resultOf(again.body, "verifyAepsOtp")).toMatchObject({ upstreamResponseCode: 1 });
    });
  });
});
