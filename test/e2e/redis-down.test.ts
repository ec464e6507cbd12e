import { createHook } from "node:async_hooks";
import { createServer } from "node:net";
import { request } from "undici";
import {
  aepsInput,
  CIBIL_CREDIT_HISTORY,
  cibilInput,
  GENERATE_CIBIL_OTP,
  REGISTER_CIBIL_CUSTOMER,
  RESEND_AEPS_OTP,
  resultOf,
} from "../helpers/operations";
import { registrationInput } from "../helpers/identifiers";
import { startTestStack, type TestStack } from "../helpers/stack";

/** A production-like stack whose REDIS_URL points at a loopback port where nothing listens. */
async function stackWithDeadRedis(env: Record<string, string> = {}): Promise<TestStack> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  return startTestStack({ REDIS_URL: `redis://127.0.0.1:${port}`, HMAC_SECRET: "s".repeat(32), ...env });
}

/** Runs without Redis: REDIS_URL points at a port where nothing listens. */
describe("fail closed when the shared store is unreachable", () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await stackWithDeadRedis();
  });
  afterAll(() => t?.stop());

  it("refuses OTP sends with PROTECTION_UNAVAILABLE and sends nothing", async () => {
    const cibil = resultOf((await t.gql(GENERATE_CIBIL_OTP, cibilInput())).body, "generateCibilOtp");
    expect(cibil).toMatchObject({
      __typename: "ProtectionUnavailable",
      code: "PROTECTION_UNAVAILABLE",
      retryable: true,
    });
    const aeps = resultOf(
      (await t.gql(RESEND_AEPS_OTP, aepsInput(), { "idempotency-key": "k-1" })).body,
      "resendAepsOtp",
    );
    // With a key, its record unread: an earlier request under it may have sent (send-guard.ts #answerUnread).
    expect(aeps).toMatchObject({ __typename: "OutcomeUnknown", code: "OUTCOME_UNKNOWN" });
    expect(t.simulator?.calls()).toBe(0);
    const metrics = await request(t.stack.app.metricsUrl as string);
    expect(await metrics.body.text()).toMatch(
      /^aopay_protection_unavailable_total\{operation="generateCibilOtp"\} 1$/m,
    );
  });

  it("refuses a registration before AOPay: its CIBIL id's mobile could not be remembered", async () => {
    const res = resultOf(
      (await t.gql(REGISTER_CIBIL_CUSTOMER, { input: registrationInput() })).body,
      "registerCibilCustomer",
    );
    expect(res).toMatchObject({ __typename: "ProtectionUnavailable", code: "PROTECTION_UNAVAILABLE", retryable: true });
    expect(t.simulator?.calls("cibil.register")).toBe(0);
  });

  // Redis is shared by every replica: a 503 took them all out of the load balancer at once, whose bare 502/503 then
  // replaced the PROTECTION_UNAVAILABLE above. Ready, saying why sends are refused (READINESS_INCLUDES_REDIS false).
  it("/readyz stays 200 and names the outage, /healthz still answers", async () => {
    const ready = await request(`${t.baseUrl}/readyz`);
    expect(ready.statusCode).toBe(200);
    expect(await ready.body.json()).toEqual({
      status: "redis-unavailable",
      circuits: { cibil: "closed", aeps: "closed" },
    });
    const health = await request(`${t.baseUrl}/healthz`);
    expect(health.statusCode).toBe(200);
    await health.body.dump();
  });

  it("serves requests that need no store", async () => {
    const res = await t.gql("{ serviceInfo { upstream } }");
    expect(res.body.data).toEqual({ serviceInfo: { upstream: "SIMULATOR" } });
  });
});

describe("READINESS_INCLUDES_REDIS=true: the replica leaves the load balancer while Redis is unreachable", () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await stackWithDeadRedis({ READINESS_INCLUDES_REDIS: "true" });
  });
  afterAll(() => t?.stop());

  it("/readyz answers 503 redis-unavailable; sends are still refused, typed", async () => {
    const ready = await request(`${t.baseUrl}/readyz`);
    expect(ready.statusCode).toBe(503);
    expect(await ready.body.json()).toEqual({
      status: "redis-unavailable",
      circuits: { cibil: "closed", aeps: "closed" },
    });
    const cibil = resultOf((await t.gql(GENERATE_CIBIL_OTP, cibilInput())).body, "generateCibilOtp");
    expect(cibil).toMatchObject({ __typename: "ProtectionUnavailable", code: "PROTECTION_UNAVAILABLE" });
  });
});

