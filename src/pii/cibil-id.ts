/**
 * CIBIL ids. AOPay's GenerateOTP documents `cibil_id` as an Int (example 102277100), SubmitOTP and GetCreditHistory
 * as a String (docs/upstream/aopay-api.md §1.2, §1.3, §1.4 and Observation 3). The id AOPay knows is therefore a
 * number: `0760191459` and `760191459` are the same id (GenerateOTP receives the JSON number 760191459 for both), so
 * the canonical form is that number's decimal digits, without leading zeros. It is what every budget, consent record,
 * idempotency fingerprint and DataLoader key uses, and what every endpoint sends (as a number or as its digits).
 * At most 15 digits are accepted (before canonicalisation): every such number is exact as a JSON number.
 */
const CIBIL_ID = /^[0-9]{1,15}$/;
const LEADING_ZEROS = /^0+(?=[0-9])/;

export const CIBIL_ID_RULE = "must be 1 to 15 digits";

/** The canonical CIBIL id for `raw`, or null when `raw` is not 1 to 15 ASCII digits. `000` becomes `0`. */
export function canonicalCibilId(raw: string): string | null {
  if (!CIBIL_ID.test(raw)) return null;
  return raw.charCodeAt(0) === 48 ? raw.replace(LEADING_ZEROS, "") : raw;
}
