import { aadhaarProblem, canonicalAadhaar, maskAadhaar, verhoeffValid } from "../../../src/pii/aadhaar";

/** A wrong check digit is said to be a typo, and why (what a newcomer needs to fix it). */
const TYPO = "has an invalid check digit: probably a typo (its last digit is a Verhoeff checksum of the other eleven)";

describe("Aadhaar rules (docs/security-requirements.md C1)", () => {
  it.each(["234123412346", "999941057058", "999971658847", "2341 2341 2346"])("accepts %s", (value) => {
    expect(aadhaarProblem(value)).toBeNull();
  });

  it.each([
    ["234123412347", TYPO],
    ["243123412346", TYPO], // adjacent transposition
    ["123412341234", "must not start with 0 or 1"], // passes Verhoeff but starts with 1
    ["222222222222", "is not a valid Aadhaar number"], // palindrome
    ["643343121", "must be 12 digits"],
    ["2341-2341-2346", "must be 12 digits"],
    ["23412341234６", "must be 12 digits"], // full-width digit
    ["२३४१२३४१२३४६", "must be 12 digits"], // Devanagari digits
    [" 234123412346", "must be 12 digits"],
  ])("rejects %s: %s", (value, problem) => {
    expect(aadhaarProblem(value)).toContain(problem);
    // Never the value, in either of its accepted forms.
    expect(aadhaarProblem(value)).not.toContain(value.replace(/ /g, "").slice(0, 4));
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

  it("gives the answers of its regular-expression form on 20,000 strings near the accepted forms", () => {
    // The rules as first written (regular expressions, a reversed copy), kept here as the reference.
    const FORM = /^(?:[0-9]{12}|[0-9]{4} [0-9]{4} [0-9]{4})$/;
    const reference = (raw: string): [string | null, string | null] => {
      const digits = FORM.test(raw) ? raw.replace(/ /g, "") : null;
      if (digits === null) return [null, "must be 12 digits"];
      if (!/^[2-9]/.test(digits)) return [digits, "must not start with 0 or 1"];
      if (digits === [...digits].reverse().join("")) return [digits, "is not a valid Aadhaar number"];
      if (!verhoeffValid(digits)) return [digits, "has an invalid check digit"];
      return [digits, null];
    };
    // A fixed pseudo-random sequence (xorshift32): mostly digits, some spaces and look-alikes, lengths 11 to 15.
    let seed = 0x2341;
    const next = () => ((seed ^= seed << 13), (seed ^= seed >>> 17), (seed ^= seed << 5), (seed >>> 0) / 2 ** 32);
    const alphabet = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", " ", "-", "６", "२", "/", ":"];
    const counts = { valid: 0, palindrome: 0 };
    for (let k = 0; k < 20_000; k++) {
      let s: string;
      if (k % 4 === 0) {
        // A palindrome of 12 digits, grouped or not.
        const half = Array.from({ length: 6 }, () => String(Math.floor(next() * 10))).join("");
        s = half + [...half].reverse().join("");
      } else {
        const length = 11 + Math.floor(next() * 5);
        s = Array.from(
          { length },
          () => alphabet[next() < 0.85 ? Math.floor(next() * 10) : Math.floor(next() * 16)],
        ).join("");
      }
      if (k % 3 === 0 && s.length === 12) s = `${s.slice(0, 4)} ${s.slice(4, 8)} ${s.slice(8)}`;
      const [digits, problem] = reference(s);
      expect(canonicalAadhaar(s)).toBe(digits);
      const actual = aadhaarProblem(s);
      if (problem === null) expect(actual).toBeNull();
      else expect(actual).toContain(problem);
      if (problem === null) counts.valid++;
      if (problem === "is not a valid Aadhaar number") counts.palindrome++;
    }
    // The sample reaches every branch.
    expect(counts.valid).toBeGreaterThan(100);
    expect(counts.palindrome).toBeGreaterThan(100);
  });
});
