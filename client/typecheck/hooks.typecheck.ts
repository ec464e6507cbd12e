/**
 * Compile-time tests of the generated hooks (checked by `tsc -p client`, part of `npm run typecheck`). Every
 * `@ts-expect-error` below must stay an error: if a hook lost its typing, tsc reports the directive as unused.
 * Nothing here runs; the functions are never called.
 */
import { CombinedGraphQLErrors } from "@apollo/client";
import {
  type AopayErrorCode,
  type CibilCreditHistoryQuery,
  errorCodeOf,
  type FailureCode,
  fieldProblems,
  type GenerateCibilOtpMutation,
  isFailure,
  type RegisterCibilCustomerMutation,
  requestMetaOf,
  type ThrottleScope,
  useGenerateCibilOtpMutation,
  useCibilCreditHistoryQuery,
  useResendAepsOtpMutation,
  useServiceInfoQuery,
} from "../src/react/index.js";

export function generateCibilOtpIsTyped(): void {
  const [generate, { data }] = useGenerateCibilOtpMutation();
  void generate({ variables: { input: { cibilId: "102277100", accessToken: "123456542124" } } });
  // The Idempotency-Key travels in the operation context, as HttpLink reads it.
  void generate({
    variables: { input: { cibilId: "102277100", accessToken: "123456542124" } },
    context: { headers: { "Idempotency-Key": "8c1f4f3e-0d5a-4f43-9f53-0e6f0b0e9c11" } },
  });
  // @ts-expect-error variables are required: the operation declares $input!
  void generate();
  // @ts-expect-error cibilId is a String, not a number
  void generate({ variables: { input: { cibilId: 102277100, accessToken: "t" } } });
  // @ts-expect-error unknown input field
  void generate({ variables: { input: { cibilId: "1", accessToken: "t", registrationId: "x" } } });

  const result = data?.generateCibilOtp;
  if (result?.__typename === "CibilOtpChallenge") {
    const key: string | null | undefined = result.question?.key;
    const resend: boolean | null | undefined = result.question?.resendEligible;
    void key;
    void resend;
    // @ts-expect-error a challenge has no failure code
    void result.code;
  } else if (result?.__typename === "UpstreamUnavailable") {
    const retryAfter: number | null = result.retryAfterSeconds;
    void retryAfter;
  } else if (result?.__typename === "UpstreamRejected") {
    const code: FailureCode = result.code;
    const upstream: string | null = result.upstreamMessage;
    void code;
    void upstream;
  }
}

/** Every member of the union narrows on `__typename`, with the fields FailureFields selects for it. */
export function everyFailureMemberNarrows(result: GenerateCibilOtpMutation["generateCibilOtp"]): string {
  switch (result.__typename) {
    case "CibilOtpChallenge":
      return result.cibilId;
    case "UpstreamRejected":
      return `${result.code} ${result.upstreamCode ?? ""} ${result.upstreamMessage ?? ""}`;
    case "UpstreamUnauthorized":
      return `${result.code} ${result.upstreamCode ?? ""}`;
    case "UpstreamUnavailable":
      return `${result.message} ${result.retryAfterSeconds ?? ""}`;
    case "OutcomeUnknown":
      // @ts-expect-error OutcomeUnknown has no retryAfterSeconds
      return `${result.message} ${result.retryAfterSeconds}`;
    case "OtpThrottled": {
      const retryAfter: number | null = result.retryAfterSeconds;
      const scope: ThrottleScope = result.scope;
      return `${retryAfter ?? ""} ${scope}`;
    }
    case "IdempotencyConflict":
      return String(result.retryAfterSeconds);
    case "ProtectionUnavailable":
      return String(result.retryable);
    default: {
      // Exhaustive: a new member of the union makes this assignment fail.
      const unreachable: never = result;
      return unreachable;
    }
  }
}

/**
 * A registration refused by a registered-mobile rule is a member of its own (RegistrationRefused), narrowed with
 * FailureFields' code, message, retryable and retryAfterSeconds (null when a wait does not lift it); a send's union
 * does not have it.
 */
