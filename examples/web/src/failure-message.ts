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
      // The cooldown (OTP_COOLDOWN_SECONDS, up to a day) also follows a send AOPay declined or whose outcome is
      // unknown, and a send to the same mobile for another CIBIL id: not "moments ago", not surely delivered.
      if (failure.code === "OTP_COOLDOWN")
        return `An OTP was sent to this customer, or its send attempted, within the resend cooldown. ${tryAgain(failure.retryAfterSeconds, "You can send another")}`;
      if (failure.code === "OTP_LIMIT_REACHED")
        return `This customer has had the most OTPs allowed in the window or day. ${tryAgain(failure.retryAfterSeconds)}`;
      if (failure.code === "VERIFY_LIMIT_REACHED")
        return `Too many OTP attempts for this customer. ${tryAgain(failure.retryAfterSeconds)} Request a new OTP if this one has expired by then.`;
      return `The OTP requests allowed per window are used up (limit: ${failure.scope.toLowerCase().replace("_", " ")}). ${tryAgain(failure.retryAfterSeconds)}`;
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
        return `The registrations allowed per window from this network or app are used up. Nothing was sent. ${tryAgain(failure.retryAfterSeconds)}`;
      if (failure.code === "OTP_SEND_IN_PROGRESS")
        return `An OTP send to this customer is under way or unconfirmed. Nothing was sent. ${tryAgain(failure.retryAfterSeconds)}`;
      return `Another registration of this customer is under way or unconfirmed. Nothing was sent. ${tryAgain(failure.retryAfterSeconds)}`;
    case "ReadThrottled":
      // A credit-report read past its budget (READ_*): AOPay was not asked. Only DESTINATION is about this customer's
      // report (the one already shown stays valid); IP counts every report asked for from this network, consented or
      // not, and its page may show none. A window lasts minutes (READ_CIBIL_WINDOW_SECONDS: 1800 s), not "just now".
      if (failure.scope === "CLIENT")
        return `This app read as many credit reports as allowed per window. ${tryAgain(failure.retryAfterSeconds)}`;
      if (failure.scope === "IP")
        return `This network asked for as many credit reports as allowed per window. ${tryAgain(failure.retryAfterSeconds)}`;
      return `This customer's credit report was read as often as allowed per window: use the one already shown. ${tryAgain(failure.retryAfterSeconds)}`;
    default: {
      const unknown: never = failure;
      return `Unexpected failure: ${JSON.stringify(unknown)}`;
    }
  }
}

/**
 * The sentence for an error the server answered before doing anything, with a wait (its Retry-After): 503 OVERLOADED,
 * SERVICE_UNAVAILABLE and AUTH_UNAVAILABLE, 408 REQUEST_TIMEOUT (docs/api.md "Refusals before GraphQL runs"). Each
 * says what it is: the page said "The server is busy" to all four, while a draining server, an identity provider
 * that cannot be reached and a request body that came too slowly are no load of the server's.
 */
export function waitedRefusal(code: string | null, seconds: number): string {
  const wait = `Nothing was sent. Try again in ${seconds} second${seconds === 1 ? "" : "s"}.`;
  switch (code) {
    case "OVERLOADED":
      return `The server is busy and refused the request before doing anything. ${wait}`;
    case "SERVICE_UNAVAILABLE":
      return `The server is shutting down and refused the request before doing anything. ${wait}`;
    case "AUTH_UNAVAILABLE":
      return `Your credentials could not be checked (the identity provider is unavailable): the request was refused before doing anything. ${wait}`;
    case "REQUEST_TIMEOUT":
      return `The request did not reach the server in time, so it did nothing. ${wait}`;
    default:
      return `The server refused the request before doing anything${code === null ? "" : ` (${code})`}. ${wait}`;
  }
}

function tryAgain(seconds: number | null, what = "Try again"): string {
  return seconds === null ? `${what} later.` : `${what} in ${seconds} second${seconds === 1 ? "" : "s"}.`;
}
