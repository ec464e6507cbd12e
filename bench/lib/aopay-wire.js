// @ts-check
"use strict";
/**
 * What the benchmark's systems send to and receive from the fake AOPay upstream, shared by the fake upstream and
 * the two reference systems (floor, minimal Apollo). Our server does not use this file: it has its own client.
 *
 * The partner credentials are bench-only values: the fake upstream accepts these and nothing else.
 */

const API_PREFIX = "/api/AOP";
const GENERATE_OTP_PATH = `${API_PREFIX}/CibilScore/GenerateOTP`;
const REGISTRATION_ID = "BENCH-REG-0001";
const COMPANY_CODE = "BENCHCO01";

/** AOPay's request body for CibilScore/GenerateOTP (`cibil_id` is a JSON number, as our server sends it). */
function generateOtpWireBody(/** @type {string} */ cibilId, /** @type {string} */ accessToken) {
  return JSON.stringify({
    cibil_id: Number(cibilId),
    access_token: accessToken,
    RegistrationID: REGISTRATION_ID,
    CompanyCode: COMPANY_CODE,
  });
}

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
  const statusWord = String(result.cibil_status ?? "").trim().toLowerCase();
  const nextStepName = str(result.next_api_call);
  const choices = q ? (Array.isArray(q.AnswerChoice) ? q.AnswerChoice : q.AnswerChoice ? [q.AnswerChoice] : []) : [];
  return {
    __typename: "CibilOtpChallenge",
    cibilId: str(result.cibil_id) ?? requestedId,
    status: statusWord === "pending" ? "PENDING" : statusWord === "success" ? "SUCCESS" : "UNRECOGNIZED",
    nextStep: nextStepName === null ? null : nextStepName === "cibil-verify-answers" ? "VERIFY_ANSWERS" : "UNRECOGNIZED",
    nextStepName,
    merchantTransactionId: str(envelope.merchant_trans_id),
    question: q
      ? {
          key: str(q.Key),
          text: str(q.FullQuestionText),
          lastChance: readBoolean(q.LastChanceQuestion),
          skipEligible: readBoolean(q.skipEligible),
          resendEligible: readBoolean(q.resendEligible),
          answerChoices: choices.map((/** @type {any} */ c) => ({ id: str(c.AnswerChoiceId), key: str(c.Key), text: str(c.AnswerChoiceText) })),
        }
      : null,
  };
}

/** True when the envelope is AOPay's documented success (`status: "SUCCESS"`, case-insensitive). */
function isSuccess(/** @type {any} */ envelope) {
  return typeof envelope?.status === "string" && envelope.status.trim().toLowerCase() === "success";
}

module.exports = { API_PREFIX, GENERATE_OTP_PATH, REGISTRATION_ID, COMPANY_CODE, generateOtpWireBody, mapGenerateOtp, isSuccess };
