import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { connect } from "node:net";
import Redis from "ioredis";
import { describeUnless } from "./redis";

/**
 * A redis-server of the test's own on a free loopback port, for what must not be done to the shared Redis at
 * REDIS_URL (other suites and helpers use it): stopping it, filling it to maxmemory, changing its policy.
 * Needs the `redis-server` binary on PATH (.ci/run's machine has it); tests skip, saying why, when it is missing.
 */
export const PRIVATE_REDIS_SKIP_REASON = redisServerAvailable()
  ? null
  : "skipped: no redis-server binary on PATH to start a private one";

/** A describe block that needs a private Redis (no REDIS_URL): skipped, saying why, without the binary. */
export function describeWithPrivateRedis(name: string, fn: () => void): void {
  describeUnless(PRIVATE_REDIS_SKIP_REASON, name, fn);
}

function redisServerAvailable(): boolean {
  try {
    execFileSync("redis-server", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts redis-server on `port` (loopback, no persistence unless `args` asks for it), with `args` appended as its
 * command-line options (`["--maxmemory", "4mb"]`). Stop it with kill().
 */
export function startRedis(port: number, args: string[] = []): ChildProcess {
  return spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", ...args],
    { stdio: "ignore" },
  );
}

/**
 * A connection of the test's own to the private Redis on `port` (with its `--requirepass`, if any), ready for commands
 * (close it with `quit`). Tries a new connection every 100 ms while redis-server is starting; a failed one is dropped,
 * never left reconnecting (it would reach whatever takes the port next).
 */
export async function connectPrivateRedis(port: number, password?: string, timeoutMs = 5_000): Promise<Redis> {
  const until = Date.now() + timeoutMs;
  // A plain socket first, until the port accepts: each ioredis client that failed to connect (refused while the server
  // started) left a timer that held Jest's worker after the run ("Jest did not exit one second after the test run").
  while (!(await accepts(port)) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  for (;;) {
    const redis = new Redis({ port, host: "127.0.0.1", password, lazyConnect: true, retryStrategy: () => null });
    redis.on("error", () => undefined);
    try {
      await redis.connect();
      return redis;
    } catch (error) {
      redis.disconnect();
      if (Date.now() > until) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Whether something accepts a TCP connection on the loopback `port` now (the socket closed either way). */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** SIGKILLs a redis-server from startRedis and waits for it to be gone (so no test leaves it behind). */
export async function stopRedis(redis: ChildProcess | undefined): Promise<void> {
  if (!redis || redis.exitCode !== null || redis.signalCode !== null) return;
  const exited = new Promise((r) => redis.once("exit", r));
  redis.kill("SIGKILL");
  await exited;
}

/** Polls `check` every 100 ms until it holds (a failing check counts as not yet), for at most `timeoutMs`. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check().catch(() => false)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}
