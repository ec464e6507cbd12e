import { GraphQLError } from "graphql";
import { scrubbedMessage, scrubbedQuestionText, scrubbedReference } from "../../../src/aopay/outcome";
import { createFormatError } from "../../../src/graphql/plugins/error-format";
import { shownAsRead } from "../../../src/pii/client-text";
import { maskGlued, Scrubber } from "../../../src/pii/scrub";
import { readDigits, SPELLINGS } from "../../helpers/number-spellings";

/**
 * A class of spellings: a mobile or an Aadhaar number that a reader reads as one number, and the scrubbers read as
 * several runs or none. An attack review found `00919876543210` and `MT00919876543210` (the `0091` prefix) in AOPay's
 * text, and `98765:43210` (a colon between the groups) in client text, passing whole; around them, the prefixes
 * people write (`091`, `+0091`, `(+91)`, with separators or glued) and any mark between the groups (`–`, `·`, `*`,
 * `→`, `[98765][43210]`, a combining accent or a keycap on each digit). Each is read here through every place text
 * reaches the outside: AOPay's message, code and reference (outcome.ts), a CIBIL question's text (its last four digits
 * kept), a development error message (error-format.ts) and client text logged as read (a refused Origin, a client id:
 * pii/client-text.ts shownAsRead with maskGlued). 4,333 spellings in 6 places: on the code of 21554c8, 13,950 of the
 * 25,998 showed the number (3,534 in each of AOPay's three places, 1,596 in development messages, 1,876 in each log).
 */
const scrubber = new Scrubber(["AOP-554"]);
// The request's own values are others than the number spelled: what is tested is the shape masks, not the redaction.
const forRequest = () => scrubber.forRequest(["4829", "9182736450"]);
const dev = createFormatError(scrubber, { production: false });

/** What each place shows of `text`. */
const PLACES: [string, (text: string) => string][] = [
  ["AOPay's message", (t) => scrubbedMessage(t, forRequest())],
  ["AOPay's code or reference", (t) => scrubbedReference(t, forRequest())],
  ["a CIBIL question's text", (t) => scrubbedQuestionText(t, forRequest())],
  [
    "a development error message",
    (t) => {
      const message = `Unknown operation named "${t}".`;
      return dev({ message, extensions: { code: "GRAPHQL_VALIDATION_FAILED" } }, new GraphQLError(message)).message;
    },
  ],
  ["a refused Origin as logged", (t) => shownAsRead(`http://${t}.example`, maskGlued)],
  ["a client id as logged", (t) => shownAsRead(t, (x) => maskGlued(scrubber.scrub(x)))],
];

const cases = SPELLINGS;

describe("a mobile or an Aadhaar number in every spelling a reader reads as one, in every place text leaves", () => {
  it("the table holds the class: every spelling reads as the number", () => {
    expect(cases.length).toBeGreaterThan(3_000);
    for (const [, text, number] of cases) expect(readDigits(text)).toContain(number);
  });

  it.each(PLACES)("%s: no spelling shows the number", (_place, show) => {
    const shown = cases
      .map(([where, text, number]) => ({ where, text, out: show(text), number }))
      .filter(({ out, number }) => readDigits(out).includes(number));
    expect(shown).toEqual([]);
  });

  it.each([
    ["00919876543210", "XXXXXX3210"],
    ["MT00919876543210", "MTXXXXXXXXXXXXXX"],
    ["0091-98765-43210", "XXXXXX3210"],
    ["call 0091 98765 43210", "call XXXXXX3210"],
    ["call +0091-98765-43210 now", "call XXXXXX3210 now"],
    ["(+91)-98765-43210", "XXXXXX3210"],
    ["ref 98765:43210", "ref XXXXX:XXXXX"],
    ["MT98765\u201343210", "MTXXXXX\u2013XXXXX"],
    ["MT9876543210 1234", "MTXXXXXXXXXX XXXX"],
  ])("AOPay's message %j reads %j", (text, shown) => {
    expect(scrubbedMessage(text, forRequest())).toBe(shown);
  });

  it("a CIBIL answer choice keeps the last four digits of the number it masks", () => {
    expect(scrubbedQuestionText("Account MT00919876543210", forRequest())).toBe("Account MTXXXXXXXXXX3210");
    expect(scrubbedQuestionText("Account ending 98765:43210", forRequest())).toBe("Account ending XXXXX:X3210");
  });
});

describe("what is not a mobile or an Aadhaar number stays readable where it did", () => {
  const READABLE = [
    "127.0.0.1:4000",
    "localhost:43210",
    "http://10.0.0.1:65432",
    "10:30:45",
    "at 2026-12-04T13:45:12.123Z",
    "2026-12-04 13:45:12",
    "request 68f74483-ff9b-4582-bb53-123173816012",
    "amount 1,234,567.89 and Rs. 12,34,567.00",
    "TXN12345678901",
    "TXN-2026-1204-000123",
    "SPC-200",
    "order 1234 5678",
    "from 192.168.100.200",
  ];

  it.each(READABLE)("AOPay's message %j", (text) => {
    expect(scrubbedMessage(text, forRequest())).toBe(text);
  });

  it.each(READABLE.slice(0, 5))("client text %j (a refused Origin's host and port, a time)", (text) => {
    expect(shownAsRead(text, maskGlued)).toBe(text);
    const message = `Unknown operation named "${text}".`;
    expect(dev({ message, extensions: { code: "GRAPHQL_VALIDATION_FAILED" } }, new GraphQLError(message)).message).toBe(
      message,
    );
  });

  it.each([
    // A run of digits alone that holds a mobile- or Aadhaar-shaped part is masked, whatever else is glued to it
    // (docs/security.md): an epoch time in milliseconds, a UUID's last group of twelve digits from 6-9, a 13-digit id
    // and AOPay's reference in a message (kept whole only where AOPay gives it as its reference: outcome.ts).
    ["ts 1733123456789", "ts XXXXXXXXXXXXX"],
    ["request 68f74483-ff9b-4582-bb53-628173816012", "request 68f74483-ff9b-4582-bbXX-XXXXXXXXXXXX"],
    ["TXN1234567890123", "TXNXXXXXXXXXXXXX"],
    ["SPCBL2308181506522334ZiSHM7bAe", "SPCBLXXXXXXXXXXXXXXXXZiSHM7bAe"],
  ])("masks a run that holds a number's shape in AOPay's message %j", (text, shown) => {
    expect(scrubbedMessage(text, forRequest())).toBe(shown);
  });

  it("masks more than a reader needs in one spelling of a time, said in docs/security.md", () => {
    // Twelve digits from 2-9 joined by marks read as an Aadhaar number: a date and a time to the minute.
    expect(scrubbedMessage("at 2026-12-04 13:45", forRequest())).toBe("at XXXX-XX-XX XX:XX");
  });
});
