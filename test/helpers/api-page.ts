import { readFileSync } from "node:fs";
import { join } from "node:path";

/** One of docs/api.md's examples: a document, its variables and the result the page shows. */
export interface ApiExample {
  document: string;
  variables: Record<string, unknown>;
  result: unknown;
}

/**
 * docs/api.md's examples, as a consumer reads them: each ```graphql document, with the `Variables:` that follow it and
 * the ```json after those as its result. Run by test/e2e/api-examples.test.ts on a fresh server, and after the
 * walkthrough on one server by test/e2e/walkthrough-requests.test.ts.
 */
export function apiExamples(): ApiExample[] {
  const page = readFileSync(join(__dirname, "../../docs/api.md"), "utf8");
  const blocks = [...page.matchAll(/```graphql\n([\s\S]*?)```/g)];
  return blocks.map((block, i) => {
    const rest = page.slice(block.index + block[0].length, blocks[i + 1]?.index ?? page.length);
    // A code span holds no backtick and may be wrapped (a line break in it reads as a space): docs/api.md's AEPS one.
    const variables = /Variables: `(\{[^`]*\})`/.exec(rest)?.[1];
    const result = /```json\n([\s\S]*?)```/.exec(rest)?.[1];
    if (!variables || !result) throw new Error(`docs/api.md's example ${i + 1} has no Variables or no result`);
    return {
      document: block[1],
      variables: JSON.parse(variables) as Record<string, unknown>,
      result: JSON.parse(result) as unknown,
    };
  });
}
