import { createLoaders } from "../../../src/graphql/loaders";
import { createLogger } from "../../../src/logging/logger";
import { summaryLines } from "../../../src/logging/summarised";
import { consentKey } from "../../../src/protection/consent";
import { MemoryConsentStore } from "../../../src/protection/consent-store";
import { ProtectionStoreError } from "../../../src/protection/errors";
import { ClientShareFullError, MemoryStoreFullError } from "../../../src/protection/memory-counters";
import { NO_OBSERVER } from "../../../src/protection/observer";
import type { OtpThrottle } from "../../../src/protection/otp-throttle";
import { refuseForStoreFailure } from "../../../src/protection/store-failure";
import { LogCapture } from "../../helpers/log-capture";
import { hasher, request, setup } from "../../helpers/send-guard";

/**
 * A throttle store's failure is sorted once (protection/store-failure.ts), for the write path (send-guard.ts) and the
 * read budgets (graphql/loaders.ts): a client at its share is counted as over share only, a full table as unavailable
 * with no error line, anything else as unavailable with a summarised error line. Both callers are driven here with a
 * throttle that throws each kind, and must sort it the same way.
 */
const KINDS = {
  "over-share": () => new ClientShareFullError("throttle"),
  full: () => new MemoryStoreFullError("throttle"),
  unavailable: () => new ProtectionStoreError("throttle", new Error("redis down")),
} as const;
type Kind = keyof typeof KINDS;

interface Seen {
  overShare: string[];
  unavailable: string[];
  errorLines: number;
}

const throwing = (kind: Kind): Pick<OtpThrottle, "reserve"> => ({
  reserve: () => {
    throw KINDS[kind]();
  },
});

async function send(kind: Kind): Promise<Seen & { outcome: string; calls: number }> {
  const seen: Seen = { overShare: [], unavailable: [], errorLines: 0 };
  const { guard } = setup({
    throttle: throwing(kind),
    observe: {
      ...NO_OBSERVER,
      protectionUnavailable: (field) => seen.unavailable.push(field),
      overShare: (field, table) => seen.overShare.push(`${field}:${table}`),
    },
  });
  const r = request();
  const outcome = await guard.run(r.req);
  seen.errorLines = r.log.records().filter((l) => l.level === "error").length;
  return { ...seen, outcome: outcome.kind, calls: r.calls.length };
}

async function read(kind: Kind): Promise<Seen & { typename: string; calls: number }> {
  const seen: Seen = { overShare: [], unavailable: [], errorLines: 0 };
  const consent = new MemoryConsentStore();
  await consent.grant(consentKey(hasher, "app", "102277100"), 60_000);
  let calls = 0;
  const logs = new LogCapture();
  const loaders = createLoaders({
    aopay: {
      cibil: {
        creditHistory: async () => {
          calls++;
          throw new Error("not reached");
        },
      },
    } as never,
    consent,
    hasher,
    readBudget: throwing(kind),
    unavailable: (field) => seen.unavailable.push(field),
    overShare: (field, table) => seen.overShare.push(`${field}:${table}`),
    ip: "203.0.113.7",
    clientId: "app",
    log: createLogger({ level: "debug", destination: logs }),
    callOptions: () => ({}) as never,
    responseHeaders: new Map(),
  });
  const member = await loaders.creditHistory.load("102277100");
  seen.errorLines = logs.records().filter((l) => l.level === "error").length;
  return { ...seen, typename: member.constructor.name, calls };
}

describe("a throttle store's failure, sorted once for sends and reads", () => {
  it.each([
    ["over-share", { overShare: 1, unavailable: 0, errorLines: 0 }],
    ["full", { overShare: 0, unavailable: 1, errorLines: 0 }],
    ["unavailable", { overShare: 0, unavailable: 1, errorLines: 1 }],
  ] as const)("%s: counted and logged alike by the send guard and the read budgets", async (kind, expected) => {
    const s = await send(kind);
    const r = await read(kind);
    expect(s.outcome).toBe("unavailable");
    expect(s.calls).toBe(0);
    expect(r.typename).toBe("ProtectionUnavailable");
    expect(r.calls).toBe(0);
    for (const [seen, field] of [
      [s, "generateCibilOtp"],
      [r, "cibilCreditHistory"],
    ] as const) {
      expect(seen.overShare).toEqual(expected.overShare ? [`${field}:throttle`] : []);
      expect(seen.unavailable).toEqual(expected.unavailable ? [field] : []);
      expect(seen.errorLines).toBe(expected.errorLines);
    }
  });

  it("an unreachable store's line is summarised: one per interval, then the count of those left out", () => {
    const logs = new LogCapture();
    const log = createLogger({ level: "debug", destination: logs });
    let t = 0;
    const summary = summaryLines(log, { level: "error", perInterval: 1, head: (n) => `${n} more`, now: () => t });
    const unavailable: string[] = [];
    const sinks = {
      field: "f",
      unavailable: (f: string) => unavailable.push(f),
      summary,
      reason: "otp send" as const,
      log,
      message: "down",
    };
    const error = KINDS.unavailable();
    expect([1, 2, 3].map(() => refuseForStoreFailure(error, sinks))).toEqual(Array(3).fill("unavailable"));
    t = 10_000;
    refuseForStoreFailure(error, sinks);
    expect(unavailable).toHaveLength(4);
    expect(logs.records().map((l) => [String(l.msg).slice(0, 6), l.suppressed])).toEqual([
      ["down", undefined],
      ["2 more", 2],
      ["down", undefined],
    ]);
    // A full table or a client at its share does not take from the summary (nor write a line).
    expect(refuseForStoreFailure(KINDS.full(), sinks)).toBe("full");
    expect(refuseForStoreFailure(KINDS["over-share"](), sinks)).toBe("over-share");
    t = 20_000;
    refuseForStoreFailure(error, sinks);
    expect(logs.records()).toHaveLength(4);
    expect(logs.records().at(-1)).toMatchObject({ msg: "down" });
  });
});
