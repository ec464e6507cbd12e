import { randomUUID } from "node:crypto";
import type Redis from "ioredis";
import type { FakeUpstream } from "../helpers/fake-upstream";
import { holdingUpstream, until } from "../helpers/holding-upstream";
import { nextAadhaar, nextAepsRegistration, nextMobile } from "../helpers/identifiers";
import { aepsInput, RESEND_AEPS_OTP, resultOf } from "../helpers/operations";
import { connectRedis, deleteKeys, describeWithRedis, uniquePrefix } from "../helpers/redis";
import { type GqlResponse, startStackOnFakeUpstream, type TestStack } from "../helpers/stack";

/**
 * Redis loses what the server wrote while an OTP send with an Idempotency-Key is upstream (a restart without
 * persistence, a failover to a replica the last writes had not reached, a flush): the key's pending record and the
 * destination's budgets are gone when AOPay answers. Before, storing the result found no record and wrote nothing,
 * silently: the client's repeat of the same key (what a lost answer calls for) took the key as new and AOPay sent a
 * second SMS. Now the result is written again (and a warning says so), so the repeat replays it.
 * Real server, real Redis (its own prefix, deleted as Redis would lose it), a fake AOPay holding its answer.
 */
describeWithRedis("an Idempotency-Key whose record Redis lost while the send was upstream", () => {
  let upstream: FakeUpstream;
  let t: TestStack;
  let stop: (() => Promise<void>) | undefined;
  let redis: Redis;
  const prefix = uniquePrefix();

  beforeAll(async () => {
    redis = await connectRedis();
  });
  // A server and a scripted AOPay per test.
  beforeEach(async () => {
    ({ upstream, t, stop } = await startStackOnFakeUpstream({
      env: { REDIS_URL: process.env.REDIS_URL as string, REDIS_KEY_PREFIX: prefix, HMAC_SECRET: "l".repeat(32) },
    }));
  });
  afterEach(async () => {
    await stop?.();
    stop = undefined;
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    await redis.quit();
  });

  const input = () => aepsInput(nextMobile(), { ...nextAepsRegistration(), aadhaar: nextAadhaar() });
  const send = (variables: ReturnType<typeof aepsInput>, key: string): Promise<GqlResponse> =>
    t.gql(RESEND_AEPS_OTP, variables, { "idempotency-key": key });

  /** The log lines whose `otpSend.idempotency` is `what`. */
  const linesSaying = (what: string) =>
    t.logs.records().filter((r) => (r.otpSend as { idempotency?: string } | undefined)?.idempotency === what);

  /** Every key of this server, as a Redis restart without persistence would lose them. */
  async function loseEverything(): Promise<number> {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    return keys.length;
  }

  it("the result is stored again: a repeat of the key replays it and AOPay is called once", async () => {
    const key = randomUUID();
    const variables = input();
    const held = holdingUpstream(upstream);
    const first = send(variables, key);
    await until("the send to reach the upstream", () => held.held.length === 1);
    // The pending record and the destination's budgets were there: this is what is lost.
    expect((await redis.keys(`${prefix}*idem:*`)).length).toBe(1);
    expect(await loseEverything()).toBeGreaterThan(1);
    held.release();
    expect(resultOf((await first).body, "resendAepsOtp").__typename).toBe("AepsOtpResent");

    const repeat = await send(variables, key);
    expect(resultOf(repeat.body, "resendAepsOtp")).toMatchObject({ __typename: "AepsOtpResent" });
    expect(repeat.headers["idempotent-replayed"]).toBe("true");
    expect(upstream.calls).toHaveLength(1);

    const warnings = linesSaying("restored");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: "warn", otpSend: { field: "resendAepsOtp" } });
    // Named by the field alone: no identifier, no key.
    expect(JSON.stringify(warnings[0])).not.toContain(variables.input.mobile);
    expect(JSON.stringify(warnings[0])).not.toContain(key);
  });

  it("a repeat that came while the record was lost took the key: the first result is not written over it, and is counted", async () => {
    const key = randomUUID();
    const variables = input();
    const held = holdingUpstream(upstream);
    const first = send(variables, key);
    await until("the first send to reach the upstream", () => held.held.length === 1);
    await loseEverything();
    // Nothing can tell this repeat from a new request: it takes the key and is sent (the loss's own cost).
    const second = send(variables, key);
    await until("the second send to reach the upstream", () => held.held.length === 2);
    held.release();
    expect(resultOf((await first).body, "resendAepsOtp").__typename).toBe("AepsOtpResent");
    expect(resultOf((await second).body, "resendAepsOtp").__typename).toBe("AepsOtpResent");

    const third = await send(variables, key);
    expect(third.headers["idempotent-replayed"]).toBe("true");
    expect(upstream.calls).toHaveLength(2);
    const superseded = linesSaying("superseded");
    expect(superseded).toHaveLength(1);
    expect(superseded[0]).toMatchObject({ level: "error" });
    const metrics = await fetch(t.stack.app.metricsUrl as string).then((r) => r.text());
    expect(metrics).toMatch(/aopay_unrecorded_writes_total\{operation="resendAepsOtp"\} 1\b/);
  });
});
