// @ts-check
"use strict";
/**
 * What the benchmark's systems send to and receive from the fake AOPay upstream, shared by the fake upstream and
 * the reference systems (floor, minimal Apollo, Apollo + RESTDataSource). Our server does not use this file: it has
 * its own client. Field names and paths are the ones our server sends (src/aopay/endpoints/cibil-generate-otp.ts,
 * aeps-resend-otp.ts; docs/upstream/aopay-api.md), so every system puts the same bytes on the wire.
 *
 * The partner credentials are bench-only values: the fake upstream accepts these and nothing else.
 */
const fs = require("node:fs");
const path = require("node:path");

const API_PREFIX = "/api/AOP";
const CIBIL_PATH = `${API_PREFIX}/CibilScore/GenerateOTP`;
const AEPS_PATH = `${API_PREFIX}/V1/AEPS/UserRegisterBankWise/ResendOTP`;
const REGISTRATION_ID = "BENCH-REG-0001";
const COMPANY_CODE = "BENCHCO01";
/** Our server's defaults for AOPAY_AEPS_PIPE and AOPAY_AEPS_ACCESS_MODE_TYPE. */
const AEPS_PIPE = "bank6";
const AEPS_ACCESS_MODE_TYPE = "SITE";

const FIXTURES = path.resolve(__dirname, "../../test/fixtures/aopay");
/**
 * The documented success examples (test/fixtures/aopay/README.md), parsed. The fake upstream answers exactly these
 * (re-serialised without the file's indentation); the bench's answer checks read their values from here.
 */
const fixtures = {
  cibil: JSON.parse(fs.readFileSync(path.join(FIXTURES, "cibil/generate-otp.success.json"), "utf8")),
  aeps: JSON.parse(fs.readFileSync(path.join(FIXTURES, "aeps/resend-otp.success.json"), "utf8")),
};

/** AOPay's request object for CibilScore/GenerateOTP (`cibil_id` is a JSON number, as our server sends it). */
function cibilWire(/** @type {{ cibilId: string, accessToken: string }} */ input) {
  return {
    cibil_id: Number(input.cibilId),
    access_token: input.accessToken,
    RegistrationID: REGISTRATION_ID,
    CompanyCode: COMPANY_CODE,
  };
}
const cibilWireBody = (/** @type {{ cibilId: string, accessToken: string }} */ input) =>
  JSON.stringify(cibilWire(input));

/**
 * @typedef {{ userKey: string, mobile: string, aadhaar: string, primaryKeyId: string, encodeTxnId: string }} AepsInput
 */

/** AOPay's request object for ResendOTP, field spellings as the page's Body Parameters block (`Userkey`, `AdhaarNumber`). */
function aepsWire(/** @type {AepsInput} */ input) {
  return {
    Userkey: input.userKey,
    Mobile: Number(input.mobile),
    Pipe: AEPS_PIPE,
    AccessModeType: AEPS_ACCESS_MODE_TYPE,
    AdhaarNumber: input.aadhaar.replace(/ /g, ""),
    PrimaryKeyId: input.primaryKeyId,
    EncodeTxnId: input.encodeTxnId,
    RegistrationID: REGISTRATION_ID,
  };
}
const aepsWireBody = (/** @type {AepsInput} */ input) => JSON.stringify(aepsWire(input));

/** "true"/"false" strings (AOPay's spelling) or real booleans; anything else is null. */
function readBoolean(/** @type {unknown} */ v) {
  if (typeof v === "boolean") return v;
  if (typeof v === "string") {
    const w = v.trim().toLowerCase();
    if (w === "true") return true;
    if (w === "false") return false;
  }
  return null;
}

const str = (/** @type {unknown} */ v) => (typeof v === "string" ? v : typeof v === "number" ? String(v) : null);

/**
 * Maps AOPay's GenerateOTP success envelope to the GraphQL answer's `generateCibilOtp` object, with the same field
 * names and value rules as our server's CibilOtpChallenge (status word to enum, string booleans to booleans, one
 * AnswerChoice object to a list). Written the plain way a hand-made pass-through or a simple resolver would.
 * @param {any} envelope parsed upstream JSON
 * @param {string} requestedId the cibilId that was asked for (fallback when the answer has none)
 */
function mapGenerateOtp(envelope, requestedId) {
  const result = envelope && typeof envelope.result === "object" && envelope.result !== null ? envelope.result : {};
  const q = result.questions && typeof result.questions === "object" ? result.questions : null;
  const statusWord = String(result.cibil_status ?? "")
    .trim()
    .toLowerCase();
  const nextStepName = str(result.next_api_call);
  const choices = q ? (Array.isArray(q.AnswerChoice) ? q.AnswerChoice : q.AnswerChoice ? [q.AnswerChoice] : []) : [];
  return {
    __typename: "CibilOtpChallenge",
    cibilId: str(result.cibil_id) ?? requestedId,
    status: statusWord === "pending" ? "PENDING" : statusWord === "success" ? "SUCCESS" : "UNRECOGNIZED",
    nextStep:
      nextStepName === null ? null : nextStepName === "cibil-verify-answers" ? "VERIFY_ANSWERS" : "UNRECOGNIZED",
    nextStepName,
    merchantTransactionId: str(envelope.merchant_trans_id),
    question: q
      ? {
          key: str(q.Key),
          text: str(q.FullQuestionText),
          lastChance: readBoolean(q.LastChanceQuestion),
          skipEligible: readBoolean(q.skipEligible),
          resendEligible: readBoolean(q.resendEligible),
          answerChoices: choices.map((/** @type {any} */ c) => ({
            id: str(c.AnswerChoiceId),
            key: str(c.Key),
            text: str(c.AnswerChoiceText),
          })),
        }
      : null,
  };
}

/**
 * Maps AOPay's ResendOTP success envelope to the `resendAepsOtp` object, with the same fields as our server's
 * AepsOtpResent (masked Aadhaar and mobile, `data.response_code`, `data.error_code` as a string, the inner ids).
 * @param {any} envelope @param {AepsInput} input
 */
function mapResendOtp(envelope, input) {
  const outer = envelope && typeof envelope.data === "object" && envelope.data !== null ? envelope.data : {};
  const inner = outer.data && typeof outer.data === "object" ? outer.data : {};
  const aadhaar = input.aadhaar.replace(/ /g, "");
  return {
    __typename: "AepsOtpResent",
    upstreamMessage: str(outer.message) ?? str(envelope.msg),
    upstreamResponseCode: Number.isInteger(outer.response_code) ? outer.response_code : null,
    upstreamErrorCode: str(outer.error_code),
    primaryKeyId: str(inner.primaryKeyId),
    encodeTxnId: str(inner.encodeTxnId),
    maskedAadhaar: `XXXX XXXX ${aadhaar.slice(-4)}`,
    maskedMobile: `XXXXXX${input.mobile.slice(-4)}`,
  };
}

/** AOPay's success signal: `status` true or "SUCCESS" (case-insensitive), as our server reads it (src/aopay/envelope.ts). */
function isSuccess(/** @type {any} */ envelope) {
  const s = envelope?.status;
  return s === true || (typeof s === "string" && ["success", "true"].includes(s.trim().toLowerCase()));
}

module.exports = {
  API_PREFIX,
  CIBIL_PATH,
  AEPS_PATH,
  REGISTRATION_ID,
  COMPANY_CODE,
  AEPS_PIPE,
  AEPS_ACCESS_MODE_TYPE,
  fixtures,
  cibilWire,
  aepsWire,
  cibilWireBody,
  aepsWireBody,
  mapGenerateOtp,
  mapResendOtp,
  isSuccess,
};
