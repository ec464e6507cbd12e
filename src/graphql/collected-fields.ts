import {
  type DocumentNode,
  type GraphQLObjectType,
  type GraphQLSchema,
  Kind,
  type SelectionSetNode,
  version as graphqlVersion,
  visit,
} from "graphql";
// A namespace import of a module marked __esModule is the module's own exports object (tsc's __importStar), the one
// execute.js reads at each call (`(0, _collectFields.collectSubfields)(...)`), as argument-values.ts does for
// values.js.
import * as collect from "graphql/execution/collectFields";
import { CHECKED_GRAPHQL_VERSION } from "./argument-values";

/** Why the reuse is not in place, or "installed". */
export type CollectedFieldsInstall = "installed" | "other-graphql-version" | "export-not-writable";

type CollectFields = typeof collect.collectFields;
type CollectSubfields = typeof collect.collectSubfields;
type Collected = ReturnType<CollectSubfields>;

/** A kept selection set's collections, by the object type they were made for, under the schema it was accepted in. */
interface Kept {
  schema: GraphQLSchema;
  byType: Map<GraphQLObjectType, Collected>;
}

/**
 * The selection sets of kept documents (keepCollectedFields) whose collection depends only on the schema and the
 * object type: no directive and no fragment spread at their level (inline fragments looked through). Weak: a document
 * no longer held elsewhere (evicted from AcceptedDocuments and Apollo's store) takes its entries with it.
 */
const kept = new WeakMap<SelectionSetNode, Kept>();

let installed: { collectFields: CollectFields; collectSubfields: CollectSubfields } | null = null;

/**
 * Makes graphql-js reuse, from one request to the next, the fields it collects for a selection set of a document
 * this server keeps (AcceptedDocuments: documents Apollo accepted, bounded, reused by the fast path and by Apollo's
 * own document store), for every `execute` in this process. Idempotent; called once at start (apollo-options.ts).
 *
 * Why: graphql 16.15.0 collects a selection set's fields for each request (execution/collectFields.js: a `Map`, a
 * `Set`, an array per response key, for the root and for each object value), and memoizes them only within that
 * request (execute.js `collectSubfields`, a memoize3 keyed by the request's execution context). The bench's
 * documents (a union with seven inline fragments) allocated 53.2 kB per AEPS request and 63.7 kB per CIBIL one, 48.8
 * and 55.9 kB with the reuse (`npm run bench:alloc`; docs/performance-runs.md, round "graphql-js's collected fields
 * reused").
 *
 * When it is the same answer: collectFields.js reads the schema, the runtime type, the selection set, the variables
 * (only through @skip/@include: `shouldIncludeNode` on each selection) and the request's fragments (only for a
 * fragment spread). A selection set is kept only when nothing at its level carries a directive (any, not just
 * @skip/@include) or is a fragment spread, inline fragments looked into: its collection is then the same for every
 * request, given the schema (checked against the one it was accepted in) and the type (the key). Anything else, and
 * every selection set of a document not kept, goes to graphql's own function. The arrays of field nodes are frozen
 * (resolvers see them as `info.fieldNodes`, typed read-only): one shared array cannot be changed for the next
 * request. graphql reads the Map and never writes it once returned (execute.js executeFields,
 * executeFieldsSerially).
 *
 * How it fails safe: another graphql version or an export that is not a writable data property leaves graphql as it
 * is (the caller logs why, at debug); if graphql stopped reading the export at each call, nothing would be reused
 * (collected-fields.test.ts checks the reuse through a real `execute` and fails then).
 */
export function reuseCollectedFields(): CollectedFieldsInstall {
  if (installed) return "installed";
  if (graphqlVersion !== CHECKED_GRAPHQL_VERSION) return "other-graphql-version";
  const fieldsDescriptor = Object.getOwnPropertyDescriptor(collect, "collectFields");
  const subfieldsDescriptor = Object.getOwnPropertyDescriptor(collect, "collectSubfields");
  if (
    !fieldsDescriptor?.writable ||
    !subfieldsDescriptor?.writable ||
    typeof fieldsDescriptor.value !== "function" ||
    typeof subfieldsDescriptor.value !== "function"
  )
    return "export-not-writable";
  const collectFields = fieldsDescriptor.value as CollectFields;
  const collectSubfields = subfieldsDescriptor.value as CollectSubfields;
  const own = collect as { collectFields: CollectFields; collectSubfields: CollectSubfields };
  own.collectFields = (schema, fragments, variableValues, runtimeType, selectionSet, onSelectionSet?) => {
    const entry = onSelectionSet === undefined ? kept.get(selectionSet) : undefined;
    if (entry === undefined || entry.schema !== schema)
      return collectFields(schema, fragments, variableValues, runtimeType, selectionSet, onSelectionSet);
    return reused(entry, runtimeType, () =>
      collectFields(schema, fragments, variableValues, runtimeType, selectionSet),
    );
  };
  own.collectSubfields = (schema, fragments, variableValues, returnType, fieldNodes) => {
    // Several nodes (the same response key asked twice) are merged per request: left to graphql.
    const selectionSet = fieldNodes.length === 1 ? fieldNodes[0].selectionSet : undefined;
    const entry = selectionSet === undefined ? undefined : kept.get(selectionSet);
    if (entry === undefined || entry.schema !== schema)
      return collectSubfields(schema, fragments, variableValues, returnType, fieldNodes);
    return reused(entry, returnType, () => collectSubfields(schema, fragments, variableValues, returnType, fieldNodes));
  };
  installed = { collectFields, collectSubfields };
  return "installed";
}

/** The entry's collection for `type`, made by `make` the first time and frozen. */
function reused(entry: Kept, type: GraphQLObjectType, make: () => Collected): Collected {
  let fields = entry.byType.get(type);
  if (fields === undefined) {
    fields = make();
    for (const nodes of fields.values()) Object.freeze(nodes);
    entry.byType.set(type, fields);
  }
  return fields;
}

/**
 * Keeps the collections of `document`'s selection sets that qualify (reuseCollectedFields), under `schema`, for the
 * requests that execute this same document object. Called by AcceptedDocuments when it keeps a document.
 */
export function keepCollectedFields(document: DocumentNode, schema: GraphQLSchema): void {
  if (!installed) return;
  visit(document, {
    SelectionSet(node) {
      if (!kept.has(node) && sameForEveryRequest(node)) kept.set(node, { schema, byType: new Map() });
    },
  });
}

/** Nothing at this selection set's level (inline fragments looked into) that the variables or fragments decide. */
function sameForEveryRequest(set: SelectionSetNode): boolean {
  for (const selection of set.selections) {
    if (selection.directives?.length) return false;
    if (selection.kind === Kind.FRAGMENT_SPREAD) return false;
    if (selection.kind === Kind.INLINE_FRAGMENT && !sameForEveryRequest(selection.selectionSet)) return false;
  }
  return true;
}

/** The functions graphql's execute calls now, and those they wrap (null: not installed). For tests. */
export function collectedFieldsFunctions(): {
  original: { collectFields: CollectFields; collectSubfields: CollectSubfields };
  kept: (set: SelectionSetNode) => boolean;
} | null {
  return installed && { original: installed, kept: (set) => kept.has(set) };
}
