/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "mutation ResendAepsOtp($input: ResendAepsOtpInput!) {\n  resendAepsOtp(input: $input) {\n    __typename\n    ... on AepsOtpResent {\n      upstreamMessage\n      upstreamResponseCode\n      upstreamErrorCode\n      primaryKeyId\n      encodeTxnId\n      maskedAadhaar\n      maskedMobile\n    }\n    ...FailureFields\n  }\n}": typeof types.ResendAepsOtpDocument,
    "mutation GenerateCibilOtp($input: GenerateCibilOtpInput!) {\n  generateCibilOtp(input: $input) {\n    __typename\n    ... on CibilOtpChallenge {\n      cibilId\n      status\n      nextStep\n      nextStepName\n      merchantTransactionId\n      question {\n        key\n        text\n        lastChance\n        skipEligible\n        resendEligible\n        answerChoices {\n          id\n          key\n          text\n        }\n      }\n    }\n    ...FailureFields\n  }\n}": typeof types.GenerateCibilOtpDocument,
    "fragment FailureFields on Failure {\n  code\n  message\n  retryable\n  ... on UpstreamRejected {\n    upstreamCode\n    upstreamMessage\n  }\n  ... on UpstreamUnauthorized {\n    upstreamCode\n    upstreamMessage\n  }\n  ... on UpstreamUnavailable {\n    retryAfterSeconds\n  }\n  ... on OtpThrottled {\n    retryAfterSeconds\n    scope\n  }\n  ... on IdempotencyConflict {\n    retryAfterSeconds\n  }\n}\n\nquery ServiceInfo {\n  serviceInfo {\n    upstream\n  }\n}": typeof types.FailureFieldsFragmentDoc,
};
const documents: Documents = {
    "mutation ResendAepsOtp($input: ResendAepsOtpInput!) {\n  resendAepsOtp(input: $input) {\n    __typename\n    ... on AepsOtpResent {\n      upstreamMessage\n      upstreamResponseCode\n      upstreamErrorCode\n      primaryKeyId\n      encodeTxnId\n      maskedAadhaar\n      maskedMobile\n    }\n    ...FailureFields\n  }\n}": types.ResendAepsOtpDocument,
    "mutation GenerateCibilOtp($input: GenerateCibilOtpInput!) {\n  generateCibilOtp(input: $input) {\n    __typename\n    ... on CibilOtpChallenge {\n      cibilId\n      status\n      nextStep\n      nextStepName\n      merchantTransactionId\n      question {\n        key\n        text\n        lastChance\n        skipEligible\n        resendEligible\n        answerChoices {\n          id\n          key\n          text\n        }\n      }\n    }\n    ...FailureFields\n  }\n}": types.GenerateCibilOtpDocument,
    "fragment FailureFields on Failure {\n  code\n  message\n  retryable\n  ... on UpstreamRejected {\n    upstreamCode\n    upstreamMessage\n  }\n  ... on UpstreamUnauthorized {\n    upstreamCode\n    upstreamMessage\n  }\n  ... on UpstreamUnavailable {\n    retryAfterSeconds\n  }\n  ... on OtpThrottled {\n    retryAfterSeconds\n    scope\n  }\n  ... on IdempotencyConflict {\n    retryAfterSeconds\n  }\n}\n\nquery ServiceInfo {\n  serviceInfo {\n    upstream\n  }\n}": types.FailureFieldsFragmentDoc,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation ResendAepsOtp($input: ResendAepsOtpInput!) {\n  resendAepsOtp(input: $input) {\n    __typename\n    ... on AepsOtpResent {\n      upstreamMessage\n      upstreamResponseCode\n      upstreamErrorCode\n      primaryKeyId\n      encodeTxnId\n      maskedAadhaar\n      maskedMobile\n    }\n    ...FailureFields\n  }\n}"): (typeof documents)["mutation ResendAepsOtp($input: ResendAepsOtpInput!) {\n  resendAepsOtp(input: $input) {\n    __typename\n    ... on AepsOtpResent {\n      upstreamMessage\n      upstreamResponseCode\n      upstreamErrorCode\n      primaryKeyId\n      encodeTxnId\n      maskedAadhaar\n      maskedMobile\n    }\n    ...FailureFields\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation GenerateCibilOtp($input: GenerateCibilOtpInput!) {\n  generateCibilOtp(input: $input) {\n    __typename\n    ... on CibilOtpChallenge {\n      cibilId\n      status\n      nextStep\n      nextStepName\n      merchantTransactionId\n      question {\n        key\n        text\n        lastChance\n        skipEligible\n        resendEligible\n        answerChoices {\n          id\n          key\n          text\n        }\n      }\n    }\n    ...FailureFields\n  }\n}"): (typeof documents)["mutation GenerateCibilOtp($input: GenerateCibilOtpInput!) {\n  generateCibilOtp(input: $input) {\n    __typename\n    ... on CibilOtpChallenge {\n      cibilId\n      status\n      nextStep\n      nextStepName\n      merchantTransactionId\n      question {\n        key\n        text\n        lastChance\n        skipEligible\n        resendEligible\n        answerChoices {\n          id\n          key\n          text\n        }\n      }\n    }\n    ...FailureFields\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment FailureFields on Failure {\n  code\n  message\n  retryable\n  ... on UpstreamRejected {\n    upstreamCode\n    upstreamMessage\n  }\n  ... on UpstreamUnauthorized {\n    upstreamCode\n    upstreamMessage\n  }\n  ... on UpstreamUnavailable {\n    retryAfterSeconds\n  }\n  ... on OtpThrottled {\n    retryAfterSeconds\n    scope\n  }\n  ... on IdempotencyConflict {\n    retryAfterSeconds\n  }\n}\n\nquery ServiceInfo {\n  serviceInfo {\n    upstream\n  }\n}"): (typeof documents)["fragment FailureFields on Failure {\n  code\n  message\n  retryable\n  ... on UpstreamRejected {\n    upstreamCode\n    upstreamMessage\n  }\n  ... on UpstreamUnauthorized {\n    upstreamCode\n    upstreamMessage\n  }\n  ... on UpstreamUnavailable {\n    retryAfterSeconds\n  }\n  ... on OtpThrottled {\n    retryAfterSeconds\n    scope\n  }\n  ... on IdempotencyConflict {\n    retryAfterSeconds\n  }\n}\n\nquery ServiceInfo {\n  serviceInfo {\n    upstream\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;