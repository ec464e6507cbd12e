import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createSchema, printSdl } from "../../src/graphql/schema";

describe("schema/schema.graphql", () => {
  it("is exactly what the type-graphql classes produce (run `npm run schema:emit` after changing them)", async () => {
    const committed = readFileSync(join(__dirname, "../../schema/schema.graphql"), "utf8");
    expect(printSdl(await createSchema())).toBe(committed);
  });
});
