
      export type PossibleTypesResultData = {
  "possibleTypes": {
    "Failure": [
      "IdempotencyConflict",
      "OtpThrottled",
      "OutcomeUnknown",
      "ProtectionUnavailable",
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
    "ResendAepsOtpResult": [
      "AepsOtpResent",
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
    "Failure": [
      "IdempotencyConflict",
      "OtpThrottled",
      "OutcomeUnknown",
      "ProtectionUnavailable",
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
    "ResendAepsOtpResult": [
      "AepsOtpResent",
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
    