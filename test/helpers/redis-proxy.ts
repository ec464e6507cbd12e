import { createServer, connect, type Socket } from "node:net";

/**
 * A TCP proxy on loopback (port 0) in front of the Redis at `redisUrl`, which a test can cut and restore: Redis going
 * away for this server's connections only, without touching the Redis server others use. `url` is `redisUrl` with the
 * proxy's address (database and credentials kept).
 */
export interface RedisProxy {
  url: string;
  /** Destroys every proxied connection; new ones are closed as they are accepted, until restore(). */
  cut(): void;
  /**
   * Holds what the server sends to Redis, connections kept open (a Redis that stops answering: a long command, a
   * network stall); restore() delivers it, so commands the server gave up on run late, as they would.
   */
  stall(): void;
  restore(): void;
  /**
   * From now on, each chunk the server sends waits for `before(chunk)` before it goes on to Redis, in order per
   * connection (null: straight through again): another client's commands run between two of the server's, at the
   * moment the test picks (test/e2e/contention.test.ts).
   */
  intercept(before: ((chunk: Buffer) => Promise<void>) | null): void;
  close(): Promise<void>;
}

export async function startRedisProxy(redisUrl: string): Promise<RedisProxy> {
  const target = new URL(redisUrl);
  const sockets = new Set<Socket>();
  let down = false;
  let stalled = false;
  const held: Array<[Socket, Buffer]> = [];
  let before: ((chunk: Buffer) => Promise<void>) | null = null;
  const server = createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = connect(Number(target.port || 6379), target.hostname);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", end);
      s.on("close", end);
    }
    // Chunks held by `intercept`'s hook, in order: a later chunk never overtakes one still waiting.
    let queue: Promise<void> | null = null;
    client.on("data", (chunk: Buffer) => {
      if (stalled) held.push([upstream, chunk]);
      else if (before === null && queue === null) upstream.write(chunk);
      else {
        const hook = before;
        const step = (queue ?? Promise.resolve())
          .then(() => hook?.(chunk))
          .then(
            () => void (upstream.destroyed || upstream.write(chunk)),
            () => end(),
          );
        queue = step;
        void step.then(() => {
          if (queue === step) queue = null;
        });
      }
    });
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = new URL(redisUrl);
  url.hostname = "127.0.0.1";
  url.port = String((server.address() as { port: number }).port);
  return {
    url: url.href,
    cut() {
      down = true;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    stall() {
      stalled = true;
    },
    intercept(hook) {
      before = hook;
    },
    restore() {
      down = false;
      stalled = false;
      for (const [socket, chunk] of held.splice(0)) if (!socket.destroyed) socket.write(chunk);
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
