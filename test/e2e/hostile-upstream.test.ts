import { gzipSync } from "node:zlib";
import { MAX_CONTENT_CODINGS } from "../../src/aopay/transport";
import { byPath, type FakeHandler, json } from "../helpers/fake-upstream";
import { fixtureJson } from "../helpers/fixtures";
import {
  aepsInput,
  cibilInput,
  GENERATE_CIBIL_OTP,
  RESEND_AEPS_OTP,
  resultOf,
  SUBMIT_CIBIL_OTP,
} from "../helpers/operations";
import { stackOnFakeUpstream } from "../helpers/stack";

/**
 * A hostile or broken AOPay (or a proxy before it): answers whose every byte is AOPay's choice. Each must end as a
 * typed result with one upstream call per send, never as an INTERNAL_SERVER_ERROR after an OTP may have left.
 */
type Json = Record<string, unknown>;
const GENERATED = fixtureJson("cibil/generate-otp.success") as Json & { result: Json };
const SUBMITTED = fixtureJson("cibil/submit-otp.success") as Json & { result: Json };
const SUBMISSION = {
  input: { cibilId: "102277100", accessToken: "tok102277100", otp: "123456", questionKey: "q1", answerKey: "a1" },
};

/** AOPay with `generate` and `submit` at their paths, and `history` at GetCreditHistory. */
function cibil(generate: Json, submit: Json = SUBMITTED, history: FakeHandler = json(200, SUBMITTED)): FakeHandler {
  return byPath({ "/GenerateOTP": json(200, generate), "/SubmitOTP": json(200, submit) }, history);
}

/** Each describe block's server and scripted AOPay: AOPAY_DEADLINE_MS 1 s, the upstream's calls counted per test. */
const ON_FAKE_UPSTREAM = { env: { AOPAY_DEADLINE_MS: "1000" }, callsPerTest: true } as const;

describe("a hostile upstream: answers shaped to break us end as typed results", () => {
  const s = stackOnFakeUpstream(ON_FAKE_UPSTREAM);

  /** Words every object inherits a property of (a lookup in an object literal found a function or a prototype). */
  const INHERITED = ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"];

  it.each(INHERITED)("GenerateOTP's cibil_status and next_api_call %j read UNRECOGNIZED", async (word) => {
    s.upstream.respond(
      cibil({ ...GENERATED, result: { ...GENERATED.result, cibil_status: word, next_api_call: word } }),
    );
    const res = await s.t.gql(GENERATE_CIBIL_OTP, cibilInput());
    expect(res.body.errors).toBeUndefined();
    expect(resultOf(res.body, "generateCibilOtp")).toMatchObject({
      __typename: "CibilOtpChallenge",
      status: "UNRECOGNIZED",
      nextStep: "UNRECOGNIZED",
      nextStepName: word,
    });
    expect(s.upstream.calls).toHaveLength(1);
  });

  it.each(INHERITED)("SubmitOTP's cibil_status %j reads UNRECOGNIZED", async (word) => {
    s.upstream.respond(cibil(GENERATED, { ...SUBMITTED, result: { ...SUBMITTED.result, cibil_status: word } }));
    const res = await s.t.gql(SUBMIT_CIBIL_OTP, SUBMISSION);
    expect(res.body.errors).toBeUndefined();
    expect(resultOf(res.body, "submitCibilOtp")).toMatchObject({
      __typename: "CibilOtpVerified",
      status: "UNRECOGNIZED",
    });
    expect(s.upstream.calls.filter((c) => c.path.endsWith("/SubmitOTP"))).toHaveLength(1);
  });
});

/** `depth` levels of nesting: `{"d":{"d":…{"d":"leaf"}…}}` (the outermost object is level 1). */
const nested = (depth: number): string => '{"d":'.repeat(depth) + '"leaf"' + "}".repeat(depth);

