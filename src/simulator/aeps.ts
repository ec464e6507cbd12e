import { type FamilyBodies, type SimReply, replyFor } from "./reply";
import { scenarioFor } from "./scenarios";
import type { SimCredentials } from "./server";

/** AEPS bank-wise registration family (aopay-api.md §2), shaped on the ResendOTP seed page. */

/** The documented ResendOTP error example, verbatim (fixtures/aeps.resend-otp.error.json). */
export const AEPS_DOCUMENTED_ERROR = { status: false, response_code: 5, message: "Invalid signature encoding" };

function failure(message: string) {
  // {status, response_code, message}: the AEPS pages' 401 schema, which the analogous Paysprint API also uses inside
  // HTTP 200 for business failures (aopay-api.md §3, analogy only). The message is the simulator's own.
  return { status: false, response_code: 0, message };
}

function malformed(field: string): SimReply {
  return { kind: "json", status: 200, body: failure(`Simulated: request field ${field} is missing or malformed`) };
}

const isText = (v: unknown, max: number): v is string => typeof v === "string" && v.length > 0 && v.length <= max;

export function resendOtp(body: Record<string, unknown>, creds: SimCredentials): SimReply {
  if (body.RegistrationID !== creds.registrationId) return { kind: "json", status: 401, body: AEPS_DOCUMENTED_ERROR };
  // "Userkey ... (maximum 12 characters)"; "Mobile Integer"; "Pipe Must Be bank6"; AdhaarNumber a 12-digit string.
  if (!isText(body.Userkey, 12)) return malformed("Userkey");
  if (typeof body.Mobile !== "number" || !/^[6-9][0-9]{9}$/.test(String(body.Mobile))) return malformed("Mobile");
  if (body.Pipe !== "bank6") return malformed("Pipe");
  if (!isText(body.AccessModeType, 16)) return malformed("AccessModeType");
  if (typeof body.AdhaarNumber !== "string" || !/^[0-9]{12}$/.test(body.AdhaarNumber)) return malformed("AdhaarNumber");
  if (!isText(body.PrimaryKeyId, 128)) return malformed("PrimaryKeyId");
  if (!isText(body.EncodeTxnId, 128)) return malformed("EncodeTxnId");

  const bodies: FamilyBodies = {
    success: () => ({
      status: true,
      msg: "OTP Resend Request Completed",
      data: {
        message: "OTP Resend Request Completed",
        response_code: 1,
        error_code: 0,
        data: { primaryKeyId: body.PrimaryKeyId, encodeTxnId: body.EncodeTxnId },
      },
      statusCode: 200,
    }),
    unauthorized: AEPS_DOCUMENTED_ERROR,
    rejected: failure("Simulated: OTP resend limit reached for this registration"),
  };
  return replyFor(scenarioFor(String(body.Mobile)), bodies);
}
