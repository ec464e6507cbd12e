import { request } from "node:http";
import { connect } from "node:net";
import { join } from "node:path";
import { freePort } from "../helpers/free-port";
import { startServerProcess as run } from "../helpers/server-process";

/**
 * HOST=localhost where the name resolves to several addresses (127.0.0.1 and ::1 on a dual-stack host; here 127.0.0.1
 * and 127.0.0.2, test/fixtures/preload/two-localhost-addresses.cjs). Fastify bound every other address on a second
 * node:http server of its own that calls its handler directly, past everything src/http/http-server.ts sets on its
 * server (the request wrapper and its stop path, the drain's sweep, the connection guard, the thin GraphQL route):
 * during a stop, pipelined answers there all said `Connection: close` and those queued behind were lost. One address is
 * bound now, the first (http-server.ts listenAddress), and the log says which are not served.
 */

/** Whether a TCP connection to host:port is accepted (false: refused). */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** `count` GET /healthz pipelined on one connection to host:port; resolves with the raw bytes once the server ends. */
function pipelined(host: string, port: number, count: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host);
    let raw = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => (raw += chunk));
    socket.once("error", reject);
    socket.once("close", () => resolve(raw));
    socket.once("connect", () => {
      socket.write(`GET /healthz HTTP/1.1\r\nHost: localhost:${port}\r\n\r\n`.repeat(count));
    });
  });
}

/** GET url's status (a probe of the served address). */
function status(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .once("error", reject)
      .end();
  });
}

describe("HOST=localhost resolving to several addresses", () => {
  it("binds the first address only, says so in the log, and stops there as on any HOST", async () => {
    const port = await freePort();
    const p = run({
      NODE_ENV: "development",
      HOST: "localhost",
      PORT: String(port),
      SHUTDOWN_DELAY_MS: "3000",
      NODE_OPTIONS: `--require ${join(__dirname, "../fixtures/preload/two-localhost-addresses.cjs")}`,
    });
    try {
      await p.ready;
      expect(await status(`http://127.0.0.1:${port}/healthz`)).toBe(200);
      // The second address is not listened on: before, Fastify's own second server answered there.
      expect(await accepts("127.0.0.2", port)).toBe(false);
      expect(p.output()).toMatch(/"listening":"127\.0\.0\.1","unserved":\["127\.0\.0\.2"\]/);
      // The served address during the pre-stop delay: every pipelined answer written, only the last asks to close.
      p.child.kill("SIGTERM");
      await p.printed("still serving for SHUTDOWN_DELAY_MS");
      const raw = await pipelined("127.0.0.1", port, 3);
      // Each answer's head: its status line to the blank line (the bodies between them are short JSON).
      const heads = raw.match(/HTTP\/1\.1 [^]*?\r\n\r\n/g) ?? [];
      expect(heads.map((head) => head.split("\r\n")[0])).toEqual(Array(3).fill("HTTP/1.1 200 OK"));
      expect(heads.map((head) => /\r\nconnection: close/i.test(head))).toEqual([false, false, true]);
      expect(await p.exited).toBe(0);
    } finally {
      await p.kill();
    }
  }, 30_000);
});
