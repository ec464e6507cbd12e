import { type DocumentNode, type FragmentDefinitionNode, Kind, type SelectionSetNode } from "graphql";

/** One response name in a flattened selection set: how often it is selected, and the sub-selections it has. */
interface Group {
  count: number;
  sets: SelectionSetNode[];
}

/**
 * The largest number of times one response name (a field's alias, else its name) is selected in one selection set,
 * with inline fragments and fragment spreads flattened into it, and the sub-selections of same-named fields merged
 * (recursively), as graphql-js's OverlappingFieldsCanBeMergedRule compares them: pairwise, among the selections of one
 * response name, and between their sub-selections. Its work grows with the square of this number (docs/security.md
 * "CPU before refusal"): 496 `__typename` in one set (500 tokens) cost 6 ms of validation, 16 copies of an object
 * field each selecting one leaf 16 times (256 merged) 4 ms, and a chain of fragments each spreading the next twice
 * doubles the count at each link in 10 tokens. Our own operations select a name at most 3 times, the introspection
 * queries once (test/unit/graphql/document-shape.test.ts).
 *
 * Linear in the document, give or take the cap: a fragment is flattened once (memoised) and merged by its counts, a
 * sub-selection reached by a single field is measured once; one in a cycle, or unknown, counts as nothing here
 * (graphql-js's NoFragmentCycles and KnownFragmentNames refuse it). It stops as soon as a count passes `cap`, and
 * returns cap + 1 then.
 */
export function maxRepeatedSelections(document: DocumentNode, cap: number): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions)
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  /** A fragment's flattened selections; null while it is being flattened (a cycle). */
  const flattened = new Map<string, ReadonlyMap<string, Group> | null>();
  /** Sub-selections measured on their own (a name selected once): a fragment spread in many places is measured once. */
  const measured = new WeakSet<SelectionSetNode>();
  let max = 0;
  /** Thrown to stop at the first count past the cap. */
  const over = {};
  const add = (flat: Map<string, Group>, name: string, count: number, sets: readonly SelectionSetNode[]) => {
    let group = flat.get(name);
    if (!group) flat.set(name, (group = { count: 0, sets: [] }));
    group.count += count;
    for (const set of sets) group.sets.push(set);
    if (group.count > max) {
      max = group.count;
      if (max > cap) throw over;
    }
  };
  const flattenInto = (set: SelectionSetNode, flat: Map<string, Group>): void => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        add(flat, (selection.alias ?? selection.name).value, 1, selection.selectionSet ? [selection.selectionSet] : []);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        flattenInto(selection.selectionSet, flat);
      } else {
        const spread = fragmentFlat(selection.name.value);
        if (spread) for (const [name, group] of spread) add(flat, name, group.count, group.sets);
      }
    }
  };
  const fragmentFlat = (name: string): ReadonlyMap<string, Group> | undefined => {
    if (flattened.has(name)) return flattened.get(name) ?? undefined;
    const fragment = fragments.get(name);
    if (!fragment) return undefined;
    flattened.set(name, null);
    const flat = new Map<string, Group>();
    flattenInto(fragment.selectionSet, flat);
    flattened.set(name, flat);
    return flat;
  };
  /** Measures the merged sub-selections of each name (a group's count is at most the cap, so are its sets). */
  const measure = (flat: ReadonlyMap<string, Group>): void => {
    for (const group of flat.values()) {
      if (group.sets.length === 0) continue;
      if (group.sets.length === 1) {
        if (measured.has(group.sets[0])) continue;
        measured.add(group.sets[0]);
      }
      const merged = new Map<string, Group>();
      for (const set of group.sets) flattenInto(set, merged);
      measure(merged);
    }
  };
  try {
    for (const definition of document.definitions) {
      if (definition.kind === Kind.OPERATION_DEFINITION) {
        const flat = new Map<string, Group>();
        flattenInto(definition.selectionSet, flat);
        measure(flat);
      } else if (definition.kind === Kind.FRAGMENT_DEFINITION) {
        const flat = fragmentFlat(definition.name.value);
        if (flat) measure(flat);
      }
    }
  } catch (error) {
    if (error === over) return cap + 1;
    throw error;
  }
  return max;
}
