import "reflect-metadata";
import { ApolloServer } from "@apollo/server";
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from "@apollo/server/plugin/disabled";
import type { FastifyInstance } from "fastify";
import { AopayClient } from "./aopay/client";
import { DEFAULT_RETRY_POLICY } from "./aopay/retry";
import { AopayTransport } from "./aopay/transport";
import { Authenticator } from "./auth/authenticator";
import type { Config } from "./config";
import type { GraphQLContext, RequestObserver } from "./graphql/context";
import { limitRules } from "./graphql/limits";
import { withLazyLoaders } from "./graphql/loaders";
import { createFormatError } from "./graphql/plugins/error-format";
import { landingPageWithExplorer } from "./graphql/plugins/landing-page";
import { requestPlugin } from "./graphql/plugins/request.plugin";
import { tracingPlugin } from "./graphql/plugins/tracing.plugin";
import { createSchema } from "./graphql/schema";
import { TrustedDocumentCache, trustedDocumentList } from "./graphql/trusted-documents";
import { Admission, clientGone } from "./http/admission";
import { clientIpKey } from "./http/client-ip";
import { registerGraphQLRoute } from "./http/graphql-route";
import { EXPLORER_PATH } from "./http/explorer";
import { type ClientRequest, createHttpServer, type Readiness } from "./http/http-server";
import { createLogger, type Logger } from "./logging/logger";
import { Metrics } from "./observability/metrics";
import { MetricsServer } from "./observability/metrics-server";
import { Scrubber } from "./pii/scrub";
import { createProtection } from "./protection";

export interface AppDependencies {
  /** Default: a pino logger on stdout at `config.logLevel`. */
  logger?: Logger;
  /** Counters for operators; default: none. */
  observer?: RequestObserver;
  /** False in a cluster worker: the primary serves every worker's metrics (cluster.ts). Default true. */
  serveMetrics?: boolean;
}

export interface App {
  readonly fastify: FastifyInstance;
  readonly aopay: AopayClient;
  readonly logger: Logger;
  /** Null when METRICS_ENABLED=false. */
  readonly metrics: Metrics | null;
  /** The scrape URL once listening (null when metrics are off). */
  readonly metricsUrl: string | null;
  /** Starts listening on `config.host:config.port`; resolves with the base URL (e.g. http://127.0.0.1:4000). */
  listen(): Promise<string>;
  /**
   * Graceful stop: readiness turns false, the listener closes, in-flight requests finish (up to
   * `config.shutdownGraceMs`, then connections are cut), Apollo stops, upstream sockets and Redis close.
   */
  stop(): Promise<void>;
}

/** The request budget: REQUEST_DEADLINE_MS, or less if the client's `x-request-timeout-ms` asks for less. */
export function requestBudgetMs(header: string | string[] | undefined, maxMs: number): number {
  const asked = typeof header === "string" && /^[0-9]{1,9}$/.test(header) ? Number(header) : NaN;
  return asked > 0 ? Math.min(asked, maxMs) : maxMs;
}

/** How long listen() waits for Redis to connect before serving anyway (fail closed until it does). */
const REDIS_CONNECT_WAIT_MS = 3_000;

/** Without trace export nothing writes the holder (the tracing plugin is not installed): one shared empty one. */
const NO_TRACE: GraphQLContext["trace"] = Object.freeze({});

const NO_OBSERVER: RequestObserver = { throttled: () => undefined, replayed: () => undefined, protectionUnavailable: () => undefined };

