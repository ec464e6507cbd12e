import { request as httpRequest } from "node:http";
import { SIMULATOR_COMPANY_CODE, SIMULATOR_REGISTRATION_ID } from "../../src/config";
import { type Simulator, startSimulator } from "../../src/simulator/server";
import { SIM_OTP } from "../../src/simulator/state";
import { type FakeUpstream, startFakeUpstream, upstreamEnv } from "../helpers/fake-upstream";
import { fixture } from "../helpers/fixtures";
import { registrationInput } from "../helpers/identifiers";
import { aepsInput, GENERATE_CIBIL_OTP, RESEND_AEPS_OTP, resultOf } from "../helpers/operations";
import { startTestStack, type TestStack } from "../helpers/stack";

/**
 * The simulator's contract: for every case AOPay documents, the simulator answers with AOPay's documented body,
 * exactly (test/fixtures/aopay/, the seed pages' and the white-label page's examples). The cases are driven through
 * our server, as a client would drive them; a recording proxy between the server and the simulator keeps the bytes
 * the simulator sent, which are compared with the fixture (parsed, and key order too).
 *
 * How each documented body maps to a case, with the customer's state it implies:
 *   cibil/generate-otp.success.json  GenerateOTP for the customer of AOPay's examples: CIBIL id 9362678 (the id the
 *                                    example answers with; AOPay's request example asks for 102277100, but the
 *                                    simulator answers for the id it is asked about, so the case asks for 9362678),
 *                                    registered with a mobile starting 94138 (the example's "sent to 94138****").
 *   cibil/submit-otp.success.json    SubmitOTP with the right OTP for that customer, verified for the first time
 *                                    (is_returning_customer 0) and with no report fetched yet (cibil_score_fetch_date
 *                                    null); "93626**" is 9362678 masked as AOPay masks it.
 *   cibil/generic-error.json         any CIBIL call whose CIBIL id ends in 207 (the `rejected` scenario).
 *   aeps/resend-otp.success.json     ResendOTP with the references of AOPay's own request example (TEST, DEMO), which
 *                                    the answer echoes.
 *   aeps/resend-otp.error.json       ResendOTP with partner credentials the simulator does not know, and a mobile
 *                                    ending in 401 (the `unauthorized` scenario): HTTP 401 with this body.
 * Opaque ids that AOPay generates and no state can predict (merchant_trans_id, the question's Key and
 * AnswerChoiceId, the new customer's CIBIL id) come from the simulator's id source, which this test sets to the
 * documented values (SimulatorOptions.ids); every other byte comes from the customer's state.
 *
 * The generic error cannot be consistent with any customer: it speaks of an "Amount" none of these calls takes. It is
 * served verbatim, as the documented failure it is, only where a test asks for it (…207); the simulator's own
 * failures (a wrong OTP, a stolen token) use its shape with their own code and a description that starts "Simulated:".
 */
interface Recorded {
  path: string;
  status: number;
  body: string;
}

/** Forwards every request to the simulator unchanged (GET bodies included) and records what the simulator answered. */
async function startRecordingProxy(target: URL, recorded: Recorded[]): Promise<FakeUpstream> {
  return startFakeUpstream((call, res) => {
    const upstream = httpRequest(
      new URL(call.path, target),
      {
        method: call.method,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(call.body) },
      },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on("data", (c: Buffer) => chunks.push(c));
        answer.on("end", () => {
          const body = Buffer.concat(chunks);
          recorded.push({ path: call.path, status: answer.statusCode ?? 0, body: body.toString("utf8") });
          res.writeHead(answer.statusCode ?? 502, {
            "content-type": answer.headers["content-type"] ?? "application/json",
          });
          res.end(body);
        });
      },
    );
    upstream.end(call.body);
  });
}

/** The documented body, as canonical JSON text (its key order kept). */
const documented = (name: string) => JSON.stringify(JSON.parse(fixture(name).toString("utf8")));
const answered = (r: Recorded | undefined) => JSON.stringify(JSON.parse(r?.body ?? "null"));

