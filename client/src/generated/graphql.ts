/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
/** AOPay's `next_api_call`: `cibil-verify-answers` is VERIFY_ANSWERS; any other name is UNRECOGNIZED. */
export type CibilNextStep =
  /** A next step AOPay does not document; nextStepName has its name as AOPay sent it. */
  | 'UNRECOGNIZED'
  /** Answer the question with the OTP: call submitCibilOtp. */
  | 'VERIFY_ANSWERS';

/** AOPay's `cibil_status`. Only "Pending" and "Success" are documented; anything else is UNRECOGNIZED. */
export type CibilStatus =
  /** AOPay's "Pending": the OTP was sent and the customer has not answered yet (generateCibilOtp's usual status). */
  | 'PENDING'
  /** AOPay's "Success": the customer answered with the right OTP (submitCibilOtp's usual status). */
  | 'SUCCESS'
  /** A status AOPay does not document; read the failure or message fields, and report it to support. */
  | 'UNRECOGNIZED';

/** Stable machine-readable code of a failure result. */
export type FailureCode =
  /** This client has not verified the customer's CIBIL OTP recently, so their credit history is not served. */
  | 'CONSENT_REQUIRED'
  /** A request with the same Idempotency-Key has not finished. Asked again after retryAfterSeconds, the key answers its result, or OUTCOME_UNKNOWN once it is known to have ended without one (its server stopped). */
  | 'IDEMPOTENCY_IN_FLIGHT'
  /** registerCibilCustomer: this customer was registered with the most mobile numbers allowed recently, so a new one was not sent. Register with a mobile number used before for this customer; a new one is taken once none has been registered for CIBIL_REGISTERED_MOBILE_TTL_SECONDS (90 days by default). */
  | 'MOBILE_LIMIT_REACHED'
  /** An OTP was sent to this destination, or its send attempted, within the cooldown (60 s by default); wait retryAfterSeconds before sending another. */
  | 'OTP_COOLDOWN'
  /** This destination had its maximum number of OTPs in the last window (10 minutes by default) or the last 24 hours; wait retryAfterSeconds. */
  | 'OTP_LIMIT_REACHED'
  /** registerCibilCustomer: an OTP send to this customer is under way, or its outcome is not known yet (AOPay may still send it), so the registration was not sent. Try again after retryAfterSeconds. */
  | 'OTP_SEND_IN_PROGRESS'
  /** The request may have reached AOPay and no usable answer came back: it may have taken effect (an OTP sent, a registration or verification done). Also an Idempotency-Key's answer once its first request ended without one, or while its record cannot be read (this request sent nothing; an earlier one with the key may have). */
  | 'OUTCOME_UNKNOWN'
  /** This service is at its limit of calls to AOPay; nothing was sent. Try again shortly. */
  | 'OVERLOADED'
  /** A store the safety checks need (throttles, idempotency, consent, registered mobiles) is unreachable or full, or holds a record that does not open, so AOPay was not asked: no OTP sent, no report read (fail closed). */
  | 'PROTECTION_UNAVAILABLE'
  /** The OTP sends or verifications allowed per window from this network or this API client, to this number range or by the whole service are used up (registerCibilCustomer: the registrations allowed per window from this network or this API client); scope says which. Wait retryAfterSeconds. */
  | 'RATE_LIMITED'
  /** cibilCreditHistory (and CibilOtpVerified.creditHistory): this API client read this customer's credit report as often as allowed per window (5 per 30 minutes by default), or read as many reports as allowed per window (300 a minute by default), or this source IP asked for as many reports, consented or not, as allowed per window (100 a minute by default, scope IP); scope says which. AOPay was not asked; wait retryAfterSeconds. */
  | 'READ_THROTTLED'
  /** registerCibilCustomer: other registrations of this customer were being recorded at the same moment, or its first registration here is still under way or its outcome is not known yet, so this one was not sent. Try again after retryAfterSeconds. */
  | 'REGISTRATION_IN_PROGRESS'
  /** AOPay answered with something this service cannot read (redirect, error page). */
  | 'UPSTREAM_BAD_RESPONSE'
  /** AOPay answered and declined the request; see upstreamCode and upstreamMessage. */
  | 'UPSTREAM_REJECTED'
  /** The deadline passed before the request was sent to AOPay. Nothing was sent. */
  | 'UPSTREAM_TIMEOUT'
  /** AOPay refused this service's partner credentials (a server configuration problem). */
  | 'UPSTREAM_UNAUTHORIZED'
  /** AOPay could not be reached or answered with a server error. Try again later. */
  | 'UPSTREAM_UNAVAILABLE'
  /** Too many OTP verification attempts for this customer; wait retryAfterSeconds. */
  | 'VERIFY_LIMIT_REACHED';

