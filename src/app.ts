import "reflect-metadata";
import { ApolloServer } from "@apollo/server";
import type { FastifyInstance } from "fastify";
import { AOPAY_ENDPOINT_NAMES, AOPAY_OUTCOMES, AopayClient } from "./aopay/client";
import { DEFAULT_RETRY_POLICY } from "./aopay/retry";
import { AopayTransport } from "./aopay/transport";
import { Authenticator } from "./auth/authenticator";
import { type Config, logOptions } from "./config";
import type { GraphQLContext } from "./graphql/context";
import { apolloOptions, hasLandingPage } from "./graphql/apollo-options";
import type { FastPathCounts } from "./graphql/fast-path";
import { GUARDED_MUTATIONS } from "./graphql/guarded-mutations";
import { CONSENT_READ } from "./graphql/loaders";
import { type TrustedDocumentList, trustedDocumentList } from "./graphql/trusted-documents";
import { EXPLORER_PATH } from "./http/explorer";
import { Admission } from "./http/admission";
import { EDGE_REFUSALS, GRAPHQL_PATH } from "./http/error-body";
import { EdgeCode } from "./graphql/edge-code";
import { graphqlContextFactory } from "./http/graphql-context";
import { registerGraphQLRoute } from "./http/graphql-route";
import { createHttpServer, listenAddress, type Readiness } from "./http/http-server";
import { createLogger, type Logger } from "./logging/logger";
import { type KnownSeries, Metrics } from "./observability/metrics";
import { MetricsServer, metricsAuth } from "./http/metrics-server";
import { Scrubber } from "./pii/scrub";
import { createProtection } from "./protection";
import { NO_OBSERVER, type RequestObserver } from "./protection/observer";
import { listenErrorNamingSetting } from "./util/listen-error";
import { timeoutAfterIo } from "./util/after-io";
import { monotonicNow } from "./util/clock";

export interface AppDependencies {
  /** Default: a pino logger on stdout at `config.logLevel`. */
  logger?: Logger;
  /** Counters for operators; default: none. */
  observer?: RequestObserver;
  /** False in a cluster worker: the primary serves every worker's metrics (cluster.ts). Default true. */
  serveMetrics?: boolean;
  /**
   * False: GraphQL requests all go through Fastify, not the thin node:http route in front of it (http/thin-graphql.ts);
   * tests compare the two. Default true.
   */
  thinGraphQLRoute?: boolean;
  /**
   * The clock of the refused-origin warnings' limit (http/cors.ts createCors, REFUSED_ORIGIN_WARNINGS_PER_INTERVAL per
   * 10 s): tests that name more refused origins than that at once (test/e2e/refusal-cors.test.ts). Default monotonic.
   */
  corsClock?: () => number;
  /**
   * The trusted documents (TRUSTED_DOCUMENTS): tests that need a listed text the generated clients do not send (one
   * with a literal `%41`: test/e2e/request-targets.test.ts). Default: the generated list (trusted-documents.ts).
   */
  trustedDocuments?: TrustedDocumentList;
}

