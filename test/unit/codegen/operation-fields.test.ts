import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  buildSchema,
  type FieldNode,
  type FragmentDefinitionNode,
  getNamedType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  isAbstractType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  parse,
  type SelectionSetNode,
} from "graphql";

const ROOT = join(__dirname, "../../..");
const schema = buildSchema(readFileSync(join(ROOT, "schema/schema.graphql"), "utf8"));
const OPERATIONS_DIR = join(ROOT, "client/operations");
const definitions = readdirSync(OPERATIONS_DIR)
  .filter((file) => file.endsWith(".graphql"))
  .flatMap((file) => parse(readFileSync(join(OPERATIONS_DIR, file), "utf8")).definitions);
const fragments = new Map(
  definitions
    .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
    .map((d) => [d.name.value, d]),
);
const operations = definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);

/** Whether a fragment on `condition` applies to an object of `type` (the type itself, an interface or a union of it). */
function appliesTo(type: GraphQLObjectType, condition: string | undefined): boolean {
  if (condition === undefined || condition === type.name) return true;
  const abstract = schema.getType(condition);
  return abstract !== undefined && isAbstractType(abstract) && schema.isSubType(abstract, type);
}

/** The field nodes a selection set selects on an object of `type`, through inline fragments and fragment spreads. */
function fieldsOn(type: GraphQLObjectType, set: SelectionSetNode): FieldNode[] {
  return set.selections.flatMap((selection) => {
    if (selection.kind === Kind.FIELD) return [selection];
    const fragment = selection.kind === Kind.INLINE_FRAGMENT ? selection : fragments.get(selection.name.value);
    if (fragment === undefined) throw new Error("a fragment spread names no fragment of client/operations");
    return appliesTo(type, fragment.typeCondition?.name.value) ? fieldsOn(type, fragment.selectionSet) : [];
  });
}

/** `type.field` for every field of `type`, and of the objects under it, that `sets` leave out. */
function missing(type: GraphQLNamedType, sets: SelectionSetNode[], path: string): string[] {
  if (isAbstractType(type))
    return schema.getPossibleTypes(type).flatMap((member) => missing(member, sets, `${path}<${member.name}>`));
  if (!isObjectType(type)) return [];
  const selected = sets.flatMap((set) => fieldsOn(type, set));
  // A deprecated field is left out on purpose: a new app should not start reading it.
  const current = Object.values(type.getFields()).filter((field) => field.deprecationReason == null);
  return current.flatMap((field) => {
    const nodes = selected.filter((node) => node.name.value === field.name);
    if (nodes.length === 0) return [`${path}.${field.name}`];
    const below = nodes.flatMap((node) => (node.selectionSet ? [node.selectionSet] : []));
    return missing(getNamedType(field.type), below, `${path}.${field.name}`);
  });
}

/**
 * docs/contributing.md "Adding a field to a result type", step 4: a field added to the schema reaches an app only when
 * its client operation selects it, and nothing else fails without the selection (codegen, codegen:check and the
 * trusted-document lists all follow the operations). Every operation selects every field of its result, at every
 * depth, but a deprecated one: the typed client has only the fields its operation selected.
 */
describe("the client operations (client/operations/*.graphql) select every field of their results", () => {
  it("holds for each operation's root fields, over every member of each result union", () => {
    expect(operations.length).toBeGreaterThanOrEqual(6);
    const left = operations.flatMap((operation) => {
      const root = schema.getRootType(operation.operation)!;
      return fieldsOn(root, operation.selectionSet).flatMap((node) => {
        const field = root.getFields()[node.name.value];
        return missing(getNamedType(field.type), [node.selectionSet!], `${operation.name?.value}: ${field.name}`);
      });
    });
    if (left.length > 0)
      throw new Error(
        `not selected by its operation in client/operations/ (select it there, then \`npm run codegen\`: ` +
          `docs/contributing.md "Adding a field to a result type", step 4): ${left.join(", ")}`,
      );
  });

  it("would see a field left out: the check reads a selection without one as missing it", () => {
    const type = schema.getType("AepsOtpResent") as GraphQLObjectType;
    const fields = Object.keys(type.getFields());
    const selection = parse(`{ ... on AepsOtpResent { ${fields.slice(1).join(" ")} } }`).definitions[0];
    expect(missing(type, [(selection as OperationDefinitionNode).selectionSet], "X")).toEqual([`X.${fields[0]}`]);
  });
});
