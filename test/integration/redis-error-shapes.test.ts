import { createLogger } from "../../src/logging/logger";
import { LogCapture } from "../helpers/log-capture";
import { connectRedis, deleteKeys, describeWithRedis, uniquePrefix } from "../helpers/redis";

/**
 * Other shapes of a Redis error than a reply's own (test/integration/redis-error-logs.test.ts), each against the
 * Redis at REDIS_URL: an EXECABORT carries its queued commands' errors raw in `previousErrors` (ioredis
 * transaction.js), which pino's err serializer copies as they are (an array is not error-like), so each one's
 * `command.args` and quoted args reached the line; an error kept in a plain object of an error's field the same; and
 * an error under another key than `err` had no serializer at all. An `err` that is a plain object (redis.ts
 * writes the client's error event so) is error-like to pino: cut as an error is.
 */
const SECRET_VALUE = "rvredis9-secret-value-0123";
const SECRET_ARG = "rvredis9-quoted-arg-4567";

describeWithRedis("Redis error shapes in a log line", () => {
  const prefix = uniquePrefix();

  it("EXECABORT's previousErrors, an error inside a plain object, a plain-object err: no key, value or arg", async () => {
    const redis = await connectRedis();
    const logs = new LogCapture();
    const log = createLogger({ level: "info", destination: logs });
    try {
      const key = `${prefix}k`;
      // A command Redis refuses at queue time (unknown: its args quoted) makes EXEC abort.
      const abort = await redis
        .multi()
        .set(key, SECRET_VALUE)
        .call("NO_SUCH_COMMAND_RV9", SECRET_ARG)
        .exec()
        .catch((e: Error) => e);
      expect(abort).toBeInstanceOf(Error);
      expect(JSON.stringify(abort)).toContain(SECRET_ARG);
      log.error({ err: abort }, "execabort");
      const inner = (abort as unknown as { previousErrors: Error[] }).previousErrors[0];
      log.error({ err: Object.assign(new Error("outer"), { details: { inner, list: [inner] } }) }, "deep");
      log.error({ err: { message: inner.message, command: { name: "x", args: [SECRET_VALUE] } } }, "plain");
      // An error under another key than err: no serializer of pino's; nested in a plain object too.
      log.error({ error: abort, detail: { cause: inner } }, "other key");
      const text = logs.text();
      for (const secret of [SECRET_VALUE, SECRET_ARG, key]) expect(text).not.toContain(secret);
      const records = logs.records();
      // What is safe stays: the abort's own word and each inner error's first words.
      expect(String((records[0].err as Record<string, unknown>).message)).toMatch(/^EXECABORT /);
      expect(text).toContain("ERR unknown command");
      expect((records[2].err as Record<string, unknown>).command).toEqual({ name: "x" });
      expect((records[3].error as Record<string, unknown>).type).toBe("ReplyError");
      expect(((records[3].detail as Record<string, unknown>).cause as Record<string, unknown>).command).toEqual({
        name: "NO_SUCH_COMMAND_RV9",
      });
    } finally {
      await deleteKeys(redis, prefix);
      await redis.quit();
    }
  });
});
