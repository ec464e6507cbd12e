import { isFailure } from "../../../client/src/failures";
import possibleTypesResult from "../../../client/src/generated/possible-types";

const { possibleTypes } = possibleTypesResult;
const results = Object.entries(possibleTypes).filter(([name]) => name.endsWith("Result"));

/**
 * isFailure tells a result union's failure members from its success member. Failure types are added to the unions
 * over time (docs/clients.md: an additive change; RegistrationRefused was one), and a client built before one does not
 * know its name: it must still read as a failure, never as the success.
 */
describe("isFailure", () => {
  it("knows each result union's one success member and its failure members", () => {
    expect(results.length).toBeGreaterThanOrEqual(6);
    for (const [union, members] of results) {
      const successes = members.filter((m) => !isFailure({ __typename: m }));
      expect([union, successes.length]).toEqual([union, 1]);
      for (const m of members.filter((m) => !successes.includes(m)))
        expect(possibleTypes.Failure as readonly string[]).toContain(m);
    }
  });

  it("is true for a failure type newer than this client (a name it was not built with)", () => {
    expect(isFailure({ __typename: "SomeFailureAddedLater", code: "SOME_CODE", message: "m", retryable: false })).toBe(
      true,
    );
    expect(isFailure({ __typename: "SomeFailureAddedLater" })).toBe(true);
  });
});
