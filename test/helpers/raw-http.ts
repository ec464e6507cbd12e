import { connect, type Socket } from "node:net";
import { request } from "undici";
import { until } from "./holding-upstream";

/** A raw TCP client of the server under test: for what undici will not send (half bodies, trickles, bad framing). */
export interface RawClient {
  socket: Socket;
  /** Everything received so far (latin1: one character per byte). */
  received(): string;
  /** Resolves with ms from open to close. */
  closed: Promise<number>;
  /** Writes `text` one character every `everyMs` until closed or done; resolves with the count written. */
  trickle(text: string, everyMs: number): Promise<number>;
}

/** Connects to 127.0.0.1 at `target`: a port, or a base URL (its port). */
export function rawClient(target: number | string): Promise<RawClient> {
  const port = typeof target === "number" ? target : Number(new URL(target).port);
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const openedAt = Date.now();
    let data = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => (data += chunk));
    socket.on("error", () => undefined);
    const closed = new Promise<number>((r) => socket.once("close", () => r(Date.now() - openedAt)));
    socket.once("connect", () =>
      resolve({
        socket,
        received: () => data,
        closed,
        trickle: async (text, everyMs) => {
          let i = 0;
          while (i < text.length && !socket.destroyed && socket.writable) {
            socket.write(text[i]);
            i += 1;
            await new Promise((r) => setTimeout(r, everyMs));
          }
          return i;
        },
      }),
    );
    socket.once("error", reject);
  });
}

/** Status, headers (lower-cased names) and body of the first HTTP response in `raw`. */
export function parseResponse(raw: string): { status: number; headers: Record<string, string>; body: string } {
  const end = raw.indexOf("\r\n\r\n");
  const [statusLine, ...lines] = raw.slice(0, end).split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(" ")[1]), headers, body: raw.slice(end + 4) };
}

/**
 * Announces a body of `total` bytes after `head` (the request line and headers, without the final CRLF) and pushes it
 * in 64 KiB chunks for up to 3 s, or until the server closes the connection; then waits up to 2 s for the close.
 * Returns the bytes pushed: less than `total` when the server closed the connection rather than read the body.
 */
export async function pushAnnouncedBody(c: RawClient, head: string, total: number): Promise<number> {
  c.socket.write(`${head}\r\ncontent-length: ${total}\r\n\r\n`);
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let sent = 0;
  const end = Date.now() + 3000;
  while (sent < total && !c.socket.destroyed && Date.now() < end) {
    sent += chunk.length;
    if (!c.socket.write(chunk)) {
      let drained = () => undefined as void;
      await within(new Promise<void>((r) => c.socket.once("drain", (drained = r))), 200);
      c.socket.off("drain", drained);
    }
  }
  await within(c.closed, 2000);
  return sent;
}

/**
 * `promise`'s value, or undefined after `ms` if it has not settled by then; the timer is cleared either way. A
 * `Promise.race` with a bare `setTimeout` left that timer armed after the race was won: pushAnnouncedBody's 2-s wait
 * for a close that had already come held the process, and Jest said it "did not exit one second after the test run"
 * (refusal-media-type.test.ts; --detectOpenHandles named nothing).
 */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** An answer as the refusal tests read it: status, headers, body text. */
export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One request with undici (which reuses no state between tests here): its status, headers and body text. */
export async function send(url: string, init: Parameters<typeof request>[1] = {}): Promise<Answer> {
  const res = await request(url, init);
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

/**
 * A request undici will not send as is (Expect, a malformed URL or header, oversized headers), written on a socket
 * with its content-length: the first answer, read whole.
 */
export async function sendRaw(baseUrl: string, head: string, body = ""): Promise<Answer> {
  const c = await rawClient(baseUrl);
  c.socket.write(`${head}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  await until("an answer", () => {
    const raw = c.received();
    const end = raw.indexOf("\r\n\r\n");
    const length = /\r\ncontent-length: *(\d+)/i.exec(raw.slice(0, end));
    return end > 0 && length !== null && raw.length >= end + 4 + Number(length[1]);
  });
  c.socket.destroy();
  const res = parseResponse(c.received());
  return { status: res.status, headers: res.headers, text: res.body };
}
