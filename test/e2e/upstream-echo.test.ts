import { MAX_UPSTREAM_TEXT_CHARS } from "../../src/aopay/outcome";
import { SIMULATOR_COMPANY_CODE, SIMULATOR_REGISTRATION_ID } from "../../src/config";
import { json } from "../helpers/fake-upstream";
import { devanagari } from "../helpers/identifiers";
import {
  GENERATE_CIBIL_OTP,
  REGISTER_CIBIL_CUSTOMER,
  RESEND_AEPS_OTP,
  resultOf,
  SUBMIT_CIBIL_OTP,
  VERIFY_AEPS_OTP,
} from "../helpers/operations";
import { LENIENT_THROTTLE, stackOnFakeUpstream, type TestStack } from "../helpers/stack";

/**
 * What AOPay answers is its text, and it can carry the request's own values back: an audit made the upstream answer
 * an OTP as `error_code`, a mobile written `98765 43210`, an Aadhaar as `2341.2341.2346` or `uid_<aadhaar>`, a token
 * in a question's text, `MT<mobile><aadhaar>` as the merchant reference, an identifier as a key name. Each reached the
 * client, the log or both. Here a scripted upstream echoes every value of each request in those spellings, in every
 * field we read (message, codes, reference, question and answer texts, an undocumented key), for each operation that
 * sends one, on success and on failure; no spelling of any of them may appear in a response or a log line (debug).
 */
const OTP = "40719263";
const TOKEN = "tokECHO7f3a9c55";
const CIBIL_ID = "731904";
const MOBILE = "9182736450";
const AADHAAR = "999971658847";
const PAN = "CNRPY7315Q";
const NAME = "Zebediah";
const EMAIL_LOCAL = "zeb.echo";
const DOB = "1987-11-29";

/** A registration's input: the customer's own details, each of which the upstream echoes. */
const REGISTRATION = {
  firstName: NAME,
  lastName: "Echo",
  pan: PAN,
  dateOfBirth: DOB,
  email: `${EMAIL_LOCAL}@example.org`,
  mobile: MOBILE,
};
const [M1, M2] = [MOBILE.slice(0, 5), MOBILE.slice(5)];
const A = AADHAAR.match(/.{4}/g) as string[];
/** Each value's spellings the upstream writes back (every one of which must not come out), by what a request sends. */
const SPELLED = {
  otp: [OTP, devanagari(OTP)],
  token: [TOKEN],
  cibilId: [CIBIL_ID, devanagari(CIBIL_ID)],
  mobile: [MOBILE, `${M1} ${M2}`, `${M1}-${M2}`, `${M1}\u00A0${M2}`, `+91 ${MOBILE}`, devanagari(MOBILE)],
  aadhaar: [AADHAAR, A.join(" "), A.join("."), A.join("-"), `uid_${AADHAAR}`, devanagari(A.join(" "))],
  pan: [PAN, PAN.toLowerCase()],
  name: [NAME],
  email: [`${EMAIL_LOCAL}@example.org`],
  dateOfBirth: [DOB, "29/11/1987"],
};
type Kind = keyof typeof SPELLED;

/**
 * A text holding every spelling of the given values, glued and separated as the audit wrote them (one after a JSON
 * escape too), and a token that glues the first digits of each into one (`MT<…>`, as a merchant reference).
 */
function echo(...kinds: Kind[]): { text: string; glued: string } {
  const text = kinds.map((k) => `${k}: ${SPELLED[k].join(" / ")}`).join("; ") + `\nagain ${SPELLED[kinds[0]][0]}`;
  return { text, glued: "MT" + kinds.map((k) => SPELLED[k][0]).join("") };
}

/**
 * A server in front of a scripted upstream, for one describe (its hooks start and stop both): `send` runs a mutation
 * and keeps its answer (text and headers) in `responses`, for the checks that nothing came out.
 */
