import { createServer, type Server } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import { ConnectionGuard } from "../../../src/http/connection-guard";
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

  /** Opens a connection; resolves "open" if it is still open 150 ms later, else "closed". */
  async function open(): Promise<"open" | "closed"> {
    const socket = connect(port, "127.0.0.1");
    socket.on("error", () => undefined);
    clients.push(socket);
    return new Promise((resolve) => {
      socket.once("close", () => resolve("closed"));
      setTimeout(() => resolve("open"), 150);
    });
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
      [],
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
      ["127.0.0.0/8"],
      log,
      "test",
    );
    await listen(guard);
    expect([await open(), await open(), await open(), await open()]).toEqual(["open", "open", "open", "closed"]);
    expect(guard.unauthenticated).toBe(3);
  });

  it("an untrusted IP is held to its per-IP cap even when a proxy is configured", async () => {
    const guard = new ConnectionGuard(
      { maxUnauthenticatedConnectionsPerIp: 1, maxUnauthenticatedConnections: 3 },
      ["10.0.0.0/8", "::1"],
      log,
      "test",
    );
    await listen(guard);
    expect([await open(), await open()]).toEqual(["open", "closed"]);
  });
});
