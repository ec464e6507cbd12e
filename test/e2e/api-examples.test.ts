import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startTestStack, type TestStack } from "../helpers/stack";

/**
 * docs/api.md's examples, as a consumer reads them: each ```graphql document, run with the `Variables:` that follow it
 * against a freshly started server with the simulator and the default cooldown, must answer exactly the ```json the
 * page shows as its result (the simulator is deterministic: ids follow the order of calls).
 */
interface Example {
  document: string;
  variables: Record<string, unknown>;
  result: unknown;
}

function apiExamples(): Example[] {
  const page = readFileSync(join(__dirname, "../../docs/api.md"), "utf8");
  const blocks = [...page.matchAll(/```graphql\n([\s\S]*?)```/g)];
  return blocks.map((block, i) => {
    const rest = page.slice(block.index + block[0].length, blocks[i + 1]?.index ?? page.length);
    // A code span holds no backtick and may be wrapped (a line break in it reads as a space): docs/api.md's AEPS one.
    const variables = /Variables: `(\{[^`]*\})`/.exec(rest)?.[1];
    const result = /```json\n([\s\S]*?)```/.exec(rest)?.[1];
    if (!variables || !result) throw new Error(`docs/api.md's example ${i + 1} has no Variables or no result`);
    return { document: block[1], variables: JSON.parse(variables), result: JSON.parse(result) };
  });
}

describe("docs/api.md's examples", () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack({ OTP_COOLDOWN_SECONDS: "60" });
  });
  afterAll(() => t?.stop());

  it("answer what the page shows, in order, on a fresh server", async () => {
    const examples = apiExamples();
    expect(examples.length).toBeGreaterThanOrEqual(2);
    for (const [i, example] of examples.entries()) {
      const res = await t.gql(example.document, example.variables);
      expect({ example: i + 1, body: res.body }).toEqual({ example: i + 1, body: example.result });
    }
  });
});
