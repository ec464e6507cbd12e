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
  if (!/^[0-9]+$/.test(digits)) return false;
  let c = 0;
  const n = digits.length;
  for (let i = 0; i < n; i++) {
    const digit = digits.charCodeAt(n - 1 - i) - 48;
    c = D[c][P[i % 8][digit]];
  }
  return c === 0;
}

const AADHAAR_FORM = /^(?:[0-9]{12}|[0-9]{4} [0-9]{4} [0-9]{4})$/;

/** The 12 digits of an Aadhaar number written in an accepted form, or null when the form is not accepted. */
export function canonicalAadhaar(raw: string): string | null {
  if (!AADHAAR_FORM.test(raw)) return null;
  return raw.replace(/ /g, "");
}

/** Why an Aadhaar number is rejected, or null when it is valid. Never includes the value. */
export function aadhaarProblem(raw: string): string | null {
  const digits = canonicalAadhaar(raw);
  if (digits === null) return "must be 12 digits, optionally written as three groups of four separated by spaces";
  if (!/^[2-9]/.test(digits)) return "must not start with 0 or 1";
  if (digits === [...digits].reverse().join("")) return "is not a valid Aadhaar number";
  if (!verhoeffValid(digits)) return "has an invalid check digit";
  return null;
}

/** `XXXX XXXX 1234`: the only form in which an Aadhaar number may be shown (MeitY/UIDAI; docs/security-requirements.md D1). */
export function maskAadhaar(digits: string): string {
  return `XXXX XXXX ${digits.slice(-4)}`;
}