function echoStack(logLevel: "debug" | "trace") {
  const { upstream, t } = stackOnFakeUpstream({ env: { ...LENIENT_THROTTLE, LOG_LEVEL: logLevel } });
  const responses: string[] = [];
  const stack = {
    upstream,
    t,
    responses,
    send: async (query: string, input: Record<string, unknown>, field: string) => {
      const res = await stack.t.gql(query, { input });
      responses.push(res.text, JSON.stringify(res.headers));
      return resultOf(res.body, field);
    },
  };
  return stack;
}

describe("nothing a request sent comes back out of what AOPay answers it, in any spelling", () => {
  const stack = echoStack("debug");
  const { responses, send } = stack;

  const aeps = { userKey: "AOP554N3XXXX", mobile: MOBILE, aadhaar: AADHAAR, primaryKeyId: "TEST", encodeTxnId: "DEMO" };

  it("AEPS: a rejection with the OTP as its code, and a success with them in its message and error code", async () => {
    const verify = echo("otp", "mobile", "aadhaar");
    stack.upstream.respond(json(200, { status: false, response_code: 5, message: verify.text, error_code: OTP }));
    const rejected = await send(VERIFY_AEPS_OTP, { ...aeps, otp: OTP }, "verifyAepsOtp");
    expect(rejected.__typename).toBe("UpstreamRejected");
    // The code was nothing but the OTP: what is left says so, and the message kept its words around the masks.
    expect(rejected.upstreamCode).toBe("[REDACTED]");
    expect(rejected.upstreamMessage).toContain("XXXXXX6450");
    expect(rejected.upstreamMessage).toContain("XXXX XXXX 8847");

    const resend = echo("mobile", "aadhaar");
    stack.upstream.respond(
      json(200, {
        status: true,
        msg: resend.text,
        statusCode: 200,
        [`uid_${AADHAAR}`]: resend.glued,
        data: { message: resend.text, response_code: 1, error_code: resend.glued, data: {} },
      }),
    );
    const resent = await send(RESEND_AEPS_OTP, aeps, "resendAepsOtp");
    expect(resent.__typename).toBe("AepsOtpResent");
    // The undocumented key was logged by name, scrubbed.
    expect(stack.t.logs.raw()).toContain("upstream answer has undocumented fields");
  });

  it("CIBIL: the OTP and token in a generic error's code, description and reference", async () => {
    const submit = echo("otp", "token", "cibilId");
    stack.upstream.respond(
      json(200, {
        code: OTP,
        description: submit.text,
        merchantTrxnRefId: submit.glued,
        token: TOKEN,
        status: "False",
      }),
    );
    const rejected = await send(
      SUBMIT_CIBIL_OTP,
      { cibilId: CIBIL_ID, accessToken: TOKEN, otp: OTP, questionKey: "q1", answerKey: "a1" },
      "submitCibilOtp",
    );
    expect(rejected.__typename).toBe("UpstreamRejected");
    expect(rejected.upstreamCode).toBe("[REDACTED]");
  });

  it("CIBIL: a challenge whose reference, question and answer texts carry the token and id", async () => {
    const generate = echo("token", "cibilId");
    stack.upstream.respond(
      json(200, {
        status: "SUCCESS",
        message: generate.text,
        error_code: "SPC-200",
        merchant_trans_id: generate.glued,
        result: {
          cibil_id: CIBIL_ID,
          questions: {
            Key: "q1",
            FullQuestionText: generate.text,
            LastChanceQuestion: "false",
            AnswerChoice: [{ AnswerChoiceId: "1", Key: "a1", AnswerChoiceText: generate.text }],
          },
        },
      }),
    );
    const challenge = await send(GENERATE_CIBIL_OTP, { cibilId: CIBIL_ID, accessToken: TOKEN }, "generateCibilOtp");
    expect(challenge.__typename).toBe("CibilOtpChallenge");
  });

  it("CIBIL: a registration rejected with the customer's own details in its message", async () => {
    const register = echo("name", "pan", "email", "dateOfBirth", "mobile");
    stack.upstream.respond(
      json(200, { code: "207", description: register.text, merchantTrxnRefId: register.glued, status: "False" }),
    );
    const rejected = await send(REGISTER_CIBIL_CUSTOMER, REGISTRATION, "registerCibilCustomer");
    expect(rejected).toMatchObject({ __typename: "UpstreamRejected", upstreamCode: "207" });
  });

  it("no spelling of any value reached a response or a log line", () => {
    // Every case above ran and the upstream saw each request once.
    expect(stack.upstream.calls).toHaveLength(5);
    // The challenge names its CIBIL id by design (the client sent it, and its next call needs it): that field alone.
    const answers = responses.join("\n").replaceAll(`"cibilId":"${CIBIL_ID}"`, '"cibilId":"<own>"');
    const found = (out: string) =>
      Object.values(SPELLED)
        .flat()
        .filter((s) => out.includes(s) || out.includes(JSON.stringify(s).slice(1, -1)));
    expect(found(answers)).toEqual([]);
    expect(found(stack.t.logs.text())).toEqual([]);
  });
});

