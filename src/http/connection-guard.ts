import type { Server } from "node:http";
import type { Socket } from "node:net";
import type { HttpLimits } from "./server.settings";
import type { Logger } from "../logging/logger";
import type { ConnectionRefusal } from "../observability/metrics";
import { type SummarisedLines, summaryLines } from "../logging/summarised";
import { clientIpKey } from "./client-ip";
import type { TrustProxy } from "../util/trusted-proxies";
import { withoutKey } from "../util/transient-map";

/**
 * At most this many "connections refused" warnings per reason (per_ip, total, oldest_closed: the metric's) and
 * SUMMARY_INTERVAL_MS (10 s); the rest are counted in one summary line at the interval's end (no log flood: a client
 * opening connections in a loop costs nothing).
 */
export const CONNECTION_REFUSAL_LINES_PER_INTERVAL = 1;

/**
 * The key a socket is counted under (null: a trusted proxy's, in the total only), or false once it no longer counts
 * (authenticated or closed). Set to false rather than deleted: `delete` would turn every socket into a slow dictionary object.
 */
const COUNTED_AS = Symbol("unauthenticatedKey");
type CountedSocket = Socket & { [COUNTED_AS]?: string | null | false };

/**
 * How many of the oldest unauthenticated connections are looked at, at most, for one with no request in progress to
 * close in favour of a new one (MAX_UNAUTHENTICATED_CONNECTIONS reached). Bounded: a storm of connections that all
 * carry requests costs each new one at most this many checks, and the new one is then closed as before.
 */
const EVICTION_SCAN = 32;

/**
 * Limits connections that have not yet carried an authenticated request (docs/security.md "Slow clients and connection limits": a client holding sockets
 * open, each trickling a request in, costs no credential). Every accepted connection counts against its client IP
 * (an IPv4 address, or an IPv6 /64: client-ip.ts) and against the listener's total until a request on it passes
 * authentication (`authenticated(socket)`) or it closes. A connection over its IP's cap is destroyed as it is
 * accepted, before a byte of it is parsed (MAX_UNAUTHENTICATED_CONNECTIONS_PER_IP, default 256); at the total
 * (MAX_UNAUTHENTICATED_CONNECTIONS, default 4096) the oldest counted connection with no request in progress is
 * closed to make room, and the new one only when there is none (#closeOldestIdle says why).
 *
 * Connections from TRUSTED_PROXIES count toward the total only: one proxy carries many clients, and which client a
 * request is from is known only from its X-Forwarded-For, after the headers. Connections that never authenticate
 * (slow or idle ones) are still cut by HEADERS_TIMEOUT_MS and REQUEST_TIMEOUT_MS, which frees their place.
 */
export class ConnectionGuard {
  // Not readonly, either table: emptied, it is replaced by a new one, not deleted from (withoutKey:
  // util/transient-map.ts); a connection is counted from its opening to its first request's authentication, so both
  // empty again and again under connection churn.
  #perIp = new Map<string, number>();
  #total = 0;
  /** The connections counted now, oldest first (a Set keeps insertion order). */
  #counted = new Set<CountedSocket>();
  readonly #proxies: TrustProxy | null;
  /** "Connections refused" warnings: one per reason and 10 s, the rest in a summary (#noteRefusal). */
  readonly #refusals: SummarisedLines;

