import { isAopayError } from "../aopay/errors";
import type { UpstreamFailure } from "./failures/failure.types";
import { toFailure } from "./failures/to-failure";

/**
 * Runs one upstream call and turns the outcome into a result-union member: the success type, or the failure member
 * for an AopayError. Anything else is a bug and is rethrown, to be masked as INTERNAL_SERVER_ERROR.
 */
export async function callUpstream<T, R>(call: () => Promise<T>, toResult: (value: T) => R): Promise<R | UpstreamFailure> {
  try {
    return toResult(await call());
  } catch (error) {
    if (isAopayError(error)) return toFailure(error);
    throw error;
  }
}