/**
 * The same promise for the fields of a success that are not messages: an identifier AOPay issues (a registration's
 * CIBIL id and token, a question's and an answer's key and id, AEPS's PrimaryKeyId and EncodeTxnId), `next_api_call`,
 * SubmitOTP's masked id and fetch date. An upstream audit had AOPay answer the partner's credentials (in another case,
 * percent-encoded) and the request's values in spellings the masks do not know in each of them: every one reached the
 * client as it came. Each field here carries them; nothing of them may come out, in a response or a log line.
 */
describe("no field of a success carries the partner credentials or the request's values out, in any spelling", () => {
  const stack = echoStack("debug");
  const { responses, send } = stack;
  const REG = SIMULATOR_REGISTRATION_ID;
  const CO = SIMULATOR_COMPANY_CODE;
  const pct = (s: string) => [...Buffer.from(s)].map((b) => `%${b.toString(16).padStart(2, "0")}`).join("");
  /**
   * The spellings that must not come out: the partner credentials (in every answer), and each request's own values
   * (only in the answers to that request: another request's are not its to redact) as the masks do not know them.
   */
  const OWN = {
    partner: [REG, REG.toLowerCase(), CO, CO.toLowerCase()],
    mobile: [`${M1}  ${M2}`, `(${M1}) ${M2}`, `${M1}_${M2}`],
    aadhaar: [(AADHAAR.match(/.{3}/g) as string[]).join(" "), A.join("/")],
    otp: [[...OTP].join(" "), `${OTP.slice(0, 4)}-${OTP.slice(4)}`],
    token: [TOKEN.toUpperCase()],
    cibilId: [[...CIBIL_ID].join(" ")],
    name: [NAME.toUpperCase()],
  };
  const ENCODED = [pct(REG), pct(CO.toLowerCase()), A.join("%20")];
  const poisoned = (...kinds: Array<keyof typeof OWN>) =>
    [...OWN.partner, ...kinds.flatMap((k) => OWN[k])].join(" | ") +
    ` | url https://aopay.example/cb?r=${ENCODED[0]}&c=${ENCODED[1]}` +
    (kinds.includes("aadhaar") ? `&a=${ENCODED[2]}` : "");

  it("CIBIL registration: its CIBIL id and token", async () => {
    stack.upstream.respond(
      json(200, {
        status: "SUCCESS",
        message: "ok",
        access_token: poisoned("mobile", "name"),
        result: { cibil_id: poisoned("mobile", "name") },
      }),
    );
    const registered = await send(REGISTER_CIBIL_CUSTOMER, REGISTRATION, "registerCibilCustomer");
    expect(registered.__typename).toBe("CibilCustomerRegistered");
    expect(registered.cibilId).toContain("[REDACTED]");
  });

  it("CIBIL GenerateOTP: its id, next_api_call, the question's key and each answer's id and key", async () => {
    stack.upstream.respond(
      json(200, {
        status: "SUCCESS",
        result: {
          cibil_id: poisoned("cibilId", "token"),
          cibil_status: "Pending",
          next_api_call: poisoned("cibilId", "token"),
          questions: {
            Key: poisoned("cibilId", "token"),
            FullQuestionText: "Enter the OTP",
            AnswerChoice: [{ AnswerChoiceId: poisoned("token"), Key: poisoned("cibilId"), AnswerChoiceText: "OTP" }],
          },
        },
      }),
    );
    const challenge = await send(GENERATE_CIBIL_OTP, { cibilId: CIBIL_ID, accessToken: TOKEN }, "generateCibilOtp");
    expect(challenge.__typename).toBe("CibilOtpChallenge");
  });

  it("CIBIL GenerateOTP: good identifiers are handed on exactly as issued, the request's own id among them", async () => {
    // AOPay's example keys, one reading like a mobile number: sent back by the client, so never masked.
    stack.upstream.respond(
      json(200, {
        status: "SUCCESS",
        result: {
          cibil_id: CIBIL_ID,
          questions: {
            Key: "9423489238",
            AnswerChoice: { AnswerChoiceId: "4220112750", Key: "USER_TO_INPUT_ANSWER", AnswerChoiceText: "x" },
          },
        },
      }),
    );
    const challenge = await send(GENERATE_CIBIL_OTP, { cibilId: CIBIL_ID, accessToken: TOKEN }, "generateCibilOtp");
    expect(challenge).toMatchObject({
      cibilId: CIBIL_ID,
      question: { key: "9423489238", answerChoices: [{ id: "4220112750", key: "USER_TO_INPUT_ANSWER" }] },
    });
  });

  it("CIBIL SubmitOTP: the masked id (unmasked here) and the fetch date; the history's message", async () => {
    stack.upstream.respond((call, res, req) =>
      json(200, {
        status: "SUCCESS",
        message: call.path.endsWith("/GetCreditHistory") ? poisoned("cibilId") : "ok",
        merchant_trans_id: `MT${CIBIL_ID}`,
        result: call.path.endsWith("/GetCreditHistory")
          ? { score: 700 }
          : {
              cibil_id: `${poisoned("otp", "token", "cibilId")} ${CIBIL_ID}`,
              cibil_status: "Success",
              cibil_score_fetch_date: poisoned("otp", "token", "cibilId"),
            },
      })(call, res, req),
    );
    const verified = await send(
      SUBMIT_CIBIL_OTP,
      { cibilId: CIBIL_ID, accessToken: TOKEN, otp: OTP, questionKey: "q1", answerKey: "a1" },
      "submitCibilOtp",
    );
    expect(verified).toMatchObject({
      __typename: "CibilOtpVerified",
      creditHistory: { __typename: "CibilCreditHistory" },
    });
  });

  it("AEPS ResendOTP: its PrimaryKeyId and EncodeTxnId", async () => {
    stack.upstream.respond(
      json(200, {
        status: true,
        msg: "OTP Resend Request Completed",
        data: {
          response_code: 1,
          error_code: 0,
          data: { primaryKeyId: poisoned("mobile", "aadhaar"), encodeTxnId: poisoned("mobile", "aadhaar") },
        },
      }),
    );
    const aeps = {
      userKey: "AOP554N3XXXX",
      mobile: MOBILE,
      aadhaar: AADHAAR,
      primaryKeyId: "TEST",
      encodeTxnId: "DEMO",
    };
    const resent = await send(RESEND_AEPS_OTP, aeps, "resendAepsOtp");
    expect(resent.__typename).toBe("AepsOtpResent");
    expect(resent.primaryKeyId).toContain("[REDACTED]");
  });

  it("no spelling of any of them reached a response or a log line", () => {
    const answers = responses.join("\n").replaceAll(`"cibilId":"${CIBIL_ID}"`, '"cibilId":"<own>"');
    const spelt = [...Object.values(OWN).flat(), ...ENCODED, AADHAAR, MOBILE];
    const found = (out: string) => spelt.filter((s) => out.includes(s));
    expect(found(answers)).toEqual([]);
    expect(found(stack.t.logs.text())).toEqual([]);
  });
});

