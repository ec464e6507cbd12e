import { maskEmail } from "../../pii/email";
import { maskMobile } from "../../pii/mobile";
import { maskPan } from "../../pii/pan";
import { type Endpoint, formatDob, issuedId, scrubbed } from "../endpoint";
import { readObject, readString } from "../envelope";
import type { OrderRef } from "../order-id";

/**
 * CIBIL registeration (sic): `/api/AOP/CibilScore/registeration`.
 * Source: https://readapi.aopay.co.in/Cibilapiv1Registeration (docs/upstream/aopay-api.md §1.1).
 *
 * Method: the page header says "Get" while its cURL sample sends POST; the real method is UNKNOWN. We follow the
 * header (GET with a JSON body, like the three other CIBIL pages); AOPAY_CIBIL_REGISTRATION_METHOD=POST switches.
 * Response: "200 Json", no example. We read only the fields the sibling CIBIL envelopes carry (`result.cibil_id` on
 * GenerateOTP/SubmitOTP, top-level `access_token` on SubmitOTP); anything else stays out of the public schema and is
 * logged by key name only (see AopayClient).
 */
export interface RegisterCibilCustomerRequest {
  firstName: string;
  middleName: string | null;
  lastName: string;
  /** 10-character PAN, upper case, validated at the edge. */
  pan: string;
  /** ISO calendar date, YYYY-MM-DD; written on the wire in AOPAY_DOB_FORMAT. */
  dateOfBirth: string;
  email: string;
  mobile: string;
}

export interface CibilRegisterAnswer {
  orderId: string;
  /** `result.cibil_id` (or a top-level `cibil_id`) when AOPay sends one. */
  cibilId: string | null;
  /** Top-level `access_token` when AOPay sends one (null in the only stored CIBIL example). */
  accessToken: string | null;
  upstreamMessage: string | null;
  merchantTransactionId: string | null;
  /** The registered mobile, PAN and e-mail, masked (pii/): what the answer may show of the request. */
  maskedMobile: string;
  maskedPan: string;
  maskedEmail: string;
}

/**
 * The answer with the CIBIL id as AOPay issued it (`issuedCibilId`), unscrubbed: the id its GenerateOTP sends for,
 * under which the registration's mobile is remembered (graphql/guarded-mutations.ts `registers`). Never shown nor
 * stored: `cibilId` is the copy the client sees, scrubbed of the partner credentials and of the request's own values
 * wherever they appear in it (endpoint.ts issuedId), and an id holding one (a numeric company code among its digits)
 * was remembered under that copy, which no CIBIL id canonicalises to: its mobile was not remembered at all, and a send
 * to the id (told some other way: AOPay's ids are numbers) was budgeted by the id alone
 * (test/e2e/registered-mobile-issued-id.test.ts).
 */
export interface CibilRegistration extends CibilRegisterAnswer {
  issuedCibilId: string | null;
  /**
   * The access token as AOPay issued it, unscrubbed, for the same reason: the one its GenerateOTP may find the customer
   * by (which of id and token it does, docs/upstream/aopay-api.md §1.2 does not say), linked to the id's mobiles.
   * Never shown nor stored with the result.
   */
  issuedAccessToken: string | null;
}

/** Every wire key this endpoint reads: the rest of a response is reported as unknown (by name, never value). */
export const REGISTER_KNOWN_KEYS = [
  "status",
  "message",
  "error_code",
  "merchant_trans_id",
  "access_token",
  "result",
  "result.cibil_id",
  "cibil_id",
];

export function cibilRegister(
  method: "GET" | "POST",
): Endpoint<RegisterCibilCustomerRequest & OrderRef, CibilRegistration> {
  return {
    name: "cibil.register",
    method,
    path: "/CibilScore/registeration",
    // Creates a customer at AOPay: never retried once it may have left, and an unreadable 2xx is OUTCOME_UNKNOWN.
    sideEffect: true,
    knownKeys: REGISTER_KNOWN_KEYS,

    toWire(input, ctx) {
      return {
        order_id: input.orderId,
        first_name: input.firstName,
        // "(optional)" per the page: left out when absent rather than sent empty.
        ...(input.middleName ? { middle_name: input.middleName } : {}),
        last_name: input.lastName,
        pancard: input.pan,
        date_of_birth: formatDob(input.dateOfBirth, ctx.dobFormat),
        email_id: input.email,
        // A string here ("9999999999"), unlike AEPS where Mobile is an integer (Observation 3).
        mobile_number: input.mobile,
        RegistrationID: ctx.registrationId,
        CompanyCode: ctx.companyCode,
      };
    },

    // Every value of the customer's, in the forms sent (the date of birth as on the wire too).
    sensitive: (input, ctx) => [
      input.firstName,
      input.middleName,
      input.lastName,
      input.pan,
      input.dateOfBirth,
      formatDob(input.dateOfBirth, ctx.dobFormat),
      input.email,
      input.mobile,
    ],

    fromWire(envelope, input, scrubber) {
      const result = readObject(envelope.body.result) ?? {};
      const message = envelope.message;
      const issuedCibilId = readString(result.cibil_id) ?? readString(envelope.body.cibil_id);
      return {
        orderId: input.orderId,
        // Both are what the client sends GenerateOTP next: identifiers, handed on as issued (partner credentials aside).
        cibilId: issuedId(issuedCibilId, scrubber),
        issuedCibilId: issuedCibilId ?? null,
        accessToken: issuedId(readString(envelope.body.access_token), scrubber),
        issuedAccessToken: readString(envelope.body.access_token) ?? null,
        upstreamMessage: scrubbed(message, scrubber),
        merchantTransactionId: envelope.merchantTransactionId ?? null,
        maskedMobile: maskMobile(input.mobile),
        maskedPan: maskPan(input.pan),
        maskedEmail: maskEmail(input.email),
      };
    },
  };
}
