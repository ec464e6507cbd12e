import pino from "pino";
import { createLogger, type Logger, lineWriter, requestLogger, serialisedBindings } from "../../../src/logging/logger";
import { LogCapture } from "../../helpers/log-capture";

/**
 * A request's logger is made by requestLogger (logging/logger.ts), not by pino's `child`, since this round
 * (docs/performance-runs.md): every line it writes, and everything read from it, must be what pino's child of the same
 * parent with the same bindings gives. Each case makes both, side by side, on one parent and one capture.
 */

/** Text a binding could carry: JSON's escapes, unicode, lone surrogates, long, empty. */
const VALUES = [
  "3f6c1d2e-8a4b-4c6d-9e0f-1a2b3c4d5e6f",
  "",
  'quo"te',
  "back\\slash",
  "new\nline",
  "nul\u0000char",
  "\u007f del",
  "uni ✓ é 漢字",
  "emoji 😀",
  "lone \ud800 high",
  "lone \udc00 low",
  "x".repeat(101),
  'long "quoted" ' + "y".repeat(120),
  "SPCBL1234567890123456",
];

/** The parents a server makes: the root, a cluster worker's base fields, a cluster worker's child (cluster.ts). */
function parents(capture: LogCapture): Array<[string, Logger]> {
  return [
    ["the root", createLogger({ level: "info", destination: capture })],
    ["base fields", createLogger({ level: "debug", destination: capture, base: { worker: 2, pid: 4242 } })],
    ["a child", createLogger({ level: "info", destination: capture }).child({ worker: 1 })],
  ];
}

const CHINDINGS = pino.symbols.chindingsSym;
const chindings = (log: Logger): string => (log as unknown as Record<symbol, string>)[CHINDINGS];

