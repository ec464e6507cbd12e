import type { Level } from "pino";
import { z } from "zod";
import { bool, custom, defineSettings, int, LISTEN_ADDRESS, listOf, oneOf, text } from "../settings/schema";
import { trustedProxyProblem } from "../util/trusted-proxies";

/** Slow-client and connection limits of the API and metrics listeners (src/http/server.settings.ts). */
export interface HttpLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxHeaderBytes: number;
  responseWriteTimeoutMs: number;
  maxUnauthenticatedConnectionsPerIp: number;
  maxUnauthenticatedConnections: number;
}

export const DEFAULT_PORT = 4000;
export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_LOG_LEVEL: Level = "info";
export const LOG_LEVELS: readonly Level[] = ["fatal", "error", "warn", "info", "debug", "trace"];
export type LogFormat = "json" | "pretty";
/** Vite's dev server, so the example app works out of the box in development. Production default: none. */
export const DEFAULT_DEV_CORS_ORIGINS = ["http://localhost:5173", "http://127.0.0.1:5173"];
/** 32 KiB: a GraphQL document for these operations is well under 2 KiB (docs/security-requirements.md A4 proposes 16-64 KB). */
export const DEFAULT_BODY_LIMIT_BYTES = 32 * 1024;
export const DEFAULT_SHUTDOWN_GRACE_MS = 15_000;
/** 0: the drain starts at SIGTERM, as before the setting existed. Behind Kubernetes 5000 (docs/deploying.md). */
export const DEFAULT_SHUTDOWN_DELAY_MS = 0;
/** Below common load-balancer timeouts (AWS ALB 60 s, nginx 60 s, Kubernetes ingress 60 s) with room to spare. */
export const DEFAULT_REQUEST_DEADLINE_MS = 10_000;
/** The longest REQUEST_DEADLINE_MS may be: what bounds a mark in Redis of any replica (registered-mobiles.ts). */
export const MAX_REQUEST_DEADLINE_MS = 120_000;
/**
 * Slow-client limits (docs/security.md "Slow clients and connection limits"), given to Node's HTTP server when it is created: on Node 24, `requestTimeout`
 * and `headersTimeout` set on a server after creation (as fastify's own `requestTimeout` option does) never cut a
 * request whose body trickles in. Node checks them every CONNECTIONS_CHECKING_INTERVAL_MS, so a slow request is
 * answered 408 between the limit and the limit plus one second.
 */
export const DEFAULT_SERVER_HEADERS_TIMEOUT_MS = 10_000;
export const DEFAULT_SERVER_REQUEST_TIMEOUT_MS = 15_000;
/** Above the idle timeouts of the load balancers in front (AWS ALB and nginx 60 s), so they close first (no 502 races). */
export const DEFAULT_SERVER_KEEP_ALIVE_TIMEOUT_MS = 72_000;
/** 16 KiB, Node's own default: request line and headers together (a long URL counts). */
export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;
export const DEFAULT_RESPONSE_WRITE_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_UNAUTHENTICATED_CONNECTIONS_PER_IP = 256;
export const DEFAULT_MAX_UNAUTHENTICATED_CONNECTIONS = 4096;
/** How often Node looks for requests past HEADERS_TIMEOUT_MS / REQUEST_TIMEOUT_MS (Node's default is 30 s). */
export const CONNECTIONS_CHECKING_INTERVAL_MS = 1_000;
/**
 * Node's listen() default is 511: with thousands of clients connecting at once the kernel's accept queue overflowed
 * and clients waited for SYN retransmissions (1, 3, 7 s; bench/README.md). The kernel caps it at net.core.somaxconn
 * (4096 since Linux 5.4).
 */
export const DEFAULT_LISTEN_BACKLOG = 4_096;

/** An exact browser origin: scheme, host and port, nothing more. The entry is echoed: origins are not secrets. */
const origin = z.string().refine(
  (entry) => {
    try {
      const u = new URL(entry);
      return (u.protocol === "http:" || u.protocol === "https:") && u.origin === entry;
    } catch {
      return false;
    }
  },
  {
    error: (issue) =>
      `entries must be exact origins like https://app.example.com (bad entry: ${JSON.stringify(issue.input)})`,
  },
);

/** An IPv4/IPv6 address or CIDR that Fastify's proxy-addr compiles (util/trusted-proxies.ts says why it judges). */
const proxy = z.string().check((ctx) => {
  const problem = trustedProxyProblem(ctx.value);
  if (problem !== null) ctx.issues.push({ code: "custom", message: problem, input: ctx.value });
});