export interface App {
  readonly fastify: FastifyInstance;
  readonly aopay: AopayClient;
  /** The one HTTP client to AOPay: its `stats` (sockets busy, calls queued) feed metrics and tests. */
  readonly transport: AopayTransport;
  readonly logger: Logger;
  /** Null when METRICS_ENABLED=false. */
  readonly metrics: Metrics | null;
  /** The scrape URL once listening (null when metrics are off). */
  readonly metricsUrl: string | null;
  /** Requests answered by the GraphQL fast path (graphql/fast-path.ts), traced or not. */
  readonly fastPathCounts: FastPathCounts;
  /** GraphQL requests served by the thin node:http route (http/thin-graphql.ts) rather than Fastify's. */
  readonly thinGraphQLServed: number;
  /** Starts listening on `config.host:config.port`; resolves with the base URL (e.g. http://127.0.0.1:4000). */
  listen(): Promise<string>;
  /**
   * The pre-stop delay's start (SHUTDOWN_DELAY_MS, index.ts): `/readyz` answers 503 `draining` so that the load
   * balancers take this replica out, while every request is still served (answers ask for `Connection: close`).
   * stop() follows.
   */
  leaveRotation(): void;
  /**
   * Graceful stop: readiness turns false, the listener closes, in-flight requests finish (up to
   * `config.shutdownGraceMs`, then connections are cut), Apollo stops, upstream sockets and Redis close.
   */
  stop(): Promise<void>;
  /**
   * The stop under way, cut short (a stop signal during the drain, index.ts): upstream calls still running are aborted
   * now (their requests answered OutcomeUnknown, never retried), the connections left are cut a moment later, and
   * what follows (results stored again in Redis) has that moment too, not the rest of the grace period. What it cut:
   * requests and upstream calls in flight. Null before stop(), after the first call, and once the stop is over.
   */
  cutShort(): { requestsInFlight: number; upstreamCalls: number } | null;
}

/**
 * How long before the end of the grace period the drain aborts upstream calls still running: time for their requests
 * to settle (store the result) and write their answers before the remaining connections are cut.
 */
function answerMarginMs(graceMs: number): number {
  return Math.min(500, Math.floor(graceMs / 4));
}

/** How long listen() waits for Redis to connect before serving anyway (fail closed until it does). */
const REDIS_CONNECT_WAIT_MS = 3_000;

