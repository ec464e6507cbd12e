/**
 * E-mail addresses (registerCibilCustomer's `email_id`; AOPay's page says only "Customer email",
 * docs/upstream/aopay-api.md §1.1). Policy, so that one address has one spelling:
 * - the domain is case-insensitive (DNS, RFC 4343): it is lower-cased;
 * - the local part may be case-sensitive (RFC 5321 §2.4) and AOPay does not say how it compares: kept as typed, so
 *   `Asha@x.in` and `asha@x.in` are two addresses (they would not share an idempotency fingerprint);
 * - spellings whose equivalence we cannot decide are refused, not guessed at: quoted local parts (`"a"@x.in` is
 *   `a@x.in`), non-ASCII characters (a Unicode domain and its `xn--` form are one domain), any white space.
 * The address syntax itself is class-validator's IsEmail (validator.js).
 */
const ASCII_WITHOUT_QUOTES = /^[\x21\x23-\x7e]+$/;

export const EMAIL_ASCII_RULE =
  "must be an e-mail address in ASCII, without quotes (write an international domain in its xn-- form)";

/** True when `raw` uses only the characters the policy above admits (the syntax is checked separately). */
export function isAsciiEmailSpelling(raw: string): boolean {
  return ASCII_WITHOUT_QUOTES.test(raw);
}

/** The canonical spelling of an address already validated: domain lower-cased, local part as typed. */
export function canonicalEmail(valid: string): string {
  const at = valid.lastIndexOf("@");
  return valid.slice(0, at + 1) + valid.slice(at + 1).toLowerCase();
}

/** `j***@example.com`: first character of the local part and the domain. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf("@");
  if (at <= 0) return "***";
  return `${email[0]}***${email.slice(at)}`;
}