/** Builds the whole server for `config`. `config.aopay.baseUrl` must be set (index.ts starts the simulator first). */
export async function createApp(config: Config, deps: AppDependencies = {}): Promise<App> {
  const { aopay: upstream } = config;
  if (!upstream.baseUrl) throw new Error("createApp: config.aopay.baseUrl is not set (start the simulator first)");
  const secrets = [upstream.registrationId, upstream.companyCode];
  const logger = deps.logger ?? createLogger({ level: config.logLevel, format: config.logFormat, secrets });
  const scrubber = new Scrubber(secrets);
  const production = config.env === "production";
  if (config.hmacSecretEphemeral) {
    logger.warn("HMAC_SECRET is not set: using a random one for this process (throttle and idempotency keys reset on restart)");
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
    onCircuitChange: (family, state) => {
      metrics?.circuitChanged(family, state);
      if (state !== "closed") logger.warn({ circuit: { family, state } }, `circuit ${state} for ${family}`);
      else logger.info({ circuit: { family, state } }, `circuit closed for ${family}`);
    },
  });
  const protection = createProtection(config, logger);
  const authenticator = new Authenticator(config.auth);

  const trustedDocuments = trustedDocumentList();
  const apollo = new ApolloServer<GraphQLContext>({
    schema: await createSchema(),
    nodeEnv: config.env,
    // Production: client errors worded by graphql-js or Apollo get fixed texts (no names, tokens, values or
    // suggestions from the request); errors this server words are kept (plugins/error-format.ts).
    formatError: createFormatError(scrubber, { production }),
    // Stack traces would carry error messages (hosts, IPs) to clients; they are logged instead (docs/security-requirements.md A7).
    includeStacktraceInErrorResponses: false,
    introspection: !production,
    // "Did you mean ...?" reveals the schema when introspection is off (docs/security-requirements.md A6). Apollo's
    // option strips it from validation errors only; formatError replaces every such message in production anyway.
    hideSchemaDetailsFromClientErrors: production,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    // Persisted-query ids resolve to the trusted documents; with TRUSTED_DOCUMENTS=enforce nothing else can be
    // registered (docs/security-requirements.md A11, graphql/trusted-documents.ts).
    persistedQueries: { cache: new TrustedDocumentCache(trustedDocuments, config.trustedDocuments), ttl: null },
    // graphql-js stops parsing past this many tokens (docs/security-requirements.md A3), before any validation work.
    parseOptions: { maxTokens: config.graphqlLimits.maxTokens },
    validationRules: limitRules(config.graphqlLimits, production),
    // Signals are handled in index.ts so that draining follows our order (readiness first).
    stopOnTerminationSignals: false,
    plugins: [
      // The request's bookkeeping and its duration metric, in one plugin with synchronous hooks.
      requestPlugin(metrics),
      // Only when traces are exported: without an SDK its span would be a no-op, but the hooks would still run.
      ...(config.telemetry.enabled ? [tracingPlugin()] : []),
      // Development: Apollo Sandbox, whose offline fallback links to our own explorer (GraphiQL at /graphiql).
      production ? ApolloServerPluginLandingPageDisabled() : landingPageWithExplorer(EXPLORER_PATH),
      // Not used by this schema; its per-field hooks cost time on every request.
      ApolloServerPluginCacheControlDisabled(),
      // Never report operations to Apollo's cloud, even if APOLLO_KEY happens to be in the environment.
      ApolloServerPluginUsageReportingDisabled(),
      ApolloServerPluginSchemaReportingDisabled(),
    ],
  });

  let state: "starting" | "ready" | "draining" = "starting";
  const readiness: Readiness = async () => {
    if (state !== "ready") return { ready: false, status: state };
    if (!(await protection.ready())) return { ready: false, status: "redis-unavailable" };
    const circuits = aopay.breakers.states();
    if (config.readinessIncludesBreaker && Object.values(circuits).includes("open")) {
      return { ready: false, status: "upstream-circuit-open", circuits };
    }
    return { ready: true, status: "ready", circuits };
  };
  const admission = new Admission(config.admission, (reason) => metrics?.shed(reason));
  const fastify = await createHttpServer(config, logger, readiness, authenticator, config.trustedDocuments === "enforce" ? trustedDocuments : null, admission);

  await apollo.start();
  registerGraphQLRoute(fastify, apollo, {
    path: "/graphql",
    method: ["GET", "POST"],
    context: (request, reply): GraphQLContext => {
      const { client } = request as ClientRequest;
      const idempotencyKey = request.headers["idempotency-key"];
      // The request's deadline runs from its arrival; a client may ask for less (never more) with x-request-timeout-ms.
      const deadlineAt = Date.now() - reply.elapsedTime + requestBudgetMs(request.headers["x-request-timeout-ms"], config.requestDeadlineMs);
      const summary = ((request as ClientRequest).graphql = { operation: null, result: null });
      const traceHolder: GraphQLContext["trace"] = config.telemetry.enabled ? {} : NO_TRACE;
      return withLazyLoaders({
        requestId: request.id,
        log: request.log as Logger,
        aopay,
        upstreamMode: upstream.mode,
        client,
        // Canonical: one per-IP budget per address or IPv6 /64, however the socket or a trusted proxy wrote it.
        ip: clientIpKey(request.ip),
        // Several values (a repeated header) cannot be a key: pass them joined, validation rejects the comma.
        idempotencyKey: Array.isArray(idempotencyKey) ? idempotencyKey.join(", ") : idempotencyKey,
        protection: protection.protection,
        observe: observer,
        responseHeaders: new Map(),
        summary,
        trace: traceHolder,
        callOptions: () => ({
          log: request.log as Logger,
          deadlineAt,
          traceContext: traceHolder.context,
          clientGone: clientGone(request.raw.socket),
          record: (summary) => {
            const req = request as ClientRequest;
            (req.upstreamCalls ??= []).push(summary);
          },
        }),
      });
    },
  });
  await fastify.ready();

  const metricsServer = metrics && deps.serveMetrics !== false ? new MetricsServer(config.metrics, metrics.registry, logger) : null;
  let metricsUrl: string | null = null;
  let stopping: Promise<void> | undefined;
  return {
    fastify,
    aopay,
    logger,
    metrics,
    get metricsUrl() {
      return metricsUrl;
    },
    async listen() {
      if (metricsServer) {
        metricsUrl = await metricsServer.listen();
        logger.info({ url: metricsUrl, auth: config.metrics.token ? "bearer" : "none" }, "metrics listening");
      }
      if (!(await protection.connect(REDIS_CONNECT_WAIT_MS))) {
        logger.error("redis is not reachable: OTP sends are refused and /readyz reports not ready until it is");
      }
      const url = await fastify.listen({ port: config.port, host: config.host, backlog: config.listenBacklog });
      state = "ready";
      return url;
    },
    stop() {
      stopping ??= (async () => {
        state = "draining";
        const began = Date.now();
        const graceEndsAt = began + config.shutdownGraceMs;
        const force = setTimeout(() => {
          logger.warn({ graceMs: config.shutdownGraceMs }, "shutdown grace period over: closing remaining connections");
          fastify.server.closeAllConnections();
        }, config.shutdownGraceMs);
        try {
          await fastify.close();
        } finally {
          clearTimeout(force);
        }
        const httpClosedMs = Date.now() - began;
        admission.close();
        await apollo.stop();
        await aopay.close(Math.max(0, graceEndsAt - Date.now()));
        await protection.close();
        await metricsServer?.close();
        logger.info({ httpClosedMs, totalMs: Date.now() - began }, "shutdown complete");
      })();
      return stopping;
    },
  };
}
