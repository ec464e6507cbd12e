import type { Level } from "pino";
import { logAccess } from "../../../src/logging/access-log";
import { createLogger, lineWriter, type Logger } from "../../../src/logging/logger";
import { AADHAAR, MOBILE, readDigits, SPELLINGS } from "../../helpers/number-spellings";

/**
 * The logger's scrub (Scrubber.scrubLine: pino's streamWrite hook and the access line's writer) is the last net for
 * text that reaches a log line without having been masked where it came in. It reads a number as AOPay's text is read
 * (RequestScrubber, maskNumberShapes): every spelling of test/unit/pii/spelling-class.test.ts (prefixes, any mark
 * between the groups, a colon where the run reads as a number, other scripts' digits, glued to letters), written
 * through the production logger in each place a line can hold text. On the code before this round 13,400 of the
 * 29,141 spellings' lines below showed the number whole.
 */
const SECRETS = ["sk_live_9f8e7d6c5b4a39281706", "AOP-554"];
const REQUEST_ID = "68f74483-ff9b-4582-bb53-6281738160bf";

/** Every string of a parsed line (keys too), each read as a reader reads its digits. */
function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out);
  else if (value !== null && typeof value === "object")
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      strings(v, out);
    }
  return out;
}

/** The places of a line a text can reach, each writing it once through `log`. */
const PLACES: [string, (log: Logger, text: string) => void][] = [
  ["a field's value", (log, t) => log.info({ note: t }, "noted")],
  ["the message", (log, t) => log.info(`upstream said ${t}`)],
  ["a debug line's nested object", (log, t) => log.debug({ outer: { inner: [{ text: t }] } }, "debug detail")],
  ["an error's message and stack", (log, t) => log.warn({ err: new Error(`failed for ${t}`) }, "call failed")],
  [
    "the access line's bindings",
    (log, t) => {
      const child = log.child({ requestId: REQUEST_ID });
      child.setBindings({ clientId: t });
      logAccess(child, undefined, "POST", "/graphql", 200, { operation: "ResendAepsOtp", result: "OK" }, [], 12);
    },
  ],
];

function written(level: Level, place: (log: Logger, text: string) => void, text: string): string[] {
  const lines: string[] = [];
  const log = createLogger({
    level,
    secrets: SECRETS,
    destination: { write: (line: string) => void lines.push(line) },
  });
  place(log, text);
  return lines;
}

describe.each<Level>(["info", "debug"])("a spelled number in a log line at %s", (level) => {
  it.each(PLACES)("%s: no line shows the number, and every line parses", (place, write) => {
    const shown: string[] = [];
    let lines = 0;
    for (const [, text, number] of SPELLINGS) {
      for (const line of written(level, write, text)) {
        lines++;
        const parsed: unknown = JSON.parse(line);
        if (strings(parsed).some((s) => readDigits(s).includes(number))) shown.push(text);
      }
    }
    // A debug line is not written at info: the place is then tested at debug alone.
    expect(lines).toBe(level === "info" && place.startsWith("a debug") ? 0 : SPELLINGS.length);
    expect(`${shown.length} of ${lines} show the number, first ${JSON.stringify(shown[0])}`).toBe(
      `0 of ${lines} show the number, first undefined`,
    );
  });
});