/** Asks AOPay to send a CIBIL consent OTP to the customer's registered mobile. */
export type GenerateCibilOtpInput = {
  /** The customer's CIBIL access token from registerCibilCustomer: 4 to 512 characters of letters, digits and . _ ~ + / = -. Never logged or returned. */
  accessToken: string;
  /** The customer's CIBIL id from registerCibilCustomer: 1 to 15 digits, e.g. 102277100 (AOPay documents it as an integer: leading zeros are dropped). */
  cibilId: string;
};

/** Registers a customer for CIBIL score and report checks (once per customer). */
export type RegisterCibilCustomerInput = {
  /** Date of birth, YYYY-MM-DD. Sent to AOPay as AOPAY_DOB_FORMAT (default DD/MM/YYYY); never returned. */
  dateOfBirth: string;
  /** E-mail address, e.g. asha@example.com: ASCII, without quotes; the domain is lower-cased. Returned masked only (a***@example.com). */
  email: string;
  /** Given name as on the PAN card, e.g. Asha: 1 to 50 letters of any script (dots, apostrophes and hyphens after the first, single spaces between words). */
  firstName: string;
  /** Family name as on the PAN card, e.g. Kulkarni (same rules as firstName). */
  lastName: string;
  /** Middle name, if any (same rules as firstName). Optional, as on AOPay's page. */
  middleName?: string | null | undefined;
  /** 10 digits starting 6-9, without +91 or 0. Returned masked only. */
  mobile: string;
  /** PAN, e.g. ABCPE1234F (either case). Returned masked only. */
  pan: string;
};

/** Asks AOPay to resend the AEPS bank-wise registration OTP. */
export type ResendAepsOtpInput = {
  /** Customer's Aadhaar: 12 digits, or three groups of four separated by spaces. Returned masked only. */
  aadhaar: string;
  /** The encodeTxnId returned by the registration (send OTP) step. */
  encodeTxnId: string;
  /** Customer's mobile: 10 digits starting 6-9, without +91 or 0. Returned masked only. */
  mobile: string;
  /** The primaryKeyId returned by the registration (send OTP) step. */
  primaryKeyId: string;
  /** The agent's AOPay user key from AEPS onboarding (at most 12 characters). */
  userKey: string;
};

/** Answers the challenge that generateCibilOtp returned, with the OTP the customer received. */
export type SubmitCibilOtpInput = {
  /** The customer's CIBIL access token (from registerCibilCustomer), as sent to generateCibilOtp. Never logged or returned. */
  accessToken: string;
  /** The chosen answer choice's `key` (e.g. USER_TO_INPUT_ANSWER). */
  answerKey: string;
  /** The customer's CIBIL id, 1 to 15 digits (e.g. 102277100): the one generateCibilOtp was called with (leading zeros are dropped). */
  cibilId: string;
  /** The OTP the customer received by SMS and typed: 4 to 8 digits (the simulator's is always 123456). Never logged, stored or returned. */
  otp: string;
  /** `question.key` from the challenge. */
  questionKey: string;
};

/** Which budget refused the send: the destination (the customer or registration the OTP is for), the mobile number's range, the source IP, the API client, or the service. For a credit-report read (ReadThrottled): DESTINATION, CLIENT or IP. */
export type ThrottleScope =
  /** The API client (API key or token) that sent the request. */
  | 'CLIENT'
  /** This customer: its mobile, Aadhaar number, CIBIL id or access token, or the AEPS user key or registration reference (whichever the upstream may find the recipient by): the cooldown between sends, or the sends allowed per window or day. For a credit-report read: the reads of this customer's report by your API client per window. */
  | 'DESTINATION'
  /** The whole service: the sends allowed per window, from everyone, are used up. */
  | 'GLOBAL'
  /** The network address the request came from (an IPv6 address by its /64). For a credit-report read: its read attempts per window, counted with or without consent. */
  | 'IP'
  /** The range of mobile numbers sharing the first 6 digits, across all callers (a guard against SMS pumping). */
  | 'MOBILE_PREFIX';

/** SIMULATOR: the built-in AOPay simulator answers (development only). LIVE: the host AOPAY_BASE_URL names answers. */
export type UpstreamMode =
  /** The host AOPAY_BASE_URL names (it is set): AOPay, whose OTPs reach real phones, or a stand-in speaking its API there (the standalone simulator, `npm run simulator`), which this server cannot tell from AOPay. */
  | 'LIVE'
  /** The built-in simulator (development only): no OTP is sent; the OTP is always 123456. */
  | 'SIMULATOR';

