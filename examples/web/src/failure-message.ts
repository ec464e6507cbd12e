import type { FailureFieldsFragment } from "@aopay-graphql/client/react";

/**
 * A readable sentence for every failure type (docs/api.md "Results and errors"). FailureFieldsFragment is the union of
 * every type implementing `Failure`, as the FailureFields fragment selects it: a new failure type in the schema
 * makes the `never` below a compile error until it has its sentence here.
 */
export function describeFailure(failure: FailureFieldsFragment): string {
  switch (failure.__typename) {
    case "UpstreamRejected":
      return `AOPay declined the request: ${failure.upstreamMessage ?? failure.message}${failure.upstreamCode ? ` (AOPay code ${failure.upstreamCode})` : ""}.`;
    case "UpstreamUnauthorized":
      return "AOPay refused this service's credentials. This is a server configuration problem: please contact support.";
    case "UpstreamUnavailable":
      if (failure.code === "UPSTREAM_TIMEOUT")
        return `AOPay could not be reached in time. Nothing was sent. ${tryAgain(failure.retryAfterSeconds)}`;
      if (failure.code === "UPSTREAM_BAD_RESPONSE")
        return "AOPay answered with something this service cannot read. Please contact support.";
      if (failure.code === "OVERLOADED")
        return `The service is busy. Nothing was sent. ${tryAgain(failure.retryAfterSeconds)}`;
      return `AOPay is unavailable right now. ${tryAgain(failure.retryAfterSeconds)}`;
    case "OutcomeUnknown":
      return "We could not confirm whether AOPay carried this out (an OTP may have been sent). Ask the customer before trying again.";
    case "OtpThrottled":
      if (failure.code === "OTP_COOLDOWN")
        return `An OTP was sent to this customer moments ago. ${tryAgain(failure.retryAfterSeconds, "You can send another")}`;
      if (failure.code === "OTP_LIMIT_REACHED")
        return `This customer has had the most OTPs allowed for now. ${tryAgain(failure.retryAfterSeconds)}`;
      if (failure.code === "VERIFY_LIMIT_REACHED")
        return `Too many OTP attempts for this customer. ${tryAgain(failure.retryAfterSeconds)} with a new OTP.`;
      return `Too many OTP requests right now (limit: ${failure.scope.toLowerCase().replace("_", " ")}). ${tryAgain(failure.retryAfterSeconds)}`;
    case "IdempotencyConflict":
      // The wait can be a minute (the first request's server stopped), and the answer then OutcomeUnknown.
      return `The same request has not finished. ${tryAgain(failure.retryAfterSeconds, "Check its outcome")}`;
    case "ConsentRequired":
      return "The credit history is shown only after this customer's OTP has been verified here.";
    case "ProtectionUnavailable":
      // Reads get it too, and no wait is known: nothing says when the store is back.
      return "A safety check is unavailable, so AOPay was not asked. Try again later.";
    case "RegistrationRefused":
      // MOBILE_LIMIT_REACHED is not lifted by waiting (retryAfterSeconds null); RATE_LIMITED (the registration
      // budgets), OTP_SEND_IN_PROGRESS and REGISTRATION_IN_PROGRESS are, and a code added later is treated as one to
      // wait for, as its wait says.
      if (failure.code === "MOBILE_LIMIT_REACHED")
        return "This customer was registered with too many different mobile numbers recently. Nothing was sent: register with a mobile number used before for this customer, or contact support.";
      if (failure.code === "RATE_LIMITED")
        return `Too many registrations from this network or app right now. Nothing was sent. ${tryAgain(failure.retryAfterSeconds)}`;
      if (failure.code === "OTP_SEND_IN_PROGRESS")
        return `An OTP send to this customer is under way or unconfirmed. Nothing was sent. ${tryAgain(failure.retryAfterSeconds)}`;
      return `Another registration of this customer is under way or unconfirmed. Nothing was sent. ${tryAgain(failure.retryAfterSeconds)}`;
    case "ReadThrottled":
      // A credit-report read past its budget (READ_*): the report already shown stays valid; AOPay was not asked.
      if (failure.scope === "CLIENT")
        return `Too many credit reports read from this app right now. ${tryAgain(failure.retryAfterSeconds)}`;
      return `This customer's credit report was read too often just now: use the one already shown. ${tryAgain(failure.retryAfterSeconds)}`;
    default: {
      const unknown: never = failure;
      return `Unexpected failure: ${JSON.stringify(unknown)}`;
    }
  }
}

function tryAgain(seconds: number | null, what = "Try again"): string {
  return seconds === null ? `${what} later.` : `${what} in ${seconds} second${seconds === 1 ? "" : "s"}.`;
}
