/**
 * Whether a value is a promise or any thenable: the synchronous paths (the in-memory stores, graphql-js `execute`,
 * a synchronous validateFn) hand back a value or a promise, and their callers wait only for a promise.
 */
export function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}
