// @ts-check
"use strict";
/**
 * A minimal HTTP/1.1 client connection on `node:net`, for the overload scenario's closed-loop clients
 * (lib/closed-loop.js). Why not undici: with 1,500 clients resending at once, an undici Pool in the bench process used
 * 0.97 of a core and its event loop was 31 ms late at the median (docs/performance-runs.md, "Overload"), so the shed
 * latency the bench reported was mostly the load generator's own queue. This does only what those clients need:
 *
 *   - one socket, kept alive, one request at a time (no pipelining), reconnected lazily after the server closes it
 *     (`connection: close`, or a close between requests);
 *   - the request is one string: a precomputed head (method, path, host, the fixed headers) + content-length + body;
 *   - the response parser reads the status line, the headers (it keeps `content-length`, `transfer-encoding`,
 *     `retry-after`, `connection`), and a body framed by content-length, by chunked encoding, or by the close of the
 *     connection (a response without either);
 *   - a request not answered after `timeoutMs` destroys the socket (as undici's abort does) and ends as a timeout.
 *
 * Timeouts are checked by the owner's sweep (`checkTimeout`), not by one timer per request: 1,500 timers armed and
 * cleared per round trip are a cost of their own. bench/closed-loop-check.js runs this client and undici's against the
 * same scripted server (200 data, 200 typed OVERLOADED, 503 with Retry-After, `connection: close`, chunked, a reset,
 * a timeout) and fails if any answer is classified differently.
 */
const net = require("node:net");

/** @typedef {{ status: number, retryAfter: string | undefined, text: string }} RawResponse */

const CRLF2 = Buffer.from("\r\n\r\n");

class TimeoutError extends Error {
  constructor() {
    super("request timed out (raw client)");
    this.name = "TimeoutError";
  }
}

class RawConnection {
  /**
   * @param {{ host: string, port: number, head: string }} target `head`: the request line and fixed headers, each
   *   ending in CRLF, without content-length and without the blank line
   */
  constructor(target) {
    this.target = target;
    /** @type {net.Socket | null} */
    this.socket = null;
    /** @type {Buffer | null} bytes received and not yet parsed */
    this.buf = null;
    /** @type {((r: RawResponse) => void) | null} */
    this.resolve = null;
    /** @type {((e: Error) => void) | null} */
    this.reject = null;
    /** performance.now() deadline of the request in flight (Infinity: none) */
    this.deadline = Infinity;
    // Parsed head of the response in progress (-1: not yet): the values #reset sets, written out here because
    // @ts-check takes a field's type from the constructor (through #reset they would all be `T | undefined`).
    this.status = -1;
    this.bodyStart = 0;
    this.contentLength = -1;
    this.chunked = false;
    this.close = false;
    /** @type {string | undefined} */
    this.retryAfter = undefined;
  }