/**
 * AOPay's tokens that are logged (a code, the merchant reference, an undocumented key's name) are cut to
 * MAX_UPSTREAM_TOKEN_CHARS (aopay/outcome.ts): one answer of 300 kB tokens had written 600 kB of log for its request
 * (the reference on every later line, the code on the warning and the access line), and shown them whole to the client.
 */
describe("AOPay's logged tokens are bounded, however long it answers them", () => {
  const stack = echoStack("trace");
  const LONG = "R".repeat(300_000);
  /** What a cut token reads: its first 64 characters and the mark of the cut. */
  const CUT = `${"R".repeat(64)}…`;

  beforeEach(() => stack.t.logs.clear());

  /** Every line of the request that answered `headers`, and their total size. */
  const linesOf = (headers: Record<string, unknown>) => {
    const lines = stack.t.logs.lines.filter((l) => l.includes(String(headers["x-request-id"])));
    return { lines, bytes: lines.join("").length };
  };

  it("a success whose reference and undocumented key are 300 kB each", async () => {
    stack.upstream.respond(
      json(200, {
        status: "SUCCESS",
        message: "OTP sent",
        error_code: "SPC-200",
        merchant_trans_id: LONG,
        [`extra_${LONG}`]: 1,
        result: { next_api_call: "SubmitOTP" },
      }),
    );
    const res = await stack.t.gql(GENERATE_CIBIL_OTP, { input: { cibilId: "102277100", accessToken: "123456542124" } });
    const challenge = resultOf(res.body, "generateCibilOtp");
    expect(challenge).toMatchObject({ __typename: "CibilOtpChallenge", merchantTransactionId: CUT });
    const { lines, bytes } = linesOf(res.headers);
    expect(lines.some((l) => l.includes(`"merchantTransactionId":"${CUT}"`))).toBe(true);
    expect(lines.some((l) => l.includes(`"extra_${"R".repeat(58)}…"`))).toBe(true);
    expect(bytes).toBeLessThan(4_000);
  });

  it("a rejection whose code is 300 kB", async () => {
    stack.upstream.respond(json(200, { status: false, response_code: LONG, message: "declined" }));
    const res = await stack.t.gql(RESEND_AEPS_OTP, {
      input: { userKey: "AOP554N3XXXX", mobile: MOBILE, aadhaar: AADHAAR, primaryKeyId: "TEST", encodeTxnId: "DEMO" },
    });
    expect(resultOf(res.body, "resendAepsOtp")).toMatchObject({ __typename: "UpstreamRejected", upstreamCode: CUT });
    const { lines, bytes } = linesOf(res.headers);
    expect(lines.filter((l) => l.includes(`"upstreamCode":"${CUT}"`))).toHaveLength(2);
    expect(bytes).toBeLessThan(4_000);
  });

  it("AOPay's texts shown to the client are cut to MAX_UPSTREAM_TEXT_CHARS: a rejection's message, a question", async () => {
    const TEXT_CUT = `${"R".repeat(MAX_UPSTREAM_TEXT_CHARS)}…`;
    stack.upstream.respond(json(200, { status: false, response_code: 5, message: LONG }));
    const rejected = await stack.t.gql(RESEND_AEPS_OTP, {
      input: { userKey: "AOP554N3XXXX", mobile: MOBILE, aadhaar: AADHAAR, primaryKeyId: "TEST", encodeTxnId: "DEMO" },
    });
    expect(resultOf(rejected.body, "resendAepsOtp")).toMatchObject({
      __typename: "UpstreamRejected",
      upstreamMessage: TEXT_CUT,
    });
    expect(rejected.text.length).toBeLessThan(4_000);
    stack.upstream.respond(
      json(200, {
        status: "SUCCESS",
        result: {
          cibil_id: "102277101",
          questions: {
            Key: "9423489238",
            FullQuestionText: LONG,
            AnswerChoice: { AnswerChoiceId: "4220112750", Key: "k1", AnswerChoiceText: LONG },
          },
        },
      }),
    );
    const challenge = await stack.t.gql(GENERATE_CIBIL_OTP, {
      input: { cibilId: "102277101", accessToken: "tok-long" },
    });
    const question = resultOf(challenge.body, "generateCibilOtp").question as {
      text: string;
      answerChoices: Array<{ text: string }>;
    };
    expect(question.text).toBe(TEXT_CUT);
    expect(question.answerChoices[0]?.text).toBe(TEXT_CUT);
  });

  it("the request's Aadhaar number across the cut is redacted before the cut", async () => {
    stack.upstream.respond(
      json(200, { status: false, response_code: `${"R".repeat(58)}${AADHAAR}`, message: "declined" }),
    );
    const res = await stack.t.gql(RESEND_AEPS_OTP, {
      input: { userKey: "AOP554N3XXXX", mobile: MOBILE, aadhaar: AADHAAR, primaryKeyId: "TEST", encodeTxnId: "DEMO" },
    });
    const code = resultOf(res.body, "resendAepsOtp").upstreamCode as string;
    expect(code).toHaveLength(65);
    expect(code).not.toContain(AADHAAR.slice(0, 6));
    expect(stack.t.logs.raw()).not.toContain(AADHAAR.slice(0, 6));
  });
});

