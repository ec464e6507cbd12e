import { aadhaarProblem, canonicalAadhaar, maskAadhaar, verhoeffValid } from "../../../src/pii/aadhaar";

describe("Aadhaar rules (docs/security-requirements.md C1)", () => {
  it.each(["234123412346", "999941057058", "999971658847", "2341 2341 2346"])("accepts %s", (value) => {
    expect(aadhaarProblem(value)).toBeNull();
  });

  it.each([
    ["234123412347", "has an invalid check digit"],
    ["243123412346", "has an invalid check digit"], // adjacent transposition
    ["123412341234", "must not start with 0 or 1"], // passes Verhoeff but starts with 1
    ["222222222222", "is not a valid Aadhaar number"], // palindrome
    ["643343121", "must be 12 digits"],
    ["2341-2341-2346", "must be 12 digits"],
    ["23412341234６", "must be 12 digits"], // full-width digit
    ["२३४१२३४१२३४६", "must be 12 digits"], // Devanagari digits
    [" 234123412346", "must be 12 digits"],
  ])("rejects %s: %s", (value, problem) => {
    expect(aadhaarProblem(value)).toContain(problem);
  });

  it("never puts the value in the problem text", () => {
    for (const v of ["234123412347", "123412341234", "222222222222", "643343121"]) {
      expect(aadhaarProblem(v)).not.toContain(v);
    }
  });

  it("checks Verhoeff on the worked examples 2363 and 1428570 (Wikipedia)", () => {
    expect(verhoeffValid("2363")).toBe(true);
    expect(verhoeffValid("1428570")).toBe(true);
    expect(verhoeffValid("2364")).toBe(false);
    expect(verhoeffValid("")).toBe(false);
    expect(verhoeffValid("12a4")).toBe(false);
  });

  it("canonicalises grouped input and masks to the last four digits", () => {
    expect(canonicalAadhaar("2341 2341 2346")).toBe("234123412346");
    expect(canonicalAadhaar("2341  2341 2346")).toBeNull();
    expect(maskAadhaar("234123412346")).toBe("XXXX XXXX 2346");
  });
});
