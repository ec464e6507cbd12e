import {
  AopayCircuitOpenError,
  AopayOutcomeUnknownError,
  AopayOverloadedError,
  AopayRejectedError,
  AopayTimeoutError,
  AopayUnavailableError,
} from "../../../src/aopay/errors";
import { retryDelay, type RetryPolicy } from "../../../src/aopay/retry";
import { requestBudgetMs } from "../../../src/http/graphql-context";

const policy: RetryPolicy = { maxRetries: 2, baseDelayMs: 100, maxDelayMs: 1000, minAttemptMs: 250 };
const d = { endpoint: "cibil.generateOtp" };
const notSent = new AopayUnavailableError("refused", { ...d, sent: false });

describe("retryDelay: only calls that provably never left are tried again", () => {
  it("retries a refused / unresolvable / connect-timeout call with full-jitter backoff", () => {
    expect(retryDelay(notSent, 0, 10_000, policy, () => 0.5)).toBe(50);
    expect(retryDelay(notSent, 1, 10_000, policy, () => 0.5)).toBe(100);
    expect(retryDelay(notSent, 1, 10_000, policy, () => 0.999)).toBe(199);
    expect(retryDelay(notSent, 0, 10_000, { ...policy, maxRetries: 9 }, () => 0.5)).toBe(50);
    expect(retryDelay(notSent, 8, 10_000, { ...policy, maxRetries: 9 }, () => 0.999)).toBe(999); // capped at maxDelayMs
  });

  it.each([
    ["anything that may have been sent (OUTCOME_UNKNOWN)", new AopayOutcomeUnknownError("x", { ...d, sent: true })],
    ["an answer, even a 5xx", new AopayUnavailableError("x", { ...d, sent: true, httpStatus: 503 })],
    ["a business rejection", new AopayRejectedError("x", { ...d, sent: true })],
    ["an open circuit", new AopayCircuitOpenError("x", { ...d, sent: false })],
    ["our own overload shedding", new AopayOverloadedError("x", { ...d, sent: false })],
    ["a deadline that already passed", new AopayTimeoutError("x", { ...d, sent: false })],
    ["a bug (not an AopayError)", new Error("boom")],
  ])("never retries %s", (_what, error) => {
    expect(retryDelay(error, 0, 10_000, policy, () => 0.5)).toBeNull();
  });

  it("stops after maxRetries", () => {
    expect(retryDelay(notSent, 2, 10_000, policy, () => 0.5)).toBeNull();
  });

  it("does not start an attempt that cannot finish inside the deadline", () => {
    expect(retryDelay(notSent, 0, 300, policy, () => 0.5)).toBe(50);
    expect(retryDelay(notSent, 0, 299, policy, () => 0.5)).toBeNull();
    expect(retryDelay(notSent, 0, -5, policy, () => 0)).toBeNull();
  });
});

describe("requestBudgetMs: a client may shorten the deadline, never lengthen it", () => {
  it.each([
    [undefined, 10_000],
    ["300", 300],
    ["60000", 10_000],
    ["0", 10_000],
    ["-5", 10_000],
    ["1e3", 10_000],
    [["300", "400"], 10_000],
  ] as const)("x-request-timeout-ms %j -> %d", (header, expected) => {
    expect(requestBudgetMs(header as string | string[] | undefined, 10_000)).toBe(expected);
  });
});
