import { registerEnumType } from "type-graphql";

/** Stable codes of every failure result member. Clients branch on these, never on messages. */
export enum FailureCode {
  UPSTREAM_REJECTED = "UPSTREAM_REJECTED",
  UPSTREAM_UNAUTHORIZED = "UPSTREAM_UNAUTHORIZED",
  UPSTREAM_UNAVAILABLE = "UPSTREAM_UNAVAILABLE",
  UPSTREAM_TIMEOUT = "UPSTREAM_TIMEOUT",
  UPSTREAM_BAD_RESPONSE = "UPSTREAM_BAD_RESPONSE",
  OUTCOME_UNKNOWN = "OUTCOME_UNKNOWN",
}

registerEnumType(FailureCode, {
  name: "FailureCode",
  description: "Stable machine-readable code of a failure result.",
  valuesConfig: {
    UPSTREAM_REJECTED: { description: "AOPay answered and declined the request; see upstreamCode and upstreamMessage." },
    UPSTREAM_UNAUTHORIZED: { description: "AOPay refused this service's partner credentials (a server configuration problem)." },
    UPSTREAM_UNAVAILABLE: { description: "AOPay could not be reached or answered with a server error. Try again later." },
    UPSTREAM_TIMEOUT: { description: "The deadline passed before the request was sent to AOPay. Nothing was sent." },
    UPSTREAM_BAD_RESPONSE: { description: "AOPay answered with something this service cannot read (redirect, error page)." },
    OUTCOME_UNKNOWN: { description: "The request reached AOPay but no usable answer came back: the OTP may have been sent." },
  },
});
