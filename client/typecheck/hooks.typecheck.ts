/**
 * Compile-time tests of the generated hooks (checked by `tsc -p client`, part of `npm run typecheck`). Every
 * `@ts-expect-error` below must stay an error: if a hook lost its typing, tsc reports the directive as unused.
 * Nothing here runs; the functions are never called.
 */
import { useGenerateCibilOtpMutation, useResendAepsOtpMutation, useServiceInfoQuery } from "../src";

export function generateCibilOtpIsTyped(): void {
  const [generate, { data }] = useGenerateCibilOtpMutation();
  void generate({ variables: { input: { cibilId: "102277100", accessToken: "123456542124" } } });
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
    const code: "UPSTREAM_REJECTED" | string = result.code;
    void code;
  }
}

export function resendAepsOtpIsTyped(): void {
  const [resend, { data }] = useResendAepsOtpMutation({ errorPolicy: "all" });
  void resend({
    variables: { input: { userKey: "AOP554N3", mobile: "9876543210", aadhaar: "234123412346", primaryKeyId: "P", encodeTxnId: "E" } },
  });
  // @ts-expect-error mobile is required
  void resend({ variables: { input: { userKey: "AOP554N3", aadhaar: "234123412346", primaryKeyId: "P", encodeTxnId: "E" } } });
  const r = data?.resendAepsOtp;
  if (r?.__typename === "AepsOtpResent") {
    const masked: string = r.maskedAadhaar;
    void masked;
  }
  // @ts-expect-error unknown hook option
  useResendAepsOtpMutation({ notAnOption: true });
}

export function serviceInfoIsTyped(): void {
  const { data } = useServiceInfoQuery({ fetchPolicy: "network-only" });
  const upstream: "LIVE" | "SIMULATOR" | undefined = data?.serviceInfo?.upstream;
  void upstream;
}
