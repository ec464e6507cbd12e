import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { connect } from "node:net";
import { Readable } from "node:stream";
import { join } from "node:path";
import { promisify } from "node:util";
import { Authenticator } from "../../src/auth/authenticator";
import { loadConfig, logSecrets } from "../../src/config";
import { createHttpServer, type HttpServer } from "../../src/http/http-server";
import { STREAM_END_LINES_PER_INTERVAL } from "../../src/logging/access-log";
import { createLogger } from "../../src/logging/logger";
import { SUMMARY_INTERVAL_MS } from "../../src/logging/summarised";
import { LogCapture } from "../helpers/log-capture";
import { startTestStack, type TestStack } from "../helpers/stack";

const ROOT = join(__dirname, "../..");
/** Hang-ups per layer: three times the lines written per interval. */
const HANG_UPS = 3 * STREAM_END_LINES_PER_INTERVAL;

/**
 * Sends `request` (a whole HTTP/1.1 request) to 127.0.0.1:`port` and closes the connection as soon as the first bytes
 * of the answer arrive: a client hanging up in the middle of a streamed answer.
 */
function hangUp(port: number, request: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(request));
    socket.once("data", () => socket.destroy());
    socket.once("close", () => resolve());
    socket.once("error", reject);
  });
}

/**
 * Waits until `condition` holds (the server sees a close a moment after the client makes it), or 5 s have passed: the
 * assertions after it say what was missing.
 */
async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

/** The HTTP layers alone (no GraphQL: the tests give it an answerer), development settings, logging to `logs`. */
async function httpServerLoggingTo(logs: LogCapture): Promise<HttpServer> {
  const config = loadConfig({ NODE_ENV: "test", PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "debug" });
  const logger = createLogger({ level: config.logLevel, secrets: logSecrets(config), destination: logs });
  return createHttpServer(
    config,
    logger,
    async () => ({ ready: true, status: "ready" }),
    new Authenticator(config.auth),
  );
}

/** The lines written one by one may fill one interval per SUMMARY_INTERVAL_MS the hang-ups took (one, normally). */
function mostWritten(elapsedMs: number): number {
  return STREAM_END_LINES_PER_INTERVAL * (Math.floor(elapsedMs / SUMMARY_INTERVAL_MS) + 1);
}

/**
 * A client hanging up in the middle of a streamed answer, again and again: each hang-up wrote a "stream closed
 * prematurely" line (Fastify's LogController.streamError, and the thin route's copy of it), a line any client causes
 * at will. Now STREAM_END_LINES_PER_INTERVAL per 10 s, the rest counted in one summary (logging/access-log.ts
 * StreamEndLines), and every request keeps its access line, `clientGone` (Fastify's layer had none for a streamed
 * answer cut short).
 */
describe("a client hanging up in the middle of streamed answers: a few lines and one summary, not a line each", () => {
  it("Fastify's layer (an explorer bundle, in development): lines summarised, an access line each", async () => {
    // What npm start does first (as test/e2e/explorer.test.ts): the bundles must be there to be streamed.
    await promisify(execFile)(process.execPath, [join(ROOT, "scripts/build-if-stale.js"), "--only", "explorer"], {
      cwd: ROOT,
      timeout: 90_000,
    });
    // The largest bundle (monaco's, 2.8 MB): far more than the socket takes at once.
    const assets = readdirSync(join(ROOT, "explorer/dist/assets")).filter((f) => f.endsWith(".js"));
    const bundle = assets.find((f) => f.startsWith("monaco-editor")) ?? assets[0];
    let t: TestStack | undefined;
    try {
      t = await startTestStack();
      const stack = t;
      const port = Number(new URL(stack.baseUrl).port);
      const began = Date.now();
      for (let i = 0; i < HANG_UPS; i++)
        await hangUp(port, `GET /graphiql/assets/${bundle} HTTP/1.1\r\nHost: x\r\n\r\n`);
      const elapsed = Date.now() - began;
      const gone = () =>
        stack.logs.records().filter((r) => r.msg === "request completed" && r.path === "/graphiql/*" && r.clientGone);
      await until(() => gone().length >= HANG_UPS);
      const written = stack.logs.records().filter((r) => r.msg === "stream closed prematurely");
      expect(written.length).toBeGreaterThan(0);
      expect(written.length).toBeLessThanOrEqual(mostWritten(elapsed));
      expect(written[0]).toMatchObject({ level: "info", path: "/graphiql/*" });
      expect(written[0].requestId).toEqual(expect.any(String));
      await stack.stop();
      t = undefined;
      const summaries = stack.logs.records().filter((r) => /^stream closed prematurely: \d+ more/.test(String(r.msg)));
      expect(summaries.reduce((n, r) => n + Number(r.suppressed), 0)).toBe(HANG_UPS - written.length);
      expect(summaries[0]).toMatchObject({
        level: "info",
        notLogged: { ERR_STREAM_PREMATURE_CLOSE: HANG_UPS - written.length },
      });
      expect(summaries[0].requestId).toBeUndefined();
      expect(gone()).toHaveLength(HANG_UPS);
    } finally {
      await t?.stop();
    }
  }, 120_000);

  describe("the thin GraphQL route (a streamed answer, as incremental delivery would be)", () => {
    const logs = new LogCapture();
    let http: HttpServer;
    let port: number;
    beforeAll(async () => {
      http = await httpServerLoggingTo(logs);
      // graphql 16 streams no answer (Apollo's incremental delivery needs graphql 17): a scripted answerer does, a
      // chunk every 5 ms, until its client hangs up.
      http.serveGraphQL(async () => ({
        status: 200,
        headers: [["content-type", 'multipart/mixed; boundary="-"']],
        body: (async function* () {
          for (let i = 0; i < 2000; i++) {
            yield `\r\n---\r\ncontent-type: application/json\r\n\r\n{"hasNext":true}`;
            await new Promise((r) => setTimeout(r, 5));
          }
        })(),
      }));
      await http.fastify.listen({ port: 0, host: "127.0.0.1" });
      port = (http.fastify.server.address() as { port: number }).port;
    });
    afterAll(async () => {
      await http?.fastify.close();
    });

    it("lines summarised, an access line each", async () => {
      const body = '{"query":"{ serviceInfo { upstream } }"}';
      const request =
        `POST /graphql HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n` +
        `content-length: ${body.length}\r\n\r\n${body}`;
      const began = Date.now();
      for (let i = 0; i < HANG_UPS; i++) await hangUp(port, request);
      const elapsed = Date.now() - began;
      expect(http.thinRouteServed).toBe(HANG_UPS);
      const gone = () =>
        logs.records().filter((r) => r.msg === "request completed" && r.path === "/graphql" && r.clientGone);
      await until(() => gone().length >= HANG_UPS);
      const written = logs.records().filter((r) => r.msg === "stream closed prematurely");
      expect(written.length).toBeGreaterThan(0);
      expect(written.length).toBeLessThanOrEqual(mostWritten(elapsed));
      expect(written[0]).toMatchObject({ level: "info", path: "/graphql" });
      // The server's close writes the interval's summary.
      await http.fastify.close();
      const summaries = logs.records().filter((r) => /^stream closed prematurely: \d+ more/.test(String(r.msg)));
      expect(summaries.reduce((n, r) => n + Number(r.suppressed), 0)).toBe(HANG_UPS - written.length);
      expect(summaries[0].msg).toMatch(
        /not logged one by one \(at most 10 per 10 s; their access lines say so, each\)/,
      );
      expect(gone()).toHaveLength(HANG_UPS);
    });
  });
});

