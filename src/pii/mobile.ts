/**
 * Indian mobile numbers (docs/security-requirements.md C2): exactly 10 ASCII digits starting 6-9 (DoT numbering plan
 * mobile levels). Policy: the national number only. `+91`/`0` prefixes, spaces and non-ASCII digits are rejected,
 * not normalised, so that what the customer typed and what AOPay receives are the same digits.
 */
const MOBILE = /^[6-9][0-9]{9}$/;

export function isValidMobile(raw: string): boolean {
  return MOBILE.test(raw);
}

/** `XXXXXX1234`: last four digits only. */
export function maskMobile(digits: string): string {
  return `XXXXXX${digits.slice(-4)}`;
}