  constructor(
    private readonly limits: Pick<HttpLimits, "maxUnauthenticatedConnectionsPerIp" | "maxUnauthenticatedConnections">,
    /** TRUSTED_PROXIES as given to Fastify's trustProxy (util/trusted-proxies.ts); null: none. */
    trust: TrustProxy | null,
    private readonly log: Logger,
    /** Names the listener in the refusal warning and the metric ("api", "metrics"). */
    private readonly listener: string,
    /** Counts each connection closed (metrics: http_connections_refused_total); none when absent. */
    private readonly countRefused?: (listener: string, reason: ConnectionRefusal) => void,
  ) {
    this.#proxies = trust;
    this.#refusals = summaryLines(log, {
      perInterval: CONNECTION_REFUSAL_LINES_PER_INTERVAL,
      fields: { listener },
      head: (n) => `unauthenticated connections over the limit: ${n} more closed`,
      each: "http_connections_refused_total counts each",
    });
  }

  /** Writes the refusals not written since the interval began (the listener's close). */
  flush(): void {
    this.#refusals.flush();
  }

  /** Counts every connection `server` accepts from now on. */
  attach(server: Server): void {
    server.on("connection", (socket: Socket) => this.#accept(socket as CountedSocket));
  }

  /** A request on `socket` passed authentication: the connection no longer counts. Idempotent. */
  authenticated(socket: Socket): void {
    this.#release(socket as CountedSocket);
  }

  /** Unauthenticated connections open now (for tests and metrics). */
  get unauthenticated(): number {
    return this.#total;
  }

  // A connection refused here is closed before any byte of it is read: no answer, so no request id, CORS header or
  // refused-origin warning (cors.ts) as every answered refusal has; no Origin is known.
  #accept(socket: CountedSocket): void {
    const address = socket.remoteAddress ?? "";
    // null: a trusted proxy's connection, counted in the total only.
    const key = this.#fromProxy(address) ? null : clientIpKey(address);
    const forIp = key === null ? 0 : (this.#perIp.get(key) ?? 0);
    if (forIp >= this.limits.maxUnauthenticatedConnectionsPerIp) {
      socket.destroy();
      this.#noteRefusal("per-ip", false);
      return;
    }
    if (this.#total >= this.limits.maxUnauthenticatedConnections && !this.#closeOldestIdle()) {
      socket.destroy();
      this.#noteRefusal("total", false);
      return;
    }
    this.#total += 1;
    if (key !== null) this.#perIp.set(key, forIp + 1);
    socket[COUNTED_AS] = key;
    this.#counted.add(socket);
    socket.once("close", () => this.#release(socket));
  }

  /**
   * MAX_UNAUTHENTICATED_CONNECTIONS reached: the oldest counted connection with no request in progress (nothing
   * sent yet, headers still trickling in, or only refused requests so far) is closed to make room, rather than the
   * new one refused. Before, the cap refused every new connection while it was full: clients on 16 IPv6 /64s (one
   * /60) holding 256 idle connections each, renewed every HEADERS_TIMEOUT_MS, kept every new client out. A real
   * client's connection counts only from its opening to its first request's authentication (a round trip): to close
   * it, the attacker must open the whole cap's worth of connections in that time, not once per 10 s. False when none
   * of the EVICTION_SCAN oldest qualifies.
   */
  #closeOldestIdle(): boolean {
    let looked = 0;
    for (const socket of this.#counted) {
      if (looked++ >= EVICTION_SCAN) return false;
      // Node's `_httpMessage`: the response in progress on the socket (no public accessor; http-server.ts too).
      if ((socket as Socket & { _httpMessage?: unknown })._httpMessage) continue;
      this.#release(socket);
      socket.destroy();
      this.#noteRefusal("total", true);
      return true;
    }
    return false;
  }

  #release(socket: CountedSocket): void {
    const key = socket[COUNTED_AS];
    if (key === false || key === undefined) return;
    socket[COUNTED_AS] = false;
    this.#counted = withoutKey(this.#counted, socket);
    this.#total -= 1;
    if (key === null) return;
    const left = (this.#perIp.get(key) ?? 1) - 1;
    if (left > 0) this.#perIp.set(key, left);
    else this.#perIp = withoutKey(this.#perIp, key);
  }

  /**
   * The question Fastify asks before it believes X-Forwarded-Proto (hop 0: the socket's peer), with the same function.
   * Before, a BlockList of our own: it took an IPv4 peer for a member of an IPv6 range such as `::/64`, which
   * proxy-addr does not (only a mapped range, `::ffff:a.b.c.d/96` and longer, spans IPv4), so such a peer escaped
   * MAX_UNAUTHENTICATED_CONNECTIONS_PER_IP while its X-Forwarded-For was not believed.
   */
  #fromProxy(address: string): boolean {
    return this.#proxies !== null && this.#proxies(address, 0);
  }

  #noteRefusal(cap: "per-ip" | "total", oldestClosed: boolean): void {
    // Every one counted; the warning below is summarised (one line per reason and 10 s, then a summary).
    const reason = oldestClosed ? "oldest_closed" : cap === "per-ip" ? "per_ip" : "total";
    this.countRefused?.(this.listener, reason);
    if (!this.#refusals.take(reason)) return;
    // No address: the cap (and the summary's counts) say what an operator needs.
    this.log.warn(
      { listener: this.listener, cap, limits: this.limits },
      oldestClosed
        ? "unauthenticated connections over the limit: the oldest idle one closed for a new one"
        : "unauthenticated connections over the limit: closed as accepted",
    );
  }
}