/**
 * A numeric company code counts in an id AOPay issued only as a whole run of digits (pii/scrub.ts SHORT_NUMBER): inside
 * a longer number it is a different number, and the id is handed on. An attack review had the code glued to a digit
 * that exists only once the id is read (`4471%31`, `4471①`, `¹4471`): the reading saw `44711`, and the client was
 * shown the id as issued, the code standing whole in it. Each is redacted, in the response and in every log line.
 */
describe("a numeric company code glued to digits only in an id's reading does not reach the client", () => {
  const CODE = "4471";
  const { upstream, t } = stackOnFakeUpstream({
    env: { AOPAY_COMPANY_CODE: CODE, ...LENIENT_THROTTLE, LOG_LEVEL: "debug" },
  });

  const resend = async (primaryKeyId: string, encodeTxnId: string) => {
    upstream?.respond(
      json(200, {
        status: true,
        msg: "OTP Resend Request Completed",
        data: { response_code: 1, error_code: 0, data: { primaryKeyId, encodeTxnId } },
      }),
    );
    const input = {
      userKey: "AOP554N3XXXX",
      mobile: MOBILE,
      aadhaar: AADHAAR,
      primaryKeyId: "TEST",
      encodeTxnId: "DEMO",
    };
    const res = await (t as TestStack).gql(RESEND_AEPS_OTP, { input });
    return { text: res.text, result: resultOf(res.body, "resendAepsOtp") };
  };

  it.each([
    ["4471%31", "4471①"],
    ["¹4471", "PK4471²"],
    // A `%` before it reads as an escape (`%44` is `D`), and the code was not found in the reading: the id went to the
    // client whole (`%4471`), as did any value whose first two characters are hex digits.
    ["%4471", "k%4471x"],
    ["%34%34%37%31", "%%4471"],
  ])("%s and %s: redacted, in the answer and the log", async (primaryKeyId, encodeTxnId) => {
    const { text, result } = await resend(primaryKeyId, encodeTxnId);
    expect(result.__typename).toBe("AepsOtpResent");
    expect(result.primaryKeyId).toContain("[REDACTED]");
    expect(result.encodeTxnId).toContain("[REDACTED]");
    expect(text).not.toContain(CODE);
    expect((t as TestStack).logs.text()).not.toContain(CODE);
  });

  it("inside a longer number as written and as read, the id is handed on as issued", async () => {
    const { result } = await resend("800447102", "1%344471");
    expect(result).toMatchObject({ primaryKeyId: "800447102", encodeTxnId: "1%344471" });
  });
});

