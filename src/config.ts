/**
 * The only reader of `process.env`. Every setting is parsed and validated once at startup; a bad or unknown value
 * stops the start with one message listing every problem (stripe-node's ALLOWED_CONFIG_PROPERTIES, applied to env).
 * Defaults are named constants below and listed in docs/configuration.md.
 */
import { randomBytes } from "node:crypto";
import { isIP } from "node:net";
import type { Level } from "pino";

export type Environment = "development" | "production" | "test";

/** Upstream (AOPay) connection settings. All times in milliseconds. */
export interface AopayConfig {
  /** `live`: AOPAY_BASE_URL is set. `simulator`: the built-in simulator is started in-process (development only). */
  mode: "live" | "simulator";
  /** Origin plus optional base path, e.g. `https://api.aopay.co.in`. Null in simulator mode until the simulator listens. */
  baseUrl: URL | null;
  /** Path prefix of the partner's API family. `/api/AOP` on api.aopay.co.in; `/api/BOS` on the white-label host (docs/upstream/aopay-api.md §0). */
  apiPrefix: string;
  /** Partner credentials (docs/upstream/aopay-api.md §4): server-side only, never sent to or accepted from GraphQL clients. */
  registrationId: string;
  companyCode: string;
  /** AEPS `Pipe`: the ResendOTP page says "Must Be bank6". */
  aepsPipe: string;
  /** AEPS `AccessModeType`: the page's example is `SITE`; its description row is cut off in the stored copy. */
  aepsAccessModeType: string;
  /** CIBIL registeration's method: its page header says GET, its cURL sample POST (docs/upstream/aopay-api.md §1.1). */
  cibilRegistrationMethod: "GET" | "POST";
  /** Wire format of `date_of_birth`; the example `01/01/2000` is ambiguous (Observation 15). */
  dobFormat: "DD/MM/YYYY" | "MM/DD/YYYY" | "YYYY-MM-DD";
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  /** Whole-call deadline for one upstream call, from dispatch to the last body byte. */
  deadlineMs: number;
  maxResponseBytes: number;
  /** Upper bound of sockets to AOPay. */
  connections: number;
  /** Calls allowed to wait for a socket when all `connections` are busy; beyond that: OVERLOADED at once. */
  queueLimit: number;
  /**
   * Keep a connection alive after a GET that carried a body (AOPay's CIBIL calls). undici closes it by default,
   * because a server that does not read GET bodies would take the body for the next request. AOPay documents GET
   * with a body, so its server reads it; set false if a proxy in between drops GET bodies.
   */
  getBodyKeepAlive: boolean;
  keepAliveTimeoutMs: number;
  /** Extra attempts for a call that provably never left the process (refused, DNS, connect timeout). */
  retryMax: number;
  breaker: BreakerConfig;
}

/** Circuit breaker per endpoint family (opossum; docs/security-requirements.md E5). */
export interface BreakerConfig {
  /** Failure percentage over the rolling window that opens the circuit. */
  errorThresholdPercentage: number;
  /** Calls in the window before the percentage counts (opossum's default 0 would open on the first failure). */
  volumeThreshold: number;
  /** How long the circuit stays open before one probe is let through. */
  resetTimeoutMs: number;
  rollingWindowMs: number;
}

export interface MetricsConfig {
  enabled: boolean;
  /** A listener of its own, on loopback by default: never on the public port. */
  host: string;
  /** 0: an ephemeral port (tests). */
  port: number;
  /** If set, scrapes must send `Authorization: Bearer <token>`. */
  token: string | null;
}

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

/** A fixed-window budget: at most `points` OTP sends per `seconds`. */
export interface Budget {
  points: number;
  seconds: number;
}

/** OTP throttling (docs/security-requirements.md B1-B4). Every budget counts sends that may have reached AOPay. */
export interface ThrottleConfig {
  /** Minimum time between two sends to the same destination (mobile, Aadhaar or CIBIL id). */
  cooldownSeconds: number;
  /** Per destination, short window (B2: 3 per 10 minutes). */
  destinationWindow: Budget;
  /** Per destination, per day (B2: 10). */
  destinationDaily: Budget;
  /**
   * Per mobile-number prefix (first 6 digits), across all callers (B4: SMS pumping walks number ranges from many
   * IPs, Twilio Fraud Guard blocks prefixes). Applies where we know the mobile (AEPS).
   */
  mobilePrefix: Budget;
  /** Per source IP (B3; Firebase Auth allows 50 verification SMS per minute per IP). */
  ip: Budget;
  /** Per authenticated API client. */
  client: Budget;
  /** Whole service (B4; Firebase: 1,000 SMS per minute per project). */
  global: Budget;
  /**
   * OTP verification attempts per destination (submitCibilOtp, verifyAepsOtp): a 4-digit OTP falls to 10,000
   * guesses, so attempts are capped here whatever AOPay allows (Twilio Verify: 5 checks per verification).
   */
  verify: Budget;
}