/** Verifies the AEPS bank-wise registration OTP the customer received. */
export type VerifyAepsOtpInput = {
  /** Customer's Aadhaar: 12 digits, or three groups of four separated by spaces. Returned masked only. */
  aadhaar: string;
  /** The encodeTxnId returned by the registration (send OTP) step. */
  encodeTxnId: string;
  /** Customer's mobile: 10 digits starting 6-9, without +91 or 0. Returned masked only. */
  mobile: string;
  /** The OTP the customer received by SMS and typed: 4 to 8 digits (the simulator's is always 123456). Never logged, stored or returned. */
  otp: string;
  /** The primaryKeyId returned by the registration (send OTP) step. */
  primaryKeyId: string;
  /** The agent's AOPay user key from AEPS onboarding (at most 12 characters). */
  userKey: string;
};

export type ResendAepsOtpMutationVariables = Exact<{
  input: ResendAepsOtpInput;
}>;


export type ResendAepsOtpMutation = { __typename: 'Mutation', resendAepsOtp:
    | { __typename: 'AepsOtpResent', upstreamMessage: string | null, upstreamResponseCode: number | null, upstreamErrorCode: string | null, primaryKeyId: string | null, encodeTxnId: string | null, maskedAadhaar: string, maskedMobile: string, resendAvailableInSeconds: number }
    | { __typename: 'IdempotencyConflict', retryAfterSeconds: number | null, code: FailureCode, message: string, retryable: boolean }
    | { __typename: 'OtpThrottled', retryAfterSeconds: number | null, scope: ThrottleScope, code: FailureCode, message: string, retryable: boolean }
    | { __typename: 'OutcomeUnknown', code: FailureCode, message: string, retryable: boolean }
    | { __typename: 'ProtectionUnavailable', code: FailureCode, message: string, retryable: boolean }
    | { __typename: 'UpstreamRejected', upstreamCode: string | null, upstreamMessage: string | null, code: FailureCode, message: string, retryable: boolean }
    | { __typename: 'UpstreamUnauthorized', upstreamCode: string | null, upstreamMessage: string | null, code: FailureCode, message: string, retryable: boolean }
    | { __typename: 'UpstreamUnavailable', retryAfterSeconds: number | null, code: FailureCode, message: string, retryable: boolean }
   };

export type VerifyAepsOtpMutationVariables = Exact<{
  input: VerifyAepsOtpInput;
}>;


export type VerifyAepsOtpMutation = { __typename: 'Mutation', verifyAepsOtp:
    | { __typename: 'AepsRegistrationVerified', upstreamMessage: string | null, upstreamResponseCode: number | null, maskedAadhaar: string, maskedMobile: string }
    | { __typename: 'IdempotencyConflict', retryAfterSeconds: number | null, code: FailureCode, message: string, retryable: boolean }
    | { __typename: 'OtpThrottled', retryAfterSeconds: number | null, scope: ThrottleScope, code: FailureCode, message: string, retryable: boolean }
    | { __typename: 'OutcomeUnknown', code: FailureCode, message: string, retryable: boolean }
    | { __typename: 'ProtectionUnavailable', code: FailureCode, message: string, retryable: boolean }
    | { __typename: 'UpstreamRejected', upstreamCode: string | null, upstreamMessage: string | null, code: FailureCode, message: string, retryable: boolean }
    | { __typename: 'UpstreamUnauthorized', upstreamCode: string | null, upstreamMessage: string | null, code: FailureCode, message: string, retryable: boolean }
    | { __typename: 'UpstreamUnavailable', retryAfterSeconds: number | null, code: FailureCode, message: string, retryable: boolean }
   };

export type GenerateCibilOtpMutationVariables = Exact<{
  input: GenerateCibilOtpInput;
}>;


export type GenerateCibilOtpMutation = { __typename: 'Mutation', generateCibilOtp:
    | { __typename: 'CibilOtpChallenge', cibilId: string, status: CibilStatus, nextStep: CibilNextStep | null, nextStepName: string | null, merchantTransactionId: string | null, resendAvailableInSeconds: number, question: { __typename: 'CibilOtpQuestion', key: string | null, text: string | null, lastChance: boolean | null, skipEligible: boolean | null, resendEligible: boolean | null, answerChoices: Array<{ __typename: 'CibilAnswerChoice', id: string, key: string, text: string }> } | null }
    | { __typename: 'IdempotencyConflict', retryAfterSeconds: number | null, code: FailureCode, message: string, retryable: boolean }
    | { __typename: 'OtpThrottled', retryAfterSeconds: number | null, scope: ThrottleScope, code: FailureCode, message: string, retryable: boolean }
    | { __typename: 'OutcomeUnknown', code: FailureCode, message: string, retryable: boolean }
    | { __typename: 'ProtectionUnavailable', code: FailureCode, message: string, retryable: boolean }
    | { __typename: 'UpstreamRejected', upstreamCode: string | null, upstreamMessage: string | null, code: FailureCode, message: string, retryable: boolean }
    | { __typename: 'UpstreamUnauthorized', upstreamCode: string | null, upstreamMessage: string | null, code: FailureCode, message: string, retryable: boolean }
    | { __typename: 'UpstreamUnavailable', retryAfterSeconds: number | null, code: FailureCode, message: string, retryable: boolean }
   };