describe("a line written whole (the access line's writer): JSON's escapes are read", () => {
  const log = createLogger({ level: "info", secrets: SECRETS, destination: { write: (line) => void out.push(line) } });
  const out: string[] = [];
  const write = lineWriter(log) as (line: string) => void;

  it.each([
    ["a digit escaped", String.raw`{"msg":"call \u0039876543210 now"}`, "9876543210"],
    ["every digit escaped", String.raw`{"msg":"\u0039\u0038\u0037\u0036\u0035\u0034\u0033\u0032\u0031\u0030"}`, ""],
    ["a tab between the groups", String.raw`{"msg":"call 98765\t43210"}`, "9876543210"],
    ["a line feed between the groups", String.raw`{"msg":"98765\n43210"}`, "9876543210"],
    ["a quote between the groups", String.raw`{"msg":"98765\"43210"}`, "9876543210"],
    ["a backslash between the groups", String.raw`{"msg":"MT98765\\43210"}`, "9876543210"],
    ["a Devanagari digit escaped", String.raw`{"msg":"\u096f876543210"}`, "9876543210"],
    ["an Aadhaar number's groups after escapes", String.raw`{"msg":"2341\t2341\n2346"}`, "234123412346"],
  ])("%s", (_name, line, number) => {
    out.length = 0;
    write(`${line}\n`);
    const parsed = JSON.parse(out[0]) as { msg: string };
    expect(readDigits(parsed.msg)).not.toContain(number || "9876543210");
  });
});

describe("what is not a number stays as it was written", () => {
  const lines: string[] = [];
  const log = createLogger({
    level: "debug",
    secrets: SECRETS,
    destination: { write: (l: string) => void lines.push(l) },
  });

  it.each([
    "127.0.0.1:4000",
    "http://10.0.0.1:65432",
    "10:30:45",
    "at 2026-12-04T13:45:12.123Z",
    "2026-12-04 13:45:12",
    "took 1234 ms, 200 OK, 17 calls",
    "SIMCBL000000000001",
    "TXN-2026-1204-000123",
    "from 192.168.100.200",
    'tab\there, quote" and back\\slash 12345',
    "uni ✓ é 漢字",
  ])("%j in a field and the message", (text) => {
    lines.length = 0;
    log.info({ note: text }, text);
    const parsed = JSON.parse(lines[0]) as { note: string; msg: string };
    expect([parsed.note, parsed.msg]).toEqual([text, text]);
  });

  it("the bench's access line, byte for byte", () => {
    const access: string[] = [];
    const logger = createLogger({
      level: "info",
      secrets: SECRETS,
      destination: { write: (l) => void access.push(l) },
    });
    const child = logger.child({ requestId: REQUEST_ID });
    // A trace id whose hex holds ten digits in a row that read as a mobile: an id, left alone.
    child.setBindings({ traceId: "a9876543210bcdef0123456789abcdef" });
    child.setBindings({ clientId: "bench-client", merchantTransactionId: "SPCBL2308181502437743aQaHNGxZM" });
    const upstream = [
      { endpoint: "cibilGenerateOtp", outcome: "OK", durationMs: 3.5, httpStatus: 200, upstreamCode: "SPC-200" },
    ];
    logAccess(
      child,
      undefined,
      "POST",
      "/graphql",
      200,
      { operation: "CibilGenerateOtp", result: "OK" },
      upstream,
      4.2,
    );
    const line = access[0];
    const raw = JSON.stringify(JSON.parse(line)) + "\n";
    expect(line).toBe(raw);
    expect(line).toContain('"merchantTransactionId":"SPCBL2308181502437743aQaHNGxZM"');
    expect(line).toContain(`"requestId":"${REQUEST_ID}"`);
    expect(line).toContain('"traceId":"a9876543210bcdef0123456789abcdef"');
  });
});

/**
 * An identifier's shape was an exemption of its own: a UUID, or 32 or 16 lower-case hex digits, standing alone, kept
 * its digits anywhere in a line, so a client's or AOPay's text shaped like one passed with the number readable (all
 * of these did, in every place below). Only the ids the server writes, under their keys, stay whole (the next block).
 */
const ID_SHAPED: [string, string][] = [
  ["M_9876543210abcdef", "9876543210"],
  ["m_9876543210abcdef", "9876543210"],
  ["9876543210abcdef", "9876543210"],
  ["234123412346abcd", "234123412346"],
  ["a9876543210bcdef0123456789abcdef", "9876543210"],
  ["68f74483-ff9b-4abc-9876-543210abcdef", "9876543210"],
  ["0e1f2a3b-4c5d-4e6f-8a7b-234123412346", "234123412346"],
  ["0E1F2A3B-4C5D-4E6F-8A7B-234123412346", "234123412346"],
];