export interface AuthConfig {
  /** When true, every GraphQL request must carry a valid API key or JWT. Always true in production. */
  required: boolean;
  /** SHA-256 (hex) of each API key, mapped to its client id. Keys themselves are never configured. */
  apiKeys: ReadonlyMap<string, string>;
  jwt: { jwksUrl: URL; issuer: string | undefined; audience: string | undefined; clientClaim: string } | null;
}

/** GraphQL document limits (docs/security-requirements.md A2/A3), checked before execution. */
export type TrustedDocumentsMode = "off" | "enforce";

export interface GraphQLLimits {
  maxAliases: number;
  maxDepth: number;
  maxTokens: number;
  maxCost: number;
  maxDirectives: number;
  maxQueryChars: number;
}

export interface Config {
  env: Environment;
  port: number;
  host: string;
  logLevel: Level;
  /** Browser origins allowed by CORS. Empty: no cross-origin browser access. */
  corsOrigins: string[];
  bodyLimitBytes: number;
  /** How long SIGTERM waits for in-flight requests before closing connections. */
  shutdownGraceMs: number;
  aopay: AopayConfig;
  /** Secret for HMAC-SHA256 of every identifier used in a throttle or idempotency key (docs/security-requirements.md D2). */
  hmacSecret: Buffer;
  /** True when no HMAC_SECRET was configured and a random one was made for this process (development only). */
  hmacSecretEphemeral: boolean;
  /** Shared state for throttling and idempotency. Null: in-memory, one process. */
  redisUrl: string | null;
  redisKeyPrefix: string;
  throttle: ThrottleConfig;
  /** How long an idempotency key's first result is kept and replayed. */
  idempotencyTtlSeconds: number;
  /**
   * After a client verifies a customer's CIBIL OTP, how long that client may read the customer's credit history.
   * AOPay's GetCreditHistory needs only the CIBIL id, so without this anyone holding an id could read a history.
   */
  cibilConsentTtlSeconds: number;
  /** Proxies whose X-Forwarded-For is believed (IPs or CIDRs). Empty: the socket address is the client IP. */
  trustedProxies: string[];
  auth: AuthConfig;
  graphqlLimits: GraphQLLimits;
  /**
   * docs/security-requirements.md A11. `off`: any document within the limits runs, and the trusted documents can also be sent by id.
   * `enforce`: only the trusted documents (src/generated/trusted-documents.ts) run, by text or by id.
   */
  trustedDocuments: TrustedDocumentsMode;
  /** Whole-request budget for a mutation, from arrival to answer; upstream attempts get only what is left. */
  requestDeadlineMs: number;
  metrics: MetricsConfig;
  /** Whether an open circuit makes /readyz answer 503. */
  readinessIncludesBreaker: boolean;
  telemetry: TelemetryConfig;
}

export const DEFAULT_PORT = 4000;
export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_LOG_LEVEL: Level = "info";
/** Vite's dev server, so the example app works out of the box in development. Production default: none. */
export const DEFAULT_DEV_CORS_ORIGINS = ["http://localhost:5173", "http://127.0.0.1:5173"];
/** 32 KiB: a GraphQL document for these operations is well under 2 KiB (docs/security-requirements.md A4 proposes 16-64 KB). */
export const DEFAULT_BODY_LIMIT_BYTES = 32 * 1024;
export const DEFAULT_SHUTDOWN_GRACE_MS = 15_000;
export const DEFAULT_API_PREFIX = "/api/AOP";
export const DEFAULT_AEPS_PIPE = "bank6";
export const DEFAULT_AEPS_ACCESS_MODE_TYPE = "SITE";
/** undici defaults are 10 s connect and 300 s headers/body (docs/security-requirements.md E1); ours are below a typical 30 s LB timeout. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 3_000;
export const DEFAULT_HEADERS_TIMEOUT_MS = 8_000;
export const DEFAULT_BODY_TIMEOUT_MS = 8_000;
export const DEFAULT_DEADLINE_MS = 10_000;
/** 1 MiB: the documented bodies are a few hundred bytes; undici's default is unlimited (docs/security-requirements.md D6). */
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;
export const DEFAULT_CONNECTIONS = 128;
export const DEFAULT_QUEUE_LIMIT = 256;
export const DEFAULT_RETRY_MAX = 2;
/** Below common load-balancer timeouts (AWS ALB 60 s, nginx 60 s, Kubernetes ingress 60 s) with room to spare. */
export const DEFAULT_REQUEST_DEADLINE_MS = 10_000;
export const DEFAULT_BREAKER: BreakerConfig = {
  errorThresholdPercentage: 50,
  volumeThreshold: 10,
  resetTimeoutMs: 30_000,
  rollingWindowMs: 10_000,
};
/** Prometheus's registered default port for Node exporters. */
export const DEFAULT_METRICS_PORT = 9464;
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 4_000;
export const DEFAULT_REDIS_KEY_PREFIX = "aopay-gql:";
export const DEFAULT_OTP_COOLDOWN_SECONDS = 60;
export const DEFAULT_OTP_WINDOW: Budget = { points: 3, seconds: 600 };
export const DEFAULT_OTP_DAILY: Budget = { points: 10, seconds: 86_400 };
/** A 6-digit prefix spans 10,000 numbers; 50 sends to one range in 10 minutes looks like pumping, not customers. */
export const DEFAULT_OTP_PREFIX: Budget = { points: 50, seconds: 600 };
export const DEFAULT_OTP_IP: Budget = { points: 50, seconds: 60 };
export const DEFAULT_OTP_CLIENT: Budget = { points: 300, seconds: 60 };
export const DEFAULT_OTP_GLOBAL: Budget = { points: 1000, seconds: 60 };
export const DEFAULT_OTP_VERIFY: Budget = { points: 5, seconds: 600 };
/** How long a verified CIBIL OTP lets the same client read that customer's credit history. */
export const DEFAULT_CIBIL_CONSENT_TTL_SECONDS = 1800;
/** Stripe keeps idempotency keys at least 24 hours (docs/security-requirements.md E4). */
export const DEFAULT_IDEMPOTENCY_TTL_SECONDS = 86_400;
/**
 * Sized from our own client operations (at most 108 tokens, depth 4, cost 664 for SubmitCibilOtp with its linked
 * credit history; Armor's cost grows 1.5x per level) and Sandbox's introspection (183 tokens), with headroom;
 * test/unit/graphql/limits.test.ts checks every client operation against them.
 */
