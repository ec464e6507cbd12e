import { hash, timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { MetricsConfig } from "../observability/metrics.settings";
import type { HttpLimits } from "./server.settings";
import { ConnectionGuard } from "./connection-guard";
import { answerClientError, limitResponseWrite, missingHost, nodeServerOptions } from "./node-limits";
import type { Logger } from "../logging/logger";
import type { ConnectionRefusal } from "../observability/metrics";
import { listenErrorNamingSetting } from "../util/listen-error";
import { ASTERISK, routedPath } from "./routed-path";

/** What is served: a registry's text (one process), or the cluster primary's aggregate of every worker's (cluster.ts). */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

/**
 * `/metrics` on a listener of its own (default 127.0.0.1:9464), never on the public API port: scrapers reach it on
 * the pod network, clients cannot. METRICS_TOKEN adds a bearer check for when the listener must be exposed wider.
 * It has the API listener's slow-client and connection limits (node-limits.ts, connection-guard.ts): a connection
 * counts as authenticated once a scrape on it passes the token check (any scrape when there is no token).
 */
export class MetricsServer {
  readonly #server: Server;
  /** Its connection guard: its refusal warnings' summary is written at close. */
  readonly #guard: ConnectionGuard;
  /**
   * Scrapes accepted with METRICS_TOKEN and with METRICS_TOKEN_PREVIOUS, served on the page itself as
   * `metrics_scrapes_total{token}`: a rotation's step 3 ("once the scrapers use the new token", docs/operations.md
   * "Rotating the metrics token") is known, not assumed, when the previous token's count has stopped rising on every
   * replica (a second scraper, a federation or a dashboard still on the old one shows there). Counted here, where the
   * check is, in whichever process listens (the cluster's primary included); without METRICS_TOKEN, not at all.
   */
  readonly #scrapes = { current: 0, previous: 0 };
  /**
   * Scrapes answered 500 because the page could not be collected (a collect() that threw; in the cluster's primary, a
   * worker that did not answer within prom-client's 5 s), served on the next page that can be as
   * `metrics_collection_failures_total`, at 0 from the first. A failed scrape is a hole Prometheus sees only as `up`
   * 0 for that scrape; before, the error line `metrics collection failed` alone said why.
   */
  #collectionFailures = 0;
  /**
   * Requests this listener refused, by status, served on its page as `metrics_requests_refused_total{status}`, every
   * status at 0 from the first: 400 (an HTTP/1.1 request without Host, a target the API listener's router refuses,
   * or one Node's parser refused as malformed), 401 (no or a wrong METRICS_TOKEN: a scraper left on a retired token
   * shows here, not only as `up` 0), 404 (another path, read as that router reads it: routed-path.ts), 405 (another
   * method), and the parser's 408 (headers or body not arrived within HEADERS_TIMEOUT_MS or
   * REQUEST_TIMEOUT_MS) and 431 (over MAX_HEADER_BYTES). The parser's were answered (answerClientError) but not
   * counted: a scraper whose requests this listener cannot parse, or one too slow for its limits, showed only as
   * `up` 0.
   */
  readonly #refused: Record<RefusedStatus, number> = { 400: 0, 401: 0, 404: 0, 405: 0, 408: 0, 431: 0 };

  constructor(
    private readonly config: MetricsConfig,
    source: MetricsSource,
    log: Logger,
    limits: HttpLimits,
    /**
     * Counts connections its connection guard closes (a single process: into the registry it serves). None in the
     * cluster's primary, which has no registry of its own: its warning line says it.
     */
    countConnectionRefused?: (listener: string, reason: ConnectionRefusal) => void,
  ) {
    // Digests compared, not the headers: equal lengths always, so neither the comparison's time nor a length check
    // before it tells a scraper how long the token is (an audit: the length was compared first).
    // During a rotation the previous token too (METRICS_TOKEN_PREVIOUS): both compared on every scrape, whichever
    // matches, so the time taken does not say which one a scraper holds.
    const expected = config.token ? bearerDigest(`Bearer ${config.token}`) : null;
    const previous = config.token && config.previousToken ? bearerDigest(`Bearer ${config.previousToken}`) : null;
    const guard = (this.#guard = new ConnectionGuard(limits, null, log, "metrics", countConnectionRefused));
    // Node's requireHostHeader is off (nodeServerOptions): its bare 400 for a request without Host was neither in this
    // listener's plain text nor counted.
    this.#server = createServer(nodeServerOptions(limits), (req, res) => {
      limitResponseWrite(req.socket, limits);
      // First, as Node's check was: whatever the path, method or token (RFC 9112 §3.2). Connection: close as Node's
      // answer had: a client that sends no Host may not frame its next request right either.
      if (missingHost(req)) {
        this.#refused[400] += 1;
        res
          .writeHead(400, {
            "content-type": "text/plain",
            "content-length": NO_HOST_ANSWER.length,
            connection: "close",
          })
          .end(NO_HOST_ANSWER);
        return;
      }
      // `*`, the server as a whole (RFC 9112 §3.2.4), a target of OPTIONS alone, as on the API listener (http-server.ts
      // ALLOW_ASTERISK): it was a 404 here, to OPTIONS too.
      if (ASTERISK.test(req.url ?? "")) {
        if (req.method === "OPTIONS") res.writeHead(204, { allow: METRICS_ALLOW }).end();
        else {
          this.#refused[405] += 1;
          res.writeHead(405, { "content-type": "text/plain", allow: "OPTIONS" }).end("Method not allowed\n");
        }
        return;
      }
      // The path as the API listener's router reads it (routed-path.ts): `/%6detrics` and `http://host/metrics` are
      // /metrics (they were 404 here while `/%68ealthz` is /healthz there), and a target that router refuses (a
      // malformed percent-escape) is a 400 here too.
      const path = routedPath(req.url ?? "");
      if (path === null) {
        this.#refused[400] += 1;
        res.writeHead(400, { "content-type": "text/plain" }).end("Bad request: malformed request target\n");
        return;
      }
      if (path !== "/metrics") {
        this.#refused[404] += 1;
        res.writeHead(404, { "content-type": "text/plain" }).end("Not found\n");
        return;
      }
      // RFC 9110: OPTIONS says what the path takes (§9.3.7), another method is 405 with the same Allow (§15.5.6), and
      // HEAD is GET without the body (§9.3.2; Node leaves the body out). Before, each was 404 Not found.
      if (req.method === "OPTIONS") {
        res.writeHead(204, { allow: METRICS_ALLOW }).end();
        return;
      }
      if (req.method !== "GET" && req.method !== "HEAD") {
        this.#refused[405] += 1;
        res.writeHead(405, { "content-type": "text/plain", allow: METRICS_ALLOW }).end("Method not allowed\n");
        return;
      }
      if (expected) {
        const given = bearerDigest(req.headers.authorization ?? "");
        const current = timingSafeEqual(given, expected);
        const old = previous !== null && timingSafeEqual(given, previous);
        if (!current && !old) {
          this.#refused[401] += 1;
          res.writeHead(401, { "content-type": "text/plain", "www-authenticate": "Bearer" }).end("Unauthorized\n");
          return;
        }
        this.#scrapes[current ? "current" : "previous"] += 1;
      }
      guard.authenticated(req.socket);
      source
        .metrics()
        .then((text) =>
          res
            .writeHead(200, { "content-type": source.contentType })
            .end(text + this.#failureLines() + this.#refusedLines() + (expected ? this.#scrapeLines() : "")),
        )
        .catch((error: unknown) => {
          this.#collectionFailures += 1;
          log.error({ err: error }, "metrics collection failed");
          res.writeHead(500, { "content-type": "text/plain" }).end("Error\n");
        });
    });
    // Counted as the API listener counts them (http_requests_refused_total): every refusal the parser raises but a
    // connection reset, whether or not its answer could still be written. Its status is one of 400, 408, 431.
    const countParserRefusal = (status: number) => {
      if (isRefusedStatus(status)) this.#refused[status] += 1;
    };
    this.#server.on("clientError", (error: Error, socket) =>
      answerClientError(error, socket as Socket, log, undefined, countParserRefusal),
    );
    guard.attach(this.#server);
  }

  /**
   * Resolves with the scrape URL, e.g. http://127.0.0.1:9464/metrics. A port in use or an address not this machine's
   * is refused naming METRICS_PORT or METRICS_HOST (the workers' primary and a single process listen through here).
   */
  async listen(): Promise<string> {
    const { host, port: configured } = this.config;
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", (error) => {
        const named = { hostSetting: "METRICS_HOST", host, portSetting: "METRICS_PORT", port: configured };
        reject(listenErrorNamingSetting(error, named));
      });
      this.#server.listen(configured, host, () => resolve());
    });
    const { address, port, family } = this.#server.address() as AddressInfo;
    return `http://${family === "IPv6" ? `[${address}]` : address}:${port}/metrics`;
  }

  /** `metrics_collection_failures_total` in the text format the registry writes (each line ends with a newline). */
  #failureLines(): string {
    return (
      "# HELP metrics_collection_failures_total Scrapes of this listener answered 500 because the metrics could not " +
      "be collected (in a cluster's primary: a worker that did not answer).\n" +
      "# TYPE metrics_collection_failures_total counter\n" +
      `metrics_collection_failures_total ${this.#collectionFailures}\n`
    );
  }

  /** `metrics_requests_refused_total` in the text format the registry writes (each line ends with a newline). */
  #refusedLines(): string {
    let text =
      "# HELP metrics_requests_refused_total Requests this listener refused, by status: 400 (HTTP/1.1 without Host, " +
      "or malformed), 401 (no or a wrong METRICS_TOKEN), 404 (a path other than /metrics), 405 (a method other than " +
      "GET, HEAD, OPTIONS), 408 (headers or body too slow), 431 (headers too large).\n" +
      "# TYPE metrics_requests_refused_total counter\n";
    for (const status of REFUSED_STATUSES)
      text += `metrics_requests_refused_total{status="${status}"} ${this.#refused[status]}\n`;
    return text;
  }

  /** `metrics_scrapes_total` in the text format the registry writes (each line ends with a newline). */
  #scrapeLines(): string {
    const { current, previous } = this.#scrapes;
    return (
      "# HELP metrics_scrapes_total Scrapes of this listener accepted, by the token they sent: current " +
      "(METRICS_TOKEN) or previous (METRICS_TOKEN_PREVIOUS, during a rotation).\n" +
      "# TYPE metrics_scrapes_total counter\n" +
      `metrics_scrapes_total{token="current"} ${current}\n` +
      `metrics_scrapes_total{token="previous"} ${previous}\n`
    );
  }

  close(): Promise<void> {
    this.#guard.flush();
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }
}

/** The statuses the metrics listener refuses with, its own and Node's parser's (metrics_requests_refused_total). */
export const REFUSED_STATUSES = [400, 401, 404, 405, 408, 431] as const;
type RefusedStatus = (typeof REFUSED_STATUSES)[number];

function isRefusedStatus(status: number): status is RefusedStatus {
  return (REFUSED_STATUSES as readonly number[]).includes(status);
}

/** The metrics listener's answer to an HTTP/1.1 request without Host (ASCII: its length is its byte count). */
const NO_HOST_ANSWER = "Bad request: an HTTP/1.1 request must carry a Host header\n";

/** The methods /metrics takes. */
const METRICS_ALLOW = "GET, HEAD, OPTIONS";

/** SHA-256 of an Authorization value: what the metrics token check compares (a fixed 32 bytes). */
function bearerDigest(value: string): Buffer {
  return hash("sha256", value, "buffer");
}

/** The "metrics listening" line's `auth`: `none`, `bearer`, or `bearer+previous` while METRICS_TOKEN_PREVIOUS is set. */
export function metricsAuth(config: MetricsConfig): "none" | "bearer" | "bearer+previous" {
  if (!config.token) return "none";
  return config.previousToken ? "bearer+previous" : "bearer";
}
