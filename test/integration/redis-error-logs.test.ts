import { createLogger } from "../../src/logging/logger";
import { HeldConsentStore, RedisConsentStore } from "../../src/protection/consent-store";
import { ProtectionStoreError } from "../../src/protection/errors";
import { createRedis } from "../../src/protection/redis";
import { freePort } from "../helpers/free-port";
import { LogCapture } from "../helpers/log-capture";
import { connectPrivateRedis, describeWithPrivateRedis, startRedis, stopRedis } from "../helpers/private-redis";

/**
 * What of a Redis error reaches a log line. ioredis sets `command: { name, args }` on a reply's error (its
 * DataHandler.returnError) and on a command cut by a closed connection (AbortError): the args are the keys (HMACs of
 * a client and a customer's id) and values written; and Redis 7 quotes a command's first args in its own message when
 * it does not know the command (`ERR unknown command 'set', with args beginning with: ...`: one renamed away). pino's
 * err serializer copies every enumerable field and every cause's message and stack: only the command's name and the
 * error's code may leave.
 */
const PASSWORD = "redis-error-logs-password-0123";
const CONSENT_KEY = "customer-consent-hmac-0123456789abcdef";

describeWithPrivateRedis("a Redis error in a log line", () => {
  it("a held consent's refused SET: its key and value neither in the line's err nor in its message", async () => {
    const port = await freePort();
    // SET renamed away (as some managed offerings do to commands): the grant's SET is refused with its args quoted.
    const server = startRedis(port, ["--requirepass", PASSWORD, "--rename-command", "SET", "SET_RENAMED_AWAY"]);
    (await connectPrivateRedis(port, PASSWORD)).disconnect();
    const logs = new LogCapture();
    const log = createLogger({ level: "info", destination: logs });
    const { redis, check } = createRedis(`redis://:${PASSWORD}@127.0.0.1:${port}`, log, {
      evictingPolicy: "warn",
      checkIntervalMs: 3_600_000,
    });
    const held = new HeldConsentStore(new RedisConsentStore(redis, "errlogs:"), log, {
      retryMs: 60_000,
      unrecorded: () => undefined,
    });
    try {
      await check.judged(5_000);
      await held.grant(CONSENT_KEY, 600_000);
      const line = logs.records().find((r) => r.consent === "held");
      expect(line).toBeDefined();
      const text = JSON.stringify(line);
      expect(text).not.toContain(CONSENT_KEY);
      expect(text).not.toContain("600000");
      expect(text).not.toContain("errlogs:");
      // What is safe stays: the error's type and the Redis error's first word.
      expect(text).toContain("ProtectionStoreError");
      // The grant's SET runs in a script (consent-store.ts GRANT): refused there, Redis names no args either.
      expect(text).toMatch(/ERR unknown (redis )?command/i);
    } finally {
      held.close();
      check.stop();
      redis.disconnect();
      await stopRedis(server);
    }
  }, 20_000);

  it("a raw ioredis error, alone or as a cause: the command's name kept, its args and the password never", async () => {
    const port = await freePort();
    const server = startRedis(port, ["--requirepass", PASSWORD]);
    const admin = await connectPrivateRedis(port, PASSWORD);
    const logs = new LogCapture();
    const log = createLogger({ level: "info", destination: logs });
    try {
      // A WRONGTYPE reply: the error carries `command` with the key and the value written.
      await admin.lpush(`errlogs:${CONSENT_KEY}`, "x");
      const error = await admin.set(`errlogs:${CONSENT_KEY}`, "secret-value-42", "GET").catch((e: Error) => e);
      expect((error as { command?: { args: unknown[] } }).command?.args).toContain("secret-value-42");
      log.error({ err: error }, "raw");
      log.error({ err: new ProtectionStoreError("consent", error) }, "wrapped");
      log.error({ err: Object.assign(new Error("outer"), { inner: error }) }, "nested");
      const auth = await admin.call("AUTH", "default", `${PASSWORD}-wrong`).catch((e: Error) => e);
      log.error({ err: auth }, "auth");
      const text = logs.text();
      for (const secret of [CONSENT_KEY, "secret-value-42", `${PASSWORD}-wrong`]) expect(text).not.toContain(secret);
      const raw = logs.records().find((r) => r.msg === "raw")?.err as Record<string, unknown>;
      expect(raw.command).toEqual({ name: "set" });
      expect(String(raw.message)).toMatch(/^WRONGTYPE /);
    } finally {
      await admin.quit();
      await stopRedis(server);
    }
  }, 20_000);
});