export type RegisterCibilCustomerMutationVariables = Exact<{
  input: RegisterCibilCustomerInput;
}>;


export type RegisterCibilCustomerMutation = { __typename: 'Mutation', registerCibilCustomer:
    | { __typename: 'CibilCustomerRegistered', orderId: string, cibilId: string | null, accessToken: string | null, maskedMobile: string, maskedPan: string, maskedEmail: string, upstreamMessage: string | null, merchantTransactionId: string | null }
    | { __typename: 'IdempotencyConflict', retryAfterSeconds: number | null, code: FailureCode, message: string, retryable: boolean }
    | { __typename: 'OutcomeUnknown', code: FailureCode, message: string, retryable: boolean }
    | { __typename: 'ProtectionUnavailable', code: FailureCode, message: string, retryable: boolean }
    | { __typename: 'RegistrationRefused', retryAfterSeconds: number | null, code: FailureCode, message: string, retryable: boolean }
    | { __typename: 'UpstreamRejected', upstreamCode: string | null, upstreamMessage: string | null, code: FailureCode, message: string, retryable: boolean }
    | { __typename: 'UpstreamUnauthorized', upstreamCode: string | null, upstreamMessage: string | null, code: FailureCode, message: string, retryable: boolean }
    | { __typename: 'UpstreamUnavailable', retryAfterSeconds: number | null, code: FailureCode, message: string, retryable: boolean }
   };

export type SubmitCibilOtpMutationVariables = Exact<{
  input: SubmitCibilOtpInput;
}>;


export type SubmitCibilOtpMutation = { __typename: 'Mutation', submitCibilOtp:
    | { __typename: 'CibilOtpVerified', cibilId: string | null, status: CibilStatus, returningCustomer: boolean | null, scoreFetchDate: string | null, merchantTransactionId: string | null, creditHistory:
        | { __typename: 'CibilCreditHistory', cibilId: string, orderId: string, report: Record<string, unknown> | null, scoreFetchDate: string | null, upstreamMessage: string | null, merchantTransactionId: string | null }
        | { __typename: 'ConsentRequired', code: FailureCode, message: string, retryable: boolean }
        | { __typename: 'OutcomeUnknown', code: FailureCode, message: string, retryable: boolean }
        | { __typename: 'ProtectionUnavailable', code: FailureCode, message: string, retryable: boolean }
        | { __typename: 'ReadThrottled', retryAfterSeconds: number | null, scope: ThrottleScope, code: FailureCode, message: string, retryable: boolean }
        | { __typename: 'UpstreamRejected', upstreamCode: string | null, upstreamMessage: string | null, code: FailureCode, message: string, retryable: boolean }
        | { __typename: 'UpstreamUnauthorized', upstreamCode: string | null, upstreamMessage: string | null, code: FailureCode, message: string, retryable: boolean }
        | { __typename: 'UpstreamUnavailable', retryAfterSeconds: number | null, code: FailureCode, message: string, retryable: boolean }
       }
    | { __typename: 'IdempotencyConflict', retryAfterSeconds: number | null, code: FailureCode, message: string, retryable: boolean }
    | { __typename: 'OtpThrottled', retryAfterSeconds: number | null, scope: ThrottleScope, code: FailureCode, message: string, retryable: boolean }
    | { __typename: 'OutcomeUnknown', code: FailureCode, message: string, retryable: boolean }
    | { __typename: 'ProtectionUnavailable', code: FailureCode, message: string, retryable: boolean }
    | { __typename: 'UpstreamRejected', upstreamCode: string | null, upstreamMessage: string | null, code: FailureCode, message: string, retryable: boolean }
    | { __typename: 'UpstreamUnauthorized', upstreamCode: string | null, upstreamMessage: string | null, code: FailureCode, message: string, retryable: boolean }
    | { __typename: 'UpstreamUnavailable', retryAfterSeconds: number | null, code: FailureCode, message: string, retryable: boolean }
   };

