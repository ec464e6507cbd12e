import type { GenerateCibilOtpMutation } from "@aopay-graphql/client/react";

type CibilOtpChallenge = Extract<GenerateCibilOtpMutation["generateCibilOtp"], { __typename: "CibilOtpChallenge" }>;

/**
 * Extension point: step 2 of the CIBIL flow, answering the question with the OTP the customer received.
 *
 * When `submitCibilOtp` is in the schema and client/operations, `npm run codegen` generates
 * `useSubmitCibilOtpMutation`: render an OTP field here and send it with `useOtpAction`, as CibilOtpForm does,
 * keyed by `challenge.cibilId` and `challenge.question.key` / `answerChoices`.
 */
export function CibilNextStep({ challenge }: { challenge: CibilOtpChallenge }) {
  return (
    <p className="next-step">
      Next: {challenge.nextStep === "VERIFY_ANSWERS" ? "answer the question with the OTP" : `AOPay's step "${challenge.nextStepName ?? "unknown"}"`} (
      {challenge.question?.answerChoices.length ?? 0} answer choice(s)). Not part of this example yet.
    </p>
  );
}
