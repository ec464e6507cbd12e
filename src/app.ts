import "reflect-metadata";
import { ApolloServer } from "@apollo/server";
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from "@apollo/server/plugin/disabled";
import { ApolloServerPluginLandingPageLocalDefault } from "@apollo/server/plugin/landingPage/default";
import fastifyApollo from "@as-integrations/fastify";
import type { FastifyInstance } from "fastify";
import { AopayClient } from "./aopay/client";
import { AopayTransport } from "./aopay/transport";
import type { Config } from "./config";
import type { GraphQLContext } from "./graphql/context";
import { createFormatError } from "./graphql/plugins/error-format";
import { requestPlugin } from "./graphql/plugins/request.plugin";
import { createSchema } from "./graphql/schema";
import { createHttpServer } from "./http/http-server";
import { createLogger, type Logger } from "./logging/logger";
import { Scrubber } from "./pii/scrub";

export interface AppDependencies {
  /** Default: a pino logger on stdout at `config.logLevel`. */
  logger?: Logger;
}

export interface App {
  readonly fastify: FastifyInstance;
  readonly aopay: AopayClient;
  readonly logger: Logger;
  /** Starts listening on `config.host:config.port`; resolves with the base URL (e.g. http://127.0.0.1:4000). */
  listen(): Promise<string>;
  /**
   * Graceful stop: readiness turns false, the listener closes, in-flight requests finish (up to
   * `config.shutdownGraceMs`, then connections are cut), Apollo stops and upstream sockets close.
   */
  stop(): Promise<void>;
}

/** Builds the whole server for `config`. `config.aopay.baseUrl` must be set (index.ts starts the simulator first). */
export async function createApp(config: Config, deps: AppDependencies = {}): Promise<App> {
  const { aopay: upstream } = config;
  if (!upstream.baseUrl) throw new Error("createApp: config.aopay.baseUrl is not set (start the simulator first)");
  const secrets = [upstream.registrationId, upstream.companyCode];
  const logger = deps.logger ?? createLogger({ level: config.logLevel, secrets });
  const scrubber = new Scrubber(secrets);
  const production = config.env === "production";

  const transport = new AopayTransport({ ...upstream, baseUrl: upstream.baseUrl });
  const aopay = new AopayClient({
    transport,
    scrubber,
    wire: {
      registrationId: upstream.registrationId,
      companyCode: upstream.companyCode,
      aepsPipe: upstream.aepsPipe,
      aepsAccessModeType: upstream.aepsAccessModeType,
    },
  });

  const apollo = new ApolloServer<GraphQLContext>({
    schema: await createSchema(),
    nodeEnv: config.env,
    formatError: createFormatError(scrubber),
    // Stack traces would carry error messages (hosts, IPs) to clients; they are logged instead (SECURITY.md A7).
    includeStacktraceInErrorResponses: false,
    introspection: !production,
    // "Did you mean ...?" reveals the schema when introspection is off (SECURITY.md A6).
    hideSchemaDetailsFromClientErrors: production,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    // Signals are handled in index.ts so that draining follows our order (readiness first).
    stopOnTerminationSignals: false,
    plugins: [
      requestPlugin(),
      production ? ApolloServerPluginLandingPageDisabled() : ApolloServerPluginLandingPageLocalDefault({ embed: true }),
      // Not used by this schema; its per-field hooks cost time on every request.
      ApolloServerPluginCacheControlDisabled(),
      // Never report operations to Apollo's cloud, even if APOLLO_KEY happens to be in the environment.
      ApolloServerPluginUsageReportingDisabled(),
      ApolloServerPluginSchemaReportingDisabled(),
    ],
  });

  let state: "starting" | "ready" | "draining" = "starting";
  const fastify = await createHttpServer(config, logger, () => ({ ready: state === "ready", status: state }));

  await apollo.start();
  await fastify.register(fastifyApollo(apollo), {
    path: "/graphql",
    method: ["GET", "POST"],
    context: async (request): Promise<GraphQLContext> => ({
      requestId: request.id,
      log: request.log as Logger,
      aopay,
      upstreamMode: upstream.mode,
      callOptions: () => ({ log: request.log as Logger }),
    }),
  });
  await fastify.ready();

  let stopping: Promise<void> | undefined;
  return {
    fastify,
    aopay,
    logger,
    async listen() {
      const url = await fastify.listen({ port: config.port, host: config.host });
      state = "ready";
      return url;
    },
    stop() {
      stopping ??= (async () => {
        state = "draining";
        const force = setTimeout(() => fastify.server.closeAllConnections(), config.shutdownGraceMs);
        try {
          await fastify.close();
        } finally {
          clearTimeout(force);
        }
        await apollo.stop();
        await transport.close();
      })();
      return stopping;
    },
  };
}