export const DEFAULT_GRAPHQL_LIMITS: GraphQLLimits = {
  maxAliases: 3,
  maxDepth: 6,
  maxTokens: 500,
  maxCost: 1000,
  maxDirectives: 10,
  maxQueryChars: 8_000,
};
/** The JWT claim that names the calling client (OAuth client-credentials tokens carry it as `azp` or `client_id`). */
export const DEFAULT_JWT_CLIENT_CLAIM = "azp";
const MIN_SECRET_LENGTH = 32;

/** Credentials the built-in simulator accepts. They are not secrets: the simulator is a development tool. */
export const SIMULATOR_REGISTRATION_ID = "SIM-REG-0001";
export const SIMULATOR_COMPANY_CODE = "SIMCO01";

const KNOWN_AOPAY_VARS = new Set([
  "AOPAY_BASE_URL",
  "AOPAY_API_PREFIX",
  "AOPAY_REGISTRATION_ID",
  "AOPAY_COMPANY_CODE",
  "AOPAY_AEPS_PIPE",
  "AOPAY_AEPS_ACCESS_MODE_TYPE",
  "AOPAY_CIBIL_REGISTRATION_METHOD",
  "AOPAY_DOB_FORMAT",
  "AOPAY_CONNECT_TIMEOUT_MS",
  "AOPAY_HEADERS_TIMEOUT_MS",
  "AOPAY_BODY_TIMEOUT_MS",
  "AOPAY_DEADLINE_MS",
  "AOPAY_MAX_RESPONSE_BYTES",
  "AOPAY_CONNECTIONS",
  "AOPAY_QUEUE_LIMIT",
  "AOPAY_GET_BODY_KEEP_ALIVE",
  "AOPAY_RETRY_MAX",
  "AOPAY_KEEP_ALIVE_TIMEOUT_MS",
]);

const KNOWN_PREFIXED_VARS = new Set([
  "OTP_COOLDOWN_SECONDS",
  "OTP_WINDOW_MAX",
  "OTP_WINDOW_SECONDS",
  "OTP_DAILY_MAX",
  "OTP_PREFIX_MAX",
  "OTP_PREFIX_WINDOW_SECONDS",
  "OTP_IP_MAX",
  "OTP_IP_WINDOW_SECONDS",
  "OTP_CLIENT_MAX",
  "OTP_CLIENT_WINDOW_SECONDS",
  "OTP_GLOBAL_MAX",
  "OTP_GLOBAL_WINDOW_SECONDS",
  "OTP_VERIFY_MAX",
  "OTP_VERIFY_WINDOW_SECONDS",
  "GRAPHQL_MAX_ALIASES",
  "GRAPHQL_MAX_DEPTH",
  "GRAPHQL_MAX_TOKENS",
  "GRAPHQL_MAX_COST",
  "GRAPHQL_MAX_DIRECTIVES",
  "GRAPHQL_MAX_QUERY_CHARS",
  "AUTH_REQUIRED",
  "AUTH_JWKS_URL",
  "AUTH_JWT_ISSUER",
  "AUTH_JWT_AUDIENCE",
  "AUTH_JWT_CLIENT_CLAIM",
  "BREAKER_ERROR_PERCENT",
  "BREAKER_VOLUME_THRESHOLD",
  "BREAKER_RESET_MS",
  "BREAKER_WINDOW_MS",
  "METRICS_ENABLED",
  "METRICS_HOST",
  "METRICS_PORT",
  "METRICS_TOKEN",
]);
/**
 * The OTEL_* variables the SDK pieces we load honour for traces (the specification's names: sdk-node, sdk-trace and
 * the OTLP/HTTP exporter read them). Any other OTEL_* name is a typo or a feature this server does not use.
 */
