import type { Cache, ErrorPolicy, OperationVariables } from "@apollo/client";
import { type SkipToken, useMutation, useQuery } from "@apollo/client/react";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import type { DocumentNode } from "graphql";

/**
 * Typed React hooks bound to one document, for Apollo Client 4.
 *
 * `@graphql-codegen/typescript-react-apollo` emits hooks that do not compile against AC4 (docs/design/stack.md),
 * so our codegen plugin (codegen/apollo-react-hooks.js) emits `export const useXMutation = bindMutation(XDocument)`
 * instead. The call signatures below restate AC4's own `useMutation`/`useQuery` signatures with the document fixed,
 * using only AC4's public namespace types, so variables stay required when the operation requires them, unknown
 * options are errors, and the result union narrows on `__typename`. client/typecheck/hooks.typecheck.ts proves it.
 */

export interface BoundMutationHook<TData, TVariables extends OperationVariables> {
  (): useMutation.ResultForOptions<TData, TVariables, Cache.Implementation, Record<string, never>>;
  <
    TOptions extends useMutation.Options<NoInfer<TData>, NoInfer<TVariables>, Cache.Implementation> & {
      variables?: { [K in Exclude<keyof TOptions["variables"], keyof TVariables>]?: never };
    },
    TErrorPolicy extends ErrorPolicy | undefined = undefined,
  >(
    options?: TOptions & useMutation.OptionsFor<TOptions> & { errorPolicy?: TErrorPolicy },
  ): useMutation.ResultForOptions<TData, TVariables, Cache.Implementation, TOptions, TErrorPolicy>;
}

export interface BoundQueryHook<TData, TVariables extends OperationVariables> {
  <TOptions extends useQuery.Base.Options<TData, NoInfer<TVariables>>>(
    ...[options]: {} extends TVariables
      ? [options?: TOptions & useQuery.OptionsFor<TData, TVariables, TOptions>]
      : [options: TOptions & useQuery.OptionsFor<TData, TVariables, TOptions>]
  ): useQuery.ResultForOptions<TData, TVariables, TOptions>;
  <TOptions extends useQuery.Base.Options<TData, NoInfer<TVariables>>>(
    ...[options]: {} extends TVariables
      ? [options?: (TOptions & useQuery.OptionsFor<TData, TVariables, TOptions>) | SkipToken]
      : [options: (TOptions & useQuery.OptionsFor<TData, TVariables, TOptions>) | SkipToken]
  ): useQuery.ResultForOptions<TData, TVariables, TOptions | SkipToken>;
}

// The typed surface is the Bound*Hook interfaces above; at runtime the call is forwarded unchanged.
const forwardMutation = useMutation as unknown as (document: DocumentNode, options?: unknown) => unknown;
const forwardQuery = useQuery as unknown as (document: DocumentNode, options?: unknown) => unknown;

export function bindMutation<TData, TVariables extends OperationVariables>(
  document: TypedDocumentNode<TData, TVariables>,
): BoundMutationHook<TData, TVariables> {
  return ((options?: unknown) => forwardMutation(document, options)) as BoundMutationHook<TData, TVariables>;
}

export function bindQuery<TData, TVariables extends OperationVariables>(
  document: TypedDocumentNode<TData, TVariables>,
): BoundQueryHook<TData, TVariables> {
  return ((options?: unknown) => forwardQuery(document, options)) as BoundQueryHook<TData, TVariables>;
}
