import { Writable } from "node:stream";
import type { Level } from "pino";
import { type AccessSummary, logAccess, type UpstreamCallSummary } from "../../../src/logging/access-log";
import { createLogger, type Logger } from "../../../src/logging/logger";
import { logAccess as frozenLogAccess } from "../../fixtures/frozen/access-log-21554c8";

/**
 * The access line at info is made by access-log.ts itself since this round (docs/performance-runs.md), where pino's
 * generic path serialised a fields object. Its bytes are a contract (docs/operations.md's queries, the access-log
 * tests): the same summaries through today's logAccess and the frozen copy of 21554c8
 * (test/fixtures/frozen/access-log-21554c8.ts) must write the same bytes, through the same loggers (production JSON at
 * info and debug, a cluster worker's base fields, pretty lines for a developer, a level that writes no access line),
 * and count the same refusals.
 */

const SECRETS = ["sk_live_9f8e7d6c5b4a39281706", "partner-REG-4471-secret", "AOP-554", "CompanyCode-7781-xyz"];

/** Text a field could carry: JSON's escapes, unicode, lone surrogates, long, PII shapes and secrets, glued or not. */
const ODD = [
  "",
  "plain",
  'quo"te',
  "back\\slash",
  '\\"both\\',
  "new\nline",
  "tab\there",
  "nul\u0000char",
  "\u001f",
  "\u007f del",
  "uni ✓ é 漢字 ९८७६५४३२१०",
  "emoji 😀",
  "lone \ud800 high",
  "lone \udc00 low",
  "\u2028line\u2029sep",
  "9876543210",
  "call +91 98765 43210 now",
  "\\n9876543210",
  "2341 2341 2346",
  "234123412346",
  "ABCPE1234F",
  "abcpe1234f",
  "mail a.b@example.com",
  "x".repeat(100),
  "y".repeat(101),
  'q"'.repeat(60),
  "é".repeat(150),
  `key ${SECRETS[0]} inside`,
  SECRETS[2],
  "SPCBL2308181502437743aQaHNGxZM",
  "m_3f9a0c1d2e4b5a69",
  "%39876543210",
  "ResendAepsOtp",
  "OTP_COOLDOWN,AepsOtpResent",
];

