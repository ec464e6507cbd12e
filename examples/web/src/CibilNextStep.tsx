import {
  isFailure,
  type GenerateCibilOtpMutation,
  type SubmitCibilOtpInput,
  useSubmitCibilOtpMutation,
} from "@aopay-graphql/client/react";
import { type FormEvent, useState } from "react";
import { CreditReport } from "./CreditReport";
import { Field } from "./Field";
import { FailureNotice, OutcomePanel, problemsOf, SubmitButton } from "./Outcome";
import { useOtpAction } from "./use-otp-action";

type CibilOtpChallenge = Extract<GenerateCibilOtpMutation["generateCibilOtp"], { __typename: "CibilOtpChallenge" }>;

/**
 * Step 2 of the CIBIL flow: answer the question with the OTP the customer received. A wrong OTP comes back as
 * UpstreamRejected with AOPay's message (the simulator's says how many attempts are left); the right one verifies the
 * customer, and the verification result carries their credit report (resolved by the server only because it was
 * selected; CreditReport.tsx shows it).
 */
export function CibilNextStep({ challenge, accessToken }: { challenge: CibilOtpChallenge; accessToken: string }) {
  const choices = challenge.question?.answerChoices ?? [];
  const [otp, setOtp] = useState("");
  const [answerKey, setAnswerKey] = useState(choices[0]?.key ?? "");
  const [submitOtp] = useSubmitCibilOtpMutation();
  const { submit, sending, outcome } = useOtpAction((input: SubmitCibilOtpInput, key: string) =>
    // no-cache: the answer carries the credit report, which stays in this component's state, not in Apollo's cache.
    submitOtp({ variables: { input }, context: { headers: { "Idempotency-Key": key } }, fetchPolicy: "no-cache" }),
  );
  const problems = problemsOf(outcome);
  const result = outcome?.data?.submitCibilOtp;

  if (challenge.nextStep !== "VERIFY_ANSWERS" || !challenge.question?.key) {
    return (
      <p className="next-step">
        AOPay names a next step this example does not know: "{challenge.nextStepName ?? "none"}".
      </p>
    );
  }
  const questionKey = challenge.question.key;
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void submit({ cibilId: challenge.cibilId, accessToken, otp, questionKey, answerKey });
  };

  return (
    <div className="next-step" data-testid="cibil-submit">
      <h3>Answer with the OTP</h3>
      <form onSubmit={onSubmit} noValidate>
        <Field
          id="cibilOtp"
          label="OTP"
          inputMode="numeric"
          value={otp}
          onChange={setOtp}
          problem={problems["input.otp"]}
          hint="Simulator: the OTP is 123456"
        />
        {choices.length > 1 && (
          <div className="field">
            <label htmlFor="answerKey">Answer</label>
            <select id="answerKey" value={answerKey} onChange={(event) => setAnswerKey(event.target.value)}>
              {choices.map((choice) => (
                <option key={choice.id} value={choice.key}>
                  {choice.text}
                </option>
              ))}
            </select>
          </div>
        )}
        <SubmitButton sending={sending} label="Submit OTP" busyLabel="Checking…" />
      </form>

      <OutcomePanel outcome={outcome} result={result} testId="cibil-submit-outcome">
        {result?.__typename === "CibilOtpVerified" && (
          <div className="notice success" data-typename={result.__typename}>
            <p>Customer verified ({result.status}).</p>
            <dl>
              <dt>CIBIL id (as AOPay returns it)</dt>
              <dd>{result.cibilId ?? "–"}</dd>
              <dt>Returning customer</dt>
              <dd>
                {result.returningCustomer === null ? "AOPay did not say" : result.returningCustomer ? "yes" : "no"}
              </dd>
            </dl>
            <h4>Credit report</h4>
            {isFailure(result.creditHistory) ? (
              <FailureNotice failure={result.creditHistory} />
            ) : (
              <CreditReport history={result.creditHistory} />
            )}
          </div>
        )}
      </OutcomePanel>
    </div>
  );
}
