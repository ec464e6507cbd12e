import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { SIMULATOR_COMPANY_CODE, SIMULATOR_REGISTRATION_ID } from "../../src/config";

/** One request as the fake upstream received it. */
export interface RecordedCall {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
}

export type FakeHandler = (call: RecordedCall, res: ServerResponse, req: IncomingMessage) => void;

export interface FakeUpstream {
  /** Base URL, e.g. http://127.0.0.1:43121 */
  url: string;
  calls: RecordedCall[];
  /** TCP connections accepted so far. */
  readonly connections: number;
  /** Replace the scripted behaviour. */
  respond(handler: FakeHandler): void;
  close(): Promise<void>;
}

/**
 * A scripted AOPay stand-in on loopback (port 0) for fault tests (undici's and stripe-node's style): it records every
 * request it receives (method, path, headers, full body) and hands the response to the current handler, which may
 * answer, stall, or destroy the socket.
 */
/**
 * The server's environment pointing it at `upstream` (a fake, the simulator's URL, or any address) with the
 * simulator's partner credentials (which the fake does not check): pass to startTestStack or a child's env.
 */
export function upstreamEnv(upstream: { url: string } | string): Record<string, string> {
  return {
    AOPAY_BASE_URL: typeof upstream === "string" ? upstream : upstream.url,
    AOPAY_REGISTRATION_ID: SIMULATOR_REGISTRATION_ID,
    AOPAY_COMPANY_CODE: SIMULATOR_COMPANY_CODE,
  };
}

export async function startFakeUpstream(handler: FakeHandler = json(200, { status: true })): Promise<FakeUpstream> {
  let current = handler;
  const calls: RecordedCall[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const call = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      calls.push(call);
      current(call, res, req);
    });
  });
  server.on("connection", (s) => {
    connections += 1;
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    get connections() {
      return connections;
    },
    respond(next) {
      current = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Answers with a JSON body. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): FakeHandler {
  return (_call, res) => {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(typeof body === "string" ? body : JSON.stringify(body));
  };
}

/** Answers with raw text. */
export function raw(
  status: number,
  contentType: string,
  text: string,
  headers: Record<string, string> = {},
): FakeHandler {
  return (_call, res) => {
    res.writeHead(status, { "content-type": contentType, ...headers });
    res.end(text);
  };
}

/**
 * Answers by the request's path: the first of `routes` whose key the path ends with (a whole path, or its last
 * segments such as "/GenerateOTP"), else `otherwise` (by default an empty 404, which no AOPay page documents).
 */
export function byPath(routes: Readonly<Record<string, FakeHandler>>, otherwise: FakeHandler = notFound): FakeHandler {
  const entries = Object.entries(routes);
  return (call, res, req) => (entries.find(([path]) => call.path.endsWith(path))?.[1] ?? otherwise)(call, res, req);
}

/** An empty 404. */
export const notFound: FakeHandler = (_call, res) => {
  res.writeHead(404).end();
};

/** Never answers. */
export const blackHole: FakeHandler = () => {};

/** Destroys the connection after reading the request: the request was sent, no response comes. */
export const resetAfterRequest: FakeHandler = (_call, res) => {
  res.socket?.destroy();
};

/** Answers after `ms`. */
export function delayed(ms: number, inner: FakeHandler): FakeHandler {
  return (call, res, req) => {
    const timer = setTimeout(() => inner(call, res, req), ms);
    res.on("close", () => clearTimeout(timer));
  };
}
