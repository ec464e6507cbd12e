import { GraphQLError } from "graphql";
import { shownClientId } from "../../../src/auth/authenticator";
import { createFormatError } from "../../../src/graphql/plugins/error-format";
import { SafeMessageError } from "../../../src/graphql/plugins/safe-message-error";
import { Scrubber } from "../../../src/pii/scrub";
import { readJsonDigits } from "../../helpers/number-spellings";

/**
 * The ways people and systems write an Indian mobile, an Aadhaar number and a PAN standing apart from other words: the
 * prefixes (trunk `0`, `+91`, `91`, `0091`, bracketed), the groupings (5-5, 3-3-4, 4-3-3, 2-4-4, 2-2-2-2-2), brackets
 * around a group (`(98765) 43210`, `+91(98765)43210`), and the separators (space, dot, dash, slash, tab, a line break,
 * ` - `, two spaces). The bare Scrubber.scrub, the path of every log line's message before the line's own scrub, of
 * errors and other free text, read `0-98765-43210`, `+91(98765)43210`, `98765 - 43210`, `98765\n43210` and a PAN
 * across line breaks (`ABCPE\n1234\nF`) as no number; the PAN passed every entry point. Each entry point is read here:
 * the bare scrub and its any-case form, a log line's message and an access line's field, a GraphQL error's message
 * (this server's and graphql-js's in development) and its extensions' `fields`, and a metrics label (the client id an
 * API key's counter is labelled with: auth/authenticator.ts shownClientId).
 */
const scrubber = new Scrubber(["AOP-554"]);
const dev = createFormatError(scrubber, { production: false });

const line = (fields: Record<string, unknown>) => JSON.stringify({ level: "info", time: 1796392274221, ...fields });
const ENTRY_POINTS: [string, (text: string) => string][] = [
  ["Scrubber.scrub", (t) => scrubber.scrub(t)],
  ["Scrubber.scrubAnyCase", (t) => scrubber.scrubAnyCase(t)],
  ["a log line's message", (t) => scrubber.scrubLine(line({ msg: t }))],
  ["an access line's field", (t) => scrubber.scrubLine(line({ msg: "request", status: 200, error: t, ms: 12 }))],
  [
    "a GraphQL error's message (this server's)",
    (t) => dev({ message: t, extensions: { code: "BAD_USER_INPUT" } }, new SafeMessageError(t)).message,
  ],
  [
    "a GraphQL error's message (graphql-js's, development)",
    (t) => {
      const message = `Unknown operation named "${t}".`;
      return dev({ message, extensions: { code: "GRAPHQL_VALIDATION_FAILED" } }, new GraphQLError(message)).message;
    },
  ],
  [
    "a GraphQL error's extensions (fields)",
    (t) => {
      const fields = [{ field: "mobile", problem: t }];
      const error = new SafeMessageError("Invalid input.", { extensions: { fields } });
      return JSON.stringify(dev({ message: "Invalid input.", extensions: { code: "BAD_USER_INPUT", fields } }, error));
    },
  ],
  ["a metrics label (the client id)", (t) => shownClientId(t)],
];

const MOBILE = "9876543210";
const AADHAAR = "234123412346";
const SEPARATORS = [" ", "-", ".", "/", "\t", "\n", "\r\n", " - ", " / ", "  "];
const PREFIXES = ["", "0", "+91", "91", "0091", "+0091", "(+91)", "+(91)", "(0)", "[+91]"];
const AFTER_PREFIX = ["", " ", "-", ".", "\n"];
const GROUPINGS = [[10], [5, 5], [3, 3, 4], [4, 3, 3], [2, 4, 4], [2, 2, 2, 2, 2]];

/** `digits` cut into `sizes`, joined by `separator`, the first group in brackets with `bracket`. */
function grouped(digits: string, sizes: number[], separator: string, bracket = false): string {
  const groups: string[] = [];
  let at = 0;
  for (const size of sizes) groups.push(digits.slice(at, (at += size)));
  if (bracket) groups[0] = `(${groups[0]})`;
  return groups.join(separator);
}

const MOBILES: string[] = [];
for (const prefix of PREFIXES)
  for (const after of prefix === "" ? [""] : AFTER_PREFIX)
    for (const sizes of GROUPINGS) {
      for (const separator of sizes.length === 1 ? [""] : SEPARATORS)
        MOBILES.push(prefix + after + grouped(MOBILE, sizes, separator));
      // A group in brackets, glued to the rest or not (`(98765) 43210`, `+91(98765)43210`): not after a bracket.
      if (sizes.length > 1 && !prefix.endsWith(")") && !prefix.endsWith("]"))
        for (const separator of ["", " ", "-"]) MOBILES.push(prefix + after + grouped(MOBILE, sizes, separator, true));
    }
const AADHAARS: string[] = [];
for (const first of SEPARATORS) for (const second of SEPARATORS) AADHAARS.push(`2341${first}2341${second}2346`);
AADHAARS.push("(2341) 2341 2346", "2341 (2341) 2346");
const PAN_SEPARATORS = ["", ...SEPARATORS];
const PANS: string[] = [];
for (const first of PAN_SEPARATORS)
  for (const second of PAN_SEPARATORS) PANS.push(`ABCPE${first}1234${second}F`, `abcpe${first}1234${second}f`);

