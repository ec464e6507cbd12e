import { type FamilyBodies, type SimReply, replyFor } from "./reply";
import { scenarioFor } from "./scenarios";
import type { SimCredentials, SimRequestContext } from "./types";
import { otpFailureMessage } from "./state";

/** AEPS bank-wise registration family (docs/upstream/aopay-api.md §2), shaped on the ResendOTP seed page. */

/** The documented ResendOTP error example, verbatim (fixtures/aeps/resend-otp.error.json). */
export const AEPS_DOCUMENTED_ERROR = { status: false, response_code: 5, message: "Invalid signature encoding" };

type Body = Record<string, unknown>;

function failure(message: string) {
  // {status, response_code, message}: the AEPS pages' 401 schema, which the analogous Paysprint API also uses inside
  // HTTP 200 for business failures (docs/upstream/aopay-api.md §3, analogy only). The message is the simulator's own.
  return { status: false, response_code: 0, message };
}

function malformed(field: string): SimReply {
  return { kind: "json", status: 200, body: failure(`Simulated: request field ${field} is missing or malformed`) };
}

const isText = (v: unknown, max: number): v is string => typeof v === "string" && v.length > 0 && v.length <= max;

/** Field checks shared by ResendOTP and VerifyOTP ("Userkey (maximum 12 characters)", "Mobile Integer", "Pipe Must Be bank6"). */
function checkCommon(body: Body, creds: SimCredentials): SimReply | null {
  if (body.RegistrationID !== creds.registrationId) return { kind: "json", status: 401, body: AEPS_DOCUMENTED_ERROR };
  if (!isText(body.Userkey, 12)) return malformed("Userkey");
  if (typeof body.Mobile !== "number" || !/^[6-9][0-9]{9}$/.test(String(body.Mobile))) return malformed("Mobile");
  if (body.Pipe !== "bank6") return malformed("Pipe");
  if (!isText(body.AccessModeType, 16)) return malformed("AccessModeType");
  if (typeof body.AdhaarNumber !== "string" || !/^[0-9]{12}$/.test(body.AdhaarNumber)) return malformed("AdhaarNumber");
  if (!isText(body.PrimaryKeyId, 128)) return malformed("PrimaryKeyId");
  if (!isText(body.EncodeTxnId, 128)) return malformed("EncodeTxnId");
  return null;
}

/** One registration session per agent, customer and reference. */
const sessionKey = (body: Body) => [body.Userkey, body.Mobile, body.AdhaarNumber, body.PrimaryKeyId].join("|");

function withScenario(
  body: Body,
  success: () => unknown,
  rejected = failure("Simulated: OTP resend limit reached for this registration"),
): SimReply {
  const bodies: FamilyBodies = { success, unauthorized: AEPS_DOCUMENTED_ERROR, rejected };
  return replyFor(scenarioFor(String(body.Mobile)), bodies);
}

export function resendOtp(body: Body, creds: SimCredentials, ctx: SimRequestContext): SimReply {
  const bad = checkCommon(body, creds);
  if (bad) return bad;
  return withScenario(body, () => {
    ctx.state.openAepsSession(sessionKey(body), true);
    return {
      status: true,
      msg: "OTP Resend Request Completed",
      data: {
        message: "OTP Resend Request Completed",
        response_code: 1,
        error_code: 0,
        data: { primaryKeyId: body.PrimaryKeyId, encodeTxnId: body.EncodeTxnId },
      },
      statusCode: 200,
    };
  });
}

export function verifyOtp(body: Body, creds: SimCredentials, ctx: SimRequestContext): SimReply {
  const bad = checkCommon(body, creds);
  if (bad) return bad;
  if (typeof body.Otp !== "string" || !/^[0-9]{4,8}$/.test(body.Otp)) return malformed("Otp");
  return withScenario(
    body,
    () => {
      const key = sessionKey(body);
      // The registration step that sends the first OTP is undocumented (not in our API): the first sight of a
      // registration's references stands for it.
      ctx.state.openAepsSession(key, false);
      const check = ctx.state.checkAepsOtp(key, body.Otp as string);
      if (!check.ok) return failure(otpFailureMessage(check, "call ResendOTP for a new one"));
      // The simulator's own body, in the ResendOTP example's shape. AOPay says a transaction reference is returned;
      // its field name is undocumented, so this one is invented (and the server does not expose it).
      return {
        status: true,
        msg: "Registration verified",
        data: {
          message: "Registration verified",
          response_code: 1,
          error_code: 0,
          data: { simulatedTransactionRef: `SIMAEPS${String(ctx.sequence).padStart(10, "0")}` },
        },
        statusCode: 200,
      };
    },
    failure("Simulated: OTP verification rejected for this registration"),
  );
}