describe("the simulator answers every documented case with AOPay's documented body, exactly", () => {
  let simulator: Simulator;
  let proxy: FakeUpstream;
  let t: TestStack;
  const recorded: Recorded[] = [];
  /** merchant_trans_id for the next CIBIL success answers, in order (documented ones where a case needs them). */
  const merchantIds: string[] = [];
  const last = (path: string) => [...recorded].reverse().find((r) => r.path.endsWith(path));

  beforeAll(async () => {
    simulator = await startSimulator({
      registrationId: SIMULATOR_REGISTRATION_ID,
      companyCode: SIMULATOR_COMPANY_CODE,
      ids: {
        cibilId: () => "9362678",
        merchantTransactionId: (sequence) => merchantIds.shift() ?? `SIMCBL${sequence}`,
        questionKey: () => "1423489238",
        answerChoiceId: () => "4220112750",
      },
    });
    proxy = await startRecordingProxy(simulator.url, recorded);
    t = await startTestStack({
      ...upstreamEnv(proxy.url),
    });
  });
  afterAll(async () => {
    await t?.stop();
    await proxy?.close();
    await simulator?.close();
  });

  let accessToken = "";
  it("registers the customer of AOPay's examples (the simulator's own answer: registeration has no documented body)", async () => {
    // A mobile starting 94138: the example's "sent to 94138****".
    const input = registrationInput({ mobile: "9413812345" });
    const res = await t.gql(
      `mutation($input: RegisterCibilCustomerInput!) { registerCibilCustomer(input: $input) { __typename ... on CibilCustomerRegistered { cibilId accessToken } } }`,
      { input },
    );
    const registered = resultOf(res.body, "registerCibilCustomer");
    expect(registered).toMatchObject({ __typename: "CibilCustomerRegistered", cibilId: "9362678" });
    accessToken = registered.accessToken as string;
  });

  it("GenerateOTP: cibil/generate-otp.success.json", async () => {
    merchantIds.push("SPCBL2308181502437743aQaHNGxZM");
    const res = await t.gql(GENERATE_CIBIL_OTP, { input: { cibilId: "9362678", accessToken } });
    expect(answered(last("/CibilScore/GenerateOTP"))).toBe(documented("cibil/generate-otp.success"));
    expect(resultOf(res.body, "generateCibilOtp")).toMatchObject({
      __typename: "CibilOtpChallenge",
      cibilId: "9362678",
      merchantTransactionId: "SPCBL2308181502437743aQaHNGxZM",
      question: {
        key: "1423489238",
        text: "The One Time Password is sent to *********. Please enter the One Time Password.",
      },
    });
  });

  it("SubmitOTP: cibil/submit-otp.success.json", async () => {
    merchantIds.push("SPCBL2308181506522334ZiSHM7bAe");
    const res = await t.gql(
      `mutation($input: SubmitCibilOtpInput!) { submitCibilOtp(input: $input) { __typename ... on CibilOtpVerified { cibilId status returningCustomer scoreFetchDate merchantTransactionId } } }`,
      {
        input: {
          cibilId: "9362678",
          accessToken,
          otp: SIM_OTP,
          questionKey: "1423489238",
          answerKey: "USER_TO_INPUT_ANSWER",
        },
      },
    );
    expect(answered(last("/CibilScore/SubmitOTP"))).toBe(documented("cibil/submit-otp.success"));
    expect(resultOf(res.body, "submitCibilOtp")).toEqual({
      __typename: "CibilOtpVerified",
      cibilId: "93626**",
      status: "SUCCESS",
      returningCustomer: false,
      scoreFetchDate: null,
      merchantTransactionId: "SPCBL2308181506522334ZiSHM7bAe",
    });
  });

  it("the CIBIL generic error: cibil/generic-error.json (…207)", async () => {
    const res = await t.gql(GENERATE_CIBIL_OTP, { input: { cibilId: "102277207", accessToken: "123456542124" } });
    expect(answered(last("/CibilScore/GenerateOTP"))).toBe(documented("cibil/generic-error"));
    expect(resultOf(res.body, "generateCibilOtp")).toMatchObject({
      __typename: "UpstreamRejected",
      upstreamCode: "207",
      upstreamMessage: "Amount is Requaired",
    });
  });

  it("ResendOTP: aeps/resend-otp.success.json (AOPay's own request references, TEST and DEMO)", async () => {
    const res = await t.gql(RESEND_AEPS_OTP, aepsInput("9876543210", { primaryKeyId: "TEST", encodeTxnId: "DEMO" }));
    expect(answered(last("/UserRegisterBankWise/ResendOTP"))).toBe(documented("aeps/resend-otp.success"));
    expect(resultOf(res.body, "resendAepsOtp")).toMatchObject({
      __typename: "AepsOtpResent",
      upstreamMessage: "OTP Resend Request Completed",
      primaryKeyId: "TEST",
      encodeTxnId: "DEMO",
    });
  });

  it("ResendOTP refused: aeps/resend-otp.error.json with HTTP 401 (…401)", async () => {
    const res = await t.gql(RESEND_AEPS_OTP, aepsInput("9876543401"));
    const answer = last("/UserRegisterBankWise/ResendOTP");
    expect(answer?.status).toBe(401);
    expect(answered(answer)).toBe(documented("aeps/resend-otp.error"));
    expect(resultOf(res.body, "resendAepsOtp")).toMatchObject({
      __typename: "UpstreamUnauthorized",
      upstreamCode: "5",
      upstreamMessage: "Invalid signature encoding",
    });
  });

  it("ResendOTP refused: the same body for partner credentials the simulator does not know", async () => {
    const stranger = await startTestStack({
      AOPAY_BASE_URL: proxy.url,
      AOPAY_REGISTRATION_ID: "AOP-554",
      AOPAY_COMPANY_CODE: "CMP1045",
    });
    try {
      await stranger.gql(RESEND_AEPS_OTP, aepsInput("9876543211"));
      const answer = last("/UserRegisterBankWise/ResendOTP");
      expect(answer?.status).toBe(401);
      expect(answered(answer)).toBe(documented("aeps/resend-otp.error"));
    } finally {
      await stranger.stop();
    }
  });

  it("covered every documented body in test/fixtures/aopay", () => {
    const compared = new Set(recorded.map((r) => answered(r)));
    for (const name of [
      "cibil/generate-otp.success",
      "cibil/submit-otp.success",
      "cibil/generic-error",
      "aeps/resend-otp.success",
      "aeps/resend-otp.error",
    ]) {
      expect(compared.has(documented(name))).toBe(true);
    }
  });
});
