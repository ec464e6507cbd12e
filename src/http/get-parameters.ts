import { parse as parseQuery } from "fast-querystring";

import { routedSearch } from "./routed-path";

/** The parameters Apollo Server reads from a GraphQL GET's query string (runHttpQuery.js, its `case 'GET'`). */
export type GetParameters = Record<
  "query" | "operationName" | "variables" | "extensions",
  string | string[] | undefined
>;

/**
 * A GraphQL GET's parameters as Apollo Server reads them, for the checks before GraphQL (exchange.ts
 * documentRefusal): the query string Apollo is handed (routedSearch of the same target: graphql-route.ts), decoded
 * as Apollo decodes it, with URLSearchParams, each name's values taken with getAll. One value: that string, as Apollo
 * takes it (`variables` and `extensions` still JSON text: Apollo and isTrusted both JSON.parse it). Several: all of
 * them, an array (Apollo refuses the request, 400 "may only be specified once", before anything runs; a check reads an
 * array as no text). None: undefined. Other names are not read, by Apollo or here (`__proto__` included).
 *
 * Before, the checks read Fastify's `request.query` (fast-querystring), which reads the same text otherwise: a value
 * with one malformed escape (`%zz`, `%E0%A4`) it keeps whole, undecoded, where URLSearchParams decodes every valid
 * escape around it (and a malformed UTF-8 sequence as U+FFFD). The size check then measured a longer text than the
 * one Apollo ran, and the trusted-document check could admit a listed text with a literal `%41` in it while Apollo
 * ran the `A` it decodes to. Fastify's querystringParser option set to this reader was the other way, and is not
 * taken: it is handed Fastify's own split of the target (find-my-way's), a second reading of where the query string
 * begins (routed-path.ts routedSearch says how they once parted), and Fastify would parse every route's query string
 * for a GraphQL rule. Here the one function reads the one string Apollo is handed.
 */
export function getParameters(target: string): GetParameters {
  const search = new URLSearchParams(routedSearch(target));
  const value = (name: string) => {
    const values = search.getAll(name);
    return values.length === 0 ? undefined : values.length === 1 ? values[0] : values;
  };
  return {
    query: value("query"),
    operationName: value("operationName"),
    variables: value("variables"),
    extensions: value("extensions"),
  };
}

/**
 * Fastify's `request.query` (its router's querystringParser, http-server.ts), parsed only when something reads it. The
 * router parsed every request's query string as it found the route, with fast-querystring, and nothing here reads
 * `request.query` (a GraphQL GET's parameters are getParameters', Apollo parses its own): on a GET of a 192-character
 * query, under callgrind, that parse cost 32.1k instructions, twice URLSearchParams' 16.0k, and this object 1.9k
 * (docs/performance-runs.md). What a reader finds is what the router wrote before (fast-querystring, as find-my-way
 * calls it: an empty object for an empty string), parsed at the first read and kept.
 *
 * The parse is written into the proxy's own target (LazyQuery), an empty object of fast-querystring's making, and every
 * trap reads that target: the operations that fix an object's shape (Object.freeze, seal, preventExtensions, a property
 * defined non-configurable) hold a proxy's traps to its target, and over an empty target of its own the proxy threw at
 * them and at every read after them. util.inspect reads the target without a trap: it finds LAZY_INSPECT there first
 * (assigned: defined with defineProperty, a call cost 100 ns against 50 before, a timing loop). Still told from the
 * eager object by structuredClone and postMessage, which refuse any proxy, and by util.inspect's showProxy (`%o`).
 */
export function lazyQuery(search: string): Record<string, unknown> {
  if (search.length === 0) return {};
  const target = new Empty();
  target[INSPECT] = LAZY_INSPECT;
  return new Proxy(target, new LazyQuery(search));
}

/**
 * fast-querystring's result's constructor (its parse.js `Empty`, not exported): a function of that name whose prototype
 * is the one its results have, so an object made with it is theirs to Object.getPrototypeOf and to util.inspect
 * (`Empty <[Object: null prototype] {}>`), and made without a parse.
 */
const Empty = function Empty() {} as unknown as new () => Record<string | symbol, unknown>;
Empty.prototype = Object.getPrototypeOf(parseQuery("")) as object;

/** Node's util.inspect.custom (Symbol.for: the same symbol, without node:util's import). */
const INSPECT = Symbol.for("nodejs.util.inspect.custom");

/**
 * What util.inspect, which formats a proxy's target and calls its custom inspect with the proxy as `this`, finds on a
 * query not read yet: a read of the proxy (its keys) writes the parse into the target and removes this, and returning
 * `this` has inspect format the target as it formats the eager object.
 */
function LAZY_INSPECT(this: object): object {
  Reflect.ownKeys(this);
  return this;
}

/** lazyQuery's traps: the first of them writes the parse into the target; each then acts on the target as it is. */
class LazyQuery implements ProxyHandler<Record<string | symbol, unknown>> {
  #search: string | undefined;

  constructor(search: string) {
    this.#search = search;
  }

  #read(target: Record<string | symbol, unknown>): Record<string | symbol, unknown> {
    const search = this.#search;
    if (search === undefined) return target;
    this.#search = undefined;
    delete target[INSPECT];
    // Assigned as fast-querystring assigns them: the target's chain has no `__proto__` accessor, so that key is its
    // own.
    const parsed = parseQuery(search) as Record<string, unknown>;
    for (const key of Object.keys(parsed)) target[key] = parsed[key];
    return target;
  }

  get(target: Record<string | symbol, unknown>, key: string | symbol): unknown {
    return Reflect.get(this.#read(target), key);
  }
  set(target: Record<string | symbol, unknown>, key: string | symbol, value: unknown): boolean {
    return Reflect.set(this.#read(target), key, value);
  }
  has(target: Record<string | symbol, unknown>, key: string | symbol): boolean {
    return Reflect.has(this.#read(target), key);
  }
  deleteProperty(target: Record<string | symbol, unknown>, key: string | symbol): boolean {
    return Reflect.deleteProperty(this.#read(target), key);
  }
  ownKeys(target: Record<string | symbol, unknown>): (string | symbol)[] {
    return Reflect.ownKeys(this.#read(target));
  }
  getOwnPropertyDescriptor(
    target: Record<string | symbol, unknown>,
    key: string | symbol,
  ): PropertyDescriptor | undefined {
    return Reflect.getOwnPropertyDescriptor(this.#read(target), key);
  }
  defineProperty(target: Record<string | symbol, unknown>, key: string | symbol, descriptor: PropertyDescriptor) {
    return Reflect.defineProperty(this.#read(target), key, descriptor);
  }
  getPrototypeOf(target: Record<string | symbol, unknown>): object | null {
    return Reflect.getPrototypeOf(this.#read(target));
  }
  setPrototypeOf(target: Record<string | symbol, unknown>, prototype: object | null): boolean {
    return Reflect.setPrototypeOf(this.#read(target), prototype);
  }
  isExtensible(target: Record<string | symbol, unknown>): boolean {
    return Reflect.isExtensible(this.#read(target));
  }
  preventExtensions(target: Record<string | symbol, unknown>): boolean {
    return Reflect.preventExtensions(this.#read(target));
  }
}
