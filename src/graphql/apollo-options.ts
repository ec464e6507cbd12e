import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from "@apollo/server/plugin/disabled";
import type { ApolloServerOptionsWithSchema } from "@apollo/server";
import type { Config } from "../config";
import type { Logger } from "../logging/logger";
import type { Metrics } from "../observability/metrics";
import type { Scrubber } from "../pii/scrub";
import { AcceptedDocuments } from "./accepted-documents";
import { skipArgumentCopyWithoutArguments } from "./argument-values";
import { reuseCollectedFields } from "./collected-fields";
import type { GraphQLContext } from "./context";
import { FastPath } from "./fast-path";
import { documentShape, limitRules } from "./limits";
import { createFormatError } from "./plugins/error-format";
import { landingPageWithExplorer } from "./plugins/landing-page";
import { requestPlugin } from "./plugins/request.plugin";
import { RequestTracing, tracingPlugin } from "./plugins/tracing.plugin";
import { createSchema } from "./schema";
import { TrustedDocumentCache, type TrustedDocumentList } from "./trusted-documents";

/**
 * Apollo Server's options for this service (the schema, error masking, limits, trusted documents and plugins), and
 * the fast path for documents Apollo has accepted (fast-path.ts), which runs the same schema, formatError and request
 * plugin effects; when traces are exported, both make the request's span through one RequestTracing.
 */
export async function apolloOptions(
  config: Config,
  deps: {
    scrubber: Scrubber;
    metrics: Metrics | null;
    trustedDocuments: TrustedDocumentList;
    explorerPath: string;
    log: Logger;
  },
): Promise<{ options: ApolloServerOptionsWithSchema<GraphQLContext>; fastPath: FastPath }> {
  const production = config.env === "production";
  const { scrubber, metrics, trustedDocuments, explorerPath, log } = deps;
  const formatError = createFormatError(scrubber, { production });
  const accepted = new AcceptedDocuments(trustedDocuments.byId);
  const tracing = config.telemetry.enabled ? new RequestTracing() : null;
  // graphql-js's argument copy skipped for fields without arguments, Apollo's execute and the fast path's alike
  // (argument-values.ts: why, the figures, and why it is safe to leave out).
  const argumentValues = skipArgumentCopyWithoutArguments();
  if (argumentValues !== "installed") log.debug({ argumentValues }, "graphql-js argument copy kept as it is");
  // graphql-js's collected fields of an accepted document's selection sets, reused across requests
  // (collected-fields.ts).
  const collectedFields = reuseCollectedFields();
  if (collectedFields !== "installed") log.debug({ collectedFields }, "graphql-js collects fields per request");
  const options: ApolloServerOptionsWithSchema<GraphQLContext> = {
    schema: await createSchema(),
    nodeEnv: config.env,
    // Apollo's own lines (an error thrown in a plugin hook, 'Unexpected error processing request: <error>'; a
    // persisted-query store failure; startup) go through our logger. Its default writes to the console: plain text
    // among the JSON lines, past the redaction and the scrubber (logging/logger.ts).
    logger: apolloLogger(log),
    // Apollo's own serialiser, with its throw logged: Apollo answers it 500 and logs nothing, and no plugin hook sees
    // it (http/graphql-route.ts answeredWithoutCause adds the line with the request id). Costs a 2xx nothing.
    stringifyResult: (value) => {
      try {
        // runHttpQuery.js prettyJSONStringify, its default (not exported by the package).
        return JSON.stringify(value) + "\n";
      } catch (error) {
        log.error({ component: "apollo", err: error }, "could not serialise a GraphQL response");
        throw error;
      }
    },
    // Production: client errors worded by graphql-js or Apollo get fixed texts (no names, tokens, values or
    // suggestions from the request); errors this server words are kept (plugins/error-format.ts).
    formatError,
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
    // graphql-js stops validating after maxErrors errors (its default: 100) and adds one saying so. Each error is
    // ~170 bytes of answer and a formatError call: 101 of them came back for a 216-byte body (`{a a a ...}`, 78x its
    // size, 13 ms of CPU). hideSuggestions: in production "Did you mean" is never computed (it named the schema's
    // fields with introspection off; formatError's fixed texts drop it anyway, fixed-messages.ts).
    validationOptions: { maxErrors: config.graphqlLimits.maxErrors, hideSuggestions: production },
    // The same cap for variable coercion (graphql-js default 50). graphql-js puts the whole variable's value into
    // every coercion error's message ("got invalid value { k0: 1, k1: 1, ... }"), so each error costs the variable's
    // size: 51 errors of a 14 kB object were 698 kB of message text and 63 ms of CPU.
    executionOptions: executionOptions(config),
    // Signals are handled in index.ts so that draining follows our order (readiness first).
    stopOnTerminationSignals: false,
    plugins: [
      // The request's bookkeeping and its duration metric, and the refusal of a document by its shape before
      // graphql-js validates it (limits.ts documentShape), in one plugin with synchronous hooks.
      requestPlugin(metrics, accepted, documentShape(config.graphqlLimits, production)),
      // Only when traces are exported: without an SDK its span would be a no-op, but the hooks would still run.
      ...(tracing ? [tracingPlugin(tracing)] : []),
      // Development: Apollo Sandbox, whose offline fallback links to our own explorer (GraphiQL at /graphiql).
      hasLandingPage(config) ? landingPageWithExplorer(explorerPath) : ApolloServerPluginLandingPageDisabled(),
      // Not used by this schema; its per-field hooks cost time on every request.
      ApolloServerPluginCacheControlDisabled(),
      // Never report operations to Apollo's cloud, even if APOLLO_KEY happens to be in the environment.
      ApolloServerPluginUsageReportingDisabled(),
      ApolloServerPluginSchemaReportingDisabled(),
      // Inline traces are a federation subgraph's (this schema is not one): without this, Apollo imports the plugin
      // and its protobuf at start only to find that out, about 0.7 MB of live heap for every collection to mark
      // (docs/performance-runs.md round 5daa3ff; test/e2e/loaded-modules.test.ts).
      ApolloServerPluginInlineTraceDisabled(),
    ],
  };
  return { options, fastPath: new FastPath(accepted, formatError, metrics, tracing, executionOptions(config)) };
}

/**
 * Whether Apollo serves its landing page (development: Apollo Sandbox) to a GET preferring text/html: such a GET is
 * then not refused for its Accept (http/graphql-route.ts notAcceptable).
 */
export function hasLandingPage(config: Pick<Config, "env">): boolean {
  return config.env !== "production";
}

/** graphql-js `execute`'s options, for Apollo and for the fast path alike (fast-path.ts passes them too). */
export function executionOptions(config: Pick<Config, "graphqlLimits">): { maxCoercionErrors: number } {
  return { maxCoercionErrors: config.graphqlLimits.maxErrors };
}

/** Apollo Server's Logger (@apollo/utils.logger: one message, any type) on the process's logger, tagged `apollo`. */
export function apolloLogger(log: Logger): NonNullable<ApolloServerOptionsWithSchema<GraphQLContext>["logger"]> {
  const at =
    (level: "debug" | "info" | "warn" | "error") =>
    (message?: unknown): void => {
      if (message instanceof Error) log[level]({ component: "apollo", err: message }, "apollo server error");
      else log[level]({ component: "apollo" }, String(message));
    };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}
