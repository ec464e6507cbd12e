import { type Endpoint, issuedId, scrubbed } from "../endpoint";
import { scrubbedQuestionText } from "../outcome";
import type { TextScrubber } from "../../pii/scrub";
import { type JsonObject, readFlag, readObject, readString } from "../envelope";

/**
 * CIBIL GenerateOTP: `GET /api/AOP/CibilScore/GenerateOTP` with a JSON body.
 * Source: https://readapi.aopay.co.in/Cibilapiv1GenerateOTP.aspx (seed page; fixture cibil/generate-otp.success.json).
 */
export interface GenerateCibilOtpRequest {
  /** Digits only; validated at the GraphQL edge. */
  cibilId: string;
  accessToken: string;
}

export type CibilStatus = "PENDING" | "SUCCESS" | "UNRECOGNIZED";
export type CibilNextStep = "VERIFY_ANSWERS" | "UNRECOGNIZED";

export interface CibilAnswerChoice {
  id: string;
  key: string;
  text: string;
}

export interface CibilQuestion {
  key: string | null;
  text: string | null;
  lastChance: boolean | null;
  skipEligible: boolean | null;
  resendEligible: boolean | null;
  answerChoices: CibilAnswerChoice[];
}

export interface CibilGenerateOtpAnswer {
  cibilId: string;
  status: CibilStatus;
  question: CibilQuestion | null;
  nextStep: CibilNextStep | null;
  nextStepName: string | null;
  merchantTransactionId: string | null;
}

/**
 * AOPay's words (lower-cased `cibil_status`, `next_api_call` as sent) to ours: Maps, not object literals. Looked up in
 * a literal, a word AOPay chose could name a property every object inherits: `constructor`, `__proto__` or `toString`
 * read a function or Object.prototype as the status, and the client of a delivered OTP got INTERNAL_SERVER_ERROR
 * instead of its challenge (an audit of a hostile upstream). The docs list no values for either: §1.3's example shows
 * `"cibil_status": "Success"`, the GenerateOTP fixture (cibil/generate-otp.success.json) `Pending` and
 * `cibil-verify-answers`; any other word reads UNRECOGNIZED.
 */
export const CIBIL_STATUS_WORDS: ReadonlyMap<string, CibilStatus> = new Map([
  ["pending", "PENDING"],
  ["success", "SUCCESS"],
]);
const NEXT_STEP: ReadonlyMap<string, CibilNextStep> = new Map([["cibil-verify-answers", "VERIFY_ANSWERS"]]);

export const cibilGenerateOtp: Endpoint<GenerateCibilOtpRequest, CibilGenerateOtpAnswer> = {
  name: "cibil.generateOtp",
  // "Get" on the page, and every code sample sends GET with a body (Observation 1): undici can, fetch cannot.
  method: "GET",
  path: "/CibilScore/GenerateOTP",
  sideEffect: true,
  knownKeys: [
    "status",
    "message",
    "error_code",
    "merchant_trans_id",
    "result",
    "result.cibil_id",
    "result.cibil_status",
    "result.questions",
    "result.next_api_call",
  ],

  toWire(input, ctx) {
    return {
      // Documented as Int on this page (example 102277100) though String on SubmitOTP (Observation 3). The edge only
      // admits up to 15 digits, so the number is exact.
      cibil_id: Number(input.cibilId),
      access_token: input.accessToken,
      RegistrationID: ctx.registrationId,
      CompanyCode: ctx.companyCode,
    };
  },

  // The CIBIL id (canonical, so the same digits as the number sent: pii/cibil-id.ts) and the token.
  sensitive: (input) => [input.cibilId, input.accessToken],

  fromWire(envelope, input, scrubber) {
    const result = readObject(envelope.body.result) ?? {};
    const questions = readObject(result.questions);
    // The question's texts keep a glued number's last four digits (outcome.ts scrubbedQuestionText), to be answerable.
    const text = (v: unknown) => {
      const s = readString(v);
      return s === undefined ? null : scrubbedQuestionText(s, scrubber);
    };
    const statusWord = readString(result.cibil_status)?.trim().toLowerCase();
    const nextStepWord = readString(result.next_api_call);
    const id = (v: unknown) => issuedId(readString(v), scrubber);
    return {
      // The example answers with a different id than it was asked for (9362678 vs 102277100); the docs do not say
      // whether AOPay can renumber, so the answer wins and the request is the fallback.
      // An identifier (the client's next call sends it). The request's own id is one of the values an identifier must
      // not carry (TextScrubber.identifier), yet it is the answer expected here: that one is taken as it was sent.
      cibilId: readString(result.cibil_id) === input.cibilId ? input.cibilId : (id(result.cibil_id) ?? input.cibilId),
      status: (statusWord !== undefined && CIBIL_STATUS_WORDS.get(statusWord)) || "UNRECOGNIZED",
      question: questions
        ? {
            // SubmitOTP's question_key: sent back as it came.
            key: id(questions.Key),
            text: text(questions.FullQuestionText),
            // "true"/"false" strings in the example; AOPay's other flag spellings too (envelope.ts readFlag); absent
            // stays null (undocumented).
            lastChance: readFlag(questions.LastChanceQuestion),
            skipEligible: readFlag(questions.skipEligible),
            resendEligible: readFlag(questions.resendEligible),
            answerChoices: answerChoices(questions.AnswerChoice, scrubber),
          }
        : null,
      nextStep: nextStepWord === undefined ? null : (NEXT_STEP.get(nextStepWord) ?? "UNRECOGNIZED"),
      // AOPay's word as text: matched above as it came, shown scrubbed (it is free text from the answer).
      nextStepName: scrubbed(nextStepWord, scrubber),
      merchantTransactionId: envelope.merchantTransactionId ?? null,
    };
  },
};

/**
 * `AnswerChoice` is a single object in the only example. Bureau questionnaires can offer several choices and the docs
 * are silent on that case, so an array is accepted too; entries missing an id, key or text are dropped.
 */
function answerChoices(value: unknown, scrubber: TextScrubber): CibilAnswerChoice[] {
  const items = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
  const out: CibilAnswerChoice[] = [];
  for (const item of items) {
    const o: JsonObject | undefined = readObject(item);
    const id = readString(o?.AnswerChoiceId);
    const key = readString(o?.Key);
    const text = readString(o?.AnswerChoiceText);
    // The id and key are SubmitOTP's answer_key material, sent back as they came; the text is free text.
    if (id !== undefined && key !== undefined && text !== undefined)
      out.push({
        id: scrubber.identifier(id),
        key: scrubber.identifier(key),
        text: scrubbedQuestionText(text, scrubber),
      });
  }
  return out;
}
