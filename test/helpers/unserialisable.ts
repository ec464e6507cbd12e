/** A GraphQL response body as JSON.stringify meets it. */
type Body = { data?: Record<string, unknown> | null };

/**
 * Makes JSON.stringify throw for the values `when` picks, as a BigInt or a cycle in a result would, until the function
 * it returns is called: a result that cannot be serialised, which GraphQL answers 500 after its operation ran
 * (Apollo's pipeline and the fast path both serialise with JSON.stringify).
 */
export function unserialisable(
  when: (value: Body) => boolean,
  message = "Do not know how to serialize a BigInt",
): () => void {
  const real = JSON.stringify;
  JSON.stringify = function (this: unknown, ...args: Parameters<typeof JSON.stringify>) {
    const value = args[0] as Body | undefined;
    if (value && typeof value === "object" && when(value)) throw new TypeError(message);
    return real.apply(JSON, args);
  } as typeof JSON.stringify;
  return () => {
    JSON.stringify = real;
  };
}
