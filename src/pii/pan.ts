/**
 * PAN (Permanent Account Number): 10 characters, AAAAA9999A, where the fourth letter is the holder type
 * (P person, C company, H HUF, F firm, A AOP, T trust, B BOI, L local authority, J artificial juridical person,
 * G government). AOPay's own example `FRS23456` is not a valid PAN (docs/upstream/aopay-api.md Observation 15); we
 * validate ours.
 * ASCII letters of either case are accepted and upper-cased (the canonical form). Only ASCII: JavaScript's
 * toUpperCase also maps `ı` (dotless i) to `I` and `ſ` (long s) to `S`, which would make non-ASCII spellings of a PAN.
 */
const PAN_ANY_CASE = /^[A-Za-z]{5}[0-9]{4}[A-Za-z]$/;
const PAN = /^[A-Z]{3}[PCHFATBLJG][A-Z][0-9]{4}[A-Z]$/;

export function canonicalPan(raw: string): string | null {
  if (!PAN_ANY_CASE.test(raw)) return null;
  const upper = raw.toUpperCase();
  return PAN.test(upper) ? upper : null;
}

/** `XXXXXX234F`: the last four characters only. */
export function maskPan(pan: string): string {
  return `XXXXXX${pan.slice(-4)}`;
}
