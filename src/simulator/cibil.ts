import { type FamilyBodies, type SimReply, replyFor } from "./reply";
import { aopayMaskedCibilId, aopayMaskedMobile, sampleReport, simFetchDate } from "./report";
import { scenarioFor } from "./scenarios";
import type { SimCredentials, SimRequestContext } from "./types";
import { otpFailureMessage } from "./state";

/**
 * CIBIL family as documented on readapi.aopay.co.in (docs/upstream/aopay-api.md §1). Success bodies follow the
 * documented examples (GenerateOTP seed page; white-label SubmitOTP page) field for field, filled from the customer's
 * record (state.ts): for the customer of AOPay's own examples they are those examples exactly
 * (test/e2e/simulator-contract.test.ts). registeration and GetCreditHistory have no documented example: their
 * success bodies use the same envelope and are marked below as the simulator's own.
 */

/** The documented generic CIBIL error example, verbatim (fixtures/cibil/generic-error.json). */
export const CIBIL_GENERIC_ERROR = {
  code: "207",
  description: "Amount is Requaired",
  merchantTrxnRefId: null,
  token: null,
  status: "False",
};

type Body = Record<string, unknown>;

function cibilUnauthorized() {
  // Shape from the pages' 401 schema {responsecode:int, status:bool, message:string}; the message is the simulator's.
  return { responsecode: 401, status: false, message: "Simulated: partner credentials not recognised" };
}

/** A failure inside HTTP 200 in the generic error's shape; the code and text are the simulator's. */
function failure(code: string, description: string): SimReply {
  return { kind: "json", status: 200, body: { ...CIBIL_GENERIC_ERROR, code, description } };
}

const malformed = (field: string) => failure("400", `Simulated: request field ${field} is missing or malformed`);
const isText = (v: unknown, max = 256): v is string => typeof v === "string" && v.length > 0 && v.length <= max;
const partnerOk = (body: Body, creds: SimCredentials) =>
  body.RegistrationID === creds.registrationId && body.CompanyCode === creds.companyCode;

function success(ctx: SimRequestContext, extra: Body): Body {
  return {
    status: "SUCCESS",
    message: "success",
    error_code: "SPC-200",
    merchant_trans_id: ctx.ids.merchantTransactionId(ctx.sequence),
    ...extra,
  };
}

/** Answers through the scenario table: the last three digits of `trigger` pick a failure, else `bodies.success`. */
function withScenario(trigger: string, successBody: () => Body): SimReply {
  const bodies: FamilyBodies = {
    success: successBody,
    unauthorized: cibilUnauthorized(),
    rejected: CIBIL_GENERIC_ERROR,
  };
  return replyFor(scenarioFor(trigger), bodies);
}

/** registeration (sic), GET or POST (its method is undocumented: the page says GET, its cURL POST). */
export function register(body: Body, creds: SimCredentials, ctx: SimRequestContext): SimReply {
  if (!partnerOk(body, creds)) return { kind: "json", status: 401, body: cibilUnauthorized() };
  for (const field of ["order_id", "first_name", "last_name", "pancard", "date_of_birth", "email_id"]) {
    if (!isText(body[field])) return malformed(field);
  }
  if (body.middle_name !== undefined && !isText(body.middle_name)) return malformed("middle_name");
  if (typeof body.mobile_number !== "string" || !/^[6-9][0-9]{9}$/.test(body.mobile_number))
    return malformed("mobile_number");
  if (!/^[0-9]{2}\/[0-9]{2}\/[0-9]{4}$|^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(body.date_of_birth as string))
    return malformed("date_of_birth");
  return withScenario(body.mobile_number, () => {
    const profile = {
      pan: body.pancard as string,
      mobile: body.mobile_number as string,
      firstName: body.first_name as string,
      middleName: (body.middle_name as string | undefined) ?? null,
      lastName: body.last_name as string,
    };
    const customer = ctx.state.register(profile, () => ctx.ids.cibilId());
    // The simulator's own body: the documented envelope, with `access_token` where SubmitOTP's example has it and
    // `result.cibil_id` where GenerateOTP's has it. AOPay's real registeration answer is undocumented.
    return success(ctx, { access_token: customer.accessToken, result: { cibil_id: customer.cibilId } });
  });
}

