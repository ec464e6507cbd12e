import { type OutcomeSpec, type SuccessEnvelope, interpretResponse } from "../../src/aopay/outcome";
import { Scrubber, type TextScrubber } from "../../src/pii/scrub";
import { fixture } from "./fixtures";

/** The partner settings the endpoint modules put on the wire (AOPay's own example values, docs/upstream/aopay-api.md §4). */
export const WIRE = {
  registrationId: "AOP-554",
  companyCode: "CMP1045",
  aepsPipe: "bank6",
  aepsAccessModeType: "SITE",
  dobFormat: "DD/MM/YYYY" as const,
};

export const scrubber = new Scrubber();

/**
 * `body` read as AOPay's HTTP 200 JSON answer to `endpoint`, its texts scrubbed with `scrub` (a request's own, or the
 * plain one); throws as interpretResponse does for an answer that is not a success.
 */
export const answer200 = (endpoint: OutcomeSpec, body: Buffer, scrub: TextScrubber = scrubber): SuccessEnvelope =>
  interpretResponse(endpoint, { statusCode: 200, headers: { "content-type": "application/json" }, body }, scrub);

/** A documented fixture body (test/fixtures/aopay/<name>.json) read as AOPay's HTTP 200 answer. */
export const successFromFixture = (name: string, endpoint: OutcomeSpec): SuccessEnvelope =>
  answer200(endpoint, fixture(name));

/** A success envelope around `body`, for endpoints AOPay publishes no example answer of. */
export const successOf = (body: Record<string, unknown>): SuccessEnvelope => ({
  kind: "success",
  body,
  message: body.message as string | undefined,
});

/** A resendAepsOtp input as the edge hands it on (validated, canonical forms): the ResendOTP seed page's values. */
export const AEPS_RESEND_INPUT = {
  userKey: "AOP554N3XXXX",
  mobile: "9876543210",
  aadhaar: "234123412346",
  primaryKeyId: "TEST",
  encodeTxnId: "DEMO",
};

/** A registration's input as the edge hands it on (validated, canonical forms), for the endpoint tests. */
export const REGISTRATION_INPUT = {
  orderId: "173200000000012345",
  firstName: "Asha",
  middleName: null,
  lastName: "Kulkarni",
  pan: "ABCPE1234F",
  dateOfBirth: "1990-04-23",
  email: "asha@example.com",
  mobile: "9876543210",
};