/**
 * Partner credentials holding a number (a mobile's, an Aadhaar number's, one split by a letter), echoed by AOPay in
 * another letter case, anywhere in a text: until the any-case redaction came before the shape masks (src/pii/scrub.ts
 * Scrubber.scrubAnyCase), the masks took their digits first and the rest was no longer the secret:
 * `REG_XXXXXX3210_LIVE` was shown. Nothing of them may come out, in a response (message, code, reference, an id) or a
 * log line at any level.
 */
describe("partner credentials that hold a number, echoed in another letter case, show nothing of themselves", () => {
  const REG = "Reg_9876543210_live";
  const CO = "Co.2341-2341-2346.k";
  const { upstream, t } = stackOnFakeUpstream({
    env: { AOPAY_REGISTRATION_ID: REG, AOPAY_COMPANY_CODE: CO, ...LENIENT_THROTTLE, LOG_LEVEL: "trace" },
  });
  const spellings = [REG, CO].flatMap((s) => [
    s.toUpperCase(),
    s.toLowerCase(),
    [...s].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join(""),
  ]);
  const text = (s: string) => `${s}: rejected; Upstream error for key ${s}. last ${s}`;
  /** The credentials' letters and digits four at a time, any case: none may be left. */
  const pieces = [REG, CO].flatMap((s) => {
    const folded = s.toLowerCase().replace(/[^0-9a-z]/g, "");
    return [...Array(folded.length - 3).keys()].map((i) => folded.slice(i, i + 4));
  });
  const leaked = (out: string) => {
    const folded = out
      .toLowerCase()
      .replace(/\[redacted\]/g, "|")
      .replace(/[^0-9a-z|]/g, "");
    return pieces.filter((p) => folded.includes(p));
  };
  const aeps = { userKey: "AOP554N3XXXX", mobile: MOBILE, aadhaar: AADHAAR, primaryKeyId: "TEST", encodeTxnId: "DEMO" };

  it.each(spellings)("%s in a rejection's message, code and a success's ids", async (spelled) => {
    (upstream as NonNullable<typeof upstream>).respond(
      json(200, { status: false, response_code: 5, message: text(spelled), error_code: spelled }),
    );
    const rejected = await (t as TestStack).gql(RESEND_AEPS_OTP, { input: aeps });
    expect(resultOf(rejected.body, "resendAepsOtp").__typename).toBe("UpstreamRejected");
    (upstream as NonNullable<typeof upstream>).respond(
      json(200, {
        status: true,
        msg: text(spelled),
        data: { response_code: 1, error_code: 0, data: { primaryKeyId: spelled, encodeTxnId: `x${spelled}` } },
      }),
    );
    const resent = await (t as TestStack).gql(RESEND_AEPS_OTP, { input: aeps });
    expect(resultOf(resent.body, "resendAepsOtp").__typename).toBe("AepsOtpResent");
    expect(leaked(rejected.text + resent.text)).toEqual([]);
    expect(leaked((t as TestStack).logs.text())).toEqual([]);
  });
  it("inside an e-mail address, in another case: nothing of the address is shown either", async () => {
    // The held credential's mark cut the address for the e-mail mask, which showed the part before it (`ops.`).
    const message = `write to ops.${REG.toUpperCase()}@aopay.co.in or ${CO.toUpperCase()}.desk@aopay.co.in`;
    (upstream as NonNullable<typeof upstream>).respond(
      json(200, { status: false, response_code: 5, message, error_code: "E1" }),
    );
    const rejected = await (t as TestStack).gql(RESEND_AEPS_OTP, { input: aeps });
    expect(resultOf(rejected.body, "resendAepsOtp")).toMatchObject({
      __typename: "UpstreamRejected",
      upstreamMessage: "write to ***@aopay.co.in or ***@aopay.co.in",
    });
    expect((t as TestStack).logs.text()).not.toMatch(/ops\.|\.desk/);
  });
});
