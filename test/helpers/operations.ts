import { TRUSTED_DOCUMENTS } from "../../src/generated/trusted-documents";
import { SIM_OTP } from "../../src/simulator/state";

/**
 * A client operation (client/operations/*.graphql) exactly as the generated clients send it: the tests send the
 * documents clients send, not a copy of their own (the trusted-document manifest holds each with its fragments).
 */
export function clientOperation(name: string): string {
  const op = TRUSTED_DOCUMENTS.operations.find((o) => o.name === name);
  if (!op) throw new Error(`no client operation named ${name} in client/operations`);
  return op.body;
}

/** The operations tests send most, selecting every field of every result member. */
export const GENERATE_CIBIL_OTP = clientOperation("GenerateCibilOtp");
export const RESEND_AEPS_OTP = clientOperation("ResendAepsOtp");
export const VERIFY_AEPS_OTP = clientOperation("VerifyAepsOtp");
export const REGISTER_CIBIL_CUSTOMER = clientOperation("RegisterCibilCustomer");
export const SUBMIT_CIBIL_OTP = clientOperation("SubmitCibilOtp");
export const CIBIL_CREDIT_HISTORY = clientOperation("CibilCreditHistory");

/** Valid inputs (docs/security-requirements.md C1/C2 vectors). The last three digits of cibilId / mobile pick a simulator scenario. */
export const VALID_AADHAAR = "234123412346";
/**
 * A CIBIL id's access token in tests: one per id, as registerCibilCustomer returns one per customer (the token is
 * budgeted as a destination of its own: src/graphql/guarded-mutations.ts CIBIL_TOKEN).
 */
export const cibilToken = (cibilId: string) => `tok${cibilId}`;
export function cibilInput(cibilId = "102277100") {
  return { input: { cibilId, accessToken: cibilToken(cibilId) } };
}
export function aepsInput(mobile = "9876543210", overrides: Record<string, string> = {}) {
  return {
    input: {
      userKey: "AOP554N3XXXX",
      mobile,
      aadhaar: VALID_AADHAAR,
      primaryKeyId: "TEST",
      encodeTxnId: "DEMO",
      ...overrides,
    },
  };
}

export type Result = Record<string, unknown> & { __typename: string };

/** The answers by `__typename:code` (code empty for a success), for readable failures. */
export function tally(results: Result[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of results) {
    const k = `${r.__typename}:${typeof r.code === "string" ? r.code : ""}`;
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}
export const resultOf = (body: { data?: Record<string, unknown> | null }, field: string): Result =>
  (body.data as Record<string, Result>)[field];

/**
 * A response body without its request ids (`"requestId":"<uuid>"`), for checks that a short client value (an OTP
 * such as "123", a port, "abc") is not echoed: a random UUID contains such a string often enough to fail a run
 * (`123` appears in about 1 in 140 random v4 UUIDs). Only UUID-shaped ids are removed, so an id that echoed
 * client text would still be caught.
 */
export function withoutRequestIds(text: string): string {
  return text.replace(
    /"requestId":"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"/g,
    '"requestId":"<id>"',
  );
}

/**
 * The SubmitCibilOtp input answering `challenge` (a CibilOtpChallenge) rightly for the simulator: its OTP and the
 * first answer choice of the challenge's question.
 */
export function rightAnswer(cibilId: string, accessToken: string, challenge: Result) {
  const question = challenge.question as { key: string; answerChoices: Array<{ key: string }> };
  return { cibilId, accessToken, otp: SIM_OTP, questionKey: question.key, answerKey: question.answerChoices[0].key };
}

/** A query whose answer is the whole schema (development settings: introspection on), tens of kB. */
export const INTROSPECTION = `query { __schema { types { name description fields { name description args { name description type { name kind ofType { name kind } } } type { name kind ofType { name kind ofType { name kind } } } } inputFields { name description type { name kind ofType { name kind } } } enumValues { name description } } } }`;