const KNOWN_OTEL_VARS = new Set([
  "OTEL_SDK_DISABLED",
  "OTEL_SERVICE_NAME",
  "OTEL_RESOURCE_ATTRIBUTES",
  "OTEL_NODE_RESOURCE_DETECTORS",
  "OTEL_LOG_LEVEL",
  "OTEL_PROPAGATORS",
  "OTEL_TRACES_EXPORTER",
  "OTEL_METRICS_EXPORTER",
  "OTEL_LOGS_EXPORTER",
  "OTEL_TRACES_SAMPLER",
  "OTEL_TRACES_SAMPLER_ARG",
  "OTEL_EXPORTER_OTLP_ENDPOINT",
  "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
  "OTEL_EXPORTER_OTLP_PROTOCOL",
  "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
  "OTEL_EXPORTER_OTLP_HEADERS",
  "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
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
]);

/** Every setting `loadConfig` reads (test/unit/container.test.ts checks the image's environment against it). */
export const KNOWN_SETTINGS: ReadonlySet<string> = new Set([
  ...KNOWN_AOPAY_VARS,
  ...KNOWN_PREFIXED_VARS,
  ...KNOWN_OTEL_VARS,
  "NODE_ENV",
  "PORT",
  "HOST",
  "LOG_LEVEL",
  "CORS_ORIGINS",
  "BODY_LIMIT_BYTES",
  "SHUTDOWN_GRACE_MS",
  "HMAC_SECRET",
  "REDIS_URL",
  "REDIS_KEY_PREFIX",
  "CIBIL_CONSENT_TTL_SECONDS",
  "IDEMPOTENCY_TTL_SECONDS",
  "TRUSTED_PROXIES",
  "API_KEYS",
  "TRUSTED_DOCUMENTS",
  "REQUEST_DEADLINE_MS",
  "READINESS_INCLUDES_BREAKER",
]);
/** Every setting `loadSimulatorConfig` reads. */
export const KNOWN_SIMULATOR_SETTINGS: ReadonlySet<string> = new Set(["SIMULATOR_HOST", "SIMULATOR_PORT", "AOPAY_API_PREFIX", "LOG_LEVEL"]);
/** Settings under these prefixes must be known names: a misspelt one stops the start instead of being ignored. */
const CHECKED_PREFIXES = ["AOPAY_", "OTP_", "GRAPHQL_", "AUTH_", "BREAKER_", "METRICS_", "OTEL_"];

const LEVELS: readonly Level[] = ["fatal", "error", "warn", "info", "debug", "trace"];

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

class Reader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  string(name: string, fallback: string): string {
    const raw = this.env[name];
    return raw === undefined || raw === "" ? fallback : raw;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const raw = this.env[name];
    if (raw === undefined || raw === "") return fallback;
    if (!/^[0-9]+$/.test(raw)) {
      this.problems.push(`${name} must be a whole number (got a non-numeric value)`);
      return fallback;
    }
    const n = Number(raw);
    if (n < min || n > max) this.problems.push(`${name} must be between ${min} and ${max} (got ${n})`);
    return n;
  }

  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const raw = this.env[name];
    if (raw === undefined || raw === "") return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      this.problems.push(`${name} must be one of ${allowed.join(", ")}`);
      return fallback;
    }
    return raw as T;
  }

  /** A short printable identifier: letters, digits and `-_.`. Used for credentials and AEPS constants. */
  token(name: string, fallback: string): string {
    const value = this.string(name, fallback);
    if (value !== "" && !/^[A-Za-z0-9._-]{1,64}$/.test(value)) {
      // Never echo the value: it may be a credential.
      this.problems.push(`${name} must be 1-64 characters of letters, digits, '.', '_' or '-'`);
    }
    return value;
  }
}

function parseBaseUrl(r: Reader, raw: string | undefined, env: Environment): URL | null {
  if (raw === undefined || raw === "") return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    r.problems.push("AOPAY_BASE_URL must be an absolute URL such as https://api.aopay.co.in");
    return null;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") r.problems.push("AOPAY_BASE_URL must use https (or http outside production)");
  // docs/security-requirements.md D5: partner credentials and Aadhaar numbers travel in the body; never in clear text in production.
  // Loopback is the one exception (an egress proxy or TLS sidecar on the same host): nothing crosses a network.
  const loopback = ["127.0.0.1", "[::1]", "localhost"].includes(url.hostname);
  if (env === "production" && url.protocol !== "https:" && !loopback) {
    r.problems.push("AOPAY_BASE_URL must use https in production (plain http is allowed only to a loopback address)");
  }
  if (url.search || url.hash || url.username || url.password) r.problems.push("AOPAY_BASE_URL must not carry a query, fragment or credentials");
  return url;
}