/** What a logger writes and says of itself, its lines' times masked. */
function observed(log: Logger, capture: LogCapture): unknown {
  capture.lines.length = 0;
  log.info("plain");
  log.info({ field: 1, otp: "918273" }, "with fields");
  log.warn({ err: new Error("boom") }, "with an error");
  log.debug("debug");
  log.child({ component: "inner" }).info("from a child of it");
  lineWriter(log)?.('{"level":"info","msg":"whole line"}\n');
  return {
    lines: capture.lines.map((line) => line.replace(/"time":\d+/, '"time":0').replace(/"stack":"[^"]*"/, "")),
    chindings: chindings(log),
    serialised: serialisedBindings(log),
    bindings: log.bindings(),
    level: log.level,
    debugEnabled: log.isLevelEnabled("debug"),
    hasLineWriter: lineWriter(log) !== undefined,
  };
}

describe("requestLogger writes what pino's child writes", () => {
  it.each(VALUES.map((v) => [JSON.stringify(v).slice(0, 40), v]))(
    "a request id, a caller's id, then setBindings: %s",
    (_, value) => {
      const capture = new LogCapture();
      for (const [name, parent] of parents(capture)) {
        const bindings = { requestId: value, callerRequestId: `${value}!` };
        const ours = requestLogger(parent, bindings);
        const theirs = parent.child(bindings);
        expect([name, chindings(ours)]).toEqual([name, chindings(theirs)]);
        for (const log of [ours, theirs]) {
          log.setBindings({ clientId: value });
          log.setBindings({ merchantTransactionId: `m${value}`, traceId: value });
        }
        expect([name, observed(ours, capture)]).toEqual([name, observed(theirs, capture)]);
      }
    },
  );

  it("bindings pino serialises its own way: not strings, option names, err, an inherited key", () => {
    const capture = new LogCapture();
    // A key requestLogger has already written (requestId), inherited: pino skips it.
    const inherited = Object.assign(Object.create({ requestId: "p" }) as Record<string, string>, { own: "o" });
    const cases: Array<Record<string, unknown>> = [
      { requestId: "r", count: 3 },
      { requestId: "r", nothing: undefined },
      { requestId: "r", nested: { a: "b" } },
      { requestId: "r", level: "debug" },
      { requestId: "r", err: "not an error" },
      { "weird key": "v", 'quo"te': "v", ["k".repeat(101)]: "v" },
      inherited,
    ];
    for (const [name, parent] of parents(capture)) {
      for (const bindings of cases) {
        const strings = { requestId: "r" };
        const ours = requestLogger(parent, bindings as Record<string, string>);
        const theirs = parent.child(bindings);
        expect([name, bindings, chindings(ours)]).toEqual([name, bindings, chindings(theirs)]);
        const oursSet = requestLogger(parent, strings);
        const theirsSet = parent.child(strings);
        oursSet.setBindings(bindings);
        theirsSet.setBindings(bindings);
        expect([name, bindings, observed(oursSet, capture)]).toEqual([name, bindings, observed(theirsSet, capture)]);
      }
    }
  });

  it("a parent with serializers, redaction or a bindings formatter of its own: the same lines", () => {
    const capture = new LogCapture();
    for (const parent of [
      // pino's formatters.bindings runs on the root's base fields only: a child's children are not passed through it.
      pino({ formatters: { bindings: (b) => ({ ...b, formatted: true }) } }, capture),
      pino({ serializers: { requestId: (v: string) => `<${v}>` } }, capture),
      pino({ redact: ["requestId"] }, capture),
    ]) {
      const ours = requestLogger(parent, { requestId: "r1" });
      const theirs = parent.child({ requestId: "r1" });
      // A string (requestLogger's own path), then a number (pino's setBindings, through the child's formatters).
      for (const log of [ours, theirs]) {
        log.setBindings({ clientId: "c" });
        log.setBindings({ attempt: 2 });
      }
      expect(observed(ours, capture)).toEqual(observed(theirs, capture));
    }
  });

  it("each request's bindings are its own; the parent's level, read through, is the request's", () => {
    const capture = new LogCapture();
    const parent = createLogger({ level: "info", destination: capture });
    const a = requestLogger(parent, { requestId: "a" });
    const b = requestLogger(parent, { requestId: "b" });
    a.setBindings({ clientId: "ca" });
    expect(a.bindings()).toEqual({ service: "aopay-graphql", requestId: "a", clientId: "ca" });
    expect(b.bindings()).toEqual({ service: "aopay-graphql", requestId: "b" });
    expect(parent.bindings()).toEqual({ service: "aopay-graphql" });
    parent.level = "debug";
    expect([a.level, a.isLevelEnabled("debug")]).toEqual(["debug", true]);
    expect(parent.child({ requestId: "c" }).level).toBe("debug");
  });
});

describe("a key bound again replaces its value (pino's setBindings appends it twice)", () => {
  /** How many times `"key":` stands as a key on a raw line (a value's `"` is escaped: it cannot look so). */
  const keyCount = (line: string, key: string) => line.split(`"${key}":`).length - 1;

  // Not a value holding a run of digits: the line's scrubber rewrites it (pii/scrub.ts), which is not this test's.
  const values = VALUES.filter((v) => !/[0-9]{10}/.test(v));
  it.each(values.map((v) => [JSON.stringify(v).slice(0, 40), v]))("each line holds each key once: %s", (_, value) => {
    const capture = new LogCapture();
    for (const [name, parent] of parents(capture)) {
      capture.lines.length = 0;
      const log = requestLogger(parent, { requestId: "r" });
      // As a submitCibilOtp that reads the report: AOPay's reference of each call bound in turn (aopay/client.ts).
      log.setBindings({ merchantTransactionId: value, clientId: "c" });
      log.info("after the first call");
      log.setBindings({ merchantTransactionId: `second ${value}` });
      log.setBindings({ clientId: value, traceId: "t" });
      log.info("after the second call");
      log.child({ component: "inner" }).info("from a child");
      const [first, second, child] = capture.lines;
      for (const line of [first, second, child])
        for (const key of ["merchantTransactionId", "clientId", "requestId"])
          expect([name, key, keyCount(line, key)]).toEqual([name, key, 1]);
      expect([name, JSON.parse(first)]).toMatchObject([name, { merchantTransactionId: value, clientId: "c" }]);
      const replaced = { merchantTransactionId: `second ${value}`, clientId: value, traceId: "t", requestId: "r" };
      expect([name, JSON.parse(second)]).toMatchObject([name, replaced]);
      expect([name, JSON.parse(child)]).toMatchObject([name, { ...replaced, component: "inner" }]);
      expect([name, log.bindings()]).toMatchObject([name, replaced]);
    }
  });
});
