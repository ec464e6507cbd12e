/**
 * The only reader of `process.env`. Each concern declares its settings next to the module it configures
 * (`*.settings.ts`, on zod: settings/schema.ts); this file reads them all once at startup and assembles the `Config`
 * object the modules take. A bad value, an unknown name under one of our prefixes, or a name close to a known one
 * (settings/names.ts) stops the start with one message listing every problem (stripe-node's
 * ALLOWED_CONFIG_PROPERTIES, applied to env). .env.example and docs/configuration.md are rendered from the same
 * declarations (settings/docs.ts; test/unit/settings.test.ts fails when they drift).
 */
import { randomBytes } from "node:crypto";
import type { Level } from "pino";
import { clientSettings, SIMULATOR_COMPANY_CODE, SIMULATOR_REGISTRATION_ID } from "./aopay/client.settings";
import { breakerConfig, breakerSettings } from "./aopay/circuit-breakers.settings";
import { transportSettings } from "./aopay/transport.settings";
import { authSettings } from "./auth/auth.settings";
import { graphqlLimits, limitsSettings } from "./graphql/limits.settings";
import { clusterSettings } from "./cluster.settings";
import { admissionSettings } from "./http/admission.settings";
import { DEFAULT_DEV_CORS_ORIGINS, type LogFormat, serverSettings } from "./http/server.settings";
import { metricsSettings } from "./observability/metrics.settings";
import { telemetryConfig, telemetrySettings } from "./observability/telemetry.settings";
import { throttleConfig, throttleSettings } from "./protection/otp-throttle.settings";
import { protectionSettings } from "./protection/protection.settings";
import { deriveStoreKey, type StoreKey } from "./protection/store-sealer";
import { unknownNames } from "./settings/names";
import { readGroup, type SettingsGroup, type ValuesOf } from "./settings/schema";
import { simulatorSettings } from "./simulator/simulator.settings";

export * from "./aopay/client.settings";
export { DEFAULT_BREAKER } from "./aopay/circuit-breakers.settings";
export * from "./aopay/transport.settings";
export { DEFAULT_JWT_CLIENT_CLAIM } from "./auth/auth.settings";
export { DEFAULT_GRAPHQL_LIMITS } from "./graphql/limits.settings";
export * from "./http/admission.settings";
export * from "./http/server.settings";
export * from "./observability/metrics.settings";
export { DEFAULT_SERVICE_NAME } from "./observability/telemetry.settings";
export * from "./protection/otp-throttle.settings";
export * from "./protection/protection.settings";
export { DEFAULT_SIMULATOR_PORT } from "./simulator/simulator.settings";

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

