import { createServer, type Server } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import { ConnectionGuard } from "../../../src/http/connection-guard";
import { compileTrustedProxies } from "../../../src/util/trusted-proxies";
import { createLogger } from "../../../src/logging/logger";
import { LogCapture } from "../../helpers/log-capture";

/** src/http/connection-guard.ts on a real loopback listener: which connections count, and toward which cap. */
describe("ConnectionGuard", () => {
  let server: Server;
  let accepted: Socket[];
  let port: number;
  const clients: Socket[] = [];

  async function listen(guard: ConnectionGuard): Promise<void> {
    accepted = [];
    server = createServer();
    guard.attach(server);
    server.on("connection", (s: Socket) => accepted.push(s));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  }

  /**
   * Opens a connection and waits for the guard's decision on it: "closed" if the server destroyed it as accepted, else
   * "open"; and, before resolving, for every client whose server side the guard has destroyed (this one, or an older
   * idle one closed for it) to see its close. No timer decides: "open" if still open 150 ms later lost to a close
   * behind an event loop busy past 150 ms (a CI run read "open" where the guard had closed it).
   */
  async function open(): Promise<"open" | "closed"> {
    const socket = connect(port, "127.0.0.1");
    socket.on("error", () => undefined);
    clients.push(socket);
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    const serverSide = await waitFor(() => accepted.find((a) => a.remotePort === socket.localPort));
    const destroyed = accepted.filter((a) => a.destroyed).map((a) => a.remotePort);
    await Promise.all(
      clients
        .filter((c) => destroyed.includes(c.localPort))
        .map((c) => (c.readyState === "closed" ? Promise.resolve() : new Promise((r) => c.once("close", r)))),
    );
    return serverSide.destroyed ? "closed" : "open";
  }

  /** Polls (every setImmediate) until `find` answers; the server's "connection" event follows the client's connect. */
  async function waitFor<T>(find: () => T | undefined): Promise<T> {
    for (;;) {
      const found = find();
      if (found !== undefined) return found;
      await new Promise((r) => setImmediate(r));
    }
  }

  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const logs = new LogCapture();
  const log = createLogger({ level: "info", destination: logs });

  it("per IP: the connection past the cap is closed; authenticating or closing one frees a place", async () => {
    const guard = new ConnectionGuard(
      { maxUnauthenticatedConnectionsPerIp: 2, maxUnauthenticatedConnections: 100 },
      null,
      log,
      "test",
    );
    await listen(guard);
    expect([await open(), await open(), await open()]).toEqual(["open", "open", "closed"]);
    expect(guard.unauthenticated).toBe(2);
    guard.authenticated(accepted[0]);
    guard.authenticated(accepted[0]); // idempotent
    expect(guard.unauthenticated).toBe(1);
    expect(await open()).toBe("open");
    expect(await open()).toBe("closed");
    clients[1].destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect(guard.unauthenticated).toBe(1);
    expect(await open()).toBe("open");
    // The authenticated one closing changes nothing.
    clients[0].destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect(guard.unauthenticated).toBe(2);
    expect(
      logs.records().filter((r) => r.msg === "unauthenticated connections over the limit: closed as accepted"),
    ).toHaveLength(1);
  });

  it("a trusted proxy's connections count toward the total only", async () => {
    const guard = new ConnectionGuard(
      { maxUnauthenticatedConnectionsPerIp: 1, maxUnauthenticatedConnections: 3 },
      compileTrustedProxies(["127.0.0.0/8"]),
      log,
      "test",
    );
    await listen(guard);
    // At the total, the oldest idle connection is closed for the new one (the next test).
    expect([await open(), await open(), await open(), await open()]).toEqual(["open", "open", "open", "open"]);
    expect(clients.map((c) => c.destroyed || c.readyState === "closed")).toEqual([true, false, false, false]);
    expect(guard.unauthenticated).toBe(3);
  });

  it("at the total cap the oldest connection with no request in progress is closed for the new one; with none, the new one is", async () => {
    const guard = new ConnectionGuard(
      { maxUnauthenticatedConnectionsPerIp: 100, maxUnauthenticatedConnections: 3 },
      null,
      log,
      "test",
    );
    await listen(guard);
    // A request this server never answers (no request listener): in progress for as long as the test runs.
    const busy = async () => {
      const result = open();
      clients[clients.length - 1].write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      return result;
    };
    expect([await busy(), await open(), await busy()]).toEqual(["open", "open", "open"]);
    // Full: the idle one (the second, not the oldest) is closed, the new one kept.
    expect(await open()).toBe("open");
    expect(clients.map((c) => c.readyState === "closed" || c.destroyed)).toEqual([false, true, false, false]);
    // Full again: the oldest idle is the one just opened; a busy one is never chosen.
    await busy();
    expect(clients.map((c) => c.readyState === "closed" || c.destroyed)).toEqual([false, true, false, true, false]);
    // Full with only requests in progress: the new one is closed as it is accepted, as before.
    expect(await open()).toBe("closed");
    expect(guard.unauthenticated).toBe(3);
    const lines = logs.records().map((r) => r.msg);
    expect(lines).toContain("unauthenticated connections over the limit: the oldest idle one closed for a new one");
  });

  it("an untrusted IP is held to its per-IP cap even when a proxy is configured", async () => {
    const guard = new ConnectionGuard(
      { maxUnauthenticatedConnectionsPerIp: 1, maxUnauthenticatedConnections: 3 },
      compileTrustedProxies(["10.0.0.0/8", "::1"]),
      log,
      "test",
    );
    await listen(guard);
    expect([await open(), await open()]).toEqual(["open", "closed"]);
  });
});