describe("a credit report nested deeper than the response writer can hold", () => {
  const s = stackOnFakeUpstream(ON_FAKE_UPSTREAM);
  const HISTORY_OF_VERIFIED = 'creditHistory":{"__typename":"CibilCreditHistory"';

  beforeEach(() => s.t.logs.clear());

  const report = (text: string) =>
    cibil(GENERATED, SUBMITTED, (_call, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(`{"status":"SUCCESS","message":"ok","result":${text}}`);
    });

  it("5,000 levels (10 kB): the verification answered, its history UPSTREAM_BAD_RESPONSE, a warning", async () => {
    s.upstream.respond(report(nested(5_000)));
    const res = await s.t.gql(SUBMIT_CIBIL_OTP, SUBMISSION);
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    const verified = resultOf(res.body, "submitCibilOtp");
    expect(verified).toMatchObject({ __typename: "CibilOtpVerified", status: "SUCCESS" });
    expect(verified.creditHistory).toMatchObject({ code: "UPSTREAM_BAD_RESPONSE", retryable: false });
    expect(s.upstream.calls.filter((c) => c.path.endsWith("/SubmitOTP"))).toHaveLength(1);
    const warning = s.t.logs.records().find((r) => r.level === "warn");
    expect(warning).toMatchObject({
      upstream: { endpoint: "cibil.creditHistory", outcome: "UPSTREAM_BAD_RESPONSE", httpStatus: 200 },
    });
    expect(warning?.msg).toContain("nested deeper than 64 levels");
    expect(s.t.logs.raw()).not.toContain("leaf");
  });

  it("arrays count as objects do: 5,000 nested arrays are refused the same way", async () => {
    s.upstream.respond(report(`{"a":${"[".repeat(5_000)}${"]".repeat(5_000)}}`));
    const res = await s.t.gql(SUBMIT_CIBIL_OTP, SUBMISSION);
    expect(res.body.errors).toBeUndefined();
    expect(resultOf(res.body, "submitCibilOtp").creditHistory).toMatchObject({ code: "UPSTREAM_BAD_RESPONSE" });
  });

  it("64 levels, the bound, are handed on unchanged", async () => {
    s.upstream.respond(report(nested(64)));
    const res = await s.t.gql(SUBMIT_CIBIL_OTP, SUBMISSION);
    expect(res.body.errors).toBeUndefined();
    expect(res.text).toContain(HISTORY_OF_VERIFIED);
    expect(resultOf(res.body, "submitCibilOtp").creditHistory).toMatchObject({ report: JSON.parse(nested(64)) });
  });

  it("65 levels are not", async () => {
    s.upstream.respond(report(nested(65)));
    const res = await s.t.gql(SUBMIT_CIBIL_OTP, SUBMISSION);
    expect(res.body.errors).toBeUndefined();
    expect(resultOf(res.body, "submitCibilOtp").creditHistory).toMatchObject({ code: "UPSTREAM_BAD_RESPONSE" });
  });
});

/**
 * Integers beyond 2^53, as AOPay may write an identifier (the docs type `cibil_id` as Int, §1.2, and give no range):
 * read as doubles they changed digits silently, and the client sent the changed one back.
 */
