import { useGenerateCibilOtpMutation, type GenerateCibilOtpInput } from "@aopay-graphql/client/react";
import { type FormEvent, useState } from "react";
import { CibilNextStep } from "./CibilNextStep";
import { Field } from "./Field";
import { OutcomePanel, problemsOf, SubmitButton } from "./Outcome";
import { useOtpAction } from "./use-otp-action";
import { useResendCountdown } from "./use-resend-countdown";

/**
 * What the server budgets a send on (besides the registered mobile it knows): the CIBIL id and the customer's access
 * token, either of which AOPay may find the customer by.
 */
const destinationsOf = (input: GenerateCibilOtpInput) => [
  `cibil:${input.cibilId.trim()}`,
  `token:${input.accessToken}`,
];

/**
 * The simulator's sandbox customers take any access token; this form gives each CIBIL id its own until the token is
 * typed in. A token belongs to one customer (registerCibilCustomer returns it): the server budgets sends on it, so one
 * token typed for every id would put every id under one cooldown. A real app sends the token registration returned.
 */
const sandboxToken = (cibilId: string) => `sandbox-${cibilId.trim()}`;

/** Step 1 of the CIBIL flow: ask AOPay to send the consent OTP, then show its question. */
export function CibilOtpForm() {
  const [input, setInput] = useState<GenerateCibilOtpInput>({
    cibilId: "102277100",
    accessToken: sandboxToken("102277100"),
  });
  const [tokenTyped, setTokenTyped] = useState(false);
  const [generate] = useGenerateCibilOtpMutation();
  const countdown = useResendCountdown();
  const { submit, sending, outcome } = useOtpAction(async (variables: GenerateCibilOtpInput, key: string) => {
    const answer = await generate({
      variables: { input: variables },
      context: { headers: { "Idempotency-Key": key } },
    });
    countdown.record(destinationsOf(variables), answer.data?.generateCibilOtp);
    return answer;
  });
  const { secondsLeft, sentBefore } = countdown.countdownFor(destinationsOf(input));
  const problems = problemsOf(outcome);
  const result = outcome?.data?.generateCibilOtp;

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void submit(input);
  };

  return (
    <section aria-labelledby="cibil-title">
      <h2 id="cibil-title">CIBIL consent OTP</h2>
      <form onSubmit={onSubmit} noValidate>
        <Field
          id="cibilId"
          label="CIBIL id"
          inputMode="numeric"
          value={input.cibilId}
          onChange={(cibilId) =>
            setInput({ ...input, cibilId, accessToken: tokenTyped ? input.accessToken : sandboxToken(cibilId) })
          }
          problem={problems["input.cibilId"]}
          hint="Simulator: ending 207 rejected, 401 unauthorized, 503 unavailable, 504 no answer"
        />
        <Field
          id="accessToken"
          label="Access token"
          type="password"
          value={input.accessToken}
          onChange={(accessToken) => {
            setTokenTyped(true);
            setInput({ ...input, accessToken });
          }}
          problem={problems["input.accessToken"]}
        />
        <SubmitButton
          sending={sending}
          label={sentBefore ? "Resend OTP" : "Send OTP"}
          busyLabel="Sending…"
          waitSeconds={secondsLeft}
          testId="cibil-send"
        />
        {secondsLeft > 0 && (
          <small className="hint" data-testid="cibil-countdown" aria-live="polite">
            A new OTP can go to this customer in {secondsLeft} s.
          </small>
        )}
      </form>

      <OutcomePanel outcome={outcome} result={result} testId="cibil-outcome">
        {result?.__typename === "CibilOtpChallenge" && (
          <div className="notice success" data-typename={result.__typename}>
            <p className="question">{result.question?.text ?? "AOPay sent the OTP (no question text)."}</p>
            <dl>
              <dt>Status</dt>
              <dd>{result.status}</dd>
              <dt>Resend</dt>
              <dd data-testid="resend-eligibility">
                {result.question?.resendEligible === true
                  ? "eligible"
                  : result.question?.resendEligible === false
                    ? "not eligible"
                    : "AOPay did not say"}
              </dd>
              <dt>Last chance</dt>
              <dd>{result.question?.lastChance ? "yes" : "no"}</dd>
              <dt>Transaction</dt>
              <dd>{result.merchantTransactionId ?? "–"}</dd>
            </dl>
          </div>
        )}
      </OutcomePanel>
      {outcome && result?.__typename === "CibilOtpChallenge" && (
        // Keyed by the question: a new challenge starts a new answer (and a new Idempotency-Key). The token is the one
        // this challenge was sent with, not the form's: editing the CIBIL id gives the form another sandbox token.
        <CibilNextStep
          key={result.question?.key ?? result.cibilId}
          challenge={result}
          accessToken={outcome.input.accessToken}
        />
      )}
    </section>
  );
}
