import { type GraphQLFieldResolver, type GraphQLObjectType, GraphQLScalarType, type GraphQLSchema } from "graphql";
import { type BuildSchemaOptions, getMetadataStorage, type ResolverData, type ValidatorFn } from "type-graphql";
import { isPromiseLike } from "../util/promise-like";

// type-graphql's metadata types, which its index does not export by name.
type Storage = ReturnType<typeof getMetadataStorage>;
type ParamMetadata = NonNullable<Storage["queries"][number]["params"]>[number];
type ArgParamMetadata = Extract<ParamMetadata, { kind: "arg" | "args" }>;
type ClassMetadata = Storage["inputTypes"][number];
/** A class, as type-graphql's metadata records it. */
type Target = ClassMetadata["target"];

/**
 * The Query and Mutation resolvers type-graphql builds (resolvers/create.js createHandlerResolver), rebuilt once per
 * field with the same steps, so that a call does only what the field needs.
 *
 * Why: type-graphql's handler does, on every call, what depends only on the field: it sorts the parameters
 * (helpers.js getParams), rebuilds the argument's class tree (convert-args.js convertToInput calls `tree.getFields()`,
 * which maps every field through `getType()` and a linear search of every input type), looks up the resolver
 * instance (a linear search of the container), and goes through the middleware dispatcher with no middleware; then
 * `validateArg` is an `async` function and `Promise.all` waits for it, a few promise hops before the method runs. In
 * the CPU profile at saturation (13,000 AEPS requests) type-graphql's self time was 116 ms, getParams and its callees
 * most of it. Measured with bench/resolver-micro.js and `npm run bench:callgrind`: see the commit.
 *
 * The same steps, in the same order, with the same values: the argument object is built as convertToInput builds it
 * (the fields the client's value has, in the tree's order, own fields before inherited ones, then `new Class()`, its
 * own undefined keys the value lacks deleted, `Object.assign`), the `validateFn` is called with the same arguments,
 * the method gets its parameters in index order. Only the timing differs: a failed validation is a rejected promise
 * as before, but a valid input reaches the method in the same tick instead of a few promise hops later.
 *
 * A field is rebuilt only when every step is one of those (an `@Arg`/`@Args` of a class whose fields are all scalars
 * or enums, or of a scalar; `@Ctx()`, `@Info()`; no middleware, no auth checker, a `validateFn`); any other field keeps
 * type-graphql's resolver, which stays correct for everything. test/unit/graphql/handler-resolvers.test.ts checks
 * that every root field of our schema is rebuilt, and the e2e suites check the answers.
 */

/** How a resolver class instance is got: the buildSchema `container`, shared with type-graphql's own resolvers. */
export interface ResolverInstances {
  get(target: Target): object;
}

/** One instance per resolver class, made on first use (what type-graphql's default container does). */
export function resolverInstances(): ResolverInstances {
  const instances = new Map<Target, object>();
  return {
    get(target) {
      let instance = instances.get(target);
      if (!instance) instances.set(target, (instance = new (target as new () => object)()));
      return instance;
    },
  };
}

type Step = (data: ResolverData<object>) => unknown;

/**
 * Replaces the resolver of every Query and Mutation field it can rebuild (above) in `schema`, built by buildSchema
 * with `options`; returns the names of the fields rebuilt, as `Query.name` / `Mutation.name`.
 */
export function rebuildHandlerResolvers(
  schema: GraphQLSchema,
  options: BuildSchemaOptions,
  instances: ResolverInstances,
): string[] {
  if (options.globalMiddlewares?.length || options.authChecker || typeof options.validateFn !== "function") return [];
  const validateFn = options.validateFn;
  const storage = getMetadataStorage();
  const rebuilt: string[] = [];
  const roots: Array<[GraphQLObjectType | null | undefined, typeof storage.queries]> = [
    [schema.getQueryType(), storage.queries],
    [schema.getMutationType(), storage.mutations],
  ];
  const resolvers = new Set<Target>(options.resolvers as Target[]);
  for (const [type, handlers] of roots) {
    if (!type) continue;
    const fields = type.getFields();
    for (const handler of handlers) {
      const field = fields[handler.schemaName];
      if (!field || !resolvers.has(handler.target)) continue;
      if (handler.middlewares?.length || handler.roles) continue;
      const steps = (handler.params ?? []).slice().sort((a, b) => a.index - b.index);
      const compiled = steps.map((p) => stepOf(p, validateFn));
      if (compiled.some((s) => s === null)) continue;
      field.resolve = handlerOf(
        handler.target,
        handler.methodName,
        compiled as Step[],
        steps.some((p) => p.kind === "arg" || p.kind === "args"),
        instances,
      );
      rebuilt.push(`${type.name}.${handler.schemaName}`);
    }
  }
  return rebuilt;
}