function parseOrigins(r: Reader, raw: string | undefined, fallback: string[]): string[] {
  if (raw === undefined) return fallback;
  const origins = raw.split(",").map((s) => s.trim()).filter(Boolean);
  for (const origin of origins) {
    let ok = false;
    try {
      const u = new URL(origin);
      ok = (u.protocol === "http:" || u.protocol === "https:") && u.origin === origin;
    } catch {
      ok = false;
    }
    if (!ok) r.problems.push(`CORS_ORIGINS entries must be exact origins like https://app.example.com (bad entry: ${JSON.stringify(origin)})`);
  }
  return origins;
}

/** Parses the environment into a frozen Config, or throws ConfigError naming every problem. */
export function loadConfig(env: Env = process.env): Config {
  const r = new Reader(env);
  const nodeEnv = r.oneOf<Environment>("NODE_ENV", "development", ["development", "production", "test"]);

  for (const key of Object.keys(env)) {
    const checked = CHECKED_PREFIXES.some((p) => key.startsWith(p));
    if (checked && !KNOWN_SETTINGS.has(key)) r.problems.push(`Unknown setting ${key} (misspelt?)`);
  }

  const baseUrl = parseBaseUrl(r, env.AOPAY_BASE_URL, nodeEnv);
  const mode: AopayConfig["mode"] = baseUrl || env.AOPAY_BASE_URL ? "live" : "simulator";
  if (mode === "simulator" && nodeEnv === "production") {
    r.problems.push(
      "AOPAY_BASE_URL is required when NODE_ENV=production: the built-in simulator is for development only and will not run in production",
    );
  }
  if (mode === "live") {
    if (!env.AOPAY_REGISTRATION_ID) r.problems.push("AOPAY_REGISTRATION_ID is required when AOPAY_BASE_URL is set");
    if (!env.AOPAY_COMPANY_CODE) r.problems.push("AOPAY_COMPANY_CODE is required when AOPAY_BASE_URL is set");
  }

  const apiPrefix = r.string("AOPAY_API_PREFIX", DEFAULT_API_PREFIX);
  if (!/^(\/[A-Za-z0-9._-]+)+$/.test(apiPrefix)) r.problems.push("AOPAY_API_PREFIX must look like /api/AOP");

  const deadlineMs = r.int("AOPAY_DEADLINE_MS", DEFAULT_DEADLINE_MS, 100, 120_000);
  const aopay: AopayConfig = {
    mode,
    baseUrl,
    apiPrefix,
    registrationId: r.token("AOPAY_REGISTRATION_ID", mode === "simulator" ? SIMULATOR_REGISTRATION_ID : ""),
    companyCode: r.token("AOPAY_COMPANY_CODE", mode === "simulator" ? SIMULATOR_COMPANY_CODE : ""),
    aepsPipe: r.token("AOPAY_AEPS_PIPE", DEFAULT_AEPS_PIPE),
    aepsAccessModeType: r.token("AOPAY_AEPS_ACCESS_MODE_TYPE", DEFAULT_AEPS_ACCESS_MODE_TYPE),
    cibilRegistrationMethod: r.oneOf("AOPAY_CIBIL_REGISTRATION_METHOD", "GET", ["GET", "POST"]),
    // Indian convention; confirm with AOPay (docs/upstream/aopay-api.md §7 question 7).
    dobFormat: r.oneOf("AOPAY_DOB_FORMAT", "DD/MM/YYYY", ["DD/MM/YYYY", "MM/DD/YYYY", "YYYY-MM-DD"]),
    connectTimeoutMs: r.int("AOPAY_CONNECT_TIMEOUT_MS", DEFAULT_CONNECT_TIMEOUT_MS, 50, 60_000),
    headersTimeoutMs: r.int("AOPAY_HEADERS_TIMEOUT_MS", DEFAULT_HEADERS_TIMEOUT_MS, 50, 120_000),
    bodyTimeoutMs: r.int("AOPAY_BODY_TIMEOUT_MS", DEFAULT_BODY_TIMEOUT_MS, 50, 120_000),
    deadlineMs,
    maxResponseBytes: r.int("AOPAY_MAX_RESPONSE_BYTES", DEFAULT_MAX_RESPONSE_BYTES, 1024, 64 * 1024 * 1024),
    connections: r.int("AOPAY_CONNECTIONS", DEFAULT_CONNECTIONS, 1, 65_536),
    queueLimit: r.int("AOPAY_QUEUE_LIMIT", DEFAULT_QUEUE_LIMIT, 0, 1_000_000),
    getBodyKeepAlive: r.oneOf("AOPAY_GET_BODY_KEEP_ALIVE", "true", ["true", "false"]) === "true",
    retryMax: r.int("AOPAY_RETRY_MAX", DEFAULT_RETRY_MAX, 0, 10),
    breaker: {
      errorThresholdPercentage: r.int("BREAKER_ERROR_PERCENT", DEFAULT_BREAKER.errorThresholdPercentage, 1, 100),
      volumeThreshold: r.int("BREAKER_VOLUME_THRESHOLD", DEFAULT_BREAKER.volumeThreshold, 1, 100_000),
      resetTimeoutMs: r.int("BREAKER_RESET_MS", DEFAULT_BREAKER.resetTimeoutMs, 100, 3_600_000),
      rollingWindowMs: r.int("BREAKER_WINDOW_MS", DEFAULT_BREAKER.rollingWindowMs, 1_000, 3_600_000),
    },
    keepAliveTimeoutMs: r.int("AOPAY_KEEP_ALIVE_TIMEOUT_MS", DEFAULT_KEEP_ALIVE_TIMEOUT_MS, 100, 600_000),
  };

  const production = nodeEnv === "production";
  const redisUrl = parseRedisUrl(r, env.REDIS_URL);
  const { secret: hmacSecret, ephemeral: hmacSecretEphemeral } = parseSecret(r, env.HMAC_SECRET, production || redisUrl !== null);
  const budget = (prefix: string, fallback: Budget, maxName = `${prefix}_MAX`, secondsName = `${prefix}_WINDOW_SECONDS`): Budget => ({
    points: r.int(maxName, fallback.points, 1, 10_000_000),
    seconds: r.int(secondsName, fallback.seconds, 1, 31 * 86_400),
  });
  const auth = parseAuth(r, env, production);

  const config: Config = {
    env: nodeEnv,
    port: r.int("PORT", DEFAULT_PORT, 0, 65_535),
    host: r.string("HOST", DEFAULT_HOST),
    logLevel: r.oneOf<Level>("LOG_LEVEL", DEFAULT_LOG_LEVEL, LEVELS),
    corsOrigins: parseOrigins(r, env.CORS_ORIGINS, nodeEnv === "production" ? [] : DEFAULT_DEV_CORS_ORIGINS),
    bodyLimitBytes: r.int("BODY_LIMIT_BYTES", DEFAULT_BODY_LIMIT_BYTES, 1024, 1024 * 1024),
    shutdownGraceMs: r.int("SHUTDOWN_GRACE_MS", DEFAULT_SHUTDOWN_GRACE_MS, 0, 600_000),
    aopay,
    hmacSecret,
    hmacSecretEphemeral,
    redisUrl,
    redisKeyPrefix: r.string("REDIS_KEY_PREFIX", DEFAULT_REDIS_KEY_PREFIX),
    throttle: {
      cooldownSeconds: r.int("OTP_COOLDOWN_SECONDS", DEFAULT_OTP_COOLDOWN_SECONDS, 0, 86_400),
      destinationWindow: budget("OTP_WINDOW", DEFAULT_OTP_WINDOW),
      destinationDaily: { points: r.int("OTP_DAILY_MAX", DEFAULT_OTP_DAILY.points, 1, 10_000_000), seconds: DEFAULT_OTP_DAILY.seconds },
      mobilePrefix: budget("OTP_PREFIX", DEFAULT_OTP_PREFIX),
      ip: budget("OTP_IP", DEFAULT_OTP_IP),
      client: budget("OTP_CLIENT", DEFAULT_OTP_CLIENT),
      global: budget("OTP_GLOBAL", DEFAULT_OTP_GLOBAL),
      verify: budget("OTP_VERIFY", DEFAULT_OTP_VERIFY),
    },
    cibilConsentTtlSeconds: r.int("CIBIL_CONSENT_TTL_SECONDS", DEFAULT_CIBIL_CONSENT_TTL_SECONDS, 60, 86_400),
    idempotencyTtlSeconds: r.int("IDEMPOTENCY_TTL_SECONDS", DEFAULT_IDEMPOTENCY_TTL_SECONDS, 1, 30 * 86_400),
    trustedProxies: parseProxies(r, env.TRUSTED_PROXIES),
    auth,
    graphqlLimits: {
      maxAliases: r.int("GRAPHQL_MAX_ALIASES", DEFAULT_GRAPHQL_LIMITS.maxAliases, 0, 1000),
      maxDepth: r.int("GRAPHQL_MAX_DEPTH", DEFAULT_GRAPHQL_LIMITS.maxDepth, 1, 100),
      maxTokens: r.int("GRAPHQL_MAX_TOKENS", DEFAULT_GRAPHQL_LIMITS.maxTokens, 10, 100_000),
      maxCost: r.int("GRAPHQL_MAX_COST", DEFAULT_GRAPHQL_LIMITS.maxCost, 1, 1_000_000),
      maxDirectives: r.int("GRAPHQL_MAX_DIRECTIVES", DEFAULT_GRAPHQL_LIMITS.maxDirectives, 0, 1000),
      maxQueryChars: r.int("GRAPHQL_MAX_QUERY_CHARS", DEFAULT_GRAPHQL_LIMITS.maxQueryChars, 100, 1_000_000),
    },
    trustedDocuments: r.oneOf<TrustedDocumentsMode>("TRUSTED_DOCUMENTS", "off", ["off", "enforce"]),
    requestDeadlineMs: r.int("REQUEST_DEADLINE_MS", DEFAULT_REQUEST_DEADLINE_MS, 100, 120_000),
    metrics: {
      enabled: r.oneOf("METRICS_ENABLED", "true", ["true", "false"]) === "true",
      host: r.string("METRICS_HOST", DEFAULT_HOST),
      port: r.int("METRICS_PORT", DEFAULT_METRICS_PORT, 0, 65_535),
      token: env.METRICS_TOKEN ? env.METRICS_TOKEN : null,
    },
    readinessIncludesBreaker: r.oneOf("READINESS_INCLUDES_BREAKER", "true", ["true", "false"]) === "true",
    telemetry: parseTelemetry(r, env),
  };
  if (config.metrics.token !== null && config.metrics.token.length < 16) r.problems.push("METRICS_TOKEN must be at least 16 characters");

  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return deepFreeze(config);
}

