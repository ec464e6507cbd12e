import { aadhaarProblem, verhoeffValid } from "../../src/pii/aadhaar";

/**
 * Valid identifiers, distinct per call and per run, so that tests sharing a server never share a destination's budget.
 * CIBIL ids and mobiles end in 1xx, which triggers no simulator failure scenario (src/simulator/scenarios.ts): 100
 * distinct values of each per test file (a run id fills the other digits), 9,000 PANs and 9,000 Aadhaar numbers. A
 * file that asks for more gets an error rather than a value it already had (a repeated destination would share its
 * throttle budget and fail some other test's expectation, far from the cause).
 */
const RUN = String((Date.now() + process.pid) % 1e6).padStart(6, "0");
const served = { cibilId: 0, mobile: 0, pan: 0, aadhaar: 0, aepsRegistration: 0 };

/** The next serial of `kind`, below `limit`. */
function next(kind: keyof typeof served, limit: number): number {
  const n = served[kind]++;
  if (n >= limit)
    throw new Error(`test/helpers/identifiers: more than ${limit} distinct ${kind} values asked for in one test file`);
  return n;
}

export const nextCibilId = () => `7${RUN}${100 + next("cibilId", 100)}`;
export const nextMobile = () => `9${RUN}${100 + next("mobile", 100)}`;
export const nextPan = () => `ABCPE${String(1000 + next("pan", 9000))}F`;

/** registerCibilCustomer's input (RegisterCibilCustomerInput), as the tests send it. */
export interface RegistrationInput {
  firstName: string;
  middleName?: string | null;
  lastName: string;
  pan: string;
  dateOfBirth: string;
  email: string;
  mobile: string;
}

/**
 * A valid registration: Asha Kulkarni, born 1990-01-31, asha@example.com, with a PAN and a mobile of its own
 * (nextPan, nextMobile) unless `overrides` names them, so each call is a new customer on a phone nobody else budgets.
 * Pass what the test is about (`{ pan, mobile: victim }`); the rest is any valid customer.
 */
export function registrationInput(overrides: Partial<RegistrationInput> = {}): RegistrationInput {
  return {
    firstName: "Asha",
    lastName: "Kulkarni",
    pan: overrides.pan ?? nextPan(),
    dateOfBirth: "1990-01-31",
    email: "asha@example.com",
    mobile: overrides.mobile ?? nextMobile(),
    ...overrides,
  };
}

/**
 * A fresh AEPS registration: user key (12 characters), primaryKeyId and encodeTxnId. Each is a destination budgeted
 * on its own (src/graphql/guarded-mutations.ts AEPS_REGISTRATION), so tests that meet the real budgets need their own.
 */
export function nextAepsRegistration(): { userKey: string; primaryKeyId: string; encodeTxnId: string } {
  const n = `${RUN}${100 + next("aepsRegistration", 900)}`;
  return { userKey: `AOP${n}`, primaryKeyId: `PK${n}`, encodeTxnId: `TX${n}` };
}

/**
 * A valid Aadhaar number (Verhoeff check digit, first digit 8), held to the server's own rules: with the check digit 8
 * and a run id whose digits mirror the serial, the number is a palindrome, which the server refuses; that serial is
 * skipped (bench/lib/mutations.js met the same case in a full run).
 */
export function nextAadhaar(): string {
  for (;;) {
    const body = `8${RUN}${String(1000 + next("aadhaar", 9000))}`;
    let check = 0;
    while (!verhoeffValid(`${body}${check}`)) check++;
    const aadhaar = `${body}${check}`;
    if (aadhaarProblem(aadhaar) === null) return aadhaar;
  }
}

/**
 * `digits` with each ASCII digit written in Devanagari (`9876543210` as `९८७६५४३२१०`, U+0966 to U+096F), as a message
 * or a reference in Hindi writes a number: NFKC leaves them alone, and an attack review had a mobile and an Aadhaar
 * number so written reach the client and the log whole. Anything else in `digits` (spaces, letters) is kept.
 */
export function devanagari(digits: string): string {
  return digits.replace(/[0-9]/g, (d) => String.fromCodePoint(0x966 + Number(d)));
}
