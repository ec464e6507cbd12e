/**
 * `@aopay-graphql/client/sdk`: a framework-free typed SDK for Node, over undici. `createSdk()` (generated) has one
 * function per operation; everything in `@aopay-graphql/client` (types, `isFailure`, `fieldProblems`) is here too.
 */
export * from "../index.js";
export * from "../generated/sdk.js";
export {
  createGraphQLClient,
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_TIMEOUT_MS,
  type CallOptions,
  type GraphQLClient,
  type GraphQLClientOptions,
  type OperationOf,
  type SdkArgs,
  type SdkFunction,
  type SdkFunctionOf,
  type SdkOperation,
  type SdkResult,
} from "./client.js";
export {
  AopayAbortError,
  AopayClientBadResponseError,
  AopayClientError,
  AopayCredentialsError,
  AopayHttpError,
  AopayNetworkError,
  AopayClientTimeoutError,
  type AopayClientErrorCode,
} from "./errors.js";
