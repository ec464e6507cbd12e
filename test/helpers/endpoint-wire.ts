import { type SuccessEnvelope, interpretResponse } from "../../src/aopay/outcome";
import { Scrubber } from "../../src/pii/scrub";
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

/** A documented fixture body (test/fixtures/aopay/<name>.json) read as AOPay's HTTP 200 answer. */
export const successFromFixture = (name: string, endpoint: { name: string; sideEffect: boolean }): SuccessEnvelope =>
  interpretResponse(
    endpoint,
    { statusCode: 200, headers: { "content-type": "application/json" }, body: fixture(name) },
    scrubber,
  );

/** A success envelope around `body`, for endpoints AOPay publishes no example answer of. */
export const successOf = (body: Record<string, unknown>): SuccessEnvelope => ({
  kind: "success",
  body,
  message: body.message as string | undefined,
});

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
