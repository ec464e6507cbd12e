import { z } from "zod";
import { bool, custom, defineSettings, oneOf, text, type ValuesOf } from "../settings/schema";

/**
 * Trace export with the OpenTelemetry Node SDK (observability/telemetry.ts). The SDK reads the standard OTEL_*
 * variables itself; this is what the server decides from them, after checking them here.
 */
export interface TelemetryConfig {
  /**
   * Off by default: on when OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_TRACES_EXPORTER=otlp
   * is set, and OTEL_SDK_DISABLED is not `true`. Off, no SDK module is loaded.
   */
  enabled: boolean;
  /** `service.name` when OTEL_SERVICE_NAME is unset (the SDK's own default would be `unknown_service:node`). */
  defaultServiceName: string;
  /** Where traces go (for the startup log line); null: the SDK's default, http://localhost:4318/v1/traces. */
  endpoint: string | null;
  /** OTEL_TRACES_SAMPLER, or the SDK's default `parentbased_always_on`. */
  sampler: string;
}

export const DEFAULT_SERVICE_NAME = "aopay-graphql";
/** The specification's sampler names that sdk-node builds (jaeger_remote and xray need packages we do not ship). */
const OTEL_SAMPLERS = [
  "always_on",
  "always_off",
  "traceidratio",
  "parentbased_always_on",
  "parentbased_always_off",
  "parentbased_traceidratio",
] as const;
/** OTLP over HTTP only: the collector's 4318 receiver. gRPC would load @grpc/grpc-js and is not tested here. */
const OTLP_PROTOCOLS = ["http/protobuf", "http/json"] as const;
const ONLY_TRACES =
  "must be none or unset: this server exports traces only over OTel (metrics: Prometheus on METRICS_PORT; logs: stdout)";

/** An http(s) URL without credentials. Not echoed: its query could carry a token. */
const endpoint = z.string().refine(
  (raw) => {
    try {
      const url = new URL(raw);
      return (url.protocol === "http:" || url.protocol === "https:") && !url.username && !url.password;
    } catch {
      return false;
    }
  },
  {
    error:
      "must be an http(s) URL without credentials, e.g. http://otel-collector:4318 (send credentials in OTEL_EXPORTER_OTLP_HEADERS)",
  },
);
/**
 * OTEL_EXPORTER_OTLP_HEADERS as the SDK reads it (@opentelemetry/core parseKeyPairsIntoRecord, W3C baggage syntax):
 * comma-separated `key=value` entries, each percent-decoded; an entry without `=`, with an empty key or value, or
 * with a `%` that does not decode is dropped without a word, and a `;` ends the value (what follows is baggage
 * metadata). A dropped or cut credential meant exports refused by the collector (401) with nothing said at start.
 * The message never echoes the value (it holds credentials).
 */
const otlpHeaders = z.string().refine(
  (raw) =>
    raw
      .split(",")
      .filter((entry) => entry.trim() !== "")
      .every((entry) => {
        const eq = entry.indexOf("=");
        if (eq <= 0 || entry.includes(";")) return false;
        const key = entry.slice(0, eq).trim();
        const value = entry.slice(eq + 1).trim();
        try {
          return decodeURIComponent(key) !== "" && decodeURIComponent(value) !== "";
        } catch {
          return false;
        }
      }),
  {
    error:
      "entries must be key=value, comma-separated, the value percent-encoded (no ';', a '%' only as %XX), " +
      "e.g. authorization=Bearer%20<token>: the SDK drops any other entry without a word",
  },
);
const ratio = z
  .string()
  .regex(/^(0(\.[0-9]+)?|1(\.0+)?)$/, { error: "must be a ratio between 0 and 1, e.g. 0.1" })
  .transform(Number);

/**
 * Trace export with the OpenTelemetry Node SDK (src/observability/telemetry.ts). The SDK reads these variables itself;
 * they are checked here because it would read them leniently: an unknown sampler or protocol falls back to a default
 * with at most a diagnostic warning, so a typo would export nothing, or everything, without a word.
 */
