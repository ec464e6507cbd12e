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
  /**
   * From now on, every command the server sends is decoded (RESP) and kept, name first then its arguments, until the
   * returned function is called, which answers them: what the server asked of Redis, without MONITOR.
   */
  record(): () => string[][];
  /**
   * From the first chunk the server sends that `match` accepts (it goes on to Redis, which runs it), every reply Redis
   * sends back is dropped until cut(): the reply of a command that ran, lost with its connection (a network blip).
   */
  loseRepliesFrom(match: (chunk: Buffer) => boolean): void;
  close(): Promise<void>;
}

/**
 * The complete commands at the start of `buffer` (RESP arrays of bulk strings, as ioredis sends them), and what is
 * left of it: a command cut between two chunks waits for the next one.
 */
function decodeCommands(buffer: Buffer): { commands: string[][]; rest: Buffer } {
  const commands: string[][] = [];
  let at = 0;
  const line = (from: number): [string, number] | null => {
    const end = buffer.indexOf("\r\n", from);
    return end < 0 ? null : [buffer.toString("latin1", from, end), end + 2];
  };
  for (;;) {
    const head = line(at);
    if (head === null || !head[0].startsWith("*")) break;
    const args: string[] = [];
    let next = head[1];
    let complete = true;
    for (let n = Number(head[0].slice(1)); n > 0; n--) {
      const size = line(next);
      if (size === null || next + size[0].length + 2 + Number(size[0].slice(1)) + 2 > buffer.length) {
        complete = false;
        break;
      }
      const length = Number(size[0].slice(1));
      args.push(buffer.toString("utf8", size[1], size[1] + length));
      next = size[1] + length + 2;
    }
    if (!complete) break;
    commands.push([args[0].toLowerCase(), ...args.slice(1)]);
    at = next;
  }
  return { commands, rest: buffer.subarray(at) };
}

/**
 * `replies`: each chunk Redis sends back passes through it before the server reads it (a Redis that answers otherwise
 * than the one behind: test/e2e/alert-rules.test.ts has INFO name an older version). Without it, piped as it comes.
 */
export async function startRedisProxy(
  redisUrl: string,
  options: { replies?: (chunk: Buffer) => Buffer } = {},
): Promise<RedisProxy> {
  const target = new URL(redisUrl);
  const sockets = new Set<Socket>();
  let down = false;
  let stalled = false;
  const held: Array<[Socket, Buffer]> = [];
  let before: ((chunk: Buffer) => Promise<void>) | null = null;
  let recorded: string[][] | null = null;
  let loseFrom: ((chunk: Buffer) => boolean) | null = null;
  let losing = false;
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
    // What `record` has not decoded yet (a command cut between chunks).
    let pending: Buffer = Buffer.alloc(0);
    client.on("data", (chunk: Buffer) => {
      if (recorded !== null) {
        const { commands, rest } = decodeCommands(Buffer.concat([pending, chunk]));
        recorded.push(...commands);
        pending = rest;
      }
      if (loseFrom?.(chunk)) {
        loseFrom = null;
        losing = true;
      }
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
    const { replies } = options;
    upstream.on("data", (chunk: Buffer) => {
      if (!losing && !client.destroyed) client.write(replies ? replies(chunk) : chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = new URL(redisUrl);
  url.hostname = "127.0.0.1";
  url.port = String((server.address() as { port: number }).port);
  return {
    url: url.href,
    cut() {
      down = true;
      losing = false;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    stall() {
      stalled = true;
    },
    intercept(hook) {
      before = hook;
    },
    loseRepliesFrom(match) {
      loseFrom = match;
    },
    record() {
      const commands: string[][] = [];
      recorded = commands;
      return () => {
        if (recorded === commands) recorded = null;
        return commands;
      };
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