export const DEFAULT_SERVICE_NAME = "aopay-graphql";
/** The specification's sampler names that sdk-node builds (jaeger_remote and xray need packages we do not ship). */
const OTEL_SAMPLERS = ["always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio"] as const;
/** OTLP over HTTP only: the collector's 4318 receiver. gRPC would load @grpc/grpc-js and is not tested here. */
const OTLP_PROTOCOLS = ["http/protobuf", "http/json"] as const;

/**
 * The OTEL_* values the SDK would otherwise read leniently (an unknown sampler or protocol falls back to a default
 * with at most a diag warning, so a typo would export nothing or everything without a word) are checked here.
 */
function parseTelemetry(r: Reader, env: Env): TelemetryConfig {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT || null;
  for (const name of ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]) {
    const raw = env[name];
    if (!raw) continue;
    let ok = false;
    try {
      const url = new URL(raw);
      ok = (url.protocol === "http:" || url.protocol === "https:") && !url.username && !url.password;
    } catch {
      ok = false;
    }
    // The URL is not echoed: it might carry a token in its query.
    if (!ok) r.problems.push(`${name} must be an http(s) URL without credentials, e.g. http://otel-collector:4318 (send credentials in OTEL_EXPORTER_OTLP_HEADERS)`);
  }
  const exporter = r.oneOf("OTEL_TRACES_EXPORTER", endpoint ? "otlp" : "none", ["otlp", "none"]);
  r.oneOf("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf", OTLP_PROTOCOLS);
  r.oneOf("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf", OTLP_PROTOCOLS);
  // Metrics are Prometheus (METRICS_*) and logs go to stdout: an OTel exporter for either would export nothing.
  for (const name of ["OTEL_METRICS_EXPORTER", "OTEL_LOGS_EXPORTER"]) {
    const value = env[name];
    if (value && value !== "none") {
      r.problems.push(`${name} must be none or unset: this server exports traces only over OTel (metrics: Prometheus on METRICS_PORT; logs: stdout)`);
    }
  }
  const sampler = r.oneOf("OTEL_TRACES_SAMPLER", "parentbased_always_on", OTEL_SAMPLERS);
  const arg = env.OTEL_TRACES_SAMPLER_ARG;
  if (arg !== undefined && arg !== "") {
    const ratio = /^(0(\.[0-9]+)?|1(\.0+)?)$/.test(arg) ? Number(arg) : NaN;
    if (Number.isNaN(ratio)) r.problems.push("OTEL_TRACES_SAMPLER_ARG must be a ratio between 0 and 1, e.g. 0.1");
    else if (!sampler.endsWith("traceidratio")) r.problems.push("OTEL_TRACES_SAMPLER_ARG applies only to OTEL_TRACES_SAMPLER=traceidratio or parentbased_traceidratio");
  }
  const disabled = r.oneOf("OTEL_SDK_DISABLED", "false", ["true", "false"]) === "true";
  return { enabled: exporter === "otlp" && !disabled, defaultServiceName: DEFAULT_SERVICE_NAME, endpoint, sampler };
}

