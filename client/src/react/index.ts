/**
 * `@aopay-graphql/client/react`: one typed Apollo Client 4 hook per operation (generated), the links that surface
 * request ids and send trusted-document ids, `errorCodeOf` (the server's code of an error Apollo rejected with),
 * and everything in `@aopay-graphql/client`. Needs `@apollo/client` 4, `react`, `rxjs` and `graphql`.
 */
export * from "../index.js";
export * from "../generated/hooks.js";
export {
  bindMutation,
  bindQuery,
  NO_CACHE,
  withHookDefaults,
  type BoundMutationHook,
  type BoundQueryHook,
  type HookDefaults,
} from "../bind.js";
export { createRequestMetaLink, requestMetaOf, REQUEST_META_EXTENSION, type RequestMeta } from "./request-meta-link.js";
export { createTrustedDocumentLink, trustedDocumentIdOf } from "./trusted-document-link.js";
export { errorCodeOf, mayHaveBeenSent } from "./error-code.js";
