import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startTestStack, type TestStack } from "../helpers/stack";

/**
 * docs/walkthrough.md's "Walk both flows in Apollo Sandbox" section, executed as written against a fresh server with
 * the simulator: every GraphQL block in order, with its `<placeholders>` filled from the previous answers, as a
 * frontend developer would. If the page and the server disagree, this fails.
 */
function walkthroughOperations(): string[] {
  const page = readFileSync(join(__dirname, "../../docs/walkthrough.md"), "utf8");
  const start = page.indexOf("## Walk both flows in Apollo Sandbox");
  expect(start).toBeGreaterThanOrEqual(0);
  const end = page.indexOf("\n## ", start + 10);
  const section = page.slice(start, end === -1 ? undefined : end);
  const blocks = [...section.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]);
  const inline = [...section.matchAll(/`(query \{[^`]+)`/g)].map((m) => m[1]);
  // A block may hold several operations (the AEPS one): split before each top-level `mutation {` / `query {`.
  const ops = blocks.flatMap((b) => b.split(/\n(?=(?:mutation|query) \{)/).map((o) => o.trim()).filter(Boolean));
  // The inline history query belongs after step 3 (it is written between the CIBIL and AEPS blocks).
  ops.splice(3, 0, ...inline);
  return ops;
}

describe("docs/walkthrough.md (Apollo Sandbox, simulator)", () => {
  let t: TestStack;
  beforeAll(async () => {
    // The walkthrough's step 1 starts from a fresh simulator: ids start at 700000001.
    t = await startTestStack();
  });
  afterAll(() => t?.stop());

  it("runs every documented operation in order and reaches the end of both flows", async () => {
    const ops = walkthroughOperations();
    expect(ops).toHaveLength(6);
    const filled: Record<string, string> = {};
    const results: Array<Record<string, unknown>> = [];
    for (const op of ops) {
      const document = op.replace(/<([^>]+)>/g, (_m, name: string) => {
        if (!(name in filled)) throw new Error(`walkthrough placeholder <${name}> has no value yet`);
        return filled[name];
      });
      const res = await t.gql(document);
      expect(res.body.errors).toBeUndefined();
      const result = Object.values(res.body.data as Record<string, Record<string, unknown>>)[0];
      results.push(result);
      if (result.__typename === "CibilCustomerRegistered") {
        expect(result.cibilId).toBe("700000001");
        filled.accessToken = result.accessToken as string;
      }
      if (result.__typename === "CibilOtpChallenge") {
        filled["question.key"] = (result.question as { key: string }).key;
      }
    }
    expect(results.map((r) => r.__typename)).toEqual([
      "CibilCustomerRegistered",
      "CibilOtpChallenge",
      "CibilOtpVerified",
      "CibilCreditHistory",
      "AepsOtpResent",
      "AepsRegistrationVerified",
    ]);
    expect(results[2]).toMatchObject({ status: "SUCCESS", creditHistory: { __typename: "CibilCreditHistory", payloadReceived: true } });
    expect(results[5]).toMatchObject({ maskedAadhaar: "XXXX XXXX 2346", maskedMobile: "XXXXXX3210" });
  });
});
