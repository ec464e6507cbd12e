import { createServer } from "node:net";

/**
 * A loopback port nothing listens on (one the kernel just gave and took back): a connection to it is refused at
 * `connect`, and a server the test starts there gets it (a private redis-server).
 */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  return port;
}
