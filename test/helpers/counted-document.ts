import { type DocumentNode, Kind } from "graphql";

/**
 * A copy of `document` whose selection sets count every read of their `selections`: the work of whoever walks it
 * (a validation rule, the shape check), counted rather than timed, so that a test of "linear, not exponential" does
 * not depend on the machine's speed (test/unit/graphql/limits.test.ts, document-shape.test.ts).
 */
export function countedDocument(document: DocumentNode): { document: DocumentNode; reads: () => number } {
  let reads = 0;
  const wrap = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(wrap);
    if (typeof node !== "object" || node === null) return node;
    const copy = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, wrap(v)]));
    if ((node as { kind?: string }).kind !== Kind.SELECTION_SET) return copy;
    return new Proxy(copy, {
      get(target, key, receiver) {
        if (key === "selections") reads++;
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
  };
  return { document: wrap(document) as DocumentNode, reads: () => reads };
}