export const telemetrySettings = defineSettings({
  title: "Traces (OpenTelemetry)",
  module: "src/observability/telemetry.ts",
  prefixes: ["OTEL_"],
  settings: {
    OTEL_EXPORTER_OTLP_ENDPOINT: custom(endpoint, {
      defaultDoc: "unset: no trace export",
      doc: "the OTLP/HTTP collector, e.g. `http://otel-collector:4318`; turns on trace export (see [docs/operations.md](docs/operations.md#logs-and-tracing))",
      example: "http://otel-collector:4318",
    }),
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: custom(endpoint, {
      doc: "the same for traces only, a full URL (`http://collector:4318/v1/traces`); wins over the one above",
    }),
    OTEL_TRACES_EXPORTER: oneOf(["otlp", "none"], {
      defaultDoc: "`otlp` with an endpoint, else `none`",
      doc: "`none` turns export off whatever else is set",
    }),
    OTEL_SDK_DISABLED: bool({ default: false, doc: "`true` turns export off whatever else is set" }),
    OTEL_SERVICE_NAME: text({
      defaultDoc: `\`${DEFAULT_SERVICE_NAME}\``,
      doc: "`service.name` of the exported traces",
    }),
    OTEL_TRACES_SAMPLER: oneOf(OTEL_SAMPLERS, {
      default: "parentbased_always_on",
      doc: "`always_on`, `always_off`, `traceidratio`, `parentbased_always_on`, `parentbased_always_off` or `parentbased_traceidratio`",
    }),
    OTEL_TRACES_SAMPLER_ARG: custom(ratio, { doc: "the ratio of a `traceidratio` sampler, e.g. `0.1`" }),
    OTEL_EXPORTER_OTLP_PROTOCOL: oneOf(OTLP_PROTOCOLS, {
      default: "http/protobuf",
      doc: "`http/protobuf` or `http/json` (gRPC is not offered)",
    }),
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: oneOf(OTLP_PROTOCOLS, { doc: "the same for traces only" }),
    OTEL_EXPORTER_OTLP_HEADERS: custom(otlpHeaders, {
      secret: true,
      doc: "headers for the collector, `key=value,...`, values percent-encoded (credentials: never logged)",
    }),
    OTEL_EXPORTER_OTLP_TRACES_HEADERS: custom(otlpHeaders, { secret: true, doc: "the same for traces only" }),
    OTEL_METRICS_EXPORTER: custom(z.enum(["none"], { error: ONLY_TRACES }), {
      doc: "`none` or unset: metrics are Prometheus (`METRICS_*`)",
    }),
    OTEL_LOGS_EXPORTER: custom(z.enum(["none"], { error: ONLY_TRACES }), { doc: "`none` or unset: logs go to stdout" }),
  },
  passThrough: {
    doc: "read by the SDK as the OpenTelemetry specification says (timeouts, compression, TLS files, batching, limits, resource, propagators, its own log level)",
    names: [
      "OTEL_RESOURCE_ATTRIBUTES",
      "OTEL_NODE_RESOURCE_DETECTORS",
      "OTEL_LOG_LEVEL",
      "OTEL_PROPAGATORS",
      "OTEL_EXPORTER_OTLP_TIMEOUT",
      "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
      "OTEL_EXPORTER_OTLP_COMPRESSION",
      "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
      "OTEL_EXPORTER_OTLP_CERTIFICATE",
      "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
      "OTEL_EXPORTER_OTLP_CLIENT_KEY",
      "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY",
      "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
      "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
      "OTEL_BSP_SCHEDULE_DELAY",
      "OTEL_BSP_EXPORT_TIMEOUT",
      "OTEL_BSP_MAX_QUEUE_SIZE",
      "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
      "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
      "OTEL_ATTRIBUTE_COUNT_LIMIT",
      "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
      "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
      "OTEL_SPAN_EVENT_COUNT_LIMIT",
      "OTEL_SPAN_LINK_COUNT_LIMIT",
      "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT",
      "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT",
    ],
  },
});

export function telemetryConfig(v: ValuesOf<typeof telemetrySettings>, problems: string[]): TelemetryConfig {
  const endpointUrl = v.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? v.OTEL_EXPORTER_OTLP_ENDPOINT ?? null;
  if (v.OTEL_TRACES_SAMPLER_ARG !== undefined && !v.OTEL_TRACES_SAMPLER.endsWith("traceidratio")) {
    problems.push(
      "OTEL_TRACES_SAMPLER_ARG applies only to OTEL_TRACES_SAMPLER=traceidratio or parentbased_traceidratio",
    );
  }
  const exporter = v.OTEL_TRACES_EXPORTER ?? (endpointUrl ? "otlp" : "none");
  return {
    enabled: exporter === "otlp" && !v.OTEL_SDK_DISABLED,
    defaultServiceName: DEFAULT_SERVICE_NAME,
    endpoint: endpointUrl,
    sampler: v.OTEL_TRACES_SAMPLER,
  };
}