function parseRedisUrl(r: Reader, raw: string | undefined): string | null {
  if (raw === undefined || raw === "") return null;
  try {
    const url = new URL(raw);
    if (url.protocol === "redis:" || url.protocol === "rediss:") return raw;
  } catch {
    // fall through
  }
  // The URL may embed a password: never echo it.
  r.problems.push("REDIS_URL must be a redis:// or rediss:// URL");
  return null;
}

/**
 * HMAC_SECRET keys every throttle and idempotency entry. Replicas sharing Redis must share it, so it is required in
 * production and whenever REDIS_URL is set; a one-process development server gets a random one.
 */
function parseSecret(r: Reader, raw: string | undefined, required: boolean): { secret: Buffer; ephemeral: boolean } {
  if (raw === undefined || raw === "") {
    if (required) r.problems.push("HMAC_SECRET is required in production and with REDIS_URL (at least 32 characters, e.g. `openssl rand -base64 48`)");
    return { secret: randomBytes(32), ephemeral: true };
  }
  if (raw.length < MIN_SECRET_LENGTH) r.problems.push(`HMAC_SECRET must be at least ${MIN_SECRET_LENGTH} characters`);
  return { secret: Buffer.from(raw, "utf8"), ephemeral: false };
}

/** TRUSTED_PROXIES: comma-separated IPv4/IPv6 addresses or CIDRs, handed to Fastify's proxy-addr. */
function parseProxies(r: Reader, raw: string | undefined): string[] {
  if (!raw) return [];
  const entries = raw.split(",").map((s) => s.trim()).filter(Boolean);
  for (const entry of entries) {
    const [address, bits, extra] = entry.split("/");
    const family = isIP(address);
    const maxBits = family === 6 ? 128 : 32;
    const bitsOk = bits === undefined || (/^[0-9]{1,3}$/.test(bits) && Number(bits) <= maxBits);
    if (family === 0 || !bitsOk || extra !== undefined) r.problems.push(`TRUSTED_PROXIES entries must be IP addresses or CIDRs (bad entry: ${JSON.stringify(entry)})`);
  }
  return entries;
}

