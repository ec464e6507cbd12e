import possibleTypesResult, { type PossibleTypesResultData } from "./generated/possible-types.js";

/** `__typename` of every type implementing `interface Failure` (from the schema, through possible-types.ts). */
export type FailureTypename = PossibleTypesResultData["possibleTypes"]["Failure"][number];

/** The failure members of a result union `T` (e.g. `GenerateCibilOtpMutation["generateCibilOtp"]`). */
export type FailureOf<T> = Extract<T, { __typename: FailureTypename }>;

const FAILURE_TYPENAMES: ReadonlySet<string> = new Set(possibleTypesResult.possibleTypes.Failure);

/**
 * True when a result union member is one of the failure types. Narrows `result` to them, so `code`, `message` and
 * `retryable` (selected by the FailureFields fragment) are typed; the success member is what is left.
 */
export function isFailure<T extends { __typename: string }>(result: T): result is FailureOf<T> {
  return FAILURE_TYPENAMES.has(result.__typename);
}
