import { useResendAepsOtpMutation, type ResendAepsOtpInput } from "@aopay-graphql/client/react";
import { type FormEvent, useState } from "react";
import { AepsNextStep } from "./AepsNextStep";
import { Field } from "./Field";
import { OutcomePanel, problemsOf, SubmitButton } from "./Outcome";
import { useOtpAction } from "./use-otp-action";
import { useResendCountdown } from "./use-resend-countdown";

/**
 * What the server budgets a send on: the mobile, the Aadhaar it is registered for, and the user key and registration
 * references AOPay may find the phone by (upper-cased, as the server keys them).
 */
const destinationsOf = (input: ResendAepsOtpInput) => [
  `mobile:${input.mobile.trim()}`,
  `aadhaar:${input.aadhaar.replace(/\s/g, "")}`,
  `user:${input.userKey.toUpperCase()}`,
  `primary:${input.primaryKeyId.toUpperCase()}`,
  `txn:${input.encodeTxnId.toUpperCase()}`,
];

/** Resend the AEPS bank-wise registration OTP, and show the masked identifiers and references AOPay returns. */
export function AepsResendForm() {
  // This app's own sample registration, used by no page of docs/: a send counts on each of these values (60 s
  // cooldown), so values shared with the walkthrough's were refused OTP_COOLDOWN right after it.
  const [input, setInput] = useState<ResendAepsOtpInput>({
    userKey: "AOP554N3WEB1",
    mobile: "9876543240",
    aadhaar: "6789 6789 6789",
    primaryKeyId: "TEST4",
    encodeTxnId: "DEMO4",
  });
  const [resend] = useResendAepsOtpMutation();
  const countdown = useResendCountdown();
  const { submit, sending, outcome } = useOtpAction(async (variables: ResendAepsOtpInput, key: string) => {
    const answer = await resend({ variables: { input: variables }, context: { headers: { "Idempotency-Key": key } } });
    countdown.record(destinationsOf(variables), answer.data?.resendAepsOtp);
    return answer;
  });
  const { secondsLeft } = countdown.countdownFor(destinationsOf(input));
  const problems = problemsOf(outcome);
  const result = outcome?.data?.resendAepsOtp;
  const set = (field: keyof ResendAepsOtpInput) => (value: string) => setInput({ ...input, [field]: value });

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void submit(input);
  };

  return (
    <section aria-labelledby="aeps-title">
      <h2 id="aeps-title">AEPS registration: resend OTP</h2>
      <form onSubmit={onSubmit} noValidate>
        <Field
          id="userKey"
          label="User key"
          value={input.userKey}
          onChange={set("userKey")}
          problem={problems["input.userKey"]}
        />
        <Field
          id="mobile"
          label="Mobile"
          inputMode="numeric"
          value={input.mobile}
          onChange={set("mobile")}
          problem={problems["input.mobile"]}
          hint="Simulator: ending 207 rejected, 401 unauthorized, 503 unavailable, 504 no answer"
        />
        <Field
          id="aadhaar"
          label="Aadhaar"
          inputMode="numeric"
          value={input.aadhaar}
          onChange={set("aadhaar")}
          problem={problems["input.aadhaar"]}
        />
        <Field
          id="primaryKeyId"
          label="Primary key id"
          value={input.primaryKeyId}
          onChange={set("primaryKeyId")}
          problem={problems["input.primaryKeyId"]}
        />
        <Field
          id="encodeTxnId"
          label="Encoded transaction id"
          value={input.encodeTxnId}
          onChange={set("encodeTxnId")}
          problem={problems["input.encodeTxnId"]}
        />
        <SubmitButton
          sending={sending}
          label="Resend OTP"
          busyLabel="Sending…"
          waitSeconds={secondsLeft}
          testId="aeps-send"
        />
        {secondsLeft > 0 && (
          <small className="hint" data-testid="aeps-countdown" aria-live="polite">
            A new OTP can go to this mobile and Aadhaar in {secondsLeft} s.
          </small>
        )}
      </form>

      <OutcomePanel outcome={outcome} result={result} testId="aeps-outcome">
        {result?.__typename === "AepsOtpResent" && (
          <div className="notice success" data-typename={result.__typename}>
            <p>{result.upstreamMessage ?? "AOPay resent the OTP."}</p>
            <dl>
              <dt>Aadhaar</dt>
              <dd data-testid="masked-aadhaar">{result.maskedAadhaar}</dd>
              <dt>Mobile</dt>
              <dd data-testid="masked-mobile">{result.maskedMobile}</dd>
              <dt>Primary key id</dt>
              <dd>{result.primaryKeyId ?? "–"}</dd>
              <dt>Encoded transaction id</dt>
              <dd>{result.encodeTxnId ?? "–"}</dd>
              <dt>AOPay response code</dt>
              <dd>{result.upstreamResponseCode ?? "–"}</dd>
            </dl>
          </div>
        )}
      </OutcomePanel>
      {outcome && result?.__typename === "AepsOtpResent" && (
        // The values this OTP was resent with, not the form's, which may have been edited since (to try a scenario).
        <AepsNextStep key={outcome.meta.requestId ?? "resent"} resent={result} request={outcome.input} />
      )}
    </section>
  );
}
