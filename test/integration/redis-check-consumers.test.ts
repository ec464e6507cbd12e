import { createLogger } from "../../src/logging/logger";
import { createRedis, type InfoReader } from "../../src/protection/redis";
import { freePort } from "../helpers/free-port";
import { LogCapture } from "../helpers/log-capture";
import { connectPrivateRedis, describeWithPrivateRedis, startRedis, stopRedis } from "../helpers/private-redis";

/**
 * The INFO schedule of the stores' connection (src/protection/redis.ts RedisServerCheck) against consumers that throw:
 * the judgement's hook (onJudged, the aopay_redis_unsafe gauge) and the reader (the memory gauges). Before, a throw in
 * the answer's callback was an unhandled rejection (the server's early-faults.ts ends the process on one) and the next
 * read was never scheduled; in the timer's callback (a read due while the connection is down), an uncaught exception.
 */
/** A private Redis (noeviction), a check on it with `options`, its log and the unhandled rejections seen meanwhile. */
async function checkWith(options: Parameters<typeof createRedis>[2]) {
  const port = await freePort();
  const server = startRedis(port, ["--maxmemory-policy", "noeviction"]);
  (await connectPrivateRedis(port)).disconnect();
  const logs = new LogCapture();
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);
  process.on("unhandledRejection", onRejection);
  const { redis, check } = createRedis(
    `redis://127.0.0.1:${port}`,
    createLogger({ level: "info", destination: logs }),
    options,
  );
  const close = async (): Promise<void> => {
    process.off("unhandledRejection", onRejection);
    check.stop();
    redis.disconnect();
    await stopRedis(server);
  };
  return { server, logs, rejections, check, close };
}

describeWithPrivateRedis("a consumer of the INFO schedule that throws", () => {
  it("is logged once per consumer, the reads go on, answered then failed, and the start's judged() resolves", async () => {
    let judged = 0;
    const { server, logs, rejections, check, close } = await checkWith({
      evictingPolicy: "refuse",
      checkIntervalMs: 100,
      onJudged: () => {
        judged++;
        throw new Error("gauge hook broke");
      },
    });
    const calls = { answered: 0, failed: 0 };
    const reader: InfoReader = {
      intervalMs: 100,
      answered: () => {
        calls.answered++;
        throw new TypeError("reader broke");
      },
      failed: () => {
        calls.failed++;
        throw new RangeError("reader broke on a failure");
      },
    };
    const detach = check.attach(reader);
    try {
      await check.judged(5_000);
      // Judged (the hook threw): the policy is known, not left "unjudged" with its waiters never told.
      expect(check.unsafe()).toBeUndefined();
      await new Promise((r) => setTimeout(r, 800));
      expect(calls.answered).toBeGreaterThanOrEqual(4);
      expect(judged).toBeGreaterThanOrEqual(4);
      // Redis gone: the reads due meet a connection not ready, in the timer's callback, and go on too.
      await stopRedis(server);
      await new Promise((r) => setTimeout(r, 1_500));
      expect(calls.failed).toBeGreaterThanOrEqual(3);
      const threw = logs.records().filter((r) => /^redis INFO .* threw/.test(String(r.msg)));
      expect(threw.map((r) => [r.level, (r.redis as { consumer: string }).consumer])).toEqual([
        ["error", "judgement"],
        ["error", "reader"],
      ]);
      // The thrown error's name only: a message is not the schedule's to know.
      expect(threw.map((r) => r.err)).toEqual([{ name: "Error" }, { name: "TypeError" }]);
      expect(rejections).toEqual([]);
    } finally {
      detach();
      await close();
    }
  }, 20_000);

  it("a consumer that returns a rejecting promise (an async hook) is logged once, no unhandled rejection", async () => {
    let judged = 0;
    const { logs, rejections, check, close } = await checkWith({
      evictingPolicy: "refuse",
      checkIntervalMs: 100,
      // What an async hook returns; the lint's no-misused-promises keeps them out of src, the guard holds anyway.
      onJudged: (() => {
        judged++;
        return Promise.reject(new SyntaxError("async gauge hook broke"));
      }) as () => void,
    });
    let answered = 0;
    const reader: InfoReader = {
      intervalMs: 100,
      // A rejection that is no Error: its type is named.
      answered: (() => {
        answered++;
        return Promise.reject("reader broke" as unknown as Error);
      }) as () => void,
      failed: () => undefined,
    };
    const detach = check.attach(reader);
    try {
      await check.judged(5_000);
      await new Promise((r) => setTimeout(r, 800));
      expect(judged).toBeGreaterThanOrEqual(4);
      expect(answered).toBeGreaterThanOrEqual(4);
      const threw = logs.records().filter((r) => /^redis INFO .* threw/.test(String(r.msg)));
      expect(threw.map((r) => r.err)).toEqual([{ name: "SyntaxError" }, { name: "string" }]);
      expect(rejections).toEqual([]);
    } finally {
      detach();
      await close();
    }
  }, 20_000);
});