export type CibilCreditHistoryQueryVariables = Exact<{
  cibilId: string;
}>;


export type CibilCreditHistoryQuery = { __typename: 'Query', cibilCreditHistory:
    | { __typename: 'CibilCreditHistory', cibilId: string, orderId: string, report: Record<string, unknown> | null, scoreFetchDate: string | null, upstreamMessage: string | null, merchantTransactionId: string | null }
    | { __typename: 'ConsentRequired', code: FailureCode, message: string, retryable: boolean }
    | { __typename: 'OutcomeUnknown', code: FailureCode, message: string, retryable: boolean }
    | { __typename: 'ProtectionUnavailable', code: FailureCode, message: string, retryable: boolean }
    | { __typename: 'ReadThrottled', retryAfterSeconds: number | null, scope: ThrottleScope, code: FailureCode, message: string, retryable: boolean }
    | { __typename: 'UpstreamRejected', upstreamCode: string | null, upstreamMessage: string | null, code: FailureCode, message: string, retryable: boolean }
    | { __typename: 'UpstreamUnauthorized', upstreamCode: string | null, upstreamMessage: string | null, code: FailureCode, message: string, retryable: boolean }
    | { __typename: 'UpstreamUnavailable', retryAfterSeconds: number | null, code: FailureCode, message: string, retryable: boolean }
   };

type CreditHistoryFields_CibilCreditHistory_Fragment = { __typename: 'CibilCreditHistory', cibilId: string, orderId: string, report: Record<string, unknown> | null, scoreFetchDate: string | null, upstreamMessage: string | null, merchantTransactionId: string | null };

type CreditHistoryFields_ConsentRequired_Fragment = { __typename: 'ConsentRequired', code: FailureCode, message: string, retryable: boolean };

type CreditHistoryFields_OutcomeUnknown_Fragment = { __typename: 'OutcomeUnknown', code: FailureCode, message: string, retryable: boolean };

type CreditHistoryFields_ProtectionUnavailable_Fragment = { __typename: 'ProtectionUnavailable', code: FailureCode, message: string, retryable: boolean };

type CreditHistoryFields_ReadThrottled_Fragment = { __typename: 'ReadThrottled', retryAfterSeconds: number | null, scope: ThrottleScope, code: FailureCode, message: string, retryable: boolean };

type CreditHistoryFields_UpstreamRejected_Fragment = { __typename: 'UpstreamRejected', upstreamCode: string | null, upstreamMessage: string | null, code: FailureCode, message: string, retryable: boolean };

type CreditHistoryFields_UpstreamUnauthorized_Fragment = { __typename: 'UpstreamUnauthorized', upstreamCode: string | null, upstreamMessage: string | null, code: FailureCode, message: string, retryable: boolean };

type CreditHistoryFields_UpstreamUnavailable_Fragment = { __typename: 'UpstreamUnavailable', retryAfterSeconds: number | null, code: FailureCode, message: string, retryable: boolean };

export type CreditHistoryFieldsFragment =
  | CreditHistoryFields_CibilCreditHistory_Fragment
  | CreditHistoryFields_ConsentRequired_Fragment
  | CreditHistoryFields_OutcomeUnknown_Fragment
  | CreditHistoryFields_ProtectionUnavailable_Fragment
  | CreditHistoryFields_ReadThrottled_Fragment
  | CreditHistoryFields_UpstreamRejected_Fragment
  | CreditHistoryFields_UpstreamUnauthorized_Fragment
  | CreditHistoryFields_UpstreamUnavailable_Fragment
;

type FailureFields_ConsentRequired_Fragment = { __typename: 'ConsentRequired', code: FailureCode, message: string, retryable: boolean };

type FailureFields_IdempotencyConflict_Fragment = { __typename: 'IdempotencyConflict', retryAfterSeconds: number | null, code: FailureCode, message: string, retryable: boolean };

type FailureFields_OtpThrottled_Fragment = { __typename: 'OtpThrottled', retryAfterSeconds: number | null, scope: ThrottleScope, code: FailureCode, message: string, retryable: boolean };

type FailureFields_OutcomeUnknown_Fragment = { __typename: 'OutcomeUnknown', code: FailureCode, message: string, retryable: boolean };

type FailureFields_ProtectionUnavailable_Fragment = { __typename: 'ProtectionUnavailable', code: FailureCode, message: string, retryable: boolean };

type FailureFields_ReadThrottled_Fragment = { __typename: 'ReadThrottled', retryAfterSeconds: number | null, scope: ThrottleScope, code: FailureCode, message: string, retryable: boolean };