describe("a number in a text shaped like an identifier: masked wherever a client or AOPay can put it", () => {
  const ID_PLACES: [string, (log: Logger, text: string) => void][] = [
    ...PLACES,
    ["alone as the message", (log, t) => log.info(t)],
    ["alone as a field", (log, t) => log.info({ ref: t }, "noted")],
    ["a requestId field of another shape", (log, t) => log.info({ requestId: t.slice(0, 16) }, "noted")],
    ["a traceId field of another shape", (log, t) => log.info({ traceId: `${t}`.padEnd(33, "0") }, "noted")],
    ["an array", (log, t) => log.info({ note: [t, `m_${t.slice(0, 16)}`] }, "noted")],
    ["the clientId binding", (log, t) => log.child({ requestId: REQUEST_ID, clientId: t }).info("request completed")],
  ];

  it.each(ID_PLACES)("%s", (_place, write) => {
    const shown: string[] = [];
    for (const [text, number] of ID_SHAPED)
      for (const line of written("debug", write, text)) {
        if (strings(JSON.parse(line)).some((v) => readDigits(v).includes(number))) shown.push(`${text}: ${line}`);
      }
    expect(shown).toEqual([]);
  });
});

describe("the server's own identifiers stay whole, under their keys", () => {
  it("the request id, the trace id and the customer references of an access line", () => {
    const lines: string[] = [];
    const log = createLogger({ level: "info", secrets: SECRETS, destination: { write: (l) => void lines.push(l) } });
    // Each holds a run that reads as a mobile or an Aadhaar number, as about 2 % of random ids do.
    const child = log.child({ requestId: REQUEST_ID });
    child.setBindings({ traceId: "a9876543210bcdef0123456789abcdef" });
    // References are letters (protection/customer-refs.ts): nothing in them to mask, no exemption needed.
    const refs = ["m_bcdfghjkmnpqrstv", "a_vtsrqpnmkjhgfdcb", "u_kkkkkkkkkkkkkkkk"];
    logAccess(child, undefined, "POST", "/graphql", 200, { operation: "O", result: "OK", refs }, [], 3.1);
    const parsed = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(parsed).toMatchObject({ requestId: REQUEST_ID, traceId: "a9876543210bcdef0123456789abcdef", refs });
    expect(lines[0]).toBe(JSON.stringify(parsed) + "\n");
  });

  it("a `refs` list in the old hex form is text like any other: a number in it is masked, even on the access line", () => {
    const lines: string[] = [];
    const log = createLogger({ level: "info", secrets: SECRETS, destination: { write: (l) => void lines.push(l) } });
    const refs = ["m_0123456789abcdef", "a_f234123412346abc", "u_9876543210abcdef"];
    logAccess(log, undefined, "POST", "/graphql", 200, { operation: "O", result: "OK", refs }, [], 3.1);
    expect(readDigits(lines[0])).not.toMatch(/234123412346|9876543210/);
    expect((JSON.parse(lines[0]) as { refs: string[] }).refs[0]).toBe("m_0123456789abcdef");
  });
});

