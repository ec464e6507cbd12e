import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gql, InMemoryCache } from "@apollo/client";
import { buildSchema, isObjectType } from "graphql";
import { typePolicies } from "../../../client/src";
import possibleTypesResult from "../../../client/src/generated/possible-types";

const schema = buildSchema(readFileSync(join(__dirname, "../../../schema/schema.graphql"), "utf8"));

/**
 * Apollo's cache normalises any object with an `id` or `_id` field under `Typename:id`. Our ids are AOPay's, whose
 * uniqueness docs/upstream does not promise, so every such type must be kept inside its parent (`keyFields: false`).
 */
describe("typePolicies", () => {
  it("covers every schema object type with an id or _id field, and nothing else", () => {
    const withIds = Object.values(schema.getTypeMap())
      .filter((t) => isObjectType(t) && !t.name.startsWith("__"))
      .filter((t) => isObjectType(t) && ("id" in t.getFields() || "_id" in t.getFields()))
      .map((t) => t.name)
      .sort();
    expect(withIds).toContain("CibilAnswerChoice");
    expect(Object.keys(typePolicies).sort()).toEqual(withIds);
    for (const policy of Object.values(typePolicies)) expect(policy).toEqual({ keyFields: false });
  });

  it("keeps two answer choices sharing AOPay's id apart, and no CibilAnswerChoice:<id> entry in the cache", () => {
    const choice = (id: string, text: string) => ({
      __typename: "CibilAnswerChoice",
      id,
      key: "USER_TO_INPUT_ANSWER",
      text,
    });
    const data = { a: [choice("4220112751", "first")], b: [choice("4220112751", "second")] };
    const read = (cache: InMemoryCache) => {
      const query = parseDoc();
      cache.writeQuery({ query, data });
      return { entries: Object.keys(cache.extract()), data: cache.readQuery({ query }) };
    };
    const normalised = read(new InMemoryCache({ possibleTypes: possibleTypesResult.possibleTypes }));
    // Without the policy, one entry for both: the first choice's text is lost.
    expect(normalised.entries).toContain("CibilAnswerChoice:4220112751");
    expect(normalised.data).toEqual({ a: [choice("4220112751", "second")], b: [choice("4220112751", "second")] });
    const kept = read(new InMemoryCache({ possibleTypes: possibleTypesResult.possibleTypes, typePolicies }));
    expect(kept.entries).toEqual(["ROOT_QUERY"]);
    expect(kept.data).toEqual(data);
  });
});

function parseDoc() {
  // A document over a local shape: writeQuery needs no schema, only the selections.
  return gql`
    query Choices {
      a {
        __typename
        id
        key
        text
      }
      b {
        __typename
        id
        key
        text
      }
    }
  `;
}
