import {
  AopayBadResponseError,
  AopayOutcomeUnknownError,
  AopayRejectedError,
  AopayTimeoutError,
  AopayUnauthorizedError,
  AopayUnavailableError,
} from "../../../../src/aopay/errors";
import { FailureCode } from "../../../../src/graphql/failures/failure-code.enum";
import {
  OutcomeUnknown,
  RegistrationRefused,
  UpstreamRejected,
  UpstreamUnauthorized,
  UpstreamUnavailable,
} from "../../../../src/graphql/failures/failure.types";
import { FAILURE_MESSAGES, registrationRefused, toFailure } from "../../../../src/graphql/failures/to-failure";

const d = { endpoint: "cibil.generateOtp", sent: true };

describe("toFailure: the one table from upstream errors to result members", () => {
  it.each([
    [
      new AopayRejectedError("x", { ...d, upstreamCode: "207", upstreamMessage: "Amount is Requaired" }),
      UpstreamRejected,
      FailureCode.UPSTREAM_REJECTED,
      false,
    ],
    [new AopayUnauthorizedError("x", d), UpstreamUnauthorized, FailureCode.UPSTREAM_UNAUTHORIZED, false],
    [
      new AopayUnavailableError("x", { ...d, retryAfterSeconds: 30 }),
      UpstreamUnavailable,
      FailureCode.UPSTREAM_UNAVAILABLE,
      true,
    ],
    [new AopayTimeoutError("x", { ...d, sent: false }), UpstreamUnavailable, FailureCode.UPSTREAM_TIMEOUT, true],
    [new AopayBadResponseError("x", d), UpstreamUnavailable, FailureCode.UPSTREAM_BAD_RESPONSE, false],
    [new AopayOutcomeUnknownError("x", d), OutcomeUnknown, FailureCode.OUTCOME_UNKNOWN, false],
  ])("%s", (error, type, code, retryable) => {
    const failure = toFailure(error);
    expect(failure).toBeInstanceOf(type);
    expect(failure).toMatchObject({ code, retryable, message: FAILURE_MESSAGES[code] });
  });

  it("carries the upstream's code/message on rejections and Retry-After on unavailability", () => {
    expect(toFailure(new AopayRejectedError("x", { ...d, upstreamCode: "207", upstreamMessage: "m" }))).toMatchObject({
      upstreamCode: "207",
      upstreamMessage: "m",
    });
    expect(toFailure(new AopayUnavailableError("x", { ...d, retryAfterSeconds: 30 }))).toMatchObject({
      retryAfterSeconds: 30,
    });
    expect(toFailure(new AopayUnavailableError("x", d))).toMatchObject({ retryAfterSeconds: null });
  });

  it("never uses the internal error message (it names endpoints and statuses) as the client message", () => {
    const failure = toFailure(new AopayUnavailableError("cibil.generateOtp: could not reach AOPay (ECONNREFUSED)", d));
    expect(failure.message).not.toContain("ECONNREFUSED");
  });
});

describe("registrationRefused: a registered-mobile rule's refusal, never PROTECTION_UNAVAILABLE", () => {
  it("a send under way: retryable, after the wait given", () => {
    const failure = registrationRefused("OTP_SEND_IN_PROGRESS", 2);
    expect(failure).toBeInstanceOf(RegistrationRefused);
    expect({ ...failure }).toEqual({
      code: FailureCode.OTP_SEND_IN_PROGRESS,
      message: FAILURE_MESSAGES.OTP_SEND_IN_PROGRESS,
      retryable: true,
      retryAfterSeconds: 2,
    });
  });

  it("other registrations of the customer changing its record meanwhile: retryable, after the wait given", () => {
    const failure = registrationRefused("REGISTRATION_IN_PROGRESS", 2);
    expect(failure).toBeInstanceOf(RegistrationRefused);
    expect({ ...failure }).toEqual({
      code: FailureCode.REGISTRATION_IN_PROGRESS,
      message: FAILURE_MESSAGES.REGISTRATION_IN_PROGRESS,
      retryable: true,
      retryAfterSeconds: 2,
    });
  });

  it("one mobile too many: not retryable, no wait (it holds until the record expires), says what to do instead", () => {
    expect({ ...registrationRefused("MOBILE_LIMIT_REACHED", 2) }).toEqual({
      code: FailureCode.MOBILE_LIMIT_REACHED,
      message: FAILURE_MESSAGES.MOBILE_LIMIT_REACHED,
      retryable: false,
      retryAfterSeconds: null,
    });
    expect(FAILURE_MESSAGES.MOBILE_LIMIT_REACHED).toMatch(/mobile number already used for this customer/);
  });
});
