// The raw client's waits leave no timer armed once they are over (test/helpers/raw-http.ts within): a 2-s timeout of
// pushAnnouncedBody raced against a close that had already come kept Jest's process alive after
// refusal-media-type.test.ts ("did not exit one second after the test run"). Real sockets on loopback.
import { createHook } from "node:async_hooks";
import { createServer, type Server, type Socket } from "node:net";
import { pushAnnouncedBody, rawClient, within } from "../../helpers/raw-http";

/** A timer as async_hooks hands it (node:timers' Timeout). */
type Timer = { hasRef(): boolean; _destroyed: boolean };

/**
 * The timers the helper (test/helpers/raw-http.ts) armed during `run` that are still armed and keep the process alive
 * (ref'd) once it is over. Each one found by async_hooks as it is created, and counted only where its creation's stack
 * names the helper: a count of the process's timers (getActiveResourcesInfo) moved with Jest's own, and so did a count
 * of every timer created during `run` (Jest runs a single file in band: 1 left, not the helper's, in 2 of 14 runs of
 * this file alone on a shared host).
 */
async function timersLeftBy(run: () => Promise<unknown>): Promise<number> {
  const created: Timer[] = [];
  const hook = createHook({
    init: (_id, type, _trigger, resource) =>
      void (
        type === "Timeout" &&
        /helpers[\\/]raw-http\.ts/.test(new Error().stack ?? "") &&
        created.push(resource as Timer)
      ),
  }).enable();
  try {
    await run();
  } finally {
    hook.disable();
  }
  return created.filter((t) => !t._destroyed && t.hasRef()).length;
}

describe("raw-http's waits", () => {
  let server: Server;
  const sockets = new Set<Socket>();
  beforeAll(async () => {
    // Reads the head, then closes the connection: a server that refuses a body announced too long.
    server = createServer((socket) => {
      sockets.add(socket);
      socket.once("data", () => socket.destroy());
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });

  it("pushAnnouncedBody returns on the close with no timer left armed", async () => {
    const c = await rawClient((server.address() as { port: number }).port);
    const startedAt = Date.now();
    let sent = 0;
    const left = await timersLeftBy(async () => {
      sent = await pushAnnouncedBody(c, "POST / HTTP/1.1\r\nHost: x", 20 * 1024 * 1024);
    });
    expect({ closed: c.socket.destroyed, early: Date.now() - startedAt < 2000, cut: sent < 20 * 1024 * 1024 }).toEqual({
      closed: true,
      early: true,
      cut: true,
    });
    expect(left).toBe(0);
  });

  it("within: the value when it comes first, undefined after the time; its timer cleared both ways", async () => {
    expect(await timersLeftBy(() => expect(within(Promise.resolve("done"), 60_000)).resolves.toBe("done"))).toBe(0);
    expect(await timersLeftBy(() => expect(within(new Promise(() => undefined), 20)).resolves.toBeUndefined())).toBe(0);
  });
});
