/**
 * Numbers that arrive partly masked, from AOPay: what we show of an identifier is at most its last four digits, in
 * our mask (`XXXXXX3210`, `XXXX XXXX 2346`), and AOPay masks differently. GenerateOTP's question says "The One Time
 * Password is sent to 94138****" (the FIRST five digits of the registered mobile: docs/upstream/seeds, the fixture
 * test/fixtures/aopay/cibil/generate-otp.success.json), its docs write masked values as `97XXXXXXXX` (the first two),
 * and we answer registerCibilCustomer with `maskedMobile: XXXXXX3210`: passed on as they came, the two together showed
 * nine of the mobile's ten digits. So every digit of such a number is hidden (hidePartlyMasked), each by the mask
 * character the number itself uses (`94138****` -> `*********`, `2341 XXXX XXXX` -> `XXXX XXXX XXXX`), before the
 * scrubber runs: its own masks (`XXXXXX3210`, made from whole numbers) come later and stay as they are.
 *
 * A partly masked number: a token of digits and mask characters (MASK_CHARS), in groups joined by single spaces, dots
 * or dashes (`98765-*****`, `2341 XXXX XXXX`), glued to no other letter, digit or mask character, that holds a run
 * of two or more mask characters, a run of two or more digits and eight or more characters in all. Left alone:
 * - a token with other letters (`AOP554N3XXXXX`, AOPay's reference `SPCBL2308181502437743…`);
 * - short things: `2xx`, `HTTP 5xx`, AOPay's masked CIBIL id `93626**` (7 characters: an id the client sent in full);
 * - `2xx 3xx 4xx 5xx` (no two digits in a row: the status classes, not a number);
 * - a number that already shows only its last digits, four at most (`XXXXXX3210`, `****-3210`, `XXXX XXXX 2346`): that
 *   is all the rule allows us to show, so it reveals nothing our masks do not, and a CIBIL answer choice naming the
 *   customer's account so (`XXXXXXXX1234`) must stay answerable (aopay/outcome.ts scrubbedQuestionText).
 * Test cases: test/unit/pii/partly-masked.test.ts.
 */

// `*`, `X`, `x`, `#`, the bullet `•` (U+2022) and the black circle `●` (U+25CF): what masks are written with.
const MASK = "*Xx#\\u2022\\u25CF";
/** The quick test: a run of two mask characters. Almost no text of AOPay's holds one (`Success`, `SPC-200`). */
const MASK_PAIR = new RegExp(`[${MASK}]{2}`);
/** What joins two groups of one number (scrub.ts SEP: the space, the no-break, figure and thin spaces, `.`, `-`). */
const JOIN = "[ .\\-\\u00A0\\u2007\\u2009\\u202F]";
/** What a token may not be glued to: a letter (`X` and `x` are letters too), a digit, a mark or a mask character. */
const GLUE = `[\\p{L}\\p{Nd}\\p{M}${MASK}]`;
const GROUP = `[\\p{Nd}${MASK}]+`;
const TOKEN = new RegExp(`(?<!${GLUE})${GROUP}(?:${JOIN}${GROUP})*(?!${GLUE})`, "gu");
const MASK_RUN = new RegExp(`[${MASK}]{2}`, "u");
const DIGIT_PAIR = /\p{Nd}{2}/u;
const DIGIT = /\p{Nd}/gu;
/** A token showing only its last digits, four at most: every digit in one run at its end. */
const LAST_DIGITS_ONLY = /^\P{Nd}+\p{Nd}{1,4}$/u;
/** The fewest characters a partly masked number has (`94138****` has 9; `93626**`, 7, is a CIBIL id). */
const MIN_CHARS = 8;

/** `text` with every digit of each partly masked number in it as that number's mask character. */
export function hidePartlyMasked(text: string): string {
  return MASK_PAIR.test(text) ? text.replace(TOKEN, hideToken) : text;
}

function hideToken(token: string): string {
  if (token.length < MIN_CHARS || !DIGIT_PAIR.test(token) || LAST_DIGITS_ONLY.test(token)) return token;
  const run = MASK_RUN.exec(token);
  return run === null ? token : token.replace(DIGIT, run[0][0]);
}

/**
 * hidePartlyMasked on every string value inside `value` (parsed JSON: objects and arrays), in place; keys are left as
 * they are. For AOPay's credit report (GetCreditHistory's `result`, handed on as it came otherwise): its customer's
 * `mobile` is masked as GenerateOTP's question masks it (`98765****`, the simulator's report). Iterative: the report's
 * nesting is bounded (aopay/outcome.ts MAX_HANDED_ON_DEPTH) but nothing here needs the call stack. A string is
 * written only when it changed: the answer's long integers are frozen JSON.rawJSON objects holding digits alone
 * (aopay/envelope.ts exactIntegers), which this reads and never changes (a write would throw).
 */
export function hidePartlyMaskedIn<T>(value: T): T {
  const stack: unknown[] = [value];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    if (node === null || typeof node !== "object") continue;
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const item: unknown = node[i];
        if (typeof item === "string") {
          const hidden = hidePartlyMasked(item);
          if (hidden !== item) node[i] = hidden;
        } else if (item !== null && typeof item === "object") stack.push(item);
      }
      continue;
    }
    const record = node as Record<string, unknown>;
    for (const key in record) {
      if (!Object.hasOwn(record, key)) continue;
      const item = record[key];
      if (typeof item === "string") {
        const hidden = hidePartlyMasked(item);
        if (hidden !== item) record[key] = hidden;
      } else if (item !== null && typeof item === "object") stack.push(item);
    }
  }
  return value;
}
