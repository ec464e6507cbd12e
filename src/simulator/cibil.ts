import { type FamilyBodies, type SimReply, replyFor } from "./reply";
import { scenarioFor } from "./scenarios";
import type { SimCredentials, SimRequestContext } from "./server";

/**
 * CIBIL family as documented on readapi.aopay.co.in (aopay-api.md §1). Success bodies follow the GenerateOTP seed
 * example field for field; values are derived from the request and a per-simulator sequence, so runs are repeatable.
 */

/** The documented generic CIBIL error example, verbatim (fixtures/cibil.generic-error.json). */
export const CIBIL_GENERIC_ERROR = {
  code: "207",
  description: "Amount is Requaired",
  merchantTrxnRefId: null,
  token: null,
  status: "False",
};

function cibilUnauthorized() {
  // Shape from the pages' 401 schema {responsecode:int, status:bool, message:string}; the message is the simulator's.
  return { responsecode: 401, status: false, message: "Simulated: partner credentials not recognised" };
}

function malformed(field: string): SimReply {
  return {
    kind: "json",
    status: 200,
    body: { ...CIBIL_GENERIC_ERROR, code: "400", description: `Simulated: request field ${field} is missing or malformed` },
  };
}

export function generateOtp(body: Record<string, unknown>, creds: SimCredentials, ctx: SimRequestContext): SimReply {
  if (body.RegistrationID !== creds.registrationId || body.CompanyCode !== creds.companyCode) {
    return { kind: "json", status: 401, body: cibilUnauthorized() };
  }
  // GenerateOTP documents cibil_id as Int (example 102277100).
  if (typeof body.cibil_id !== "number" || !Number.isSafeInteger(body.cibil_id) || body.cibil_id < 0) return malformed("cibil_id");
  if (typeof body.access_token !== "string" || body.access_token === "") return malformed("access_token");

  const cibilId = String(body.cibil_id);
  const seq = ctx.sequence;
  const masked = `9${cibilId.padStart(4, "0").slice(-4)}****`;
  const text = `The One Time Password is sent to ${masked}. Please enter the One Time Password.`;
  const bodies: FamilyBodies = {
    success: () => ({
      result: {
        cibil_id: cibilId,
        cibil_status: "Pending",
        questions: {
          LastChanceQuestion: "false",
          FullQuestionText: text,
          AnswerChoice: { AnswerChoiceText: text, Key: "USER_TO_INPUT_ANSWER", AnswerChoiceId: String(4220112750 + seq) },
          Key: String(1423489238 + seq),
          skipEligible: "false",
          resendEligible: "true",
        },
        next_api_call: "cibil-verify-answers",
      },
      status: "SUCCESS",
      message: "success",
      error_code: "SPC-200",
      merchant_trans_id: `SIMCBL${String(seq).padStart(12, "0")}`,
    }),
    unauthorized: cibilUnauthorized(),
    rejected: CIBIL_GENERIC_ERROR,
  };
  return replyFor(scenarioFor(cibilId), bodies);
}