  /** @param {string} body @param {number} timeoutMs @returns {Promise<RawResponse>} */
  request(body, timeoutMs) {
    if (this.resolve) return Promise.reject(new Error("raw client: one request at a time"));
    if (!this.socket) this.#connect();
    this.#reset();
    this.deadline = performance.now() + timeoutMs;
    const promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    /** @type {net.Socket} */ (this.socket).write(
      `${this.target.head}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    return /** @type {Promise<RawResponse>} */ (promise);
  }

  /** Ends the request in flight as a timeout if its deadline has passed. @param {number} now performance.now() */
  checkTimeout(now) {
    if (this.resolve && now >= this.deadline) this.#fail(new TimeoutError());
  }

  destroy() {
    this.socket?.destroy();
    this.socket = null;
  }

  #connect() {
    const socket = net.connect({ host: this.target.host, port: this.target.port });
    socket.setNoDelay(true);
    this.socket = socket;
    this.buf = null;
    socket.on("data", (chunk) => {
      if (this.socket !== socket) return;
      this.buf = this.buf === null ? chunk : Buffer.concat([this.buf, chunk]);
      this.#parse();
    });
    const gone = (/** @type {Error | undefined} */ e) => {
      if (this.socket !== socket) return;
      this.socket = null;
      // A response framed by the close of the connection ends here.
      if (this.resolve && this.status >= 0 && this.contentLength < 0 && !this.chunked) {
        this.#done(this.buf ? this.buf.toString("utf8", this.bodyStart) : "");
        return;
      }
      if (this.resolve) this.#fail(e ?? new Error("socket closed before the answer (raw client)"));
    };
    socket.on("error", gone);
    socket.on("close", () => gone(undefined));
  }

  #reset() {
    this.status = -1;
    this.bodyStart = 0;
    this.contentLength = -1;
    this.chunked = false;
    this.close = false;
    this.retryAfter = undefined;
  }

  #parse() {
    const buf = /** @type {Buffer} */ (this.buf);
    if (!this.resolve) {
      // Bytes with no request in flight: the server is broken; drop the connection.
      this.destroy();
      return;
    }
    if (this.status < 0) {
      const end = buf.indexOf(CRLF2);
      if (end < 0) return;
      const lines = buf.toString("latin1", 0, end).split("\r\n");
      // "HTTP/1.1 503 Service Unavailable"
      const status = Number(lines[0].slice(9, 12));
      if (!lines[0].startsWith("HTTP/1.") || !(status >= 100 && status < 600)) {
        this.#fail(new Error(`bad status line (raw client): ${lines[0].slice(0, 40)}`));
        return;
      }
      for (let i = 1; i < lines.length; i++) {
        const line = lines[i];
        const colon = line.indexOf(":");
        if (colon < 0) continue;
        const name = line.slice(0, colon).toLowerCase();
        if (name === "content-length") this.contentLength = Number(line.slice(colon + 1).trim());
        else if (name === "transfer-encoding") this.chunked = /chunked/i.test(line.slice(colon + 1));
        else if (name === "retry-after") this.retryAfter = line.slice(colon + 1).trim();
        else if (name === "connection") this.close = /close/i.test(line.slice(colon + 1));
      }
      if (status < 200) {
        // An interim answer (100 Continue): skip it, its final answer follows.
        this.buf = buf.length > end + 4 ? buf.subarray(end + 4) : null;
        this.#reset();
        if (this.buf) this.#parse();
        return;
      }
      this.status = status;
      this.bodyStart = end + 4;
      if (this.chunked) this.contentLength = -1;
    }
    if (this.contentLength >= 0) {
      if (buf.length - this.bodyStart < this.contentLength) return;
      this.#done(buf.toString("utf8", this.bodyStart, this.bodyStart + this.contentLength));
      return;
    }
    if (this.chunked) {
      /** @type {string | null} */
      let body;
      try {
        body = dechunk(buf, this.bodyStart);
      } catch (e) {
        this.#fail(/** @type {Error} */ (e));
        return;
      }
      if (body !== null) this.#done(body);
    }
    // Otherwise the body ends with the connection ('close' above).
  }

  /** @param {string} text */
  #done(text) {
    const resolve = /** @type {(r: RawResponse) => void} */ (this.resolve);
    this.resolve = null;
    this.reject = null;
    this.deadline = Infinity;
    this.buf = null;
    // Nothing may follow one answer: no pipelining. A server that closes after it is reconnected to next time.
    if (this.close) this.destroy();
    resolve({ status: this.status, retryAfter: this.retryAfter, text });
  }

  /** @param {Error} e */
  #fail(e) {
    const reject = /** @type {(e: Error) => void} */ (this.reject);
    this.resolve = null;
    this.reject = null;
    this.deadline = Infinity;
    this.destroy();
    reject(e);
  }
}

/**
 * The body of a chunked message starting at `from`, or null while its last chunk has not arrived (trailers are not
 * expected and not read: the terminating CRLF after the last chunk is required).
 * @param {Buffer} buf @param {number} from @returns {string | null}
 */
function dechunk(buf, from) {
  /** @type {Buffer[]} */
  const parts = [];
  let at = from;
  for (;;) {
    const eol = buf.indexOf("\r\n", at, "latin1");
    if (eol < 0) return null;
    const size = parseInt(buf.toString("latin1", at, eol), 16);
    if (!(size >= 0)) throw new Error("bad chunk size (raw client)");
    if (size === 0) return buf.length >= eol + 4 ? Buffer.concat(parts).toString("utf8") : null;
    if (buf.length < eol + 2 + size + 2) return null;
    parts.push(buf.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

/**
 * The fixed part of every request: request line, host, the given headers. @param {URL} url
 * @param {Record<string, string>} headers
 */
function requestHead(url, headers) {
  let head = `POST ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  return head;
}

module.exports = { RawConnection, requestHead, TimeoutError };
