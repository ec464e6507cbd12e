/**
 * Person names (registerCibilCustomer's first, middle and last name; AOPay's page gives only their keys,
 * docs/upstream/aopay-api.md §1.1). Letters of any script, then letters, combining marks, dots, apostrophes, hyphens
 * and single spaces between words; at most 50 characters.
 * One name, one spelling:
 * - Unicode NFC: `é` typed as one code point or as `e` + a combining accent is the same text by the Unicode Standard's
 *   canonical equivalence (not an equivalence of ours); NFC is the form the W3C Character Model recommends for
 *   interchange, and the form AOPay receives;
 * - spaces only between words: a leading, trailing or doubled space is refused, because AOPay does not say whether it
 *   trims them (`Asha` and `Asha ` would otherwise be two spellings of one name).
 */
const NAME = /^(?=.{1,50}$)\p{L}[\p{L}\p{M}.'-]*(?: [\p{L}\p{M}.'-]+)*$/u;

export const PERSON_NAME_RULE =
  "must be 1 to 50 letters (dots, apostrophes and hyphens allowed after the first, single spaces between words)";

/** The NFC form of `raw` when it is an acceptable name, else null. */
export function canonicalPersonName(raw: string): string | null {
  if (raw.length > 200) return null;
  const nfc = raw.normalize("NFC");
  return NAME.test(nfc) ? nfc : null;
}
