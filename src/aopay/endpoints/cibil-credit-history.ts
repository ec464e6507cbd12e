import { type Endpoint, scrubbed } from "../endpoint";
import { type JsonObject, readObject, readString } from "../envelope";
import type { OrderRef } from "../order-id";
import { hidePartlyMaskedIn } from "../../pii/partly-masked";

/**
 * CIBIL GetCreditHistory: `GET /api/AOP/CibilScore/GetCreditHistory` with a JSON body.
 * Source: https://readapi.aopay.co.in/Cibilapiv1GetCreditHistory (docs/upstream/aopay-api.md §1.4).
 *
 * The history payload is UNDOCUMENTED ("200 Json", no example). AOPay's `result` object is handed on exactly as it
 * arrived (`report`), without reading into it: its shape is AOPay's to define. Typed fields are read only where the
 * docs name a key: `cibil_score_fetch_date` (named on SubmitOTP, §1.3) when the history carries it.
 *
 * The report is the customer's credit file: it is never logged, not even by key name (`result.*` is known below, so
 * the unknown-keys log line leaves it out: a key inside a report can itself be an identifier), never scrubbed (it is
 * the customer's data, for the client the customer consented to) and never stored (graphql/loaders.ts). One exception:
 * a number AOPay masked in part (the customer's `mobile` as its GenerateOTP question writes it, `98765****`, the first
 * five digits) has every digit hidden in any string value (pii/partly-masked.ts): we show the last four elsewhere.
 */
export interface CreditHistoryRequest {
  cibilId: string;
}

export interface CibilCreditHistoryAnswer {
  cibilId: string;
  orderId: string;
  upstreamMessage: string | null;
  merchantTransactionId: string | null;
  /** AOPay's `result` object as received; null when the answer carried none. */
  report: JsonObject | null;
  /** `result.cibil_score_fetch_date` as text when present (its format is undocumented), else null. */
  scoreFetchDate: string | null;
}

export const cibilCreditHistory: Endpoint<CreditHistoryRequest & OrderRef, CibilCreditHistoryAnswer> = {
  name: "cibil.creditHistory",
  method: "GET",
  path: "/CibilScore/GetCreditHistory",
  // A read: safe to repeat, and an unreadable 2xx is a bad response, not an unknown outcome.
  sideEffect: false,
  // `result` is the report, handed on as it came: its nesting is bounded (outcome.ts MAX_HANDED_ON_DEPTH).
  handsOnResult: true,
  knownKeys: ["status", "message", "error_code", "merchant_trans_id", "result", "result.*"],

  toWire(input, ctx) {
    return {
      // `client_order_id` here, `order_id` on registeration (docs/upstream/aopay-api.md §1.4).
      client_order_id: input.orderId,
      cibil_id: input.cibilId,
      RegistrationID: ctx.registrationId,
      CompanyCode: ctx.companyCode,
    };
  },

  sensitive: (input) => [input.cibilId],

  fromWire(envelope, input, scrubber) {
    const message = readString(envelope.message);
    const result = readObject(envelope.body.result);
    const report = result === undefined ? null : hidePartlyMaskedIn(result);
    return {
      cibilId: input.cibilId,
      orderId: input.orderId,
      upstreamMessage: scrubbed(message, scrubber),
      merchantTransactionId: envelope.merchantTransactionId ?? null,
      report,
      // A typed field of ours, so scrubbed as every text we hand on (the report itself is handed on unchanged, above).
      scoreFetchDate: scrubbed(readString(report?.cibil_score_fetch_date), scrubber),
    };
  },
};