describe("a number outside a string: masked, and the line still JSON", () => {
  const lines: string[] = [];
  const log = createLogger({ level: "debug", destination: { write: (l: string) => void lines.push(l) } });

  it.each<[string, unknown, unknown]>([
    ["a mobile", 9876543210, "XXXXXX3210"],
    ["twelve digits from 9 (a mobile after 91, or an Aadhaar number)", 919876543210, "XXXX XXXX 3210"],
    ["an Aadhaar number", 234123412346, "XXXX XXXX 2346"],
    ["a negative one", -9876543210, "-XXXXXXXXXX"],
    ["one in an array", [5, 9876543210], [5, "XXXXXX3210"]],
    ["one nested", { inner: { n: 234123412346 } }, { inner: { n: "XXXX XXXX 2346" } }],
    // Its 13 digits hold a mobile's shape (`7963922742`): masked as any such run; the line's own `time` is not.
    ["an epoch time (13 digits from 1)", 1796392274221, "XXXXXXXXXXXXX"],
    ["a count", 42, 42],
    ["ten digits that are no number's (from 1)", 1234567890, 1234567890],
    ["a fraction", 182.4, 182.4],
  ])("%s", (_name, value, shown) => {
    lines.length = 0;
    log.info({ value, ms: 12 }, "counted");
    log.debug({ value }, "detail");
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      // JSON.parse throws on the line the masks made before: `"value":XXXXXX3210`.
      const parsed = JSON.parse(line) as { value: unknown; time: unknown };
      expect(parsed.value).toEqual(shown);
      expect(typeof parsed.time).toBe("number");
      expect(readDigits(line)).not.toMatch(/9876543210|234123412346/);
    }
  });
});

/**
 * A mobile or an Aadhaar number glued to other digits, in runs of digits alone of every length from 11 to 40: at the
 * run's start, middle and end, the other digits drawn (a fixed seed) so that they hold no number of their own before
 * the glued one is added. Until this round only a run of 10 to 14 digits that was a number whole was masked:
 * `9876543210123456`, `98765432100000000000000000000000` and a traceparent's `…0002341234123460…` passed whole.
 */
describe("a mobile or an Aadhaar number glued to a run of digits", () => {
  let seed = 20261206;
  const digit = (max: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return String(seed % max);
  };
  const CASES: [string, string][] = [];
  for (const number of [MOBILE, AADHAAR])
    for (let length = 11; length <= 40; length++)
      for (const at of ["start", "middle", "end"]) {
        const others = length - number.length;
        if (others <= 0) continue;
        // Digits 0-1 alone: a run of them holds no number's shape, so the glued one is the only number in the run.
        const filler = Array.from({ length: others }, () => digit(2)).join("");
        const cut = at === "start" ? 0 : at === "end" ? others : Math.floor(others / 2);
        CASES.push([number, filler.slice(0, cut) + number + filler.slice(cut)]);
      }
  const LEVELS: Level[] = ["trace", "debug", "info", "warn", "error", "fatal"];
  /** Each place at `level`: the message, a field, a nested key's value, our own ids' keys nested. */
  const atLevel = (level: Level): [string, (log: Logger, text: string) => void][] => [
    ["the message", (log, t) => log[level](`upstream said ${t}`)],
    ["a field's value", (log, t) => log[level]({ note: t }, "noted")],
    ["a nested key's value", (log, t) => log[level]({ upstream: { detail: [{ code: t }] } }, "nested")],
    ["our own ids' keys, nested", (log, t) => log[level]({ err: { requestId: t, traceId: t, refs: [t] } }, "ids")],
  ];
  it("covers every length from 11 to 40, both numbers, three places in the run", () => {
    expect(CASES.length).toBe(2 * 3 * 30 - 3 * 2);
  });

  it.each(LEVELS)("at %s: no line in any place shows the number, and every line parses", (level) => {
    const shown: string[] = [];
    let lines = 0;
    // The spellings' places too (their own levels, the access line), each through a logger at trace.
    const places = [...atLevel(level), ...PLACES.map(([p, w]) => [p, w] as const)];
    for (const [place, write] of places)
      for (const [number, text] of CASES)
        for (const line of written("trace", write, text)) {
          lines++;
          if (strings(JSON.parse(line)).some((s) => readDigits(s).includes(number))) shown.push(`${place}: ${text}`);
        }
    expect(lines).toBeGreaterThan(0);
    expect(`${shown.length} of ${lines} show the number, first ${JSON.stringify(shown[0])}`).toBe(
      `0 of ${lines} show the number, first undefined`,
    );
  });
});

