import type { Cache, ErrorPolicy, OperationVariables } from "@apollo/client";
import { type SkipToken, skipToken, useMutation, useQuery } from "@apollo/client/react";
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
 *
 * A hook may carry default options (`hook.defaultOptions`), applied under the caller's: the plugin binds every
 * operation that takes variables with `NO_CACHE`, because its variables and results carry identifiers (CIBIL id,
 * mobile, access token) and its answers a credit report: with Apollo's default `cache-first` they would stay in the
 * InMemoryCache, keyed by the arguments in clear (`cibilCreditHistory({"cibilId":"..."})`). A caller who wants the
 * cache passes its own `fetchPolicy`; an option passed as `undefined` keeps the default.
 */

/** The options a generated hook applies under the caller's (none, or `NO_CACHE`). */
export interface HookDefaults {
  readonly fetchPolicy?: "no-cache";
}

/** Nothing read or written in Apollo's cache: the default of every generated hook whose operation takes variables. */
export const NO_CACHE: HookDefaults = Object.freeze({ fetchPolicy: "no-cache" });

/** No default options (operations without variables, e.g. ServiceInfo: Apollo's own `cache-first`). */
export const NO_DEFAULTS: HookDefaults = Object.freeze({});

/**
 * The options a bound hook passes to Apollo: `defaults` under `options` (an option set to `undefined` keeps its
 * default); `skipToken` unchanged. Exported so that code calling `client.query`/`client.mutate` directly (and the
 * tests) can apply exactly what the hook applies.
 */
export function withHookDefaults<T>(defaults: HookDefaults, options: T): T {
  if ((options as unknown) === skipToken) return options;
  const merged: Record<string, unknown> = { ...(options ?? {}) };
  for (const [key, value] of Object.entries(defaults)) if (merged[key] === undefined) merged[key] = value;
  return merged as T;
}

export interface BoundMutationHook<TData, TVariables extends OperationVariables> {
  /** Applied under the caller's options (withHookDefaults). */
  readonly defaultOptions: HookDefaults;
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
  /** Applied under the caller's options (withHookDefaults). */
  readonly defaultOptions: HookDefaults;
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

// The typed surface is the Bound*Hook interfaces above; at runtime the call is forwarded with the hook's defaults.
const forwardMutation = useMutation as unknown as (document: DocumentNode, options?: unknown) => unknown;
const forwardQuery = useQuery as unknown as (document: DocumentNode, options?: unknown) => unknown;

export function bindMutation<TData, TVariables extends OperationVariables>(
  document: TypedDocumentNode<TData, TVariables>,
  defaults: HookDefaults = NO_DEFAULTS,
): BoundMutationHook<TData, TVariables> {
  const hook = (options?: unknown) => forwardMutation(document, withHookDefaults(defaults, options));
  return Object.assign(hook, { defaultOptions: defaults }) as unknown as BoundMutationHook<TData, TVariables>;
}

export function bindQuery<TData, TVariables extends OperationVariables>(
  document: TypedDocumentNode<TData, TVariables>,
  defaults: HookDefaults = NO_DEFAULTS,
): BoundQueryHook<TData, TVariables> {
  const hook = (options?: unknown) => forwardQuery(document, withHookDefaults(defaults, options));
  return Object.assign(hook, { defaultOptions: defaults }) as unknown as BoundQueryHook<TData, TVariables>;
}
