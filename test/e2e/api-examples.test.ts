import { apiExamples } from "../helpers/api-page";
import { startTestStack, type TestStack } from "../helpers/stack";

/**
 * docs/api.md's examples, as a consumer reads them: each ```graphql document, run with the `Variables:` that follow it
 * against a freshly started server with the simulator and the default cooldown, must answer exactly the ```json the
 * page shows as its result (the simulator is deterministic: ids follow the order of calls).
 */
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
