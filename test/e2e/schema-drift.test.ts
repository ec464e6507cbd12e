import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createSchema, printSdl } from "../../src/graphql/schema";

describe("schema/schema.graphql", () => {
  it("is exactly what the type-graphql classes produce (after changing them: `npm run schema:emit && npm run codegen`)", async () => {
    const committed = readFileSync(join(__dirname, "../../schema/schema.graphql"), "utf8");
    expect(printSdl(await createSchema())).toBe(committed);
  });
});
