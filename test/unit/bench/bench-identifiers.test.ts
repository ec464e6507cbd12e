// The bench's generated identifiers (bench/lib/mutations.js) must pass the server's own rules: a refused one is a
// GraphQL error in the middle of a measurement. A full run's counter reaches about 3 million, and the Aadhaar
// fallback used before was itself a palindrome at 3,003,000: the last scaling round of a full run got that error.
import { aadhaarProblem } from "../../../src/pii/aadhaar";
import { isValidMobile } from "../../../src/pii/mobile";
import { canonicalCibilId } from "../../../src/pii/cibil-id";
import { REFERENCE, USER_KEY } from "../../../src/graphql/aeps/resend-aeps-otp.input";
import { ACCESS_TOKEN } from "../../../src/graphql/cibil/generate-cibil-otp.input";
import { GUARDED_MUTATIONS } from "../../../src/graphql/guarded-mutations";

interface Request {
  id: number;
  input: Record<string, string>;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { MUTATIONS, aadhaarFor } = require("../../../bench/lib/mutations") as {
  MUTATIONS: Record<"aeps" | "cibil", { request: (n: number) => Request }>;
  aadhaarFor: (n: number) => string;
};

/** n whose 10 digits read the same both ways: with first digit 2, the number is a palindrome when its check digit is 2. */
function palindromicCounters(): number[] {
  const out: number[] = [];
  for (let half = 0; half < 100_000; half += 7) {
    const h = String(half).padStart(5, "0");
    out.push(Number(h + [...h].reverse().join("")));
  }
  // The cases a full run reaches: abba000.
  for (let a = 0; a < 10; a++) for (let b = 0; b < 10; b++) out.push(a * 1_001_000 + b * 110_000);
  return out;
}

describe("bench request identifiers", () => {
  it("every AEPS request's Aadhaar number passes the server's check, including where first digit 2 is a palindrome", () => {
    const counters = [...palindromicCounters(), 3_003_000, 7_007_000];
    let fellBack = 0;
    for (const n of counters) {
      const { aadhaar } = MUTATIONS.aeps.request(n).input;
      expect([n, aadhaarProblem(aadhaar)]).toEqual([n, null]);
      if (!aadhaar.startsWith("2")) fellBack++;
    }
    // The palindromic counters do hit the fallback (about one in ten has check digit 2), so it is exercised here.
    expect(fellBack).toBeGreaterThan(100);
    expect(aadhaarFor(3_003_000)).not.toBe("299969969992");
    expect(aadhaarFor(3_003_000).startsWith("2")).toBe(false);
  });

  it("gives distinct numbers to distinct requests, and the same numbers as before where first digit 2 was valid", () => {
    const counters = [...Array(50_000).keys(), ...palindromicCounters()];
    const seen = new Set(counters.map(aadhaarFor));
    expect(seen.size).toBe(new Set(counters).size);
    // Unchanged for the common case: 2, the counter as 10 digits, the check digit.
    expect(aadhaarFor(0).slice(0, 11)).toBe("20000000000");
    expect(aadhaarFor(1_234_567).slice(0, 11)).toBe("20001234567");
  });

  it("every request's mobile and CIBIL id pass the server's rules across a full run's counter range", () => {
    for (const n of [0, 1, 999_999, 3_003_000, 9_999_999, 123_456_789]) {
      expect(isValidMobile(MUTATIONS.aeps.request(n).input.mobile)).toBe(true);
      const cibil = MUTATIONS.cibil.request(n);
      expect(canonicalCibilId(cibil.input.cibilId)).toBe(String(cibil.id));
    }
  });

  it("gives every request its own value of every field a send is budgeted on, each passing the server's rule", () => {
    // Every budgeted destination (guarded-mutations.ts): a value shared by two requests meets its cooldown on the
    // second, and the bench measures a refusal (the first run after the AEPS registration budgets landed got
    // OTP_COOLDOWN on every AEPS request but the first).
    const rules: Record<string, RegExp> = { userKey: USER_KEY, primaryKeyId: REFERENCE, encodeTxnId: REFERENCE };
    const counters = [0, 1, 2, 35, 36, 999_999, 3_003_000, 9_999_999, 123_456_789];
    for (const [key, field] of [
      ["aeps", "resendAepsOtp"],
      ["cibil", "generateCibilOtp"],
    ] as const) {
      const budgeted = GUARDED_MUTATIONS[field].destinations.flatMap((d) => ("field" in d ? [d.field] : []));
      expect(budgeted.length).toBeGreaterThan(1);
      for (const name of budgeted) {
        const values = counters.map((n) => MUTATIONS[key].request(n).input[name]);
        expect([name, new Set(values.map((v) => v.toUpperCase())).size]).toEqual([name, counters.length]);
        if (rules[name]) for (const v of values) expect([name, v, rules[name].test(v)]).toEqual([name, v, true]);
      }
    }
    for (const n of counters) expect(ACCESS_TOKEN.test(MUTATIONS.cibil.request(n).input.accessToken)).toBe(true);
  });

  it("refuses a counter past the 10 digits it can encode instead of repeating a number", () => {
    expect(() => aadhaarFor(10_000_000_000)).toThrow(/past the Aadhaar numbers/);
  });
});
