import { json } from "../helpers/fake-upstream";
import { fixtureJson } from "../helpers/fixtures";
import { devanagari, registrationInput } from "../helpers/identifiers";
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
import type { GqlResponse } from "../helpers/stack";
import { tracedStack } from "../helpers/traced-stack";

/**
 * The texts of AOPay's successful answers that reach the client: the messages of an AEPS send and verification and of a
 * CIBIL registration, AEPS's `error_code`, GenerateOTP's `next_api_call`, SubmitOTP's masked CIBIL id (cibilId) and fetch date,
 * and the CIBIL question's texts. Failures' messages masked a number glued into a word that reads whole as a mobile or
 * an Aadhaar number (`MT9876543210`, another customer's mobile: upstream-reference.test.ts); a success's passed whole
 * to the client. Here a scripted upstream answers each with such a number: no text shows it whole, the question's
 * texts keep its last four digits (the customer must tell the answer choices apart), and no log line (LOG_LEVEL=trace)
 * or span holds it, nor any digit of it beyond the last four.
 */
const OTHERS = { mobile: "9876543210", aadhaar: "345678901234", pan: "CNRPY7315Q" };

/** A text with another customer's number glued in, what a message shows of it, and what a question's text shows. */
const GLUED: ReadonlyArray<[what: string, text: string, message: string, question: string]> = [
  ["a mobile", `sent to MT${OTHERS.mobile}.`, "sent to MTXXXXXXXXXX.", "sent to MTXXXXXX3210."],
  ["a mobile after 91", `to MT91${OTHERS.mobile}Z`, "to MTXXXXXXXXXXXXZ", "to MTXXXXXXXX3210Z"],
  ["an Aadhaar number", `uid AOP${OTHERS.aadhaar}x`, "uid AOPXXXXXXXXXXXXx", "uid AOPXXXXXXXX1234x"],
  ["a PAN", `pan MT${OTHERS.pan}01`, "pan MTXXXXXX315Q01", "pan MTXXXXXX315Q01"],
  ["Devanagari digits", `MT${devanagari(OTHERS.mobile)}`, "MTXXXXXXXXXX", "MTXXXXXX3210"],
];

