/**
 * Aadhaar number rules (docs/security-requirements.md C1, D1): 12 ASCII digits, first digit 2-9, not a palindrome,
 * Verhoeff check digit valid (python-stdnum `stdnum.in_.aadhaar`, citing UIDAI's numbering scheme).
 * Accepted input forms: `234123412346` and `2341 2341 2346` (groups of four separated by single spaces); anything
 * else, including non-ASCII digits, is rejected rather than guessed at.
 */

// Verhoeff tables: multiplication in the dihedral group D5, the position permutation, and (unused) inverses.
const D = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
  [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
  [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
  [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
  [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
  [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
  [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
  [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
  [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const P = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
  [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
  [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
  [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
  [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
  [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
  [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

/** True when `digits` (ASCII digits only, check digit last) passes the Verhoeff check. */
export function verhoeffValid(digits: string): boolean {
  return /^[0-9]+$/.test(digits) && verhoeffOf(digits) === 0;
}

/** The Verhoeff checksum of a string of ASCII digits (0 when its check digit is right). */
function verhoeffOf(digits: string): number {
  let c = 0;
  const n = digits.length;
  for (let i = 0; i < n; i++) {
    const digit = digits.charCodeAt(n - 1 - i) - 48;
    c = D[c][P[i % 8][digit]];
  }
  return c;
}

/**
 * The 12 digits of an Aadhaar number written in an accepted form (`^(?:[0-9]{12}|[0-9]{4} [0-9]{4} [0-9]{4})$`), or
 * null when the form is not accepted. Read character by character rather than with that regular expression and a
 * replace: it runs on every AEPS request, in validation and again when the valid value is canonicalised
 * (graphql/validation/decorators.ts), and the loop measured cheaper (bench/resolver-micro.js: see the commit).
 */
export function canonicalAadhaar(raw: string): string | null {
  const n = raw.length;
  if (n === 12) {
    for (let i = 0; i < 12; i++) if (!isAsciiDigit(raw.charCodeAt(i))) return null;
    return raw;
  }
  if (n !== 14) return null;
  for (let i = 0; i < 14; i++) {
    const code = raw.charCodeAt(i);
    if (i === 4 || i === 9 ? code !== 32 : !isAsciiDigit(code)) return null;
  }
  return raw.slice(0, 4) + raw.slice(5, 9) + raw.slice(10);
}

function isAsciiDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/**
 * The refusal of a number whose check digit is wrong: said so that a newcomer knows what to do (a mistyped digit or
 * two swapped digits is what the checksum catches). In production too: it names no value.
 */
export const AADHAAR_CHECK_DIGIT_PROBLEM =
  "has an invalid check digit: probably a typo (its last digit is a Verhoeff checksum of the other eleven)";

/**
 * What a development server adds to AADHAAR_CHECK_DIGIT_PROBLEM (the check-digit rule's `developmentHint`,
 * graphql/validation/decorators.ts IsAadhaar, appended by graphql/plugins/error-format.ts; not in production, where
 * the docs are not at hand): the valid test number docs/walkthrough.md uses. docs/simulator.md names none.
 * Only in `extensions.fields`: the error message is scrubbed, which would mask it as an Aadhaar number.
 */
export const AADHAAR_TEST_NUMBER_HINT = "; for a test, docs/walkthrough.md uses 2341 2341 2346";

/** Why an Aadhaar number is rejected, or null when it is valid. Never includes the value. */
export function aadhaarProblem(raw: string): string | null {
  return aadhaarShapeProblem(raw) ?? (hasAadhaarCheckDigit(raw) ? null : AADHAAR_CHECK_DIGIT_PROBLEM);
}

/**
 * aadhaarProblem but for the check digit: why the number is not one at all (length, groups, first digit, a
 * palindrome), or null. The validator reports the check digit as a rule of its own, which carries its development
 * hint (graphql/validation/decorators.ts IsAadhaar).
 */
export function aadhaarShapeProblem(raw: string): string | null {
  const digits = canonicalAadhaar(raw);
  if (digits === null) return "must be 12 digits, optionally written as three groups of four separated by spaces";
  if (digits.charCodeAt(0) < 50) return "must not start with 0 or 1";
  if (isPalindrome(digits)) return "is not a valid Aadhaar number";
  return null;
}

/** Whether `raw`, an Aadhaar number's spelling (aadhaarShapeProblem null), has a valid Verhoeff check digit. */
export function hasAadhaarCheckDigit(raw: string): boolean {
  const digits = canonicalAadhaar(raw);
  return digits !== null && verhoeffOf(digits) === 0;
}

function isPalindrome(s: string): boolean {
  for (let i = 0, j = s.length - 1; i < j; i++, j--) if (s.charCodeAt(i) !== s.charCodeAt(j)) return false;
  return true;
}

/** `XXXX XXXX 1234`: the only form in which an Aadhaar number may be shown (MeitY/UIDAI; docs/security-requirements.md D1). */
export function maskAadhaar(digits: string): string {
  return `XXXX XXXX ${digits.slice(-4)}`;
}
