import type { ChildProcess } from "node:child_process";
import { request } from "undici";
import { freePort } from "../helpers/free-port";
import {
  connectPrivateRedis,
  describeWithPrivateRedis,
  startRedis,
  stopRedis,
  waitFor,
} from "../helpers/private-redis";
import { startTestStack, type TestStack } from "../helpers/stack";

const HMAC_SECRET = "redis-hung-secret-0123456789abcdef0123";

async function readiness(t: TestStack): Promise<{ code: number; status: string; ms: number }> {
  const started = performance.now();
  const res = await request(`${t.baseUrl}/readyz`);
  const body = (await res.body.json()) as { status: string };
  return { code: res.statusCode, status: body.status, ms: performance.now() - started };
}

async function redisUp(t: TestStack): Promise<string | undefined> {
  const text = await (await request(t.stack.app.metricsUrl as string)).body.text();
  return /^aopay_redis_up (\S+)$/m.exec(text)?.[1];
}

/**
 * A hung Redis (its server SIGSTOPped: connected, never answering) and what reads its PING: /readyz and
 * aopay_redis_up share one PING in flight (src/protection/redis.ts sharedAnswers). A PING that is never answered must
 * not wedge them: each answers within the PING's bound, not ready and 0, and a new PING goes out once Redis answers.
 */
describeWithPrivateRedis("a hung Redis (SIGSTOP) and readiness", () => {
  let server: ChildProcess | undefined;
  let t: TestStack | undefined;
  afterEach(async () => {
    if (server?.pid && server.exitCode === null) process.kill(server.pid, "SIGCONT");
    await t?.stop();
    await stopRedis(server);
  });

  it("/readyz answers not ready within its PING's bound, aopay_redis_up says 0, and both recover at once", async () => {
    const port = await freePort();
    server = startRedis(port, ["--maxmemory-policy", "noeviction"]);
    (await connectPrivateRedis(port)).disconnect();
    t = await startTestStack({ REDIS_URL: `redis://127.0.0.1:${port}`, HMAC_SECRET, READINESS_INCLUDES_REDIS: "true" });
    expect(await waitFor(async () => (await readiness(t!)).status === "ready", 5_000)).toBe(true);
    // Stopped, not killed: its socket stays open and its kernel takes every PING, which is never answered.
    process.kill(server.pid!, "SIGSTOP");
    for (let i = 0; i < 4; i++) {
      const probe = await readiness(t);
      // The PING's 500 ms (redis.ts redisAnswers), and room for a loaded machine: never the command's own timeout
      // left to pile up, nor an answer that never comes.
      expect([probe.code, probe.status, probe.ms < 2_000]).toEqual([503, "redis-unavailable", true]);
      expect(await redisUp(t)).toBe("0");
    }
    // Concurrent probes share one PING (sharedAnswers): each is answered by its bound too.
    const probes = await Promise.all(Array.from({ length: 5 }, () => readiness(t!)));
    expect(probes.map((p) => [p.code, p.ms < 2_000])).toEqual(Array(5).fill([503, true]));
    process.kill(server.pid!, "SIGCONT");
    // The first probe after it sends a PING of its own, answered behind the ones that piled up.
    expect(await waitFor(async () => (await readiness(t!)).status === "ready", 2_000)).toBe(true);
    expect(await redisUp(t)).toBe("1");
  }, 30_000);
});
