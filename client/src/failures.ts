import possibleTypesResult, { type PossibleTypesResultData } from "./generated/possible-types.js";

/** `__typename` of every type implementing `interface Failure` (from the schema, through possible-types.ts). */
export type FailureTypename = PossibleTypesResultData["possibleTypes"]["Failure"][number];

/** The failure members of a result union `T` (e.g. `GenerateCibilOtpMutation["generateCibilOtp"]`). */
export type FailureOf<T> = Extract<T, { __typename: FailureTypename }>;

const FAILURE_TYPENAMES: ReadonlySet<string> = new Set(possibleTypesResult.possibleTypes.Failure);

/**
 * The success member of each result union (`...Result`): the one member that does not implement `Failure`. A union
 * gains failure types over time, never a second success type (docs/clients.md).
 */
const SUCCESS_TYPENAMES: ReadonlySet<string> = new Set(
  Object.entries(possibleTypesResult.possibleTypes as Record<string, readonly string[]>)
    .filter(([name]) => name.endsWith("Result"))
    .flatMap(([, members]) => members.filter((m) => !FAILURE_TYPENAMES.has(m))),
);

/**
 * True when a result union member is not the union's success type: one of the failure types, or a type added to the
 * union after this client was built (a new failure type: the schema adds failure types, never a success type, so a
 * name this client does not know is a failure, not a success). Narrows `result` to the failure members, so `code`,
 * `message` and `retryable` (selected by the FailureFields fragment) are typed; the success member is what is left.
 * For a type newer than the client, those fields may be missing (Apollo Client's cache does not match `... on Failure`
 * for a type its `possibleTypes` lacks): show a generic message when `code` is undefined.
 */
export function isFailure<T extends { __typename: string }>(result: T): result is FailureOf<T> {
  return FAILURE_TYPENAMES.has(result.__typename) || !SUCCESS_TYPENAMES.has(result.__typename);
}
