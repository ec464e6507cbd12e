/** The operations tests send, selecting every field of every result member. */
export const GENERATE_CIBIL_OTP = /* GraphQL */ `
  mutation GenerateCibilOtp($input: GenerateCibilOtpInput!) {
    generateCibilOtp(input: $input) {
      __typename
      ... on CibilOtpChallenge {
        cibilId status nextStep nextStepName merchantTransactionId resendAvailableInSeconds
        question { key text lastChance skipEligible resendEligible answerChoices { id key text } }
      }
      ... on Failure { code message retryable }
      ... on UpstreamRejected { upstreamCode upstreamMessage }
      ... on UpstreamUnauthorized { upstreamCode upstreamMessage }
      ... on UpstreamUnavailable { retryAfterSeconds }
      ... on OtpThrottled { retryAfterSeconds scope }
      ... on IdempotencyConflict { retryAfterSeconds }
    }
  }
`;

export const RESEND_AEPS_OTP = /* GraphQL */ `
  mutation ResendAepsOtp($input: ResendAepsOtpInput!) {
    resendAepsOtp(input: $input) {
      __typename
      ... on AepsOtpResent {
        upstreamMessage upstreamResponseCode upstreamErrorCode primaryKeyId encodeTxnId maskedAadhaar maskedMobile resendAvailableInSeconds
      }
      ... on Failure { code message retryable }
      ... on UpstreamRejected { upstreamCode upstreamMessage }
      ... on UpstreamUnauthorized { upstreamCode upstreamMessage }
      ... on UpstreamUnavailable { retryAfterSeconds }
      ... on OtpThrottled { retryAfterSeconds scope }
      ... on IdempotencyConflict { retryAfterSeconds }
    }
  }
`;

/** Valid inputs (docs/security-requirements.md C1/C2 vectors). The last three digits of cibilId / mobile pick a simulator scenario. */
export const VALID_AADHAAR = "234123412346";
export function cibilInput(cibilId = "102277100") {
  return { input: { cibilId, accessToken: "123456542124" } };
}
export function aepsInput(mobile = "9876543210", overrides: Record<string, string> = {}) {
  return {
    input: { userKey: "AOP554N3XXXX", mobile, aadhaar: VALID_AADHAAR, primaryKeyId: "TEST", encodeTxnId: "DEMO", ...overrides },
  };
}

export type Result = Record<string, unknown> & { __typename: string };
export const resultOf = (body: { data?: Record<string, unknown> | null }, field: string): Result =>
  (body.data as Record<string, Result>)[field];

/**
 * A response body without its request ids (`"requestId":"<uuid>"`), for checks that a short client value (an OTP
 * such as "123", a port, "abc") is not echoed: a random UUID contains such a string often enough to fail a run
 * (`123` appears in about 1 in 140 random v4 UUIDs). Only UUID-shaped ids are removed, so an id that echoed
 * client text would still be caught.
 */
export function withoutRequestIds(text: string): string {
  return text.replace(/"requestId":"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"/g, '"requestId":"<id>"');
}
