import type { AopayError } from "../../aopay/errors";
import { FailureCode } from "./failure-code.enum";
import { OutcomeUnknown, type UpstreamFailure, UpstreamRejected, UpstreamUnauthorized, UpstreamUnavailable } from "./failure.types";

/** Client-facing messages, one per code. Fixed text: never upstream bodies, URLs, hosts or customer data. */
export const FAILURE_MESSAGES: Record<FailureCode, string> = {
  [FailureCode.UPSTREAM_REJECTED]: "AOPay declined the request.",
  [FailureCode.UPSTREAM_UNAUTHORIZED]: "AOPay refused this service's credentials. This is a server configuration problem.",
  [FailureCode.UPSTREAM_UNAVAILABLE]: "AOPay is unavailable right now. Try again later.",
  [FailureCode.UPSTREAM_TIMEOUT]: "AOPay did not accept the request in time. Nothing was sent; try again.",
  [FailureCode.UPSTREAM_BAD_RESPONSE]: "AOPay answered with something this service cannot read.",
  [FailureCode.OUTCOME_UNKNOWN]:
    "The request reached AOPay but no answer came back: the OTP may have been sent. Ask the customer before sending again.",
};

/** The single mapping from upstream errors to GraphQL failure members (STYLE.md principle 4). */
export function toFailure(error: AopayError): UpstreamFailure {
  const code = FailureCode[error.code];
  const base = { code, message: FAILURE_MESSAGES[code], retryable: error.retryable };
  switch (error.code) {
    case "UPSTREAM_REJECTED":
      return Object.assign(new UpstreamRejected(), base, upstreamText(error));
    case "UPSTREAM_UNAUTHORIZED":
      return Object.assign(new UpstreamUnauthorized(), base, upstreamText(error));
    case "UPSTREAM_UNAVAILABLE":
    case "UPSTREAM_TIMEOUT":
    case "UPSTREAM_BAD_RESPONSE":
      return Object.assign(new UpstreamUnavailable(), base, { retryAfterSeconds: error.retryAfterSeconds ?? null });
    case "OUTCOME_UNKNOWN":
      return Object.assign(new OutcomeUnknown(), base);
  }
}

function upstreamText(error: AopayError) {
  return { upstreamCode: error.upstreamCode ?? null, upstreamMessage: error.upstreamMessage ?? null };
}
