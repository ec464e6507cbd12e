import { skipToken } from "@apollo/client/react";
import {
  NO_CACHE,
  useCibilCreditHistoryQuery,
  useGenerateCibilOtpMutation,
  useRegisterCibilCustomerMutation,
  useResendAepsOtpMutation,
  useServiceInfoQuery,
  useSubmitCibilOtpMutation,
  useVerifyAepsOtpMutation,
  withHookDefaults,
} from "../../../client/src/react";

/**
 * The generated hooks' default options (client/src/bind.ts): every operation that carries identifiers keeps its
 * variables and answers out of Apollo's cache unless the caller asks otherwise. test/e2e/apollo-client.test.ts runs
 * these options against the server and reads the cache.
 */
describe("generated hooks' default options", () => {
  it('are fetchPolicy "no-cache" for every operation with identifiers, none for ServiceInfo', () => {
    for (const hook of [
      useCibilCreditHistoryQuery,
      useGenerateCibilOtpMutation,
      useRegisterCibilCustomerMutation,
      useResendAepsOtpMutation,
      useSubmitCibilOtpMutation,
      useVerifyAepsOtpMutation,
    ])
      expect(hook.defaultOptions).toEqual({ fetchPolicy: "no-cache" });
    expect(useServiceInfoQuery.defaultOptions).toEqual({});
    expect(Object.isFrozen(NO_CACHE)).toBe(true);
  });

  it("apply under the caller's options: an explicit policy wins, undefined keeps the default, skipToken passes", () => {
    expect(withHookDefaults(NO_CACHE, undefined)).toEqual({ fetchPolicy: "no-cache" });
    expect(withHookDefaults(NO_CACHE, { variables: { cibilId: "1" } })).toEqual({
      variables: { cibilId: "1" },
      fetchPolicy: "no-cache",
    });
    expect(withHookDefaults(NO_CACHE, { fetchPolicy: undefined })).toEqual({ fetchPolicy: "no-cache" });
    expect(withHookDefaults(NO_CACHE, { fetchPolicy: "cache-first" })).toEqual({ fetchPolicy: "cache-first" });
    expect(withHookDefaults(NO_CACHE, skipToken)).toBe(skipToken);
    const options = { variables: {} };
    withHookDefaults(NO_CACHE, options);
    expect(options).toEqual({ variables: {} });
  });
});