describe("AOPay's success texts: a number glued into a word is masked for the client, absent from logs and spans", () => {
  const s = tracedStack("trace");
  const { exporter } = s;
  let id = 0;

  /** Runs `send` against an upstream answering `body`: the result, and the answer, span and log text around it. */
  async function answered(body: unknown, field: string, send: () => Promise<GqlResponse>, history?: unknown) {
    exporter.reset();
    const before = s.t.logs.text().length;
    // The credit report a verification reads is handed on as it came, by design (docs/security.md): a plain one.
    const report = json(200, history ?? { status: "SUCCESS", message: "success", result: { score: 750 } });
    const answer = json(200, body);
    s.upstream.respond((call, res, req) => (call.path.includes("GetCreditHistory") ? report : answer)(call, res, req));
    const res = await send();
    const spans = JSON.stringify(exporter.getFinishedSpans().map((s) => [s.name, s.attributes, s.events]));
    return {
      result: resultOf(res.body, field),
      text: res.text,
      logAndSpans: `${s.t.logs.text().slice(before)}\n${spans}`,
    };
  }

  /** Nothing of the other customer's numbers in `all` (but a Devanagari mobile's last four digits). */
  function expectNoneIn(all: string) {
    for (const value of [...Object.values(OTHERS), devanagari(OTHERS.mobile), "987654", "34567890"])
      expect([value, all.includes(value)]).toEqual([value, false]);
  }

  it.each(GLUED)("%s in an AEPS send's and verification's message and code", async (_w, text, message) => {
    const body = fixtureJson("aeps/resend-otp.success") as { msg: string; data: Record<string, unknown> };
    const changed = { ...body, msg: text, data: { ...body.data, message: text, error_code: text } };
    const mobile = String(9123400000 + ++id);
    const resent = await answered(changed, "resendAepsOtp", () => s.t.gql(RESEND_AEPS_OTP, aepsInput(mobile)));
    expect(resent.result).toMatchObject({ __typename: "AepsOtpResent", upstreamMessage: message });
    const verified = await answered(changed, "verifyAepsOtp", () =>
      s.t.gql(VERIFY_AEPS_OTP, { input: { ...aepsInput(mobile).input, otp: "482913" } }),
    );
    expect(verified.result).toMatchObject({ __typename: "AepsRegistrationVerified", upstreamMessage: message });
    expectNoneIn(`${resent.text}\n${resent.logAndSpans}\n${verified.text}\n${verified.logAndSpans}`);
  });

  it.each(GLUED)("%s in a CIBIL registration's message", async (_w, text, message) => {
    const input = registrationInput({ mobile: String(9123500000 + ++id) });
    const body = { status: "SUCCESS", message: text, result: { cibil_id: "9362678" }, access_token: "tokA1" };
    const got = await answered(body, "registerCibilCustomer", () => s.t.gql(REGISTER_CIBIL_CUSTOMER, { input }));
    expect(got.result).toMatchObject({ __typename: "CibilCustomerRegistered", upstreamMessage: message });
    expectNoneIn(`${got.text}\n${got.logAndSpans}`);
  });

  it.each(GLUED)("%s in SubmitOTP's masked CIBIL id (cibilId) and fetch date", async (_w, text, message) => {
    const body = fixtureJson("cibil/submit-otp.success") as { result: Record<string, unknown> };
    const changed = { ...body, result: { ...body.result, cibil_id: text, cibil_score_fetch_date: text } };
    const cibilId = String(190000000 + ++id);
    const input = { cibilId, accessToken: cibilToken(cibilId), otp: "4829", questionKey: "q1", answerKey: "a1" };
    const got = await answered(changed, "submitCibilOtp", () => s.t.gql(SUBMIT_CIBIL_OTP, { input }));
    expect(got.result).toMatchObject({
      __typename: "CibilOtpVerified",
      cibilId: message,
      scoreFetchDate: message,
    });
    expectNoneIn(`${got.text}\n${got.logAndSpans}`);
  });

  it.each(GLUED)(
    "%s in the CIBIL question and answer choice: the last four digits kept",
    async (_w, text, _m, shown) => {
      const body = fixtureJson("cibil/generate-otp.success") as { result: { questions: Record<string, unknown> } };
      const choice = { AnswerChoiceText: `A/c ${text}`, Key: "ANSWER", AnswerChoiceId: "4220112750" };
      const questions = { ...body.result.questions, FullQuestionText: `Which? ${text}`, AnswerChoice: [choice] };
      const changed = { ...body, result: { ...body.result, questions } };
      const got = await answered(changed, "generateCibilOtp", () =>
        s.t.gql(GENERATE_CIBIL_OTP, cibilInput(String(200000000 + ++id))),
      );
      expect(got.result).toMatchObject({
        __typename: "CibilOtpChallenge",
        question: {
          text: `Which? ${shown}`,
          answerChoices: [{ text: `A/c ${shown}`, key: "ANSWER", id: "4220112750" }],
        },
      });
      expectNoneIn(`${got.text}\n${got.logAndSpans}`);
    },
  );

  /**
   * Numbers AOPay masks in part (its question's `94138****`: the mobile's first five digits; its docs' `97XXXXXXXX`),
   * what the client sees of them (every digit hidden, by the number's own mask character), and what of them must
   * appear nowhere: beside our masks (the last four digits, `XXXXXX3210`) they showed almost the whole number.
   */
  const PARTLY: ReadonlyArray<[text: string, hidden: string, leak: string]> = [
    ["sent to 94138****.", "sent to *********.", "94138"],
    ["OTP sent to 97XXXXXXXX", "OTP sent to XXXXXXXXXX", "97XXXXXXXX"],
    ["to 98765-*****", "to *****-*****", "98765"],
    ["uid 2341 XXXX XXXX", "uid XXXX XXXX XXXX", "2341 XXXX"],
    ["to 98765●●●●●", "to ●●●●●●●●●●", "98765"],
  ];

  it.each(PARTLY)("AOPay's %j in every text of a success and a failure shows no digit", async (text, hidden, leak) => {
    const aeps = fixtureJson("aeps/resend-otp.success") as { msg: string; data: Record<string, unknown> };
    const changed = { ...aeps, msg: text, data: { ...aeps.data, message: text, error_code: text } };
    const resent = await answered(changed, "resendAepsOtp", () =>
      s.t.gql(RESEND_AEPS_OTP, aepsInput(String(9123600000 + ++id))),
    );
    expect(resent.result).toMatchObject({ upstreamMessage: hidden, upstreamErrorCode: hidden });
    // A failure's message is logged as well as shown (UpstreamRejected.upstreamMessage).
    const failure = { code: "207", description: text, merchantTrxnRefId: null, token: null, status: "False" };
    const rejected = await answered(failure, "generateCibilOtp", () =>
      s.t.gql(GENERATE_CIBIL_OTP, cibilInput(String(220000000 + ++id))),
    );
    expect(rejected.result).toMatchObject({ __typename: "UpstreamRejected", upstreamMessage: hidden });
    const all = `${resent.text}\n${resent.logAndSpans}\n${rejected.text}\n${rejected.logAndSpans}`;
    expect([leak, all.includes(leak)]).toEqual([leak, false]);
  });

  it.each(PARTLY)(
    "AOPay's %j in the CIBIL question, an answer choice and the report shows no digit",
    async (text, hidden, leak) => {
      const body = fixtureJson("cibil/generate-otp.success") as { result: { questions: Record<string, unknown> } };
      const choice = { AnswerChoiceText: `A/c ${text}`, Key: "ANSWER", AnswerChoiceId: "4220112750" };
      const questions = { ...body.result.questions, FullQuestionText: `Is it ${text}?`, AnswerChoice: [choice] };
      const asked = await answered({ ...body, result: { ...body.result, questions } }, "generateCibilOtp", () =>
        s.t.gql(GENERATE_CIBIL_OTP, cibilInput(String(230000000 + ++id))),
      );
      expect(asked.result).toMatchObject({
        question: { text: `Is it ${hidden}?`, answerChoices: [{ text: `A/c ${hidden}`, key: "ANSWER" }] },
      });
      // The report is handed on as it came, but for such a number, in any string value at any depth.
      const history = { status: "SUCCESS", result: { customer: { mobile: text }, accounts: [{ holder: [text] }] } };
      const cibilId = String(240000000 + ++id);
      const input = { cibilId, accessToken: cibilToken(cibilId), otp: "4829", questionKey: "q1", answerKey: "a1" };
      const verified = await answered(
        fixtureJson("cibil/submit-otp.success"),
        "submitCibilOtp",
        () => s.t.gql(SUBMIT_CIBIL_OTP, { input }),
        history,
      );
      expect(verified.result).toMatchObject({
        creditHistory: { report: { customer: { mobile: hidden }, accounts: [{ holder: [hidden] }] } },
      });
      const all = `${asked.text}\n${asked.logAndSpans}\n${verified.text}\n${verified.logAndSpans}`;
      expect([leak, all.includes(leak)]).toEqual([leak, false]);
    },
  );

  it("a standalone number in the question keeps the scrubber's mask; AOPay's identifiers there are handed on", async () => {
    const body = fixtureJson("cibil/generate-otp.success") as { result: { questions: Record<string, unknown> } };
    const questions = { ...body.result.questions, FullQuestionText: `Is ${OTHERS.mobile} yours? Ref 4220112750123456` };
    const got = await answered({ ...body, result: { ...body.result, questions } }, "generateCibilOtp", () =>
      s.t.gql(GENERATE_CIBIL_OTP, cibilInput(String(210000000 + ++id))),
    );
    // A run of 16 digits that holds an Aadhaar-shaped part (`422011275012`) is masked, its last four kept as in any
    // question's text (pii/scrub.ts holdsNumber); only the merchant reference's documented form is kept (outcome.ts).
    expect(got.result).toMatchObject({
      question: { text: "Is XXXXXX3210 yours? Ref XXXXXXXXXXXX3456", key: "1423489238" },
    });
  });
});
