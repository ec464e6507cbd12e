import {
  AOPAY_ENDPOINT_NAMES,
  AOPAY_OUTCOMES,
  AopayClient,
  UPSTREAM_LINE_REASONS,
  UPSTREAM_REFUSAL_LINES_PER_INTERVAL,
} from "../../src/aopay/client";
import { AopayError } from "../../src/aopay/errors";
import { issueSendPass } from "../../src/aopay/send-pass";
import { AopayTransport } from "../../src/aopay/transport";
import type { TransportOptions } from "../../src/aopay/transport";
import { createLogger, type Logger } from "../../src/logging/logger";
import { Scrubber } from "../../src/pii/scrub";
import { blackHole, type FakeUpstream, json, raw, startFakeUpstream } from "../helpers/fake-upstream";
import { until } from "../helpers/holding-upstream";
import { WIRE } from "../helpers/endpoint-wire";
import { LogCapture } from "../helpers/log-capture";
import { testTransportOptions } from "../helpers/transport";

const cibil = { cibilId: "102277100", accessToken: "123456542124" };

/** A client of the fake upstream whose lines and summaries go to `log`; its circuits never open, nothing is retried. */
function clientOf(upstream: FakeUpstream, log: Logger, transport: Partial<TransportOptions> = {}): AopayClient {
  return new AopayClient({
    transport: new AopayTransport(testTransportOptions(upstream.url, transport)),
    scrubber: new Scrubber(),
    wire: WIRE,
    registrationMethod: "POST",
    // Never opens here: every call reaches the fake upstream and meets the answer it is given.
    breaker: {
      errorThresholdPercentage: 50,
      volumeThreshold: 100_000,
      resetTimeoutMs: 400,
      rollingWindowMs: 10_000,
      slowCallMs: 5_000,
    },
    retry: { maxRetries: 0, baseDelayMs: 50, maxDelayMs: 200, minAttemptMs: 50 },
    log,
  });
}

async function outcome(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
    return "OK";
  } catch (e) {
    if (e instanceof AopayError) return e.code;
    throw e;
  }
}

/** The summaries' counts by reason (`notLogged`), added up. */
function notLoggedOf(capture: LogCapture): Record<string, number> {
  const notLogged: Record<string, number> = {};
  for (const s of capture.records().filter((r) => /^upstream refused or failed \d+ more calls/.test(String(r.msg))))
    for (const [reason, n] of Object.entries(s.notLogged as Record<string, number>))
      notLogged[reason] = (notLogged[reason] ?? 0) + n;
  return notLogged;
}

/**
 * The upstream attempts' lines are summarised per endpoint and outcome (aopay/client.ts
 * UPSTREAM_REFUSAL_LINES_PER_INTERVAL): a flood of one reason must not hide another reason's first lines, whatever
 * reasons came before it. The summariser counted 16 reasons apart (logging/summarised.ts MAX_SUMMARY_REASONS) of the
 * client's 66: past them, every reason shared `other` and its 10 lines, so that an outage's or a client's first 16
 * reasons, then one of the others flooded, kept AOPay's first OUTCOME_UNKNOWN on another endpoint from being written.
 * Against a real HTTP server (the fake upstream), through the client's transport.
 */