/** A small seeded generator (mulberry32): the same cases on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rnd = random(0x5eed);
const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)];
const maybe = <T>(value: () => T): T | undefined => (rnd() < 0.5 ? value() : undefined);
const text = () => pick(ODD);

function summary(): AccessSummary | null | undefined {
  const r = rnd();
  if (r < 0.08) return null;
  if (r < 0.12) return undefined;
  const s: AccessSummary = {
    operation: rnd() < 0.2 ? null : text(),
    result: rnd() < 0.2 ? null : pick([...ODD, "INTERNAL_SERVER_ERROR", "UNAUTHENTICATED"]),
  };
  const resolved = maybe(text);
  if (resolved !== undefined) s.resolved = resolved;
  const refused = maybe(text);
  if (refused !== undefined) s.refused = refused;
  const throttled = maybe(text);
  if (throttled !== undefined) s.throttled = throttled;
  const idempotency = maybe(() => pick(["replayed", "in-flight", "replayed,in-flight", ...ODD]));
  if (idempotency !== undefined) s.idempotency = idempotency;
  if (rnd() < 0.5) s.refs = rnd() < 0.2 ? [] : Array.from({ length: 1 + Math.floor(rnd() * 3) }, text);
  // Never on the line: the HTTP layer's own note.
  if (rnd() < 0.1) s.failed = true;
  return s;
}

function upstream(): UpstreamCallSummary[] | null | undefined {
  const r = rnd();
  if (r < 0.2) return null;
  if (r < 0.25) return undefined;
  if (r < 0.3) return [];
  return Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => {
    const call: UpstreamCallSummary = {
      endpoint: pick(["aepsResendOtp", "cibilGenerateOtp", ...ODD]),
      outcome: pick(["OK", "REJECTED", "TIMEOUT", "CIRCUIT_OPEN", ...ODD]),
      durationMs: pick([0, 1.8374, 250.05, 30_000.96, Number.NaN, 1e21]),
    };
    if (rnd() < 0.7) call.httpStatus = pick([200, 400, 502, 503]);
    if (rnd() < 0.6) call.upstreamCode = text();
    return call;
  });
}

interface Case {
  error: Error | undefined;
  method: string;
  path: string;
  status: number;
  graphql: AccessSummary | null | undefined;
  upstream: UpstreamCallSummary[] | null | undefined;
  elapsedMs: number;
  clientGone: boolean;
  bindings: Record<string, string>;
  later: Record<string, string> | undefined;
}

function cases(n: number): Case[] {
  return Array.from({ length: n }, () => {
    const bindings: Record<string, string> = { requestId: pick(["68f74483-ff9b-4582-bb53-6281738160bf", ...ODD]) };
    if (rnd() < 0.3) bindings.callerRequestId = pick(["5b0c3f4e-8a2b-4c1d-9e7f-0a1b2c3d4e5f", ...ODD]);
    const later: Record<string, string> = {};
    if (rnd() < 0.7) later.clientId = text();
    if (rnd() < 0.3) later.merchantTransactionId = text();
    const message = `upstream said ${text()}`;
    return {
      error: rnd() < 0.1 ? Object.assign(new Error(message), { code: text() }) : undefined,
      method: pick(["POST", "GET", "OPTIONS", "DELETE"]),
      path: pick(["/graphql", "(no route)", "/healthz", "/graphql/:id"]),
      status: pick([200, 204, 400, 401, 404, 408, 413, 429, 500, 502, 503]),
      graphql: summary(),
      upstream: upstream(),
      elapsedMs: pick([0, 0.4, 3.5, 2.5, 12_345.678, Number.NaN, Number.POSITIVE_INFINITY]),
      clientGone: rnd() < 0.2,
      bindings,
      later: Object.keys(later).length > 0 ? later : undefined,
    };
  });
}

/** Writes every case through `write` with a fresh child logger per case, as a request does; the bytes and counts. */
function run(
  make: (destination: Writable | { write(line: string): void }) => Logger,
  write: typeof logAccess,
  all: Case[],
): { lines: string[]; counted: string[] } {
  const lines: string[] = [];
  const counted: string[] = [];
  const logger = make({ write: (line: string) => void lines.push(line) });
  for (const c of all) {
    const log = logger.child(c.bindings);
    if (c.later) log.setBindings(c.later);
    write(
      log,
      c.error,
      c.method,
      c.path,
      c.status,
      c.graphql,
      c.upstream,
      c.elapsedMs,
      (status, code) => counted.push(`${status} ${code}`),
      c.clientGone,
    );
  }
  return { lines, counted };
}

const ALL = cases(3_000);
const NOW = 1_796_392_274_221;

beforeEach(() => {
  jest.spyOn(Date, "now").mockReturnValue(NOW);
});
afterEach(() => jest.restoreAllMocks());

describe.each<[string, Level, Record<string, string | number> | undefined]>([
  ["production, info", "info", undefined],
  ["production, debug", "debug", undefined],
  ["a cluster worker, info", "info", { worker: 2, pid: 4242 }],
  ["warn (no access line at info)", "warn", undefined],
])("the access line against 21554c8's, byte for byte: %s", (_name, level, base) => {
  const make = (destination: { write(line: string): void }) =>
    createLogger({ level, secrets: SECRETS, destination, base });

  it("writes the same bytes and counts the same refusals for 3,000 summaries", () => {
    const now = run(make, logAccess, ALL);
    const then = run(make, frozenLogAccess, ALL);
    expect(now.counted).toEqual(then.counted);
    expect(now.lines.length).toBe(then.lines.length);
    for (let i = 0; i < then.lines.length; i++) expect(now.lines[i]).toBe(then.lines[i]);
    if (level !== "warn") expect(now.lines.length).toBe(ALL.length);
    else expect(now.lines.length).toBe(ALL.filter((c) => c.error).length);
  });
});

// pino-pretty's stream reads pino's metadata of each line (needsMetadataGsym), so the access line goes through pino's
// own path there (logger.ts WRITE_LINE is not set): the same lines still.
it("writes the same pretty lines for a developer's terminal (LOG_FORMAT=pretty)", async () => {
  const all = ALL.slice(0, 300);
  const collect = async (write: typeof logAccess) => {
    const chunks: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        chunks.push(String(chunk));
        done();
      },
    });
    run(() => createLogger({ level: "info", format: "pretty", secrets: SECRETS, destination }), write, all);
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    return chunks.join("");
  };
  const now = await collect(logAccess);
  const then = await collect(frozenLogAccess);
  expect(now.split("\n").length).toBeGreaterThan(all.length);
  expect(now).toBe(then);
});
