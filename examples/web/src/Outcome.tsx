import { CombinedGraphQLErrors, ServerError } from "@apollo/client";
import {
  errorCodeOf,
  type FailureFieldsFragment,
  fieldProblems,
  isFailure,
  mayHaveBeenSent,
} from "@aopay-graphql/client/react";
import type { ReactNode } from "react";
import { describeFailure, waitedRefusal } from "./failure-message";
import type { Outcome } from "./use-otp-action";

/** The field problems of an outcome's BAD_USER_INPUT error, keyed by field path (`input.mobile`). */
export function problemsOf(outcome: Outcome<unknown> | null): Record<string, string> {
  return fieldProblems(CombinedGraphQLErrors.is(outcome?.error) ? outcome.error.errors : undefined);
}

/** Request id (for support), the Idempotency-Key sent, and whether the server replayed an earlier result. */
export function RequestInfo({ outcome }: { outcome: Outcome<unknown> }) {
  return (
    <dl className="request-info">
      <dt>Request id</dt>
      <dd data-testid="request-id">{outcome.meta.requestId ?? "unknown (no answer from the server)"}</dd>
      <dt>Idempotency-Key</dt>
      <dd data-testid="idempotency-key">{outcome.idempotencyKey}</dd>
      {outcome.meta.replayed && (
        <>
          <dt>Replayed</dt>
          <dd>yes: the stored result of the first request with this key (nothing was sent again)</dd>
        </>
      )}
    </dl>
  );
}

/** A failure member of a result union: a readable sentence, and its stable code. */
export function FailureNotice({ failure }: { failure: FailureFieldsFragment }) {
  return (
    <div className="notice failure" role="alert" data-typename={failure.__typename}>
      <p>{describeFailure(failure)}</p>
      <p className="code">
        {failure.code}
        {failure.retryable ? " · retryable" : ""}
      </p>
    </div>
  );
}

/**
 * What sending again does after an answer that may have followed the send: the key stays with the input it went with
 * (use-otp-action.ts), so only the same values reuse it; edited ones are another action, under a new key (the server
 * refuses a key with another input: 422 IDEMPOTENCY_KEY_REUSED), and the first send's outcome stays unknown.
 */
const SAME_FORM_AGAIN = "Sending again with the form unchanged is safe: it reuses the same Idempotency-Key";
const EDITED_FORM =
  "Changed values are a new request under a new key, and so is going back to these values after it: that may send " +
  "another OTP.";

/**
 * An error instead of a result: GraphQL errors, an HTTP error, or no answer at all. `retryAfterSeconds` is the
 * server's Retry-After (requestMetaOf), which only its refusals that did nothing carry (503 OVERLOADED,
 * SERVICE_UNAVAILABLE and AUTH_UNAVAILABLE, 408 REQUEST_TIMEOUT: waitedRefusal says which). The
 * server's own arrive as GraphQL errors (it answers Apollo Client's Accept with application/graphql-response+json);
 * a proxy's 503 as a ServerError. mayHaveBeenSent(error) tells a refusal that sent nothing from the rest: a 500
 * INTERNAL_SERVER_ERROR may come after the OTP went out.
 */
export function ErrorNotice({ error, retryAfterSeconds }: { error: unknown; retryAfterSeconds: number | null }) {
  let text: string;
  // "Nothing was sent" only where the server said so: a proxy's 503 page may carry Retry-After too, and proves nothing.
  if (retryAfterSeconds !== null && !mayHaveBeenSent(error)) {
    text = waitedRefusal(errorCodeOf(error), retryAfterSeconds);
  } else if (CombinedGraphQLErrors.is(error) && mayHaveBeenSent(error)) {
    // INTERNAL_SERVER_ERROR: the server failed, possibly after the OTP went out (use-otp-action.ts keeps the key).
    text = `The server failed, possibly after the OTP went out (${error.errors.map((e) => e.extensions?.code).join(", ")}). ${SAME_FORM_AGAIN}, and the server gives the first result instead of sending another OTP. ${EDITED_FORM}`;
  } else if (CombinedGraphQLErrors.is(error)) {
    const codes = error.errors.map((e) => e.extensions?.code);
    const problems = fieldProblems(error.errors);
    const other = Object.entries(problems).filter(([field]) => !field.startsWith("input."));
    text = codes.includes("BAD_USER_INPUT")
      ? `Please correct the highlighted fields.${other.map(([field, problem]) => ` ${field}: ${problem}.`).join("")} Nothing was sent.`
      : `${error.errors.map((e) => e.message).join(" ")} (${codes.join(", ")})`;
  } else if (ServerError.is(error)) {
    text = `The server answered HTTP ${error.statusCode}. ${SAME_FORM_AGAIN}. ${EDITED_FORM}`;
  } else {
    text = `Could not reach the server. ${SAME_FORM_AGAIN}, so at most one OTP goes out for it. ${EDITED_FORM}`;
  }
  return (
    <div className="notice error" role="alert">
      <p>{text}</p>
    </div>
  );
}

/**
 * The answer to one action, as every form here shows it: the error or the failure member (as sentences), the
 * success member (`children`, rendered by the caller, which knows its fields), then the request info.
 */
export function OutcomePanel({
  outcome,
  result,
  testId,
  children,
}: {
  outcome: Outcome<unknown> | null;
  /** The mutation's result union member, if the server answered with data. */
  result: { __typename: string } | FailureFieldsFragment | null | undefined;
  testId: string;
  children?: ReactNode;
}) {
  if (!outcome) return null;
  return (
    <div className="outcome" data-testid={testId} aria-live="polite">
      {outcome.error !== undefined && (
        <ErrorNotice error={outcome.error} retryAfterSeconds={outcome.meta.retryAfterSeconds} />
      )}
      {result && isFailure(result) && <FailureNotice failure={result} />}
      {children}
      <RequestInfo outcome={outcome} />
    </div>
  );
}

/**
 * The form's submit button: disabled while its request is in flight (one request per action at a time), and, for an
 * OTP send, while the server's resend countdown for this destination runs (`waitSeconds`): it says how long is left.
 */
export function SubmitButton({
  sending,
  label,
  busyLabel,
  waitSeconds = 0,
  testId,
}: {
  sending: boolean;
  label: string;
  busyLabel: string;
  waitSeconds?: number;
  testId?: string;
}) {
  return (
    <button type="submit" disabled={sending || waitSeconds > 0} data-testid={testId}>
      {sending ? busyLabel : waitSeconds > 0 ? `Resend in ${waitSeconds} s` : label}
    </button>
  );
}
