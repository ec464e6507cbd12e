import { getArgumentValues as publicGetArgumentValues, version as graphqlVersion } from "graphql";
// A namespace import of a module marked __esModule is the module's own exports object (tsc's __importStar), the one
// execute.js reads; checked below through graphql's index, whose export is a getter over it.
import * as values from "graphql/execution/values";

/**
 * The graphql-js release this replacement was read against (node_modules/graphql/execution/values.js and its callers).
 * Any other version: not installed (argument-values.test.ts fails then, so that an upgrade is read again, not
 * silently slower).
 */
export const CHECKED_GRAPHQL_VERSION = "16.15.0";

/** Why the replacement is not in place, or "installed". */
export type ArgumentValuesInstall =
  "installed" | "other-graphql-version" | "export-not-writable" | "export-not-graphql-own";

type GetArgumentValues = typeof values.getArgumentValues;

let installed: { original: GetArgumentValues; replacement: GetArgumentValues } | null = null;

/**
 * Makes graphql-js skip its argument copy for fields that declare no arguments, for every `execute` in this process
 * (Apollo Server's and the fast path's, fast-path.ts). Idempotent; called once at start (apollo-options.ts).
 *
 * Why: graphql 16.15.0 `getArgumentValues` (execution/values.js) fills an `Object.create(null)` and returns
 * `{ ...coercedValues }` for every field executed, arguments or not. A null-prototype object is in dictionary mode,
 * so the spread leaves V8's clone fast path (CloneObjectIC_Slow, Runtime_CopyDataProperties, KeyAccumulator), and
 * `keyMap` builds a second null-prototype object on the way. Under callgrind: ~17.6k instructions per CIBIL request
 * (17 calls: the 16 fields of CibilOtpChallenge, none with arguments, and the mutation) and 10.5k per AEPS request
 * (9 calls), about 2 % of a request's main-thread instructions (docs/performance-runs.md, round "graphql-js's argument
 * copy").
 *
 * What it does: for a definition with no declared argument (`def.args.length === 0`) it returns a fresh `{}`, which
 * is what the original returns then (whatever arguments the node carries: validation refuses unknown ones, and the
 * original only reads those it declares): an object with Object.prototype, no own key, extensible, a new one per
 * call (a resolver may write to its args). Any other definition goes to the original, defaults, variables and errors
 * included. graphql-js's CommonJS build reads the export at each call (`(0, _values.getArgumentValues)(...)` in
 * execute.js executeField and subscribe.js), so replacing the export changes what execute calls; getDirectiveValues
 * (@include/@skip) calls the local function in values.js and is untouched. Every graphql module this server loads is
 * the CommonJS build (the package has no `exports` map, so Node resolves `graphql` to index.js from `require` and
 * `import` alike; index.mjs is only a bundler's `module` entry).
 *
 * How it fails safe: another graphql version, an export that is not a writable data property, or one that graphql's
 * own index does not read (a copy) leaves graphql as it is (the caller logs why, at debug). If graphql stopped reading
 * the export at each call, the replacement would just never run: argument-values.test.ts counts its calls through a
 * real `execute` and fails then.
 */
export function skipArgumentCopyWithoutArguments(): ArgumentValuesInstall {
  if (installed) return "installed";
  if (graphqlVersion !== CHECKED_GRAPHQL_VERSION) return "other-graphql-version";
  const descriptor = Object.getOwnPropertyDescriptor(values, "getArgumentValues");
  if (!descriptor || !descriptor.writable || typeof descriptor.value !== "function") return "export-not-writable";
  const original = descriptor.value as GetArgumentValues;
  const replacement: GetArgumentValues = (def, node, variableValues) =>
    def.args.length === 0 ? {} : original(def, node, variableValues);
  const own = values as { getArgumentValues: GetArgumentValues };
  own.getArgumentValues = replacement;
  if (publicGetArgumentValues !== replacement) {
    // Not the exports object graphql's own modules read (a copy): leave both as they were.
    own.getArgumentValues = original;
    return "export-not-graphql-own";
  }
  installed = { original, replacement };
  return "installed";
}

/** The function graphql's execute calls now, and the one it replaced (null: not installed). For tests. */
export function argumentValuesFunctions(): { original: GetArgumentValues; replacement: GetArgumentValues } | null {
  return installed;
}