describe("integers beyond 2^53 keep the digits AOPay wrote", () => {
  const s = stackOnFakeUpstream(ON_FAKE_UPSTREAM);
  const BIG = "123456789012345678901";
  const BIGGER = "31415926535897932384";
  const answer =
    (text: string): FakeHandler =>
    (_call, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(text);
    };

  it("GenerateOTP: its CIBIL id, the question's key and an answer's id, as numbers", async () => {
    const text = JSON.stringify(GENERATED)
      .replace('"cibil_id":"9362678"', `"cibil_id":${BIG}`)
      .replace('"Key":"1423489238"', `"Key":${BIGGER}`)
      .replace('"AnswerChoiceId":"4220112750"', `"AnswerChoiceId": -${BIG}`);
    s.upstream.respond(answer(text));
    const res = await s.t.gql(GENERATE_CIBIL_OTP, cibilInput());
    expect(res.body.errors).toBeUndefined();
    const challenge = resultOf(res.body, "generateCibilOtp");
    expect(challenge).toMatchObject({ __typename: "CibilOtpChallenge", cibilId: BIG, question: { key: BIGGER } });
    expect(challenge.question).toMatchObject({ answerChoices: [{ id: `-${BIG}` }] });
  });

  it("AEPS ResendOTP: PrimaryKeyId and EncodeTxnId, as numbers", async () => {
    const text = JSON.stringify(fixtureJson("aeps/resend-otp.success"))
      .replace('"primaryKeyId":"TEST"', `"primaryKeyId":${BIG}`)
      .replace('"encodeTxnId":"DEMO"', `"encodeTxnId":${BIGGER}`);
    s.upstream.respond(answer(text));
    const res = await s.t.gql(RESEND_AEPS_OTP, aepsInput());
    expect(res.body.errors).toBeUndefined();
    expect(resultOf(res.body, "resendAepsOtp")).toMatchObject({
      __typename: "AepsOtpResent",
      primaryKeyId: BIG,
      encodeTxnId: BIGGER,
    });
  });

  it("the credit report: handed on with the digits as written, other numbers unchanged", async () => {
    const report = `{"account":${BIG},"list":[-${BIGGER}, 742, 1.5, 1e3],"nested":{"n":${BIG}}}`;
    s.upstream.respond(cibil(GENERATED, SUBMITTED, answer(`{"status":"SUCCESS","result":${report}}`)));
    const res = await s.t.gql(SUBMIT_CIBIL_OTP, SUBMISSION);
    expect(res.body.errors).toBeUndefined();
    expect(res.text).toContain(`"report":{"account":${BIG},"list":[-${BIGGER},742,1.5,1000],"nested":{"n":${BIG}}}`);
  });
});

/** `body` gzipped `layers` times, under a Content-Encoding naming each layer. */
function gzippedTimes(layers: number, body: string): FakeHandler {
  let bytes = Buffer.from(body);
  for (let i = 0; i < layers; i++) bytes = gzipSync(bytes);
  return (_call, res) => {
    res.writeHead(200, {
      "content-type": "application/json",
      "content-encoding": Array(layers).fill("gzip").join(", "),
    });
    res.end(bytes);
  };
}

/**
 * Content codings are undone synchronously, each capped at the response cap but their number bounded only by the
 * header: 2,500 of them (a 930 kB answer) held the event loop 2.7 s. At most MAX_CONTENT_CODINGS (curl's 5) are undone.
 */
describe.each([
  ["generateCibilOtp", GENERATE_CIBIL_OTP, cibilInput(), GENERATED, "CibilOtpChallenge"],
  ["resendAepsOtp", RESEND_AEPS_OTP, aepsInput(), fixtureJson("aeps/resend-otp.success"), "AepsOtpResent"],
])("%s: content codings beyond MAX_CONTENT_CODINGS are not undone", (field, doc, vars, success, typename) => {
  const s = stackOnFakeUpstream(ON_FAKE_UPSTREAM);

  it(`${MAX_CONTENT_CODINGS} gzip layers: the success it is`, async () => {
    s.upstream.respond(gzippedTimes(MAX_CONTENT_CODINGS, JSON.stringify(success)));
    const res = await s.t.gql(doc, vars);
    expect(resultOf(res.body, field)).toMatchObject({ __typename: typename });
  });

  it(`${MAX_CONTENT_CODINGS + 1} layers: unreadable, so OUTCOME_UNKNOWN on a send, and one call`, async () => {
    s.upstream.respond(gzippedTimes(MAX_CONTENT_CODINGS + 1, JSON.stringify(success)));
    const res = await s.t.gql(doc, vars);
    expect(resultOf(res.body, field)).toMatchObject({ __typename: "OutcomeUnknown", code: "OUTCOME_UNKNOWN" });
    await new Promise((r) => setTimeout(r, 50));
    expect(s.upstream.calls).toHaveLength(1);
  });
});
