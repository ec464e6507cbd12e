/**
 * Typed client for the AOPay GraphQL layer: typed documents, operation types and Apollo Client 4 React hooks,
 * all generated from schema/schema.graphql and client/operations (npm run codegen).
 */
export * from "./generated/graphql";
export * from "./generated/hooks";
export { bindMutation, bindQuery, type BoundMutationHook, type BoundQueryHook } from "./bind";
import possibleTypesResult from "./generated/possible-types";

/** Pass to `new InMemoryCache({ possibleTypes })` so the cache can match fragments on the result unions. */
export const possibleTypes = possibleTypesResult.possibleTypes;
