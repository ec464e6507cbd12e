import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildSchema, type FragmentDefinitionNode, isObjectType, Kind, parse, type SelectionSetNode } from "graphql";

const ROOT = join(__dirname, "../../..");
const schema = buildSchema(readFileSync(join(ROOT, "schema/schema.graphql"), "utf8"));
const failureFields = parse(readFileSync(join(ROOT, "client/operations/common.graphql"), "utf8")).definitions.find(
  (d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === "FailureFields",
);

/** The fields a selection set selects on `type`: its own, and those of inline fragments on `type` or an interface. */
function selectedOn(type: string, set: SelectionSetNode, on: string): string[] {
  const appliesTo = (condition: string) => condition === type || condition === on;
  return set.selections.flatMap((selection) => {
    if (selection.kind === Kind.FIELD) return [selection.name.value];
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      const condition = selection.typeCondition?.name.value ?? on;
      return appliesTo(condition) ? selectedOn(type, selection.selectionSet, condition) : [];
    }
    return [];
  });
}

/**
 * The shared FailureFields fragment is every operation's selection of its failure members, and a typed client has only
 * the fields its operation selected: a field a failure type has (retryAfterSeconds, scope, upstreamCode ...) left out
 * of it is a field no app built with the client can act on. RegistrationRefused.retryAfterSeconds was (a 2 s wait for
 * OTP_SEND_IN_PROGRESS and REGISTRATION_IN_PROGRESS, none for MOBILE_LIMIT_REACHED, indistinguishable to a client).
 */
describe("FailureFields (client/operations/common.graphql)", () => {
  const failureTypes = Object.values(schema.getTypeMap()).filter(
    (type) => isObjectType(type) && type.getInterfaces().some((i) => i.name === "Failure"),
  );

  it("exists, on the Failure interface, and the schema has failure types", () => {
    expect(failureFields?.typeCondition.name.value).toBe("Failure");
    expect(failureTypes.length).toBeGreaterThanOrEqual(8);
  });

  it("selects every field of every failure type in the schema", () => {
    const missing = failureTypes.flatMap((type) => {
      const fields = Object.keys((type as { getFields(): Record<string, unknown> }).getFields());
      const selected = new Set(selectedOn(type.name, failureFields!.selectionSet, "Failure"));
      return fields.filter((field) => !selected.has(field)).map((field) => `${type.name}.${field}`);
    });
    expect(missing).toEqual([]);
  });
});