/** Builds the whole server for `config`. `config.aopay.baseUrl` must be set (index.ts starts the simulator first). */
export async function createApp(config: Config, deps: AppDependencies = {}): Promise<App> {
  const { aopay: upstream } = config;
  if (!upstream.baseUrl) throw new Error("createApp: config.aopay.baseUrl is not set (start the simulator first)");
  const secrets = [upstream.registrationId, upstream.companyCode];
  const logger = deps.logger ?? createLogger(logOptions(config));
  const scrubber = new Scrubber(secrets);
  if (config.ignoredRedisSettings.length > 0) {
    // Names only, never a value (REDIS_PASSWORD's least of all).
    logger.warn(
      { settings: config.ignoredRedisSettings },
      "not read: REDIS_URL is where this server connects to Redis (these are taken for another program's settings)",
    );
  }
  if (config.rawDebugSwitches.length > 0) {
    // Names only (NODE_DEBUG's sections): what Node prints under them goes to stderr as it is, never through here.
    logger.warn(
      { switches: config.rawDebugSwitches },
      "debugging switches on whose output no scrubber reads: customers' numbers and secrets can appear in clear",
    );
  }
  if (config.hmacSecretEphemeral) {
    logger.warn(
      "HMAC_SECRET is not set: using a random one for this process (throttle and idempotency keys reset on restart)",
    );
  }

  if (config.hmacPreviousSecrets.length > 0 || config.hmacNextSecret !== null || config.hmacRetiredSecrets.length > 0) {
    // Which step of a rotation this replica is on (docs/security.md "Rotating the HMAC secret"): step 2 must not start
    // before every replica says `next: true`, and a replica that still counts `previous` after step 4 was missed.
    // Counts only, never a secret.
    const hmacRotation = {
      previous: config.hmacPreviousSecrets.length,
      next: config.hmacNextSecret !== null,
      retired: config.hmacRetiredSecrets.length,
      shared: config.redisUrl !== null,
    };
    logger.info(
      { hmacRotation },
      hmacRotation.shared
        ? "HMAC_SECRET rotation: the Redis stores also read under the other secrets"
        : "HMAC_SECRET rotation settings change nothing without REDIS_URL (the in-memory stores restart with the process)",
    );
  }

  const transport = new AopayTransport({ ...upstream, baseUrl: upstream.baseUrl });
  const metrics = config.metrics.enabled ? new Metrics(() => transport.stats) : null;
  const observer = deps.observer ?? metrics ?? NO_OBSERVER;
  const aopay = new AopayClient({
    transport,
    scrubber,
    wire: {
      registrationId: upstream.registrationId,
      companyCode: upstream.companyCode,
      aepsPipe: upstream.aepsPipe,
      aepsAccessModeType: upstream.aepsAccessModeType,
      dobFormat: upstream.dobFormat,
    },
    registrationMethod: upstream.cibilRegistrationMethod,
    breaker: upstream.breaker,
    retry: { ...DEFAULT_RETRY_POLICY, maxRetries: upstream.retryMax },
    onCall: (event) => metrics?.upstreamCall(event),
    log: logger,
    onCircuitChange: (family, state) => {
      metrics?.circuitChanged(family, state);
      if (state !== "closed") logger.warn({ circuit: { family, state } }, `circuit ${state} for ${family}`);
      else logger.info({ circuit: { family, state } }, `circuit closed for ${family}`);
    },
  });
  // Every series whose labels are known now is on the page from the first scrape (Metrics.startAtZero says why).
  metrics?.startAtZero(
    knownSeries({
      circuits: aopay.breakers.states(),
      // The metrics listener's guard counts here only where this process serves the page (a cluster's primary: not).
      listeners: deps.serveMetrics !== false ? ["api", "metrics"] : ["api"],
      redis: config.redisUrl !== null,
    }),
  );
  const protection = createProtection(config, logger, observer);
  metrics?.watchIdempotencyMemory(() => protection.idempotencyFill());
  if (config.redisUrl) metrics?.watchRedis(() => protection.ready());
  const authenticator = new Authenticator(
    config.auth,
    metrics ? (client, key) => metrics.apiKeyCounter(client, key) : undefined,
    logger,
    metrics ? () => metrics.jwksRefreshFailed() : undefined,
  );

  const trustedDocuments = deps.trustedDocuments ?? trustedDocumentList();
  const graphql = await apolloOptions(config, {
    scrubber,
    metrics,
    trustedDocuments,
    explorerPath: EXPLORER_PATH,
    log: logger,
  });
  const apollo = new ApolloServer<GraphQLContext>(graphql.options);

  let state: "starting" | "ready" | "draining" = "starting";
  // Whether THIS replica can serve. Redis and AOPay are shared by every replica: a 503 for their failure took every
  // replica out of the load balancer at once, which then answered its own bare 502/503 where ours say
  // PROTECTION_UNAVAILABLE or UPSTREAM_UNAVAILABLE with retryAfterSeconds. So by default such a failure is a 200 whose
  // status names it (for the operator; the alerts page on the metrics), and a 503 only with READINESS_INCLUDES_REDIS
  // or READINESS_INCLUDES_BREAKER. Starting and draining are this replica's own: always 503.
  const readiness: Readiness = async () => {
    if (state !== "ready") return { ready: false, status: state };
    const circuits = aopay.breakers.states();
    // A Redis whose maxmemory-policy evicts (REDIS_EVICTING_POLICY=refuse), or not judged yet: sends are refused.
    const redis = (await protection.ready()) ? protection.unsafe() : "redis-unavailable";
    if (redis !== undefined) return { ready: !config.readinessIncludesRedis, status: redis, circuits };
    if (Object.values(circuits).includes("open")) {
      return { ready: !config.readinessIncludesBreaker, status: "upstream-circuit-open", circuits };
    }
    return { ready: true, status: "ready", circuits };
  };
  const admission = new Admission(config.admission, (reason) => metrics?.shed(reason));
  const http = await createHttpServer(
    config,
    logger,
    readiness,
    authenticator,
    config.trustedDocuments === "enforce" ? trustedDocuments : null,
    admission,
    deps.thinGraphQLRoute !== false,
    // A 500 INTERNAL_SERVER_ERROR is a failure of ours, not a refusal (logging/access-log.ts RefusalCounter).
    metrics
      ? (status, code) =>
          code === EdgeCode.INTERNAL_SERVER_ERROR ? metrics.edgeFailed(status) : metrics.edgeRefused(status, code)
      : undefined,
    metrics ? (listener, reason) => metrics.connectionRefused(listener, reason) : undefined,
    deps.corsClock,
  );
  const { fastify } = http;

  await apollo.start();
  // One answerer for both layers: Fastify's route, and the thin route in front of it for the usual requests.
  http.serveGraphQL(
    registerGraphQLRoute(fastify, apollo, {
      path: GRAPHQL_PATH,
      method: ["GET", "POST"],
      context: graphqlContextFactory(config, { aopay, protection: protection.protection }),
      fastPath: graphql.fastPath,
      landingPage: hasLandingPage(config),
    }),
  );
  await fastify.ready();

  // Cluster workers serve none: the primary serves every worker's metrics aggregated (cluster.ts).
  const metricsServer =
    metrics && deps.serveMetrics !== false
      ? new MetricsServer(config.metrics, metrics.registry, logger, config.httpLimits, (listener, reason) =>
          metrics.connectionRefused(listener, reason),
        )
      : null;
  let metricsUrl: string | null = null;
  let stopping: Promise<void> | undefined;
  /** While stop() runs: cutShort's steps, once. */
  let cut: (() => { requestsInFlight: number; upstreamCalls: number }) | undefined;
  return {
    fastify,
    aopay,
    transport,
    logger,
    metrics,
    fastPathCounts: graphql.fastPath.counts,
    get metricsUrl() {
      return metricsUrl;
    },
    get thinGraphQLServed() {
      return http.thinRouteServed;
    },
    async listen() {
      if (metricsServer) {
        metricsUrl = await metricsServer.listen();
        logger.info({ url: metricsUrl, auth: metricsAuth(config.metrics) }, "metrics listening");
      }
      if (!(await protection.connect(REDIS_CONNECT_WAIT_MS))) {
        // Where, and what to do: a newcomer who set REDIS_URL (or kept a .env with it) met only "not reachable". The
        // host and port alone: the URL may hold a password (protection.settings.ts).
        const { hostname, port } = new URL(config.redisUrl ?? "redis://");
        const fix = config.env === "production" ? "" : ", or, for one process in development, leave REDIS_URL unset";
        logger.error(
          { redis: `${hostname}:${port || "6379"}` },
          "redis is not reachable: OTP sends are refused and /readyz reports not ready until it is. Start Redis at " +
            `REDIS_URL's host and port (\`redis-server --port <port>\`)${fix}`,
        );
      }
      // HOST=localhost: one address bound, the first it resolves to (http-server.ts listenAddress says why).
      const { address, unserved } = await listenAddress(config.host);
      if (unserved.length > 0)
        logger.info(
          { host: config.host, listening: address, unserved },
          "HOST=localhost resolves to several addresses: serving the first only (set HOST to the one to serve)",
        );
      const url = await fastify
        .listen({ port: config.port, host: address, backlog: config.listenBacklog })
        .catch((error: unknown) => {
          throw listenErrorNamingSetting(error, {
            hostSetting: "HOST",
            host: config.host,
            portSetting: "PORT",
            port: config.port,
          });
        });
      // Admission control starts reading the event loop's delay from here: the stall of the start is not load.
      admission.startServing();
      state = "ready";
      return url;
    },
    leaveRotation() {
      state = "draining";
      http.leaveRotation();
    },
    stop() {
      stopping ??= (async () => {
        state = "draining";
        // Monotonic (util/clock.ts), as the guard's drain reads the deadline: a step of the wall clock neither ends the
        // grace period at once nor stretches it.
        const began = monotonicNow();
        let graceEndsAt = began + config.shutdownGraceMs;
        const margin = answerMarginMs(config.shutdownGraceMs);
        // Upstream calls still running are aborted a moment before the connections are cut, so that their requests
        // are answered (OutcomeUnknown: the send may have left) rather than reset: a client that saw its connection
        // drop cannot tell whether anything was sent, and one that resends may send a second SMS. Before, the
        // connections were cut first and the aborted calls' results were only stored (an audit's three held sends:
        // three empty replies at the grace period).
        // A plain timer: the abort itself waits for the answers readable by then (transport.ts close).
        const abortUpstream = setTimeout(() => void aopay.close(0), config.shutdownGraceMs - margin);
        let httpClosed = false;
        // The cut judged after the answers readable by then are read (util/after-io.ts): after a stall of the event
        // loop past the grace period (a GC pause, a CPU-starved container), an upstream answer that came meanwhile is
        // read, and its request answered when nothing more is awaited, before the connections are cut. Before, they
        // were cut first: a send AOPay had answered, its client's connection reset. Nothing once the listener closed.
        let force = timeoutAfterIo(
          () => {
            if (httpClosed) return;
            logger.warn(
              { graceMs: config.shutdownGraceMs },
              "shutdown grace period over: closing remaining connections",
            );
            fastify.server.closeAllConnections();
          },
          config.shutdownGraceMs,
          undefined,
        );
        cut = () => {
          // The same steps as at the grace period's end, now: the aborts first, the connections `margin` later (none
          // left once the listener has closed: a timer then would outlive the stop), never later than the grace
          // period's own end: a cut in its last `margin` cut them past it, and a cut only brings the end closer.
          // A request is in flight until its answer is written (or its client gone), not only until it is handed over.
          // Answers no place counted (the drain's 503, the probes, an explorer file) being written count too.
          const requestsInFlight = admission.unfinished + http.answersBeingWritten;
          const cutFrom = { requestsInFlight, upstreamCalls: transport.stats.inFlight };
          graceEndsAt = Math.min(graceEndsAt, monotonicNow() + margin);
          clearTimeout(abortUpstream);
          clearTimeout(force);
          void aopay.close(0);
          if (!httpClosed) {
            const closeRemaining = () => httpClosed || fastify.server.closeAllConnections();
            force = timeoutAfterIo(closeRemaining, Math.max(0, graceEndsAt - monotonicNow()), undefined);
          }
          return cutFrom;
        };
        try {
          try {
            await fastify.close();
          } finally {
            httpClosed = true;
            clearTimeout(abortUpstream);
            clearTimeout(force);
          }
          const httpClosedMs = monotonicNow() - began;
          admission.close();
          await apollo.stop();
          await aopay.close(Math.max(0, graceEndsAt - monotonicNow()));
          // Before the store's connection closes: results it missed while their send was upstream, stored again.
          await protection.protection.guard.drain(graceEndsAt);
          await protection.close();
          await metricsServer?.close();
          metrics?.close();
          logger.info({ httpClosedMs, totalMs: monotonicNow() - began }, "shutdown complete");
        } finally {
          // Over (or failed): nothing left to cut. A stop signal now (the last lines settling before the exit) found
          // it armed, and said it cut requests in flight after the process had said "stopped" and chosen exit 0.
          cut = undefined;
        }
      })();
      return stopping;
    },
    cutShort() {
      const once = cut;
      cut = undefined;
      return once?.() ?? null;
    },
  };
}

/**
 * The label values Metrics.startAtZero lists, from the code's own lists (endpoints, outcomes, guarded mutations, the
 * consent-gated read, edge refusals) and what the process has: its circuits, the listeners counting into its
 * registry, whether a Redis will be judged. One place, so the tests that count the first page (operator-docs,
 * start-at-zero) list what a server does.
 */
export function knownSeries(own: Pick<KnownSeries, "circuits" | "listeners" | "redis">): KnownSeries {
  return {
    endpoints: AOPAY_ENDPOINT_NAMES,
    outcomes: AOPAY_OUTCOMES,
    mutations: Object.entries(GUARDED_MUTATIONS).map(([field, spec]) => ({
      field,
      budget: spec.budget,
      registers: "registers" in spec,
    })),
    gatedReads: [
      { field: CONSENT_READ, budget: "read-attempt" },
      { field: CONSENT_READ, budget: "read" },
    ],
    refusals: EDGE_REFUSALS,
    ...own,
  };
}