/** Admission control in front of GraphQL (http/admission.ts). */
export interface AdmissionConfig {
  /** GraphQL requests in progress at once; 0: no cap. */
  maxInFlight: number;
  /** Mean event-loop delay (ms) above which new requests are refused; 0: off. */
  maxEventLoopDelayMs: number;
  sampleIntervalMs: number;
  retryAfterSeconds: number;
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
  /**
   * `json`: one JSON object per line (what log shippers read; always in production). `pretty`: readable lines with
   * local times (pino-pretty), for a developer's terminal: `npm run dev`, or `npm start` in a terminal.
   */
  logFormat: LogFormat;
  /** Browser origins allowed by CORS. Empty: no cross-origin browser access. */
  corsOrigins: string[];
  bodyLimitBytes: number;
  /** listen()'s backlog: connections the kernel queues before they are accepted. */
  listenBacklog: number;
  admission: AdmissionConfig;
  /** Worker processes (cluster.ts); 1: this process serves. */
  webConcurrency: number;
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
  /**
   * Keys sealing stored idempotency results (protection/store-sealer.ts): the first seals, all open. From
   * STORE_ENCRYPTION_KEYS, else one key derived from HMAC_SECRET (refused in production with REDIS_URL).
   */
  storeKeys: readonly StoreKey[];
  /** True when storeKeys is the key derived from HMAC_SECRET. */
  storeKeysDerived: boolean;
  /** Caps of the in-memory stores (without REDIS_URL), in entries; full: fail closed. */
  memoryLimits: { throttleMaxKeys: number; idempotencyMaxKeys: number; consentMaxKeys: number };
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

/**
 * Every settings group, in the order the docs list them. A name in none of them is not a setting; one close to a
 * setting's name, or under a group's prefix, stops the start.
 */
export const SETTINGS_GROUPS: readonly SettingsGroup[] = [
  serverSettings,
  admissionSettings,
  clusterSettings,
  transportSettings,
  clientSettings,
  breakerSettings,
  throttleSettings,
  protectionSettings,
  authSettings,
  limitsSettings,
  metricsSettings,
  telemetrySettings,
  simulatorSettings,
];

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** What loadConfig may know besides the environment. */
export interface ConfigContext {
  /** Whether the process writes its log to a terminal: LOG_FORMAT's default is `pretty` there in development. */
  stdoutIsTTY?: boolean;
}

/** Parses the environment into a frozen Config, or throws ConfigError naming every problem. */
export function loadConfig(env: Env = process.env, context: ConfigContext = {}): Config {
  const problems = unknownNames(env, SETTINGS_GROUPS);
  const server = readGroup(serverSettings, env, problems);
  const transport = readGroup(transportSettings, env, problems);
  const client = readGroup(clientSettings, env, problems);
  const protection = readGroup(protectionSettings, env, problems);
  const metrics = readGroup(metricsSettings, env, problems);
  const production = server.NODE_ENV === "production";
  if (production && server.LOG_FORMAT === "pretty") {
    problems.push("LOG_FORMAT=pretty is for development: production logs are JSON lines (what log shippers parse)");
  }

  // The upstream: live when AOPAY_BASE_URL is set (even if it is bad: the credentials check still applies).
  const baseUrl = transport.AOPAY_BASE_URL ?? null;
  const mode: AopayConfig["mode"] = baseUrl || env.AOPAY_BASE_URL ? "live" : "simulator";
  if (mode === "simulator" && production) {
    problems.push(
      "AOPAY_BASE_URL is required when NODE_ENV=production: the built-in simulator is for development only and will not run in production",
    );
  }
  if (baseUrl && production && baseUrl.protocol !== "https:" && !["127.0.0.1", "[::1]", "localhost"].includes(baseUrl.hostname)) {
    // docs/security-requirements.md D5: partner credentials and Aadhaar numbers travel in the body; never in clear
    // text in production. Loopback is the one exception (an egress proxy or TLS sidecar on the same host).
    problems.push("AOPAY_BASE_URL must use https in production (plain http is allowed only to a loopback address)");
  }
  if (mode === "live") {
    if (!env.AOPAY_REGISTRATION_ID) problems.push("AOPAY_REGISTRATION_ID is required when AOPAY_BASE_URL is set");
    if (!env.AOPAY_COMPANY_CODE) problems.push("AOPAY_COMPANY_CODE is required when AOPAY_BASE_URL is set");
  }
  const simulatorCredential = (value: string | undefined, simulators: string) => value ?? (mode === "simulator" ? simulators : "");

  const aopay: AopayConfig = {
    mode,
    baseUrl,
    apiPrefix: transport.AOPAY_API_PREFIX,
    registrationId: simulatorCredential(client.AOPAY_REGISTRATION_ID, SIMULATOR_REGISTRATION_ID),
    companyCode: simulatorCredential(client.AOPAY_COMPANY_CODE, SIMULATOR_COMPANY_CODE),
    aepsPipe: client.AOPAY_AEPS_PIPE,
    aepsAccessModeType: client.AOPAY_AEPS_ACCESS_MODE_TYPE,
    cibilRegistrationMethod: client.AOPAY_CIBIL_REGISTRATION_METHOD,
    dobFormat: client.AOPAY_DOB_FORMAT,
    connectTimeoutMs: transport.AOPAY_CONNECT_TIMEOUT_MS,
    headersTimeoutMs: transport.AOPAY_HEADERS_TIMEOUT_MS,
    bodyTimeoutMs: transport.AOPAY_BODY_TIMEOUT_MS,
    deadlineMs: transport.AOPAY_DEADLINE_MS,
    maxResponseBytes: transport.AOPAY_MAX_RESPONSE_BYTES,
    connections: transport.AOPAY_CONNECTIONS,
    queueLimit: transport.AOPAY_QUEUE_LIMIT,
    getBodyKeepAlive: transport.AOPAY_GET_BODY_KEEP_ALIVE,
    retryMax: transport.AOPAY_RETRY_MAX,
    breaker: breakerConfig(readGroup(breakerSettings, env, problems)),
    keepAliveTimeoutMs: transport.AOPAY_KEEP_ALIVE_TIMEOUT_MS,
  };

  // HMAC_SECRET keys every throttle and idempotency entry. Replicas sharing Redis must share it, so it is required in
  // production and whenever REDIS_URL is set; a one-process development server gets a random one.
  const redisUrl = protection.REDIS_URL ?? null;
  // A secret that is too short has been reported above; it is still the one in use, not a random one.
  const hmacRaw = env.HMAC_SECRET || undefined;
  if (hmacRaw === undefined && (production || redisUrl !== null)) {
    problems.push("HMAC_SECRET is required in production and with REDIS_URL (at least 32 characters, e.g. `openssl rand -base64 48`)");
  }
  // Stored results can carry a token AOPay issued; in a shared Redis they are sealed under a key of their own, so
  // that a copy of Redis is not readable by whoever also learns HMAC_SECRET (which every replica's env holds anyway).
  const configuredStoreKeys = protection.STORE_ENCRYPTION_KEYS;
  const storeKeysSet = (env.STORE_ENCRYPTION_KEYS ?? "") !== "";
  if (storeKeysSet && configuredStoreKeys?.length === 0) problems.push("STORE_ENCRYPTION_KEYS lists no key");
  if (!storeKeysSet && production && redisUrl !== null) {
    problems.push(
      "STORE_ENCRYPTION_KEYS is required in production with REDIS_URL: idempotency results stored in Redis are encrypted with it " +
        "(`id:base64key`, e.g. `k1:$(openssl rand -base64 32)`; see docs/security.md)",
    );
  }
  const limits = readGroup(limitsSettings, env, problems);
  const admission = readGroup(admissionSettings, env, problems);
  const workers = readGroup(clusterSettings, env, problems).WEB_CONCURRENCY;
  if (workers > 1 && redisUrl === null) {
    problems.push(
      `WEB_CONCURRENCY=${workers} needs REDIS_URL: each worker would keep its own OTP budgets, idempotency keys and consents in memory, so every budget would be multiplied by ${workers}`,
    );
  }
  if (workers > 1 && mode === "simulator") {
    problems.push(`WEB_CONCURRENCY=${workers} needs AOPAY_BASE_URL: each worker would start its own built-in simulator, with its own OTPs`);
  }
  const hmacSecret = hmacRaw === undefined ? randomBytes(32) : Buffer.from(hmacRaw, "utf8");

  const config: Config = {
    env: server.NODE_ENV,
    port: server.PORT,
    host: server.HOST,
    logLevel: server.LOG_LEVEL,
    logFormat: server.LOG_FORMAT ?? (server.NODE_ENV === "development" && context.stdoutIsTTY === true ? "pretty" : "json"),
    corsOrigins: server.CORS_ORIGINS ?? (production ? [] : [...DEFAULT_DEV_CORS_ORIGINS]),
    bodyLimitBytes: server.BODY_LIMIT_BYTES,
    listenBacklog: server.LISTEN_BACKLOG,
    admission: {
      maxInFlight: admission.ADMISSION_MAX_IN_FLIGHT ?? transport.AOPAY_CONNECTIONS + transport.AOPAY_QUEUE_LIMIT,
      maxEventLoopDelayMs: admission.ADMISSION_MAX_EVENT_LOOP_DELAY_MS,
      sampleIntervalMs: admission.ADMISSION_SAMPLE_INTERVAL_MS,
      retryAfterSeconds: admission.ADMISSION_RETRY_AFTER_SECONDS,
    },
    webConcurrency: workers,
    shutdownGraceMs: server.SHUTDOWN_GRACE_MS,
    aopay,
    hmacSecret,
    hmacSecretEphemeral: hmacRaw === undefined,
    redisUrl,
    redisKeyPrefix: protection.REDIS_KEY_PREFIX,
    storeKeys: configuredStoreKeys?.length ? configuredStoreKeys : [deriveStoreKey(hmacSecret)],
    storeKeysDerived: !configuredStoreKeys?.length,
    memoryLimits: {
      throttleMaxKeys: protection.MEMORY_THROTTLE_MAX_KEYS,
      idempotencyMaxKeys: protection.MEMORY_IDEMPOTENCY_MAX_KEYS,
      consentMaxKeys: protection.MEMORY_CONSENT_MAX_KEYS,
    },
    throttle: throttleConfig(readGroup(throttleSettings, env, problems)),
    cibilConsentTtlSeconds: protection.CIBIL_CONSENT_TTL_SECONDS,
    idempotencyTtlSeconds: protection.IDEMPOTENCY_TTL_SECONDS,
    trustedProxies: server.TRUSTED_PROXIES ?? [],
    auth: authConfig(readGroup(authSettings, env, problems), production, problems),
    graphqlLimits: graphqlLimits(limits),
    trustedDocuments: limits.TRUSTED_DOCUMENTS,
    requestDeadlineMs: server.REQUEST_DEADLINE_MS,
    metrics: {
      enabled: metrics.METRICS_ENABLED,
      host: metrics.METRICS_HOST,
      port: metrics.METRICS_PORT,
      token: metrics.METRICS_TOKEN ?? null,
    },
    readinessIncludesBreaker: server.READINESS_INCLUDES_BREAKER,
    telemetry: telemetryConfig(readGroup(telemetrySettings, env, problems), problems),
  };

  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(config);
}

/** API keys and/or JWTs; in production every request must carry one. */
function authConfig(v: ValuesOf<typeof authSettings>, production: boolean, problems: string[]): AuthConfig {
  const apiKeys = new Map<string, string>();
  for (const { clientId, hash } of v.API_KEYS ?? []) {
    if (apiKeys.has(hash)) problems.push(`API_KEYS lists the same key twice (client ${clientId})`);
    apiKeys.set(hash, clientId);
  }
  let jwt: AuthConfig["jwt"] = null;
  if (v.AUTH_JWKS_URL) {
    if (production && v.AUTH_JWKS_URL.protocol !== "https:") problems.push("AUTH_JWKS_URL must use https in production");
    jwt = { jwksUrl: v.AUTH_JWKS_URL, issuer: v.AUTH_JWT_ISSUER, audience: v.AUTH_JWT_AUDIENCE, clientClaim: v.AUTH_JWT_CLIENT_CLAIM };
  } else if (v.AUTH_JWT_ISSUER || v.AUTH_JWT_AUDIENCE) {
    problems.push("AUTH_JWT_ISSUER and AUTH_JWT_AUDIENCE need AUTH_JWKS_URL");
  }
  const requested = v.AUTH_REQUIRED ?? production;
  if (production && !requested) problems.push("AUTH_REQUIRED cannot be false in production: every request must be attributed to a client");
  const required = production || requested;
  if (required && apiKeys.size === 0 && !jwt) {
    problems.push("Authentication is required (production or AUTH_REQUIRED=true) but neither API_KEYS nor AUTH_JWKS_URL is set");
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

/** Parses the standalone simulator's settings: SIMULATOR_HOST, SIMULATOR_PORT, AOPAY_API_PREFIX, LOG_LEVEL. */
export function loadSimulatorConfig(env: Env = process.env): SimulatorConfig {
  const problems = unknownNames(env, SETTINGS_GROUPS);
  const simulator = readGroup(simulatorSettings, env, problems);
  const config: SimulatorConfig = {
    host: simulator.SIMULATOR_HOST,
    port: simulator.SIMULATOR_PORT,
    apiPrefix: readGroup(transportSettings, env, problems).AOPAY_API_PREFIX,
    // The simulator accepts only its own development credentials (docs/simulator.md), never real ones.
    registrationId: SIMULATOR_REGISTRATION_ID,
    companyCode: SIMULATOR_COMPANY_CODE,
    logLevel: readGroup(serverSettings, env, problems).LOG_LEVEL,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