function handlerOf(
  target: Target,
  methodName: string,
  steps: Step[],
  validates: boolean,
  instances: ResolverInstances,
): GraphQLFieldResolver<unknown, object> {
  const n = steps.length;
  if (!validates) {
    // No argument: type-graphql's getParams returns a plain array and the method is called at once (no promise).
    return (root, args, context, info) => {
      const data: ResolverData<object> = { root, args, context, info };
      const instance = instances.get(target) as Record<string, (...params: unknown[]) => unknown>;
      const params = new Array<unknown>(n);
      for (let i = 0; i < n; i++) params[i] = steps[i](data);
      return instance[methodName](...params);
    };
  }
  // With an argument, type-graphql's answer is always a promise (validateArg is async): rejected when validation
  // or the method throws.
  return (root, args, context, info) => {
    try {
      const data: ResolverData<object> = { root, args, context, info };
      const instance = instances.get(target) as Record<string, (...params: unknown[]) => unknown>;
      const params = new Array<unknown>(n);
      let pending = false;
      for (let i = 0; i < n; i++) if (isPromiseLike((params[i] = steps[i](data)))) pending = true;
      // An asynchronous validateFn: wait for it, as validateArg does.
      if (pending) return Promise.all(params).then((ready) => instance[methodName](...ready));
      return Promise.resolve(instance[methodName](...params));
    } catch (error) {
      return Promise.reject(error);
    }
  };
}

function stepOf(param: ParamMetadata, globalValidateFn: ValidatorFn): Step | null {
  switch (param.kind) {
    case "context": {
      const { propertyName } = param;
      return propertyName ? (data) => (data.context as Record<string, unknown>)[propertyName] : (data) => data.context;
    }
    case "info":
      return (data) => data.info;
    case "arg":
    case "args":
      return argStepOf(param, globalValidateFn);
    default:
      return null;
  }
}

/** helpers.js getParams "arg"/"args": convertArg(s)ToInstance, then validateArg with a validateFn. */
function argStepOf(param: ArgParamMetadata, globalValidateFn: ValidatorFn): Step | null {
  if (param.typeOptions.array || param.validateSettings !== undefined) return null;
  const validate = param.validateFn ?? globalValidateFn;
  const argType = param.getType();
  const storage = getMetadataStorage();
  if (param.kind === "args") {
    // convertArgsToInstance: every field of the args class (own, then inherited), each converted as an arg.
    const meta = storage.argumentTypes.find((t) => t.target === argType);
    if (typeof argType !== "function" || !meta) return null;
    const names = scalarFieldNames(meta, (c) => storage.argumentTypes.find((t) => t.target === c), false);
    if (!names) return null;
    const make = instanceMaker(argType as new () => object);
    return (data) => validated(validate, make(pick(data.args, names)), argType, data);
  }
  const { name } = param;
  const input = typeof argType === "function" ? storage.inputTypes.find((t) => t.target === argType) : undefined;
  if (!input) {
    // Not an input class: convertToType returns a scalar's value as it is.
    if (!isScalarTarget(argType)) return null;
    return (data) => validated(validate, (data.args as Record<string, unknown>)[name], argType, data);
  }
  const names = scalarFieldNames(input, (c) => storage.inputTypes.find((t) => t.target === c), true);
  if (!names) return null;
  const make = instanceMaker(argType as new () => object);
  return (data) => {
    const raw = (data.args as Record<string, unknown>)[name];
    // convertToInput: null and undefined as they are; a list (not an object input) is refused at build time above.
    return validated(validate, raw == null ? raw : make(pick(raw as Record<string, unknown>, names)), argType, data);
  };
}

/** validateArg with a validateFn: the value once the validateFn is done (a promise only when the validateFn's is). */
function validated(validate: ValidatorFn, value: unknown, argType: unknown, data: ResolverData<object>): unknown {
  const done = validate(value, argType as Parameters<ValidatorFn>[1], data);
  return isPromiseLike(done) ? done.then(() => value) : value;
}

/**
 * The fields' names in convert-args.js's order (own fields, then each base class's fields), or null when one is not
 * a scalar or an enum (a nested input, a list, an object: type-graphql converts those, so it keeps the field).
 * `dedupe`: an input class skips an inherited field of a name it has (generateTransformationTree); an args class
 * does not (convertArgsToInstance).
 */
function scalarFieldNames(
  meta: ClassMetadata,
  metaOf: (target: Target) => ClassMetadata | undefined,
  dedupe: boolean,
): string[] | null {
  let fields = [...(meta.fields ?? [])];
  for (let c = Object.getPrototypeOf(meta.target); c.prototype !== undefined; c = Object.getPrototypeOf(c)) {
    const superMeta = metaOf(c);
    if (!superMeta) continue;
    const own = new Set(fields.map((f) => f.name));
    fields = [...fields, ...(superMeta.fields ?? []).filter((f) => !dedupe || !own.has(f.name))];
  }
  for (const f of fields) if (f.typeOptions.array || !isScalarTarget(f.getType())) return null;
  return fields.map((f) => f.name);
}

/**
 * helpers/types.js convertToType returns the value itself for these targets: a GraphQL scalar, or String, Number,
 * Boolean (coerced values are primitives), or an enum object (its values are strings or numbers).
 */
function isScalarTarget(target: unknown): boolean {
  if (target instanceof GraphQLScalarType || target === String || target === Number || target === Boolean) return true;
  return getMetadataStorage().enums.some((e) => e.enumObj === target);
}

/** convertToInput's field object: each named field the value has (not undefined), in `names` order. */
function pick(value: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (let i = 0; i < names.length; i++) {
    const v = value[names[i]];
    if (v !== undefined) fields[names[i]] = v;
  }
  return fields;
}

/** helpers/types.js convertToType for a class and a plain object: `new Class()`, unset keys deleted, then assigned. */
function instanceMaker(Target: new () => object): (fields: Record<string, unknown>) => object {
  return (fields) => {
    const instance = new Target() as Record<string, unknown>;
    for (const key of Object.keys(instance)) {
      if (instance[key] === undefined && !(key in fields)) delete instance[key];
    }
    return Object.assign(instance, fields);
  };
}
