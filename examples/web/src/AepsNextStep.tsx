import type { ResendAepsOtpMutation } from "@aopay-graphql/client/react";

type AepsOtpResent = Extract<ResendAepsOtpMutation["resendAepsOtp"], { __typename: "AepsOtpResent" }>;

/**
 * Extension point: verifying the AEPS OTP the customer received.
 *
 * When `verifyAepsOtp` is in the schema and client/operations, `npm run codegen` generates
 * `useVerifyAepsOtpMutation`: render an OTP field here and send it with `useOtpAction`, as AepsResendForm does,
 * with the references below (`primaryKeyId`, `encodeTxnId`).
 */
export function AepsNextStep({ resent }: { resent: AepsOtpResent }) {
  return (
    <p className="next-step">
      Next: verify the OTP with references {resent.primaryKeyId ?? "?"} / {resent.encodeTxnId ?? "?"}. Not part of this example yet.
    </p>
  );
}
