import { type Endpoint, scrubbed } from "../endpoint";
import { readFlag, readObject, readString } from "../envelope";
import { CIBIL_STATUS_WORDS, type CibilStatus } from "./cibil-generate-otp";

/**
 * CIBIL SubmitOTP: `GET /api/AOP/CibilScore/SubmitOTP` with a JSON body.
 * Source: https://readapi.aopay.co.in/Cibilapiv1SubmitOTP.aspx; success example only on the white-label page
 * https://readapi.bos.center/Cibilapiv1SubmitOTP (fixture cibil/submit-otp.success.json).
 */
export interface SubmitCibilOtpRequest {
  cibilId: string;
  accessToken: string;
  otp: string;
  questionKey: string;
  answerKey: string;
}

export interface CibilSubmitOtpAnswer {
  /** The id as AOPay returns it: masked in the example (`93626**`), so never reused as input. */
  cibilIdMasked: string | null;
  status: CibilStatus;
  /** `is_returning_customer`: 0 in the example, read in any of AOPay's flag spellings (readFlag); else null. */
  returningCustomer: boolean | null;
  /** `cibil_score_fetch_date`: null in the example; its format is UNKNOWN, so it is passed on as text. */
  scoreFetchDate: string | null;
  merchantTransactionId: string | null;
  /** The (unmasked) id the customer verified, from the request: what the credit history is fetched with. */
  cibilId: string;
}

export const cibilSubmitOtp: Endpoint<SubmitCibilOtpRequest, CibilSubmitOtpAnswer> = {
  name: "cibil.submitOtp",
  method: "GET",
  path: "/CibilScore/SubmitOTP",
  // Burns a verification attempt at AOPay: never retried once it may have left.
  sideEffect: true,
  knownKeys: [
    "status",
    "message",
    "error_code",
    "merchant_trans_id",
    "access_token",
    "result",
    "result.cibil_id",
    "result.cibil_status",
    "result.is_returning_customer",
    "result.cibil_score_fetch_date",
  ],

  toWire(input, ctx) {
    return {
      // A string on this page ("xyz byj"), unlike GenerateOTP's Int (Observation 3).
      cibil_id: input.cibilId,
      access_token: input.accessToken,
      otp: input.otp,
      question_key: input.questionKey,
      answer_key: input.answerKey,
      RegistrationID: ctx.registrationId,
      CompanyCode: ctx.companyCode,
    };
  },

  sensitive: (input) => [input.cibilId, input.accessToken, input.otp],

  fromWire(envelope, input, scrubber) {
    const result = readObject(envelope.body.result) ?? {};
    const statusWord = readString(result.cibil_status)?.trim().toLowerCase();
    return {
      // Free text: AOPay's masked form (`93626**`), shown to the client; never sent back (the request's id is). Scrubbed,
      // so an answer that does not mask it shows the id redacted, not in clear.
      cibilIdMasked: scrubbed(readString(result.cibil_id), scrubber),
      status: (statusWord !== undefined && CIBIL_STATUS_WORDS.get(statusWord)) || "UNRECOGNIZED",
      returningCustomer: readFlag(result.is_returning_customer),
      scoreFetchDate: scrubbed(readString(result.cibil_score_fetch_date), scrubber),
      merchantTransactionId: envelope.merchantTransactionId ?? null,
      cibilId: input.cibilId,
    };
  },
};
