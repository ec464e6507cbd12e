import { randomUUID } from "node:crypto";
import { nextCibilId } from "../helpers/identifiers";
import { cibilInput, GENERATE_CIBIL_OTP, resultOf } from "../helpers/operations";
import { deletePrefixes, describeWithRedis, REDIS_URL, uniquePrefix } from "../helpers/redis";
import { type RedisProxy, startRedisProxy } from "../helpers/redis-proxy";
import { type GqlResponse, startTestStack, type TestStack } from "../helpers/stack";

/**
 * A repeat of an Idempotency-Key whose record the server could not read (Redis stalled: the command timed out; Redis
 * cut: it never left). The first request under the key may have sent: answered PROTECTION_UNAVAILABLE ("nothing was
 * sent"), the client that then tried a new key sent a second OTP. It is answered OUTCOME_UNKNOWN ("it, or an earlier
 * request with the same key, may have reached AOPay": check, and repeat with the same key); PROTECTION_UNAVAILABLE's
 * promise is kept for a request nothing can have been sent for (no key). Redis is stalled and cut through a loopback
 * proxy of the test's own, the real Redis behind it.
 */
describeWithRedis("an Idempotency-Key whose record cannot be read", () => {
  let proxy: RedisProxy;
  let t: TestStack;
  const prefix = uniquePrefix();
  beforeAll(async () => {
    proxy = await startRedisProxy(REDIS_URL as string);
    t = await startTestStack({ REDIS_URL: proxy.url, REDIS_KEY_PREFIX: prefix, HMAC_SECRET: "u".repeat(32) });
  });
  afterAll(async () => {
    await t?.stop();
    await proxy?.close();
    await deletePrefixes([prefix]);
  });
  afterEach(() => proxy.restore());

  const generate = (cibilId: string, headers: Record<string, string> = {}) =>
    t.gql(GENERATE_CIBIL_OTP, cibilInput(cibilId), headers);
  const answer = (res: GqlResponse) => resultOf(res.body, "generateCibilOtp");
  /** The same request again, every 200 ms for up to 5 s, until `done` says so (Redis answering again). */
  const until = async (send: () => Promise<GqlResponse>, done: (res: GqlResponse) => boolean) => {
    const end = Date.now() + 5_000;
    for (;;) {
      const res = await send();
      if (done(res) || Date.now() > end) return res;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };

  it.each([
    ["stalled (the command timed out)", () => proxy.stall()],
    ["cut (the command never left)", () => proxy.cut()],
  ])(
    "Redis %s: a repeat of a key that sent is told OUTCOME_UNKNOWN, never that nothing was sent; later it replays",
    async (_, fail) => {
      const cibilId = nextCibilId();
      const key = { "idempotency-key": randomUUID() };
      const first = await generate(cibilId, key);
      expect(answer(first).__typename).toBe("CibilOtpChallenge");
      const calls = t.simulator?.calls();

      fail();
      const repeat = await generate(cibilId, key);
      expect(answer(repeat)).toMatchObject({
        __typename: "OutcomeUnknown",
        code: "OUTCOME_UNKNOWN",
        retryable: false,
        message: expect.stringContaining("or an earlier one with the same Idempotency-Key") as unknown,
      });
      // Not a replay: nothing was read.
      expect(repeat.headers["idempotent-replayed"]).toBeUndefined();
      expect(
        t.logs
          .records()
          .filter((r) => r.requestId === repeat.headers["x-request-id"])
          .at(-1),
      ).toMatchObject({
        msg: "request completed",
        result: "OUTCOME_UNKNOWN",
        idempotency: "unread",
      });

      proxy.restore();
      const later = await until(
        () => generate(cibilId, key),
        (res) => res.headers["idempotent-replayed"] === "true",
      );
      expect(later.body).toEqual(first.body);
      expect(t.simulator?.calls()).toBe(calls);
    },
    20_000,
  );

  it("a new key while Redis is stalled is told the same (the server cannot tell it from a repeat); the same key later sends once", async () => {
    const cibilId = nextCibilId();
    const key = { "idempotency-key": randomUUID() };
    const calls = t.simulator?.calls() ?? 0;
    proxy.stall();
    expect(answer(await generate(cibilId, key)).code).toBe("OUTCOME_UNKNOWN");
    proxy.restore();
    // The claim that timed out may run late in Redis: it is freed by its token (send-guard.ts), so the same key sends.
    const sent = await until(
      () => generate(cibilId, key),
      (res) => answer(res).__typename === "CibilOtpChallenge",
    );
    expect(answer(sent).__typename).toBe("CibilOtpChallenge");
    expect(sent.headers["idempotent-replayed"]).toBeUndefined();
    const replay = await generate(cibilId, key);
    expect(replay.headers["idempotent-replayed"]).toBe("true");
    expect(t.simulator?.calls()).toBe(calls + 1);
  }, 20_000);

  it("without a key nothing can have been sent: PROTECTION_UNAVAILABLE, as it says", async () => {
    const calls = t.simulator?.calls();
    proxy.stall();
    const refused = answer(await generate(nextCibilId()));
    expect(refused).toMatchObject({
      __typename: "ProtectionUnavailable",
      code: "PROTECTION_UNAVAILABLE",
      message: expect.stringContaining("nothing was sent") as unknown,
    });
    expect(t.simulator?.calls()).toBe(calls);
  }, 20_000);
});
