// The tests' identifier helper promises distinct, valid destinations per test file (test/helpers/identifiers.ts): a
// repeated one would share a throttle budget with an earlier test, and an invalid one would be refused by the server.
import { aadhaarProblem } from "../../../src/pii/aadhaar";
import { isValidMobile } from "../../../src/pii/mobile";
import { canonicalCibilId } from "../../../src/pii/cibil-id";
import { nextAadhaar, nextCibilId, nextMobile } from "../../helpers/identifiers";

describe("test identifiers", () => {
  it("gives 100 distinct valid mobiles and CIBIL ids, then refuses rather than repeat one", () => {
    const mobiles = Array.from({ length: 100 }, nextMobile);
    const cibilIds = Array.from({ length: 100 }, nextCibilId);
    expect(new Set(mobiles).size).toBe(100);
    expect(new Set(cibilIds).size).toBe(100);
    expect(mobiles.every(isValidMobile)).toBe(true);
    expect(cibilIds.every((id) => canonicalCibilId(id) === id)).toBe(true);
    expect(() => nextMobile()).toThrow(/more than 100 distinct mobile values/);
    expect(() => nextCibilId()).toThrow(/more than 100 distinct cibilId values/);
  });

  it("gives Aadhaar numbers the server accepts, all distinct", () => {
    const numbers = Array.from({ length: 2000 }, nextAadhaar);
    expect(new Set(numbers).size).toBe(2000);
    expect(numbers.filter((n) => aadhaarProblem(n) !== null)).toEqual([]);
  });
});