type FailureFields_RegistrationRefused_Fragment = { __typename: 'RegistrationRefused', retryAfterSeconds: number | null, code: FailureCode, message: string, retryable: boolean };

type FailureFields_UpstreamRejected_Fragment = { __typename: 'UpstreamRejected', upstreamCode: string | null, upstreamMessage: string | null, code: FailureCode, message: string, retryable: boolean };

type FailureFields_UpstreamUnauthorized_Fragment = { __typename: 'UpstreamUnauthorized', upstreamCode: string | null, upstreamMessage: string | null, code: FailureCode, message: string, retryable: boolean };

type FailureFields_UpstreamUnavailable_Fragment = { __typename: 'UpstreamUnavailable', retryAfterSeconds: number | null, code: FailureCode, message: string, retryable: boolean };

export type FailureFieldsFragment =
  | FailureFields_ConsentRequired_Fragment
  | FailureFields_IdempotencyConflict_Fragment
  | FailureFields_OtpThrottled_Fragment
  | FailureFields_OutcomeUnknown_Fragment
  | FailureFields_ProtectionUnavailable_Fragment
  | FailureFields_ReadThrottled_Fragment
  | FailureFields_RegistrationRefused_Fragment
  | FailureFields_UpstreamRejected_Fragment
  | FailureFields_UpstreamUnauthorized_Fragment
  | FailureFields_UpstreamUnavailable_Fragment
;

export type ServiceInfoQueryVariables = Exact<{ [key: string]: never; }>;


export type ServiceInfoQuery = { __typename: 'Query', serviceInfo: { __typename: 'ServiceInfo', upstream: UpstreamMode } };

