import { SIMULATOR_COMPANY_CODE as COMPANY, SIMULATOR_REGISTRATION_ID as REGISTRATION } from "../../src/config";
import { byPath, json, raw } from "../helpers/fake-upstream";
import { fixture, fixtureJson } from "../helpers/fixtures";
import {
  aepsInput,
  cibilInput,
  cibilToken,
  GENERATE_CIBIL_OTP,
  REGISTER_CIBIL_CUSTOMER,
  RESEND_AEPS_OTP,
  resultOf,
  SUBMIT_CIBIL_OTP,
  VERIFY_AEPS_OTP,
} from "../helpers/operations";
import { registrationInput } from "../helpers/identifiers";
import { stackOnFakeUpstream } from "../helpers/stack";

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
 * And what the server sends, endpoint by endpoint, as the bytes the scripted AOPay received: method, path,
 * Content-Type (the one header every sample on the pages sends), and the body's keys in the pages' order, spelled and
 * typed as there (§1.1-§1.4, §2.1, §2.2). The endpoint modules' unit tests pin toWire; this pins the wire itself.
 */
describe("AOPay's documented answers read as documented (scripted upstream)", () => {
  const { upstream, t } = stackOnFakeUpstream();

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

  describe("each documented envelope and status spelling, at each documented HTTP status (found right: pinned)", () => {
    const generic = fixtureJson("cibil/generic-error");
    const aepsError = fixtureJson("aeps/resend-otp.error");
    // The CIBIL pages' 401 schema {responsecode:int, status:bool, message:string}, with values of ours.
    const cibil401 = { responsecode: 401, status: false, message: "Unauthorized partner" };
    let n = 200;
    const nextCibil = () => `1022771${n++}`;

    it.each([
      [200, generic, "UpstreamRejected", "207", "Amount is Requaired"],
      // Observation 8: a 401 may carry a business error. Taken as refused credentials, its code and message kept.
      [401, generic, "UpstreamUnauthorized", "207", "Amount is Requaired"],
      [401, cibil401, "UpstreamUnauthorized", "401", "Unauthorized partner"],
      [200, cibil401, "UpstreamRejected", "401", "Unauthorized partner"],
      [401, aepsError, "UpstreamUnauthorized", "5", "Invalid signature encoding"],
      [200, aepsError, "UpstreamRejected", "5", "Invalid signature encoding"],
    ])("GenerateOTP answered HTTP %i with %j: %s", async (status, body, typename, code, message) => {
      upstream.respond(json(status, body));
      expect(await sendCibil(nextCibil())).toEqual(
        expect.objectContaining({ __typename: typename, upstreamCode: code, upstreamMessage: message }),
      );
    });

    it("ResendOTP's documented error at 401 and at 200", async () => {
      upstream.respond(json(401, aepsError));
      expect(await resendAeps("9876543107")).toMatchObject({ __typename: "UpstreamUnauthorized", upstreamCode: "5" });
      upstream.respond(json(200, aepsError));
      expect(await resendAeps("9876543108")).toMatchObject({ __typename: "UpstreamRejected", upstreamCode: "5" });
    });

    it.each([true, "true", "True", "TRUE", "SUCCESS", "Success", "success"])(
      "`status` %j reads as success (Observation 6)",
      async (word) => {
        upstream.respond(json(200, { ...fixtureJson("cibil/generate-otp.success"), status: word }));
        expect(await sendCibil(nextCibil())).toMatchObject({ __typename: "CibilOtpChallenge", status: "PENDING" });
      },
    );

    it.each([false, "false", "False", "FALSE"])("`status` %j reads as a rejection (Observation 6)", async (word) => {
      upstream.respond(json(200, { ...generic, status: word }));
      expect(await sendCibil(nextCibil())).toMatchObject({ __typename: "UpstreamRejected", upstreamCode: "207" });
    });

    it.each(["FAILED", "error", 0, 1, null])(
      "`status` %j, a word the docs never show, is not guessed at",
      async (w) => {
        upstream.respond(json(200, { ...generic, status: w }));
        expect(await sendCibil(nextCibil())).toMatchObject({ __typename: "OutcomeUnknown" });
      },
    );
  });

  describe("what the server sends: each endpoint's method, path, header and body as its page documents them", () => {
    /** AOPay's answer per path: the documented examples, and sibling-shaped bodies where the docs have none. */
    const answers = byPath(
      {
        "/api/AOP/CibilScore/registeration": json(200, {
          status: "SUCCESS",
          access_token: "tok700000001",
          result: { cibil_id: "7" },
        }),
        "/api/AOP/CibilScore/GenerateOTP": json(200, fixtureJson("cibil/generate-otp.success")),
        "/api/AOP/CibilScore/SubmitOTP": json(200, fixtureJson("cibil/submit-otp.success")),
        "/api/AOP/CibilScore/GetCreditHistory": json(200, {
          status: "SUCCESS",
          message: "success",
          result: { score: 1 },
        }),
        "/api/AOP/V1/AEPS/UserRegisterBankWise/ResendOTP": json(200, fixtureJson("aeps/resend-otp.success")),
        "/api/AOP/V1/AEPS/UserRegisterBankWise/VerifyOTP": json(200, fixtureJson("aeps/resend-otp.success")),
      },
      json(200, {}),
    );
    const lastCalls = (n: number) =>
      upstream.calls.slice(-n).map((c) => ({
        method: c.method,
        path: c.path,
        contentType: c.headers["content-type"],
        // The bytes as sent: key order and JSON types (a number unquoted, a string quoted) both show.
        body: c.body,
      }));
    const bytes = (o: Record<string, unknown>) => JSON.stringify(o);

    it("registeration: GET (its page header), snake_case customer fields, mobile_number a string", async () => {
      upstream.respond(answers);
      const input = registrationInput({ mobile: "9876543105", pan: "ABCPE1234F", middleName: "M" });
      const res = await t.gql(REGISTER_CIBIL_CUSTOMER, { input });
      const orderId = resultOf(res.body, "registerCibilCustomer").orderId as string;
      expect(orderId).toMatch(/^[0-9]{18}$/);
      expect(lastCalls(1)).toEqual([
        {
          method: "GET",
          path: "/api/AOP/CibilScore/registeration",
          contentType: "application/json",
          body: bytes({
            order_id: orderId,
            first_name: "Asha",
            middle_name: "M",
            last_name: "Kulkarni",
            pancard: "ABCPE1234F",
            date_of_birth: "31/01/1990",
            email_id: "asha@example.com",
            mobile_number: "9876543105",
            RegistrationID: REGISTRATION,
            CompanyCode: COMPANY,
          }),
        },
      ]);
    });

    it("GenerateOTP: GET with a body, cibil_id a JSON number (Int on its page)", async () => {
      upstream.respond(answers);
      await sendCibil("102277106");
      expect(lastCalls(1)).toEqual([
        {
          method: "GET",
          path: "/api/AOP/CibilScore/GenerateOTP",
          contentType: "application/json",
          body: bytes({
            cibil_id: 102277106,
            access_token: cibilToken("102277106"),
            RegistrationID: REGISTRATION,
            CompanyCode: COMPANY,
          }),
        },
      ]);
    });

    it("SubmitOTP then GetCreditHistory: GET with bodies, cibil_id a string (String on their pages)", async () => {
      upstream.respond(answers);
      const input = {
        cibilId: "102277107",
        accessToken: cibilToken("102277107"),
        otp: "0123",
        questionKey: "1423489238",
        answerKey: "USER_TO_INPUT_ANSWER",
      };
      const res = await t.gql(SUBMIT_CIBIL_OTP, { input });
      const history = resultOf(res.body, "submitCibilOtp").creditHistory as { orderId: string };
      expect(history.orderId).toMatch(/^[0-9]{18}$/);
      expect(lastCalls(2)).toEqual([
        {
          method: "GET",
          path: "/api/AOP/CibilScore/SubmitOTP",
          contentType: "application/json",
          body: bytes({
            cibil_id: "102277107",
            access_token: cibilToken("102277107"),
            otp: "0123",
            question_key: "1423489238",
            answer_key: "USER_TO_INPUT_ANSWER",
            RegistrationID: REGISTRATION,
            CompanyCode: COMPANY,
          }),
        },
        {
          method: "GET",
          path: "/api/AOP/CibilScore/GetCreditHistory",
          contentType: "application/json",
          body: bytes({
            client_order_id: history.orderId,
            cibil_id: "102277107",
            RegistrationID: REGISTRATION,
            CompanyCode: COMPANY,
          }),
        },
      ]);
    });

    it("ResendOTP and VerifyOTP: POST, AOPay's spellings, Mobile a JSON number, Otp only on VerifyOTP", async () => {
      upstream.respond(answers);
      const { input } = aepsInput("9876543106");
      await resendAeps("9876543106");
      await t.gql(VERIFY_AEPS_OTP, { input: { ...input, otp: "012345" } });
      const common = {
        Userkey: input.userKey,
        Mobile: 9876543106,
        Pipe: "bank6",
        AccessModeType: "SITE",
        AdhaarNumber: input.aadhaar,
        PrimaryKeyId: "TEST",
        EncodeTxnId: "DEMO",
      };
      const path = "/api/AOP/V1/AEPS/UserRegisterBankWise";
      expect(lastCalls(2)).toEqual([
        {
          method: "POST",
          path: `${path}/ResendOTP`,
          contentType: "application/json",
          body: bytes({ ...common, RegistrationID: REGISTRATION }),
        },
        {
          method: "POST",
          path: `${path}/VerifyOTP`,
          contentType: "application/json",
          body: bytes({ ...common, Otp: "012345", RegistrationID: REGISTRATION }),
        },
      ]);
    });

    it("every request, GET included, carried its body with a Content-Length and no chunked encoding", () => {
      // Observation 1: proxies may drop a GET's body; a length-delimited one is the form the pages' cURL samples send.
      expect(upstream.calls.length).toBeGreaterThan(0);
      for (const c of upstream.calls)
        expect({
          method: c.method,
          length: c.headers["content-length"],
          chunked: c.headers["transfer-encoding"],
        }).toEqual({ method: c.method, length: String(Buffer.byteLength(c.body)), chunked: undefined });
    });
  });
});