describe("upstream attempts' lines: every endpoint and outcome counted apart", () => {
  let upstream: FakeUpstream;
  let client: AopayClient;
  const capture = new LogCapture();
  const log = createLogger({ level: "debug", destination: capture });
  const pass = () => ({ log, pass: issueSendPass("test") });
  const aeps = { userKey: "K", mobile: "9876543210", aadhaar: "234123412346", primaryKeyId: "P", encodeTxnId: "E" };
  /** One call of each endpoint, by name (AOPAY_ENDPOINT_NAMES). */
  const calls: Record<string, () => Promise<unknown>> = {
    "cibil.register": () =>
      client.cibil.register(
        {
          firstName: "A",
          middleName: null,
          lastName: "B",
          pan: "ABCDE1234F",
          dateOfBirth: "1990-01-31",
          email: "a@example.com",
          mobile: "9876543210",
        },
        pass(),
      ),
    "cibil.generateOtp": () => client.cibil.generateOtp(cibil, pass()),
    "cibil.submitOtp": () =>
      client.cibil.submitOtp({ ...cibil, otp: "123456", questionKey: "Q", answerKey: "A" }, pass()),
    "cibil.creditHistory": () => client.cibil.creditHistory({ cibilId: cibil.cibilId }, { log }),
    "aeps.resendOtp": () => client.aeps.resendOtp(aeps, pass()),
    "aeps.verifyOtp": () => client.aeps.verifyOtp({ ...aeps, otp: "123456" }, pass()),
  };

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    client = clientOf(upstream, log);
  });
  afterAll(async () => {
    await upstream?.close();
  });

  it("counts each reason the client takes apart: endpoint and outcome, and `retried`", () => {
    expect(Object.keys(calls).sort()).toEqual([...AOPAY_ENDPOINT_NAMES].sort());
    // Every outcome but OK, and `retried`, for each endpoint.
    expect(UPSTREAM_LINE_REASONS).toBe(AOPAY_ENDPOINT_NAMES.length * (AOPAY_OUTCOMES.length - 1 + 1));
  });

  it("writes AOPay's first OUTCOME_UNKNOWN after 18 other reasons, one of them flooded", async () => {
    // 18 reasons, each once: AOPay answering 401, an HTML 404, then 429, to every endpoint.
    const answers: Array<[string, Parameters<FakeUpstream["respond"]>[0]]> = [
      ["UPSTREAM_UNAUTHORIZED", json(401, { status: false, message: "Unauthorized" })],
      ["UPSTREAM_BAD_RESPONSE", raw(404, "text/html", "<html>not found</html>")],
      ["UPSTREAM_UNAVAILABLE", json(429, { status: false, message: "slow down" })],
    ];
    for (const [code, answer] of answers) {
      upstream.respond(answer);
      for (const name of AOPAY_ENDPOINT_NAMES) expect([name, await outcome(calls[name])]).toEqual([name, code]);
    }
    // The last reason flooded.
    const FLOOD = 30;
    for (let i = 0; i < FLOOD; i++) expect(await outcome(calls["aeps.verifyOtp"])).toBe("UPSTREAM_UNAVAILABLE");
    // AOPay's first 500 to an OTP send: the OTP may have gone, its line says which request.
    upstream.respond(json(500, { status: false, message: "error" }));
    expect(await outcome(calls["cibil.generateOtp"])).toBe("OUTCOME_UNKNOWN");
    await client.close(0);

    const written = capture.records().filter((r) => r.upstream !== undefined && r.msg !== "request completed");
    const unknown = written.filter(
      (r) =>
        (r.upstream as { endpoint?: string; outcome?: string }).endpoint === "cibil.generateOtp" &&
        (r.upstream as { outcome?: string }).outcome === "OUTCOME_UNKNOWN",
    );
    expect(unknown).toHaveLength(1);
    expect(unknown[0].level).toBe("warn");
    // The flood's: K written, the rest counted under its own reason, none under `other`.
    expect(notLoggedOf(capture)).toEqual({
      "aeps.verifyOtp UPSTREAM_UNAVAILABLE": FLOOD + 1 - UPSTREAM_REFUSAL_LINES_PER_INTERVAL,
    });
    // Each of the 18 first lines written, under its own reason.
    expect(written).toHaveLength(18 + UPSTREAM_REFUSAL_LINES_PER_INTERVAL - 1 + 1);
  });
});

describe("the client's close: the lines of the calls it ends are in the summary it writes", () => {
  it("counts the calls cut at the grace period's end in the summary written by close", async () => {
    // AOPay never answers: every call is in flight when the client closes, and is cut when its grace period ends.
    const upstream = await startFakeUpstream(blackHole);
    const capture = new LogCapture();
    const log = createLogger({ level: "debug", destination: capture });
    const CALLS = UPSTREAM_REFUSAL_LINES_PER_INTERVAL + 5;
    const client = clientOf(upstream, log, { connections: CALLS, queueLimit: CALLS, deadlineMs: 30_000 });
    try {
      const calls = Array.from({ length: CALLS }, () =>
        outcome(() => client.cibil.generateOtp(cibil, { log, pass: issueSendPass("test") })),
      );
      await until("every call sent", () => upstream.calls.length === CALLS);
      await client.close(50);
      // Each cut after it was sent: the OTP may have gone.
      expect(await Promise.all(calls)).toEqual(Array(CALLS).fill("OUTCOME_UNKNOWN"));
      // Written by close, not by the interval's timer (unref'd: at the exit, its count was lost).
      expect(notLoggedOf(capture)).toEqual({
        "cibil.generateOtp OUTCOME_UNKNOWN": CALLS - UPSTREAM_REFUSAL_LINES_PER_INTERVAL,
      });
    } finally {
      await upstream.close();
    }
  });
});