/** The HTTP server (src/http/http-server.ts, src/app.ts): where it listens, what it accepts, how it drains. */
export const serverSettings = defineSettings({
  title: "Server",
  module: "src/http/http-server.ts",
  prefixes: [],
  settings: {
    NODE_ENV: oneOf(["development", "production", "test"], {
      default: "development",
      doc:
        "`production` turns off Sandbox, the self-hosted explorer (`/graphiql`), introspection and field suggestions, gives graphql-js and Apollo errors fixed texts, " +
        "and requires `AOPAY_BASE_URL`, `HMAC_SECRET` and client authentication",
    }),
    PORT: int({ default: DEFAULT_PORT, min: 0, max: 65_535, doc: "listen port (`0`: ephemeral)" }),
    HOST: text({
      ...LISTEN_ADDRESS,
      default: DEFAULT_HOST,
      doc:
        "listen address (`0.0.0.0` in the Docker image); a name is bound at the first address it resolves to, " +
        "`localhost` included (not ::1 beside 127.0.0.1: see docs/operations.md, Readiness and shutdown)",
    }),
    LOG_LEVEL: oneOf(LOG_LEVELS, {
      default: DEFAULT_LOG_LEVEL,
      doc: "`fatal`, `error`, `warn`, `info`, `debug` or `trace`; redaction applies at every level",
    }),
    ALLOW_RAW_DEBUG_OUTPUT: bool({
      default: false,
      doc:
        "`true`: start in production although a debugging switch whose output no scrubber reads is on (`NODE_DEBUG`: Node writes " +
        "its sections to stderr raw, `stream` the first 50 bytes of each request and AOPay answer read; `--heapsnapshot-signal`, " +
        "`--heapsnapshot-near-heap-limit` in `NODE_OPTIONS` or Node's arguments: the whole heap, secrets and requests, to a file; " +
        "`--tls-keylog`: the TLS keys of the AOPay connections, to a file; `--trace-event-categories`: its HTTP category " +
        "writes each request's URL, a GraphQL GET's variables, to a file; `--inspect`, `--inspect-brk`, `--inspect-wait`, " +
        "`--inspect-port`: Node's inspector, a debugger's port that runs code in the process, which SIGUSR1 opens too; " +
        "an options file (`--experimental-config-file`) that may hold any of these; " +
        "`--abort-on-uncaught-exception`: a fault printed raw and a core dump; V8's `--trace-*`, `--print-*`, `--log-*` " +
        "output flags in Node's arguments). " +
        "`false`: production refuses to start with one on, naming it (development and test start, with a warning line), " +
        "and takes SIGUSR1 with a warning line instead of opening the inspector. " +
        "`DEBUG` (the debug module, ioredis' `DEBUG=ioredis:*`) needs no such consent: its lines go through the logger, scrubbed " +
        "(docs/operations.md)",
    }),
    LOG_FORMAT: oneOf(["json", "pretty"], {
      defaultDoc: "`pretty` in development when the log goes to a terminal (and under `npm run dev`); `json` otherwise",
      doc:
        "`json`: one JSON object per line, times in epoch milliseconds (what log shippers parse); `pretty`: readable lines with local " +
        "times (pino-pretty, a dev dependency), with the same redaction. Refused in production",
    }),
    CORS_ORIGINS: custom(listOf(origin), {
      defaultDoc: "dev: `http://localhost:5173,http://127.0.0.1:5173`; production: none",
      doc:
        "comma-separated exact browser origins allowed to call the API; empty: none. Outside production any `http://localhost:<port>`, " +
        "`http://127.0.0.1:<port>` and `http://[::1]:<port>` is allowed as well. A refused origin is logged once (`CORS: refused …`) " +
        "with the value that would allow it (at most 10 such lines per 10 s); its page sees only `TypeError: Failed to fetch`",
      example: "https://app.example.com",
      emptyIsValue: true,
    }),
    LISTEN_BACKLOG: int({
      default: DEFAULT_LISTEN_BACKLOG,
      min: 1,
      max: 65_535,
      doc: "connections the kernel may queue before the server accepts them (capped by `net.core.somaxconn`; Node's default is 511)",
    }),
    BODY_LIMIT_BYTES: int({
      default: DEFAULT_BODY_LIMIT_BYTES,
      min: 1024,
      max: 1024 * 1024,
      doc: "largest accepted request body",
    }),
    SHUTDOWN_GRACE_MS: int({
      default: DEFAULT_SHUTDOWN_GRACE_MS,
      min: 0,
      max: 600_000,
      doc: "on SIGTERM, how long in-flight requests may take before connections are cut; sends still upstream are aborted and answered `OutcomeUnknown` a quarter of it (at most 500 ms) before (`0`: cut at once, unanswered; 1 to 99 are refused: a number of seconds, in milliseconds). A stop signal during the drain does the same at once and exits 128 + its number (130 for SIGINT)",
    }),
    SHUTDOWN_DELAY_MS: int({
      default: DEFAULT_SHUTDOWN_DELAY_MS,
      min: 0,
      max: 120_000,
      doc: "on SIGTERM, how long the server still serves every request while `/readyz` answers 503 `draining` (and answers ask for `Connection: close`), so that the load balancers take it out before its listener closes; then the `SHUTDOWN_GRACE_MS` drain. A second stop signal (SIGTERM, SIGINT, SIGHUP, SIGQUIT; the same signal within 250 ms of the last one that counted is that one passed on: `npm start`, a process group's) drains at once (one during the drain cuts it short: `SHUTDOWN_GRACE_MS`); in a cluster the primary takes the signals and orders its workers. Behind Kubernetes `5000` (`0`: drain at once)",
    }),
    REQUEST_DEADLINE_MS: int({
      default: DEFAULT_REQUEST_DEADLINE_MS,
      min: 100,
      max: MAX_REQUEST_DEADLINE_MS,
      doc: "whole-request budget of a mutation; attempts get what is left. A client may send `x-request-timeout-ms` to shorten it (never to lengthen it)",
    }),
    TRUSTED_PROXIES: custom(listOf(proxy), {
      defaultDoc: "none",
      doc:
        "comma-separated proxy IPs/CIDRs whose `X-Forwarded-For` (the client IP: budgets, logs) and `X-Forwarded-Proto` " +
        "(a browser origin's same-origin check) are believed; each hop is compared without a port, brackets or an IPv6 " +
        "zone index (`10.0.0.5:443`, `[fe80::1%eth0]:443` match `10.0.0.5`, `fe80::1`), and an entry with a zone index " +
        "is refused",
      example: "10.0.0.0/8",
    }),
    HEADERS_TIMEOUT_MS: int({
      default: DEFAULT_SERVER_HEADERS_TIMEOUT_MS,
      min: 500,
      max: 120_000,
      doc:
        "a request's line and headers must have arrived this long after it began (or after the connection opened), else it is answered 408 and the " +
        "connection closed, within one more second. At most `REQUEST_TIMEOUT_MS`",
    }),
    REQUEST_TIMEOUT_MS: int({
      default: DEFAULT_SERVER_REQUEST_TIMEOUT_MS,
      min: 500,
      max: 300_000,
      doc: "a whole request, body included, must have arrived this long after it began, else it is answered 408 and the connection closed, within one more second",
    }),
    KEEP_ALIVE_TIMEOUT_MS: int({
      default: DEFAULT_SERVER_KEEP_ALIVE_TIMEOUT_MS,
      min: 1_000,
      max: 600_000,
      doc: "an idle kept-alive connection is closed after this long; keep it above the idle timeout of the load balancer in front (60 s for AWS ALB and nginx)",
    }),
    MAX_HEADER_BYTES: int({
      default: DEFAULT_MAX_HEADER_BYTES,
      min: 1024,
      max: 64 * 1024,
      doc: "largest request line plus headers (URL included); larger answers 431 and the connection is closed",
    }),
    RESPONSE_WRITE_TIMEOUT_MS: int({
      default: DEFAULT_RESPONSE_WRITE_TIMEOUT_MS,
      min: 500,
      max: 600_000,
      doc: "a response the client does not read is cut (the connection destroyed) when no byte of it could be sent for this long",
    }),
    MAX_UNAUTHENTICATED_CONNECTIONS_PER_IP: int({
      default: DEFAULT_MAX_UNAUTHENTICATED_CONNECTIONS_PER_IP,
      min: 1,
      max: 1_000_000,
      doc:
        "open connections one client IP (an IPv6 /64) may hold before a request on them passes authentication; more are closed as they are accepted. " +
        "Connections from `TRUSTED_PROXIES` count only toward `MAX_UNAUTHENTICATED_CONNECTIONS`",
    }),
    MAX_UNAUTHENTICATED_CONNECTIONS: int({
      default: DEFAULT_MAX_UNAUTHENTICATED_CONNECTIONS,
      min: 1,
      max: 1_000_000,
      doc:
        "open connections, from all clients together, that have not yet carried an authenticated request; at the cap, the oldest of them with no " +
        "request in progress (one still sending its headers, or idle) is closed for a new one, and the new one only when there is none",
    }),
    // Both false by default: Redis and AOPay are shared by every replica, so a 503 for their failure took every replica
    // out of the load balancer at once, and clients got its bare 502/503 instead of our typed answers with
    // retryAfterSeconds (docs/operations.md "Readiness and shutdown" says why, and what to alert on instead).
    READINESS_INCLUDES_REDIS: bool({
      default: false,
      doc:
        "whether Redis not answering (`redis-unavailable`), or answering with an evicting `maxmemory-policy` (`redis-evicting-policy`, " +
        "`redis-policy-unjudged`), makes `/readyz` answer 503. `false`: `/readyz` answers 200 with that status in its body, and the " +
        "replica stays in the load balancer, answering `PROTECTION_UNAVAILABLE` with `retryAfterSeconds` (Redis is shared: a 503 takes " +
        "every replica out at once)",
    }),
    READINESS_INCLUDES_BREAKER: bool({
      default: false,
      doc:
        "whether an open circuit makes `/readyz` answer 503 `upstream-circuit-open`. `false`: 200 with that status in its body, and " +
        "the replica stays in the load balancer, answering `UPSTREAM_UNAVAILABLE` with `retryAfterSeconds` (AOPay is shared: a 503 " +
        "takes every replica out at once)",
    }),
  },
});
