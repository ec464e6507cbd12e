
      export type PossibleTypesResultData = {
  "possibleTypes": {
    "Failure": [
      "OutcomeUnknown",
      "UpstreamRejected",
      "UpstreamUnauthorized",
      "UpstreamUnavailable"
    ],
    "GenerateCibilOtpResult": [
      "CibilOtpChallenge",
      "OutcomeUnknown",
      "UpstreamRejected",
      "UpstreamUnauthorized",
      "UpstreamUnavailable"
    ],
    "ResendAepsOtpResult": [
      "AepsOtpResent",
      "OutcomeUnknown",
      "UpstreamRejected",
      "UpstreamUnauthorized",
      "UpstreamUnavailable"
    ]
  }
};
      const result: PossibleTypesResultData = {
  "possibleTypes": {
    "Failure": [
      "OutcomeUnknown",
      "UpstreamRejected",
      "UpstreamUnauthorized",
      "UpstreamUnavailable"
    ],
    "GenerateCibilOtpResult": [
      "CibilOtpChallenge",
      "OutcomeUnknown",
      "UpstreamRejected",
      "UpstreamUnauthorized",
      "UpstreamUnavailable"
    ],
    "ResendAepsOtpResult": [
      "AepsOtpResent",
      "OutcomeUnknown",
      "UpstreamRejected",
      "UpstreamUnauthorized",
      "UpstreamUnavailable"
    ]
  }
};
      export default result;
    