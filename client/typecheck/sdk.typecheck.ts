/**
 * Compile-time tests of the generated SDK (checked by `tsc -p client`, part of `npm run typecheck`). Every
 * `@ts-expect-error` must stay an error. Nothing here runs.
 */
import {
  type AopayClientErrorCode,
  type AopayErrorCode,
  AopayClientError,
  createSdk,
  fieldProblems,
  isFailure,
  type SdkResult,
  type ResendAepsOtpMutation,
} from "../src/sdk/index.js";

export async function sdkIsTyped(): Promise<void> {
  const sdk = createSdk({ url: "http://127.0.0.1:4000/graphql", apiKey: "aopk_x", timeoutMs: 5_000 });
  const { data, errors, requestId, replayed } = await sdk.generateCibilOtp(
    { input: { cibilId: "102277100", accessToken: "123456542124" } },
    { idempotencyKey: "8c1f4f3e-0d5a-4f43-9f53-0e6f0b0e9c11" },
  );
  const id: string | null = requestId;
  const wasReplayed: boolean = replayed;
  void id;
  void wasReplayed;
  void fieldProblems(errors);
  // A GraphQL error's code is one the server sends (docs/api.md "Results and errors"), not any string.
  const errorCode: AopayErrorCode | undefined = errors?.[0]?.extensions?.code;
  void errorCode;
  // @ts-expect-error a misspelled code is a compile error, not a branch that never runs
  if (errors?.[0]?.extensions?.code === "BAD_USER_IMPUT") void errorCode;
  // data is null when the request failed with GraphQL errors
  // @ts-expect-error possibly null
  void data.generateCibilOtp;
  const result = data?.generateCibilOtp;
  if (result?.__typename === "CibilOtpChallenge") {
    const text: string | null | undefined = result.question?.text;
    // The resend countdown is always there on a challenge.
    const resendIn: number = result.resendAvailableInSeconds;
    void text;
    void resendIn;
  } else if (result?.__typename === "OtpThrottled") {
    const retryAfter: number | null = result.retryAfterSeconds;
    void retryAfter;
  } else if (result && isFailure(result)) {
    const code: string = result.code;
    void code;
  }

  // @ts-expect-error variables are required
  await sdk.generateCibilOtp();
  await sdk.resendAepsOtp({
    // @ts-expect-error mobile must be a string
    input: { userKey: "A", mobile: 9876543210, aadhaar: "2", primaryKeyId: "P", encodeTxnId: "E" },
  });
  // @ts-expect-error unknown call option
  await sdk.generateCibilOtp({ input: { cibilId: "1", accessToken: "tttt" } }, { retries: 3 });
  // A query without variables needs none.
  const info = await sdk.serviceInfo();
  const upstream: "LIVE" | "SIMULATOR" | undefined = info.data?.serviceInfo.upstream;
  void upstream;

  // The credit report: AOPay's payload as received, an object of undocumented shape (not `any`), or null.
  const history = (await sdk.cibilCreditHistory({ cibilId: "700000001" })).data?.cibilCreditHistory;
  if (history?.__typename === "CibilCreditHistory") {
    const report: Record<string, unknown> | null = history.report;
    const fetched: string | null = history.scoreFetchDate;
    // @ts-expect-error the report's fields are unknown until narrowed: it is not `any`
    const score: number = history.report?.score;
    void report;
    void fetched;
    void score;
  }

  const typed: SdkResult<ResendAepsOtpMutation> = await sdk.resendAepsOtp({
    input: { userKey: "AOP554N3", mobile: "9876543210", aadhaar: "234123412346", primaryKeyId: "P", encodeTxnId: "E" },
  });
  void typed;
}

export function errorsAreTyped(error: unknown): AopayClientErrorCode | null {
  if (error instanceof AopayClientError) {
    const sent: boolean = error.requestMayHaveBeenSent;
    void sent;
    return error.code;
  }
  return null;
}

// @ts-expect-error url is required
createSdk({ apiKey: "x" });