export function registrationRefusedNarrows(
  result: RegisterCibilCustomerMutation["registerCibilCustomer"],
  send: GenerateCibilOtpMutation["generateCibilOtp"],
): string {
  if (result.__typename === "RegistrationRefused") {
    const code: FailureCode = result.code;
    // Selected by FailureFields (it once was not: a client could not tell a 2 s wait from none).
    const retryAfter: number | null = result.retryAfterSeconds;
    return `${code} ${String(result.retryable)} ${retryAfter ?? "no wait lifts it"}`;
  }
  // @ts-expect-error generateCibilOtp is never refused this way
  if (send.__typename === "RegistrationRefused") return "";
  return result.__typename;
}

/**
 * A credit-report read past its budget is a member of its own (ReadThrottled, after 0.1.0), with FailureFields'
 * retryAfterSeconds and scope; a send's union does not have it.
 */
export function readThrottledNarrows(
  result: CibilCreditHistoryQuery["cibilCreditHistory"],
  send: GenerateCibilOtpMutation["generateCibilOtp"],
): string {
  if (result.__typename === "ReadThrottled") {
    const code: FailureCode = result.code;
    const retryAfter: number | null = result.retryAfterSeconds;
    const scope: ThrottleScope = result.scope;
    return `${code} ${retryAfter ?? ""} ${scope}`;
  }
  // @ts-expect-error generateCibilOtp is never refused this way
  if (send.__typename === "ReadThrottled") return "";
  return result.__typename;
}

/** isFailure narrows to the failure members, and what is left is the success member. */
export function isFailureNarrows(result: GenerateCibilOtpMutation["generateCibilOtp"]): void {
  if (isFailure(result)) {
    const retryable: boolean = result.retryable;
    const message: string = result.message;
    void retryable;
    void message;
    // @ts-expect-error a failure has no question
    void result.question;
  } else {
    const typename: "CibilOtpChallenge" = result.__typename;
    void typename;
  }
}

export function resendAepsOtpIsTyped(): void {
  const [resend, { data, error }] = useResendAepsOtpMutation({ errorPolicy: "all" });
  void resend({
    variables: {
      input: {
        userKey: "AOP554N3",
        mobile: "9876543210",
        aadhaar: "234123412346",
        primaryKeyId: "P",
        encodeTxnId: "E",
      },
    },
  });
  void resend({
    // @ts-expect-error mobile is required
    variables: { input: { userKey: "AOP554N3", aadhaar: "234123412346", primaryKeyId: "P", encodeTxnId: "E" } },
  });
  const r = data?.resendAepsOtp;
  if (r?.__typename === "AepsOtpResent") {
    const masked: string = r.maskedAadhaar;
    const mobile: string = r.maskedMobile;
    const resendIn: number = r.resendAvailableInSeconds;
    void masked;
    void mobile;
    void resendIn;
  }
  // BAD_USER_INPUT problems per field, and the request id, from the error the hook reports.
  const problems: Record<string, string> = fieldProblems(CombinedGraphQLErrors.is(error) ? error.errors : undefined);
  const requestId: string | null = requestMetaOf(error).requestId;
  void problems;
  void requestId;
  // @ts-expect-error unknown hook option
  useResendAepsOtpMutation({ notAnOption: true });
}

/** The credit report through the query hook: AOPay's payload as an object of unknown shape, or null. */
export function creditHistoryIsTyped(): void {
  // @ts-expect-error cibilId is required
  useCibilCreditHistoryQuery({ variables: {} });
  const { data } = useCibilCreditHistoryQuery({ variables: { cibilId: "700000001" }, fetchPolicy: "no-cache" });
  const history = data?.cibilCreditHistory;
  if (history?.__typename === "CibilCreditHistory") {
    const report: Record<string, unknown> | null = history.report;
    const simulated: unknown = history.report?.simulated;
    void report;
    void simulated;
  } else if (history?.__typename === "ConsentRequired") {
    const code: FailureCode = history.code;
    void code;
  }
}

export function serviceInfoIsTyped(): void {
  const { data } = useServiceInfoQuery({ fetchPolicy: "network-only" });
  const upstream: "LIVE" | "SIMULATOR" | undefined = data?.serviceInfo?.upstream;
  void upstream;
}

/** A hook's `error` (or a rejection) gives the server's code typed as AopayErrorCode, null when none arrived. */
export function errorCodeIsTyped(): AopayErrorCode | "none" {
  const [, { error }] = useGenerateCibilOtpMutation();
  const code = errorCodeOf(error);
  if (code === "OVERLOADED" || code === "UNAUTHENTICATED") return code;
  // @ts-expect-error not one of the server's codes
  if (code === "OVERLOAD") return "none";
  return code ?? "none";
}
