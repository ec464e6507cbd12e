import process from "node:process";
import { diag, type DiagLogger, DiagLogLevel } from "@opentelemetry/api";
import type { TelemetryConfig } from "./telemetry.settings";
import { type LibraryLineLevel, logLibraryLine } from "../logging/library-line";
import type { Logger } from "../logging/logger";
import { timeoutAfterIo } from "../util/after-io";

/** A started OpenTelemetry SDK: `shutdown()` exports what is still buffered, then stops. */
export interface Telemetry {
  /** `withinMs`: at most this long (never more than SHUTDOWN_EXPORT_MS), what the process's stop has left. */
  shutdown(withinMs?: number): Promise<void>;
}

/**
 * Starts trace export over OTLP/HTTP with the OpenTelemetry Node SDK (`@opentelemetry/sdk-node`'s NodeSDK) when the
 * standard OTEL_* variables ask for it (config.ts parseTelemetry checked them). The SDK reads those variables from
 * `env` itself: endpoint, headers, protocol (http/protobuf by default), sampler, propagators (W3C trace context and
 * baggage by default), batch settings and resource attributes.
 *
 * Off (the default), this returns null before anything of the SDK is loaded: the SDK packages are required here and
 * nowhere else, so without export the process holds only `@opentelemetry/api`, whose tracer is a no-op
 * (test/e2e/telemetry.test.ts lists the loaded @opentelemetry packages in both cases).
 *
 * What is not configured on purpose: no auto-instrumentation (it would hook node:http and undici on every request, and
 * an instrumented GraphQL GET would put its query string, variables included, into a span); no OTel metrics or log
 * export (metrics are Prometheus on METRICS_PORT, logs go to stdout).
 */
export function startTelemetry(
  config: TelemetryConfig,
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Telemetry | null {
  if (!config.enabled) return null;
  // A require() here, not an import at the top: the SDK is loaded only when export is on (see above).
  const { NodeSDK } = require("@opentelemetry/sdk-node") as typeof import("@opentelemetry/sdk-node");
  const namedByEnv =
    Boolean(env.OTEL_SERVICE_NAME) || /(^|,)\s*service\.name\s*=/.test(env.OTEL_RESOURCE_ATTRIBUTES ?? "");
  // With OTEL_LOG_LEVEL set, the NodeSDK's constructor makes a DiagConsoleLogger the SDK's diagnostic logger: its
  // lines (whole resources and spans at debug, over many lines) went to stdout past the scrubber, between the JSON
  // lines. Kept from the constructor (it reads process.env alone), and given to diagLogger instead.
  const diagLevel = env.OTEL_LOG_LEVEL;
  const asSet = process.env.OTEL_LOG_LEVEL;
  delete process.env.OTEL_LOG_LEVEL;
  let sdk: InstanceType<typeof NodeSDK>;
  try {
    sdk = new NodeSDK({
      // The SDK's default would be `unknown_service:node`; an operator's OTEL_SERVICE_NAME or resource attribute wins.
      serviceName: namedByEnv ? undefined : config.defaultServiceName,
      instrumentations: [],
      metricReaders: [],
      logRecordProcessors: [],
    });
  } finally {
    if (asSet !== undefined) process.env.OTEL_LOG_LEVEL = asSet;
  }
  if (diagLevel) diag.setLogger(diagLogger(log), { logLevel: diagLogLevel(diagLevel), suppressOverrideMessage: true });
  sdk.start();
  log.info(
    { telemetry: { endpoint: redactEndpoint(config.endpoint), sampler: config.sampler } },
    "exporting traces over OTLP/HTTP",
  );
  return {
    async shutdown(withinMs = SHUTDOWN_EXPORT_MS) {
      const waitMs = Math.max(0, Math.min(SHUTDOWN_EXPORT_MS, withinMs));
      let timer: NodeJS.Timeout | undefined;
      // Judged after the collector's answers readable by then (util/after-io.ts): an export answered during a stall of
      // the loop is not "did not finish".
      const cap = new Promise<"timeout">((resolve) => (timer = timeoutAfterIo(resolve, waitMs, "timeout")));
      try {
        if ((await Promise.race([sdk.shutdown(), cap])) === "timeout")
          log.warn({ waitedMs: waitMs }, "trace export did not finish before exit");
      } catch (error) {
        log.warn({ err: error }, "trace export did not shut down cleanly");
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/**
 * OTEL_LOG_LEVEL as @opentelemetry/core's diagLogLevelFromString reads it (NONE, ERROR, WARN, INFO, DEBUG, VERBOSE,
 * ALL, in any case); anything else is INFO, the level the SDK then falls back to.
 */
export function diagLogLevel(value: string): DiagLogLevel {
  const level = DiagLogLevel[value.trim().toUpperCase() as keyof typeof DiagLogLevel];
  return typeof level === "number" ? level : DiagLogLevel.INFO;
}

/**
 * The SDK's diagnostics as log lines: one line each, `component` `otel`, at the matching level (verbose as `trace`;
 * LOG_LEVEL still filters them, so OTEL_LOG_LEVEL=debug shows its debug lines under LOG_LEVEL=debug), the message
 * with its arguments formatted on one line (util.format, as the console logger did, without its line breaks).
 * Through the logger, every line is scrubbed: a resource or span the SDK dumps can hold what an operator or a request
 * put there.
 */
export function diagLogger(log: Logger): DiagLogger {
  const otel = log.child({ component: "otel" });
  const at =
    (level: LibraryLineLevel) =>
    (message: string, ...args: unknown[]) =>
      logLibraryLine(otel, level, [message, ...args]);
  return { error: at("error"), warn: at("warn"), info: at("info"), debug: at("debug"), verbose: at("trace") };
}

/**
 * How long the exit waits for the last spans to be exported, at most. The exporter's own timeout is 10 s
 * (OTEL_EXPORTER_OTLP_TIMEOUT); a collector that does not answer must not hold a rolling update that long. The
 * process's stop gives it less when less is left before its watchdog (src/index.ts exportWithinMs): after a drain
 * that used its grace period, what is left of the watchdog's 1 s margin.
 */
const SHUTDOWN_EXPORT_MS = 3_000;

/** Origin and path only: an endpoint's query could carry a token. */
function redactEndpoint(endpoint: string | null): string {
  if (!endpoint) return "http://localhost:4318 (the SDK's default)";
  const url = new URL(endpoint);
  return `${url.origin}${url.pathname}`;
}