/**
 * A streamed answer that fails on our side after its headers (an explorer file whose read fails, a streamed GraphQL
 * answer whose producer throws) while its client still reads: a fault of ours, whose access line is the error line
 * (`request errored`, its `err`), not `clientGone` (it was: the client was there to the end). Fastify's layer and the
 * thin route, on a real server; the failing streams are scripted (a real read error cannot be caused at will).
 */
describe("a streamed answer that fails on our side: an error line, not a client gone", () => {
  const logs = new LogCapture();
  let http: HttpServer;
  let port: number;
  const readError = () => Object.assign(new Error("EIO: i/o error, read"), { code: "EIO" });
  beforeAll(async () => {
    http = await httpServerLoggingTo(logs);
    // As @fastify/static streams a file: a Readable that fails after its first 64 KiB.
    http.fastify.get("/stream-fails", async (_request, reply) => {
      let sent = 0;
      const stream = new Readable({
        read() {
          if (sent++ < 4) this.push(Buffer.alloc(16 * 1024, 97));
          else setImmediate(() => this.destroy(readError()));
        },
      });
      return reply.type("application/javascript").send(stream);
    });
    http.serveGraphQL(async () => ({
      status: 200,
      headers: [["content-type", 'multipart/mixed; boundary="-"']],
      body: (async function* () {
        for (let i = 0; i < 4; i++) yield `\r\n---\r\ncontent-type: application/json\r\n\r\n{"hasNext":true}`;
        await new Promise((r) => setTimeout(r, 5));
        throw readError();
      })(),
    }));
    await http.fastify.listen({ port: 0, host: "127.0.0.1" });
    port = (http.fastify.server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await http?.fastify.close();
  });

  /** Sends `request` and reads until the server closes the connection; what arrived. */
  const readToClose = (request: string) =>
    new Promise<string>((resolve, reject) => {
      let received = "";
      const socket = connect(port, "127.0.0.1", () => socket.write(request));
      socket.on("data", (chunk: Buffer) => (received += chunk.toString("latin1")));
      socket.once("close", () => resolve(received));
      socket.once("error", reject);
    });

  it.each([
    ["Fastify's layer", "/stream-fails", "GET /stream-fails HTTP/1.1\r\nHost: x\r\n\r\n"],
    [
      "the thin GraphQL route",
      "/graphql",
      `POST /graphql HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}`,
    ],
  ])("%s", async (_layer, path, request) => {
    const received = await readToClose(request);
    expect(received).toMatch(/^HTTP\/1\.1 200 /);
    const lines = () =>
      logs.records().filter((r) => r.path === path && /^request (completed|errored)$/.test(String(r.msg)));
    await until(() => lines().length > 0);
    expect(lines()).toEqual([
      expect.objectContaining({ level: "error", msg: "request errored", status: 200, err: expect.anything() }),
    ]);
    expect(lines()[0].clientGone).toBeUndefined();
    expect(JSON.stringify(lines()[0].err)).toContain("EIO");
    // One event, one line: the error line above, not also the "response terminated with an error" warning (it was
    // written beside it, with the same error). Looked for a moment after, as a pipeline's callback runs late.
    await new Promise((r) => setTimeout(r, 100));
    expect(logs.records().filter((r) => r.path === path && r.msg !== lines()[0].msg)).toEqual([]);
  });
});
