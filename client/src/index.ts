/**
 * `@aopay-graphql/client`: typed documents, operation and input types, `possibleTypes` and helpers to read results
 * and errors, all generated from schema/schema.graphql and client/operations (npm run codegen). Framework-free:
 * React hooks are in `@aopay-graphql/client/react`, the Node SDK in `@aopay-graphql/client/sdk`.
 */
export * from "./generated/graphql.js";
export { isFailure, type FailureOf, type FailureTypename } from "./failures.js";
export { newIdempotencyKey } from "./idempotency-key.js";
export {
  AOPAY_ERROR_CODES,
  fieldProblems,
  REFUSED_BEFORE_RUNNING_CODES,
  refusedBeforeRunning,
  requestIdOf,
  type AopayErrorCode,
  type AopayErrorExtensions,
  type FieldProblem,
  type GraphQLErrorPayload,
} from "./graphql-errors.js";
export { trustedDocumentIds, type TrustedOperationName } from "./generated/trusted-documents.js";
import possibleTypesResult from "./generated/possible-types.js";

/** Pass to `new InMemoryCache({ possibleTypes })` so the cache can match fragments on the result unions. */
export const possibleTypes = possibleTypesResult.possibleTypes;

/**
 * Pass to `new InMemoryCache({ possibleTypes, typePolicies })`. Apollo's cache normalises every object with an `id`
 * (or `_id`) field under `Typename:id`, assuming the id is unique and stable. `CibilAnswerChoice.id` is AOPay's
 * AnswerChoiceId, which docs/upstream does not promise to be unique across questions or customers: two choices
 * with one id would be merged into one entry (the wrong text shown), and the entry would outlive the mutation that
 * returned it. `keyFields: false` keeps such objects inside their parent result instead.
 * test/unit/client/type-policies.test.ts fails when a schema type with an `id` or `_id` field is missing here.
 */
export const typePolicies = {
  CibilAnswerChoice: { keyFields: false },
} as const satisfies Record<string, { keyFields: false }>;
