import type { GuardedMutationName } from "../../src/graphql/guarded-mutations";
import type { SimEndpointName } from "../../src/simulator/server";

/** The values a sample input is made of: tests pass fresh destinations, or canaries. */
export interface SampleValues {
  cibilId: string;
  accessToken: string;
  otp: string;
  mobile: string;
  aadhaar: string;
  userKey: string;
  primaryKeyId: string;
  encodeTxnId: string;
  pan: string;
  email: string;
  dateOfBirth: string;
}

export interface GuardedSample {
  /** The input type of the mutation's `input` argument. */
  inputType: string;
  /** The upstream endpoint the mutation calls. */
  endpoint: SimEndpointName;
  /** A valid input made of `v`. */
  input(v: SampleValues): Record<string, unknown>;
}

/**
 * One valid sample per guarded mutation, keyed by GUARDED_MUTATIONS' names: a mutation added to the list without a
 * sample here does not compile (`npm run typecheck`), so every test that walks the list (guarded-mutations,
 * pii-logging) exercises it.
 */
export const GUARDED_SAMPLES: { readonly [K in GuardedMutationName]: GuardedSample } = {
  registerCibilCustomer: {
    inputType: "RegisterCibilCustomerInput",
    endpoint: "cibil.register",
    input: (v) => ({
      firstName: "Asha",
      lastName: "Kulkarni",
      pan: v.pan,
      dateOfBirth: v.dateOfBirth,
      email: v.email,
      mobile: v.mobile,
    }),
  },
  generateCibilOtp: {
    inputType: "GenerateCibilOtpInput",
    endpoint: "cibil.generateOtp",
    input: (v) => ({ cibilId: v.cibilId, accessToken: v.accessToken }),
  },
  submitCibilOtp: {
    inputType: "SubmitCibilOtpInput",
    endpoint: "cibil.submitOtp",
    input: (v) => ({ cibilId: v.cibilId, accessToken: v.accessToken, otp: v.otp, questionKey: "k", answerKey: "a" }),
  },
  resendAepsOtp: {
    inputType: "ResendAepsOtpInput",
    endpoint: "aeps.resendOtp",
    input: (v) => ({
      userKey: v.userKey,
      mobile: v.mobile,
      aadhaar: v.aadhaar,
      primaryKeyId: v.primaryKeyId,
      encodeTxnId: v.encodeTxnId,
    }),
  },
  verifyAepsOtp: {
    inputType: "VerifyAepsOtpInput",
    endpoint: "aeps.verifyOtp",
    input: (v) => ({
      userKey: v.userKey,
      mobile: v.mobile,
      aadhaar: v.aadhaar,
      primaryKeyId: v.primaryKeyId,
      encodeTxnId: v.encodeTxnId,
      otp: v.otp,
    }),
  },
};

/** A document running `field` once, selecting its result's type and failure code. */
export function guardedDocument(field: GuardedMutationName): string {
  return `mutation($input: ${GUARDED_SAMPLES[field].inputType}!) { ${field}(input: $input) { __typename ... on Failure { code } } }`;
}