/**
 * An outage under load must not become a log flood: before, each refused request wrote an error line of its own with
 * the stack (1.5 kB; 1,000 sends with Redis down, 2 MB of log with the access lines), where its access line already
 * says PROTECTION_UNAVAILABLE. Now one line per kind and 10 s, and a summary line with the count of the others.
 */
describe("refusals for an unreachable store are logged as a summary, not a line each", () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await stackWithDeadRedis();
  });
  afterAll(() => t?.stop());

  it("20 refused sends and 5 refused reads: one line of each kind, and an access line per request", async () => {
    for (let i = 0; i < 20; i++) {
      const res = resultOf((await t.gql(RESEND_AEPS_OTP, aepsInput())).body, "resendAepsOtp");
      expect(res.code).toBe("PROTECTION_UNAVAILABLE");
    }
    for (let i = 0; i < 5; i++) {
      const res = resultOf((await t.gql(CIBIL_CREDIT_HISTORY, { cibilId: "102277100" })).body, "cibilCreditHistory");
      expect(res.code).toBe("PROTECTION_UNAVAILABLE");
    }
    // Stopped (the close writes the interval's summary), its log still read.
    await t.stop();
    const records = t.logs.records();
    const lines = (msg: string) => records.filter((r) => r.msg === msg);
    expect(lines("otp send refused: protection store unavailable")).toHaveLength(1);
    // A read's IP attempt (READ_IP_MAX) is taken before its consent is looked up, so with Redis down the read budget's
    // store refuses it first and the consent store is never asked (src/graphql/loaders.ts).
    expect(lines("credit history refused: read budget store unavailable")).toHaveLength(1);
    expect(lines("credit history refused: consent store unavailable")).toHaveLength(0);
    const summaries = records.filter((r) => String(r.msg).startsWith("protection store unavailable: "));
    expect(summaries).toEqual([
      expect.objectContaining({ level: "error", suppressed: 23, notLogged: { "otp send": 19, "read budget": 4 } }),
    ]);
    expect(summaries[0].msg).toMatch(/^protection store unavailable: 23 more requests refused in the last \d+ s/);
    expect(records.filter((r) => r.msg === "request completed" && r.result === "PROTECTION_UNAVAILABLE")).toHaveLength(
      25,
    );
  });
});

/**
 * A stop with Redis unreachable leaves no timer behind that holds the process. The quit fails (no connection) and the
 * disconnect then ends the last attempt's socket, closed already (refused): ioredis destroys a socket that has not
 * closed within disconnectTimeout (2 s by default), a timer its close clears, which never came. That timer held the
 * process 2 s after the stop (an embedding's exit late, and "Jest did not exit" after this file).
 */
describe("a stop with Redis unreachable", () => {
  it("leaves no timer that holds the process", async () => {
    const t = await stackWithDeadRedis();
    // A connection attempt refused by now: its socket has closed.
    const ready = await request(`${t.baseUrl}/readyz`);
    expect(((await ready.body.json()) as { status: string }).status).toBe("redis-unavailable");
    // The timers made while the stack stops. A socket's close takes a few ms, and a timer made before this test's
    // 200 ms fires before it however late the loop runs: one still pending then is one that holds the process.
    type Timer = { hasRef(): boolean; _destroyed: boolean; _idleTimeout: number };
    const made: Timer[] = [];
    const hook = createHook({
      init: (_id, type, _trigger, resource) => {
        if (type === "Timeout") made.push(resource as Timer);
      },
    }).enable();
    try {
      await t.stop();
    } finally {
      hook.disable();
    }
    await new Promise((r) => setTimeout(r, 200));
    // Their delays (ms).
    expect(made.filter((timer) => !timer._destroyed && timer.hasRef()).map((timer) => timer._idleTimeout)).toEqual([]);
  });
});