/**
 * The identifiers the scrubber keeps whole (scrub.ts ownId) are kept only as keys of the line itself, where our code
 * writes them, and AOPay's reference only in its documented form (AOPAY_REFERENCE).
 */
describe("our own identifiers' keys: trusted only on the line itself", () => {
  const lines: string[] = [];
  const log = createLogger({ level: "debug", secrets: SECRETS, destination: { write: (l) => void lines.push(l) } });
  const TRACE = "00000000000000002341234123460000";
  const UUID = "68f74483-ff9b-4582-bb53-628173816012";

  it.each<[string, Record<string, unknown>]>([
    ["traceId under err", { err: { traceId: TRACE } }],
    ["traceId nested", { upstream: { body: { traceId: TRACE } } }],
    ["requestId nested", { upstream: { requestId: UUID } }],
    ["refs nested", { upstream: { refs: ["m_234123412346abcd"] } }],
    ["traceId in an array", { list: [{ traceId: TRACE }] }],
    ["merchantTransactionId nested", { upstream: { merchantTransactionId: "SPCBL2308181506522334ZiSHM7bAe" } }],
  ])("%s: masked", (_name, fields) => {
    lines.length = 0;
    log.info(fields, "nested ids");
    const line = lines[0];
    expect(() => JSON.parse(line) as unknown).not.toThrow();
    expect(readDigits(line)).not.toMatch(/2341234123|9876543210|628173816012|2308181506522334/);
  });

  it("only pino's own `time` is passed over: one a binding or a logged object writes is scrubbed", () => {
    lines.length = 0;
    const child = log.child({ time: 9876543210 });
    child.info({ time: "234123412346" }, "a time of someone else's");
    log.info({ time: 98765432101234 }, "a caller's time");
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(() => JSON.parse(line) as unknown).not.toThrow();
      // The line's own time stays a number, first after the level.
      expect(line).toMatch(/^\{"level":"info","time":[0-9]{13},/);
      expect(readDigits(line)).not.toMatch(/9876543210|234123412346/);
    }
  });

  it("AOPay's reference in its documented form stays whole under the request's binding", () => {
    lines.length = 0;
    const child = log.child({ requestId: "68f74483-ff9b-4582-bb53-6281738160bf" });
    child.setBindings({ merchantTransactionId: "SPCBL2308181506522334ZiSHM7bAe" });
    child.info({ note: "SPCBL2308181502437743aQaHNGxZM" }, "upstream answered");
    const parsed = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(parsed.merchantTransactionId).toBe("SPCBL2308181506522334ZiSHM7bAe");
    // The same form under any other key is text like any other: masked.
    expect(parsed.note).toBe("SPCBLXXXXXXXXXXXXXXXXaQaHNGxZM");
  });

  it.each([
    "SPCBL9876543210123456ZiSHM7bAe",
    "SPCBL2308181506522334ZiSHM7bA",
    "XPCBL2308181506522334ZiSHM7bAe",
    "SPCBL2313181506522334ZiSHM7bAe",
    // The form's free digits (four, and the nine when digits) holding a number, or one that runs past the 16 from the
    // time's seconds; a February 31st.
    "SPCBL2308181506529876543210abc",
    "SPCBL230818150652234123412346a",
    "SPCBL230818150659876543210abcd",
    "SPCBL2302311506522334ZiSHM7bAe",
  ])("a reference not in the documented form under the binding is masked: %s", (reference) => {
    lines.length = 0;
    const child = log.child({ requestId: "68f74483-ff9b-4582-bb53-6281738160bf" });
    child.setBindings({ merchantTransactionId: reference });
    child.info("upstream answered");
    const parsed = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(parsed.merchantTransactionId).not.toBe(reference);
    expect(readDigits(String(parsed.merchantTransactionId))).not.toMatch(/[0-9]{10}/);
  });
});
