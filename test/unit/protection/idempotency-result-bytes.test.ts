import type Redis from "ioredis";
import { type IdempotencyStore, RedisIdempotencyStore } from "../../../src/protection/idempotency-store";
import { NO_OBSERVER } from "../../../src/protection/observer";
import { connectRedis, deleteKeys, dumpKeys, itWithRedis, uniquePrefix } from "../../helpers/redis";
import { request, sealer, setup } from "../../helpers/send-guard";

/**
 * An Idempotency-Key's result is bounded by bytes as well as by count (IDEMPOTENCY_MAX_RESULT_BYTES; docs/security.md
 * "Idempotency keys"): a larger one is answered once, and its key keeps only that its request went ahead. A repeat is
 * answered OUTCOME_UNKNOWN, never sent again (freeing the key would send the OTP twice). Before, the record was as
 * large as the answer, in memory and in Redis. The guard measures once for both stores: each is driven here.
 */
const LIMIT = 2048;
/** A stored result's JSON ({"typename":"Text","data":{"result":"<value>@<time>"}}) of about `bytes` bytes. */
const answerOf = (bytes: number) => "a".repeat(bytes - 60);

function guarded(idempotency?: IdempotencyStore) {
  const unkept: string[] = [];
  const { guard, idempotency: memory } = setup({
    maxResultBytes: LIMIT,
    observe: { ...NO_OBSERVER, unkeptResult: (field) => unkept.push(field) },
    ...(idempotency ? { idempotency } : {}),
  });
  /** Sends under `key` (answering `value`), then repeats it: what each got and how often AOPay was called. */
  const twice = async (key: string, value: string) => {
    let calls = 0;
    const answer = async () => {
      calls++;
      return value;
    };
    const first = request({ key, answer });
    const one = await guard.run(first.req);
    const two = await guard.run(request({ key, answer }).req);
    return { one, two, calls, log: first.log };
  };
  return { twice, unkept, memory };
}

describe("an Idempotency-Key's result over IDEMPOTENCY_MAX_RESULT_BYTES", () => {
  it("is answered once in full; a repeat is answered OUTCOME_UNKNOWN and nothing is sent again", async () => {
    const { twice, unkept } = guarded();
    const big = answerOf(20_000);
    const { one, two, calls, log } = await twice("k-big", big);
    expect(one.kind).toBe("sent");
    expect(one.kind === "sent" && one.result.startsWith(`${big}@`)).toBe(true);
    expect(two).toEqual({ kind: "replayed", result: "failure:OUTCOME_UNKNOWN" });
    expect(calls).toBe(1);
    expect(unkept).toEqual(["generateCibilOtp"]);
    const line = log
      .records()
      .find((l) => l.msg === "idempotency result too large to keep: a repeat of its key is answered OUTCOME_UNKNOWN");
    expect(line).toMatchObject({ level: "warn", otpSend: { field: "generateCibilOtp", maxBytes: LIMIT } });
    // The sizes, never the result.
    expect(log.raw()).not.toContain("aaaaaaaaaa");
  });

  it("a result within the bound is kept and replayed whole", async () => {
    const { twice, unkept } = guarded();
    const fits = answerOf(LIMIT - 10);
    const { one, two, calls } = await twice("k-fits", fits);
    expect(one.kind === "sent" && one.result.startsWith(`${fits}@`)).toBe(true);
    expect(two.kind).toBe("replayed");
    expect(two.kind === "replayed" && two.result).toBe(one.kind === "sent" && one.result);
    expect(calls).toBe(1);
    expect(unkept).toEqual([]);
  });

  describe("in Redis", () => {
    let redis: Redis | undefined;
    const prefix = uniquePrefix();
    afterAll(async () => {
      if (!redis) return;
      await deleteKeys(redis, prefix);
      await redis.quit();
    });

    itWithRedis("the record holds no more than the bound; a repeat sends nothing again", async () => {
      redis = await connectRedis();
      const { twice, unkept } = guarded(new RedisIdempotencyStore(redis, prefix, sealer));
      const { one, two, calls } = await twice("k-redis", answerOf(100_000));
      expect(one.kind).toBe("sent");
      expect(two).toEqual({ kind: "replayed", result: "failure:OUTCOME_UNKNOWN" });
      expect(calls).toBe(1);
      expect(unkept).toEqual(["generateCibilOtp"]);
      const keys = await dumpKeys(redis, prefix);
      expect(keys).toHaveLength(1);
      expect(keys[0].value.length).toBeLessThan(LIMIT);
    });
  });
});