/** API_KEYS is `clientId:sha256hex,...` (see `npm run api-key`); AUTH_JWKS_URL enables JWT bearer tokens. */
function parseAuth(r: Reader, env: Env, production: boolean): AuthConfig {
  const apiKeys = new Map<string, string>();
  for (const entry of (env.API_KEYS ?? "").split(",").map((s) => s.trim()).filter(Boolean)) {
    const m = /^([A-Za-z0-9._-]{1,64}):([0-9a-f]{64})$/.exec(entry);
    if (!m) {
      r.problems.push("API_KEYS entries must be clientId:sha256hex (64 lower-case hex digits); generate them with `npm run api-key`");
      continue;
    }
    if (apiKeys.has(m[2])) r.problems.push(`API_KEYS lists the same key twice (client ${m[1]})`);
    apiKeys.set(m[2], m[1]);
  }
  let jwt: AuthConfig["jwt"] = null;
  if (env.AUTH_JWKS_URL) {
    let jwksUrl: URL | null = null;
    try {
      jwksUrl = new URL(env.AUTH_JWKS_URL);
    } catch {
      r.problems.push("AUTH_JWKS_URL must be an absolute URL");
    }
    if (jwksUrl && production && jwksUrl.protocol !== "https:") r.problems.push("AUTH_JWKS_URL must use https in production");
    if (jwksUrl) {
      jwt = {
        jwksUrl,
        issuer: env.AUTH_JWT_ISSUER || undefined,
        audience: env.AUTH_JWT_AUDIENCE || undefined,
        clientClaim: r.string("AUTH_JWT_CLIENT_CLAIM", DEFAULT_JWT_CLIENT_CLAIM),
      };
    }
  } else if (env.AUTH_JWT_ISSUER || env.AUTH_JWT_AUDIENCE) {
    r.problems.push("AUTH_JWT_ISSUER and AUTH_JWT_AUDIENCE need AUTH_JWKS_URL");
  }
  const requested = r.oneOf("AUTH_REQUIRED", production ? "true" : "false", ["true", "false"]) === "true";
  if (production && !requested) r.problems.push("AUTH_REQUIRED cannot be false in production: every request must be attributed to a client");
  const required = production || requested;
  if (required && apiKeys.size === 0 && !jwt) {
    r.problems.push("Authentication is required (production or AUTH_REQUIRED=true) but neither API_KEYS nor AUTH_JWKS_URL is set");
  }
  return { required, apiKeys, jwt };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !(value instanceof URL) && !Buffer.isBuffer(value) && !(value instanceof Map)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Settings of `npm run simulator` (the simulator on its own). */
export interface SimulatorConfig {
  host: string;
  port: number;
  apiPrefix: string;
  registrationId: string;
  companyCode: string;
  logLevel: Level;
}

export const DEFAULT_SIMULATOR_PORT = 4010;

/** Parses the standalone simulator's settings: SIMULATOR_HOST, SIMULATOR_PORT, AOPAY_API_PREFIX, LOG_LEVEL. */
export function loadSimulatorConfig(env: Env = process.env): SimulatorConfig {
  const r = new Reader(env);
  const config: SimulatorConfig = {
    host: r.string("SIMULATOR_HOST", DEFAULT_HOST),
    port: r.int("SIMULATOR_PORT", DEFAULT_SIMULATOR_PORT, 0, 65_535),
    apiPrefix: r.string("AOPAY_API_PREFIX", DEFAULT_API_PREFIX),
    // The simulator accepts only its own development credentials (see docs/simulator.md), never real ones.
    registrationId: SIMULATOR_REGISTRATION_ID,
    companyCode: SIMULATOR_COMPANY_CODE,
    logLevel: r.oneOf<Level>("LOG_LEVEL", DEFAULT_LOG_LEVEL, LEVELS),
  };
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return config;
}