export function generateOtp(body: Body, creds: SimCredentials, ctx: SimRequestContext): SimReply {
  if (!partnerOk(body, creds)) return { kind: "json", status: 401, body: cibilUnauthorized() };
  // GenerateOTP documents cibil_id as Int (example 102277100).
  if (typeof body.cibil_id !== "number" || !Number.isSafeInteger(body.cibil_id) || body.cibil_id < 0)
    return malformed("cibil_id");
  if (!isText(body.access_token)) return malformed("access_token");

  const cibilId = String(body.cibil_id);
  return withScenario(cibilId, () => {
    const customer = ctx.state.cibilCustomer(cibilId, body.access_token as string);
    if (customer === "token-mismatch")
      return {
        ...CIBIL_GENERIC_ERROR,
        code: "403",
        description: "Simulated: access_token does not belong to this cibil_id",
      };
    const questionKey = ctx.ids.questionKey(ctx.sequence);
    ctx.state.issueCibilOtp(cibilId, questionKey);
    // The customer's own registered mobile (a sandbox id's stand-in), masked as AOPay's example masks it.
    const text = `The One Time Password is sent to ${aopayMaskedMobile(customer.mobile)}. Please enter the One Time Password.`;
    return {
      result: {
        cibil_id: cibilId,
        cibil_status: "Pending",
        questions: {
          LastChanceQuestion: "false",
          FullQuestionText: text,
          AnswerChoice: {
            AnswerChoiceText: text,
            Key: "USER_TO_INPUT_ANSWER",
            AnswerChoiceId: ctx.ids.answerChoiceId(ctx.sequence),
          },
          Key: questionKey,
          skipEligible: "false",
          resendEligible: "true",
        },
        next_api_call: "cibil-verify-answers",
      },
      ...success(ctx, {}),
    };
  });
}

export function submitOtp(body: Body, creds: SimCredentials, ctx: SimRequestContext): SimReply {
  if (!partnerOk(body, creds)) return { kind: "json", status: 401, body: cibilUnauthorized() };
  // SubmitOTP documents cibil_id as a String ("xyz byj").
  if (!isText(body.cibil_id, 32)) return malformed("cibil_id");
  for (const field of ["access_token", "otp", "question_key", "answer_key"])
    if (!isText(body[field])) return malformed(field);
  const cibilId = body.cibil_id;
  return withScenario(cibilId, () => {
    const customer = ctx.state.cibilCustomer(cibilId, body.access_token as string);
    if (customer === "token-mismatch")
      return {
        ...CIBIL_GENERIC_ERROR,
        code: "403",
        description: "Simulated: access_token does not belong to this cibil_id",
      };
    const wasVerified = customer.verified;
    const check = ctx.state.checkCibilOtp(cibilId, body.question_key as string, body.otp as string);
    if (!check.ok)
      return {
        ...CIBIL_GENERIC_ERROR,
        code: "422",
        description: otpFailureMessage(check, "call GenerateOTP for a new one"),
      };
    // The white-label SubmitOTP example, field for field (cibil_id masked as there), from the customer's record:
    // returning once verified before; the fetch date of the last report served (null, as in the example, before any).
    return success(ctx, {
      access_token: null,
      result: {
        cibil_id: aopayMaskedCibilId(cibilId),
        cibil_status: "Success",
        is_returning_customer: wasVerified ? 1 : 0,
        cibil_score_fetch_date: customer.lastReportAt === null ? null : simFetchDate(customer.lastReportAt),
      },
    });
  });
}

export function creditHistory(body: Body, creds: SimCredentials, ctx: SimRequestContext): SimReply {
  if (!partnerOk(body, creds)) return { kind: "json", status: 401, body: cibilUnauthorized() };
  if (!isText(body.client_order_id, 64)) return malformed("client_order_id");
  if (!isText(body.cibil_id, 32)) return malformed("cibil_id");
  const cibilId = body.cibil_id;
  return withScenario(cibilId, () => {
    const customer = ctx.state.customer(cibilId);
    if (!customer?.verified)
      return {
        ...CIBIL_GENERIC_ERROR,
        code: "412",
        description: "Simulated: the customer has not completed OTP verification",
      };
    // The simulator's own payload, labelled as such (report.ts): AOPay's history shape is undocumented.
    const now = ctx.state.now();
    ctx.state.reportServed(cibilId);
    return success(ctx, { result: sampleReport(customer, body.client_order_id as string, now) });
  });
}