export const FailureFieldsFragmentDoc = {"kind":"Document","definitions":[{"kind":"FragmentDefinition","name":{"kind":"Name","value":"FailureFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Failure"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"retryable"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UpstreamRejected"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"upstreamCode"}},{"kind":"Field","name":{"kind":"Name","value":"upstreamMessage"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UpstreamUnauthorized"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"upstreamCode"}},{"kind":"Field","name":{"kind":"Name","value":"upstreamMessage"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UpstreamUnavailable"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"OtpThrottled"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}},{"kind":"Field","name":{"kind":"Name","value":"scope"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"IdempotencyConflict"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"RegistrationRefused"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ReadThrottled"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}},{"kind":"Field","name":{"kind":"Name","value":"scope"}}]}}]}}]} as unknown as DocumentNode<FailureFieldsFragment, unknown>;
export const CreditHistoryFieldsFragmentDoc = {"kind":"Document","definitions":[{"kind":"FragmentDefinition","name":{"kind":"Name","value":"CreditHistoryFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"CibilCreditHistoryResult"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"CibilCreditHistory"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cibilId"}},{"kind":"Field","name":{"kind":"Name","value":"orderId"}},{"kind":"Field","name":{"kind":"Name","value":"report"}},{"kind":"Field","name":{"kind":"Name","value":"scoreFetchDate"}},{"kind":"Field","name":{"kind":"Name","value":"upstreamMessage"}},{"kind":"Field","name":{"kind":"Name","value":"merchantTransactionId"}}]}},{"kind":"FragmentSpread","name":{"kind":"Name","value":"FailureFields"}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"FailureFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Failure"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"retryable"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UpstreamRejected"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"upstreamCode"}},{"kind":"Field","name":{"kind":"Name","value":"upstreamMessage"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UpstreamUnauthorized"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"upstreamCode"}},{"kind":"Field","name":{"kind":"Name","value":"upstreamMessage"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UpstreamUnavailable"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"OtpThrottled"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}},{"kind":"Field","name":{"kind":"Name","value":"scope"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"IdempotencyConflict"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"RegistrationRefused"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ReadThrottled"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}},{"kind":"Field","name":{"kind":"Name","value":"scope"}}]}}]}}]} as unknown as DocumentNode<CreditHistoryFieldsFragment, unknown>;
export const ResendAepsOtpDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"ResendAepsOtp"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ResendAepsOtpInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"resendAepsOtp"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"AepsOtpResent"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"upstreamMessage"}},{"kind":"Field","name":{"kind":"Name","value":"upstreamResponseCode"}},{"kind":"Field","name":{"kind":"Name","value":"upstreamErrorCode"}},{"kind":"Field","name":{"kind":"Name","value":"primaryKeyId"}},{"kind":"Field","name":{"kind":"Name","value":"encodeTxnId"}},{"kind":"Field","name":{"kind":"Name","value":"maskedAadhaar"}},{"kind":"Field","name":{"kind":"Name","value":"maskedMobile"}},{"kind":"Field","name":{"kind":"Name","value":"resendAvailableInSeconds"}}]}},{"kind":"FragmentSpread","name":{"kind":"Name","value":"FailureFields"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"FailureFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Failure"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"retryable"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UpstreamRejected"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"upstreamCode"}},{"kind":"Field","name":{"kind":"Name","value":"upstreamMessage"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UpstreamUnauthorized"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"upstreamCode"}},{"kind":"Field","name":{"kind":"Name","value":"upstreamMessage"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UpstreamUnavailable"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"OtpThrottled"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}},{"kind":"Field","name":{"kind":"Name","value":"scope"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"IdempotencyConflict"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"RegistrationRefused"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ReadThrottled"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}},{"kind":"Field","name":{"kind":"Name","value":"scope"}}]}}]}}]} as unknown as DocumentNode<ResendAepsOtpMutation, ResendAepsOtpMutationVariables>;
export const VerifyAepsOtpDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"VerifyAepsOtp"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"VerifyAepsOtpInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"verifyAepsOtp"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"AepsRegistrationVerified"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"upstreamMessage"}},{"kind":"Field","name":{"kind":"Name","value":"upstreamResponseCode"}},{"kind":"Field","name":{"kind":"Name","value":"maskedAadhaar"}},{"kind":"Field","name":{"kind":"Name","value":"maskedMobile"}}]}},{"kind":"FragmentSpread","name":{"kind":"Name","value":"FailureFields"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"FailureFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Failure"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"retryable"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UpstreamRejected"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"upstreamCode"}},{"kind":"Field","name":{"kind":"Name","value":"upstreamMessage"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UpstreamUnauthorized"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"upstreamCode"}},{"kind":"Field","name":{"kind":"Name","value":"upstreamMessage"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UpstreamUnavailable"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"OtpThrottled"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}},{"kind":"Field","name":{"kind":"Name","value":"scope"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"IdempotencyConflict"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"RegistrationRefused"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ReadThrottled"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}},{"kind":"Field","name":{"kind":"Name","value":"scope"}}]}}]}}]} as unknown as DocumentNode<VerifyAepsOtpMutation, VerifyAepsOtpMutationVariables>;
export const GenerateCibilOtpDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"GenerateCibilOtp"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"GenerateCibilOtpInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"generateCibilOtp"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"CibilOtpChallenge"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cibilId"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"nextStep"}},{"kind":"Field","name":{"kind":"Name","value":"nextStepName"}},{"kind":"Field","name":{"kind":"Name","value":"merchantTransactionId"}},{"kind":"Field","name":{"kind":"Name","value":"resendAvailableInSeconds"}},{"kind":"Field","name":{"kind":"Name","value":"question"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"key"}},{"kind":"Field","name":{"kind":"Name","value":"text"}},{"kind":"Field","name":{"kind":"Name","value":"lastChance"}},{"kind":"Field","name":{"kind":"Name","value":"skipEligible"}},{"kind":"Field","name":{"kind":"Name","value":"resendEligible"}},{"kind":"Field","name":{"kind":"Name","value":"answerChoices"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"key"}},{"kind":"Field","name":{"kind":"Name","value":"text"}}]}}]}}]}},{"kind":"FragmentSpread","name":{"kind":"Name","value":"FailureFields"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"FailureFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Failure"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"retryable"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UpstreamRejected"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"upstreamCode"}},{"kind":"Field","name":{"kind":"Name","value":"upstreamMessage"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UpstreamUnauthorized"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"upstreamCode"}},{"kind":"Field","name":{"kind":"Name","value":"upstreamMessage"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UpstreamUnavailable"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"OtpThrottled"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}},{"kind":"Field","name":{"kind":"Name","value":"scope"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"IdempotencyConflict"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"RegistrationRefused"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ReadThrottled"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}},{"kind":"Field","name":{"kind":"Name","value":"scope"}}]}}]}}]} as unknown as DocumentNode<GenerateCibilOtpMutation, GenerateCibilOtpMutationVariables>;
export const RegisterCibilCustomerDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"RegisterCibilCustomer"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"RegisterCibilCustomerInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"registerCibilCustomer"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"CibilCustomerRegistered"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"orderId"}},{"kind":"Field","name":{"kind":"Name","value":"cibilId"}},{"kind":"Field","name":{"kind":"Name","value":"accessToken"}},{"kind":"Field","name":{"kind":"Name","value":"maskedMobile"}},{"kind":"Field","name":{"kind":"Name","value":"maskedPan"}},{"kind":"Field","name":{"kind":"Name","value":"maskedEmail"}},{"kind":"Field","name":{"kind":"Name","value":"upstreamMessage"}},{"kind":"Field","name":{"kind":"Name","value":"merchantTransactionId"}}]}},{"kind":"FragmentSpread","name":{"kind":"Name","value":"FailureFields"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"FailureFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Failure"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"retryable"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UpstreamRejected"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"upstreamCode"}},{"kind":"Field","name":{"kind":"Name","value":"upstreamMessage"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UpstreamUnauthorized"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"upstreamCode"}},{"kind":"Field","name":{"kind":"Name","value":"upstreamMessage"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UpstreamUnavailable"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"OtpThrottled"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}},{"kind":"Field","name":{"kind":"Name","value":"scope"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"IdempotencyConflict"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"RegistrationRefused"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ReadThrottled"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}},{"kind":"Field","name":{"kind":"Name","value":"scope"}}]}}]}}]} as unknown as DocumentNode<RegisterCibilCustomerMutation, RegisterCibilCustomerMutationVariables>;
export const SubmitCibilOtpDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"SubmitCibilOtp"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"SubmitCibilOtpInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"submitCibilOtp"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"CibilOtpVerified"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cibilId"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"returningCustomer"}},{"kind":"Field","name":{"kind":"Name","value":"scoreFetchDate"}},{"kind":"Field","name":{"kind":"Name","value":"merchantTransactionId"}},{"kind":"Field","name":{"kind":"Name","value":"creditHistory"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"CreditHistoryFields"}}]}}]}},{"kind":"FragmentSpread","name":{"kind":"Name","value":"FailureFields"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"FailureFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Failure"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"retryable"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UpstreamRejected"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"upstreamCode"}},{"kind":"Field","name":{"kind":"Name","value":"upstreamMessage"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UpstreamUnauthorized"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"upstreamCode"}},{"kind":"Field","name":{"kind":"Name","value":"upstreamMessage"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UpstreamUnavailable"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"OtpThrottled"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}},{"kind":"Field","name":{"kind":"Name","value":"scope"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"IdempotencyConflict"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"RegistrationRefused"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ReadThrottled"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}},{"kind":"Field","name":{"kind":"Name","value":"scope"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"CreditHistoryFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"CibilCreditHistoryResult"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"CibilCreditHistory"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cibilId"}},{"kind":"Field","name":{"kind":"Name","value":"orderId"}},{"kind":"Field","name":{"kind":"Name","value":"report"}},{"kind":"Field","name":{"kind":"Name","value":"scoreFetchDate"}},{"kind":"Field","name":{"kind":"Name","value":"upstreamMessage"}},{"kind":"Field","name":{"kind":"Name","value":"merchantTransactionId"}}]}},{"kind":"FragmentSpread","name":{"kind":"Name","value":"FailureFields"}}]}}]} as unknown as DocumentNode<SubmitCibilOtpMutation, SubmitCibilOtpMutationVariables>;
export const CibilCreditHistoryDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"CibilCreditHistory"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"cibilId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cibilCreditHistory"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"cibilId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"cibilId"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"CreditHistoryFields"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"FailureFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Failure"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"retryable"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UpstreamRejected"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"upstreamCode"}},{"kind":"Field","name":{"kind":"Name","value":"upstreamMessage"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UpstreamUnauthorized"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"upstreamCode"}},{"kind":"Field","name":{"kind":"Name","value":"upstreamMessage"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UpstreamUnavailable"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"OtpThrottled"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}},{"kind":"Field","name":{"kind":"Name","value":"scope"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"IdempotencyConflict"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"RegistrationRefused"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ReadThrottled"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}},{"kind":"Field","name":{"kind":"Name","value":"scope"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"CreditHistoryFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"CibilCreditHistoryResult"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"CibilCreditHistory"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cibilId"}},{"kind":"Field","name":{"kind":"Name","value":"orderId"}},{"kind":"Field","name":{"kind":"Name","value":"report"}},{"kind":"Field","name":{"kind":"Name","value":"scoreFetchDate"}},{"kind":"Field","name":{"kind":"Name","value":"upstreamMessage"}},{"kind":"Field","name":{"kind":"Name","value":"merchantTransactionId"}}]}},{"kind":"FragmentSpread","name":{"kind":"Name","value":"FailureFields"}}]}}]} as unknown as DocumentNode<CibilCreditHistoryQuery, CibilCreditHistoryQueryVariables>;
export const ServiceInfoDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ServiceInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"serviceInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"upstream"}}]}}]}}]} as unknown as DocumentNode<ServiceInfoQuery, ServiceInfoQueryVariables>;