import {
  type ResendAepsOtpInput,
  type ResendAepsOtpMutation,
  useVerifyAepsOtpMutation,
  type VerifyAepsOtpInput,
} from "@aopay-graphql/client/react";
import { type FormEvent, useState } from "react";
import { Field } from "./Field";
import { OutcomePanel, problemsOf, SubmitButton } from "./Outcome";
import { useOtpAction } from "./use-otp-action";

type AepsOtpResent = Extract<ResendAepsOtpMutation["resendAepsOtp"], { __typename: "AepsOtpResent" }>;

/**
 * Verify the AEPS registration OTP the customer received, with the references the resend returned. A wrong OTP is
 * UpstreamRejected with AOPay's message; the right one confirms the registration (masked identifiers only).
 */
export function AepsNextStep({ resent, request }: { resent: AepsOtpResent; request: ResendAepsOtpInput }) {
  const [otp, setOtp] = useState("");
  const [verify] = useVerifyAepsOtpMutation();
  const { submit, sending, outcome } = useOtpAction((input: VerifyAepsOtpInput, key: string) =>
    verify({ variables: { input }, context: { headers: { "Idempotency-Key": key } } }),
  );
  const problems = problemsOf(outcome);
  const result = outcome?.data?.verifyAepsOtp;
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void submit({
      ...request,
      // The references AOPay returned are the ones to verify with (they equal what was sent, in AOPay's example).
      primaryKeyId: resent.primaryKeyId ?? request.primaryKeyId,
      encodeTxnId: resent.encodeTxnId ?? request.encodeTxnId,
      otp,
    });
  };

  return (
    <div className="next-step" data-testid="aeps-verify">
      <h3>Verify the OTP</h3>
      <form onSubmit={onSubmit} noValidate>
        <Field
          id="aepsOtp"
          label="Registration OTP"
          inputMode="numeric"
          value={otp}
          onChange={setOtp}
          problem={problems["input.otp"]}
          hint="Simulator: the OTP is 123456"
        />
        <SubmitButton sending={sending} label="Verify OTP" busyLabel="Checking…" />
      </form>
      <OutcomePanel outcome={outcome} result={result} testId="aeps-verify-outcome">
        {result?.__typename === "AepsRegistrationVerified" && (
          <div className="notice success" data-typename={result.__typename}>
            <p>{result.upstreamMessage ?? "Registration verified."}</p>
            <dl>
              <dt>Aadhaar</dt>
              <dd>{result.maskedAadhaar}</dd>
              <dt>Mobile</dt>
              <dd>{result.maskedMobile}</dd>
            </dl>
          </div>
        )}
      </OutcomePanel>
    </div>
  );
}