const CONTEXTS = [(x: string) => x, (x: string) => `sent to ${x}.`, (x: string) => `mobile: ${x}, retry`];
/** [the number, a spelling of it in a text]. */
const CASES: [string, string][] = [
  ...MOBILES.map((m): [string, string] => [MOBILE, m]),
  ...AADHAARS.map((a): [string, string] => [AADHAAR, a]),
  ...PANS.map((p): [string, string] => ["ABCPE1234F", p]),
].flatMap(([number, spelled]) => CONTEXTS.map((context): [string, string] => [number, context(spelled)]));

/** What a reader reads of `shown` (a JSON text's escapes decoded): its digits and letters, in capitals. */
const read = (shown: string) => readJsonDigits(shown).toUpperCase();

describe("every entry point masks a mobile, an Aadhaar number or a PAN as people write them", () => {
  it("the table holds the class: every spelling reads as its number", () => {
    expect(MOBILES.length).toBeGreaterThan(1_000);
    for (const [number, text] of CASES) expect(read(text)).toContain(number);
  });

  it.each(ENTRY_POINTS)("%s: no spelling shows its number", (_name, show) => {
    const shown = CASES.map(([number, text]) => ({ text, out: show(text), number })).filter(({ out, number }) =>
      read(out).includes(number),
    );
    expect({ count: shown.length, first: shown.slice(0, 5).map(({ text }) => text) }).toEqual({ count: 0, first: [] });
  });
});

describe("what is no number stays as written where the new rules read a number apart", () => {
  // Each beside a rule: a range of dates (d/m/yy, dd.mm.yyyy, ISO), amounts, a time, ids, a port, a status.
  const READABLE = [
    "valid 6/12/26 - 7/12/26",
    "valid 06.12.2026 - 07.12.2026",
    "from 2026-12-01 - 2026-12-07",
    "between 01/12/2026 / 07/12/2026",
    "Rs. 7500.00 - 8250.00",
    "amount 98,765.43 (was 43,210.00)",
    "at 2026-12-04T13:45:12.123Z (took 9876 ms)",
    "at 2026-12-04 13:45:12",
    "txn TXN-2026-1204-000123 (987654)",
    "request 68f74483-ff9b-4582-bb53-123173816012",
    "127.0.0.1:4000 (8080) 443",
    "HTTP 503 (retry after 60)\n200 OK",
    "from 192.168.100.200 - 10.0.0.1",
    "limits 2000 - 3000 - 4000 - 5000",
  ];
  const KEPT: [string, (text: string) => string][] = [
    ["Scrubber.scrub", (t) => scrubber.scrub(t)],
    ["Scrubber.scrubAnyCase", (t) => scrubber.scrubAnyCase(t)],
    ["a GraphQL error's message (this server's)", ENTRY_POINTS[4][1]],
    ["a log line's message", (t) => (JSON.parse(ENTRY_POINTS[2][1](t)) as { msg: string }).msg],
  ];
  // The log line reads `6/12/26 - 7/12/26` and `7500.00 - 8250.00` as a mobile and an Aadhaar number (readsAsNumber:
  // groups in a row that are exactly a number's digits), the safe side it chose; every exit ends with its reading now
  // (pii/scrub.ts asLogged), so each masks them alike (test/unit/pii/exits-agree.test.ts).
  const READ_AS_NUMBERS = /^(?:valid 6|Rs)/;

  it.each(KEPT)("%s", (_name, show) => {
    expect(READABLE.filter((text) => !READ_AS_NUMBERS.test(text) && show(text) !== text)).toEqual([]);
    for (const text of READABLE.filter((t) => READ_AS_NUMBERS.test(t))) expect(show(text)).not.toBe(text);
  });

  it.each([
    ["0-98765-43210", "XXXXXX3210"],
    ["+91(98765)43210", "XXXXXX3210"],
    ["call (98765) 43210 now", "call XXXXXX3210 now"],
    ["98765 - 43210", "XXXXXX3210"],
    ["line 98765\n43210", "line XXXXXX3210"],
    ["2341 / 2341 / 2346", "XXXX XXXX 2346"],
    ["PAN ABCPE\r\n1234\r\nF", "PAN XXXXXX234F"],
    // Each group in brackets: the bracket the match ends before closes one it opened, so the mask keeps the pair
    // (it read `XXXXXX3210)`, a bracket closing nothing).
    ["(98765)(43210)", "(XXXXXX3210)"],
    ["mob [98765][43210].", "mob [XXXXXX3210]."],
    ["(2341)(2341)(2346)", "(XXXX XXXX 2346)"],
  ])("Scrubber.scrub %j reads %j", (text, shown) => {
    expect(scrubber.scrub(text)).toBe(shown);
  });
});

describe("a number written apart beside another number, a space between them", () => {
  // A review had each of these shown whole by the bare scrub (a GraphQL error's message and fields, the client id),
  // where the log line masked them: the rules' edges took any digit before or after a gap for a longer number, a
  // space too. A count, a step, a date or a time before it and a space between is a word of its own.
  const BESIDE = [
    "2026-12-07 (98765) 43210",
    "qty 2 98765 - 43210",
    "at 12:30 0-98765-43210",
    "(98765) 43210 2 times",
    "98765 - 43210 12:30",
    "try 1 98765\n43210",
    "step 5 2341 / 2341 / 2346",
    "2341 - 2341 - 2346 3 times",
  ];
  it.each(ENTRY_POINTS)("%s: none shows its number", (_name, show) => {
    const shown = BESIDE.filter((text) => read(show(text)).includes(text.includes("2346") ? AADHAAR : MOBILE));
    expect(shown).toEqual([]);
  });
});
