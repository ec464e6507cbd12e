
      export type PossibleTypesResultData = {
  "possibleTypes": {
    "CibilCreditHistoryResult": [
      "CibilCreditHistory",
      "ConsentRequired",
      "OutcomeUnknown",
      "ProtectionUnavailable",
      "ReadThrottled",
      "UpstreamRejected",
      "UpstreamUnauthorized",
      "UpstreamUnavailable"
    ],
    "Failure": [
      "ConsentRequired",
      "IdempotencyConflict",
      "OtpThrottled",
      "OutcomeUnknown",
      "ProtectionUnavailable",
      "ReadThrottled",
      "RegistrationRefused",
      "UpstreamRejected",
      "UpstreamUnauthorized",
      "UpstreamUnavailable"
    ],
    "GenerateCibilOtpResult": [
      "CibilOtpChallenge",
      "IdempotencyConflict",
      "OtpThrottled",
      "OutcomeUnknown",
      "ProtectionUnavailable",
      "UpstreamRejected",
      "UpstreamUnauthorized",
      "UpstreamUnavailable"
    ],
    "RegisterCibilCustomerResult": [
      "CibilCustomerRegistered",
      "IdempotencyConflict",
      "OutcomeUnknown",
      "ProtectionUnavailable",
      "RegistrationRefused",
      "UpstreamRejected",
      "UpstreamUnauthorized",
      "UpstreamUnavailable"
    ],
    "ResendAepsOtpResult": [
      "AepsOtpResent",
      "IdempotencyConflict",
      "OtpThrottled",
      "OutcomeUnknown",
      "ProtectionUnavailable",
      "UpstreamRejected",
      "UpstreamUnauthorized",
      "UpstreamUnavailable"
    ],
    "SubmitCibilOtpResult": [
      "CibilOtpVerified",
      "IdempotencyConflict",
      "OtpThrottled",
      "OutcomeUnknown",
      "ProtectionUnavailable",
      "UpstreamRejected",
      "UpstreamUnauthorized",
      "UpstreamUnavailable"
    ],
    "VerifyAepsOtpResult": [
      "AepsRegistrationVerified",
      "IdempotencyConflict",
      "OtpThrottled",
      "OutcomeUnknown",
      "ProtectionUnavailable",
      "UpstreamRejected",
      "UpstreamUnauthorized",
      "UpstreamUnavailable"
    ]
  }
};
      const result: PossibleTypesResultData = {
  "possibleTypes": {
    "CibilCreditHistoryResult": [
      "CibilCreditHistory",
      "ConsentRequired",
      "OutcomeUnknown",
      "ProtectionUnavailable",
      "ReadThrottled",
      "UpstreamRejected",
      "UpstreamUnauthorized",
      "UpstreamUnavailable"
    ],
    "Failure": [
      "ConsentRequired",
      "IdempotencyConflict",
      "OtpThrottled",
      "OutcomeUnknown",
      "ProtectionUnavailable",
      "ReadThrottled",
      "RegistrationRefused",
      "UpstreamRejected",
      "UpstreamUnauthorized",
      "UpstreamUnavailable"
    ],
    "GenerateCibilOtpResult": [
      "CibilOtpChallenge",
      "IdempotencyConflict",
      "OtpThrottled",
      "OutcomeUnknown",
      "ProtectionUnavailable",
      "UpstreamRejected",
      "UpstreamUnauthorized",
      "UpstreamUnavailable"
    ],
    "RegisterCibilCustomerResult": [
      "CibilCustomerRegistered",
      "IdempotencyConflict",
      "OutcomeUnknown",
      "ProtectionUnavailable",
      "RegistrationRefused",
      "UpstreamRejected",
      "UpstreamUnauthorized",
      "UpstreamUnavailable"
    ],
    "ResendAepsOtpResult": [
      "AepsOtpResent",
      "IdempotencyConflict",
      "OtpThrottled",
      "OutcomeUnknown",
      "ProtectionUnavailable",
      "UpstreamRejected",
      "UpstreamUnauthorized",
      "UpstreamUnavailable"
    ],
    "SubmitCibilOtpResult": [
      "CibilOtpVerified",
      "IdempotencyConflict",
      "OtpThrottled",
      "OutcomeUnknown",
      "ProtectionUnavailable",
      "UpstreamRejected",
      "UpstreamUnauthorized",
      "UpstreamUnavailable"
    ],
    "VerifyAepsOtpResult": [
      "AepsRegistrationVerified",
      "IdempotencyConflict",
      "OtpThrottled",
      "OutcomeUnknown",
      "ProtectionUnavailable",
      "UpstreamRejected",
      "UpstreamUnauthorized",
      "UpstreamUnavailable"
    ]
  }
};
      export default result;
    