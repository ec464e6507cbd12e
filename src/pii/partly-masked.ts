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
 * A partly masked number: a token of digits and mask characters (MASK), in groups joined by single spaces, dots
 * or dashes (`98765-*****`, `2341 XXXX XXXX`), glued to no other letter, digit or mask character, that holds a run
 * of two or more mask characters, a run of two or more digits and eight or more characters in all. Left alone:
 * - a token with other letters (`AOP554N3XXXXX`, AOPay's reference `SPCBL2308181502437743…`);
 * - short things: `2xx`, `HTTP 5xx`, AOPay's masked CIBIL id `93626**` (7 characters: an id the client sent in full);
 * - `2xx 3xx 4xx 5xx` (no two digits in a row: the status classes, not a number);
 * - a number that already shows only its last digits, four at most (`XXXXXX3210`, `****-3210`, `XXXX XXXX 2346`): that
 *   is all the rule allows us to show, so it reveals nothing our masks do not, and a CIBIL answer choice naming the
 *   customer's account so (`XXXXXXXX1234`) must stay answerable (aopay/outcome.ts scrubbedQuestionText).
 * Test cases: test/unit/pii/partly-masked.test.ts. Cost (timing loops, node 24): about 15 ns a text without a pair of
 * mask characters (a code, a reference, a message: MASK_PAIR's test alone); GenerateOTP's documented answer mapped
 * (cibil-generate-otp.ts fromWire) 1.3-1.4 -> 1.65-1.7 µs, its question and answer choice being one text (lastText);
 * the simulator's sample report parsed and mapped (cibil-credit-history.ts fromWire) 2.2 -> 3.0 µs, every string
 * value tested. A first version (replace() with a function, a pattern per test in hideToken) cost 430 ns for the
 * question's text alone; this one about 260.
 */

// `*`, `X`, `x`, `#`, the bullet `•` (U+2022) and the black circle `●` (U+25CF): what masks are written with.
const MASK = "*Xx#\\u2022\\u25CF";
/** The quick test: a run of two mask characters. Almost no text of AOPay's holds one (`Success`, `SPC-200`). */
const MASK_PAIR = new RegExp(`[${MASK}]{2}`);
/** What joins two groups of one number (scrub.ts SEP: the space, the no-break, figure and thin spaces, `.`, `-`). */
const JOIN = "[ .\\-\\u00A0\\u2007\\u2009\\u202F]";
/** What a token may not be glued to: a letter (`X` and `x` are letters too), a digit, a mark or a mask character. */
const GLUE = `[\\p{L}\\p{Nd}\\p{M}${MASK}]`;
const CHAR = `[\\p{Nd}${MASK}]`;
// From its first character, looking behind from there: a pattern that starts with a look-behind is tried at every
// position of the text (scrub.ts BEFORE says the same).
const TOKEN = new RegExp(`${CHAR}(?<!${GLUE}${CHAR})${CHAR}*(?:${JOIN}${CHAR}+)*(?!${GLUE})`, "gu");
/** A decimal digit of any script (one code point). */
const DIGIT = /\p{Nd}/gu;
const DECIMAL = /^\p{Nd}$/u;
/** The fewest characters a partly masked number has (`94138****` has 9; `93626**`, 7, is a CIBIL id). */
const MIN_CHARS = 8;

/**
 * The last text hidePartlyMasked was asked about that holds a pair of mask characters, and its answer: the CIBIL
 * question's text and its answer choice's are the same text (AOPay's example), asked about one after the other. A
 * reference to the last such text only, until the next one: nothing is written anywhere (pii/scrub.ts lastAscii).
 */
let lastText: string | undefined;
let lastHidden = "";

/** `text` with every digit of each partly masked number in it as that number's mask character. */
export function hidePartlyMasked(text: string): string {
  if (!MASK_PAIR.test(text)) return text;
  if (text === lastText) return lastHidden;
  // An exec loop, not replace() with a function: that cost 170 ns over the question's text against 65 (timing loop).
  const tokens = TOKEN;
  tokens.lastIndex = 0;
  let out = "";
  let copied = 0;
  for (let found = tokens.exec(text); found !== null; found = tokens.exec(text)) {
    const token = found[0];
    const hidden = token.length < MIN_CHARS ? token : hideToken(token);
    if (hidden === token) continue;
    out += text.slice(copied, found.index) + hidden;
    copied = found.index + token.length;
  }
  lastText = text;
  lastHidden = copied === 0 ? text : out + text.slice(copied);
  return lastHidden;
}

/**
 * A token (TOKEN: digits and mask characters, single joins between groups) with every digit as the character of its
 * first run of two or more mask characters, when it has one and a run of two or more digits and does not show only
 * its last digits, four at most (every digit in one run at its end); else the token as it is. One pass over its
 * characters (a regular expression per test cost about 50 ns each).
 */
function hideToken(token: string): string {
  let mask = 0;
  let maskRun = 0;
  let digitRun = 0;
  let digitPair = false;
  let digitThenOther = false;
  for (let i = 0; i < token.length;) {
    const code = token.codePointAt(i) ?? 0;
    i += code > 0xffff ? 2 : 1;
    if (isDigit(code)) {
      maskRun = 0;
      if (++digitRun === 2) digitPair = true;
      continue;
    }
    if (digitRun > 0) digitThenOther = true;
    digitRun = 0;
    if (isMask(code)) {
      if (++maskRun === 2 && mask === 0) mask = code;
    } else maskRun = 0;
  }
  if (mask === 0 || !digitPair || (!digitThenOther && digitRun <= 4)) return token;
  // A mask character is one code unit.
  return token.replace(DIGIT, String.fromCharCode(mask));
}

function isDigit(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code > 0x7f && DECIMAL.test(String.fromCodePoint(code)));
}

/** One of MASK's characters. */
function isMask(code: number): boolean {
  return code === 0x2a || code === 0x58 || code === 0x78 || code === 0x23 || code === 0x2022 || code === 0x25cf;
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
  const pending: unknown[] = [value];
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    if (node === null || typeof node !== "object") continue;
    // An array's items by index (an array is an object whose keys are its indices).
    const container = node as Record<string, unknown>;
    if (Array.isArray(node)) for (let i = 0; i < node.length; i++) hideAt(container, i, pending);
    else for (const key in container) hideAt(container, key, pending);
  }
  return value;
}

/**
 * hidePartlyMaskedIn's step (shaped as aopay/envelope.ts holdsUnsafeNumber's): the string at `key` of `container`
 * written again only if hidePartlyMasked changed it, an object or array there added to `pending`.
 */
function hideAt(container: Record<string, unknown>, key: string | number, pending: unknown[]): void {
  const item = container[key];
  if (typeof item === "string") {
    const hidden = hidePartlyMasked(item);
    if (hidden !== item) container[key] = hidden;
  } else if (item !== null && typeof item === "object") pending.push(item);
}
